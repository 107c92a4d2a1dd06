/// A client's job report on TCP 6461 (contract §3.7), in either form: 5.3.17's space-separated
/// `<ip> <mac> [efi fields] <message>` or upstream's comma-separated one. Parsing is total: any
/// line gives a report; claimed addresses are kept as data and validated before any use.
public struct JobReport: Equatable, Sendable {
    public enum Outcome: String, Equatable, Sendable { case success, failed, unknown }

    public struct Entry: Equatable, Sendable {
        public var device: String
        public var status: String
        public var details: [String]
    }

    public var claimedAddress: String
    public var claimedMAC: String
    public var efiFields: [String]
    public var message: String
    public var entries: [Entry]

    /// The line as received, without its LF (at most 64 KiB is read).
    public init(line raw: String) {
        let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
        let firstToken = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        if firstToken.contains(",") {
            var fields = line.split(separator: ",", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
            while fields.count < 6 { fields.append("") }
            claimedAddress = fields[0]
            claimedMAC = fields[1]
            efiFields = Array(fields[2...4])
            message = fields[5]
        } else {
            let tokens = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            claimedAddress = tokens.first ?? ""
            claimedMAC = tokens.count > 1 ? tokens[1] : ""
            let rest = Array(tokens.dropFirst(2))
            // The message head: "<Word> restored <img>," (Multicast, Unicast, …) or "Saved <img>,".
            let head = rest.indices.first { i in (i + 1 < rest.count && rest[i + 1] == "restored") || rest[i] == "Saved" }
            let split = head ?? rest.firstIndex { $0.hasPrefix("/dev/") } ?? min(rest.count, 3)
            let efiCount = min(split, 3)
            efiFields = Array(rest.prefix(efiCount))
            message = rest.dropFirst(efiCount).joined(separator: " ")
        }
        entries = Self.entries(of: message)
    }

    /// `<head> <img>, <dev>, <status>, …; <dev>, <status>, …;`
    static func entries(of message: String) -> [Entry] {
        var body = Substring(message)
        if let comma = body.firstIndex(of: ","), !body[..<comma].contains("/dev/"), body.prefix(upTo: comma).contains(" ") {
            body = body[body.index(after: comma)...]   // drop "Multicast restored <img>,"
        }
        return body.split(separator: ";").compactMap { chunk in
            let fields = chunk.split(separator: ",").map { $0.trimmingSpaces() }
            guard let device = fields.first, !device.isEmpty, fields.count >= 2 else { return nil }
            return Entry(device: device, status: fields[1], details: Array(fields.dropFirst(2)))
        }
    }

    public var outcome: Outcome {
        if entries.contains(where: { $0.status == "***FAIL***" }) { return .failed }
        if !entries.isEmpty, entries.allSatisfy({ $0.status == "success" }) { return .success }
        return .unknown
    }

    /// A dotted IPv4 address, if the claim is one.
    public var validAddress: String? {
        let parts = claimedAddress.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && Int($0)! <= 255 }) else { return nil }
        return claimedAddress
    }

    /// Six hex octets, lower case with colons, if the claim is one.
    public var validMAC: [UInt8]? {
        let parts = claimedMAC.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts.allSatisfy({ $0.count == 2 }) else { return nil }
        let bytes = parts.compactMap { UInt8($0, radix: 16) }
        return bytes.count == 6 ? bytes : nil
    }

    /// The job-log line operators (and the harness) grep, with the whole message (B13).
    public func jobLogLine(stamp: String, peer: String) -> String {
        "\(stamp), client \(validAddress ?? peer) (\(validMAC != nil ? claimedMAC.lowercased() : "unknown MAC")) finished restoring. Stats: \(message.isEmpty ? "N/A" : message)"
    }
}

extension Substring {
    func trimmingSpaces() -> String { String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
}

/// One BEP 14 local service discovery datagram: "I serve these torrents on this port".
/// Lets peers on one LAN find each other where no tracker answers (or in addition to it).
public struct LSDAnnouncement: Equatable, Sendable {
    public static let group = "239.192.152.143"
    public static let port: UInt16 = 6771
    /// Real announces are a few hundred bytes; anything longer is not one.
    public static let maximumSize = 1400

    public var port: UInt16
    public var infoHashes: [[UInt8]]
    public var cookie: String?

    public init(port: UInt16, infoHashes: [[UInt8]], cookie: String? = nil) {
        self.port = port
        self.infoHashes = infoHashes
        self.cookie = cookie
    }

    /// The datagram byte for byte as libtorrent writes it (aria2 omits the cookie).
    public func encoded() -> [UInt8] {
        var text = "BT-SEARCH * HTTP/1.1\r\nHost: \(Self.group):\(Self.port)\r\nPort: \(port)\r\n"
        for hash in infoHashes { text += "Infohash: \(hash.hexString)\r\n" }
        if let cookie { text += "cookie: \(cookie)\r\n" }
        text += "\r\n\r\n"
        return Array(text.utf8)
    }

    /// Parses a received datagram. Header names are case-insensitive; unknown headers are
    /// ignored; the request line, `Port` and at least one well-formed `Infohash` are required.
    public init(parsing datagram: [UInt8]) throws(LSDError) {
        guard datagram.count <= Self.maximumSize else { throw .tooLarge(datagram.count) }
        guard let text = String(validating: datagram, as: UTF8.self) else { throw .notText }
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).makeIterator()
        guard let request = lines.next(), request.split(separator: " ") == ["BT-SEARCH", "*", "HTTP/1.1"] else {
            throw .notAnnouncement
        }
        var port: UInt16?
        var hashes: [[UInt8]] = []
        var cookie: String?
        while let line = lines.next(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeader(String(line.prefix(64))) }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            switch name {
            case "port":
                guard value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber), let number = UInt16(value), number > 0 else {
                    throw .badPort(String(value.prefix(16)))
                }
                port = number
            case "infohash":
                guard value.count == 40, value.allSatisfy(\.isHexDigit), value.allSatisfy(\.isASCII),
                      let hash = [UInt8](hex: value) else { throw .badInfoHash(String(value.prefix(48))) }
                hashes.append(hash)
            case "cookie":
                cookie = String(value.prefix(64))
            default:
                continue
            }
        }
        guard let port else { throw .missingPort }
        guard !hashes.isEmpty else { throw .missingInfoHash }
        self.port = port
        infoHashes = hashes
        self.cookie = cookie
    }
}

public enum LSDError: Error, Equatable, CustomStringConvertible {
    case tooLarge(Int)
    case notText
    case notAnnouncement
    case malformedHeader(String)
    case badPort(String)
    case badInfoHash(String)
    case missingPort
    case missingInfoHash

    public var description: String {
        switch self {
        case .tooLarge(let size): return "LSD datagram of \(size) bytes is larger than any announce (\(LSDAnnouncement.maximumSize))"
        case .notText: return "LSD datagram is not UTF-8 text"
        case .notAnnouncement: return "LSD datagram does not start with \"BT-SEARCH * HTTP/1.1\""
        case .malformedHeader(let line): return "LSD header line without a colon: \"\(line)\""
        case .badPort(let value): return "LSD Port header \"\(value)\" is not a port number"
        case .badInfoHash(let value): return "LSD Infohash header \"\(value)\" is not 40 hex digits"
        case .missingPort: return "LSD announce has no Port header"
        case .missingInfoHash: return "LSD announce has no Infohash header"
        }
    }
}

/// When to send LSD announces and which received ones name a peer of ours. Announces go out
/// at start, 2 s later (as libtorrent does, against a lost first datagram) and then every
/// `interval`; a newcomer's announce for one of our torrents is answered at once, or as soon as
/// `answerGap` has passed since our last one, so a client that boots late finds the seed in
/// seconds rather than a minute, and two of ours never echo each other faster than the gap.
public struct LSDAnnouncer: Sendable {
    public struct Torrent: Equatable, Sendable {
        public var infoHash: [UInt8]
        public var port: UInt16
        public init(infoHash: [UInt8], port: UInt16) {
            self.infoHash = infoHash
            self.port = port
        }
    }

    public enum Event: Sendable {
        case start(now: Double)
        case timer(now: Double)
        case received([UInt8], from: String, now: Double)
    }

    public enum Action: Equatable, Sendable {
        case send([UInt8])
        case addPeer(infoHash: [UInt8], host: String, port: UInt16)
        /// Deliver `.timer` at this time (replaces any earlier request).
        case wake(at: Double)
        /// A datagram that was not a valid announce (for a debug log; never fatal).
        case ignored(String)
    }

    /// Keeps every datagram well under `LSDAnnouncement.maximumSize` (52 bytes per hash line).
    static let hashesPerDatagram = 16

    public let torrents: [Torrent]
    public let cookie: String
    public let interval: Double
    public let answerGap: Double
    private var lastSent: Double?
    private var nextSend: Double?
    private var sentCount = 0

    public init(torrents: [Torrent], cookie: String, interval: Double = 60, answerGap: Double = 5) {
        self.torrents = torrents
        self.cookie = cookie
        self.interval = interval
        self.answerGap = answerGap
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .start(let now):
            return announce(now: now)
        case .timer(let now):
            guard let due = nextSend else { return [] }
            return now >= due ? announce(now: now) : [.wake(at: due)]
        case .received(let datagram, let host, let now):
            let announcement: LSDAnnouncement
            do { announcement = try LSDAnnouncement(parsing: datagram) } catch { return [.ignored("from \(host): \(error)")] }
            guard announcement.cookie != cookie else { return [] }
            let ours = Set(torrents.map(\.infoHash))
            var actions: [Action] = announcement.infoHashes.filter { ours.contains($0) }.map {
                .addPeer(infoHash: $0, host: host, port: announcement.port)
            }
            guard !actions.isEmpty, let lastSent else { return actions }
            if now - lastSent >= answerGap { return actions + announce(now: now) }
            // Answered as soon as the gap allows: the newcomer may not announce again for minutes.
            let answer = lastSent + answerGap
            if let due = nextSend, due <= answer { return actions }
            nextSend = answer
            return actions + [.wake(at: answer)]
        }
    }

    /// The datagrams (one per listening port, since the header carries one port) and the next wake-up.
    private mutating func announce(now: Double) -> [Action] {
        var actions: [Action] = []
        var ports: [UInt16] = []
        for torrent in torrents where !ports.contains(torrent.port) { ports.append(torrent.port) }
        for port in ports {
            let hashes = torrents.filter { $0.port == port }.map(\.infoHash)
            for start in stride(from: 0, to: hashes.count, by: Self.hashesPerDatagram) {
                let chunk = Array(hashes[start..<min(start + Self.hashesPerDatagram, hashes.count)])
                actions.append(.send(LSDAnnouncement(port: port, infoHashes: chunk, cookie: cookie).encoded()))
            }
        }
        sentCount += 1
        lastSent = now
        let due = now + (sentCount == 1 ? 2 : interval)
        nextSend = due
        actions.append(.wake(at: due))
        return actions
    }
}

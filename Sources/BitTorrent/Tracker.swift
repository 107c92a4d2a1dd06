/// One announce (BEP 3 HTTP tracker query, BEP 23 compact), parsed from the raw query string.
public struct TrackerAnnounce: Equatable, Sendable {
    public enum Event: String, Sendable { case started, completed, stopped }

    public var infoHash: [UInt8]
    public var peerID: [UInt8]
    public var port: UInt16
    public var uploaded: UInt64
    public var downloaded: UInt64
    public var left: UInt64
    public var event: Event?
    public var compact: Bool
    public var numWant: Int?

    public init(infoHash: [UInt8], peerID: [UInt8], port: UInt16, uploaded: UInt64 = 0, downloaded: UInt64 = 0,
                left: UInt64, event: Event? = nil, compact: Bool = true, numWant: Int? = nil) {
        self.infoHash = infoHash
        self.peerID = peerID
        self.port = port
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.left = left
        self.event = event
        self.compact = compact
        self.numWant = numWant
    }

    /// Parses `info_hash=…&peer_id=…&port=…`; unknown parameters are ignored, as BEP 3 asks.
    public init(query: String) throws(TrackerError) {
        let fields = try Self.fields(query)
        func one(_ name: String) -> [UInt8]? { fields.last { $0.0 == name }?.1 }
        func number(_ name: String) throws(TrackerError) -> UInt64? {
            guard let raw = one(name) else { return nil }
            guard let text = String(bytes: raw, encoding: .ascii), let value = UInt64(text) else { throw .badParameter(name) }
            return value
        }
        guard let hash = one("info_hash"), hash.count == 20 else { throw .badParameter("info_hash") }
        guard let peer = one("peer_id"), peer.count == 20 else { throw .badParameter("peer_id") }
        guard let port = try number("port"), (1...65_535).contains(port) else { throw .badParameter("port") }
        guard let left = try number("left") else { throw .badParameter("left") }
        infoHash = hash
        peerID = peer
        self.port = UInt16(port)
        self.left = left
        uploaded = try number("uploaded") ?? 0
        downloaded = try number("downloaded") ?? 0
        switch one("event").flatMap({ String(bytes: $0, encoding: .ascii) }) {
        case nil, "", "empty"?: event = nil
        case let text?:
            guard let known = Event(rawValue: text) else { throw .badParameter("event") }
            event = known
        }
        compact = one("compact") != Array("0".utf8)
        numWant = try number("numwant").map { Int(min($0, 1000)) }
    }

    /// Every `name=value` pair, percent-decoded to raw bytes (info-hashes are binary).
    static func fields(_ query: String) throws(TrackerError) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try percentDecoded(parts[0])
            let value = parts.count > 1 ? try percentDecoded(parts[1]) : []
            out.append((String(decoding: name, as: UTF8.self), value))
        }
        return out
    }

    static func percentDecoded(_ text: Substring.UTF8View.SubSequence) throws(TrackerError) -> [UInt8] {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "%") {
                let hi = text.index(after: index)
                guard hi < text.endIndex, text.index(after: hi) < text.endIndex,
                      let h = hexValue(text[hi]), let l = hexValue(text[text.index(after: hi)]) else { throw .badEncoding }
                out.append(h << 4 | l)
                index = text.index(hi, offsetBy: 2)
            } else {
                out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index = text.index(after: index)
            }
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// The built-in tracker's state: one swarm per served info-hash (nothing else is tracked),
/// peers expire when they stop announcing. Pure: the HTTP driver passes the client address
/// and the time; replies are bencoded bytes.
public struct TrackerState: Sendable {
    public struct Peer: Equatable, Sendable {
        public var address: (UInt8, UInt8, UInt8, UInt8)
        public var port: UInt16
        public var peerID: [UInt8]
        public var isSeed: Bool
        public var lastSeen: Nanoseconds

        public static func == (a: Peer, b: Peer) -> Bool {
            a.address == b.address && a.port == b.port && a.peerID == b.peerID && a.isSeed == b.isSeed && a.lastSeen == b.lastSeen
        }
    }

    public typealias Nanoseconds = UInt64

    /// Short on a LAN: a leecher that announced before any seed was known comes back soon.
    public var interval: UInt64 = 30
    public var minInterval: UInt64 = 10
    public var defaultNumWant = 50
    private var swarms: [[UInt8]: [Peer]] = [:]
    private var downloads: [[UInt8]: Int] = [:]

    public static let notAuthorized = "Requested download is not authorized for use with this tracker."

    public init(infoHashes: [[UInt8]]) {
        for hash in infoHashes { swarms[hash] = [] }
    }

    public var servedHashes: [[UInt8]] { Array(swarms.keys) }

    public func peers(of infoHash: [UInt8]) -> [Peer] { swarms[infoHash] ?? [] }

    /// Handles an announce from `address`; returns the bencoded reply body.
    public mutating func announce(_ request: TrackerAnnounce, from address: (UInt8, UInt8, UInt8, UInt8),
                                  now: Nanoseconds) -> [UInt8] {
        guard var peers = swarms[request.infoHash] else { return Self.failure(Self.notAuthorized) }
        expire(&peers, now: now)
        let matches = { (p: Peer) in p.peerID == request.peerID || (p.address == address && p.port == request.port) }
        let previous = peers.first(where: matches)
        peers.removeAll(where: matches)
        if request.event != .stopped {
            let seed = request.left == 0
            // A download finished: the client says so, or a known leecher now has it all.
            if request.event == .completed || (seed && previous.map { !$0.isSeed } == true) {
                downloads[request.infoHash, default: 0] += 1
            }
            peers.append(Peer(address: address, port: request.port, peerID: request.peerID, isSeed: seed, lastSeen: now))
        }
        swarms[request.infoHash] = peers
        // Never the announcing peer itself; seeds first for a leecher, leechers for a seed.
        let others = peers.filter { !matches($0) }
        let wanted = request.left == 0 ? others.filter { !$0.isSeed } + others.filter(\.isSeed) : others.filter(\.isSeed) + others.filter { !$0.isSeed }
        let chosen = Array(wanted.prefix(max(0, request.numWant ?? defaultNumWant)))
        let peersValue: BencodeValue
        if request.compact {
            peersValue = .bytes(chosen.flatMap { [$0.address.0, $0.address.1, $0.address.2, $0.address.3, UInt8($0.port >> 8), UInt8($0.port & 0xFF)] })
        } else {
            peersValue = .list(chosen.map { p in
                .dict([("peer id", .bytes(p.peerID)), ("ip", .string("\(p.address.0).\(p.address.1).\(p.address.2).\(p.address.3)")),
                       ("port", .integer(Int64(p.port)))])
            })
        }
        return BencodeValue.dict([
            ("complete", .integer(Int64(peers.filter(\.isSeed).count))),
            ("incomplete", .integer(Int64(peers.filter { !$0.isSeed }.count))),
            ("downloaded", .integer(Int64(downloads[request.infoHash] ?? 0))),
            ("interval", .integer(Int64(interval))),
            ("min interval", .integer(Int64(minInterval))),
            ("peers", peersValue),
        ]).encoded()
    }

    /// A peer that never expires: the built-in seed, which does not announce over HTTP.
    public mutating func pinSeed(infoHash: [UInt8], address: (UInt8, UInt8, UInt8, UInt8), port: UInt16, peerID: [UInt8]) {
        guard var peers = swarms[infoHash] else { return }
        peers.removeAll { $0.peerID == peerID }
        peers.append(Peer(address: address, port: port, peerID: peerID, isSeed: true, lastSeen: .max))
        swarms[infoHash] = peers
    }

    /// BEP 48 scrape of the given hashes (all served ones when empty); unknown hashes are left out.
    public mutating func scrape(_ hashes: [[UInt8]], now: Nanoseconds) -> [UInt8] {
        let asked = hashes.isEmpty ? servedHashes : hashes
        var files: [(key: [UInt8], value: BencodeValue)] = []
        for hash in Set(asked).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard var peers = swarms[hash] else { continue }
            expire(&peers, now: now)
            swarms[hash] = peers
            files.append((hash, .dict([("complete", .integer(Int64(peers.filter(\.isSeed).count))),
                                       ("downloaded", .integer(Int64(downloads[hash] ?? 0))),
                                       ("incomplete", .integer(Int64(peers.filter { !$0.isSeed }.count)))])))
        }
        return BencodeValue.dict([("files", .dictionary(files))]).encoded()
    }

    /// Scrape's query: every `info_hash` parameter.
    public static func scrapeHashes(query: String) throws(TrackerError) -> [[UInt8]] {
        try TrackerAnnounce.fields(query).filter { $0.0 == "info_hash" }.map(\.1)
    }

    public static func failure(_ reason: String) -> [UInt8] { BencodeValue.dict([("failure reason", .string(reason))]).encoded() }

    /// Peers silent for three intervals are gone.
    private func expire(_ peers: inout [Peer], now: Nanoseconds) {
        let limit = 3 * interval * 1_000_000_000
        peers.removeAll { now > $0.lastSeen && now - $0.lastSeen > limit }
    }
}

public enum TrackerError: Error, Equatable, Sendable, CustomStringConvertible {
    case badParameter(String)
    case badEncoding

    public var description: String {
        switch self {
        case .badParameter(let name): return "tracker request: missing or invalid \(name)"
        case .badEncoding: return "tracker request: malformed percent-encoding"
        }
    }
}

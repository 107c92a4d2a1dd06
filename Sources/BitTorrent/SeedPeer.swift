/// One peer connection of a seed, as a pure state machine: decoded handshake and messages in,
/// bytes to send and blocks to serve out. The seeder's choker decides who is unchoked.
public struct SeedPeer: Sendable {
    public struct Torrent: Sendable {
        public var infoHash: [UInt8]
        public var pieceCount: Int
        public var pieceLength: UInt64
        public var totalLength: UInt64

        public init(infoHash: [UInt8], pieceCount: Int, pieceLength: UInt64, totalLength: UInt64) {
            self.infoHash = infoHash
            self.pieceCount = pieceCount
            self.pieceLength = pieceLength
            self.totalLength = totalLength
        }

        public init(_ metainfo: Metainfo) {
            self.init(infoHash: metainfo.infoHash, pieceCount: metainfo.pieces.count, pieceLength: metainfo.pieceLength,
                      totalLength: metainfo.totalLength)
        }

        func length(ofPiece index: Int) -> UInt64 { min(pieceLength, totalLength - UInt64(index) * pieceLength) }
    }

    public struct Configuration: Sendable {
        public var peerID: [UInt8]
        public var listenPort: UInt16
        public var clientName = "LiteServer"
        /// Requests a peer may have outstanding (advertised as `reqq`); more is hostile.
        public var maxQueuedRequests = 500

        public init(peerID: [UInt8], listenPort: UInt16) {
            self.peerID = peerID
            self.listenPort = listenPort
        }
    }

    public enum Action: Equatable, Sendable {
        case send([UInt8])
        /// Read this block from the cache and send it as a PIECE message.
        case serve(BlockRequest)
        /// Drop the connection; the reason goes to the log.
        case close(String)
    }

    public let torrent: Torrent
    public let configuration: Configuration
    public private(set) var remote: Handshake?
    public private(set) var isInterested = false
    public private(set) var isChoked = true
    /// Pieces the peer has (bitfields and HAVEs merged, never cleared).
    public private(set) var has: [Bool]
    public private(set) var queued = 0
    public private(set) var uploaded: UInt64 = 0
    private var closed = false

    public init(torrent: Torrent, configuration: Configuration) {
        self.torrent = torrent
        self.configuration = configuration
        has = [Bool](repeating: false, count: torrent.pieceCount)
    }

    public var hasEverything: Bool { has.allSatisfy { $0 } }
    public var piecesHeld: Int { has.lazy.filter { $0 }.count }
    private var fast: Bool { remote?.supportsFast == true }

    /// The peer's handshake: answer with ours, what we have, and the extension handshake.
    public mutating func receivedHandshake(_ handshake: Handshake) -> [Action] {
        guard !closed, remote == nil else { return [] }
        guard handshake.infoHash == torrent.infoHash else { return close(PeerWireError.unknownInfoHash(handshake.infoHash).description) }
        remote = handshake
        var out = Handshake(infoHash: torrent.infoHash, peerID: configuration.peerID).encoded()
        if fast {
            out += PeerMessage.haveAll.encoded()
        } else {
            out += PeerMessage.bitfield(Bitfield.encode([Bool](repeating: true, count: torrent.pieceCount))).encoded()
        }
        if handshake.supportsExtensions {
            let dict = BencodeValue.dict([("m", .dict([])), ("p", .integer(Int64(configuration.listenPort))),
                                          ("v", .string(configuration.clientName)), ("reqq", .integer(Int64(configuration.maxQueuedRequests)))])
            out += PeerMessage.extended(id: 0, payload: dict.encoded()[...]).encoded()
        }
        return [.send(out)]
    }

    public mutating func received(_ message: PeerMessage) -> [Action] {
        guard !closed, remote != nil else { return closed ? [] : close("message before the handshake") }
        switch message {
        case .interested: isInterested = true
        case .notInterested: isInterested = false
        case .have(let piece):
            guard Int(piece) < torrent.pieceCount else { return close("HAVE for piece \(piece) of \(torrent.pieceCount)") }
            has[Int(piece)] = true
        case .bitfield(let bits):
            // Accepted at any time (aria2 sends a late one) and merged: set bits, never clear.
            guard let pieces = Bitfield.pieces(bits, count: torrent.pieceCount) else { return close(Bitfield.sizeMismatch(bits, count: torrent.pieceCount)) }
            for index in pieces { has[index] = true }
        case .haveAll: has = [Bool](repeating: true, count: torrent.pieceCount)
        case .request(let request):
            guard valid(request) else { return close("request outside a piece: \(request)") }
            if isChoked { return fast ? [.send(PeerMessage.rejectRequest(request).encoded())] : [] }
            guard queued < configuration.maxQueuedRequests else { return close("more than \(configuration.maxQueuedRequests) requests outstanding") }
            queued += 1
            return [.serve(request)]
        case .keepAlive, .choke, .unchoke, .haveNone, .cancel, .piece, .port, .suggestPiece, .rejectRequest, .allowedFast, .extended, .unknown:
            break   // a seed needs none of these; cancelled blocks are cheap enough to send anyway
        }
        return []
    }

    /// The driver sent (or dropped) a served block.
    public mutating func served(_ request: BlockRequest, sent: Bool) {
        queued = max(0, queued - 1)
        if sent { uploaded += UInt64(request.length) }
    }

    /// The choker's decision. Choking a fast peer rejects nothing here: blocks already handed
    /// to the driver are still sent, which answers their requests.
    public mutating func setChoked(_ choked: Bool) -> [Action] {
        guard !closed, remote != nil, choked != isChoked else { return [] }
        isChoked = choked
        return [.send((choked ? PeerMessage.choke : .unchoke).encoded())]
    }

    private func valid(_ r: BlockRequest) -> Bool {
        guard Int(r.index) < torrent.pieceCount, r.length > 0, r.length <= BlockRequest.blockSize else { return false }
        return UInt64(r.begin) + UInt64(r.length) <= torrent.length(ofPiece: Int(r.index))
    }

    private mutating func close(_ reason: String) -> [Action] {
        closed = true
        return [.close(reason)]
    }
}

/// Round-robin unchoking for a seed: a few slots; a peer keeps its slot until it has been
/// sent `quota` bytes while others wait, then the longest-waiting interested peer gets it.
public struct SeedChoker: Sendable {
    public var slots: Int
    public var quota: UInt64
    private var unchokedAt: [Int: UInt64] = [:]   // peer id → uploaded bytes when unchoked
    private var waitingSince: [Int: Int] = [:]
    private var clock = 0

    public init(slots: Int = 4, quota: UInt64 = 64 << 20) {
        self.slots = slots
        self.quota = quota
    }

    /// Given each connected peer's interest and upload total, returns who should be unchoked.
    public mutating func decide(_ peers: [(id: Int, interested: Bool, uploaded: UInt64)]) -> Set<Int> {
        clock += 1
        let present = Set(peers.map(\.id))
        unchokedAt = unchokedAt.filter { present.contains($0.key) }
        waitingSince = waitingSince.filter { present.contains($0.key) }
        var current = Set(unchokedAt.keys)
        for peer in peers {
            if !peer.interested { current.remove(peer.id); unchokedAt[peer.id] = nil; waitingSince[peer.id] = nil }
            else if !current.contains(peer.id), waitingSince[peer.id] == nil { waitingSince[peer.id] = clock }
        }
        var waiting = peers.filter { $0.interested && !current.contains($0.id) }
            .sorted { (waitingSince[$0.id] ?? 0, $0.id) < (waitingSince[$1.id] ?? 0, $1.id) }
        // Peers over quota give their slot to someone waiting.
        for peer in peers where current.contains(peer.id) && !waiting.isEmpty {
            if peer.uploaded - (unchokedAt[peer.id] ?? 0) >= quota {
                current.remove(peer.id)
                unchokedAt[peer.id] = nil
                waitingSince[peer.id] = clock
            }
        }
        let uploads = Dictionary(uniqueKeysWithValues: peers.map { ($0.id, $0.uploaded) })
        while current.count < slots, !waiting.isEmpty {
            let next = waiting.removeFirst()
            current.insert(next.id)
            unchokedAt[next.id] = uploads[next.id] ?? 0
            waitingSince[next.id] = nil
        }
        return current
    }
}

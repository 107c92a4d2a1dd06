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
        /// BEP 16: show no pieces, announce each offered one with HAVE (see `SeedOffers`).
        public var superSeeding: Bool

        public init(peerID: [UInt8], listenPort: UInt16, superSeeding: Bool = false) {
            self.peerID = peerID
            self.listenPort = listenPort
            self.superSeeding = superSeeding
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
    /// Pieces announced to a super-seeding peer; all of them otherwise.
    public private(set) var offered: [Bool]
    /// An offer went out and the peer has not said (not) interested since: keep its slot.
    private var awaitingInterest = false
    /// Super-seeding: blocks of each offered piece sent so far.
    private var delivering: [Int: [Bool]] = [:]
    public private(set) var queued = 0
    public private(set) var uploaded: UInt64 = 0
    private var closed = false

    public init(torrent: Torrent, configuration: Configuration) {
        self.torrent = torrent
        self.configuration = configuration
        has = [Bool](repeating: false, count: torrent.pieceCount)
        offered = [Bool](repeating: !configuration.superSeeding, count: torrent.pieceCount)
    }

    public var hasEverything: Bool { has.allSatisfy { $0 } }
    /// An offered piece the peer does not hold yet: something it can download from us now.
    public var hasOutstandingOffer: Bool { zip(offered, has).contains { $0 && !$1 } }
    /// Whether the choker should consider the peer: it asks for data, or (super-seeding) it
    /// still needs an offer, which it gets only while unchoked, or has not answered one yet.
    public var wantsSlot: Bool {
        !hasEverything && (isInterested || (configuration.superSeeding && (awaitingInterest || !hasOutstandingOffer)))
    }
    public var piecesHeld: Int { has.lazy.filter { $0 }.count }
    private var fast: Bool { remote?.supportsFast == true }

    /// The peer's handshake: answer with ours, what we have, and the extension handshake.
    public mutating func receivedHandshake(_ handshake: Handshake) -> [Action] {
        guard !closed, remote == nil else { return [] }
        guard handshake.infoHash == torrent.infoHash else { return close(PeerWireError.unknownInfoHash(handshake.infoHash).description) }
        remote = handshake
        var out = Handshake(infoHash: torrent.infoHash, peerID: configuration.peerID).encoded()
        if configuration.superSeeding {
            if fast { out += PeerMessage.haveNone.encoded() }   // else: no bitfield means no pieces (BEP 3)
        } else if fast {
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
        case .interested:
            isInterested = true
            awaitingInterest = false
        case .notInterested:
            isInterested = false
            awaitingInterest = false
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
            if isChoked || !offered[Int(request.index)] { return fast ? [.send(PeerMessage.rejectRequest(request).encoded())] : [] }
            guard queued < configuration.maxQueuedRequests else { return close("more than \(configuration.maxQueuedRequests) requests outstanding") }
            queued += 1
            return [.serve(request)]
        case .keepAlive, .choke, .unchoke, .haveNone, .cancel, .piece, .port, .suggestPiece, .rejectRequest, .allowedFast, .extended, .unknown:
            break   // a seed needs none of these; cancelled blocks are cheap enough to send anyway
        }
        return []
    }

    /// Announces `piece` to a super-seeding peer (HAVE); nothing if it was offered already.
    public mutating func offer(_ piece: Int) -> [Action] {
        guard !closed, remote != nil, piece >= 0, piece < torrent.pieceCount, !offered[piece] else { return [] }
        offered[piece] = true
        awaitingInterest = !isInterested
        return [.send(PeerMessage.have(piece: UInt32(piece)).encoded())]
    }

    /// The driver sent (or dropped) a served block. Super-seeding: returns the piece whose last
    /// missing block this was. Clients do not send HAVE to a peer that showed the piece, so a
    /// complete delivery is how the seed learns the peer holds it.
    @discardableResult
    public mutating func served(_ request: BlockRequest, sent: Bool) -> Int? {
        queued = max(0, queued - 1)
        guard sent else { return nil }
        uploaded += UInt64(request.length)
        let piece = Int(request.index)
        guard configuration.superSeeding, !has[piece], request.begin % BlockRequest.blockSize == 0 else { return nil }
        let blocks = Int((torrent.length(ofPiece: piece) + UInt64(BlockRequest.blockSize) - 1) / UInt64(BlockRequest.blockSize))
        var sentBlocks = delivering[piece] ?? [Bool](repeating: false, count: blocks)
        sentBlocks[Int(request.begin / BlockRequest.blockSize)] = true
        guard sentBlocks.allSatisfy({ $0 }) else {
            delivering[piece] = sentBlocks
            return nil
        }
        delivering[piece] = nil
        has[piece] = true
        return piece
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

import ClonezillaImage

/// The download side of the client as a pure state machine: peers' handshakes and messages
/// in; requests, verified pieces to write, HAVEs and closes out. Rarest-first piece choice,
/// partial pieces finished first, a pipeline of block requests per peer, and an end game that
/// asks several peers for the last blocks. Pieces are written only after their SHA-1 matches.
public struct LeechSession: Sendable {
    public typealias PeerID = Int

    public enum Action: Equatable, Sendable {
        case send(PeerID, [UInt8])
        /// Write a verified piece (payload bytes of piece `index`) to the target.
        case write(piece: Int, bytes: [UInt8])
        case close(PeerID, String)
        /// Every piece is verified and handed out for writing.
        case complete
    }

    struct Peer {
        var has: [Bool]
        var handshaken = false
        var chokingUs = true
        var interestedSent = false
        var fast = false
        var outstanding: Set<BlockRequest> = []
    }

    struct Assembly {
        var data: [UInt8]
        var received: [Bool]
        var requested: [Bool]
        var receivedCount = 0
    }

    public let torrent: Metainfo
    public let peerID: [UInt8]
    public private(set) var have: [Bool]
    public private(set) var downloadedBytes: UInt64 = 0
    public private(set) var wastedBytes: UInt64 = 0
    public private(set) var hashFailures = 0
    private var peers: [PeerID: Peer] = [:]
    private var inProgress: [Int: Assembly] = [:]
    private var availability: [Int]
    /// Requests kept in flight per peer: on a LAN throughput ≈ depth × 16 KiB / RTT.
    public var pipelineDepth = 64

    public init(torrent: Metainfo, peerID: [UInt8], have: [Bool]? = nil) {
        self.torrent = torrent
        self.peerID = peerID
        self.have = have ?? [Bool](repeating: false, count: torrent.pieces.count)
        availability = [Int](repeating: 0, count: torrent.pieces.count)
    }

    public var isComplete: Bool { have.allSatisfy { $0 } }
    public var leftBytes: UInt64 {
        have.indices.filter { !have[$0] }.reduce(0) { $0 + torrent.length(ofPiece: $1) }
    }

    private var blockCount: (Int) -> Int {
        { piece in Int((self.torrent.length(ofPiece: piece) + UInt64(BlockRequest.blockSize) - 1) / UInt64(BlockRequest.blockSize)) }
    }

    // MARK: events

    /// A TCP connection to or from a peer is up: introduce ourselves.
    public mutating func connected(_ id: PeerID) -> [Action] {
        peers[id] = Peer(has: [Bool](repeating: false, count: torrent.pieces.count))
        return [.send(id, Handshake(infoHash: torrent.infoHash, peerID: peerID).encoded())]
    }

    public mutating func handshake(_ id: PeerID, _ handshake: Handshake) -> [Action] {
        guard var peer = peers[id] else { return [] }
        guard handshake.infoHash == torrent.infoHash else { return drop(id, PeerWireError.unknownInfoHash(handshake.infoHash).description) }
        guard handshake.peerID != peerID else { return drop(id, "connected to ourselves") }
        peer.handshaken = true
        peer.fast = handshake.supportsFast
        peers[id] = peer
        // We serve nothing while downloading: say what we have, choke stays on.
        if peer.fast {
            let count = have.filter { $0 }.count
            return [.send(id, (count == 0 ? PeerMessage.haveNone : count == have.count ? .haveAll : .bitfield(Bitfield.encode(have))).encoded())]
        }
        return have.contains(true) ? [.send(id, PeerMessage.bitfield(Bitfield.encode(have)).encoded())] : []
    }

    public mutating func disconnected(_ id: PeerID) {
        guard let peer = peers.removeValue(forKey: id) else { return }
        for (index, held) in peer.has.enumerated() where held { availability[index] -= 1 }
        for request in peer.outstanding { release(request) }
    }

    public mutating func received(_ id: PeerID, _ message: PeerMessage) -> [Action] {
        guard var peer = peers[id], peer.handshaken else { return peers[id] == nil ? [] : drop(id, "message before the handshake") }
        switch message {
        case .have(let piece):
            guard Int(piece) < have.count else { return drop(id, "HAVE for piece \(piece) of \(have.count)") }
            if !peer.has[Int(piece)] { peer.has[Int(piece)] = true; availability[Int(piece)] += 1 }
        case .bitfield(let bits):
            guard let pieces = Bitfield.pieces(bits, count: have.count) else { return drop(id, Bitfield.sizeMismatch(bits, count: have.count)) }
            for index in pieces where !peer.has[index] {
                peer.has[index] = true
                availability[index] += 1
            }
        case .haveAll:
            for index in have.indices where !peer.has[index] { peer.has[index] = true; availability[index] += 1 }
        case .choke:
            peer.chokingUs = true
            // Without the Fast Extension a choke discards our requests; with it, rejects come.
            if !peer.fast {
                let dropped = peer.outstanding
                peer.outstanding = []
                peers[id] = peer
                for request in dropped { release(request) }
            }
        case .unchoke:
            peer.chokingUs = false
        case .rejectRequest(let request):
            if peer.outstanding.remove(request) != nil {
                peers[id] = peer
                release(request)
            }
        case .piece(let index, let begin, let block):
            peers[id] = peer
            return accept(from: id, index: Int(index), begin: begin, block: block)
        case .request:
            // We upload nothing while downloading (we keep every peer choked).
            if peer.fast, case .request(let r) = message { peers[id] = peer; return [.send(id, PeerMessage.rejectRequest(r).encoded())] }
        default:
            break
        }
        peers[id] = peer
        return update(id)
    }

    // MARK: requests

    /// Interest and the request pipeline of one peer.
    private mutating func update(_ id: PeerID) -> [Action] {
        guard var peer = peers[id] else { return [] }
        var actions: [Action] = []
        let wanted = peer.has.indices.contains { peer.has[$0] && !have[$0] }
        if wanted != peer.interestedSent {
            peer.interestedSent = wanted
            actions.append(.send(id, (wanted ? PeerMessage.interested : .notInterested).encoded()))
        }
        peers[id] = peer
        guard wanted, !peer.chokingUs else { return actions }
        var requests: [UInt8] = []
        while (peers[id]?.outstanding.count ?? 0) < pipelineDepth, let request = nextRequest(for: id) {
            peers[id]!.outstanding.insert(request)
            requests += PeerMessage.request(request).encoded()
        }
        if !requests.isEmpty { actions.append(.send(id, requests)) }
        return actions
    }

    /// The next block for `id`: partial pieces first, then the rarest piece it has; in the end
    /// game (nothing left unrequested) a block another peer is already fetching.
    private mutating func nextRequest(for id: PeerID) -> BlockRequest? {
        guard let peer = peers[id] else { return nil }
        for (index, assembly) in inProgress.sorted(by: { $0.key < $1.key }) where peer.has[index] {
            if let block = assembly.requested.firstIndex(of: false) {
                inProgress[index]!.requested[block] = true
                return request(index, block)
            }
        }
        let candidates = have.indices.filter { !have[$0] && peer.has[$0] && inProgress[$0] == nil }
        if let rarest = candidates.min(by: { (availability[$0], $0) < (availability[$1], $1) }) {
            let blocks = blockCount(rarest)
            inProgress[rarest] = Assembly(data: [UInt8](repeating: 0, count: Int(torrent.length(ofPiece: rarest))),
                                          received: [Bool](repeating: false, count: blocks), requested: [Bool](repeating: false, count: blocks))
            inProgress[rarest]!.requested[0] = true
            return request(rarest, 0)
        }
        // End game: duplicate a missing block this peer is not already asked for.
        for (index, assembly) in inProgress.sorted(by: { $0.key < $1.key }) where peer.has[index] {
            for block in assembly.received.indices where !assembly.received[block] {
                let candidate = request(index, block)
                if !peer.outstanding.contains(candidate) { return candidate }
            }
        }
        return nil
    }

    private func request(_ index: Int, _ block: Int) -> BlockRequest {
        let begin = UInt64(block) * UInt64(BlockRequest.blockSize)
        let length = min(UInt64(BlockRequest.blockSize), torrent.length(ofPiece: index) - begin)
        return BlockRequest(index: UInt32(index), begin: UInt32(begin), length: UInt32(length))
    }

    /// A request that will not be answered: its block may be asked of someone else.
    private mutating func release(_ request: BlockRequest) {
        let index = Int(request.index), block = Int(request.begin / BlockRequest.blockSize)
        guard inProgress[index] != nil, !inProgress[index]!.received[block] else { return }
        let stillAsked = peers.values.contains { $0.outstanding.contains(request) }
        if !stillAsked { inProgress[index]!.requested[block] = false }
    }

    private mutating func accept(from id: PeerID, index: Int, begin: UInt32, block: ArraySlice<UInt8>) -> [Action] {
        let request = BlockRequest(index: UInt32(index), begin: begin, length: UInt32(block.count))
        guard peers[id]?.outstanding.remove(request) != nil else {
            wastedBytes += UInt64(block.count)
            return update(id)   // unrequested or cancelled: ignore the data
        }
        guard var assembly = inProgress[index] else { wastedBytes += UInt64(block.count); return update(id) }
        let blockIndex = Int(begin / BlockRequest.blockSize)
        var actions: [Action] = []
        // Pipelines to refill: this peer's, those whose duplicate requests were cancelled, and
        // everyone's once a piece is done (what they can offer us changed).
        var refill: Set<PeerID> = [id]
        if !assembly.received[blockIndex] {
            assembly.data.replaceSubrange(Int(begin)..<(Int(begin) + block.count), with: block)
            assembly.received[blockIndex] = true
            assembly.receivedCount += 1
            downloadedBytes += UInt64(block.count)
            // End game: whoever else was asked for this block need not send it.
            for (other, peer) in peers where other != id && peer.outstanding.contains(request) {
                peers[other]!.outstanding.remove(request)
                actions.append(.send(other, PeerMessage.cancel(request).encoded()))
                refill.insert(other)
            }
        } else {
            wastedBytes += UInt64(block.count)
        }
        inProgress[index] = assembly
        if assembly.receivedCount == assembly.received.count {
            refill = Set(peers.keys)
            inProgress[index] = nil
            if Metainfo.sha1(assembly.data) == torrent.pieces[index] {
                have[index] = true
                actions.append(.write(piece: index, bytes: assembly.data))
                for (other, peer) in peers where peer.handshaken && !peer.has[index] {
                    actions.append(.send(other, PeerMessage.have(piece: UInt32(index)).encoded()))
                }
                if isComplete { actions.append(.complete) }
            } else {
                hashFailures += 1   // every block of it is fetched again
            }
        }
        for other in refill.sorted() { actions += update(other) }
        return actions
    }

    private mutating func drop(_ id: PeerID, _ reason: String) -> [Action] {
        disconnected(id)
        return [.close(id, reason)]
    }

}

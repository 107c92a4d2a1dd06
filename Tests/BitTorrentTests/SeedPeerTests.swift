import Testing
@testable import BitTorrent

@Suite struct SeedPeerTests {
    static let torrent = SeedPeer.Torrent(infoHash: [UInt8](repeating: 5, count: 20), pieceCount: 10, pieceLength: 1 << 24,
                                          totalLength: 9 * (1 << 24) + 20_000)
    static func peer(maxQueued: Int = 500, superSeeding: Bool = false) -> SeedPeer {
        var config = SeedPeer.Configuration(peerID: Array("-LS0100-000000000000".utf8), listenPort: 6881, superSeeding: superSeeding)
        config.maxQueuedRequests = maxQueued
        return SeedPeer(torrent: torrent, configuration: config)
    }
    static let remote = Handshake(infoHash: [UInt8](repeating: 5, count: 20), peerID: [UInt8](repeating: 1, count: 20))

    @Test func answersAHandshakeWithHaveAllAndTheExtensionHandshake() throws {
        var peer = Self.peer()
        let actions = peer.receivedHandshake(Self.remote)
        guard case .send(let bytes) = try #require(actions.first) else { Issue.record("\(actions)"); return }
        var framer = PeerWireFramer()
        framer.append(bytes)
        #expect(try framer.nextHandshake()?.infoHash == Self.torrent.infoHash)
        #expect(try framer.nextMessage() == .haveAll)
        guard case .extended(0, let payload) = try framer.nextMessage() else { Issue.record("no extended handshake"); return }
        #expect(try BencodeDecoder.decode(Array(payload))["reqq"] == .integer(500))

        var plain = Self.peer()
        let old = Handshake(infoHash: Self.torrent.infoHash, peerID: [UInt8](repeating: 2, count: 20), fast: false, extended: false)
        guard case .send(let oldBytes) = plain.receivedHandshake(old).first else { return }
        #expect(Array(oldBytes[68...]) == PeerMessage.bitfield([0xFF, 0xC0]).encoded())
    }

    /// BEP 16: the seed shows nothing (HaveNone, or no bitfield for a peer without the Fast
    /// Extension), offers pieces with HAVE, refuses requests for anything else, and learns that
    /// the peer holds a piece when its last block went out.
    @Test func superSeedingShowsOnlyOfferedPieces() throws {
        var peer = Self.peer(superSeeding: true)
        #expect(peer.wantsSlot)   // it needs an offer, which it gets only while unchoked
        guard case .send(let bytes) = try #require(peer.receivedHandshake(Self.remote).first) else { return }
        var framer = PeerWireFramer()
        framer.append(bytes)
        _ = try framer.nextHandshake()
        #expect(try framer.nextMessage() == .haveNone)
        var plain = Self.peer(superSeeding: true)
        let old = Handshake(infoHash: Self.torrent.infoHash, peerID: [UInt8](repeating: 2, count: 20), fast: false, extended: false)
        guard case .send(let oldBytes) = plain.receivedHandshake(old).first else { return }
        #expect(oldBytes.count == 68)

        _ = peer.setChoked(false)
        let block = BlockRequest(index: 9, begin: 0, length: 16_384)
        #expect(peer.received(.request(block)) == [.send(PeerMessage.rejectRequest(block).encoded())])
        #expect(plain.setChoked(false).count == 1 && plain.received(.request(block)).isEmpty)
        #expect(peer.offer(9) == [.send(PeerMessage.have(piece: 9).encoded())])
        #expect(peer.offer(9).isEmpty)
        #expect(peer.wantsSlot)   // offered, no answer yet: keeps its slot
        _ = peer.received(.interested)
        #expect(peer.hasOutstandingOffer && peer.wantsSlot)
        let second = BlockRequest(index: 9, begin: 16_384, length: 20_000 - 16_384)
        #expect(peer.received(.request(block)) == [.serve(block)])
        #expect(peer.received(.request(second)) == [.serve(second)])
        #expect(peer.served(second, sent: true) == nil)
        #expect(peer.served(block, sent: false) == nil)
        #expect(peer.received(.request(block)) == [.serve(block)])
        #expect(peer.served(block, sent: true) == 9)
        #expect(peer.has[9] && !peer.hasOutstandingOffer)
        _ = peer.received(.notInterested)
        #expect(peer.wantsSlot)   // lacks pieces and has no offer: a candidate for the next one
    }

    @Test func anotherTorrentIsRefused() {
        var peer = Self.peer()
        let other = Handshake(infoHash: [UInt8](repeating: 6, count: 20), peerID: [UInt8](repeating: 1, count: 20))
        guard case .close(let reason) = peer.receivedHandshake(other).first else { Issue.record("not closed"); return }
        #expect(reason.contains("0606"))
        #expect(peer.received(.interested).isEmpty)
    }

    @Test func requestsAreServedOnlyWhenUnchokedAndInsideAPiece() {
        var peer = Self.peer(maxQueued: 2)
        _ = peer.receivedHandshake(Self.remote)
        let block = BlockRequest(index: 9, begin: 16_384, length: 20_000 - 16_384)
        #expect(peer.received(.request(block)) == [.send(PeerMessage.rejectRequest(block).encoded())])
        #expect(peer.setChoked(false) == [.send(PeerMessage.unchoke.encoded())])
        #expect(peer.received(.request(block)) == [.serve(block)])
        peer.served(block, sent: true)
        #expect(peer.uploaded == UInt64(block.length))
        #expect(peer.received(.request(BlockRequest(index: 0, begin: 0, length: 16_384))) == [.serve(BlockRequest(index: 0, begin: 0, length: 16_384))])
        #expect(peer.received(.request(BlockRequest(index: 0, begin: 16_384, length: 16_384))) == [.serve(BlockRequest(index: 0, begin: 16_384, length: 16_384))])
        guard case .close(let reason) = peer.received(.request(BlockRequest(index: 1, begin: 0, length: 16_384))).first else {
            Issue.record("queue limit not enforced"); return
        }
        #expect(reason.contains("outstanding"))
        for bad in [BlockRequest(index: 10, begin: 0, length: 16_384), BlockRequest(index: 9, begin: 16_384, length: 16_384),
                    BlockRequest(index: 0, begin: 0, length: 32_768), BlockRequest(index: 0, begin: 0, length: 0)] {
            var fresh = Self.peer()
            _ = fresh.receivedHandshake(Self.remote)
            _ = fresh.setChoked(false)
            guard case .close(let why) = fresh.received(.request(bad)).first else { Issue.record("\(bad) accepted"); continue }
            #expect(why.contains("outside a piece"))
        }
    }

    @Test func lateBitfieldsMergeAndBadOnesClose() {
        var peer = Self.peer()
        _ = peer.receivedHandshake(Self.remote)
        _ = peer.received(.have(piece: 9))
        _ = peer.received(.bitfield([0x80, 0x00]))
        #expect(peer.has == [true] + [Bool](repeating: false, count: 8) + [true])
        _ = peer.received(.bitfield([0x00, 0x00]))
        #expect(peer.piecesHeld == 2)
        guard case .close = peer.received(.bitfield([0xFF])).first else { Issue.record("short bitfield accepted"); return }
    }

    @Test func chokerRotatesSlotsAfterTheQuota() {
        var choker = SeedChoker(slots: 2, quota: 100)
        var peers = (0..<4).map { (id: $0, interested: true, uploaded: UInt64(0)) }
        #expect(choker.decide(peers) == [0, 1])
        peers[0].uploaded = 150
        #expect(choker.decide(peers) == [1, 2])
        peers[1].uploaded = 100
        #expect(choker.decide(peers) == [2, 3])
        peers[2].interested = false
        #expect(choker.decide(peers) == [3, 0])
        #expect(choker.decide(Array(peers.prefix(1))) == [0])
    }
}

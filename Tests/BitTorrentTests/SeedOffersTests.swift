import Testing
@testable import BitTorrent

@Suite struct SeedOffersTests {
    static let second: UInt64 = 1_000_000_000

    static func swarm(_ peers: [Int], pieces: Int = 8, unchoked: [Int]? = nil) -> SeedOffers {
        var offers = SeedOffers(pieceCount: pieces)
        for id in peers {
            offers.peerJoined(id, now: 0)
            offers.setUnchoked(id, (unchoked ?? peers).contains(id), now: 0)
        }
        return offers
    }

    static func pairs(_ made: [(peer: Int, piece: Int)]) -> [[Int]] { made.map { [$0.peer, $0.piece] } }

    @Test func eachUnchokedPeerGetsItsOwnPiecesLowestFirst() {
        var offers = Self.swarm([1, 2, 3], unchoked: [1, 2])
        #expect(Self.pairs(offers.decide(now: 0)) == [[1, 0], [1, 1], [2, 2], [2, 3]])
        #expect(offers.decide(now: Self.second / 2).isEmpty)
        #expect(offers.offered(to: 3).isEmpty)
        // Peer 1 holds piece 0 (its HAVE or the last block sent): it gets the next unseen piece.
        offers.peerHas(1, piece: 0, now: Self.second)
        offers.peerRequested(1, piece: 1, now: Self.second)
        #expect(Self.pairs(offers.decide(now: Self.second)) == [[1, 4]])
        offers.setUnchoked(3, true, now: Self.second)
        #expect(Self.pairs(offers.decide(now: Self.second)) == [[3, 5], [3, 6]])
    }

    /// Extra copies only once every piece is out (the seed's link is free then), to peers that
    /// waited past the patience, the rarest piece first, two in flight and 0.4 of the pieces in all.
    @Test func extraCopiesOnlyOnceEveryPieceIsOutAndWithinABudget() {
        var offers = Self.swarm([1, 2, 3, 4], pieces: 5)
        #expect(offers.extraBudget == 2)
        #expect(Self.pairs(offers.decide(now: 0)) == [[1, 0], [1, 1], [2, 2], [2, 3], [3, 4]])
        for t in 1...3 {
            for (peer, piece) in [(1, 0), (2, 2), (3, 4)] { offers.peerRequested(peer, piece: piece, now: UInt64(t) * Self.second) }
        }
        #expect(offers.decide(now: 3 * Self.second).isEmpty)   // peer 4 waited, but pieces are not out yet
        for piece in 0..<5 { offers.peerHas(piece < 2 ? 1 : piece < 4 ? 2 : 3, piece: piece, now: 3 * Self.second) }
        offers.peerHas(2, piece: 0, now: 3 * Self.second)
        // Everything is out; only peer 4 has waited a second without progress.
        #expect(Self.pairs(offers.decide(now: 3 * Self.second + 1)) == [[4, 1]])
        #expect(Self.pairs(offers.decide(now: 4 * Self.second)) == [[1, 2]])
        // Two extras in flight: peers 2 and 3 wait; once one lands, the budget (2) is spent.
        #expect(offers.decide(now: 5 * Self.second).isEmpty)
        offers.peerHas(4, piece: 1, now: 5 * Self.second)
        #expect(offers.decide(now: 9 * Self.second).isEmpty)
        #expect(offers.extraBudget == 0)
    }

    @Test func offersThatAreNotTakenUpGoElsewhere() {
        var offers = Self.swarm([1, 2], pieces: 4)
        #expect(Self.pairs(offers.decide(now: 0)) == [[1, 0], [1, 1], [2, 2], [2, 3]])
        // Peer 2 works on piece 2 (its second offer waits its turn); peer 1 ignores its offers.
        offers.peerRequested(2, piece: 2, now: Self.second)
        offers.peerRequested(2, piece: 2, now: 2 * Self.second + 1)
        offers.peerHas(2, piece: 2, now: 2 * Self.second + 1)
        #expect(Self.pairs(offers.decide(now: 2 * Self.second + 1)) == [[2, 0]])
        #expect(offers.offered(to: 2) == [0, 2, 3])
    }

    @Test func chokedAndDepartedPeersReleaseTheirOffers() {
        var offers = Self.swarm([1, 2], pieces: 4)
        _ = offers.decide(now: 0)
        offers.setUnchoked(1, false, now: 0)
        #expect(Self.pairs(offers.decide(now: 0)).isEmpty)   // peer 2 holds two live offers already
        offers.peerLeft(2)
        offers.peerJoined(3, now: 0)
        offers.setUnchoked(3, true, now: 0)
        #expect(Self.pairs(offers.decide(now: 0)) == [[3, 0], [3, 1]])
        offers.peerHas(9, piece: 0, now: 0)   // unknown peers and pieces are ignored
        offers.peerHas(3, piece: 99, now: 0)
        offers.peerRequested(3, piece: 3, now: 0)
        #expect(offers.offered(to: 3) == [0, 1])
    }

    @Test func aPeerWithEverythingGetsNothing() {
        var offers = Self.swarm([1], pieces: 2)
        offers.peerHas(1, piece: 0, now: 0)
        offers.peerHas(1, piece: 1, now: 0)
        #expect(offers.decide(now: 10 * Self.second).isEmpty)
    }
}

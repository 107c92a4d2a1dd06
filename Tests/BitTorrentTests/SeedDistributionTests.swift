import Testing
@testable import BitTorrent

@Suite struct SeedDistributionTests {
    static let second: UInt64 = 1_000_000_000

    @Test func eachPieceLeavesOnceAndAgainOnlyForAPeerThatWaited() {
        var d = SeedDistribution(pieceCount: 2)
        var got: [Bool] = []
        got.append(d.shouldServe(0, to: 1, now: 0))
        got.append(d.shouldServe(0, to: 1, now: 0))            // the rest of a piece already started
        got.append(d.shouldServe(0, to: 2, now: 0))            // no: peer 1 is getting it
        got.append(d.shouldServe(1, to: 2, now: 0))
        #expect(got == [true, true, false, true])
        // Not everything is complete somewhere yet: no second copies, however long one waits.
        got = [d.shouldServe(1, to: 3, now: 0), d.shouldServe(1, to: 3, now: 10 * Self.second)]
        #expect(got == [false, false])
        d.peerHas(1, piece: 0)
        d.peerHas(2, piece: 1)
        // Everything is out: a peer that keeps asking gets a second copy after the patience.
        got = [d.shouldServe(1, to: 3, now: 11 * Self.second), d.shouldServe(1, to: 3, now: 12 * Self.second),
               d.shouldServe(1, to: 3, now: 14 * Self.second)]
        #expect(got == [false, false, true])
        d.peerLeft(1)                                          // piece 0's only holder left
        got = [d.shouldServe(0, to: 4, now: 15 * Self.second), d.shouldServe(9, to: 4, now: 15 * Self.second)]
        #expect(got == [true, false])
    }
}

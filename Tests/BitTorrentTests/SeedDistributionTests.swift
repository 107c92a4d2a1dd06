import Testing
@testable import BitTorrent

@Suite struct SeedDistributionTests {
    @Test func everyPieceLeavesOnceBeforeAnyLeavesTwice() {
        var d = SeedDistribution(pieceCount: 3)
        var got: [Bool] = []
        got.append(d.shouldServe(0, to: 1))
        got.append(d.shouldServe(0, to: 1))        // the rest of a piece already started
        got.append(d.shouldServe(0, to: 2))        // no: peer 2 should take another piece first
        got.append(d.shouldServe(1, to: 2))
        got.append(d.shouldServe(1, to: 3))        // no
        got.append(d.shouldServe(2, to: 3))
        got.append(d.shouldServe(0, to: 2))        // all held once: second copies allowed
        #expect(got == [true, true, false, true, false, true, true])
        d.peerHas(4, piece: 1)                     // a leecher re-shared piece 1: held twice, piece 2 once
        got = [d.shouldServe(1, to: 5), d.shouldServe(2, to: 5)]
        #expect(got == [false, true])
        d.peerLeft(1)                              // piece 0 is now held by peer 2 only
        got = [d.shouldServe(0, to: 6), d.shouldServe(7, to: 1)]
        #expect(got == [true, false])
    }
}

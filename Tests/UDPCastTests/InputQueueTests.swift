import Testing
@testable import UDPCast

@Suite struct InputQueueTests {
    /// Random piece sizes in, random cut sizes out: the cuts concatenate to the input.
    @Test func cutsReproduceTheInputInOrder() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var queue = InputQueue()
            var expected: [UInt8] = []
            var produced: [UInt8] = []
            for _ in 0..<Int.random(in: 0...8, using: &rng) {
                let piece = (0..<Int.random(in: 0...3000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                queue.append(piece)
                expected += piece
                #expect(queue.count == expected.count - produced.count)
                if Bool.random(using: &rng) { produced += queue.take(Int.random(in: 0...4000, using: &rng)) }
            }
            while !queue.isEmpty { produced += queue.take(Int.random(in: 1...2500, using: &rng)) }
            #expect(produced == expected)
            #expect(queue.take(10).isEmpty)
        }
    }

    @Test func aWholePieceIsHandedOverAsItIs() {
        var queue = InputQueue()
        queue.append([1, 2, 3])
        queue.append([4, 5])
        #expect(queue.take(3) == [1, 2, 3])
        #expect(queue.take(1) == [4])
        #expect(queue.take(5) == [5])
        #expect(queue.count == 0)
    }
}

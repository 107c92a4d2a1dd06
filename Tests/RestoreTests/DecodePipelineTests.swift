import Foundation
import Testing
@testable import Restore

@Suite struct DecodePipelineTests {
    struct Boom: Error, Equatable {}

    @Test func deliversEveryByteInOrderAcrossSlabs() throws {
        let pipeline = DecodePipeline(slabCount: 2, slabSize: 1000)
        var expected: [UInt8] = []
        var received: [UInt8] = []
        var state: UInt32 = 7
        let pieces: [[UInt8]] = (0..<300).map { i in
            (0..<(i * 37 % 2500)).map { _ in state = state &* 1103515245 &+ 12345; return UInt8(truncatingIfNeeded: state >> 16) }
        }
        for piece in pieces { expected += piece }
        try pipeline.run(produce: { emit in
            for piece in pieces { try piece.withUnsafeBytes { try emit($0) } }
        }, consume: { received += $0 })
        #expect(received == expected)
    }

    @Test func producerErrorArrivesAfterTheDataBeforeIt() {
        var received = 0
        #expect(throws: Boom()) {
            try DecodePipeline(slabCount: 2, slabSize: 64).run(produce: { emit in
                try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try emit($0) }
                throw Boom()
            }, consume: { received += $0.count })
        }
        #expect(received == 100)
    }

    @Test func consumerErrorStopsAProducerThatWouldRunForever() {
        #expect(throws: Boom()) {
            try DecodePipeline(slabCount: 2, slabSize: 64).run(produce: { emit in
                let chunk = [UInt8](repeating: 0, count: 50)
                while true { try chunk.withUnsafeBytes { try emit($0) } }
            }, consume: { _ in throw Boom() })
        }
    }
}

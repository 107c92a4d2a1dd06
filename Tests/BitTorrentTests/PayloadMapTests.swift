import Testing
@testable import BitTorrent

@Suite struct PayloadMapTests {
    @Test func blocksMapOntoExtentsAcrossTheirBoundaries() throws {
        let map = PayloadMap(extents: MetainfoTests.docExtents)
        #expect(map.totalLength == 72_081_408)
        #expect(map.segments(payloadOffset: 0, length: 16_384)! .map { [$0.partitionOffset, $0.length] } == [[0, 16_384]])
        // Payload 0x1ca4000 is the first byte of extent 3 at partition 0x21a4000.
        let across = try #require(map.segments(payloadOffset: 0x1ca4000 - 100, length: 300))
        #expect(across.map { [$0.partitionOffset, $0.length] } == [[0x1ca4000 - 100 - 0x1000000 + 0x1000000, 100], [0x21a4000, 200]])
        #expect(map.segments(payloadOffset: 72_081_408 - 10, length: 10)!.map { [$0.partitionOffset, $0.length] } == [[0x801a000 - 10, 10]])
        #expect(map.segments(payloadOffset: 72_081_408 - 10, length: 11) == nil)
        #expect(map.segments(payloadOffset: .max, length: 2) == nil)
    }

    /// Every byte of a random layout maps to the right partition offset.
    @Test func randomLayoutsAgreeWithAByteByByteWalk() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var extents: [Extent] = []
            var cursor: UInt64 = 0
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                cursor += UInt64.random(in: 0...50, using: &rng)
                let length = UInt64.random(in: 1...40, using: &rng)
                extents.append(Extent(offset: cursor, length: length))
                cursor += length
            }
            let bytes = extents.flatMap { e in (e.offset..<(e.offset + e.length)).map { $0 } }
            let map = PayloadMap(extents: extents)
            let start = UInt64.random(in: 0..<UInt64(bytes.count), using: &rng)
            let length = UInt64.random(in: 0...(UInt64(bytes.count) - start), using: &rng)
            let segments = try #require(map.segments(payloadOffset: start, length: length))
            let walked = segments.flatMap { s in (s.partitionOffset..<(s.partitionOffset + s.length)).map { $0 } }
            #expect(walked == Array(bytes[Int(start)..<Int(start + length)]))
        }
    }
}

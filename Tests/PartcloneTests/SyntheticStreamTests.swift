import Testing
@testable import Partclone

@Suite struct SyntheticStreamTests {
    static let modes: [UInt16] = [0x00, 0x20, 0x30, 0x31]

    @Test(arguments: modes, [true, false])
    func everyModeAndReseedRoundTrips(mode: UInt16, reseed: Bool) throws {
        var rng = SplitMix64(seed: UInt64(mode) * 31 + (reseed ? 1 : 0))
        for bpc: UInt32 in [1, 3, 7, 64, 1000] {
            let used = (0..<203).map { _ in rng.next() % 3 != 0 }
            let image = SyntheticImage(blockSize: 256, used: used, mode: mode, blocksPerChecksum: bpc, reseed: reseed, seed: rng.next())
            let stream = image.encode()
            for piece in [1, 7, 256, 1000, stream.count] {
                var sink = MemorySink(size: Int(image.deviceSize))
                let decoder = try decode(stream, piece: piece, into: &sink)
                #expect(sink.bytes == image.expectedPartition, "mode \(mode) reseed \(reseed) bpc \(bpc) piece \(piece)")
                let usedCount = used.filter { $0 }.count
                let expectedChecksums = mode == 0 ? 0 : (usedCount + Int(bpc) - 1) / Int(bpc)
                #expect(decoder.checksumsVerified == expectedChecksums)
            }
        }
    }

    @Test func emptyAndFullBitmaps() throws {
        for used in [[Bool](repeating: false, count: 77), [Bool](repeating: true, count: 77), []] {
            let image = SyntheticImage(blockSize: 128, used: used)
            var sink = MemorySink(size: Int(image.deviceSize))
            let decoder = try decode(image.encode(), piece: 13, into: &sink)
            #expect(sink.bytes == image.expectedPartition)
            #expect(decoder.isComplete)
        }
    }

    @Test func stripsLargerThanTheBufferAreWrittenAndStillVerified() throws {
        let image = SyntheticImage(blockSize: 512, used: Array(repeating: true, count: 100), mode: 0x31, blocksPerChecksum: 100)
        var limits = PartcloneStreamDecoder.Limits()
        limits.minBuffer = 4096
        limits.maxBuffer = 4096
        var sink = MemorySink(size: Int(image.deviceSize))
        let decoder = try decode(image.encode(), piece: 999, into: &sink, limits: limits)
        #expect(sink.bytes == image.expectedPartition)
        #expect(decoder.wroteUnverifiedData && decoder.checksumsVerified == 1)

        var corrupt = image.encode()
        corrupt[110 + 13 + 4 + 300] ^= 0x40
        var sink2 = MemorySink(size: Int(image.deviceSize))
        #expect(throws: PartcloneError.self) { _ = try decode(corrupt, piece: 999, into: &sink2, limits: limits) }
    }

    @Test func verifiedStripsAreBatchedIntoFewWrites() throws {
        let image = SyntheticImage(blockSize: 512, used: Array(repeating: true, count: 1000), mode: 0x20, blocksPerChecksum: 7)
        var sink = MemorySink(size: Int(image.deviceSize))
        _ = try decode(image.encode(), piece: 1 << 20, into: &sink)
        #expect(sink.writes == 1)
    }
}

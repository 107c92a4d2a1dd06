import Testing
@testable import Partclone

/// Mutated and random streams must end in a typed error or a clean decode, never a trap.
@Suite struct FuzzTests {
    @Test func mutatedSyntheticStreams() throws {
        var rng = SplitMix64(seed: 0xF00D)
        let seeds = [0x00, 0x20, 0x30, 0x31].map { mode in
            SyntheticImage(blockSize: 64, used: (0..<40).map { $0 % 3 != 0 }, mode: UInt16(mode), blocksPerChecksum: 5).encode()
        }
        var decoded = 0, rejected = 0
        for i in 0..<100_000 {
            var stream = seeds[i % seeds.count]
            mutate(&stream, rng: &rng)
            var sink = NullSink()
            do {
                _ = try decode(stream, piece: Int(rng.next() % 300) + 1, into: &sink,
                               limits: { var l = PartcloneStreamDecoder.Limits(); l.minBuffer = 1024; l.maxBuffer = 4096; l.maxTotalBlocks = 1 << 20; return l }())
                decoded += 1
            } catch is PartcloneError {
                rejected += 1
            }
        }
        #expect(decoded + rejected == 100_000)
        #expect(rejected > 50_000)
    }

    @Test func mutatedRealHeaderAndBitmap() throws {
        let real = Array(try FixtureStreams.czSda1("cz-gpt").prefix(110 + 516 + 8192))
        var rng = SplitMix64(seed: 0xBEEF)
        for _ in 0..<100_000 {
            var stream = real
            mutate(&stream, rng: &rng, focus: 626)
            var decoder = PartcloneStreamDecoder()
            var sink = NullSink()
            _ = try? stream.withUnsafeBytes { try decoder.consume($0, into: &sink) }
        }
    }

    func mutate(_ stream: inout [UInt8], rng: inout SplitMix64, focus: Int? = nil) {
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            let span = min(stream.count, focus ?? stream.count)
            switch rng.next() % 6 {
            case 0, 1: stream[Int(rng.next() % UInt64(span))] ^= UInt8(1 << (rng.next() % 8))
            case 2: stream[Int(rng.next() % UInt64(span))] = UInt8(truncatingIfNeeded: rng.next())
            case 3: stream.removeLast(Int(rng.next() % UInt64(stream.count / 2 + 1)))
            case 4: stream.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(stream.count + 1)))
            default:
                // Large header integers are where hostile input hides.
                let at = 52 + Int(rng.next() % 54)
                if at < stream.count { stream[at] = 0xFF }
            }
            if stream.isEmpty { stream = [0] }
        }
    }
}

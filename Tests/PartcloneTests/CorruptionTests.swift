import Testing
@testable import Partclone

@Suite struct CorruptionTests {
    let image = SyntheticImage(blockSize: 512, used: (0..<64).map { $0 % 5 != 2 }, mode: 0x20, blocksPerChecksum: 8)
    var dataStart: Int { 110 + 8 + 4 }

    @Test func flippedDataByteNamesTheBlockAndWritesNothingOfThatStrip() throws {
        var stream = image.encode()
        stream[dataStart + 512 * 9 + 100] ^= 1   // 10th used block, second strip
        var sink = MemorySink(size: Int(image.deviceSize))
        var decoder = PartcloneStreamDecoder()
        do {
            try stream.withUnsafeBytes { try decoder.consume($0, into: &sink) }
            Issue.record("expected a checksum error")
        } catch let error as PartcloneError {
            guard case .blockChecksumMismatch(let block, _) = error else { Issue.record("\(error)"); return }
            // Second strip = used blocks 8…15 = blocks 11…19; it ends at block 19.
            #expect(block == 19)
            #expect(error.description.contains("block 19"))
        }
        // The first strip verified before the corrupt one; nothing of the second is on disk.
        #expect(sink.bytes[(11 * 512)...].allSatisfy { $0 == 0 })
    }

    @Test func truncationIsAnErrorAtEveryLength() throws {
        let stream = image.encode()
        for cut in stride(from: 0, to: stream.count, by: 37) {
            var sink = NullSink()
            #expect(throws: PartcloneError.self) { _ = try decode(Array(stream[..<cut]), piece: 64, into: &sink) }
        }
    }

    @Test func trailingBytesAreReported() throws {
        var sink = NullSink()
        #expect(throws: PartcloneError.trailingData(streamOffset: UInt64(image.encode().count))) {
            _ = try decode(image.encode() + [0], piece: 64, into: &sink)
        }
    }

    @Test func headerFieldsAreValidated() throws {
        let stream = image.encode()
        func reject(_ mutate: (inout [UInt8]) -> Void) {
            var s = stream
            mutate(&s)
            var sink = NullSink()
            #expect(throws: PartcloneError.self) { _ = try decode(s, piece: 4096, into: &sink) }
        }
        reject { $0[0] = 0x50 }                                      // magic
        reject { $0[33] = 0x33 }                                     // version 0003
        reject { $0[40] ^= 1 }                                       // header CRC
        reject { $0[110 + 3] ^= 1 }                                  // bitmap CRC
        reject { $0[dataStart + 512 * 8] ^= 0xFF }                   // first strip's CRC
        #expect(throws: PartcloneError.self) { try ImageHeader.parse(Array(stream.prefix(50))) }
    }

    /// Format 0001's CRC covers only each block's first byte, exactly as partclone does: a
    /// change elsewhere in a block cannot be seen, a change of byte 0 can.
    @Test func v1ChecksumSeesOnlyTheFirstByte() throws {
        let stream = try FixtureStreams.variant("v0001-crc32bug")
        let block5 = 4168 + 4096 + 5 * 4100
        var middle = stream
        middle[block5 + 100] ^= 0x55
        var sink = NullSink()
        _ = try decode(middle, piece: 1 << 16, into: &sink)
        var first = stream
        first[block5] ^= 0x55
        #expect(throws: PartcloneError.blockChecksumMismatch(block: 5, streamOffset: UInt64(block5 + 4096))) {
            _ = try decode(first, piece: 1 << 16, into: &sink)
        }
    }
}

import Foundation
import Testing
import TestSupport
@testable import Partclone

@Suite struct FixtureDecodeTests {
    static let variants: [(name: String, checksums: Int, mode: ChecksumMode)] = [
        ("a0-nochecksum", 0, .none),
        ("default-1MiB-crc32", 5, .crc32),
        ("k7-crc32", 152, .crc32),
        ("a2-xxh64", 5, .xxh64),
        ("a3-xxh128-clonezilla2026", 1, .xxh128),
        ("v0001-crc32bug", 1061, .crc32V1Bug),
        ("k7-noreseed-crc32", 152, .crc32),
    ]

    @Test(arguments: variants.map(\.name))
    func variantRestoresToTheRegionHash(_ name: String) throws {
        let expected = Self.variants.first { $0.name == name }!
        let stream = try FixtureStreams.variant(name)
        for piece in [1 << 20, 4093] {
            var sink = MemorySink(size: 16 << 20)
            let decoder = try decode(stream, piece: piece, into: &sink)
            #expect(sha256(sink.bytes) == FixtureStreams.gptSda1Hash)
            #expect(decoder.checksumsVerified == expected.checksums)
            #expect(decoder.header?.checksumMode == expected.mode)
            #expect(decoder.outputBytes == 1061 * 4096)
            #expect(!decoder.wroteUnverifiedData)
        }
    }

    @Test func headerMatchesTheDecodedFixtureHeaders() throws {
        for (fixture, stream, file) in [("cz-dos", try FixtureStreams.czSda1("cz-dos"), "sda1"),
                                        ("cz-gpt", try FixtureStreams.czSda2("cz-gpt"), "sda2")] {
            let text = try String(contentsOfFile: TestEnv.fixture("\(fixture)/expected/\(file)-header.txt"), encoding: .utf8)
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                fields[parts[0]] = parts[1]
            }
            let header = try ImageHeader.parse(Array(stream.prefix(110)))
            #expect(String(header.blockSize) == fields["block_size"])
            #expect(String(header.blocksPerChecksum) == fields["blocks_per_checksum"])
            #expect(String(header.deviceSize) == fields["device_size"])
            #expect(String(header.totalBlocks) == fields["totalblock"])
            #expect(String(header.usedBlocksPerBitmap) == fields["usedblocks"])
            #expect(header.fileSystem == fields["fs"])
            #expect(header.partcloneVersion == fields["ptc_version"])
            #expect(header.checksumMode == .crc32 && fields["checksum_mode"] == "0x20")
            #expect(header.bitmapBytesOnWire == UInt64(fields["bitmap_bytes_on_disk"]!))
            var sink = MemorySink(size: Int(header.deviceSize))
            let decoder = try decode(stream, piece: 65536, into: &sink)
            #expect(decoder.usedMap?.usedCount == UInt64(fields["used_in_bitmap"]!))
            #expect(decoder.outputBytes == UInt64(fields["data_bytes"]!))
            #expect(String(decoder.checksumsVerified) == fields["checksums_verified"])
        }
    }

    @Test func headerCRCVectorFromTheSpec() throws {
        let stream = try FixtureStreams.czSda1("cz-dos")
        #expect(PartcloneCRC32.fresh(stream[0..<106]) == 0x7034523F)
        let header = try ImageHeader.parse(Array(stream.prefix(110)))
        #expect(header.encodedSize == 110 && header.reseed && header.bitmapMode == .bit)
        // Bitmap byte 130 = 0xCF: blocks 1040–1043 used, 1044–1045 free (the deleted file).
        var sink = NullSink()
        let decoder = try decode(stream, piece: 1 << 16, into: &sink)
        let map = try #require(decoder.usedMap)
        #expect((1040...1043).allSatisfy(map.isUsed) && !map.isUsed(1044) && !map.isUsed(1045) && map.isUsed(1046))
        #expect(map.usedRuns.map { [$0.first, $0.count] } == [[0, 1044], [1046, 17]])
    }

    /// Live comparison against the real partclone.restore (Debian's 0.3.23 reads CRC32 and
    /// format 0001 images, not the XXH modes).
    @Test(arguments: ["a0-nochecksum", "default-1MiB-crc32", "k7-crc32", "v0001-crc32bug", "k7-noreseed-crc32"])
    func matchesRealPartcloneRestore(_ name: String) throws {
        guard TestEnv.which("partclone.restore") != nil, TestEnv.which("zstd") != nil else {
            print("skipped: partclone.restore or zstd not installed")
            return
        }
        let dir = TestEnv.scratch("pc")
        defer { TestEnv.cleanup(dir) }
        let folder = name.contains("noreseed") ? "partclone-extra" : "partclone-variants"
        TestEnv.zeroFile(dir + "/real.img", size: 16 << 20)
        let result = TestEnv.shell("zstd -dc '\(TestEnv.fixture("\(folder)/sda1.ext4-ptcl-img.\(name).zst"))' | partclone.restore -s - -O '\(dir)/real.img' -L '\(dir)/log' >/dev/null 2>&1")
        #expect(result.status == 0)
        var sink = MemorySink(size: 16 << 20)
        _ = try decode(try FixtureStreams.variant(name), piece: 1 << 20, into: &sink)
        #expect(sha256(sink.bytes) == TestEnv.sha256(dir + "/real.img"))
    }
}

import Compression
import Foundation
import Testing
import TestSupport

@Suite struct CompressionTests {
    /// Pseudo-random but partly compressible payload.
    static let payload: [UInt8] = {
        var state: UInt64 = 42
        return (0..<300_000).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return i % 3 == 0 ? UInt8(truncatingIfNeeded: state >> 33) : UInt8(i % 7)
        }
    }()

    func compress(_ data: [UInt8], with command: String) throws -> [UInt8] {
        let dir = TestEnv.scratch("comp")
        defer { TestEnv.cleanup(dir) }
        FileManager.default.createFile(atPath: dir + "/in", contents: Data(data))
        let result = TestEnv.shell("\(command) < '\(dir)/in' > '\(dir)/out'")
        try #require(result.status == 0, "\(command): \(result.stderr)")
        return TestEnv.readBytes(dir + "/out")
    }

    func decompress(_ data: [UInt8], format: CompressionFormat, piece: Int = 65536) throws -> [UInt8] {
        let decoder = try format.makeDecoder()
        var out: [UInt8] = []
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + piece)
            try data[offset..<end].withUnsafeBytes { try decoder.decompress($0) { out += $0 } }
            offset = end
        }
        try decoder.finish { out += $0 }
        return out
    }

    @Test func gzipConcatenatedMembersAndPigz() throws {
        let a = try compress(Array(Self.payload[..<100_000]), with: "gzip -c --fast")
        let b = try compress(Array(Self.payload[100_000...]), with: "gzip -c -9")
        for piece in [1, 333, 1 << 20] {
            #expect(try decompress(a + b, format: .gzip, piece: piece) == Self.payload)
        }
        if TestEnv.which("pigz") != nil {
            #expect(try decompress(try compress(Self.payload, with: "pigz -c --fast -b 128"), format: .gzip) == Self.payload)
        }
    }

    @Test func zstdMultiFrame() throws {
        let a = try compress(Array(Self.payload[..<123_457]), with: "zstd -q -c -3")
        let b = try compress(Array(Self.payload[123_457...]), with: "zstd -q -c -19")
        for piece in [1, 4099, 1 << 20] {
            #expect(try decompress(a + b, format: .zstd, piece: piece) == Self.payload)
        }
    }

    @Test func truncatedAndCorruptStreamsAreErrors() throws {
        for (format, command) in [(CompressionFormat.gzip, "gzip -c"), (.zstd, "zstd -q -c")] {
            let full = try compress(Self.payload, with: command)
            #expect(throws: CompressionError.truncated(format: format)) {
                _ = try decompress(Array(full.dropLast(100)), format: format)
            }
            var corrupt = full
            corrupt[full.count / 2] ^= 0xFF
            corrupt[full.count / 2 + 1] ^= 0xFF
            #expect(throws: CompressionError.self) { _ = try decompress(corrupt, format: format) }
            #expect(throws: CompressionError.self) { _ = try decompress([], format: format) }
        }
        let gz = try compress(Self.payload, with: "gzip -c")
        #expect(throws: CompressionError.trailingGarbage(format: .gzip)) { _ = try decompress(gz + [0x42, 0x42], format: .gzip) }
    }

    @Test(arguments: [(CompressionFormat.xz, "xz -c -1"), (.bzip2, "bzip2 -c"), (.lz4, "lz4 -q -c"),
                      (.lzo, "lzop -c"), (.lzma, "xz --format=lzma -c"), (.lzip, "lzip -c")])
    func externalTools(format: CompressionFormat, command: String) throws {
        let tool = format.externalDecoder!.command[0]
        guard TestEnv.which(tool) != nil, TestEnv.which(String(command.split(separator: " ")[0])) != nil else {
            print("skipped: \(tool) not installed")
            return
        }
        let compressed = try compress(Self.payload, with: command)
        #expect(CompressionFormat.detect(magic: Array(compressed.prefix(16))) == format)
        #expect(try decompress(compressed, format: format, piece: 7777) == Self.payload)
        var corrupt = compressed
        corrupt.removeLast(corrupt.count / 3)
        #expect(throws: CompressionError.self) { _ = try decompress(corrupt, format: format) }
    }

    @Test func missingToolIsNamed() throws {
        do {
            _ = try ExternalDecompressor(format: .lrzip, command: ["no-such-decompressor-xyz", "-d"], package: "lrzip")
            Issue.record("expected an error")
        } catch {
            #expect(error == .toolMissing(tool: "no-such-decompressor-xyz", format: .lrzip, package: "lrzip"))
            #expect(error.description.contains("no-such-decompressor-xyz") && error.description.contains("lrzip"))
        }
    }

    @Test func magicDetectionAndSuffixes() {
        #expect(CompressionFormat.detect(magic: [0x28, 0xB5, 0x2F, 0xFD, 0]) == .zstd)
        #expect(CompressionFormat.detect(magic: [0x1F, 0x8B, 8]) == .gzip)
        #expect(CompressionFormat.detect(magic: Array("partclone-image".utf8)) == nil)
        #expect(CompressionFormat(suffix: "zst") == .zstd && CompressionFormat(suffix: "uncomp") == .uncompressed)
        #expect(CompressionFormat(suffix: "rar") == nil)
        #expect(Set(CompressionFormat.allCases.map(\.suffix)) == ["uncomp", "gz", "bz2", "lzo", "lzma", "xz", "lzip", "lrz", "lz4", "zst"])
    }
}

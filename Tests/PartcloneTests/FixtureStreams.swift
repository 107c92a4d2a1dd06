import Compression
import Foundation
import TestSupport

/// Decompressed fixture streams, decoded once per process.
enum FixtureStreams {
    static func decompress(_ paths: [String], format: CompressionFormat) throws -> [UInt8] {
        let decoder = try format.makeDecoder()
        var out: [UInt8] = []
        for path in paths {
            let data = TestEnv.readBytes(path)
            try data.withUnsafeBytes { try decoder.decompress($0) { out += $0 } }
        }
        try decoder.finish { out += $0 }
        return out
    }

    static func variant(_ name: String) throws -> [UInt8] {
        let dir = name.contains("noreseed") ? "partclone-extra" : "partclone-variants"
        return try decompress([TestEnv.fixture("\(dir)/sda1.ext4-ptcl-img.\(name).zst")], format: .zstd)
    }

    static func czSda1(_ fixture: String) throws -> [UInt8] {
        try decompress(["aa", "ab", "ac"].map { TestEnv.fixture("\(fixture)/image/sda1.ext4-ptcl-img.zst.\($0)") }, format: .zstd)
    }

    static func czSda2(_ fixture: String) throws -> [UInt8] {
        try decompress([TestEnv.fixture("\(fixture)/image/sda2.vfat-ptcl-img.gz.aa")], format: .gzip)
    }

    static let gptSda1Hash = "5ae67b45d4a5e7b38fc3f62832186dab3b561a25e861d56a3c93d792966a5c24"
}

func sha256(_ bytes: [UInt8]) -> String {
    let path = NSTemporaryDirectory() + "liteserver-hash-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return TestEnv.sha256(path)
}

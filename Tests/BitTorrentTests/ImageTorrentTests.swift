import Compression
import Foundation
import Partclone
import Testing
import TestSupport
@testable import BitTorrent

/// Our torrent layout and piece hashes against what partclone itself writes in torrent.info
/// (`-r -t -z 16777216`, as Clonezilla's ocs-gen-bt-slices runs it).
@Suite struct ImageTorrentTests {
    /// Decodes a partclone image (split chunks, any compression) into extents and piece hashes.
    static func torrentParts(of chunks: [String]) throws -> (extents: [Extent], pieces: [[UInt8]], hashed: UInt64) {
        let first = TestEnv.readBytes(chunks[0])
        let format = CompressionFormat.detect(magic: Array(first.prefix(8))) ?? .uncompressed
        let decompressor = try format.makeDecoder()
        var decoder = PartcloneStreamDecoder()
        var hasher = PieceHasher()
        for chunk in chunks {
            try TestEnv.readBytes(chunk).withUnsafeBytes { input in
                try decompressor.decompress(input) { try decoder.consume($0, into: &hasher) }
            }
        }
        try decompressor.finish { try decoder.consume($0, into: &hasher) }
        try decoder.finish(into: &hasher)
        let extents = try #require(ClonezillaLayout.extents(of: decoder))
        return (extents, hasher.finish(), hasher.hashedBytes)
    }

    static var committed: [(fixture: String, device: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: TestEnv.fixture("bt-torrent-info"))) ?? []
        return names.filter { $0.hasSuffix(".torrent.info") }.sorted().map { name in
            let stem = name.replacingOccurrences(of: ".torrent.info", with: "")
            let cut = stem.lastIndex(of: "-")!
            return (String(stem[..<cut]), String(stem[stem.index(after: cut)...]))
        }
    }

    @Test func everyCommittedExpectationIsChecked() {
        #expect(Self.committed.count == 4)
    }

    @Test(arguments: committed.map { "\($0.fixture)/\($0.device)" })
    func fixtureTorrentsMatchPartclone(_ which: String) throws {
        let parts = which.split(separator: "/").map(String.init)
        let dir = TestEnv.fixture("\(parts[0])/image")
        let chunks = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasPrefix(parts[1] + ".") && $0.contains("-ptcl-img.") }.sorted().map { dir + "/" + $0 }
        let expected = try TorrentInfoFile(parsing: String(contentsOfFile: TestEnv.fixture("bt-torrent-info/\(parts[0])-\(parts[1]).torrent.info"), encoding: .utf8))
        let ours = try Self.torrentParts(of: chunks)
        #expect(ours.extents == expected.extents)
        #expect(ours.pieces == expected.pieces)
        #expect(ours.hashed == expected.extents.reduce(0) { $0 + $1.length })
    }

    /// A 96 MiB ext4 with several runs and six pieces, imaged and listed by the real partclone.
    @Test func liveMultiPieceImageMatchesPartclone() throws {
        guard TestEnv.which("partclone.ext4") != nil, TestEnv.which("mkfs.ext4") != nil else {
            print("skipped: partclone or e2fsprogs is not installed")
            return
        }
        let dir = TestEnv.scratch("bt")
        defer { TestEnv.cleanup(dir) }
        let made = TestEnv.shell("""
            set -e; cd '\(dir)'; mkdir root
            for i in 1 2 3 4; do head -c $((17 << 20)) /dev/urandom > root/big$i; done
            for i in $(seq 1 40); do head -c $((i * 3000)) /dev/urandom > root/small$i; done
            mkfs.ext4 -q -F -b 4096 -d root fs.img 96M
            partclone.ext4 -c -s fs.img -o image.ptcl -L c.log >/dev/null 2>&1
            partclone.ext4 -r -s image.ptcl -t -z 16777216 -o bt -L r.log >/dev/null 2>&1
            """)
        try #require(made.status == 0, "\(made.stderr)")
        let expected = try TorrentInfoFile(parsing: String(contentsOfFile: dir + "/bt/torrent.info", encoding: .utf8))
        let ours = try Self.torrentParts(of: [dir + "/image.ptcl"])
        #expect(expected.pieces.count >= 5 && expected.extents.count >= 5, "\(expected.extents)")
        #expect(ours.extents == expected.extents)
        #expect(ours.pieces == expected.pieces)
    }

    @Test func outOfOrderDataIsRefused() throws {
        var hasher = PieceHasher(pieceLength: 16)
        try [UInt8](repeating: 1, count: 8).withUnsafeBytes { try hasher.write($0, at: 100) }
        #expect(throws: TorrentBuildError.outOfOrder(offset: 50, expectedAtLeast: 108)) {
            try [UInt8](repeating: 1, count: 8).withUnsafeBytes { try hasher.write($0, at: 50) }
        }
    }
}

import Foundation
import Testing
import TestSupport
@testable import BitTorrent

@Suite struct PartitionCacheTests {
    /// The sparse cache of each partition holds exactly what a real-tool restore wrote there
    /// (free blocks read as zeros), its layout equals partclone's, and a second open reuses it.
    @Test(arguments: ["sda1", "sda2", "sda4"])
    func cacheHoldsTheRestoredPartitionAndIsReused(_ device: String) throws {
        let fixture = TestEnv.fixture("cz-dos")
        let dir = TestEnv.scratch("btcache")
        defer { TestEnv.cleanup(dir) }
        let cache = try PartitionCache.open(image: fixture + "/image", device: device, cacheDirectory: dir)
        let region = try #require(TestEnv.regions(fixture).first { $0.name == device })
        #expect(cache.partitionBytes == region.count * 512)
        #expect(TestEnv.sha256(cache.dataPath) == region.sha)
        if device == "sda4" {
            #expect(cache.extents == [Extent(offset: 0, length: 1 << 20)])
        } else {
            let expected = try TorrentInfoFile(parsing: String(contentsOfFile: TestEnv.fixture("bt-torrent-info/cz-dos-\(device).torrent.info"), encoding: .utf8))
            #expect(cache.extents == expected.extents)
            #expect(cache.pieces == expected.pieces)
        }
        // Sparse: far fewer blocks allocated than the partition's size (sda4 is all data).
        var st = stat()
        #expect(stat(cache.dataPath, &st) == 0)
        if device == "sda1" { #expect(UInt64(st.st_blocks) * 512 < cache.partitionBytes / 2) }
        let modified = try FileManager.default.attributesOfItem(atPath: cache.dataPath)[.modificationDate] as? Date
        usleep(20_000)
        let again = try PartitionCache.open(image: fixture + "/image", device: device, cacheDirectory: dir)
        #expect(again.info == cache.info)
        #expect(try FileManager.default.attributesOfItem(atPath: cache.dataPath)[.modificationDate] as? Date == modified)
    }

    @Test func aMissingPartitionIsAClearError() {
        #expect(throws: (any Error).self) { try PartitionCache.open(image: TestEnv.fixture("cz-dos/image"), device: "sda9", cacheDirectory: "/tmp/nonexistent-cache") }
    }
}

import Foundation
import Testing
import TestSupport
@testable import BitTorrent

/// Real seeders (python3-libtorrent, aria2c) → `ocs-bt leech` writing a partition image file,
/// in namespaces the test creates. The result must pass `e2fsck -fn` and hold the source's
/// used blocks at their offsets.
@Suite(.serialized) struct LeecherInteropTests {
    @Test(arguments: ["libtorrent", "aria2c"])
    func realSeederFeedsOurLeecher(_ seeder: String) throws {
        if let reason = InteropImage.skipReason(alsoNeeds: ["aria2c"]) { print("skipped: \(reason)"); return }
        let ocsBT = SeederInteropTests.ocsBT
        let dir = TestEnv.scratch("btleech")
        defer { TestEnv.cleanup(dir) }
        guard let lan = NetnsLAN.make(clients: 2, tag: "u") else { return }
        defer { lan.down() }
        let server = lan.address("srv")
        try InteropImage.make(in: dir)
        let made = TestEnv.shell("cd '\(dir)' && '\(ocsBT)' torrent image sda1 --announce http://\(server):6969/announce --cache cache -o . && truncate -s 48M target.img")
        try #require(made.status == 0, "\(made.stderr)")
        let torrent = try Metainfo(decoding: TestEnv.readBytes(dir + "/sda1.torrent"))
        try InteropImage.cutSeedFiles(torrent, in: dir)
        lan.start("srv", [ocsBT, "tracker", dir + "/sda1.torrent", "--address", server, "--announce-interval", "5"], log: dir + "/tracker.log")
        // Seeds start once the tracker listens: aria2c waits a whole interval after a refused announce.
        InteropImage.waitFor("tracker on", in: dir + "/tracker.log")
        try SeederInteropTests.ltPeer.write(toFile: dir + "/lt.py", atomically: true, encoding: .utf8)
        if seeder == "libtorrent" {
            lan.start("c1", ["/usr/bin/python3", dir + "/lt.py", "seed", lan.address("c1"), dir + "/sda1.torrent", dir + "/seed", "120"], log: dir + "/seed.log")
        } else {
            lan.start("c1", ["aria2c", "--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false", "--bt-enable-lpd=false",
                             "--disable-ipv6=true", "--listen-port=6881", "--seed-ratio=0.0", "--file-allocation=none", "--summary-interval=0",
                             "--console-log-level=warn", "--auto-save-interval=0", "-d", dir + "/seed", "--bt-seed-unverified=true",
                             "--check-integrity=false", dir + "/sda1.torrent"], log: dir + "/seed.log")
        }
        usleep(1_000_000)
        let leech = lan.start("c2", [ocsBT, "leech", dir + "/sda1.torrent", dir + "/target.img", "--address", lan.address("c2"), "--seed-time", "1"],
                              log: dir + "/leech.log")
        let status = lan.wait(leech, seconds: 90)
        let logs = InteropImage.logs(["tracker", "seed", "leech"], in: dir)
        #expect(status == 0, "\(logs)")
        try InteropImage.expectRestored(dir + "/target.img", torrent: torrent, in: dir, logs)
    }

    /// A target too small for the extents is refused before anything is written.
    @Test func aTooSmallTargetIsRefusedUpFront() throws {
        let dir = TestEnv.scratch("btsmall")
        defer { TestEnv.cleanup(dir) }
        try InteropImage.fixtureTorrent(in: dir, target: dir + "/small.img", size: "1M")
        let result = InteropImage.refusedLeech(dir + "/sda1.torrent", dir + "/small.img")
        #expect(result.status != 0)
        #expect(result.stderr.contains("small.img holds 1048576 bytes"), "\(result.stderr)")
        #expect(TestEnv.readBytes(dir + "/small.img").allSatisfy { $0 == 0 })
    }
}

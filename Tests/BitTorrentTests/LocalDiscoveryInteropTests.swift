import Foundation
import Testing
import TestSupport
@testable import BitTorrent

/// BEP 14 with real peers and no tracker in the torrent they are given, in namespaces the test
/// creates: peers can only find each other by local service discovery on the bridge.
@Suite(.serialized) struct LocalDiscoveryInteropTests {
    /// The torrent without its `announce`: the info-hash is unchanged, the tracker is gone.
    static func trackerless(_ source: String, to destination: String) throws -> Metainfo {
        var torrent = try Metainfo(decoding: TestEnv.readBytes(source))
        torrent.announce = nil
        try Data(torrent.encoded()).write(to: URL(fileURLWithPath: destination))
        let copy = try Metainfo(decoding: TestEnv.readBytes(destination))
        #expect(copy.announce == nil && copy.infoHash == torrent.infoHash)
        return copy
    }

    /// `ocs-bt seed --lsd` → a python3-libtorrent leecher (LSD on) and aria2c (`--bt-enable-lpd`).
    @Test func realLeechersFindOurSeedByLSD() throws {
        if let reason = InteropImage.skipReason(alsoNeeds: ["aria2c"]) { print("skipped: \(reason)"); return }
        let dir = TestEnv.scratch("btlsd")
        defer { TestEnv.cleanup(dir) }
        try InteropImage.make(in: dir)
        guard let lan = NetnsLAN.make(clients: 2, tag: "l") else { return }
        defer { lan.down() }
        let seed = lan.start("srv", [SeederInteropTests.ocsBT, "seed", dir + "/image", "sda1", "--address", lan.address("srv"), "--cache", dir + "/cache",
                                     "--torrent-dir", dir, "--seed-time", "120", "--lsd"], log: dir + "/seed.log")
        InteropImage.waitFor("local service discovery", in: dir + "/seed.log")
        let torrent = try Self.trackerless(dir + "/sda1.torrent", to: dir + "/lsd.torrent")
        try SeederInteropTests.ltPeer.write(toFile: dir + "/lt.py", atomically: true, encoding: .utf8)
        // Started after the seed's own two announces: they are found when the seed answers theirs.
        usleep(2_500_000)
        let lt = lan.start("c1", ["env", "LT_LSD=1", "/usr/bin/python3", dir + "/lt.py", "leech", lan.address("c1"), dir + "/lsd.torrent", dir + "/dl1"],
                           log: dir + "/lt.log")
        let aria = lan.start("c2", ["aria2c", "--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false", "--bt-enable-lpd=true",
                                    "--bt-lpd-interface=lsnet0", "--disable-ipv6=true", "--listen-port=6881", "--seed-time=0", "--file-allocation=none",
                                    "--summary-interval=0", "--console-log-level=warn", "--auto-save-interval=0", "-d", dir + "/dl2", dir + "/lsd.torrent"],
                             log: dir + "/aria.log")
        let ltStatus = lan.wait(lt, seconds: 60)
        let ariaStatus = lan.wait(aria, seconds: 60)
        kill(seed.processIdentifier, SIGTERM)
        lan.wait(seed, seconds: 10)
        let logs = InteropImage.logs(["seed", "lt", "aria"], in: dir)
        #expect(ltStatus == 0, "\(logs)")
        #expect(ariaStatus == 0, "\(logs)")
        for leecher in ["dl1", "dl2"] { try InteropImage.expectDownloaded(leecher, torrent: torrent, in: dir) }
    }

    /// A python3-libtorrent seed with LSD on → `ocs-bt leech --lsd` restoring a partition image.
    @Test func ourLeecherFindsARealSeedByLSD() throws {
        if let reason = InteropImage.skipReason() { print("skipped: \(reason)"); return }
        let dir = TestEnv.scratch("btlsdleech")
        defer { TestEnv.cleanup(dir) }
        try InteropImage.make(in: dir)
        guard let lan = NetnsLAN.make(clients: 2, tag: "m") else { return }
        defer { lan.down() }
        let made = TestEnv.shell("cd '\(dir)' && '\(SeederInteropTests.ocsBT)' torrent image sda1 --announce http://127.0.0.1:1/announce --cache cache -o . && truncate -s 48M target.img")
        try #require(made.status == 0, "\(made.stderr)")
        let torrent = try Self.trackerless(dir + "/sda1.torrent", to: dir + "/lsd.torrent")
        try InteropImage.cutSeedFiles(torrent, in: dir)
        try SeederInteropTests.ltPeer.write(toFile: dir + "/lt.py", atomically: true, encoding: .utf8)
        lan.start("c1", ["env", "LT_LSD=1", "/usr/bin/python3", dir + "/lt.py", "seed", lan.address("c1"), dir + "/lsd.torrent", dir + "/seed", "90"],
                  log: dir + "/seed.log")
        usleep(1_000_000)
        let leech = lan.start("c2", [SeederInteropTests.ocsBT, "leech", dir + "/lsd.torrent", dir + "/target.img", "--address", lan.address("c2"),
                                     "--seed-time", "1", "--lsd"], log: dir + "/leech.log")
        let status = lan.wait(leech, seconds: 60)
        let logs = InteropImage.logs(["seed", "leech"], in: dir)
        #expect(status == 0, "\(logs)")
        try InteropImage.expectRestored(dir + "/target.img", torrent: torrent, in: dir, logs)
    }

    /// Without a tracker and without LSD there is no way to find a peer: refused up front.
    @Test func aTrackerlessTorrentNeedsLSD() throws {
        let dir = TestEnv.scratch("btnotracker")
        defer { TestEnv.cleanup(dir) }
        try InteropImage.fixtureTorrent(in: dir, target: dir + "/t.img", size: "64M")
        _ = try Self.trackerless(dir + "/sda1.torrent", to: dir + "/lsd.torrent")
        let result = InteropImage.refusedLeech(dir + "/lsd.torrent", dir + "/t.img")
        #expect(result.status != 0)
        #expect(result.stderr.contains("names no tracker"), "\(result.stderr)")
    }
}

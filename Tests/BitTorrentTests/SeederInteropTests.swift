import Foundation
import Testing
import TestSupport
@testable import BitTorrent

/// `ocs-bt seed` (our seeder + tracker) feeding the real leechers in namespaces the test
/// creates: aria2c, python3-libtorrent and transmission-cli, each in its own host. Every
/// downloaded extent must equal the source file system at that offset.
@Suite(.serialized) struct SeederInteropTests {
    static var ocsBT: String {
        URL(fileURLWithPath: TestEnv.restoreTool).deletingLastPathComponent().appendingPathComponent("ocs-bt").path
    }

    /// A python3-libtorrent peer confined to one address: `seed SECONDS` (seed mode) or `leech`
    /// (exits 0 once it has everything). `LT_LSD=1` in the environment turns on BEP 14.
    static let ltPeer = """
        import libtorrent as lt, os, sys, time
        role, ip, torrent, save = sys.argv[1:5]
        s = lt.session({'listen_interfaces': ip + ':6881', 'outgoing_interfaces': ip, 'enable_dht': False,
                        'enable_lsd': os.environ.get('LT_LSD') == '1', 'enable_upnp': False, 'enable_natpmp': False,
                        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
                        'allow_multiple_connections_per_ip': True})
        params = {'ti': lt.torrent_info(torrent), 'save_path': save}
        if role == 'seed': params['flags'] = lt.torrent_flags.seed_mode
        h = s.add_torrent(params)
        deadline = time.time() + (float(sys.argv[5]) if role == 'seed' else 100)
        while time.time() < deadline and not (role == 'leech' and h.status().is_seeding):
            time.sleep(0.2)
        sys.exit(0 if role == 'seed' or h.status().is_seeding else 1)
        """

    @Test func realLeechersDownloadFromOurSeeder() throws {
        if let reason = InteropImage.skipReason(alsoNeeds: ["aria2c", "transmission-cli"]) { print("skipped: \(reason)"); return }
        let dir = TestEnv.scratch("btseed")
        defer { TestEnv.cleanup(dir) }
        try InteropImage.make(in: dir)
        for sub in ["dl1", "dl2", "dl3", "tr"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        guard let lan = NetnsLAN.make(clients: 3, tag: "t") else { return }
        defer { lan.down() }
        let server = lan.address("srv")
        let seed = lan.start("srv", [Self.ocsBT, "seed", dir + "/image", "sda1", "--address", server, "--cache", dir + "/cache",
                                     "--torrent-dir", dir, "--seed-time", "150", "--announce-interval", "5"], log: dir + "/seed.log")
        let torrentPath = dir + "/sda1.torrent"
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: torrentPath) { usleep(100_000) }
        let torrent = try Metainfo(decoding: TestEnv.readBytes(torrentPath))
        #expect(torrent.pieces.count == 3)
        #expect(torrent.announce == "http://\(server):6969/announce")

        try Self.ltPeer.write(toFile: dir + "/lt.py", atomically: true, encoding: .utf8)
        let settings = """
            {"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false, "port-forwarding-enabled": false,
             "rpc-enabled": false, "blocklist-enabled": false, "bind-address-ipv4": "\(lan.address("c3"))", "peer-port": 6881,
             "peer-port-random-on-start": false, "encryption": 0, "speed-limit-up-enabled": false, "speed-limit-down-enabled": false,
             "alt-speed-enabled": false, "ratio-limit-enabled": false, "idle-seeding-limit-enabled": false,
             "download-dir": "\(dir)/dl3", "incomplete-dir-enabled": false, "preallocation": 0, "message-level": 1}
            """
        try settings.write(toFile: dir + "/tr/settings.json", atomically: true, encoding: .utf8)
        try "#!/bin/sh\ntouch '\(dir)/tr-done'\n".write(toFile: dir + "/tr-done.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/tr-done.sh", 0o755)

        let aria = lan.start("c1", ["aria2c", "--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false", "--bt-enable-lpd=false",
                                    "--disable-ipv6=true", "--listen-port=6881", "--seed-time=0", "--file-allocation=none", "--summary-interval=0",
                                    "--console-log-level=warn", "--auto-save-interval=0", "-d", dir + "/dl1", torrentPath], log: dir + "/aria.log")
        let lt = lan.start("c2", ["/usr/bin/python3", dir + "/lt.py", "leech", lan.address("c2"), torrentPath, dir + "/dl2"], log: dir + "/lt.log")
        let tr = lan.start("c3", ["transmission-cli", "-g", dir + "/tr", "-w", dir + "/dl3", "-p", "6881", "-f", dir + "/tr-done.sh", torrentPath],
                           log: dir + "/tr.log")
        let ariaStatus = lan.wait(aria, seconds: 100)
        let ltStatus = lan.wait(lt, seconds: 100)
        for _ in 0..<1000 where !FileManager.default.fileExists(atPath: dir + "/tr-done") { usleep(100_000) }
        kill(tr.processIdentifier, SIGTERM)
        lan.wait(tr, seconds: 10)
        kill(seed.processIdentifier, SIGTERM)
        lan.wait(seed, seconds: 10)
        let logs = InteropImage.logs(["seed", "aria", "lt", "tr"], in: dir)
        #expect(ariaStatus == 0, "\(logs)")
        #expect(ltStatus == 0, "\(logs)")
        #expect(FileManager.default.fileExists(atPath: dir + "/tr-done"), "\(logs)")
        for leecher in ["dl1", "dl2", "dl3"] { try InteropImage.expectDownloaded(leecher, torrent: torrent, in: dir) }
        #expect(logs.contains("uploaded"), "\(logs)")
    }
}

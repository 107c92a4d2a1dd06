import Foundation
import Testing
import TestSupport

/// `ocs-live-feed-img -md bittorrent`: the job says `bt_restoredisk`, the torrents travel in
/// the tarball under `btzone/<img>/`, trackers listen on 6969+2k; three real leechers (two
/// aria2c, one python3-libtorrent) take every partition's torrent from the tarball as the
/// client does, and each partition rebuilt from the downloaded extents equals the partition
/// the real tools restore.
@Suite(.serialized) struct FeederBitTorrentInteropTests {
    static let libtorrentLeecher = """
        import libtorrent as lt, sys, time
        ip, save = sys.argv[1], sys.argv[2]
        s = lt.session({'listen_interfaces': ip + ':6881', 'outgoing_interfaces': ip, 'enable_dht': False, 'enable_lsd': False,
                        'enable_upnp': False, 'enable_natpmp': False, 'enable_outgoing_utp': False, 'enable_incoming_utp': False,
                        'allow_multiple_connections_per_ip': True})
        handles = [s.add_torrent({'ti': lt.torrent_info(t), 'save_path': save}) for t in sys.argv[3:]]
        deadline = time.time() + 120
        while time.time() < deadline and not all(h.status().is_seeding for h in handles):
            time.sleep(0.2)
        sys.exit(0 if all(h.status().is_seeding for h in handles) else 1)
        """

    @Test(.timeLimit(.minutes(5))) func threeLeechersTakeThePartitionsFromTheTarballsTorrents() throws {
        guard TestEnv.run("/usr/bin/python3", ["-c", "import libtorrent"]).status == 0 else { return print("skipped: python3-libtorrent is not installed") }
        guard let lab = FeederLab.make(clients: 3, tag: "fbt", needs: ["aria2c", "curl", "tar", "xz"]) else { return }
        defer { lab.close() }
        let (lan, work, feed) = (lab.lan, lab.work, lab.feed)
        let start = feed("-b -md bittorrent -cbm local-boot-media -bt-iface lsnet0 start cz-gpt sda")
        try #require(start.status == 0, "\(start.stderr)")
        let server = lan.address("srv")
        let conf = lan.shell("c1", "curl -s http://\(server)/ocs-client-run.conf").stdout
        #expect(conf.contains("ocs_sr_opt=\"--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr bt_restoredisk\""), "\(conf)")
        try Self.libtorrentLeecher.write(toFile: work + "/lt.py", atomically: true, encoding: .utf8)

        let partitions = ["sda1", "sda2", "sda4"]
        var leechers: [(String, Process)] = []
        for host in ["c1", "c2", "c3"] {
            let dir = "\(work)/\(host)"
            let fetched = lan.shell(host, "mkdir -p \(dir)/img \(dir)/dl && curl -sf http://\(server)/img-wo-fs.tar.xz | tar -xJf - -C \(dir)/img")
            try #require(fetched.status == 0, "\(host): \(fetched.stderr)")
            let torrents = partitions.map { "\(dir)/img/btzone/cz-gpt/\($0).torrent" }
            for torrent in torrents { #expect(FileManager.default.fileExists(atPath: torrent), "\(torrent) in the tarball") }
            let command = host == "c2"
                ? ["/usr/bin/python3", work + "/lt.py", lan.address(host), dir + "/dl"] + torrents
                : ["aria2c", "--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false", "--bt-enable-lpd=false", "--disable-ipv6=true",
                   "--listen-port=6881", "--seed-time=0", "--file-allocation=none", "--summary-interval=0", "--console-log-level=warn",
                   "--auto-save-interval=0", "-d", dir + "/dl"] + torrents
            leechers.append((host, lan.start(host, command, log: dir + ".log")))
        }
        for (host, leecher) in leechers {
            #expect(lan.wait(leecher, seconds: 150) == 0, "\(host): \(TestEnv.text("\(work)/\(host).log"))")
        }
        let status = feed("status")
        #expect(status.stdout.contains("stream 1 sda1") && status.stdout.contains("sending"), "\(status.stdout)")

        // Each extent file is named by its byte offset in the partition (32 hex digits).
        let regions = Dictionary(uniqueKeysWithValues: TestEnv.regions(TestEnv.fixture("cz-gpt")).map { ($0.name, $0) })
        for (host, _) in leechers {
            for partition in partitions {
                let region = try #require(regions[partition])
                let rebuilt = "\(work)/\(host)/\(partition).img"
                TestEnv.zeroFile(rebuilt, size: region.count * 512)
                let extents = try FileManager.default.contentsOfDirectory(atPath: "\(work)/\(host)/dl/\(partition)")
                #expect(!extents.isEmpty)
                for name in extents {
                    let offset = try #require(UInt64(name, radix: 16), "\(name)")
                    let copy = TestEnv.run("dd", ["if=\(work)/\(host)/dl/\(partition)/\(name)", "of=\(rebuilt)", "bs=1M", "seek=\(offset)",
                                                  "oflag=seek_bytes", "conv=notrunc", "status=none"])
                    #expect(copy.status == 0)
                }
                #expect(TestEnv.sha256(rebuilt) == region.sha, "\(host) \(partition)")
            }
        }
        let stop = feed("stop")
        #expect(stop.status == 0 && !FileManager.default.fileExists(atPath: work + "/state/feeder.pid"))
        #expect(lab.daemonGone, "no feeder process is left")
    }
}

import Foundation
import Testing
import TestSupport

/// Our client (`ocs-live-get-img`) against our feeder: multicast disk and partition jobs and
/// BitTorrent jobs end with disks byte-identical to the real tools' restore and a report; a
/// client after the session, or whose sender goes away, exits within its timeout naming port and
/// interface; a job with shell code is refused and nothing is written.
@Suite(.serialized) struct OurClientInteropTests {
    static let client = TestEnv.tool("ocs-live-get-img")

    @Test(.timeLimit(.minutes(8))) func twoClientsLateClientAndHostileJob() throws {
        guard let lab = FeederLab.make(clients: 3, tag: "oc", needs: ["python3"], directories: ["hostile"]) else { return }
        defer { lab.close() }
        let (lan, work, server) = (lab.lan, lab.work, lab.server)
        let start = lab.feed("-b -md multicast --clients-to-wait 2 --max-time-to-wait 60 -cbm local-boot-media -mcast-iface lsnet0 start cz-gpt sda")
        try #require(start.status == 0, "\(start.stderr)")
        let clients = ["c1", "c2"].map { host in
            TestEnv.zeroFile("\(work)/\(host).img", size: 32 << 20)
            return lan.start(host, [Self.client, "-b", "-d", "\(work)/\(host).img", "--timeout", "60", server], log: "\(work)/\(host).log")
        }
        let expected = TestEnv.restoredDiskHash("cz-gpt")
        for (host, process) in zip(["c1", "c2"], clients) {
            #expect(lan.wait(process, seconds: 90) == 0, "\(host): \(TestEnv.text("\(work)/\(host).log"))")
            #expect(TestEnv.sha256("\(work)/\(host).img") == expected, "\(host)'s disk equals the real tools' restore")
        }
        let jobs = TestEnv.text(work + "/logs/clonezilla-jobs.log")
        for host in ["c1", "c2"] {
            #expect(jobs.contains("client \(lan.address(host)) (") && jobs.contains("Stats: Multicast restored cz-gpt, /dev/sda1, success"), "\(jobs)")
        }

        // After the session: no sender answers; the client says so within its timeout.
        TestEnv.zeroFile(work + "/late.img", size: 32 << 20)
        let began = Date()
        let late = lan.shell("c3", "\(Self.client) -b -d \(work)/late.img --timeout 3 \(server)")
        #expect(late.status == 1 && Date().timeIntervalSince(began) < 15, "\(late.stderr)")
        #expect(late.stderr.contains("no udpcast sender answered") && late.stderr.contains("port 2232") && late.stderr.contains("lsnet0"), "\(late.stderr)")
        #expect(late.stderr.contains("restore failed"))

        // A job with shell code: refused as data, the disk untouched.
        lab.feed("stop")
        try "pseudo_img=\"img-wo-fs.tar.xz\"\nimg_prefix=\"cz-gpt\"\nocs_sr_opt=\"--batch $(touch \(work)/pwned) multicast_restoredisk\"\nocs_restore_dev=\"sda\"\n"
            .write(toFile: work + "/hostile/ocs-client-run.conf", atomically: true, encoding: .utf8)
        let http = lan.start("srv", ["/usr/bin/python3", "-m", "http.server", "80", "--bind", server, "--directory", work + "/hostile"], log: work + "/http.log")
        defer { kill(http.processIdentifier, SIGTERM); lan.wait(http, seconds: 5) }
        TestEnv.zeroFile(work + "/victim.img", size: 32 << 20)
        var hostile = lan.shell("c3", "\(Self.client) -b -d \(work)/victim.img --fetch-timeout 20 \(server)")
        for _ in 0..<20 where hostile.stderr.contains("connect") { usleep(250_000); hostile = lan.shell("c3", "\(Self.client) -b -d \(work)/victim.img --fetch-timeout 20 \(server)") }
        #expect(hostile.status == 1 && hostile.stderr.contains("shell syntax"), "\(hostile.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work + "/pwned"))
        #expect(TestEnv.isUnwritten(work + "/victim.img", size: 32 << 20), "nothing written")
    }

    /// A partition job (`start cz-gpt sda2 sda1`): the streams come in the order the feeder names
    /// them, and each lands in its own target, byte for byte as the real tools restore it.
    @Test(.timeLimit(.minutes(8))) func partitionJob() throws {
        guard let lab = FeederLab.make(clients: 1, tag: "op") else { return }
        defer { lab.close() }
        let start = lab.feed("-b -md multicast --clients-to-wait 1 -cbm local-boot-media -mcast-iface lsnet0 start cz-gpt sda2 sda1")
        try #require(start.status == 0, "\(start.stderr)")
        let run = lab.lan.shell("c1", "\(Self.client) -b -d '\(lab.work)/two.img \(lab.work)/one.img' --timeout 30 \(lab.server)")
        #expect(run.status == 0, "\(run.stderr)")
        let regions = Dictionary(uniqueKeysWithValues: TestEnv.regions(TestEnv.fixture("cz-gpt")).map { ($0.name, $0.sha) })
        #expect(TestEnv.sha256(lab.work + "/two.img") == regions["sda2"] && TestEnv.sha256(lab.work + "/one.img") == regions["sda1"])
    }

    /// A BitTorrent job: two clients take every partition from its torrent (our leecher writing
    /// each extent at its offset in the disk) and end with disks equal to the real tools' restore.
    @Test(.timeLimit(.minutes(4)), arguments: ["cz-gpt", "cz-dos"]) func bitTorrentJob(fixture: String) throws {
        guard let lab = FeederLab.make(clients: 2, tag: "ob" + fixture.suffix(3)) else { return }
        defer { lab.close() }
        if fixture != "cz-gpt" { TestEnv.copyImage(TestEnv.fixture(fixture + "/image"), to: lab.work + "/root/" + fixture) }
        let start = lab.feed("-b -j2 -md bittorrent -cbm local-boot-media -bt-iface lsnet0 start \(fixture) sda")
        try #require(start.status == 0, "\(start.stderr)")
        let clients = ["c1", "c2"].map { host in
            TestEnv.zeroFile("\(lab.work)/\(host).img", size: 32 << 20)
            return lab.lan.start(host, [Self.client, "-b", "-d", "\(lab.work)/\(host).img", "--timeout", "60", lab.server], log: "\(lab.work)/\(host).log")
        }
        let expected = TestEnv.restoredDiskHash(fixture)
        for (host, process) in zip(["c1", "c2"], clients) {
            #expect(lab.lan.wait(process, seconds: 100) == 0, "\(host): \(TestEnv.text("\(lab.work)/\(host).log"))")
            #expect(TestEnv.sha256("\(lab.work)/\(host).img") == expected, "\(host)")
        }
        let jobs = TestEnv.text(lab.work + "/logs/clonezilla-jobs.log")
        #expect(jobs.components(separatedBy: "Stats: Bittorrent restored \(fixture), /dev/sda1, success").count - 1 == 2, "\(jobs)")
    }

    /// The sender goes away in the middle of a partition (the real udp-sender, rate-limited and
    /// killed): the client ends within its receive timeout, says which stream, and reports failure.
    @Test(.timeLimit(.minutes(8))) func senderDisappears() throws {
        guard let lab = FeederLab.make(clients: 1, tag: "os", needs: ["udp-sender", "python3"], directories: ["www"]) else { return }
        defer { lab.close() }
        let (lan, work, server) = (lab.lan, lab.work, lab.server)
        // Our feeder publishes the job; a plain HTTP server keeps it up and the real udp-sender sends.
        try #require(lab.feed("-b -md multicast --clients-to-wait 5 --max-time-to-wait 60 -cbm local-boot-media -mcast-iface lsnet0 start cz-gpt sda").status == 0)
        for name in ["ocs-client-run.conf", "img-wo-fs.tar.xz"] { try FileManager.default.copyItem(atPath: "\(work)/state/www/\(name)", toPath: "\(work)/www/\(name)") }
        lab.feed("stop")
        let http = lan.start("srv", ["/usr/bin/python3", "-m", "http.server", "80", "--bind", server, "--directory", work + "/www"], log: work + "/http.log")
        let sender = lan.start("srv", ["/bin/bash", "-c", "cat \(work)/root/cz-gpt/sda1.ext4-ptcl-img.zst.* | udp-sender --interface lsnet0 --nokbd --mcast-rdv-address 224.0.0.1 --portbase 2232 --min-receivers 1 --max-bitrate 64k --ttl 1"],
                               log: work + "/sender.log")
        defer {
            for process in [http, sender] { kill(process.processIdentifier, SIGKILL); lan.wait(process, seconds: 5) }
        }
        TestEnv.zeroFile(work + "/c1.img", size: 32 << 20)
        let client = lan.start("c1", [Self.client, "-b", "-d", work + "/c1.img", "--timeout", "8", "--receive-timeout", "3", "--fetch-timeout", "20", server], log: work + "/c1.log")
        // Once data flows, end the sender (and its bash) by PID.
        var flowing = false
        for _ in 0..<200 where !flowing {
            usleep(100_000)
            flowing = (TestEnv.text(work + "/c1.log")).contains("Connected as")
        }
        #expect(flowing)
        usleep(3_500_000)   // udp-sender starts ~2 s after the connection; 41 KB at 64 kbit/s take ~5 s
        TestEnv.run("pkill", ["-KILL", "-P", String(sender.processIdentifier)])
        let began = Date()
        let status = lan.wait(client, seconds: 30)
        let log = TestEnv.text(work + "/c1.log")
        #expect(status == 1 && Date().timeIntervalSince(began) < 15, "\(log)")
        #expect(log.contains("restore failed") && log.contains("port 2232") && log.contains("lsnet0") && log.contains("no data"), "\(log)")
    }

    /// `--image-dir`: the same engine from a local image directory, no server.
    @Test func localImageDirectory() throws {
        let work = TestEnv.scratch("local-image")
        defer { TestEnv.cleanup(work) }
        TestEnv.zeroFile(work + "/d.img", size: 32 << 20)
        let run = TestEnv.run(Self.client, ["-b", "--image-dir", TestEnv.fixture("cz-gpt/image"), "-d", work + "/d.img"])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = TestEnv.restoredDiskHash("cz-gpt")
        #expect(TestEnv.sha256(work + "/d.img") == expected)
        #expect(TestEnv.run(Self.client, ["-b", "--image-dir", TestEnv.fixture("cz-gpt/image")]).status != 0, "no -d: refused")
    }
}

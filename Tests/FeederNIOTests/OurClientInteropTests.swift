import Foundation
import Testing
import TestSupport

/// Our client (`ocs-live-get-img`, issue 8 so far: multicast into the native engine) against our
/// feeder: two clients restore the GPT fixture into image files byte for byte as the real tools
/// do and report; a client that comes after the session exits within its timeout naming port
/// and interface; a job with shell code is refused and nothing is written.
@Suite(.serialized) struct OurClientInteropTests {
    static let client = TestEnv.tool("ocs-live-get-img")

    @Test(.timeLimit(.minutes(3))) func twoClientsLateClientAndHostileJob() throws {
        guard let lab = FeederLab.make(clients: 3, tag: "oc", needs: ["python3"], directories: ["hostile"]) else { return }
        defer { lab.close() }
        let (lan, work, server) = (lab.lan, lab.work, lab.server)
        let start = lab.feed("-b -md multicast --clients-to-wait 2 --max-time-to-wait 60 -cbm local-boot-media -mcast-iface lsnet0 start cz-gpt sda")
        try #require(start.status == 0, "\(start.stderr)")
        let clients = ["c1", "c2"].map { host in
            TestEnv.zeroFile("\(work)/\(host).img", size: 32 << 20)
            return lan.start(host, [Self.client, "-b", "-d", "\(work)/\(host).img", "--timeout", "60", server], log: "\(work)/\(host).log")
        }
        let expected = try String(contentsOfFile: TestEnv.fixture("cz-gpt/expected/restored-disk.sha256"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        for (host, process) in zip(["c1", "c2"], clients) {
            #expect(lan.wait(process, seconds: 90) == 0, "\(host): \((try? String(contentsOfFile: "\(work)/\(host).log", encoding: .utf8)) ?? "")")
            #expect(TestEnv.sha256("\(work)/\(host).img") == expected, "\(host)'s disk equals the real tools' restore")
        }
        let jobs = (try? String(contentsOfFile: work + "/logs/clonezilla-jobs.log", encoding: .utf8)) ?? ""
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
        let zeros = TestEnv.shell("head -c \(32 << 20) /dev/zero | sha256sum | cut -d' ' -f1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(TestEnv.sha256(work + "/victim.img") == zeros, "nothing written")
    }

    /// A partition job (`start cz-gpt sda2 sda1`): the streams come in the order the feeder names
    /// them, and each lands in its own target, byte for byte as the real tools restore it.
    @Test(.timeLimit(.minutes(2))) func partitionJob() throws {
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
    @Test(.timeLimit(.minutes(3))) func bitTorrentJob() throws {
        guard let lab = FeederLab.make(clients: 2, tag: "ob") else { return }
        defer { lab.close() }
        let start = lab.feed("-b -md bittorrent -cbm local-boot-media -bt-iface lsnet0 start cz-gpt sda")
        try #require(start.status == 0, "\(start.stderr)")
        let clients = ["c1", "c2"].map { host in
            TestEnv.zeroFile("\(lab.work)/\(host).img", size: 32 << 20)
            return lab.lan.start(host, [Self.client, "-b", "-d", "\(lab.work)/\(host).img", "--timeout", "60", lab.server], log: "\(lab.work)/\(host).log")
        }
        let expected = try String(contentsOfFile: TestEnv.fixture("cz-gpt/expected/restored-disk.sha256"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        for (host, process) in zip(["c1", "c2"], clients) {
            #expect(lab.lan.wait(process, seconds: 100) == 0, "\(host): \((try? String(contentsOfFile: "\(lab.work)/\(host).log", encoding: .utf8)) ?? "")")
            #expect(TestEnv.sha256("\(lab.work)/\(host).img") == expected, "\(host)")
        }
        let jobs = (try? String(contentsOfFile: lab.work + "/logs/clonezilla-jobs.log", encoding: .utf8)) ?? ""
        #expect(jobs.components(separatedBy: "Stats: Bittorrent restored cz-gpt, /dev/sda1, success").count - 1 == 2, "\(jobs)")
    }
}

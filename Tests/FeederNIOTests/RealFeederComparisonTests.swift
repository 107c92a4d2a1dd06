import Foundation
import Testing
import TestSupport

/// What our feeder publishes equals what the REAL `ocs-live-feed-img -icol` (Debian's
/// clonezilla 5.3.17, PID 1 of its own pid+mount namespace, the image root bind-mounted onto its
/// private /home/partimag) publishes for the same image and options: `ocs-client-run.conf` byte
/// for byte, and the tarball member for member (names, types, sizes, contents).
@Suite(.serialized) struct RealFeederComparisonTests {
    static let isolated = TestEnv.packageRoot + "/scripts/clonezilla-isolated.sh"
    static let options = "-b -md multicast -dm no-dhcpd -cbm local-boot-media -lscm massive-deployment -mdst from-image --clients-to-wait 2 -mcast-iface lsnet0"

    @Test(.timeLimit(.minutes(4))) func confAndTarballEqualTheRealFeeders() throws {
        guard let lab = FeederLab.make(clients: 1, tag: "rf", needs: ["ocs-live-feed-img", "ocs-chkimg", "rsync", "unshare", "curl", "tar", "udp-sender"],
                                       directories: ["iso", "real", "ours"]) else { return }
        defer { lab.close() }
        let (lan, work, ours, fm) = (lab.lan, lab.work, lab.feed, FileManager.default)
        let server = lab.server
        let fetch = { (into: String) -> Bool in
            lan.shell("c1", "curl -sf -o \(work)/\(into)/ocs-client-run.conf http://\(server)/ocs-client-run.conf && curl -sf -o \(work)/\(into)/img-wo-fs.tar.xz http://\(server)/img-wo-fs.tar.xz").status == 0
        }

        let realStarted = Date()
        let real = Self.startRealFeeder(lab, options: Self.options)
        var published = false
        for _ in 0..<600 where real.isRunning && !published {
            usleep(200_000)
            published = fetch("real")
        }
        let realSeconds = Date().timeIntervalSince(realStarted)
        kill(real.processIdentifier, SIGKILL)   // unshare --kill-child: the namespace and all in it end
        lan.wait(real, seconds: 10)
        try #require(published, "the real feeder did not publish within 120 s: \(TestEnv.text(work + "/real-feeder.log"))")

        let ourStarted = Date()
        let start = ours("\(Self.options) start cz-gpt sda")
        try #require(start.status == 0, "\(start.stderr)")
        try #require(fetch("ours"))
        print(String(format: "figure: start -> job published: real ocs-live-feed-img %.1f s, ours %.1f s (both check the image first)", realSeconds, Date().timeIntervalSince(ourStarted)))

        let realConf = try String(contentsOfFile: work + "/real/ocs-client-run.conf", encoding: .utf8)
        let ourConf = try String(contentsOfFile: work + "/ours/ocs-client-run.conf", encoding: .utf8)
        #expect(ourConf == realConf, "ours:\n\(ourConf)\nreal:\n\(realConf)")

        // Member listings: type, size and name (owner and time differ by design).
        let listing = { (side: String) -> [String] in
            TestEnv.run("tar", ["-tvJf", "\(work)/\(side)/img-wo-fs.tar.xz"]).stdout.split(separator: "\n").map { line in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                return "\(f[0].prefix(1)) \(f[2]) \(f[5...].joined(separator: " "))"
            }.sorted()
        }
        let realMembers = listing("real"), ourMembers = listing("ours")
        #expect(!realMembers.isEmpty && ourMembers == realMembers, "ours:\n\(ourMembers.joined(separator: "\n"))\nreal:\n\(realMembers.joined(separator: "\n"))")
        for side in ["real", "ours"] {
            try fm.createDirectory(atPath: "\(work)/\(side)/x", withIntermediateDirectories: true)
            TestEnv.run("tar", ["-xJf", "\(work)/\(side)/img-wo-fs.tar.xz", "-C", "\(work)/\(side)/x"])
        }
        let diff = TestEnv.run("diff", ["-r", "\(work)/real/x", "\(work)/ours/x"])
        #expect(diff.status == 0, "contents differ: \(diff.stdout)")
    }

    /// The real feeder, PID 1 of its own pid+mount namespace with the lab's image root on its
    /// private /home/partimag; its y/N prompt reads a FIFO held open (EOF would make it spin).
    /// SIGKILL of the returned process ends it and everything it started.
    static func startRealFeeder(_ lab: FeederLab, options: String) -> Process {
        let fifo = lab.work + "/prompt"
        TestEnv.run("mkfifo", [fifo])
        return lab.lan.start("srv", ["/bin/bash", "-c", """
            exec 0<>\(fifo)
            ISOLATED_BINDS=\(lab.work)/root:/home/partimag exec unshare -m -p -f --kill-child --mount-proc --propagation private \(isolated) \(lab.work)/iso srv \\
              ocs-live-feed-img -icol \(options) start cz-gpt sda
            """], log: lab.work + "/real-feeder.log")
    }

    /// Our client against the REAL feeder: the disk equals the real tools' restore and the real
    /// ocsmgrd logs our report.
    @Test(.timeLimit(.minutes(4))) func ourClientRestoresFromTheRealFeeder() throws {
        guard let lab = FeederLab.make(clients: 1, tag: "rg", needs: ["ocs-live-feed-img", "ocs-chkimg", "rsync", "unshare", "udp-sender", "lighttpd"],
                                       directories: ["iso"]) else { return }
        defer { lab.close() }
        let real = Self.startRealFeeder(lab, options: "-b -md multicast -dm no-dhcpd -cbm local-boot-media -lscm massive-deployment -mdst from-image --clients-to-wait 1 -mcast-iface lsnet0")
        defer { kill(real.processIdentifier, SIGKILL); lab.lan.wait(real, seconds: 10) }
        TestEnv.zeroFile(lab.work + "/c1.img", size: 32 << 20)
        let client = lab.lan.shell("c1", "\(TestEnv.tool("ocs-live-get-img")) -b -d \(lab.work)/c1.img --fetch-timeout 150 --timeout 120 \(lab.server)")
        #expect(client.status == 0, "\(client.stderr)\n\(TestEnv.text(lab.work + "/real-feeder.log"))")
        let expected = TestEnv.restoredDiskHash("cz-gpt")
        #expect(TestEnv.sha256(lab.work + "/c1.img") == expected)
        let jobLog = lab.work + "/iso/srv-log/clonezilla/clonezilla-jobs.log"
        var jobs = ""
        for _ in 0..<50 where !jobs.contains(lab.lan.address("c1")) {
            usleep(100_000)
            jobs = TestEnv.text(jobLog)
        }
        #expect(jobs.contains("client \(lab.lan.address("c1")) (") && jobs.components(separatedBy: "success").count - 1 == 3, "real ocsmgrd's log: \(jobs)")
    }
}

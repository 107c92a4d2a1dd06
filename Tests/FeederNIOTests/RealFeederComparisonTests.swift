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
        let server = lan.address("srv")
        let fetch = { (into: String) -> Bool in
            lan.shell("c1", "curl -sf -o \(work)/\(into)/ocs-client-run.conf http://\(server)/ocs-client-run.conf && curl -sf -o \(work)/\(into)/img-wo-fs.tar.xz http://\(server)/img-wo-fs.tar.xz").status == 0
        }

        // The real feeder; its y/N prompt reads a FIFO held open (EOF would make it spin).
        let fifo = work + "/prompt"
        TestEnv.run("mkfifo", [fifo])
        let real = lan.start("srv", ["/bin/bash", "-c", """
            exec 0<>\(fifo)
            ISOLATED_BINDS=\(work)/root:/home/partimag exec unshare -m -p -f --kill-child --mount-proc --propagation private \(Self.isolated) \(work)/iso srv \
              ocs-live-feed-img -icol \(Self.options) start cz-gpt sda
            """], log: work + "/real-feeder.log")
        var published = false
        let realStarted = Date()
        for _ in 0..<600 where real.isRunning && !published {
            usleep(200_000)
            published = fetch("real")
        }
        let realSeconds = Date().timeIntervalSince(realStarted)
        kill(real.processIdentifier, SIGKILL)   // unshare --kill-child: the namespace and all in it end
        lan.wait(real, seconds: 10)
        try #require(published, "the real feeder did not publish within 120 s: \((try? String(contentsOfFile: work + "/real-feeder.log", encoding: .utf8)) ?? "")")

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
}

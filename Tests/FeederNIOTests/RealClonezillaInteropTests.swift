import Foundation
import Testing
import TestSupport

/// Our feeder (multicast, `-cbm local-boot-media`) and three clients at once: the REAL
/// Clonezilla client (`ocs-live-get-img -b -icol` from Debian's clonezilla, in its own pid+mount
/// namespace) restoring a loop device, and two real `udp-receiver | decompressor | partclone -r`
/// pipelines. The shared GPT fixture was saved from `sda`; the client's disk is a loop device,
/// so the feeder publishes the image converted to that name (contract §5.6).
@Suite(.serialized) struct RealClonezillaInteropTests {
    static let isolated = TestEnv.packageRoot + "/scripts/clonezilla-isolated.sh"

    static let tools = ["ocs-live-get-img", "ocs-sr", "udp-receiver", "partclone.ext4", "partclone.vfat", "zstd", "gzip", "losetup", "partx",
                        "unshare", "e2fsck", "debugfs", "fsck.vfat", "sfdisk", "sgdisk", "partprobe", "curl"]

    @Test(.timeLimit(.minutes(10))) func realClientAndTwoPipelinesRestoreFromOurFeeder() throws {
        try scenario(tag: "rc", source: { _ in "cz-gpt" }, options: "", decompressors: ["zstd -dc", "gzip -dc", "zstd -dc"])
    }

    /// `-mdst from-device`: the source is a loop device holding the fixture disk (restored by
    /// ocs-restore-img); the feeder saves a pseudo image of it and streams each partition through
    /// partclone and zstd while sending. The clients cannot tell the difference.
    @Test(.timeLimit(.minutes(10))) func realClientAndTwoPipelinesRestoreFromASourceDevice() throws {
        var source: String?
        defer {
            if let source {
                TestEnv.run("partx", ["-d", source])
                TestEnv.run("losetup", ["-d", source])
            }
        }
        try scenario(tag: "rd", source: { work in
            TestEnv.zeroFile(work + "/source-disk.img", size: 32 << 20)
            let restored = TestEnv.run(TestEnv.restoreTool, ["-b", "restoredisk", TestEnv.fixture("cz-gpt/image"), work + "/source-disk.img"])
            try #require(restored.status == 0, "\(restored.stderr)")
            let attach = TestEnv.run("losetup", ["-f", "--show", work + "/source-disk.img"])
            let device = attach.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(attach.status == 0 && device.hasPrefix("/dev/loop"))
            source = device
            TestEnv.run("partx", ["-a", device])
            return String(device.dropFirst(5))
        }, options: "-mdst from-device -cdt disk-2-mdisks", decompressors: ["zstd -dc", "zstd -dc", "zstd -dc"])
    }

    /// Our feeder started with `options` on the source `source(work)` returns, the real client
    /// and two pipelines; every check of the restored disks.
    func scenario(tag: String, source: (String) throws -> String, options: String, decompressors: [String]) throws {
        guard let lab = FeederLab.make(clients: 3, tag: tag, needs: Self.tools, directories: ["tftp/pxelinux.cfg", "tftp/grub", "iso"]) else { return }
        let (lan, work, fm, feed) = (lab.lan, lab.work, FileManager.default, lab.feed)
        lab.common = "--tftp-root \(work)/tftp"
        TestEnv.zeroFile(work + "/c1-disk.img", size: 32 << 20)
        let attach = TestEnv.run("losetup", ["-f", "--show", work + "/c1-disk.img"])
        let device = attach.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer {
            lab.close()
            if device.hasPrefix("/dev/loop") {
                TestEnv.run("partx", ["-d", device])
                TestEnv.run("losetup", ["-d", device])
            }
        }
        try #require(attach.status == 0 && device.hasPrefix("/dev/loop"), "losetup: \(attach.stderr)")
        let disk = String(device.dropFirst(5))
        let server = lan.address("srv")

        let sourceName = try source(work)
        let start = feed("-b -md multicast --clients-to-wait 3 --max-time-to-wait 150 -cbm local-boot-media \(options) -mcast-iface lsnet0 start \(sourceName) \(disk)")
        try #require(start.status == 0, "\(start.stderr)")
        let conf = lan.shell("c1", "curl -s http://\(server)/ocs-client-run.conf").stdout
        let imagePrefix = conf.split(separator: "\n").first { $0.hasPrefix("img_prefix=") }.map { String($0.dropFirst(12).dropLast()) } ?? "?"
        #expect((options.isEmpty ? imagePrefix == "cz-gpt" : imagePrefix.hasPrefix("raw-psdo-")) && conf.hasSuffix("ocs_restore_dev=\"\(disk)\"\n"), "\(conf)")

        // Two plain receivers: the real client's pipeline per partition, into files.
        let receive = "udp-receiver --nokbd --mcast-rdv-address 224.0.0.1 --ttl 1 --start-timeout 300 2>/dev/null --portbase"
        var pipelines: [Process] = []
        for host in ["c2", "c3"] {
            let out = work + "/" + host
            TestEnv.zeroFile(out + "-p1", size: 16 << 20)
            TestEnv.zeroFile(out + "-p2", size: 8 << 20)
            TestEnv.zeroFile(out + "-p4", size: 1 << 20)
            let script = """
                set -o pipefail
                \(receive) 2232 | \(decompressors[0]) | partclone.ext4 -r -s - -O \(out)-p1 -L \(out)-pc1.log &&
                \(receive) 2234 | \(decompressors[1]) | partclone.vfat -r -s - -O \(out)-p2 -L \(out)-pc2.log &&
                \(receive) 2236 | \(decompressors[2]) | dd of=\(out)-p4 conv=notrunc status=none
                """
            pipelines.append(lan.start(host, ["/bin/bash", "-c", script], log: out + ".log"))
        }
        // The real client, PID 1 of its own pid+mount namespace; its output through a pipe
        // (partclone reopens /dev/stderr and would truncate a log file).
        let clientLog = work + "/client.log"
        let client = lan.start("c1", ["/bin/bash", "-c", """
            unshare -m -p -f --kill-child --mount-proc --propagation private \(Self.isolated) \(work)/iso c1 \
              timeout 420 ocs-live-get-img -b -icol -d \(disk) \(server) < /dev/null 2>&1 | cat > \(clientLog)
            exit ${PIPESTATUS[0]}
            """], log: work + "/client-outer.log")
        let clientStatus = lan.wait(client, seconds: 480)
        let tail = (TestEnv.text(clientLog)).split(separator: "\n").suffix(25).joined(separator: "\n")
        #expect(clientStatus == 0, "real client exit status \(String(describing: clientStatus)):\n\(tail)")
        for (host, pipeline) in zip(["c2", "c3"], pipelines) {
            #expect(lan.wait(pipeline, seconds: 60) == 0, "\(host) pipeline: \(TestEnv.text(work + "/\(host).log"))")
        }

        // The real client's disk: table, boot code, every partition as the real tools restore it.
        if !fm.fileExists(atPath: device + "p4") { TestEnv.run("partx", ["-a", device]) }
        let regions = Dictionary(uniqueKeysWithValues: TestEnv.regions(TestEnv.fixture("cz-gpt")).map { ($0.name, $0) })
        for name in ["mbr", "gpt-primary", "gpt-backup", "sda2", "sda3", "sda4"] {
            let region = try #require(regions[name])
            #expect(TestEnv.sha256(device, offset: region.start * 512, length: region.count * 512) == region.sha, "\(name) on \(device)")
        }
        #expect(TestEnv.run("e2fsck", ["-fn", device + "p1"]).status == 0, "e2fsck \(device)p1")
        // ext4 is mounted once by the client's post-processing, so it is compared by content.
        try fm.createDirectory(atPath: work + "/files-client", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: work + "/files-reference", withIntermediateDirectories: true)
        TestEnv.run("debugfs", ["-R", "rdump / \(work)/files-client", device + "p1"])
        TestEnv.run("debugfs", ["-R", "rdump / \(work)/files-reference", work + "/c2-p1"])
        let diff = TestEnv.run("diff", ["-r", "--no-dereference", work + "/files-reference", work + "/files-client"])
        #expect(diff.status == 0 && !((try? fm.contentsOfDirectory(atPath: work + "/files-client")) ?? []).isEmpty, "ext4 files differ: \(diff.stdout)")

        // The pipelines: each partition byte for byte as the real tools restore it.
        for host in ["c2", "c3"] {
            for (file, region) in [("p1", "sda1"), ("p2", "sda2"), ("p4", "sda4")] {
                #expect(TestEnv.sha256(work + "/\(host)-\(file)") == regions[region]?.sha, "\(host) \(region)")
            }
            #expect(TestEnv.run("e2fsck", ["-fn", work + "/\(host)-p1"]).status == 0 && TestEnv.run("fsck.vfat", ["-n", work + "/\(host)-p2"]).status == 0)
        }

        // The real client's report, logged as ocsmgrd does, and its local-boot files.
        let clientIP = lan.address("c1")
        let mac = lan.shell("c1", "cat /sys/class/net/lsnet0/address").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let jobs = TestEnv.text(work + "/logs/clonezilla-jobs.log")
        let line = jobs.split(separator: "\n").first { $0.contains("client \(clientIP) (\(mac)) finished restoring. Stats: Multicast restored \(imagePrefix),") }
        #expect(line.map { $0.components(separatedBy: "success").count - 1 } == 3, "job log:\n\(jobs)")
        let hexIP = clientIP.split(separator: ".").map { String(format: "%02X", Int($0)!) }.joined()
        for name in ["pxelinux.cfg/01-" + mac.replacingOccurrences(of: ":", with: "-"), "pxelinux.cfg/" + hexIP,
                     "grub/grub.cfg-drbl-" + clientIP, "grub/grub.cfg-drbl-" + mac] {
            #expect(fm.fileExists(atPath: work + "/tftp/" + name), "local-boot file \(name)")
        }
        var status = feed("status")
        for _ in 0..<20 where !status.stdout.contains("client \(clientIP) \(mac): done") {   // status.json is rewritten twice a second
            usleep(250_000)
            status = feed("status")
        }
        #expect(status.status == 0 && status.stdout.contains("client \(clientIP) \(mac): done"), "\(status.stdout)\(status.stderr)")

        let stop = feed("stop")
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(!fm.fileExists(atPath: work + "/state/feeder.pid"), "the lock is gone")
        #expect(lab.daemonGone, "no feeder process is left")
        #expect(((try? fm.contentsOfDirectory(atPath: work + "/tftp/pxelinux.cfg")) ?? ["?"]).isEmpty, "per-client files removed by stop")
    }
}

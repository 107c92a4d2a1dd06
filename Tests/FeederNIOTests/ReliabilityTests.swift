import Foundation
import Testing
import TestSupport

/// The whole system under faults, in namespaces: our feeder and our clients with loss, killed
/// and starved receivers, a killed feeder, a damaged image, a too-small disk and a peer that
/// sends garbage to every port the feeder listens on.
@Suite(.serialized) struct ReliabilityTests {
    static let client = TestEnv.tool("ocs-live-get-img")

    /// Polls `condition` every 50 ms for at most `seconds`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if condition() { return true }
            usleep(50_000)
        } while Date() < deadline
        return false
    }

    /// One multicast session of a ~48 MiB partition to four clients, the server's link held to
    /// 60 Mbit/s so it lasts seconds: c1 loses 5 % of its data datagrams all along, c3 is killed
    /// (SIGKILL) mid-stream, c4 stops getting data mid-stream (the switch drops every data
    /// datagram to it; control and TCP pass). c1 and c2 end with the exact partition; c4 gives
    /// up after its receive timeout and reports failure; the feeder logs both results. Then c3
    /// runs again against a new session and ends with the exact partition.
    @Test(.timeLimit(.minutes(4))) func lossKilledAndStarvedReceiversThenRerun() throws {
        guard let lab = FeederLab.make(clients: 4, tag: "rl", needs: SourceDisk.tools + ["tc"]) else { return }
        defer { lab.close() }
        guard let source = SourceDisk.make(in: lab.work, megabytes: 72, dataMegabytes: 48) else { return }
        defer { lab.feed("stop"); source.close() }
        let (lan, work) = (lab.lan, lab.work)
        try #require(lan.shell("srv", "tc qdisc add dev lsnet0 root tbf rate 60mbit burst 64kb limit 4mb").status == 0)
        try #require(lan.loss("c1", perMille: 50))
        let start = lab.feed("-b -md multicast --clients-to-wait 4 --max-time-to-wait 60 -cbm local-boot-media -mdst from-device -mcast-iface lsnet0 start \(source.name) sda")
        try #require(start.status == 0, "\(start.stderr)")
        let hosts = ["c1", "c2", "c3", "c4"]
        var clients: [String: Process] = [:]
        for host in hosts {
            TestEnv.zeroFile("\(work)/\(host).img", size: source.size)
            clients[host] = lan.start(host, [Self.client, "-b", "-d", "\(work)/\(host).img", "--timeout", "60", "--receive-timeout", "6", lab.server],
                                      log: "\(work)/\(host).log")
        }
        // The session starts once the four are in; strike two seconds into the data.
        let connected = Self.eventually(60) { hosts.allSatisfy { TestEnv.text("\(work)/\($0).log").contains("Connected as") } }
        try #require(connected, "\(hosts.map { TestEnv.text("\(work)/\($0).log") })")
        usleep(2_000_000)
        #expect(clients["c3"]!.isRunning && clients["c4"]!.isRunning, "the stream lasted less than two seconds: the faults struck after it")
        kill(clients["c3"]!.processIdentifier, SIGKILL)
        #expect(lan.loss("c4", perMille: 1000))

        for host in ["c1", "c2"] {
            #expect(lan.wait(clients[host]!, seconds: 120) == 0, "\(host): \(TestEnv.text("\(work)/\(host).log"))")
            #expect(source.restoredIn("\(work)/\(host).img"), "\(host)'s partition equals the source as partclone restores it")
        }
        #expect(lan.dropped("c1") > 100, "c1 lost \(lan.dropped("c1")) data datagrams")
        let starved = lan.wait(clients["c4"]!, seconds: 60)
        let starvedLog = TestEnv.text("\(work)/c4.log")
        #expect(starved == 1 && starvedLog.contains("no data") && starvedLog.contains("restore failed"), "\(starvedLog)")
        let jobs = TestEnv.text(work + "/logs/clonezilla-jobs.log")
        for host in ["c1", "c2"] {
            #expect(jobs.contains("client \(lan.address(host)) (") && jobs.contains("success"), "\(jobs)")
        }
        #expect(jobs.split(separator: "\n").contains { $0.contains("client \(lan.address("c4")) (") && $0.contains("***FAIL***") }, "\(jobs)")
        #expect(lab.log.contains("dropped (stopped answering): \(lan.address("c3"))"), "\(lab.log)")

        // The killed client runs again against a new session.
        lab.feed("stop")
        #expect(lab.daemonGone)
        try #require(lab.feed("-b -md multicast --clients-to-wait 1 --max-time-to-wait 60 -cbm local-boot-media -mdst from-device -mcast-iface lsnet0 start \(source.name) sda").status == 0)
        let rerun = lan.shell("c3", "\(Self.client) -b -d \(work)/c3.img --timeout 60 \(lab.server)")
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(source.restoredIn("\(work)/c3.img"), "the rerun ends with the exact partition")
    }

    /// The feeder dies by SIGKILL while waiting for clients: `stop` withdraws what it published
    /// and frees the lock, a new `start` serves, a client whose disk is too small is refused
    /// before anything is written (and reports failure), and a client with the right disk
    /// restores it exactly.
    @Test(.timeLimit(.minutes(8))) func killedFeederThenStopStartAndATooSmallDisk() throws {
        guard let lab = FeederLab.make(clients: 2, tag: "rk") else { return }
        defer { lab.close() }
        let (lan, work) = (lab.lan, lab.work)
        let options = "-b -md multicast --clients-to-wait 1 --max-time-to-wait 60 -cbm local-boot-media -mcast-iface lsnet0 start cz-gpt sda"
        try #require(lab.feed(options).status == 0)
        let pids = lan.shell("srv", "pgrep -f -- '[-]-state-dir \(work)/state'").stdout.split(separator: "\n").compactMap { Int32($0) }
        try #require(!pids.isEmpty)
        for pid in pids { kill(pid, SIGKILL) }
        #expect(Self.eventually(10) { lab.daemonGone })
        #expect(FileManager.default.fileExists(atPath: work + "/state/www/ocs-client-run.conf"), "a killed feeder leaves its job behind")
        #expect(lab.feed("status").status == 3, "status: not running")
        let stop = lab.feed("stop")
        #expect(stop.status == 0 && (stop.stdout + stop.stderr).contains("had died"), "\(stop)")
        #expect(!FileManager.default.fileExists(atPath: work + "/state/www/ocs-client-run.conf"), "stop withdrew the dead feeder's job")
        #expect(!FileManager.default.fileExists(atPath: work + "/state/feeder.pid"))

        let again = lab.feed(options)
        try #require(again.status == 0, "\(again.stderr)")
        TestEnv.zeroFile(work + "/small.img", size: 16 << 20)
        let small = lan.shell("c2", "\(Self.client) -b -d \(work)/small.img --timeout 30 \(lab.server)")
        #expect(small.status == 1 && small.stderr.contains("small"), "\(small.stderr)")
        #expect(TestEnv.isUnwritten(work + "/small.img", size: 16 << 20), "nothing written to the too-small disk")
        TestEnv.zeroFile(work + "/c1.img", size: 32 << 20)
        let good = lan.shell("c1", "\(Self.client) -b -d \(work)/c1.img --timeout 60 \(lab.server)")
        #expect(good.status == 0, "\(good.stderr)")
        let expected = TestEnv.restoredDiskHash("cz-gpt")
        #expect(TestEnv.sha256(work + "/c1.img") == expected)
        let jobs = TestEnv.text(work + "/logs/clonezilla-jobs.log")
        #expect(jobs.split(separator: "\n").contains { $0.contains("client \(lan.address("c2")) (") && $0.contains("***FAIL***") }, "\(jobs)")
    }

    /// One data byte of the ext4 payload flipped inside the partclone stream (and the stream
    /// recompressed, so zstd sees nothing wrong): `-cm` refuses at start on MD5SUMS, the default
    /// restorable check refuses naming the partition, and with `-sc0` the client finds it by the
    /// partclone checksum, exits 1 and reports failure.
    @Test(.timeLimit(.minutes(8))) func aCorruptedChunk() throws {
        guard let lab = FeederLab.make(clients: 1, tag: "rc", needs: ["zstd", "python3"]) else { return }
        defer { lab.close() }
        let (lan, work) = (lab.lan, lab.work)
        let image = work + "/root/cz-bad"
        TestEnv.copyImage(TestEnv.fixture("cz-gpt/image"), to: image)
        let corrupt = TestEnv.shell("""
            cd \(image) && cat sda1.ext4-ptcl-img.zst.* | zstd -dcq > ../raw && rm sda1.ext4-ptcl-img.zst.* &&
            python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)-100] ^= 0xFF; open(p,"wb").write(b)' ../raw &&
            zstd -qc ../raw | split -b 16384 -a 2 - sda1.ext4-ptcl-img.zst. && rm ../raw
            """)
        try #require(corrupt.status == 0, "\(corrupt.stderr)")
        let base = "-b -md multicast --clients-to-wait 1 --max-time-to-wait 60 -cbm local-boot-media -mcast-iface lsnet0"

        let checked = lab.feed("\(base) -cm start cz-bad sda")
        #expect(checked.status != 0 && checked.stderr.contains("sda1") && checked.stderr.contains("MD5"), "\(checked.stderr)")
        #expect(lab.daemonGone)
        let restorable = lab.feed("\(base) start cz-bad sda")
        #expect(restorable.status != 0 && restorable.stderr.contains("not restorable") && restorable.stderr.contains("sda1"), "\(restorable.stderr)")
        #expect(lab.daemonGone)

        let unchecked = lab.feed("\(base) -sc0 start cz-bad sda")
        try #require(unchecked.status == 0, "\(unchecked.stderr)")
        TestEnv.zeroFile(work + "/c1.img", size: 32 << 20)
        let run = lan.shell("c1", "\(Self.client) -b -d \(work)/c1.img --timeout 60 \(lab.server)")
        #expect(run.status == 1 && run.stderr.contains("sda1") && run.stderr.lowercased().contains("checksum") && run.stderr.contains("restore failed"), "\(run.stderr)")
        let jobs = TestEnv.text(work + "/logs/clonezilla-jobs.log")
        #expect(jobs.contains("client \(lan.address("c1")) (") && jobs.contains("***FAIL***") && !jobs.contains("success"), "\(jobs)")
    }

    /// BitTorrent: while a client leeches, another host sends garbage (random bytes, a broken BT
    /// handshake, a half HTTP request) to every TCP port the feeder listens on, again and
    /// again. The client's disk ends exact, the feeder keeps running and serves a second client.
    @Test(.timeLimit(.minutes(8))) func garbageOnEveryPortDuringABitTorrentJob() throws {
        guard let lab = FeederLab.make(clients: 2, tag: "rg", needs: ["python3"]) else { return }
        defer { lab.close() }
        let (lan, work) = (lab.lan, lab.work)
        try #require(lab.feed("-b -md bittorrent -cbm local-boot-media -bt-iface lsnet0 start cz-gpt sda").status == 0)
        let ports = lan.shell("srv", "ss -Hltn | awk '{print $4}' | sed 's/.*://' | sort -un").stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(ports.contains(80) && ports.contains(6461) && ports.count >= 4, "\(ports)")
        let garbage = """
            import os, socket, sys, time
            host, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
            payloads = [os.urandom(4096), b"\\x13BitTorrent protocol" + os.urandom(40), b"\\x13BitTorrent protocol" + bytes(8) + os.urandom(20) + b"-XX0000-" + os.urandom(12) + b"\\x00\\x00\\x40\\x00\\x07" + os.urandom(64),
                        b"GET /" + b"A" * 9000, b"\\xff" * 65536]
            sent = 0
            for round in range(15):
                for port in ports:
                    for payload in payloads:
                        try:
                            s = socket.create_connection((host, port), timeout=1); s.sendall(payload); s.close(); sent += 1
                        except OSError:
                            pass
                time.sleep(0.05)
            print(sent)
            """
        try garbage.write(toFile: work + "/garbage.py", atomically: true, encoding: .utf8)
        let attacker = lan.start("c2", ["/usr/bin/python3", work + "/garbage.py", lab.server] + ports.map(String.init), log: work + "/garbage.log")
        TestEnv.zeroFile(work + "/c1.img", size: 32 << 20)
        let first = lan.start("c1", [Self.client, "-b", "-d", work + "/c1.img", "--timeout", "60", lab.server], log: work + "/c1.log")
        #expect(lan.wait(first, seconds: 100) == 0, "\(TestEnv.text(work + "/c1.log"))")
        #expect(lan.wait(attacker, seconds: 60) == 0, "\(TestEnv.text(work + "/garbage.log"))")
        let sent = Int(TestEnv.text(work + "/garbage.log").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(sent >= ports.count * 5 * 10, "garbage connections made: \(sent)")
        let expected = TestEnv.restoredDiskHash("cz-gpt")
        #expect(TestEnv.sha256(work + "/c1.img") == expected)
        #expect(!lab.daemonGone && lab.feed("status").status == 0, "the feeder survived")
        TestEnv.zeroFile(work + "/c2.img", size: 32 << 20)
        let second = lan.shell("c2", "\(Self.client) -b -d \(work)/c2.img --timeout 60 \(lab.server)")
        #expect(second.status == 0 && TestEnv.sha256(work + "/c2.img") == expected, "\(second.stderr)")
    }
}

import Foundation
import Testing
import TestSupport

/// `ocs-live-feed-img start` in a namespace LAN, two real `udp-receiver` clients: the job is on
/// HTTP byte for byte, every stream equals the stored chunks, a report reaches the job log,
/// `stop` leaves nothing behind; bad starts fail fast and start nothing.
@Suite(.serialized) struct FeederInteropTests {
    @Test(.timeLimit(.minutes(4))) func twoRealReceiversRestoreTheStreamsAndReport() throws {
        guard let lab = FeederLab.make(clients: 2, tag: "fd", needs: ["udp-receiver", "curl", "tar"]) else { return }
        defer { lab.close() }
        let (lan, work) = (lab.lan, lab.work)
        let start = lab.feed("-b -md multicast --clients-to-wait 2 --max-time-to-wait 60 -cbm local-boot-media -mcast-iface lsnet0 start cz-gpt sda")
        #expect(start.status == 0, "\(start.stderr)")
        let server = lan.address("srv")
        let conf = lan.shell("c1", "curl -s http://\(server)/ocs-client-run.conf").stdout
        #expect(conf == "pseudo_img=\"img-wo-fs.tar.xz\"\nimg_prefix=\"cz-gpt\"\nocs_sr_opt=\"--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch --max-time-to-wait 60 -scr --mcast-port 2232 multicast_restoredisk\"\nocs_restore_dev=\"sda\"\n", "\(conf)")
        let listing = lan.shell("c2", "curl -s http://\(server)/img-wo-fs.tar.xz | tar -tJf -").stdout
        #expect(listing.contains("sda-pt.sf") && listing.contains("sda1.ext4-ptcl-img.zst.aa"), "\(listing)")
        // Both clients receive every stream in order, as the real client's pipeline does.
        let receive = (0..<3).map { "udp-receiver --portbase \(2232 + 2 * $0) --nokbd --interface lsnet0 --mcast-rdv-address 224.0.0.1 --start-timeout 60 --file \(work)/HOST-s\($0) 2>/dev/null" }
        let clients = ["c1", "c2"].map { host in
            lan.start(host, ["/bin/bash", "-c", receive.map { $0.replacingOccurrences(of: "HOST", with: host) }.joined(separator: " && ")], log: work + "/\(host).log")
        }
        for client in clients { #expect(lan.wait(client, seconds: 150) == 0) }
        for (index, partition) in ["sda1", "sda2", "sda4"].enumerated() {
            let expected = TestEnv.shell("cat \(work)/root/cz-gpt/\(partition).*-ptcl-img.* | sha256sum | cut -d' ' -f1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            for host in ["c1", "c2"] {
                #expect(TestEnv.sha256(work + "/\(host)-s\(index)") == expected, "\(host) stream \(index) (\(partition))")
            }
        }
        _ = lan.shell("c1", "printf '\(lan.address("c1")) de:82:5b:51:78:10 Multicast restored cz-gpt, /dev/sda1, success, 8.8 MB = 8588 Blocks, .135 mins;\\n' > /dev/tcp/\(server)/6461")
        let jobs = work + "/logs/clonezilla-jobs.log"
        let deadline = Date().addingTimeInterval(5)
        while !(TestEnv.text(jobs)).contains("finished restoring") && Date() < deadline { usleep(50_000) }
        #expect((TestEnv.text(jobs)).contains("client \(lan.address("c1")) (de:82:5b:51:78:10) finished restoring. Stats: Multicast restored cz-gpt, /dev/sda1, success"))
        let stop = lab.feed("stop")
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work + "/state/feeder.pid"), "the lock is gone")
        #expect(lab.daemonGone, "no feeder process is left")
        #expect(!FileManager.default.fileExists(atPath: work + "/state/www/ocs-client-run.conf"), "the job is withdrawn (B12)")
        let again = lab.feed("stop")
        #expect(again.status == 0 && again.stderr.contains("OCS is not running!"))
    }

    @Test(.timeLimit(.minutes(8))) func badStartsFailFastAndStartNothing() throws {
        guard let lab = FeederLab.make(clients: 2, tag: "fb", needs: ["udp-receiver", "curl", "tar"]) else { return }
        defer { lab.close() }
        let (lan, work) = (lab.lan, lab.work)
        let base = "-b -md multicast --clients-to-wait 1 -dm no-dhcpd -mcast-iface lsnet0"
        let unknown = lab.feed("--bogus start cz-gpt sda")
        #expect(unknown.status == 2 && unknown.stderr.contains("--bogus: invalid option"))
        let missing = lab.feed("\(base) start no-such-image sda")
        #expect(missing.status == 1 && missing.stderr.contains("does NOT exist"), "\(missing.stderr)")
        let nic = lab.feed("-b -md multicast --clients-to-wait 1 -dm no-dhcpd -mcast-iface nope0 start cz-gpt sda")
        #expect(nic.status == 1 && nic.stderr.contains("No network card"), "\(nic.stderr)")
        let contradictory = lab.feed("-b -md multicast --clients-to-wait 1 -dm start-new-dhcpd -cbm local-boot-media -mcast-iface lsnet0 start cz-gpt sda")
        #expect(contradictory.status == 1 && contradictory.stderr.contains("-cbm local-boot-media boots clients from their own media"), "\(contradictory.stderr)")
        let duplex = lab.feed("-b -md bittorrent -x -cbm local-boot-media -bt-iface lsnet0 start cz-gpt sda")
        #expect(duplex.status == 1 && duplex.stderr.contains("-x (full duplex) is a multicast option"), "\(duplex.stderr)")
        let noMedium = lab.feed("-b -md multicast --clients-to-wait 1 -dm start-new-dhcpd -mcast-iface lsnet0 --tftp-root \(work)/tftp start cz-gpt sda")
        #expect(noMedium.status == 1 && noMedium.stderr.contains("give the Clonezilla live medium"), "\(noMedium.stderr)")
        let badConf = lab.feed("--config \(work)/root/cz-gpt/parts -b -md multicast --clients-to-wait 1 -mcast-iface lsnet0 start cz-gpt sda")
        #expect(badConf.status == 1 && badConf.stderr.contains("expected \"key = value\""), "\(badConf.stderr)")
        let hold = lab.feed("-b -md multicast -dm no-dhcpd -mcast-iface lsnet0 start cz-gpt sda")
        #expect(hold.status == 1 && hold.stderr.contains("No time_to_wait"))
        let disk = lab.feed("\(base) start cz-gpt sdb sdc")
        #expect(disk.status == 1 && disk.stderr.contains("cannot be matched"), "\(disk.stderr)")
        // A busy port 80: the daemon cannot listen, start says why and leaves nothing running.
        let blocker = lan.start("srv", ["/usr/bin/python3", "-c", "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('\(lan.address("srv"))', 80)); s.listen(); time.sleep(60)"], log: work + "/blocker.log")
        usleep(500_000)
        let busy = lab.feed("\(base) start cz-gpt sda")
        #expect(busy.status == 1 && busy.stderr.contains("stopped while starting"), "\(busy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work + "/state/feeder.pid"))
        kill(blocker.processIdentifier, SIGKILL)
        lan.wait(blocker, seconds: 5)
        #expect(lab.daemonGone)
        // A damaged payload: the restorable check refuses before anything listens; -sc0 skips it.
        let chunk = work + "/root/cz-gpt/sda2.vfat-ptcl-img.gz.aa"
        let original = try Data(contentsOf: URL(fileURLWithPath: chunk))
        var damaged = original
        damaged[damaged.count / 2] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: chunk))
        let corrupt = lab.feed("\(base) start cz-gpt sda")
        #expect(corrupt.status == 1 && corrupt.stderr.contains("is not restorable") && corrupt.stderr.contains("sda2"), "\(corrupt.stderr)")
        #expect(lab.daemonGone && !FileManager.default.fileExists(atPath: work + "/state/feeder.pid"))
        try original.write(to: URL(fileURLWithPath: chunk))
        // Two starts: the second refuses while the first runs.
        #expect(lab.feed("\(base) start cz-gpt sda").status == 0)
        let second = lab.feed("\(base) start cz-gpt sda")
        #expect(second.status == 1 && second.stderr.contains("already running"), "\(second.stderr)")
    }
}

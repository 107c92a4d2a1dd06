import Foundation
import Testing
import TestSupport

/// `-dm start-new-dhcpd -cbm netboot`: the feeder builds the netboot tree from a live medium,
/// answers DHCP and TFTP, serves the squashfs over HTTP for `fetch=`, follows one client through
/// its phases on the status page, writes its local-boot files when it reports success, and
/// `stop` removes them and frees every port.
@Suite(.serialized) struct FeederNetbootInteropTests {
    @Test(.timeLimit(.minutes(8))) func oneClientFromLeaseToLocalBoot() throws {
        guard FileManager.default.fileExists(atPath: "/usr/lib/PXELINUX/pxelinux.0") else { return print("skipped: pxelinux is not installed") }
        guard let lab = FeederLab.make(clients: 1, tag: "fnb", needs: ["busybox", "tftp", "curl"], directories: ["live/live", "tftp"]) else { return }
        defer { lab.close() }
        let (lan, work, fm) = (lab.lan, lab.work, FileManager.default)
        lab.common = "--tftp-root \(work)/tftp --live-media \(work)/live"
        for (name, size) in [("vmlinuz", 70_000), ("initrd.img", 90_000), ("filesystem.squashfs", 300_000)] {
            TestEnv.shell("head -c \(size) /dev/urandom > \(work)/live/live/\(name)")
        }
        let feed = lab.feed
        let start = feed("-b -md multicast --clients-to-wait 1 --max-time-to-wait 60 -dm start-new-dhcpd -cbm netboot -mcast-iface lsnet0 start cz-gpt sda")
        try #require(start.status == 0, "\(start.stderr)")
        let server = lan.address("srv")
        let menu = TestEnv.text(work + "/tftp/pxelinux.cfg/default")
        #expect(menu.contains("ocs_live_run=\"ocs-live-get-img \(server)\""), "\(menu)")

        // A PXE client: a lease (applied to its interface), the boot loader, the live root, the job.
        try """
            #!/bin/sh
            [ "$1" = bound ] || exit 0
            ip addr flush dev "$interface" && ip addr add "$ip/24" dev "$interface" && echo "$ip" > \(work)/leased
            """.write(toFile: work + "/udhcpc.sh", atomically: true, encoding: .utf8)
        chmod(work + "/udhcpc.sh", 0o755)
        let lease = lan.shell("c1", "busybox udhcpc -i lsnet0 -n -q -f -t 5 -T 1 -V PXEClient:Arch:00000:UNDI:002001 -s \(work)/udhcpc.sh")
        let leased = (TestEnv.text(work + "/leased")).trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(lease.status == 0 && !leased.isEmpty, "\(lease.stdout)\(lease.stderr)")
        let mac = lan.shell("c1", "cat /sys/class/net/lsnet0/address").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(lan.shell("c1", "cd \(work) && tftp \(server) -m binary -c get pxelinux.0 pxe.bin").status == 0)
        #expect(TestEnv.sha256(work + "/pxe.bin") == TestEnv.sha256("/usr/lib/PXELINUX/pxelinux.0"))
        let squashfs = lan.shell("c1", "curl -sf http://\(server)/Clonezilla-live-filesystem.squashfs | sha256sum | cut -d' ' -f1").stdout
        #expect(squashfs.trimmingCharacters(in: .whitespacesAndNewlines) == TestEnv.sha256(work + "/live/live/filesystem.squashfs"), "fetch= over HTTP")
        #expect(lan.shell("c1", "curl -sf -o /dev/null http://\(server)/ocs-client-run.conf").status == 0)
        var json = ""
        for _ in 0..<30 where !json.contains("job fetched") {
            usleep(200_000)
            json = lan.shell("c1", "curl -sf http://\(server)/status").stdout
        }
        #expect(json.contains("\"address\":\"\(leased)\"") && json.contains("\"mac\":\"\(mac)\"") && json.contains("\"phase\":\"job fetched\""), "\(json)")
        #expect(json.contains("\"dhcpMode\":\"start-new-dhcpd\""))

        // Its report: local-boot files under the leased address and the MAC.
        lan.shell("c1", "printf '\(leased) \(mac) Multicast restored cz-gpt, /dev/sda1, success, 8.8 MB = 8588 Blocks, .135 mins;\\n' > /dev/tcp/\(server)/6461")
        let pxelinuxFile = work + "/tftp/pxelinux.cfg/01-" + mac.replacingOccurrences(of: ":", with: "-")
        for _ in 0..<100 where !fm.fileExists(atPath: work + "/tftp/grub/grub.cfg-drbl-" + mac) { usleep(100_000) }   // written last
        #expect((TestEnv.text(pxelinuxFile)).contains("chain.c32"), "the client boots its local disk next")
        #expect(fm.fileExists(atPath: work + "/tftp/grub/grub.cfg-drbl-" + leased))

        let stop = feed("stop")
        #expect(stop.status == 0)
        #expect(!fm.fileExists(atPath: pxelinuxFile), "stop removes the per-client files")
        #expect(lab.daemonGone)
        let ports = lan.shell("srv", "ss -lnu; ss -lnt").stdout
        #expect(![":67 ", ":69 ", ":80 ", ":6461 "].contains { ports.contains($0) }, "\(ports)")
    }
}

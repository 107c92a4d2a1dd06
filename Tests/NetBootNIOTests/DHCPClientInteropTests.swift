import Foundation
import Testing
import TestSupport

/// Real DHCP clients against `ocs-netboot serve --mode start-new-dhcpd` in namespaces: each
/// gets a lease from the served range with the boot file and next-server of its firmware.
@Suite(.serialized) struct DHCPClientInteropTests {
    static let dhclientConf = """
        option pxe-client-arch code 93 = unsigned integer 16;
        send vendor-class-identifier "PXEClient:Arch:00000:UNDI:002001";
        send pxe-client-arch 0;
        request subnet-mask, broadcast-address, routers, domain-name-servers, tftp-server-name, bootfile-name;

        """

    func serve(_ lab: PXELab, extra: [String] = []) -> String? {
        lab.file("pxelinux.0", bytes: 1000)
        return lab.startServer(["serve", "--interface", "lsnet0", "--mode", "start-new-dhcpd", "--tftp-root", lab.tftpRoot,
                                "--range", "\(lab.net).100-\(lab.net).199", "--router", lab.server,
                                "--state-dir", lab.work + "/state"] + extra)
    }

    @Test func dhclientGetsALeaseWithBootFileAndNextServer() throws {
        guard let lab = PXELab.make(clients: 1, tag: "dc", tools: ["dhclient"]) else { return }
        defer { lab.down() }
        let log = try #require(serve(lab))
        lab.bare("c1")
        try Self.dhclientConf.write(toFile: lab.work + "/dhclient.conf", atomically: true, encoding: .utf8)
        try """
            #!/bin/sh
            env | grep -E '^new_' | sort >> \(lab.work)/dhclient-env.txt
            case "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;; esac
            exit 0

            """.write(toFile: lab.work + "/hook.sh", atomically: true, encoding: .utf8)
        chmod(lab.work + "/hook.sh", 0o755)
        let run = lab.lan.shell("c1", "timeout 30 dhclient -4 -v -1 -cf \(lab.work)/dhclient.conf -sf \(lab.work)/hook.sh -lf \(lab.work)/c1.leases -pf \(lab.work)/c1.pid lsnet0; rc=$?; kill $(cat \(lab.work)/c1.pid 2>/dev/null) 2>/dev/null; exit $rc")
        let env = lab.read(lab.work + "/dhclient-env.txt")
        #expect(run.status == 0, "dhclient: \(run.stderr)")
        #expect(env.contains("new_filename=pxelinux.0"), "\(env)")
        #expect(env.contains("new_next_server=\(lab.server)"), "\(env)")
        #expect(env.contains("new_ip_address=\(lab.net).1"), "\(env)")   // from the range .100-.199
        #expect(env.contains("new_routers=\(lab.server)"))
        #expect(lab.lan.shell("c1", "ip -4 addr show dev lsnet0").stdout.contains("\(lab.net).1"))
        #expect(lab.read(log).contains("DHCPREQUEST from"), "\(lab.read(log))")
        // The lease is persisted in the state directory (written within 0.2 s of the ACK).
        #expect(lab.waitFor(lab.work + "/state/dhcp-leases", contains: "\(lab.net).1", seconds: 3))
    }

    @Test func udhcpcAsUEFIGetsTheUEFIBootFile() throws {
        guard let lab = PXELab.make(clients: 1, tag: "du", tools: ["busybox"]) else { return }
        defer { lab.down() }
        lab.file("bootx64.efi", bytes: 1000)
        _ = try #require(serve(lab))
        lab.bare("c1")
        let (status, output, env) = lab.udhcpc("c1", "-t 3 -T 2 -V PXEClient:Arch:00007:UNDI:003000 -x 0x5d:0007 -O 66 -O 67")
        #expect(status == 0, "udhcpc: \(output)")
        #expect(env.contains("event=bound"))
        #expect(env.contains("boot_file=bootx64.efi"), "\(env)")
        #expect(env.contains("siaddr=\(lab.server)"), "\(env)")
        #expect(env.contains("tftp=\(lab.server)"), "option 66 asked for: \(env)")
        #expect(env.contains("bootfile=bootx64.efi"), "option 67 asked for: \(env)")
        #expect(env.contains("serverid=\(lab.server)"))
        #expect(env.contains("ip=\(lab.net).1"), "\(env)")
    }

    @Test func dhcpingChecksTheServer() throws {
        guard let lab = PXELab.make(clients: 1, tag: "dp", tools: ["dhcping", "busybox"]) else { return }
        defer { lab.down() }
        _ = try #require(serve(lab))
        // dhcping asks a known server about an address it already has (a health check): first
        // take a lease with udhcpc, then check it with dhcping's REQUEST for that address. udhcpc
        // sends no client identifier (-C), so the lease is the MAC's, which is what dhcping names.
        lab.bare("c1")
        let lease = lab.lan.shell("c1", "timeout 20 busybox udhcpc -C -i lsnet0 -f -q -n -t 3 -T 2 -s /bin/true 2>&1 | grep -o 'lease of [0-9.]*' | cut -d' ' -f3")
        let address = lease.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(address.hasPrefix("\(lab.net).1"), "udhcpc: \(lease)")
        let mac = lab.lan.shell("c1", "cat /sys/class/net/lsnet0/address").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = lab.lan.shell("c1", "ip addr add \(address)/24 dev lsnet0")
        let check = lab.lan.shell("c1", "timeout 10 dhcping -v -s \(lab.server) -c \(address) -h \(mac) -t 3")
        #expect(check.status == 0, "dhcping: \(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("Got answer from: \(lab.server)"), "\(check.stdout)")
    }

    @Test func nonPXEClientsGetAnAddressButNoBootFile() throws {
        guard let lab = PXELab.make(clients: 1, tag: "dn", tools: ["busybox"]) else { return }
        defer { lab.down() }
        _ = try #require(serve(lab))
        lab.bare("c1")
        let (status, _, env) = lab.udhcpc("c1", "-t 3 -T 2")
        #expect(status == 0)
        #expect(env.contains("ip=\(lab.net).1"))
        #expect(!env.contains("boot_file="), "a plain client got a boot file: \(env)")
    }
}

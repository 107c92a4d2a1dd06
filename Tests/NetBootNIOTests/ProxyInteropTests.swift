import Foundation
import Testing
import TestSupport

/// use-existing-dhcpd and auto-detect next to a real site DHCP server (dnsmasq in `c1`).
@Suite(.serialized) struct ProxyInteropTests {
    func site(_ lab: PXELab) -> String {
        lab.startDnsmasq("c1", name: "site", config: ["dhcp-range=\(lab.net).50,\(lab.net).99,255.255.255.0,10m",
                                                      "dhcp-option=option:router,\(lab.lan.address("c1"))"])
    }

    /// A plain client gets its address from the site and nothing from us; a PXE DISCOVER gets
    /// our proxy OFFER (no address, option 43 menu). (The 4011 step needs PXE firmware: the qemu
    /// boots. A non-PXE tool that claims "PXEClient" would take the proxy OFFER for a lease.)
    @Test func theSiteHandsOutAddressesAndWeOnlyAnswerPXEClients() throws {
        guard let lab = PXELab.make(clients: 2, tag: "px", tools: ["dnsmasq", "busybox"]) else { return }
        defer { lab.down() }
        site(lab)
        lab.file("pxelinux.0", bytes: 1000)
        let log = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "use-existing-dhcpd", "--tftp-root", lab.tftpRoot]))
        lab.bare("c2")
        let (status, output, env) = lab.udhcpc("c2", "-t 4 -T 3", configure: true)
        #expect(status == 0, "udhcpc: \(output)")
        #expect(env.contains("serverid=\(lab.lan.address("c1"))"), "the address must come from the site: \(env)")
        #expect(!env.contains("boot_file="))
        #expect(lab.read(log).contains("DHCPDISCOVER from") && lab.read(log).contains("no answer"), "\(lab.read(log))")
        // A PXE BIOS DISCOVER from the client, now configured by the site.
        let detect = lab.lan.shell("c2", "\(PXELab.tool) detect -i lsnet0 --seconds 4")
        #expect(detect.stdout.contains("proxyDHCP \(lab.server) with a PXE menu (option 43)"), "\(detect.stdout) \(detect.stderr)")
        #expect(detect.stdout.contains("DHCP server \(lab.lan.address("c1"))"), "\(detect.stdout)")
        let text = lab.read(log)
        #expect(text.contains("-> DHCPOFFER to 255.255.255.255:68"), "\(text)")
        #expect(!text.contains("DHCPACK \(lab.net)") && !text.contains("DHCPOFFER \(lab.net)"), "a proxy never hands out addresses: \(text)")
    }

    @Test func detectListsTheSiteServerAndAnotherProxy() throws {
        guard let lab = PXELab.make(clients: 2, tag: "pd", tools: ["dnsmasq"]) else { return }
        defer { lab.down() }
        site(lab)
        lab.startDnsmasq("c2", name: "otherproxy", config: ["dhcp-range=\(lab.lan.address("c2")),proxy",
                                                            "pxe-service=X86PC, \"Boot BIOS PXE\", pxelinux.0",
                                                            "pxe-prompt=\"Booting\", 1"])
        let detect = lab.lan.shell("srv", "\(PXELab.tool) detect -i lsnet0 --seconds 5")
        #expect(detect.status == 0, "\(detect.stderr)")
        #expect(detect.stdout.contains("DHCP server \(lab.lan.address("c1")) offered \(lab.net).5")
                || detect.stdout.contains("DHCP server \(lab.lan.address("c1")) offered \(lab.net).6")
                || detect.stdout.contains("DHCP server \(lab.lan.address("c1")) offered \(lab.net).7")
                || detect.stdout.contains("DHCP server \(lab.lan.address("c1")) offered \(lab.net).8")
                || detect.stdout.contains("DHCP server \(lab.lan.address("c1")) offered \(lab.net).9"), "\(detect.stdout)")
        #expect(detect.stdout.contains("proxyDHCP \(lab.lan.address("c2"))"), "\(detect.stdout)")
        #expect(detect.stdout.contains("with a PXE menu"))
        #expect(detect.stdout.contains("warning: another PXE boot server"))
        #expect(detect.stdout.contains("would choose use-existing-dhcpd"))
        // The probe took no lease: the site's lease file stays empty.
        #expect(lab.read(lab.work + "/site.leases").isEmpty, "\(lab.read(lab.work + "/site.leases"))")
    }

    @Test func autoDetectPicksProxyNextToASiteServerAndFullServiceOnASilentLink() throws {
        guard let lab = PXELab.make(clients: 2, tag: "pa", tools: ["dnsmasq", "busybox"]) else { return }
        defer { lab.down() }
        // Silent link: start-new-dhcpd, and a client gets its address from us.
        let alone = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "auto-detect", "--detect-seconds", "2",
                                                  "--tftp-root", lab.tftpRoot, "--range", "\(lab.net).100-\(lab.net).110"],
                                                 name: "alone"))
        #expect(lab.read(alone).contains("detect: start-new-dhcpd: no DHCP server answered"), "\(lab.read(alone))")
        lab.bare("c2")
        let lease = lab.lan.shell("c2", "timeout 20 busybox udhcpc -i lsnet0 -f -q -n -t 3 -T 2 -s /bin/true 2>&1")
        #expect(lease.stdout.contains("lease of \(lab.net).10") || lease.stdout.contains("lease of \(lab.net).110"), "\(lease.stdout)")
        lab.stopServers()
        // Next to the site server: use-existing-dhcpd.
        site(lab)
        let next = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "auto-detect", "--tftp-root", lab.tftpRoot],
                                                name: "next", readyWithin: 30))
        #expect(lab.read(next).contains("detect: use-existing-dhcpd: found DHCP server \(lab.lan.address("c1"))"), "\(lab.read(next))")
        #expect(lab.read(next).contains("proxyDHCP on lsnet0"))
    }

    /// no-dhcpd serves nothing: it needs neither root nor free ports, and says so.
    @Test func noDHCPDLeavesDHCPAndTFTPOff() throws {
        let run = TestEnv.run(PXELab.tool, ["serve", "-i", "lo", "--mode", "no-dhcpd", "--tftp-root", "/nonexistent", "--seconds", "0.2"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("no-dhcpd: DHCP and TFTP stay off") && !run.stderr.contains("tftp: serving"), "\(run.stderr)")
    }

    @Test func aMissingTFTPRootIsAClearError() throws {
        guard TestEnv.isRoot else { return print("skipped: binding port 67 needs root") }
        let run = TestEnv.run(PXELab.tool, ["serve", "-i", "lo", "--mode", "start-new-dhcpd", "--tftp-root", "/nonexistent/tftp", "--seconds", "0.2"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("served root /nonexistent/tftp does not exist"), "\(run.stderr)")
    }

    @Test func anUnknownModeIsRefusedWithTheListOfModes() throws {
        let run = TestEnv.run(PXELab.tool, ["serve", "--mode", "dhcp-please", "--tftp-root", "/tmp"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("unknown mode \"dhcp-please\"") && run.stderr.contains("start-new-dhcpd"), "\(run.stderr)")
    }
}

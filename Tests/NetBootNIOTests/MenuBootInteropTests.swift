import Foundation
import Testing
import TestSupport

/// The whole netboot path with real firmware (qemu TCG): `ocs-netboot prepare` builds the tree
/// from Debian's pxelinux and GRUB and a live medium holding Debian's cloud kernel; our DHCP and
/// TFTP serve it; the kernel prints its command line on the serial console and panics (empty
/// initrd, `panic=-1`, qemu `-no-reboot`): the line must carry our `ocs_live_run`.
@Suite(.serialized) struct MenuBootInteropTests {
    /// CI unpacks `linux-image-*-cloud-amd64` here (`.ci/run`); LITESERVER_TEST_KERNEL overrides.
    static var kernel: String? {
        let path = ProcessInfo.processInfo.environment["LITESERVER_TEST_KERNEL"] ?? "/var/cache/liteserver-test/vmlinuz"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// A live medium with the kernel, an empty initramfs (newc trailer only) and a dummy squashfs.
    static func medium(in work: String, kernel: String) throws -> String {
        let medium = work + "/medium"
        try FileManager.default.createDirectory(atPath: medium + "/live", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: kernel, toPath: medium + "/live/vmlinuz")
        let name = "TRAILER!!!"
        var header = "070701" + [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, name.utf8.count + 1, 0].map { String(format: "%08X", $0) }.joined()
        header += name + "\0"
        var bytes = Array(header.utf8)
        while bytes.count % 4 != 0 { bytes.append(0) }
        try Data(bytes).write(to: URL(fileURLWithPath: medium + "/live/initrd.img"))
        TestEnv.shell("head -c 200000 /dev/urandom > \(medium)/live/filesystem.squashfs")
        return medium
    }

    static func prepare(_ lab: PXELab, medium: String) -> (status: Int32, stdout: String, stderr: String) {
        TestEnv.run(PXELab.tool, ["prepare", "--tftp-root", lab.tftpRoot, "--server", lab.server, "--live-media", medium,
                                  "--serial", "0,115200", "--extra-boot-param", "console=ttyS0,115200 panic=-1", "--timeout", "1",
                                  "--keyboard", "us", "--image", "lab-image"])
    }

    /// The guests' kernel command lines, once every one has printed it (or the time is up).
    static func commandLines(_ lab: PXELab, guests: [FirmwareBootInteropTests.Guest], seconds: Double = 300) -> [String: String] {
        FirmwareBootInteropTests.run(lab, guests: guests, seconds: seconds) { guest in
            lab.read(lab.work + "/\(guest.name).serial").split(separator: "\n").first { $0.contains("Command line:") }.map(String.init)
        }
    }

    static func lab(tag: String, tools: [String]) throws -> (PXELab, String)? {
        guard let kernel else {
            print("skipped: no test kernel (LITESERVER_TEST_KERNEL or /var/cache/liteserver-test/vmlinuz; .ci/run fetches Debian's cloud kernel)")
            return nil
        }
        guard let lab = FirmwareBootInteropTests.prepared(tag: tag, tools: tools) else { return nil }
        let medium = try medium(in: lab.work, kernel: kernel)
        let prepared = prepare(lab, medium: medium)
        guard prepared.status == 0 else {
            Issue.record("prepare failed: \(prepared.stderr)")
            lab.down()
            return nil
        }
        return (lab, medium)
    }

    static func expectLiveCommandLine(_ lines: [String: String], _ lab: PXELab, guests: [FirmwareBootInteropTests.Guest], log: String) {
        for guest in guests {
            guard let line = lines[guest.name] else {
                Issue.record("\(guest.name) printed no kernel command line:\n\(lab.read(lab.work + "/\(guest.name).serial").suffix(1500))\n\(lab.read(log).suffix(1500))")
                continue
            }
            // PXELINUX passes the quotes through; GRUB quotes the whole word that holds a space.
            #expect(line.contains("ocs_live_run=\"ocs-live-get-img \(lab.server)\"") || line.contains("\"ocs_live_run=ocs-live-get-img \(lab.server)\""), "\(guest.name): \(line)")
            #expect(line.contains("fetch=http://\(lab.server)/Clonezilla-live-filesystem.squashfs") && line.contains("hostname=lite-client"))
            #expect(line.contains("ocs_server="))
            print("\(guest.name): \(line)")
        }
        let text = lab.read(log)
        #expect(text.contains("sent pxelinux.cfg/default") && text.contains("sent grub/grub.cfg"), "both menus were read:\n\(text.suffix(3000))")
        #expect(text.contains("sent Clonezilla-live-vmlinuz") && text.contains("sent Clonezilla-live-initrd.img"))
    }

    @Test(.timeLimit(.minutes(8))) func biosAndUEFIBootTheLiveEntryAndThenTheirLocalDisk() throws {
        guard let (lab, medium) = try Self.lab(tag: "mb", tools: ["curl"]) else { return }
        defer { lab.down() }
        let log = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "start-new-dhcpd", "--tftp-root", lab.tftpRoot,
                                                "--extra-root", medium, "--range", "\(lab.net).100-\(lab.net).199"]))
        // live-boot will fetch the squashfs over HTTP from the same tree (fetch= in the menus).
        let fetched = lab.lan.shell("c1", "curl -s -o \(lab.work)/fetched.squashfs -w '%{http_code}' http://\(lab.server)/Clonezilla-live-filesystem.squashfs")
        #expect(fetched.stdout == "200" && TestEnv.sha256(lab.work + "/fetched.squashfs") == TestEnv.sha256(medium + "/live/filesystem.squashfs"), "\(fetched)")
        let guests = Array(FirmwareBootInteropTests.guests(lab).prefix(2))   // SeaBIOS + iPXE, OVMF + iPXE EFI
        let started = Date()
        let lines = Self.commandLines(lab, guests: guests)
        Self.expectLiveCommandLine(lines, lab, guests: guests, log: log)
        print("both kernels started \(String(format: "%.1f", Date().timeIntervalSince(started))) s after qemu started")

        // After a successful restore the client gets its local entry: PXELINUX reads its 01-<mac>
        // file and loads chain.c32; GRUB loads grub.cfg-drbl-<mac> and never asks for the kernel.
        for (guest, mac) in zip(guests, ["52:54:00:77:00:10", "52:54:00:77:00:20"]) {
            let address = lab.read(log).split(separator: "\n").last { $0.contains("from \(mac)") && $0.contains("DHCPACK") }?
                .split(separator: " ").drop { $0 != "DHCPACK" }.dropFirst().first.map(String.init) ?? "\(lab.net).250"
            let run = TestEnv.run(PXELab.tool, ["local-boot", "--tftp-root", lab.tftpRoot, "--server", lab.server, "--mac", mac, "--address", address,
                                                "--serial", "0,115200", "--timeout", "1"])
            #expect(run.status == 0, "\(guest.name): \(run.stderr)")
        }
        lab.stopServers()
        let second = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "start-new-dhcpd", "--tftp-root", lab.tftpRoot,
                                                   "--extra-root", medium, "--range", "\(lab.net).100-\(lab.net).199",
                                                   "--state-dir", lab.work + "/state2"], name: "second"))
        let done = FirmwareBootInteropTests.boot(lab, log: second, expectIn: { guest in
            guest.bootFile == "pxelinux.0" ? ["sent pxelinux.cfg/01-52-54-00-77-00-10", "sent bios/chain.c32"]
                                           : ["sent grub/grub.cfg-drbl-52:54:00:77:00:20"]
        })
        let text = lab.read(second)
        #expect(done["bios-ipxe"] == true && done["uefi-ipxe"] == true, "local entries:\n\(text.suffix(3000))")
        #expect(!text.contains("sent Clonezilla-live-vmlinuz"), "a client with a local-boot file loaded the live kernel")
        let removed = TestEnv.run(PXELab.tool, ["clean-clients", "--tftp-root", lab.tftpRoot])
        #expect(removed.stderr.contains("4 file(s) removed") || removed.stderr.contains("file(s) removed"), "\(removed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: lab.tftpRoot + "/pxelinux.cfg/01-52-54-00-77-00-10"))
        #expect(FileManager.default.fileExists(atPath: lab.tftpRoot + "/pxelinux.cfg/default"))
    }

    @Test(.timeLimit(.minutes(8))) func proxyModeBootsTheLiveEntryFromOurServer() throws {
        guard let (lab, medium) = try Self.lab(tag: "mp", tools: ["dnsmasq"]) else { return }
        defer { lab.down() }
        lab.startDnsmasq("c1", name: "site", config: ["dhcp-range=\(lab.net).50,\(lab.net).99,255.255.255.0,10m",
                                                      "dhcp-option=option:router,\(lab.lan.address("c1"))"])
        let log = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "use-existing-dhcpd", "--tftp-root", lab.tftpRoot,
                                                "--extra-root", medium]))
        let guests = Array(FirmwareBootInteropTests.guests(lab).prefix(2))
        let lines = Self.commandLines(lab, guests: guests)
        Self.expectLiveCommandLine(lines, lab, guests: guests, log: log)
    }
}

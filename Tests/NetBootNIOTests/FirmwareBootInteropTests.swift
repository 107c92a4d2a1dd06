import Foundation
import Testing
import TestSupport

/// Real PXE firmware under qemu (TCG) on the namespace LAN: SeaBIOS with the iPXE e1000 ROM,
/// OVMF with the iPXE EFI driver (e1000), and OVMF's own PXE stack on virtio-net. Each must get
/// its lease (or, in proxy mode, its address from the site and the boot file from us) and fetch
/// its boot file from our TFTP server, as our log proves. The three boot at once.
@Suite(.serialized) struct FirmwareBootInteropTests {
    static let pxelinux = "/usr/lib/PXELINUX/pxelinux.0"
    static let grubNet = "/usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi"
    static let ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
    static let ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"

    struct Guest {
        let name: String
        let mac: String
        let bootFile: String
        let arguments: [String]
    }

    static func guests(_ lab: PXELab) -> [Guest] {
        let common = ["-accel", "tcg", "-m", "256", "-nographic", "-no-reboot", "-monitor", "none"]
        func nic(_ tap: String) -> [String] { ["-netdev", "tap,id=n0,ifname=\(tap),script=no,downscript=no"] }
        func uefi(_ name: String) -> [String] {
            let vars = lab.work + "/\(name)-vars.fd"
            try? FileManager.default.removeItem(atPath: vars)
            try! FileManager.default.copyItem(atPath: ovmfVars, toPath: vars)
            return ["-machine", "q35", "-drive", "if=pflash,format=raw,readonly=on,file=\(ovmfCode)", "-drive", "if=pflash,format=raw,file=\(vars)"]
        }
        return [
            Guest(name: "bios-ipxe", mac: "52:54:00:77:00:10", bootFile: "pxelinux.0",
                  arguments: common + ["-serial", "file:\(lab.work)/bios-ipxe.serial"] + nic("lstap0")
                    + ["-device", "e1000,netdev=n0,mac=52:54:00:77:00:10,bootindex=1", "-boot", "n"]),
            Guest(name: "uefi-ipxe", mac: "52:54:00:77:00:20", bootFile: "bootx64.efi",
                  arguments: common + ["-serial", "file:\(lab.work)/uefi-ipxe.serial"] + uefi("uefi-ipxe") + nic("lstap1")
                    + ["-device", "e1000,netdev=n0,mac=52:54:00:77:00:20,bootindex=1"]),
            Guest(name: "uefi-native", mac: "52:54:00:77:00:22", bootFile: "bootx64.efi",
                  arguments: common + ["-serial", "file:\(lab.work)/uefi-native.serial"] + uefi("uefi-native") + nic("lstap2")
                    + ["-device", "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:22,bootindex=1,romfile="]),
        ]
    }

    static func prepared(tag: String, tools: [String]) -> PXELab? {
        for file in [pxelinux, grubNet, ovmfCode, ovmfVars, "/usr/lib/ipxe/qemu/efi-e1000.rom"] where !FileManager.default.fileExists(atPath: file) {
            print("skipped: \(file) is missing (packages pxelinux, grub-efi-amd64-bin, ovmf, ipxe-qemu)")
            return nil
        }
        guard let lab = PXELab.make(clients: 1, tag: tag, tools: ["qemu-system-x86_64"] + tools) else { return nil }
        for tap in ["lstap0", "lstap1", "lstap2"] {
            _ = lab.lan.shell("sw", "ip tuntap add dev \(tap) mode tap && ip link set \(tap) master br0 up")
        }
        try? FileManager.default.copyItem(atPath: pxelinux, toPath: lab.tftpRoot + "/pxelinux.0")
        try? FileManager.default.copyItem(atPath: grubNet, toPath: lab.tftpRoot + "/bootx64.efi")
        return lab
    }

    /// Boots `guests` at once until `result` has something for each (or the time is up); the
    /// guests are stopped on return. `result` is asked every 250 ms for the guests not done.
    static func run(_ lab: PXELab, guests: [Guest], seconds: Double = 240, result: (Guest) -> String?) -> [String: String] {
        let processes = guests.map { lab.lan.start("sw", ["qemu-system-x86_64"] + $0.arguments, log: lab.work + "/\($0.name).qemu") }
        defer {
            for process in processes where process.isRunning { process.terminate() }
            for process in processes { lab.lan.wait(process, seconds: 10) }
        }
        var done: [String: String] = [:]
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && done.count < guests.count {
            for guest in guests where done[guest.name] == nil { done[guest.name] = result(guest) }
            usleep(250_000)
        }
        return done
    }

    /// Boots every guest; true for those whose lines all appeared in the server's `log`.
    static func boot(_ lab: PXELab, log: String, expectIn text: (Guest) -> [String], seconds: Double = 240) -> [String: Bool] {
        run(lab, guests: guests(lab), seconds: seconds) { guest in
            let current = lab.read(log)
            return text(guest).allSatisfy({ current.contains($0) }) ? "done" : nil
        }.mapValues { _ in true }
    }

    /// The TFTP lines for `file` sent to the address the guest got in `log`.
    static func sentBootFile(_ guest: Guest, log: String) -> Bool {
        let lines = log.split(separator: "\n")
        guard let ack = lines.last(where: { $0.contains("from \(guest.mac)") && $0.contains("DHCPACK") }),
              let address = ack.split(separator: " ").drop(while: { $0 != "DHCPACK" }).dropFirst().first,
              address.split(separator: ".").count == 4 else { return false }
        return lines.contains { $0.contains("tftp: \(address):") && $0.contains("sent \(guest.bootFile) (") }
    }

    @Test(.timeLimit(.minutes(5))) func biosAndUEFIFirmwareBootFromOurDHCPAndTFTP() throws {
        guard let lab = Self.prepared(tag: "qf", tools: []) else { return }
        defer { lab.down() }
        let log = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "start-new-dhcpd", "--tftp-root", lab.tftpRoot,
                                                "--range", "\(lab.net).100-\(lab.net).199"]))
        let done = Self.boot(lab, log: log) { guest in ["from \(guest.mac)", "sent \(guest.bootFile) ("] }
        let text = lab.read(log)
        for guest in Self.guests(lab) {
            #expect(done[guest.name] == true && Self.sentBootFile(guest, log: text), "\(guest.name) did not fetch \(guest.bootFile):\n\(text)")
        }
        #expect(text.contains("52:54:00:77:00:10 (PXEClient:Arch:00000, BIOS, iPXE)"), "\(text)")
        #expect(text.contains("52:54:00:77:00:22 (PXEClient:Arch:00007, x64 UEFI)"))
        // OVMF asks for the size first, refuses our OACK with ERROR 8, then downloads (docs §10.3).
        #expect(text.contains("bootx64.efi size query answered"))
    }

    @Test(.timeLimit(.minutes(5))) func proxyModeNextToASiteServer() throws {
        guard let lab = Self.prepared(tag: "qp", tools: ["dnsmasq"]) else { return }
        defer { lab.down() }
        lab.startDnsmasq("c1", name: "site", config: ["dhcp-range=\(lab.net).50,\(lab.net).99,255.255.255.0,10m",
                                                      "dhcp-option=option:router,\(lab.lan.address("c1"))"])
        let log = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "use-existing-dhcpd", "--tftp-root", lab.tftpRoot]))
        // The 4011 ACK names the boot file; the TFTP transfer goes to an address the site gave.
        let done = Self.boot(lab, log: log) { guest in
            ["from \(guest.mac)", "-> DHCPACK file \(guest.bootFile)", "sent \(guest.bootFile) ("]
        }
        let text = lab.read(log)
        let site = lab.read(lab.work + "/site.log")
        for guest in Self.guests(lab) {
            #expect(done[guest.name] == true, "\(guest.name) did not boot through the proxy:\n\(text)")
            #expect(site.contains("DHCPACK(lsnet0) \(lab.net).") && site.contains(guest.mac), "\(guest.name) has no site lease:\n\(site)")
        }
        #expect(!text.contains("DHCPOFFER \(lab.net)") && !text.contains("DHCPACK \(lab.net)"), "a proxy never hands out addresses")
        #expect(text.contains(":4011") || text.contains(":68"), "4011 ACKs go back to the request's source port")
    }

    /// iPXE waits 12.5 s for IPv6 autoconfiguration before it loads the boot file; with
    /// `--ipv6-ra` the wait ends at our advertisement (docs §9).
    @Test(.timeLimit(.minutes(4))) func routerAdvertisementsEndIPXEsIPv6Wait() throws {
        guard let lab = Self.prepared(tag: "qr", tools: []) else { return }
        defer { lab.down() }
        _ = lab.lan.shell("srv", "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.lsnet0.accept_dad=0 net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lsnet0.disable_ipv6=0")
        let log = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "start-new-dhcpd", "--tftp-root", lab.tftpRoot,
                                                "--range", "\(lab.net).100-\(lab.net).199", "--ipv6-ra"]))
        #expect(lab.read(log).contains("ra: router advertisements"), "\(lab.read(log))")
        let bios = Self.guests(lab)[0]
        let process = lab.lan.start("sw", ["qemu-system-x86_64"] + bios.arguments, log: lab.work + "/ra.qemu")
        defer { process.terminate(); lab.lan.wait(process, seconds: 10) }
        #expect(lab.waitFor(log, contains: "sent pxelinux.0 (", seconds: 120), "\(lab.read(log))")
        func time(of needle: String) -> Double? {
            guard let line = lab.read(log).split(separator: "\n").first(where: { $0.contains(needle) }) else { return nil }
            let clock = line.prefix(12).split(separator: ":").compactMap { Double($0) }
            return clock.count == 3 ? clock[0] * 3600 + clock[1] * 60 + clock[2] : nil
        }
        let ack = try #require(time(of: "DHCPACK"), "\(lab.read(log))"), nbp = try #require(time(of: "sent pxelinux.0 ("))
        #expect(nbp - ack < 8, "the boot file came \(nbp - ack) s after the ACK: iPXE still waited for IPv6")
        print("router advertisement: boot file \(String(format: "%.2f", nbp - ack)) s after the DHCPACK (12.5 s IPv6 wait without)")
    }
}

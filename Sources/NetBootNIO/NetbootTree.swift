import Foundation
import NetBoot

/// The TFTP root the netboot clients read (`../shared/docs/dhcp-tftp-pxe.md` §13): PXELINUX and
/// its modules from Debian's packages, a GRUB EFI image whose prefix names this server (in proxy
/// mode GRUB would otherwise ask the site's DHCP server for every file), the live medium's
/// kernel, initrd and squashfs as links (served through the TFTP allow-list), and the menus.
public struct NetbootTree {
    public struct Sources: Sendable {
        public var pxelinux = "/usr/lib/PXELINUX"
        public var syslinuxModules = "/usr/lib/syslinux/modules/bios"
        public var grubEFI = "/usr/lib/grub/x86_64-efi"
        public var grubMkimage = "grub-mkimage"
        public init() {}
    }

    public enum Failure: Error, CustomStringConvertible {
        case liveMedia(String)
        case tool(String)

        public var description: String {
            switch self {
            case .liveMedia(let text): return "live media: \(text)"
            case .tool(let text): return text
            }
        }
    }

    /// DRBL's module list for the netboot GRUB image (modules missing from the tree are dropped).
    static let grubModules = ["normal", "tftp", "http", "efinet", "chain", "echo", "net", "gzio", "xzio", "linux", "linuxefi",
                              "efi_gop", "efi_uga", "png", "gfxterm", "gfxterm_background", "gfxterm_menu", "serial",
                              "part_gpt", "part_msdos", "boot", "multiboot", "progress", "search", "configfile", "test",
                              "sleep", "tr", "reboot", "halt", "fat", "ext2", "ntfs", "terminal"]

    public let root: String
    public let sources: Sources

    public init(root: String, sources: Sources = Sources()) {
        self.root = root
        self.sources = sources
    }

    /// Builds the tree; returns warnings for what the operator should know (a missing package
    /// means one kind of client cannot boot). `menus.live.liveDefaultLine` is taken from the
    /// medium when not set.
    @discardableResult
    public func assemble(menus: NetbootMenus, liveMedia: String) throws -> [String] {
        var menus = menus
        var warnings: [String] = []
        let fm = FileManager.default
        for dir in ["", "/pxelinux.cfg", "/bios", "/grub"] { try fm.createDirectory(atPath: root + dir, withIntermediateDirectories: true) }

        // Live medium (Clonezilla live layout: live/vmlinuz, live/initrd.img, live/filesystem.squashfs).
        let live = liveMedia + "/live"
        func pick(_ prefix: String) -> String? {
            let names = (try? fm.contentsOfDirectory(atPath: live)) ?? []
            return names.sorted().first { $0 == prefix } ?? names.sorted().first { $0.hasPrefix(prefix) }
        }
        var missing: [String] = []
        for (link, prefix) in [(LiveBootEntry.kernel, "vmlinuz"), (LiveBootEntry.initrd, "initrd.img"), (LiveBootEntry.squashfs, "filesystem.squashfs")] {
            guard let name = pick(prefix) else { missing.append("live/\(prefix)"); continue }
            try? fm.removeItem(atPath: root + "/" + link)
            try fm.createSymbolicLink(atPath: root + "/" + link, withDestinationPath: live + "/" + name)
        }
        guard missing.isEmpty else { throw Failure.liveMedia("\(liveMedia) has no \(missing.joined(separator: ", "))") }
        if menus.live.liveDefaultLine == nil, let grub = try? String(contentsOfFile: liveMedia + "/boot/grub/grub.cfg", encoding: .utf8) {
            menus.live.liveDefaultLine = LiveBootEntry.liveDefaultLine(fromGrubConfig: grub)
        }

        // BIOS: PXELINUX next to its ldlinux.c32; menu modules under bios/ (the config's PATH).
        if fm.fileExists(atPath: sources.pxelinux + "/pxelinux.0"), fm.fileExists(atPath: sources.syslinuxModules + "/ldlinux.c32") {
            try copy(sources.pxelinux + "/pxelinux.0", to: root + "/pxelinux.0")
            try copy(sources.pxelinux + "/lpxelinux.0", to: root + "/lpxelinux.0", optional: true)
            try copy(sources.syslinuxModules + "/ldlinux.c32", to: root + "/ldlinux.c32")
            for module in ["menu.c32", "vesamenu.c32", "libutil.c32", "libcom32.c32", "chain.c32"] {
                try copy(sources.syslinuxModules + "/" + module, to: root + "/bios/" + module, optional: module == "vesamenu.c32")
            }
        } else {
            warnings.append("pxelinux / syslinux-common not installed: BIOS clients will not boot")
        }

        // UEFI: GRUB with this server in its prefix.
        if fm.fileExists(atPath: sources.grubEFI + "/linux.mod") {
            let modules = Self.grubModules.filter { fm.fileExists(atPath: sources.grubEFI + "/\($0).mod") }
            let run = Self.run(sources.grubMkimage, ["-d", sources.grubEFI, "-C", "xz", "-O", "x86_64-efi", "-o", root + "/bootx64.efi",
                                                     "--prefix", "(tftp,\(menus.live.server))/grub/"] + modules)
            guard run.status == 0 else { throw Failure.tool("grub-mkimage failed (\(run.status)): \(run.output)") }
        } else {
            warnings.append("grub-efi-amd64-bin not installed: UEFI clients will not boot")
        }

        try write(try menus.pxelinux(), to: "pxelinux.cfg/default")
        try write(try menus.grub(), to: "grub/grub.cfg")
        try write(try menus.ipxe(), to: "boot.ipxe")
        try? fm.removeItem(atPath: root + "/grub.cfg")
        try fm.createSymbolicLink(atPath: root + "/grub.cfg", withDestinationPath: "grub/grub.cfg")   // UEFI HTTP boot
        return warnings
    }

    /// After a successful restore: this client boots its own disk next time (the four DRBL names).
    public func writeLocalBoot(menus: NetbootMenus, mac: [UInt8], address: IPv4Address) throws {
        let names = NetbootMenus.perClientFiles(mac: mac, address: address)
        let pxelinux = try menus.pxelinux(default: .local), grub = try menus.grub(default: .local)
        for name in names.pxelinux { try write(pxelinux, to: name) }
        for name in names.grub { try write(grub, to: name) }
    }

    /// `stop`: every per-client file goes (they only make sense while this server runs).
    public func removePerClientFiles() -> Int {
        let fm = FileManager.default
        var removed = 0
        for (dir, matches) in [("pxelinux.cfg", { (name: String) in name.hasPrefix("01-") || (name.count <= 8 && name != "default" && name.allSatisfy(\.isHexDigit)) }),
                               ("grub", { (name: String) in name.hasPrefix("grub.cfg-drbl-") })] {
            for name in (try? fm.contentsOfDirectory(atPath: root + "/" + dir)) ?? [] where matches(name) {
                if (try? fm.removeItem(atPath: root + "/\(dir)/\(name)")) != nil { removed += 1 }
            }
        }
        return removed
    }

    private func write(_ text: String, to relative: String) throws {
        let path = root + "/" + relative
        try (text.hasSuffix("\n") ? text : text + "\n").write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
        if rename(path + ".tmp", path) != 0 { throw Failure.tool("cannot write \(path)") }
    }

    private func copy(_ source: String, to destination: String, optional: Bool = false) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: source) else {
            if optional { return }
            throw Failure.tool("\(source) is missing")
        }
        try? fm.removeItem(atPath: destination)
        try fm.copyItem(atPath: source, toPath: destination)
    }

    static func run(_ tool: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (127, "\(tool): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

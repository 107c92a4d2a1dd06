@_exported import NetworkAddress

/// The Clonezilla-live entry's parameters exactly as DRBL and `ocs-live-feed-img` compose them
/// (`../shared/docs/dhcp-tftp-pxe.md` §14.2, contract §4.6): the live medium's `live-default`
/// line, filtered; `noeject`, `fetch=`, `ocs_server="<ip>"`; then the feeder's "set key" steps.
public struct LiveBootEntry: Sendable {
    public enum Purpose: String, Sendable {
        /// Clients run `ocs-live-get-img <server>` after boot (the Lite Server's job).
        case massiveDeployment = "massive-deployment"
        /// Clients get a Clonezilla live menu.
        case interactiveClient = "interactive-client"
    }

    /// DRBL's default when the live medium has no GRUB `live-default` entry.
    public static let defaultLine = "boot=live union=overlay noswap noeject nolocales vga=788"
    public static let kernel = "Clonezilla-live-vmlinuz"
    public static let initrd = "Clonezilla-live-initrd.img"
    public static let squashfs = "Clonezilla-live-filesystem.squashfs"

    public var server: IPv4Address
    public var purpose: Purpose = .massiveDeployment
    /// The `linux` line of the medium's `--id live-default` GRUB entry (with `$linux_cmd` and
    /// the kernel path, as read from `boot/grub/grub.cfg`), if there is one.
    public var liveDefaultLine: String?
    /// XKBLAYOUT of the server (`NONE` when unknown, as Clonezilla does).
    public var keyboardLayout = "NONE"
    /// The server's `ocs_lang`, for interactive clients (massive deployment forces en_US.UTF-8).
    public var language = "en_US.UTF-8"
    /// `--extra-boot-param` and `conf/`: set last, replacing a parameter of the same key.
    public var extra = BootParameters()

    public init(server: IPv4Address) { self.server = server }

    public var fetchURL: String { "http://\(server)/\(Self.squashfs)" }

    /// The parameters after the kernel (and, for PXELINUX, after `initrd=`).
    public func parameters() throws(BootParameters.Failure) -> BootParameters {
        var line = BootParameters()
        if let live = liveDefaultLine {
            let words = try BootParameters(parsing: live).parameters.dropFirst(2)   // `$linux_cmd /live/vmlinuz`
            // DRBL re-joins the words through `xargs echo`: the medium's quotes are gone.
            line = BootParameters(words.filter { !Self.dropped($0) }.map { BootParameters.Parameter(key: $0.key, value: $0.value) })
        } else {
            line = try BootParameters(parsing: Self.defaultLine)
        }
        if !line.contains("noeject") { line.set("noeject", nil) }
        line.set("fetch", "tftp://\(server)/\(Self.squashfs)")
        line.set("ocs_server", server.description, quoted: true)
        line.set("keyboard-layouts", keyboardLayout)
        switch purpose {
        case .massiveDeployment:
            line.set("locales", "en_US.UTF-8")
            line.set("ocs_live_run", "ocs-live-get-img \(server)", quoted: true)
        case .interactiveClient:
            line.set("vga", "788")
            line.set("locales", language)
        }
        line.set("hostname", "lite-client")
        line.set("ethdevice-link-timeout", "7")
        line.append(contentsOf: extra)
        line.set("fetch", fetchURL)
        return try line.validated()
    }

    /// DRBL's `filter_cl_gp_boot_param`: what a netbooted client must not inherit from the medium.
    static func dropped(_ parameter: BootParameters.Parameter) -> Bool {
        let key = parameter.key
        switch key {
        case "BOOT_IMAGE", "initrd", "vga", "ip", "vmwgfx.enable_fbdev", "drbl_live_noconfx": return true
        case "keyboard-layouts", "locales": return !(parameter.value ?? "").isEmpty
        default:
            return key.hasSuffix(".blacklist") || key.hasPrefix("ocs_prerun") || key.hasPrefix("ocs_daemon") || key.hasPrefix("toram")
        }
    }
}

extension LiveBootEntry {
    /// The `linux` line of the `--id live-default` entry of a live medium's `boot/grub/grub.cfg`
    /// (Clonezilla live's default boot), which the netboot entry starts from.
    public static func liveDefaultLine(fromGrubConfig text: String) -> String? {
        var inEntry = false
        for raw in text.split(separator: "\n") {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("menuentry ") {
                inEntry = line.contains("--id live-default") || line.contains("--id=live-default")
                continue
            }
            if inEntry, line.hasPrefix("$linux_cmd ") || line.hasPrefix("linux ") || line.hasPrefix("linuxefi ") { return String(line) }
            if line.hasPrefix("}") { inEntry = false }
        }
        return nil
    }
}

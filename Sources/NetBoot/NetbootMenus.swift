import NetworkAddress

/// The menus every netbooting client reads, rendered from the templates: PXELINUX for BIOS,
/// GRUB for UEFI, an iPXE script for clients already running iPXE, and the per-client copies
/// that make a restored machine boot its own disk next time (DRBL's names, §12.3).
public struct NetbootMenus: Sendable {
    public enum Entry: Sendable { case live, local }

    public struct Templates: Sendable {
        public var pxelinux: Template
        public var grub: Template
        public var ipxe: Template

        public static let fileNames = (pxelinux: "pxelinux-default.cfg", grub: "grub.cfg", ipxe: "boot.ipxe")

        public init(pxelinux: Template, grub: Template, ipxe: Template) {
            self.pxelinux = pxelinux
            self.grub = grub
            self.ipxe = ipxe
        }
    }

    public var live: LiveBootEntry
    public var templates: Templates
    /// Serial console for the boot loaders (port, baud), e.g. (0, 115200) for labs with serial consoles.
    public var serial: (port: Int, baud: Int)?
    public var timeoutSeconds = 7
    /// The image being restored, for the menu label (massive deployment).
    public var imageName: String?

    public init(live: LiveBootEntry, templates: Templates) {
        self.live = live
        self.templates = templates
    }

    public var liveLabel: String {
        switch live.purpose {
        case .massiveDeployment: return imageName.map { "Clonezilla live lite client: restore \($0)" } ?? "Clonezilla live lite client"
        case .interactiveClient: return "Clonezilla Live (Ramdisk)"
        }
    }

    public func pxelinux(default entry: Entry = .live) throws -> String {
        let parameters = try live.parameters()
        return try templates.pxelinux.render([
            "SERIAL": serial.map { "SERIAL \($0.port) \($0.baud)" } ?? "",
            "TIMEOUT": String(timeoutSeconds * 10),
            "LIVE_LABEL": liveLabel,
            "APPEND": parameters.pxelinux,
            "LIVE_DEFAULT": entry == .live ? "MENU DEFAULT" : "# MENU DEFAULT",
            "LOCAL_DEFAULT": entry == .local ? "MENU DEFAULT" : "# MENU DEFAULT",
        ])
    }

    public func grub(default entry: Entry = .live) throws -> String {
        let parameters = try live.parameters()
        let serialLines = serial.map {
            "serial --unit=\($0.port) --speed=\($0.baud)\nterminal_input --append serial\nterminal_output --append serial"
        }
        return try templates.grub.render([
            "SERIAL": serialLines ?? "",
            "DEFAULT_ID": entry == .live ? "clonezilla-live-client" : "local-disk",
            "TIMEOUT": String(timeoutSeconds),
            "SERVER": live.server.description,
            "LIVE_LABEL": liveLabel,
            "LINUX_ARGS": parameters.grub,
        ])
    }

    public func ipxe() throws -> String {
        try templates.ipxe.render(["SERVER": live.server.description, "APPEND": try live.parameters().pxelinux])
    }

    /// The per-client files, relative to the TFTP root: PXELINUX's `01-<mac>` and `<HEX IP>`
    /// names, and DRBL's GRUB names with the MAC in colons and the dotted address.
    public static func perClientFiles(mac: [UInt8], address: IPv4Address) -> (pxelinux: [String], grub: [String]) {
        let hex = mac.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        let ipHex = address.bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined()
        return (["pxelinux.cfg/01-" + hex.joined(separator: "-"), "pxelinux.cfg/" + ipHex],
                ["grub/grub.cfg-drbl-" + hex.joined(separator: ":"), "grub/grub.cfg-drbl-\(address)"])
    }
}

extension NetbootMenus.Entry: Equatable {}

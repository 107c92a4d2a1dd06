/// What a PXE client is, from option 93 (IANA processor architecture types: 7 and 9 are both
/// x64 UEFI in practice) and option 60 (`HTTPClient` = UEFI HTTP boot).
public enum PXEFirmware: Equatable, Sendable, CustomStringConvertible {
    case bios, uefiIA32, uefiX64, uefiARM64
    case httpIA32, httpX64, httpARM64
    case unsupported(UInt16)

    public init(request: DHCPMessage) {
        let arch = request.options.clientArchitectures.first ?? 0
        let http = request.options.vendorClass?.hasPrefix("HTTPClient") == true
        switch arch {
        case 0: self = .bios
        case 6: self = http ? .httpIA32 : .uefiIA32
        case 7, 9: self = http ? .httpX64 : .uefiX64
        case 11: self = http ? .httpARM64 : .uefiARM64
        case 15: self = .httpIA32
        case 16: self = .httpX64
        case 19: self = .httpARM64
        default: self = .unsupported(arch)
        }
    }

    public var isHTTP: Bool { [.httpIA32, .httpX64, .httpARM64].contains(self) }

    public var description: String {
        switch self {
        case .bios: return "BIOS"
        case .uefiIA32: return "IA32 UEFI"
        case .uefiX64: return "x64 UEFI"
        case .uefiARM64: return "ARM64 UEFI"
        case .httpIA32: return "IA32 UEFI HTTP"
        case .httpX64: return "x64 UEFI HTTP"
        case .httpARM64: return "ARM64 UEFI HTTP"
        case .unsupported(let arch): return "architecture \(arch)"
        }
    }
}

/// The boot files of the netboot tree, per firmware; nil = not served (the client gets no boot
/// file rather than one it cannot run).
public struct PXEBootFiles: Equatable, Sendable {
    public var bios: String? = "pxelinux.0"
    public var uefiIA32: String? = nil
    public var uefiX64: String? = "bootx64.efi"
    public var uefiARM64: String? = nil
    /// Full `http://` URLs for UEFI HTTP boot.
    public var httpIA32: String? = nil
    public var httpX64: String? = nil
    public var httpARM64: String? = nil
    /// An iPXE script (URL or TFTP name) for clients that already run iPXE (option 77 `iPXE`):
    /// they get it instead of the firmware's boot file, so iPXE is not loaded twice.
    public var iPXEScript: String? = nil

    public init() {}

    /// The boot file for `request`'s firmware, or the iPXE script for a client running iPXE.
    public func file(for request: DHCPMessage) -> String? {
        let firmware = PXEFirmware(request: request)
        if let iPXEScript, request.options.userClass == "iPXE", !firmware.isHTTP { return iPXEScript }
        return file(for: firmware)
    }

    public func file(for firmware: PXEFirmware) -> String? {
        switch firmware {
        case .bios: return bios
        case .uefiIA32: return uefiIA32
        case .uefiX64: return uefiX64
        case .uefiARM64: return uefiARM64
        case .httpIA32: return httpIA32
        case .httpX64: return httpX64
        case .httpARM64: return httpARM64
        case .unsupported: return nil
        }
    }
}

/// Boot information in the replies of the address-serving mode (start-new-dhcpd).
public struct PXEBootPolicy: Sendable {
    public var server: IPv4Address
    public var files: PXEBootFiles

    public init(server: IPv4Address, files: PXEBootFiles = PXEBootFiles()) {
        self.server = server
        self.files = files
    }

    public static func isPXE(_ request: DHCPMessage) -> Bool {
        guard let vendor = request.options.vendorClass else { return false }
        return vendor.hasPrefix("PXEClient") || vendor.hasPrefix("HTTPClient")
    }

    /// Adds `siaddr` + `file` (and 66/67 when the client lists them in 55), echoes 97 and 82,
    /// and tells iPXE it is a PXE reply (60 `PXEClient`, saves its 4011 wait) or an HTTP
    /// client `HTTPClient`. Clients that are not PXE or whose firmware is not served get none.
    public func addBootInfo(to reply: inout DHCPMessage, for request: DHCPMessage) {
        if let machine = request.options[.clientMachineID] { reply.options[.clientMachineID] = machine }
        if let relay = request.options[.relayAgentInformation] { reply.options[.relayAgentInformation] = relay }
        guard Self.isPXE(request) else { return }
        let firmware = PXEFirmware(request: request)
        guard let file = files.file(for: request) else { return }
        reply.siaddr = server
        reply.bootFileName = file
        let asked = request.options.parameterRequestList
        if asked.contains(DHCPOptionCode.tftpServerName.rawValue) { reply.options.set(.tftpServerName, text: server.description) }
        if asked.contains(DHCPOptionCode.bootFileName.rawValue) { reply.options.set(.bootFileName, text: file) }
        if firmware.isHTTP {
            reply.options.set(.vendorClass, text: "HTTPClient")
        } else if request.options.userClass == "iPXE" {
            reply.options.set(.vendorClass, text: "PXEClient")
        }
    }
}

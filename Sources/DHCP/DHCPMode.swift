/// The `-dm` modes of `ocs-live-feed-img`, by their Clonezilla names.
public enum DHCPMode: String, CaseIterable, Sendable {
    /// A full DHCP server for the interface's subnet.
    case startNew = "start-new-dhcpd"
    /// proxyDHCP next to the site's server: boot information only, never an address.
    case useExisting = "use-existing-dhcpd"
    /// Probe the link, then one of the two above.
    case autoDetect = "auto-detect"
    /// No DHCP and no TFTP: clients boot Clonezilla live from their own media.
    case none = "no-dhcpd"
}

/// What a probe of the link found (`../shared/docs/dhcp-tftp-pxe.md` §8) and the mode that
/// follows from it, with the reason in words for the operator.
public struct DHCPDetection: Equatable, Sendable {
    public enum Finding: Equatable, Sendable, CustomStringConvertible {
        case addressServer(server: IPv4Address, offered: IPv4Address, subnetMask: IPv4Address?, router: IPv4Address?, bootFile: String?)
        case proxy(server: IPv4Address, bootServer: IPv4Address?, hasMenu: Bool)

        public var server: IPv4Address {
            switch self {
            case .addressServer(let server, _, _, _, _), .proxy(let server, _, _): return server
            }
        }

        public var description: String {
            switch self {
            case .addressServer(let server, let offered, let mask, let router, let file):
                var text = "DHCP server \(server) offered \(offered)"
                if let mask { text += " mask \(mask)" }
                if let router { text += " router \(router)" }
                if let file { text += " boot file \"\(file)\"" }
                return text
            case .proxy(let server, let bootServer, let menu):
                return "proxyDHCP \(server)" + (bootServer.map { " boot server \($0)" } ?? "") + (menu ? " with a PXE menu (option 43)" : "")
            }
        }
    }

    public private(set) var findings: [Finding] = []
    public let xid: UInt32
    public let hardwareAddress: [UInt8]

    public init(xid: UInt32, hardwareAddress: [UInt8]) {
        self.xid = xid
        self.hardwareAddress = hardwareAddress
    }

    /// The probe: a PXE BIOS client's DISCOVER with the BROADCAST flag set, so that proxies answer
    /// too and every reply reaches a socket without an address.
    public var probe: DHCPMessage {
        var message = DHCPMessage(op: .request, xid: xid, hardwareAddress: hardwareAddress)
        message.flags = DHCPMessage.broadcastFlag
        message.options[.messageType] = [DHCPMessageType.discover.rawValue]
        message.options[.parameterRequestList] = [1, 3, 6, 15, 28, 43, 54, 60, 66, 67, 97]
        message.options[.maximumMessageSize] = UInt16(1472).bigEndianBytes
        message.options.set(.vendorClass, text: "PXEClient:Arch:00000:UNDI:002001")
        message.options[.clientArchitecture] = [0, 0]
        message.options[.clientNetworkInterface] = [1, 2, 1]
        message.options[.clientMachineID] = [0] + hardwareAddress + [UInt8](repeating: 0, count: 16 - min(16, hardwareAddress.count))
        return message
    }

    /// Records a reply to the probe; anything else (other transactions, requests, NAKs,
    /// a second answer of the same server) is ignored. Returns the new finding, if any.
    @discardableResult
    public mutating func record(_ reply: DHCPMessage) -> Finding? {
        guard reply.op == .reply, reply.xid == xid, reply.messageType == .offer,
              reply.hardwareAddress == hardwareAddress, let server = reply.options.serverIdentifier,
              !findings.contains(where: { $0.server == server }) else { return nil }
        let file = reply.bootFileName.isEmpty ? nil : reply.bootFileName
        let finding: Finding
        if reply.yiaddr == .any {
            finding = .proxy(server: server, bootServer: reply.siaddr == .any ? nil : reply.siaddr, hasMenu: reply.options[.vendorSpecific] != nil)
        } else {
            finding = .addressServer(server: server, offered: reply.yiaddr, subnetMask: reply.options.address(.subnetMask),
                                     router: reply.options.address(.router), bootFile: file)
        }
        findings.append(finding)
        return finding
    }

    public var addressServers: [Finding] { findings.filter { if case .addressServer = $0 { return true } else { return false } } }
    public var proxies: [Finding] { findings.filter { if case .proxy = $0 { return true } else { return false } } }

    /// use-existing-dhcpd when some server hands out addresses (we add boot information next to
    /// it); start-new-dhcpd on a silent link. Another proxy is a warning either way: two boot
    /// servers would answer the same clients.
    public var decision: (mode: DHCPMode, reason: String, warnings: [String]) {
        var warnings = proxies.map { "another PXE boot server answers on this link: \($0); clients may boot from it instead" }
        if addressServers.count > 1 {
            warnings.append("\(addressServers.count) DHCP servers hand out addresses on this link")
        }
        if let first = addressServers.first {
            return (.useExisting, "found \(first); adding boot information next to it (proxyDHCP)", warnings)
        }
        return (.startNew, "no DHCP server answered; serving addresses ourselves", warnings)
    }
}

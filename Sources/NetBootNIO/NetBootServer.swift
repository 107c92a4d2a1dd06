import DHCP
import NIOCore
import NIOPosix
import NetworkNIO

/// The netboot services of one interface for a `-dm` mode: DHCP (full or proxy) and TFTP, or
/// nothing for no-dhcpd. auto-detect probes the link first and says what it chose and why.
public final class NetBootServer: @unchecked Sendable {
    public struct Settings: Sendable {
        public var mode: DHCPMode
        public var interface: NetworkInterface
        public var tftpRoot: String
        public var extraRoots: [String] = []
        public var files = PXEBootFiles()
        /// First and last address handed out; default: every host address of the subnet.
        public var range: (first: IPv4Address, last: IPv4Address)?
        public var router: IPv4Address?
        public var dnsServers: [IPv4Address] = []
        public var domainName: String?
        public var leaseTime: UInt32 = 3600
        /// Where leases persist (`dhcp-leases`); nil keeps them in memory only.
        public var stateDirectory: String?
        public var detectSeconds = 5.0
        public var dhcpPorts = DHCPService.Ports()
        public var tftpPort: UInt16 = 69
        public var maximumWindow = 16
        public var maximumTransfers = TFTPService.Configuration.defaultMaximumTransfers
        /// HTTP for the same tree (`fetch=http://<server>/Clonezilla-live-filesystem.squashfs`,
        /// UEFI HTTP boot); nil leaves HTTP to someone else (the feeder serves its own).
        public var httpPort: UInt16? = 80
        /// start-new-dhcpd only: router advertisements that end iPXE's 12.5 s IPv6 wait.
        public var routerAdvertisements = false
        /// Leases and file requests, for a status page.
        public var events: NetBootEvents?

        public init(mode: DHCPMode, interface: NetworkInterface, tftpRoot: String) {
            self.mode = mode
            self.interface = interface
            self.tftpRoot = tftpRoot
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case noSubnet(String)
        case emptyRange(String)

        public var description: String {
            switch self {
            case .noSubnet(let name): return "interface \(name) has no netmask: cannot serve addresses on it"
            case .emptyRange(let text): return "address range \(text) has no address to hand out"
            }
        }
    }

    public let settings: Settings
    private let group: EventLoopGroup
    private let log: ServiceLog
    public private(set) var mode: DHCPMode?
    private var dhcp: DHCPService?
    private var tftp: TFTPService?
    private var advertiser: RouterAdvertiser?
    private var http: FileHTTPServer?

    public init(settings: Settings, group: EventLoopGroup, log: @escaping ServiceLog) {
        self.settings = settings
        self.group = group
        self.log = log
    }

    /// Starts the services; returns the mode in effect (auto-detect resolved).
    @discardableResult
    public func start() throws -> DHCPMode {
        let s = settings
        var chosen = s.mode
        if chosen == .autoDetect {
            let detection = try DHCPProbe.run(on: s.interface, seconds: max(s.detectSeconds, 1), loop: group.next(),
                                              serverPort: s.dhcpPorts.server, clientPort: s.dhcpPorts.client, log: log)
            let decision = detection.decision
            for warning in decision.warnings { log("detect: warning: \(warning)") }
            log("detect: \(decision.mode.rawValue): \(decision.reason)")
            chosen = decision.mode
        }
        mode = chosen
        guard chosen != .none else {
            log("netboot: no-dhcpd: DHCP and TFTP stay off; clients boot Clonezilla live from their own media")
            return chosen
        }
        let address = s.interface.address
        do {
            let files = try ConfinedFiles(root: s.tftpRoot, extraRoots: s.extraRoots)
            var tftpConfiguration = TFTPService.Configuration(files: files, address: address, interface: s.interface.name)
            tftpConfiguration.port = s.tftpPort
            tftpConfiguration.maximumWindow = s.maximumWindow
            tftpConfiguration.maximumTransfers = s.maximumTransfers
            tftpConfiguration.events = s.events
            let tftp = TFTPService(configuration: tftpConfiguration, group: group, log: log)
            try tftp.start()
            self.tftp = tftp
            if let port = s.httpPort {
                let http = FileHTTPServer(files: files, group: group, log: log)
                try http.start(address: address, port: port)
                self.http = http
            }
            let role: DHCPService.Role = chosen == .useExisting
                ? .proxy(ProxyDHCP(server: address, files: s.files))
                : .addressServer(try addressServer())
            let dhcp = DHCPService(role: role, interface: s.interface, ports: s.dhcpPorts,
                                   leaseFile: s.stateDirectory.map { $0 + "/dhcp-leases" }, loop: group.next(), log: log, events: s.events)
            try dhcp.start()
            self.dhcp = dhcp
            if s.routerAdvertisements {
                if chosen == .startNew {
                    let advertiser = RouterAdvertiser(interface: s.interface.name, log: log)
                    do {
                        try advertiser.start()
                        self.advertiser = advertiser
                    } catch {
                        log("ra: warning: \(error); iPXE clients will wait 12.5 s for IPv6")
                    }
                } else {
                    log("ra: not sent in use-existing-dhcpd mode (it would announce this host on the site's LAN)")
                }
            }
        } catch {
            stop()
            throw error
        }
        return chosen
    }

    public func stop() {
        advertiser?.stop()
        advertiser = nil
        http?.stop()
        http = nil
        dhcp?.stop()
        tftp?.stop()
        dhcp = nil
        tftp = nil
    }

    private func addressServer() throws -> AddressServer {
        let s = settings
        guard let mask = s.interface.netmask, mask.value != 0 else { throw Failure.noSubnet(s.interface.name) }
        let network = s.interface.address.value & mask.value
        let first = s.range?.first ?? IPv4Address(network + 1)
        let last = s.range?.last ?? IPv4Address(network | ~mask.value - 1)
        guard first.value <= last.value else { throw Failure.emptyRange("\(first)-\(last)") }
        let router = s.router ?? NetworkInterface.defaultGateway(on: s.interface.name)
        var configuration = AddressServer.Configuration(server: s.interface.address, subnetMask: mask, router: router,
                                                        boot: PXEBootPolicy(server: s.interface.address, files: s.files))
        configuration.dnsServers = s.dnsServers
        configuration.domainName = s.domainName
        configuration.leaseTime = s.leaseTime
        let excluded = [s.interface.address, IPv4Address(network), IPv4Address(network | ~mask.value)] + (router.map { [$0] } ?? [])
        return AddressServer(configuration: configuration, table: LeaseTable(first: first, last: last, excluded: excluded))
    }
}

import ArgumentParser
import DHCP
import Foundation
import NIOCore
import NIOPosix
import NetBootNIO
import NetBoot
import NetworkNIO

/// The netboot side of the Lite Server on its own: DHCP / proxyDHCP and TFTP for the `-dm`
/// modes, a TFTP-only server, and the link probe that auto-detect uses.
struct OCSNetboot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocs-netboot",
        abstract: "DHCP / proxyDHCP and TFTP for network-booting a lab (the -dm modes of ocs-live-feed-img).",
        subcommands: [Serve.self, TFTPOnly.self, Detect.self, Prepare.self, LocalBoot.self, CleanClients.self])
}

/// One line on standard error with a local `HH:MM:SS.mmm` time (the DHCP side logs every
/// packet, so no formatting API on this path).
/// Runs a subcommand's work: a usage mistake goes to ArgumentParser (with the usage text), any
/// other failure is logged with the subcommand's name and ends the process with status 1.
func reportingFailures(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ValidationError {
        throw error
    } catch let exit as ExitCode {
        throw exit
    } catch {
        log("ocs-netboot \(command): \(error)")
        throw ExitCode(1)
    }
}

@Sendable func log(_ line: String) {
    var timestamp = timeval()
    gettimeofday(&timestamp, nil)
    var parts = tm()
    var seconds = timestamp.tv_sec
    localtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let millis = Int(timestamp.tv_usec / 1000)
    let stamp = "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis < 10 ? "00" : millis < 100 ? "0" : "")\(millis)"
    let text = stamp + " " + line + "\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

func parseAddress(_ text: String, _ what: String) throws -> IPv4Address {
    guard let address = IPv4Address(text) else { throw ValidationError("\(what): \"\(text)\" is not an IPv4 address") }
    return address
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer PXE clients on one interface until SIGINT/SIGTERM.",
        discussion: """
        Modes: start-new-dhcpd (hand out addresses of the interface's subnet), use-existing-dhcpd \
        (proxyDHCP next to the site's server), auto-detect (probe the link, then one of those two), \
        no-dhcpd (serve nothing). TFTP runs in the two netboot modes.
        """)

    @Option(name: .shortAndLong, help: "Interface (name or address); default: the default route's.")
    var interface: String?
    @Option(name: .shortAndLong, help: "start-new-dhcpd | use-existing-dhcpd | auto-detect | no-dhcpd")
    var mode: String = "auto-detect"
    @Option(name: .long, help: "TFTP root (the netboot tree).")
    var tftpRoot: String = "/tftpboot/nbi_img"
    @Option(name: .long, help: "Another directory symlinks from the root may lead into (the live medium); repeatable.")
    var extraRoot: [String] = []
    @Option(name: .long, help: "Addresses handed out, FIRST-LAST (default: the whole subnet).")
    var range: String?
    @Option(name: .long, help: "Router (option 3); default: the interface's default gateway, if any.")
    var router: String?
    @Option(name: .long, help: "DNS server (option 6); repeatable.")
    var dns: [String] = []
    @Option(name: .long, help: "Lease time in seconds.")
    var leaseTime: UInt32 = 3600
    @Option(name: .long, help: "State directory: leases persist in <dir>/dhcp-leases.")
    var stateDir: String?
    @Option(name: .long, help: "Boot file for BIOS clients (option 93 = 0); empty: none.")
    var biosFile = "pxelinux.0"
    @Option(name: .long, help: "Boot file for x64 UEFI clients (93 = 7 or 9).")
    var uefiFile = "bootx64.efi"
    @Option(name: .long, help: "Boot file for IA32 UEFI clients (93 = 6).")
    var ia32File = ""
    @Option(name: .long, help: "Boot file for ARM64 UEFI clients (93 = 11).")
    var arm64File = ""
    @Option(name: .long, help: "URL for x64 UEFI HTTP boot clients (93 = 16).")
    var httpUrl = ""
    @Option(name: .long, help: "iPXE script (URL or TFTP name) for clients already running iPXE (option 77).")
    var ipxeScript = ""
    @Option(name: .long, help: "auto-detect: seconds to listen for servers.")
    var detectSeconds = 5.0
    @Option(name: .long, help: "Largest TFTP windowsize granted (RFC 7440); 1 = lock-step only.")
    var maxWindow = 16
    @Option(name: .long, help: "Most TFTP transfers at once.")
    var maxTransfers = TFTPService.Configuration.defaultMaximumTransfers
    @Flag(name: .long, help: "proxyDHCP only on port 4011 (the site's DHCP server runs on this host and owns 67).")
    var only4011 = false
    @Option(name: .long, help: "HTTP port for the same tree (the menus fetch the squashfs over HTTP); 0 = no HTTP.")
    var httpPort: UInt16 = 80
    @Flag(name: .long, help: "start-new-dhcpd: send IPv6 router advertisements without prefix or router, which end iPXE's 12.5 s IPv6 wait (needs IPv6 on the interface).")
    var ipv6Ra = false
    @Option(name: .long, help: "Stop after this many seconds (tests).")
    var seconds: Double?

    func run() throws {
        guard let mode = DHCPMode(rawValue: mode) else {
            throw ValidationError("unknown mode \"\(self.mode)\"; use one of \(DHCPMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let nic: NetworkInterface
        do { nic = try NetworkInterface.resolve(interface) } catch { log("ocs-netboot serve: \(error)"); throw ExitCode(1) }
        var settings = NetBootServer.Settings(mode: mode, interface: nic, tftpRoot: tftpRoot)
        settings.extraRoots = extraRoot
        if let range {
            let parts = range.split(separator: "-").map(String.init)
            guard parts.count == 2 else { throw ValidationError("--range: expected FIRST-LAST, got \"\(range)\"") }
            settings.range = (try parseAddress(parts[0], "--range"), try parseAddress(parts[1], "--range"))
        }
        settings.router = try router.map { try parseAddress($0, "--router") }
        settings.dnsServers = try dns.map { try parseAddress($0, "--dns") }
        settings.leaseTime = leaseTime
        settings.stateDirectory = stateDir
        settings.files.bios = biosFile.isEmpty ? nil : biosFile
        settings.files.uefiX64 = uefiFile.isEmpty ? nil : uefiFile
        settings.files.uefiIA32 = ia32File.isEmpty ? nil : ia32File
        settings.files.uefiARM64 = arm64File.isEmpty ? nil : arm64File
        settings.files.httpX64 = httpUrl.isEmpty ? nil : httpUrl
        settings.files.iPXEScript = ipxeScript.isEmpty ? nil : ipxeScript
        settings.detectSeconds = detectSeconds
        settings.maximumWindow = max(1, maxWindow)
        settings.maximumTransfers = max(1, maxTransfers)
        settings.dhcpPorts.bindServerPort = !only4011
        settings.routerAdvertisements = ipv6Ra
        settings.httpPort = httpPort == 0 ? nil : httpPort
        if let stateDir { try? FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true) }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        defer { try? group.syncShutdownGracefully() }
        let server = NetBootServer(settings: settings, group: group, log: log)
        try reportingFailures("serve") {
            try server.start()
        }
        log("ocs-netboot: ready (pid \(getpid()))")
        StopSignal.wait(seconds: seconds)
        server.stop()
        log("ocs-netboot: stopped")
    }
}

struct TFTPOnly: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tftp", abstract: "A read-only TFTP server alone, until SIGINT/SIGTERM.")

    @Option(name: .long, help: "Directory served.")
    var root: String
    @Option(name: .long, help: "Another directory symlinks from the root may lead into; repeatable.")
    var extraRoot: [String] = []
    @Option(name: .shortAndLong, help: "Interface (name or address) to serve on; default: the default route's.")
    var interface: String?
    @Option(name: .long, help: "Address to listen on instead of an interface's (e.g. 127.0.0.1).")
    var address: String?
    @Option(name: .long, help: "Request port.")
    var port: UInt16 = 69
    @Option(name: .long, help: "Largest windowsize granted (RFC 7440); 1 = lock-step only.")
    var maxWindow = 16
    @Option(name: .long, help: "Most transfers at once.")
    var maxTransfers = TFTPService.Configuration.defaultMaximumTransfers
    @Option(name: .long, help: "Stop after this many seconds (tests).")
    var seconds: Double?

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        defer { try? group.syncShutdownGracefully() }
        try reportingFailures("tftp") {
            var listen: IPv4Address
            var device: String?
            if let address {
                listen = try parseAddress(address, "--address")
                device = nil
            } else {
                let nic = try NetworkInterface.resolve(interface)
                listen = nic.address
                device = nic.name
            }
            var configuration = TFTPService.Configuration(files: try ConfinedFiles(root: root, extraRoots: extraRoot), address: listen, interface: device)
            configuration.port = port
            configuration.maximumWindow = max(1, maxWindow)
            configuration.maximumTransfers = max(1, maxTransfers)
            let service = TFTPService(configuration: configuration, group: group, log: log)
            try service.start()
            log("ocs-netboot: ready (pid \(getpid()))")
            StopSignal.wait(seconds: seconds)
            service.stop()
        }
    }
}

struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe a link for DHCP servers and PXE proxies (no lease is taken); print what auto-detect would choose.")

    @Option(name: .shortAndLong, help: "Interface (name or address); default: the default route's.")
    var interface: String?
    @Option(name: .long, help: "Seconds to listen (dnsmasq answers new clients after 3 s).")
    var seconds = 5.0

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        try reportingFailures("detect") {
            let nic = try NetworkInterface.resolve(interface)
            let detection = try DHCPProbe.run(on: nic, seconds: max(seconds, 0.5), loop: group.next(), log: log)
            let decision = detection.decision
            for finding in detection.findings { print(finding) }
            if detection.findings.isEmpty { print("no DHCP server or proxy answered on \(nic.name)") }
            for warning in decision.warnings { print("warning: \(warning)") }
            print("auto-detect would choose \(decision.mode.rawValue): \(decision.reason)")
        }
    }
}

/// The options that shape the menus, shared by `prepare` and `local-boot`. Each is taken from
/// the command line, else from `--config` (conf/netboot.conf), else the built-in default.
struct MenuOptions: ParsableArguments {
    @Option(name: .long, help: "Defaults file (conf/netboot.conf).")
    var config: String?
    @Option(name: .long, help: "TFTP root to build (the netboot tree; default /tftpboot/nbi_img).")
    var tftpRoot: String?
    @Option(name: .long, help: "This server's address in the menus; default: the address of --interface.")
    var server: String?
    @Option(name: .shortAndLong, help: "Interface whose address is the server's.")
    var interface: String?
    @Option(name: .long, help: "Directory of the menu templates (default: the installed pxe-templates).")
    var templates: String?
    @Option(name: .long, help: "massive-deployment (clients run ocs-live-get-img; default) or interactive-client.")
    var purpose: String?
    @Option(name: .long, help: "Keyboard layout for the clients (XKB); default NONE.")
    var keyboard: String?
    @Option(name: .long, help: "Locale for interactive clients; default en_US.UTF-8.")
    var language: String?
    @Option(name: .long, help: "Extra kernel parameters, e.g. 'console=ttyS0,115200'; repeatable; replace same-named ones.")
    var extraBootParam: [String] = []
    @Option(name: .long, help: "Serial console for the boot menus, PORT,BAUD (e.g. 0,115200).")
    var serial: String?
    @Option(name: .long, help: "Menu timeout in seconds (default 7).")
    var timeout: Int?
    @Option(name: .long, help: "Image name shown in the menu label.")
    var image: String?

    func settings() throws -> MenuSettings {
        var settings = MenuSettings()
        if let config {
            do { settings = MenuSettings(file: try MenuSettings.load(config)) } catch { throw ValidationError(error.description) }
        }
        settings.tftpRoot = tftpRoot ?? settings.tftpRoot
        settings.templates = templates ?? settings.templates
        settings.purpose = purpose ?? settings.purpose
        settings.keyboard = keyboard ?? settings.keyboard
        settings.language = language ?? settings.language
        settings.extraBootParameters += extraBootParam
        settings.serial = serial ?? settings.serial
        settings.timeout = timeout.map(String.init) ?? settings.timeout
        settings.imageName = image
        return settings
    }

    func resolvedTFTPRoot() throws -> String { try settings().tftpRoot }

    func menus() throws -> NetbootMenus {
        let address: IPv4Address
        if let server { address = try parseAddress(server, "--server") } else { address = try NetworkInterface.resolve(interface).address }
        do { return try settings().menus(server: address) } catch let error as MenuSettings.Failure { throw ValidationError(error.description) }
    }
}

struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the netboot tree: PXELINUX and GRUB loaders, live kernel/initrd/squashfs links, menus.",
        discussion: "Serve it with `serve --tftp-root DIR --extra-root LIVE_MEDIA` (the links lead into the medium).")

    @OptionGroup var menu: MenuOptions
    @Option(name: .long, help: "Live medium (a mounted Clonezilla live ISO or its copy: live/vmlinuz, live/initrd.img, live/filesystem.squashfs); default from --config.")
    var liveMedia: String?

    func run() throws {
        try reportingFailures("prepare") {
            let menus = try menu.menus()
            guard let medium = try liveMedia ?? menu.settings().liveMedia else { throw ValidationError("--live-media (or live_media in --config) is required") }
            let root = try menu.resolvedTFTPRoot()
            let warnings = try NetbootTree(root: root).assemble(menus: menus, liveMedia: medium)
            for warning in warnings { log("ocs-netboot prepare: warning: \(warning)") }
            log("ocs-netboot prepare: \(root) ready for \(menus.live.server) (serve it with --extra-root \(medium))")
        }
    }
}

struct LocalBoot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local-boot", abstract: "Make one client boot its local disk next time (after a successful restore).")

    @OptionGroup var menu: MenuOptions
    @Option(name: .long, help: "The client's MAC address (aa:bb:cc:dd:ee:ff).")
    var mac: String
    @Option(name: .long, help: "The client's IPv4 address.")
    var address: String

    func run() throws {
        let bytes = mac.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        guard bytes.count == 6 else { throw ValidationError("--mac: six hex bytes separated by colons") }
        try reportingFailures("local-boot") {
            try NetbootTree(root: try menu.resolvedTFTPRoot()).writeLocalBoot(menus: try menu.menus(), mac: bytes, address: try parseAddress(address, "--address"))
        }
    }
}

struct CleanClients: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clean-clients", abstract: "Remove every per-client boot file (what stop does).")

    @Option(name: .long, help: "TFTP root.")
    var tftpRoot: String = "/tftpboot/nbi_img"

    func run() {
        log("ocs-netboot clean-clients: \(NetbootTree(root: tftpRoot).removePerClientFiles()) file(s) removed")
    }
}

OCSNetboot.main()

import DHCP
import Foundation
import NIOCore
import NIOPosix
import NetworkNIO

/// The DHCP side of a netboot service on one interface: a full address server
/// (start-new-dhcpd) or a proxyDHCP (use-existing-dhcpd), each a pure state machine driven
/// here. Sockets are confined to the interface; replies leave through it.
public final class DHCPService: @unchecked Sendable {
    public enum Role: Sendable {
        case addressServer(AddressServer)
        case proxy(ProxyDHCP)
    }

    public struct Ports: Sendable {
        public var server: UInt16 = 67
        public var client: UInt16 = 68
        public var proxy: UInt16 = 4011
        /// proxyDHCP on the same host as the site's DHCP server must leave 67 to it (§6.1 rule 4).
        public var bindServerPort = true
        public init() {}
    }

    /// One of the two, kept apart (not as a `Role`) so that a packet mutates the lease table
    /// in place: an enum payload taken out, changed and put back copies every lease.
    private var addressServer: AddressServer?
    private var proxy: ProxyDHCP?
    private let interface: NetworkInterface
    private let ports: Ports
    private let leaseFile: String?
    private let log: ServiceLog
    private let loop: EventLoop
    private var channels: [Channel] = []
    private var saveScheduled = false
    private let events: NetBootEvents?

    public init(role: Role, interface: NetworkInterface, ports: Ports = Ports(), leaseFile: String? = nil,
                loop: EventLoop, log: @escaping ServiceLog, events: NetBootEvents? = nil) {
        self.events = events
        switch role {
        case .addressServer(let server): addressServer = server
        case .proxy(let responder): proxy = responder
        }
        self.interface = interface
        self.ports = ports
        self.leaseFile = leaseFile
        self.loop = loop
        self.log = log
    }

    /// Binds the sockets (67, plus 4011 for a proxy) and starts answering.
    public func start() throws {
        if addressServer != nil, let leaseFile, let text = try? String(contentsOfFile: leaseFile, encoding: .utf8) {
            addressServer!.restoreLeases(text: text, now: Date().timeIntervalSince1970)
            log("dhcp: \(addressServer!.table.leases.count) lease(s) restored from \(leaseFile)")
        }
        var wanted: [UInt16] = ports.bindServerPort ? [ports.server] : []
        if proxy != nil { wanted.append(ports.proxy) }
        do {
            for port in wanted {
                // No SO_REUSEADDR: a second DHCP server on this host (dnsmasq, another
                // ocs-netboot) must make this fail loudly, not share the port silently.
                let channel = try DeviceSocket.channel(address: .any, port: port, device: interface.name,
                                                       options: .init(broadcast: true, receiveBufferBytes: DeviceSocket.Options.burstReceiveBuffer), on: loop) {
                    DatagramInbox { [unowned self] bytes, source in self.answer(bytes, from: source, port: port) }
                }.wait()
                channels.append(channel)
            }
        } catch {
            stop()
            throw error
        }
        if let server = addressServer {
            let pool = server.table.pool
            log("dhcp: serving \(IPv4Address(pool.lowerBound))-\(IPv4Address(pool.upperBound)) on \(interface.name) as \(server.configuration.server)")
        } else if let proxy {
            log("dhcp: proxyDHCP on \(interface.name) as \(proxy.server) (ports \(wanted.map(String.init).joined(separator: ", ")))")
        }
    }

    public func stop() {
        for channel in channels { try? channel.close().wait() }
        channels = []
        try? loop.submit { self.saveLeases() }.wait()
    }

    // MARK: on the loop

    private func answer(_ bytes: [UInt8], from source: SocketAddress, port: UInt16) -> [(bytes: [UInt8], to: SocketAddress)] {
        guard let request = try? DHCPMessage(parsing: bytes), request.op == .request, let type = request.messageType else { return [] }
        let client = DHCPService.describe(request)
        var reply: DHCPMessage?
        var destination = SocketAddress?.none
        if addressServer != nil {
            let revision = addressServer!.revision
            let answer = addressServer!.handle(request, now: Date().timeIntervalSince1970)
            if addressServer!.revision != revision { scheduleSave() }
            if let answer {
                reply = answer.message
                destination = address(for: answer.destination)
            }
        } else if let proxy {
            if port == ports.proxy {
                reply = proxy.ack(toBootRequest: request)
                if let sourceAddress = source.ipv4 {
                    let to = request.giaddr != .any ? request.giaddr : (request.ciaddr != .any ? request.ciaddr : sourceAddress.address)
                    destination = to.socketAddress(port: request.giaddr != .any ? ports.server : sourceAddress.port)
                }
            } else {
                reply = proxy.offer(to: request)
                destination = request.giaddr != .any ? request.giaddr.socketAddress(port: ports.server) : address(for: .broadcast)
            }
        }
        guard let reply, let destination, let replyType = reply.messageType else {
            switch type {
            case .release: log("dhcp: \(type) from \(client): \(request.ciaddr) released")
            case .decline: log("dhcp: \(type) from \(client): \(request.options.requestedAddress.map { "\($0)" } ?? "?") is in use on the LAN")
            default: log("dhcp: \(type) from \(client) on port \(port): no answer")
            }
            return []
        }
        do {
            let encoded = try reply.encoded(maximumLength: request.maximumReplyLength)
            var line = "dhcp: \(type) from \(client) -> \(replyType)"
            if reply.yiaddr != .any { line += " \(reply.yiaddr)" }
            if !reply.bootFileName.isEmpty { line += " file \(reply.bootFileName) next-server \(reply.siaddr)" }
            log(line + " to \(destination.ipv4.map { "\($0.address):\($0.port)" } ?? "?")")
            if replyType == .ack, reply.yiaddr != .any { events?(.leased(address: reply.yiaddr, mac: Array(request.chaddr.prefix(6)))) }
            return [(encoded, destination)]
        } catch {
            log("dhcp: \(type) from \(client): \(error)")
            return []
        }
    }

    private func address(for destination: AddressServer.Destination) -> SocketAddress {
        switch destination {
        case .broadcast: return IPv4Address.broadcast.socketAddress(port: ports.client)
        case .unicast(let address, let port): return address.socketAddress(port: port == 67 ? ports.server : ports.client)
        }
    }

    /// Leases are written at most a few times a second (a burst of clients is one write).
    private func scheduleSave() {
        guard leaseFile != nil, !saveScheduled else { return }
        saveScheduled = true
        loop.scheduleTask(in: .milliseconds(200)) { self.saveLeases() }
    }

    private func saveLeases() {
        saveScheduled = false
        guard let leaseFile, let server = addressServer else { return }
        let text = server.table.text(now: Date().timeIntervalSince1970)
        let temporary = leaseFile + ".tmp"
        do {
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            if rename(temporary, leaseFile) != 0 { throw CocoaError(.fileWriteUnknown) }
        } catch {
            log("dhcp: cannot save leases to \(leaseFile): \(error)")
        }
    }

    /// `52:54:00:77:00:10 (PXEClient, x64 UEFI)` for the log.
    static func describe(_ request: DHCPMessage) -> String {
        var text = AddressServer.hex(request.hardwareAddress)
        var details: [String] = []
        if let vendor = request.options.vendorClass { details.append(String(vendor.prefix(20))) }
        if PXEBootPolicy.isPXE(request) { details.append("\(PXEFirmware(request: request))") }
        if request.options.userClass == "iPXE" { details.append("iPXE") }
        if !details.isEmpty { text += " (" + details.joined(separator: ", ") + ")" }
        return text
    }
}

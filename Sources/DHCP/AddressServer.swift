/// The start-new-dhcpd mode as a pure state machine: a request and the time in, a reply and
/// where it goes out (RFC 2131 §4.1, §4.3). Offers are held for their client so concurrent
/// clients never collide; unknown INIT-REBOOT addresses inside the subnet are left to their
/// server (silence), foreign ones are NAKed so stale clients restart at once.
public struct AddressServer: Sendable {
    public struct Configuration: Sendable {
        public var server: IPv4Address
        public var subnetMask: IPv4Address
        public var router: IPv4Address?
        public var dnsServers: [IPv4Address] = []
        public var domainName: String?
        public var leaseTime: UInt32 = 3600
        public var offerHold: Double = 60
        public var declineQuarantine: Double = 600
        public var boot: PXEBootPolicy

        public init(server: IPv4Address, subnetMask: IPv4Address, router: IPv4Address? = nil, boot: PXEBootPolicy) {
            self.server = server
            self.subnetMask = subnetMask
            self.router = router
            self.boot = boot
        }

        var broadcast: IPv4Address { IPv4Address(server.value & subnetMask.value | ~subnetMask.value) }
        func inSubnet(_ address: IPv4Address) -> Bool { address.value & subnetMask.value == server.value & subnetMask.value }
    }

    public enum Destination: Equatable, Sendable {
        /// 255.255.255.255:68 on the served interface.
        case broadcast
        case unicast(IPv4Address, port: UInt16)
    }

    public struct Reply: Equatable, Sendable {
        public var message: DHCPMessage
        public var destination: Destination
    }

    public let configuration: Configuration
    public private(set) var table: LeaseTable { didSet { revision &+= 1 } }
    /// Counts changes to `table`, so a driver knows when to save it without comparing tables
    /// (which costs a walk of every lease per packet in a busy lab).
    public private(set) var revision = 0

    public init(configuration: Configuration, table: LeaseTable) {
        self.configuration = configuration
        self.table = table
    }

    /// Leases saved by an earlier run (`LeaseTable.text`), so a restart never hands a bound
    /// address to a second client.
    public mutating func restoreLeases(text: String, now: Double) {
        table.restore(text: text, now: now)
    }

    /// The lease key: option 61 when present (iPXE sends it), else the hardware address.
    public static func clientKey(_ request: DHCPMessage) -> String {
        if let id = request.options[.clientIdentifier], !id.isEmpty { return "id-" + hex(id) }
        return hex(request.hardwareAddress)
    }

    public mutating func handle(_ request: DHCPMessage, now: Double) -> Reply? {
        guard request.op == .request, let type = request.messageType else { return nil }
        let client = Self.clientKey(request)
        switch type {
        case .discover:
            guard let address = table.offer(to: client, requested: request.options.requestedAddress,
                                            hold: configuration.offerHold, now: now) else { return nil }
            return reply(.offer, to: request, address: address)
        case .request:
            return answerRequest(request, client: client, now: now)
        case .decline:
            if let address = request.options.requestedAddress, request.options.serverIdentifier == configuration.server {
                table.decline(address, by: client, quarantine: configuration.declineQuarantine, now: now)
            }
            return nil
        case .release:
            if request.options.serverIdentifier == nil || request.options.serverIdentifier == configuration.server {
                table.release(request.ciaddr, by: client)
            }
            return nil
        case .inform:
            return reply(.ack, to: request, address: nil)
        case .offer, .ack, .nak:
            return nil
        }
    }

    private mutating func answerRequest(_ request: DHCPMessage, client: String, now: Double) -> Reply? {
        let duration = Double(configuration.leaseTime)
        if let chosen = request.options.serverIdentifier {
            // SELECTING: the client picked a server.
            guard chosen == configuration.server else {
                table.withdrawOffer(to: client)
                return nil
            }
            guard let address = request.options.requestedAddress,
                  table.bind(address, to: client, duration: duration, now: now) else { return nak(request) }
            return reply(.ack, to: request, address: address)
        }
        if let address = request.options.requestedAddress, request.ciaddr == .any {
            // INIT-REBOOT: the client remembers an address.
            guard configuration.inSubnet(address), table.contains(address) else { return nak(request) }
            if table.lease(of: client, now: now)?.address == address, table.bind(address, to: client, duration: duration, now: now) {
                return reply(.ack, to: request, address: address)
            }
            return table.holder(of: address, now: now) == nil ? nil : nak(request)
        }
        // RENEWING (unicast) or REBINDING (broadcast): ciaddr is the client's address.
        let address = request.ciaddr
        guard address != .any else { return nil }
        if table.lease(of: client, now: now)?.address == address, table.bind(address, to: client, duration: duration, now: now) {
            return reply(.ack, to: request, address: address)
        }
        return configuration.inSubnet(address) ? nil : nak(request)
    }

    private func reply(_ type: DHCPMessageType, to request: DHCPMessage, address: IPv4Address?) -> Reply {
        let c = configuration
        var message = DHCPMessage(op: .reply, xid: request.xid, hardwareAddress: request.hardwareAddress)
        message.htype = request.htype
        message.flags = request.flags
        message.giaddr = request.giaddr
        message.ciaddr = request.ciaddr
        message.options[.messageType] = [type.rawValue]
        message.options.set(.serverIdentifier, address: c.server)
        if let address {
            message.yiaddr = address
            message.options.set(.leaseTime, seconds: c.leaseTime)
            message.options.set(.renewalTime, seconds: c.leaseTime / 2)
            message.options.set(.rebindingTime, seconds: c.leaseTime / 8 * 7)
        }
        message.options.set(.subnetMask, address: c.subnetMask)
        message.options.set(.broadcastAddress, address: c.broadcast)
        if let router = c.router { message.options.set(.router, address: router) }
        if !c.dnsServers.isEmpty { message.options[.domainNameServer] = c.dnsServers.flatMap(\.bytes) }
        if let domain = c.domainName { message.options.set(.domainName, text: domain) }
        c.boot.addBootInfo(to: &message, for: request)
        return Reply(message: message, destination: Self.destination(for: request, nak: false))
    }

    private func nak(_ request: DHCPMessage) -> Reply {
        var message = DHCPMessage(op: .reply, xid: request.xid, hardwareAddress: request.hardwareAddress)
        message.htype = request.htype
        message.flags = request.flags
        message.giaddr = request.giaddr
        message.options[.messageType] = [DHCPMessageType.nak.rawValue]
        message.options.set(.serverIdentifier, address: configuration.server)
        return Reply(message: message, destination: Self.destination(for: request, nak: true))
    }

    /// RFC 2131 §4.1: to the relay; else to a configured client (`ciaddr`); else broadcast
    /// (unicast to an unconfigured client would need a hand-made ARP entry).
    static func destination(for request: DHCPMessage, nak: Bool) -> Destination {
        if request.giaddr != .any { return .unicast(request.giaddr, port: 67) }
        if !nak, request.ciaddr != .any { return .unicast(request.ciaddr, port: 68) }
        return .broadcast
    }

    /// `52:54:00:77:00:10`: lease keys and log lines (on every packet, so no formatting API).
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 3)
        for (index, byte) in bytes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ":")) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

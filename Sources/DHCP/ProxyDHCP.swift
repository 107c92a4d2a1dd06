/// proxyDHCP (use-existing-dhcpd): boot information next to the site's DHCP server, never an
/// address. Replies are built the way dnsmasq 2.90 builds them (same options, same order), which
/// every observed firmware accepted.
public struct ProxyDHCP: Sendable {
    public var server: IPv4Address
    public var files: PXEBootFiles
    /// The BIOS menu prompt (PXE option 43 sub-option 10) and its timeout in seconds.
    public var prompt = "Booting DRBL/Clonezilla Client"
    public var promptTimeout: UInt8 = 1
    public var menuTitle = "Boot BIOS PXE"

    /// PXE boot server type of the single menu item (0x8000: vendor-specific, as dnsmasq uses).
    static let bootItemType: [UInt8] = [0x80, 0x00]

    public init(server: IPv4Address, files: PXEBootFiles = PXEBootFiles()) {
        self.server = server
        self.files = files
    }

    /// The OFFER on port 67 to a PXE DISCOVER; nil for anything else (a proxy answers only
    /// PXE/HTTP clients' DISCOVERs, never a REQUEST on 67).
    public func offer(to request: DHCPMessage) -> DHCPMessage? {
        guard request.op == .request, request.messageType == .discover, PXEBootPolicy.isPXE(request) else { return nil }
        let firmware = PXEFirmware(request: request)
        guard files.file(for: firmware) != nil else { return nil }
        var reply = header(for: request, type: .offer)
        reply.flags = DHCPMessage.broadcastFlag
        if firmware == .bios {
            reply.options[.vendorSpecific] = biosMenu()
        } else {
            reply.siaddr = server
        }
        return reply
    }

    /// The ACK on port 4011 to a boot-server REQUEST: the boot file for the client's firmware.
    /// It goes unicast to `ciaddr` at the request's source port (OVMF listens on 4011).
    public func ack(toBootRequest request: DHCPMessage) -> DHCPMessage? {
        guard request.op == .request, request.messageType == .request, PXEBootPolicy.isPXE(request) else { return nil }
        let firmware = PXEFirmware(request: request)
        guard let file = files.file(for: request) else { return nil }
        var reply = header(for: request, type: .ack)
        reply.flags = request.flags
        reply.ciaddr = request.ciaddr
        reply.siaddr = server
        reply.bootFileName = file
        if firmware == .bios {
            var item = [UInt8]()
            if let options43 = request.options[.vendorSpecific], let echoed = Self.subOption(71, in: options43) {
                item = [71, UInt8(echoed.count)] + echoed
            }
            reply.options[.vendorSpecific] = item + promptSubOption() + [255]
        }
        return reply
    }

    private func header(for request: DHCPMessage, type: DHCPMessageType) -> DHCPMessage {
        var reply = DHCPMessage(op: .reply, xid: request.xid, hardwareAddress: request.hardwareAddress)
        reply.htype = request.htype
        reply.secs = request.secs
        reply.giaddr = request.giaddr
        reply.options[.messageType] = [type.rawValue]
        reply.options.set(.serverIdentifier, address: server)
        reply.options.set(.vendorClass, text: request.options.vendorClass?.hasPrefix("HTTPClient") == true ? "HTTPClient" : "PXEClient")
        if let machine = request.options[.clientMachineID] { reply.options[.clientMachineID] = machine }
        if let relay = request.options[.relayAgentInformation] { reply.options[.relayAgentInformation] = relay }
        return reply
    }

    /// PXE option 43 for BIOS ROMs: no broadcast/multicast discovery (ask the listed server),
    /// this server as boot server, one menu item, and the prompt.
    func biosMenu() -> [UInt8] {
        let title = Array(menuTitle.utf8.prefix(250))
        var out: [UInt8] = [6, 1, 3]
        out += [8, 7] + Self.bootItemType + [1] + server.bytes
        out += [9, UInt8(3 + title.count)] + Self.bootItemType + [UInt8(title.count)] + title
        return out + promptSubOption() + [255]
    }

    func promptSubOption() -> [UInt8] {
        let text = Array(prompt.utf8.prefix(250))
        return [10, UInt8(1 + text.count), promptTimeout] + text
    }

    /// The data of sub-option `code` inside an option-43 TLV list, if well formed.
    static func subOption(_ code: UInt8, in bytes: [UInt8]) -> [UInt8]? {
        var index = 0
        while index + 1 < bytes.count, bytes[index] != 255 {
            if bytes[index] == 0 { index += 1; continue }
            let length = Int(bytes[index + 1])
            guard index + 2 + length <= bytes.count else { return nil }
            if bytes[index] == code { return Array(bytes[index + 2..<index + 2 + length]) }
            index += 2 + length
        }
        return nil
    }
}

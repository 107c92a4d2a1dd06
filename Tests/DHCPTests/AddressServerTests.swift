import Testing
@testable import DHCP

@Suite struct AddressServerTests {
    static let server = IPv4Address(10, 77, 0, 1)

    static func make(first: UInt8 = 1, last: UInt8 = 40) -> AddressServer {
        var config = AddressServer.Configuration(server: server, subnetMask: IPv4Address(255, 255, 255, 0), router: IPv4Address(10, 77, 0, 2),
                                                 boot: PXEBootPolicy(server: server))
        config.dnsServers = [IPv4Address(10, 77, 0, 2)]
        let table = LeaseTable(first: IPv4Address(10, 77, 0, first), last: IPv4Address(10, 77, 0, last), excluded: [server, IPv4Address(10, 77, 0, 2)])
        return AddressServer(configuration: config, table: table)
    }

    static func message(_ type: DHCPMessageType, mac: UInt8, xid: UInt32 = 1, pxe: Bool = false,
                        requested: IPv4Address? = nil, serverID: IPv4Address? = nil, ciaddr: IPv4Address = .any) -> DHCPMessage {
        var m = DHCPMessage(op: .request, xid: xid, hardwareAddress: [0x52, 0x54, 0, 0x77, 0, mac])
        m.options[.messageType] = [type.rawValue]
        if let requested { m.options.set(.requestedAddress, address: requested) }
        if let serverID { m.options.set(.serverIdentifier, address: serverID) }
        if pxe {
            m.options.set(.vendorClass, text: "PXEClient:Arch:00000:UNDI:002001")
            m.options[.clientArchitecture] = [0, 0]
        }
        m.ciaddr = ciaddr
        return m
    }

    /// `#require` cannot wrap a mutating call.
    static func must(_ reply: AddressServer.Reply?) throws -> AddressServer.Reply { try #require(reply) }

    @Test func doraBindsTheOfferedAddressWithBootInfo() throws {
        var dhcp = Self.make()
        let offer = try Self.must(dhcp.handle(Self.message(.discover, mac: 1, pxe: true), now: 0))
        #expect(offer.message.messageType == .offer && offer.destination == .broadcast)
        #expect(offer.message.yiaddr == IPv4Address(10, 77, 0, 3))   // .1 server and .2 gateway skipped
        #expect(offer.message.siaddr == Self.server && offer.message.bootFileName == "pxelinux.0")
        #expect(offer.message.options.serverIdentifier == Self.server)
        #expect(offer.message.options[.leaseTime] == [0, 0, 0x0E, 0x10])
        #expect(offer.message.options[.router] == [10, 77, 0, 2] && offer.message.options[.broadcastAddress] == [10, 77, 0, 255])
        let bytes = try offer.message.encoded(maximumLength: DHCPMessage.defaultMaximumLength)
        #expect(bytes.count >= DHCPMessage.minimumReplyLength)
        let ack = try Self.must(dhcp.handle(Self.message(.request, mac: 1, pxe: true, requested: offer.message.yiaddr, serverID: Self.server), now: 1))
        #expect(ack.message.messageType == .ack && ack.message.yiaddr == offer.message.yiaddr && ack.message.bootFileName == "pxelinux.0")
        #expect(dhcp.table.lease(of: AddressServer.clientKey(ack.message), now: 2)?.address == offer.message.yiaddr)
        // A second DISCOVER from the same client gets the same address.
        #expect(dhcp.handle(Self.message(.discover, mac: 1), now: 5)?.message.yiaddr == offer.message.yiaddr)
    }

    /// The driver saves the lease file when `revision` moves: every table change moves it,
    /// a message that changes nothing does not.
    @Test func revisionCountsTableChanges() throws {
        var dhcp = Self.make()
        let start = dhcp.revision
        var reply = Self.message(.discover, mac: 9)
        reply.op = .reply
        #expect(dhcp.handle(reply, now: 0) == nil && dhcp.revision == start, "a reply is not a request")
        let offer = try Self.must(dhcp.handle(Self.message(.discover, mac: 1), now: 0))
        let afterOffer = dhcp.revision
        #expect(afterOffer > start, "an offer holds the address")
        _ = try Self.must(dhcp.handle(Self.message(.request, mac: 1, requested: offer.message.yiaddr, serverID: Self.server), now: 1))
        #expect(dhcp.revision > afterOffer, "the ACK binds it")
    }

    /// dnsmasq NAKed 33-37 of 200 REQUESTs with 16 DORAs in flight; held offers never collide.
    @Test func concurrentClientsNeverCollide() throws {
        var dhcp = Self.make()
        var offered: [UInt8: IPv4Address] = [:]
        for mac in UInt8(1)...16 { offered[mac] = try Self.must(dhcp.handle(Self.message(.discover, mac: mac), now: 0)).message.yiaddr }
        #expect(Set(offered.values).count == 16)
        for mac in UInt8(1)...16 {
            let ack = dhcp.handle(Self.message(.request, mac: mac, requested: offered[mac], serverID: Self.server), now: 1)
            #expect(ack?.message.messageType == .ack)
        }
    }

    /// DISCOVERs with made-up MACs hold every address; a real client still gets the oldest
    /// held address, and the client it was taken from is NAKed when it asks for it.
    @Test func aDiscoverFloodCannotStarveTheRange() throws {
        var dhcp = Self.make(first: 3, last: 6)
        for mac in UInt8(1)...4 { _ = try Self.must(dhcp.handle(Self.message(.discover, mac: mac), now: Double(mac))) }
        let real = try Self.must(dhcp.handle(Self.message(.discover, mac: 200), now: 10))
        #expect(real.message.yiaddr == IPv4Address(10, 77, 0, 3), "the oldest offer (mac 1, .3) is reclaimed")
        let ack = try Self.must(dhcp.handle(Self.message(.request, mac: 200, requested: real.message.yiaddr, serverID: Self.server), now: 11))
        #expect(ack.message.messageType == .ack)
        let late = try Self.must(dhcp.handle(Self.message(.request, mac: 1, requested: IPv4Address(10, 77, 0, 3), serverID: Self.server), now: 12))
        #expect(late.message.messageType == .nak)
        // Bound leases are never reclaimed: with every address leased there is no offer.
        for mac in UInt8(2)...4 {
            let offer = try Self.must(dhcp.handle(Self.message(.discover, mac: mac), now: 13))
            _ = try Self.must(dhcp.handle(Self.message(.request, mac: mac, requested: offer.message.yiaddr, serverID: Self.server), now: 13))
        }
        #expect(dhcp.handle(Self.message(.discover, mac: 99), now: 14) == nil)
    }

    @Test func aClientThatChoseAnotherServerFreesItsOffer() throws {
        var dhcp = Self.make(first: 3, last: 3)
        let address = try Self.must(dhcp.handle(Self.message(.discover, mac: 1), now: 0)).message.yiaddr
        #expect(dhcp.handle(Self.message(.discover, mac: 2), now: 1) == nil)   // the only address is held
        #expect(dhcp.handle(Self.message(.request, mac: 1, requested: address, serverID: IPv4Address(10, 77, 0, 9)), now: 2) == nil)
        #expect(dhcp.handle(Self.message(.discover, mac: 2), now: 3)?.message.yiaddr == address)
        // The first client now asks us for it: taken, NAK (broadcast).
        let nak = try Self.must(dhcp.handle(Self.message(.request, mac: 1, requested: address, serverID: Self.server), now: 4))
        #expect(nak.message.messageType == .nak && nak.destination == .broadcast && nak.message.yiaddr == .any)
    }

    @Test func initRebootRenewAndRebind() throws {
        var dhcp = Self.make()
        let address = try Self.must(dhcp.handle(Self.message(.discover, mac: 1), now: 0)).message.yiaddr
        _ = dhcp.handle(Self.message(.request, mac: 1, requested: address, serverID: Self.server), now: 0)
        #expect(dhcp.handle(Self.message(.request, mac: 1, requested: address), now: 10)?.message.messageType == .ack)
        #expect(dhcp.handle(Self.message(.request, mac: 2, requested: IPv4Address(10, 77, 0, 30)), now: 10) == nil)   // not ours to judge
        #expect(dhcp.handle(Self.message(.request, mac: 2, requested: address), now: 10)?.message.messageType == .nak)
        #expect(dhcp.handle(Self.message(.request, mac: 2, requested: IPv4Address(192, 168, 1, 5)), now: 10)?.message.messageType == .nak)
        let renew = try Self.must(dhcp.handle(Self.message(.request, mac: 1, ciaddr: address), now: 1800))
        #expect(renew.message.messageType == .ack && renew.destination == .unicast(address, port: 68))
        #expect(dhcp.table.lease(of: AddressServer.clientKey(renew.message), now: 5000) != nil)
        #expect(dhcp.handle(Self.message(.request, mac: 3, ciaddr: IPv4Address(10, 77, 0, 33)), now: 10) == nil)
        #expect(dhcp.handle(Self.message(.request, mac: 3, ciaddr: IPv4Address(172, 16, 0, 5)), now: 10)?.message.messageType == .nak)
    }

    @Test func declineReleaseInformAndRelay() throws {
        var dhcp = Self.make(first: 3, last: 4)
        let first = try Self.must(dhcp.handle(Self.message(.discover, mac: 1), now: 0)).message.yiaddr
        _ = dhcp.handle(Self.message(.request, mac: 1, requested: first, serverID: Self.server), now: 0)
        _ = dhcp.handle(Self.message(.decline, mac: 1, requested: first, serverID: Self.server), now: 1)
        #expect(dhcp.handle(Self.message(.discover, mac: 1), now: 2)?.message.yiaddr == IPv4Address(10, 77, 0, 4))
        #expect(dhcp.handle(Self.message(.discover, mac: 2), now: 3) == nil)   // .3 quarantined, .4 held
        #expect(dhcp.handle(Self.message(.discover, mac: 2), now: 700)?.message.yiaddr == first)
        _ = dhcp.handle(Self.message(.request, mac: 2, requested: first, serverID: Self.server), now: 700)
        _ = dhcp.handle(Self.message(.release, mac: 2, serverID: Self.server, ciaddr: first), now: 701)
        #expect(dhcp.table.leases.isEmpty)
        let inform = try Self.must(dhcp.handle(Self.message(.inform, mac: 5, ciaddr: IPv4Address(10, 77, 0, 50)), now: 702))
        #expect(inform.message.messageType == .ack && inform.message.yiaddr == .any && inform.message.options[.leaseTime] == nil)
        #expect(inform.destination == .unicast(IPv4Address(10, 77, 0, 50), port: 68))
        var relayed = Self.message(.discover, mac: 6)
        relayed.giaddr = IPv4Address(10, 77, 0, 254)
        #expect(dhcp.handle(relayed, now: 703)?.destination == .unicast(IPv4Address(10, 77, 0, 254), port: 67))
    }

    @Test func leasesPersistAcrossARestart() throws {
        var dhcp = Self.make()
        let address = try Self.must(dhcp.handle(Self.message(.discover, mac: 1), now: 1000)).message.yiaddr
        _ = dhcp.handle(Self.message(.request, mac: 1, requested: address, serverID: Self.server), now: 1000)
        let text = dhcp.table.text(now: 1001)
        #expect(text == "52:54:00:77:00:01 10.77.0.3 4600\n")
        var restarted = LeaseTable(first: IPv4Address(10, 77, 0, 1), last: IPv4Address(10, 77, 0, 40), excluded: [Self.server])
        restarted.restore(text: text + "garbage\nx 10.99.0.1 9999\ny 10.77.0.9 10\n", now: 1002)
        #expect(restarted.leases.count == 1)
        #expect(restarted.holder(of: address, now: 1002) == "52:54:00:77:00:01")
    }
}

import Testing
import TestSupport
@testable import DHCP

@Suite struct DHCPDetectionTests {
    static let mac: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]

    /// The probe is a PXE BIOS client's DISCOVER with the BROADCAST flag: proxies answer it and
    /// every answer reaches a socket without an address.
    @Test func theProbeLooksLikeAPXEBIOSClient() throws {
        let detection = DHCPDetection(xid: 0xABCD, hardwareAddress: Self.mac)
        let probe = try DHCPMessage(parsing: try detection.probe.encoded())
        #expect(probe.messageType == .discover && probe.wantsBroadcast && probe.xid == 0xABCD)
        #expect(PXEBootPolicy.isPXE(probe) && PXEFirmware(request: probe) == .bios)
        #expect(probe.options[.clientMachineID]?.count == 17)
        #expect(probe.options[.requestedAddress] == nil, "never ask for a lease")
    }

    /// The offers of the observed proxy boot: dnsmasq's proxy (no address, option 43) and the
    /// site server (an address) are told apart; our own proxy's OFFER is classified the same.
    @Test func offersAreClassifiedAndCounted() throws {
        var detection = DHCPDetection(xid: 77, hardwareAddress: Self.mac)
        func reply(server: IPv4Address, yiaddr: IPv4Address, menu: Bool) -> DHCPMessage {
            var m = DHCPMessage(op: .reply, xid: 77, hardwareAddress: Self.mac)
            m.yiaddr = yiaddr
            m.options[.messageType] = [DHCPMessageType.offer.rawValue]
            m.options.set(.serverIdentifier, address: server)
            if menu { m.options[.vendorSpecific] = [6, 1, 3, 255] }
            m.options.set(.subnetMask, address: IPv4Address(255, 255, 255, 0))
            return m
        }
        let site = reply(server: IPv4Address(10, 77, 0, 2), yiaddr: IPv4Address(10, 77, 0, 59), menu: false)
        #expect(detection.record(site) == .addressServer(server: IPv4Address(10, 77, 0, 2), offered: IPv4Address(10, 77, 0, 59),
                                                         subnetMask: IPv4Address(255, 255, 255, 0), router: nil, bootFile: nil))
        #expect(detection.record(site) == nil, "a server answering twice is one finding")
        var other = site
        other.xid = 78
        #expect(detection.record(other) == nil, "another transaction")
        #expect(detection.decision.mode == .useExisting && detection.decision.warnings.isEmpty)

        let proxy = ProxyDHCP(server: IPv4Address(10, 77, 0, 1)).offer(to: detection.probe)
        let finding = detection.record(try #require(proxy))
        #expect(finding == .proxy(server: IPv4Address(10, 77, 0, 1), bootServer: nil, hasMenu: true))
        #expect(detection.proxies.count == 1 && detection.addressServers.count == 1)
        let decision = detection.decision
        #expect(decision.mode == .useExisting && decision.reason.contains("10.77.0.2"))
        #expect(decision.warnings.count == 1 && decision.warnings[0].contains("proxyDHCP 10.77.0.1"))
    }

    @Test func aSilentLinkMeansStartNew() {
        let detection = DHCPDetection(xid: 1, hardwareAddress: Self.mac)
        #expect(detection.decision.mode == .startNew && detection.decision.reason.contains("no DHCP server"))
        #expect(DHCPMode(rawValue: "auto-detect") == .autoDetect && DHCPMode(rawValue: "bogus") == nil)
    }
}

@Suite struct RouterAdvertisementTests {
    /// Type 134, hop limit 64, no M/O flags, router lifetime 0, no prefix: only the source
    /// link-layer option follows the fixed part.
    @Test func announcesNeitherRouterNorPrefix() {
        let bytes = RouterAdvertisement(linkLayerAddress: [2, 0, 0, 0, 0, 1]).encoded()
        #expect(bytes == [134, 0, 0, 0, 64, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [1, 1, 2, 0, 0, 0, 0, 1])
        #expect(RouterAdvertisement().encoded().count == 16)
        #expect(RouterAdvertisement.isSolicitation([133, 0, 0x12, 0x34, 0, 0, 0, 0]))
        #expect(!RouterAdvertisement.isSolicitation([134, 0, 0, 0, 0, 0, 0, 0]) && !RouterAdvertisement.isSolicitation([133, 0]))
    }
}

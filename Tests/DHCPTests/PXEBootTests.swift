import Testing
import TestSupport
@testable import DHCP

@Suite struct PXEBootTests {
    static let server = IPv4Address(10, 77, 0, 1)

    static func messages(_ name: String) throws -> [(packet: CapturedDatagram, message: DHCPMessage)] {
        try DHCPMessageTests.datagrams(name).map { ($0, try DHCPMessage(parsing: $0.payload)) }
    }

    static func request(arch: UInt16?, vendor: String? = "PXEClient:Arch:00000:UNDI:002001", type: DHCPMessageType = .discover) -> DHCPMessage {
        var message = DHCPMessage(op: .request, xid: 7, hardwareAddress: [0x52, 0x54, 0, 0x77, 0, 9])
        message.options[.messageType] = [type.rawValue]
        if let arch { message.options[.clientArchitecture] = [UInt8(arch >> 8), UInt8(arch & 0xFF)] }
        if let vendor { message.options.set(.vendorClass, text: vendor) }
        return message
    }

    @Test func firmwareFromOption93And60() {
        #expect(PXEFirmware(request: Self.request(arch: nil)) == .bios)
        #expect(PXEFirmware(request: Self.request(arch: 0)) == .bios)
        #expect(PXEFirmware(request: Self.request(arch: 6)) == .uefiIA32)
        #expect(PXEFirmware(request: Self.request(arch: 7)) == .uefiX64)
        #expect(PXEFirmware(request: Self.request(arch: 9)) == .uefiX64)
        #expect(PXEFirmware(request: Self.request(arch: 11)) == .uefiARM64)
        #expect(PXEFirmware(request: Self.request(arch: 16)) == .httpX64)
        #expect(PXEFirmware(request: Self.request(arch: 7, vendor: "HTTPClient:Arch:00016")) == .httpX64)
        #expect(PXEFirmware(request: Self.request(arch: 39)) == .unsupported(39))
    }

    @Test func fullModeBootInfo() {
        var files = PXEBootFiles()
        files.httpX64 = "http://10.77.0.1/tftpboot/nbi_img/shimx64.efi"
        let policy = PXEBootPolicy(server: Self.server, files: files)
        var bios = Self.request(arch: 0)
        bios.options[.parameterRequestList] = [1, 3, 66, 67]
        bios.options.set(.userClass, text: "iPXE")
        bios.options[.clientMachineID] = [0] + [UInt8](repeating: 3, count: 16)
        var reply = DHCPMessage(op: .reply, xid: 7, hardwareAddress: bios.hardwareAddress)
        policy.addBootInfo(to: &reply, for: bios)
        #expect(reply.siaddr == Self.server && reply.bootFileName == "pxelinux.0")
        #expect(reply.options[.tftpServerName] == Array("10.77.0.1".utf8))
        #expect(reply.options[.bootFileName] == Array("pxelinux.0".utf8))
        #expect(reply.options.vendorClass == "PXEClient")
        #expect(reply.options[.clientMachineID] == bios.options[.clientMachineID])

        var uefi = DHCPMessage(op: .reply, xid: 7, hardwareAddress: [1])
        policy.addBootInfo(to: &uefi, for: Self.request(arch: 9))
        #expect(uefi.bootFileName == "bootx64.efi" && uefi.options[.bootFileName] == nil && uefi.options.vendorClass == nil)
        var http = DHCPMessage(op: .reply, xid: 7, hardwareAddress: [1])
        policy.addBootInfo(to: &http, for: Self.request(arch: 16, vendor: "HTTPClient:Arch:00016:UNDI:003001"))
        #expect(http.bootFileName == files.httpX64 && http.options.vendorClass == "HTTPClient")
        for other in [Self.request(arch: 6), Self.request(arch: 0, vendor: nil), Self.request(arch: 0, vendor: "udhcp 1.35.0")] {
            var none = DHCPMessage(op: .reply, xid: 7, hardwareAddress: [1])
            policy.addBootInfo(to: &none, for: other)
            #expect(none.bootFileName.isEmpty && none.siaddr == .any)
        }
    }

    /// A client already running iPXE gets the script; the firmware's own PXE gets the NBP.
    @Test func iPXEChainsToTheScript() throws {
        var files = PXEBootFiles()
        files.iPXEScript = "http://10.77.0.1/boot.ipxe"
        let policy = PXEBootPolicy(server: Self.server, files: files)
        var ipxe = Self.request(arch: 7)
        ipxe.options.set(.userClass, text: "iPXE")
        var reply = DHCPMessage(op: .reply, xid: 7, hardwareAddress: [1])
        policy.addBootInfo(to: &reply, for: ipxe)
        #expect(reply.bootFileName == "http://10.77.0.1/boot.ipxe")
        var firmware = DHCPMessage(op: .reply, xid: 7, hardwareAddress: [1])
        policy.addBootInfo(to: &firmware, for: Self.request(arch: 7))
        #expect(firmware.bootFileName == "bootx64.efi")
        var proxyRequest = Self.request(arch: 0, type: .request)
        proxyRequest.options.set(.userClass, text: "iPXE")
        #expect(try #require(ProxyDHCP(server: Self.server, files: files).ack(toBootRequest: proxyRequest)).bootFileName == "http://10.77.0.1/boot.ipxe")
    }

    /// Our proxy replies to the requests of the observed boots equal dnsmasq's, byte for byte
    /// (the BIOS 4011 ACK differs only in where the client address goes: we copy `ciaddr`).
    @Test(arguments: ["proxy", "proxy-uefi", "proxy-uefi-native"]) func proxyRepliesMatchDnsmasq(_ name: String) throws {
        var files = PXEBootFiles()
        files.uefiX64 = "bootx64-fixedsrv.efi"
        let proxy = ProxyDHCP(server: Self.server, files: files)
        let all = try Self.messages(name)
        var compared = 0
        for (index, entry) in all.enumerated() where entry.message.op == .request {
            let port4011 = entry.packet.destination.port == 4011
            guard let theirs = all[(index + 1)...].first(where: {
                $0.message.op == .reply && $0.message.xid == entry.message.xid && $0.packet.source.address == 0x0A4D_0001
                    && ($0.packet.source.port == 4011) == port4011
            }) else { continue }
            let ours = port4011 ? proxy.ack(toBootRequest: entry.message) : proxy.offer(to: entry.message)
            var mine = try #require(ours, "no reply to frame \(entry.packet.frame)")
            if port4011, PXEFirmware(request: entry.message) == .bios {
                #expect(mine.ciaddr == entry.message.ciaddr)
                mine.ciaddr = theirs.message.ciaddr
                mine.yiaddr = theirs.message.yiaddr
            }
            mine.sname = theirs.message.sname   // dnsmasq names its host there in some ACKs
            let bytes = try mine.encoded()
            let differs = zip(bytes, theirs.packet.payload).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(bytes == theirs.packet.payload, "frame \(entry.packet.frame) of \(name): \(bytes.count) vs \(theirs.packet.payload.count) bytes, first difference at \(differs ?? -1)")
            compared += 1
        }
        #expect(compared >= 2)
    }

    @Test func proxyStaysSilentForOthers() {
        let proxy = ProxyDHCP(server: Self.server)
        #expect(proxy.offer(to: Self.request(arch: 0, vendor: nil)) == nil)
        #expect(proxy.offer(to: Self.request(arch: 0, type: .request)) == nil)
        #expect(proxy.offer(to: Self.request(arch: 6)) == nil)   // no IA32 boot file configured
        #expect(proxy.ack(toBootRequest: Self.request(arch: 0, type: .discover)) == nil)
        #expect(ProxyDHCP.subOption(71, in: [71, 9, 1]) == nil)
        #expect(ProxyDHCP.subOption(71, in: [0, 6, 1, 3, 71, 4, 0x80, 0, 0, 0, 255]) == [0x80, 0, 0, 0])
    }
}

import Foundation
import Testing
import TestSupport
@testable import DHCP

@Suite struct DHCPMessageTests {
    static let captures = ["bios", "bios-ra", "uefi", "uefi-native", "proxy", "proxy-uefi", "proxy-uefi-native"]

    static func datagrams(_ name: String) throws -> [CapturedDatagram] {
        try PcapFile.udpDatagrams(TestEnv.fixture("pxe-observed/dhcp-qemu-\(name).pcap"))
            .filter { [67, 68, 4011].contains($0.source.port) || [67, 68, 4011].contains($0.destination.port) }
    }

    /// Every DHCP datagram iPXE, OVMF and dnsmasq sent in the observed boots parses, re-encodes
    /// to an equal message, and dnsmasq's replies re-encode byte for byte (same padding to 300).
    @Test(arguments: captures) func observedPacketsRoundTrip(_ name: String) throws {
        let packets = try Self.datagrams(name)
        #expect(packets.count >= 2)
        for packet in packets {
            let message = try DHCPMessage(parsing: packet.payload)
            #expect(message.messageType != nil, "frame \(packet.frame)")
            let again = try DHCPMessage(parsing: message.encoded())
            #expect(again == message, "frame \(packet.frame)")
            if message.op == .reply { #expect(try message.encoded() == packet.payload, "frame \(packet.frame)") }
        }
    }

    @Test func pxeClientsSayWhatTheyAre() throws {
        let bios = try Self.datagrams("bios").map { try DHCPMessage(parsing: $0.payload) }
        let discover = try #require(bios.first { $0.messageType == .discover })
        #expect(discover.options.clientArchitectures == [0])
        #expect(discover.options.vendorClass?.hasPrefix("PXEClient:Arch:00000") == true)
        #expect(discover.options.maximumMessageSize == 1472)
        #expect(discover.maximumReplyLength == 1444)
        #expect(discover.hardwareAddress.count == 6)
        let uefi = try Self.datagrams("uefi-native").map { try DHCPMessage(parsing: $0.payload) }
        let native = try #require(uefi.first { $0.messageType == .discover })
        #expect(native.options.clientArchitectures == [7])
        #expect(native.options[.clientMachineID]?.count == 17)
        let offer = try #require(bios.first { $0.messageType == .offer })
        #expect(offer.op == .reply && offer.yiaddr != .any && offer.siaddr != .any)
        #expect(!offer.bootFileName.isEmpty)
        #expect(offer.options.serverIdentifier?.description == "10.77.0.1")
    }

    @Test func repliesArePaddedAndLimited() throws {
        var reply = DHCPMessage(op: .reply, xid: 0x1234_5678, hardwareAddress: [0x52, 0x54, 0, 0x77, 0, 1])
        reply.options[.messageType] = [DHCPMessageType.offer.rawValue]
        reply.options.set(.serverIdentifier, address: IPv4Address(10, 77, 0, 1))
        reply.bootFileName = "pxelinux.0"
        let bytes = try reply.encoded()
        #expect(bytes.count == DHCPMessage.minimumReplyLength)
        #expect(Array(bytes[240..<246]) == [53, 1, 2, 54, 4, 10])
        #expect(try DHCPMessage(parsing: bytes).bootFileName == "pxelinux.0")
        reply.options[.vendorSpecific] = [UInt8](repeating: 7, count: 300)   // split into 255 + 45 (RFC 3396)
        let long = try reply.encoded()
        #expect(try DHCPMessage(parsing: long).options[.vendorSpecific]?.count == 300)
        #expect(throws: DHCPError.tooLarge(long.count, limit: 548)) { try reply.encoded(maximumLength: 548) }
    }

    @Test func malformedDatagramsGetTypedErrors() throws {
        var reply = DHCPMessage(op: .request, xid: 1, hardwareAddress: [1, 2, 3, 4, 5, 6])
        reply.options[.messageType] = [1]
        let good = try reply.encoded()
        func error(_ bytes: [UInt8]) -> DHCPError? {
            do { _ = try DHCPMessage(parsing: bytes); return nil } catch { return error }
        }
        #expect(error(Array(good.prefix(100))) == .tooShort(100))
        var bad = good; bad[0] = 3
        #expect(error(bad) == .badOperation(3))
        bad = good; bad[2] = 17
        #expect(error(bad) == .badHardwareLength(17))
        bad = good; bad[237] = 0
        #expect(error(bad) == .missingCookie)
        #expect(error(Array(good.prefix(242))) == .truncatedOption(code: 53, area: "options"))
        // Overloaded options in `file` are read; a truncated one there is named.
        bad = Array(good.dropLast()) + [52, 1, 1, 255]
        bad[108] = 67; bad[109] = 3; bad[110] = 65; bad[111] = 66; bad[112] = 67; bad[113] = 255
        #expect(try DHCPMessage(parsing: bad).options[.bootFileName] == Array("ABC".utf8))
        bad[109] = 200
        #expect(error(bad) == .truncatedOption(code: 67, area: "file"))
        #expect(DHCPError.missingCookie.description.contains("236"))
        // An overload option inside the overloaded `sname` is void: parsing the re-encoded
        // message (options moved to the main area, fields cleared) gives the same message.
        var nested = Array(good.dropLast()) + [52, 1, 2, 255]
        nested[44] = 52; nested[45] = 1; nested[46] = 1; nested[47] = 12; nested[48] = 1; nested[49] = 65; nested[50] = 255
        let message = try DHCPMessage(parsing: nested)
        #expect(message.options[.overload] == nil && message.options[.hostName] == [65] && message.serverName.isEmpty)
        #expect(try DHCPMessage(parsing: message.encoded()) == message)
    }

    /// 100k mutations of real packets: a message or a typed error, never a crash; whatever
    /// parses re-encodes and parses to an equal message.
    @Test func survivesRandomizedInput() throws {
        let seeds = try Self.captures.flatMap { try Self.datagrams($0).map(\.payload) }
        var rng = SystemRandomNumberGenerator()
        var parsed = 0
        for round in 0..<100_000 {
            let bytes = mutated(seeds[round % seeds.count], alphabet: [0, 1, 2, 52, 53, 55, 255, 99, 130, 83], using: &rng)
            guard let message = try? DHCPMessage(parsing: bytes) else { continue }
            parsed += 1
            let again = try? DHCPMessage(parsing: message.encoded())
            #expect(again == message, "\(bytes)")
        }
        #expect(parsed > 1000)
    }
}

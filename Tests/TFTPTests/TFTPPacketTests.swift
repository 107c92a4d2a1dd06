import Testing
import TestSupport
@testable import TFTP

@Suite struct TFTPPacketTests {
    static let captures = ["ovmf-nbp", "req-qemu-bios", "req-qemu-proxy", "req-qemu-proxy-uefi", "req-qemu-proxy-uefi-native",
                           "req-qemu-uefi", "req-qemu-uefi-native"]

    static func packets(_ name: String) throws -> [TFTPPacket] {
        try PcapFile.udpDatagrams(TestEnv.fixture("pxe-observed/tftp-\(name).pcap")).map { try TFTPPacket(parsing: $0.payload) }
    }

    /// Every packet of the observed boots (iPXE, PXELINUX, GRUB, OVMF against dnsmasq) parses
    /// and re-encodes byte for byte.
    @Test(arguments: captures) func observedPacketsRoundTrip(_ name: String) throws {
        let datagrams = try PcapFile.udpDatagrams(TestEnv.fixture("pxe-observed/tftp-\(name).pcap"))
        #expect(!datagrams.isEmpty)
        for datagram in datagrams {
            #expect(try TFTPPacket(parsing: datagram.payload).encoded() == datagram.payload, "frame \(datagram.frame)")
        }
    }

    @Test func ovmfProbesTheSizeThenDownloads() throws {
        let packets = try Self.packets("ovmf-nbp")
        guard case .readRequest(_, let mode, let options) = packets[0] else { Issue.record("\(packets[0])"); return }
        #expect(mode.lowercased() == "octet")
        #expect(options.map(\.name) == ["tsize", "blksize", "windowsize"])
        #expect(packets.contains { if case .error(.optionRefused, _) = $0 { return true } else { return false } })
        let granted = TFTPNegotiation(requested: options, fileSize: 1_000_000, pathMTU: 1500)
        #expect(granted.granted == [TFTPOption(name: "tsize", value: "1000000"), TFTPOption(name: "blksize", value: "1468"),
                                    TFTPOption(name: "windowsize", value: "4")])
        #expect(granted.blockSize == 1468 && granted.windowSize == 4)
    }

    @Test func negotiationRules() {
        func grant(_ pairs: [(String, String)], mtu: Int = 1500, window: Int = 16) -> TFTPNegotiation {
            TFTPNegotiation(requested: pairs.map { TFTPOption(name: $0.0, value: $0.1) }, fileSize: 42, pathMTU: mtu, maximumWindow: window)
        }
        #expect(grant([("BLKSIZE", "65464")], mtu: 65_535).blockSize == 65_464)
        #expect(grant([("blksize", "9000")]).granted == [TFTPOption(name: "blksize", value: "1468")])
        #expect(grant([("blksize", "1024")], mtu: 1400).blockSize == 1024)
        #expect(grant([("blksize", "4")]).granted.isEmpty)
        #expect(grant([("blksize", "+512")]).granted.isEmpty)
        #expect(grant([("tsize", "enable")]).granted == [TFTPOption(name: "tsize", value: "42")])
        #expect(grant([("timeout", "6"), ("timeout", "9")]).timeout == 6)
        #expect(grant([("timeout", "0"), ("multicast", "1")]).granted.isEmpty)
        #expect(grant([("windowsize", "64")], window: 16).windowSize == 16)
        #expect(grant([]).blockSize == 512 && grant([]).windowSize == 1)
    }

    @Test func malformedPacketsGetTypedErrors() throws {
        func error(_ bytes: [UInt8]) -> TFTPError? {
            do { _ = try TFTPPacket(parsing: bytes); return nil } catch { return error }
        }
        #expect(error([0, 1, 0]) == .tooShort(3))
        #expect(error([0, 9, 0, 0]) == .unknownOpcode(9))
        #expect(error([0, 1] + Array("a".utf8) + [0] + Array("octet".utf8)) == .unterminatedString)
        // Found by bench/fuzz.sh: invalid UTF-8 was decoded lossily (a different, longer name).
        #expect(error([0, 1, 0xFF, 0xC0, 0xAE] + Array("/x".utf8) + [0] + Array("octet".utf8) + [0]) == .notText)
        #expect(error([0, 1] + Array("x".utf8) + [0] + Array("octet".utf8) + [0, 0xFE, 0] + Array("1".utf8) + [0]) == .notText)
        #expect(error([0, 1] + Array("a".utf8) + [0]) == .malformedRequest)
        #expect(error([0, 1, 0] + Array("octet".utf8) + [0]) == .malformedRequest)
        #expect(error([0, 1] + [UInt8](repeating: 65, count: 600) + [0, 0]) == .requestTooLong(604))
        #expect(error([0, 4, 0, 1, 9]) == .trailingBytes(opcode: 4))
        #expect(try TFTPPacket(parsing: [0, 5, 0, 8, 0]) == .error(code: .optionRefused, message: ""))
        #expect(try TFTPPacket(parsing: [0, 3, 0xFF, 0xFF]) == .data(block: 65_535, payload: []))
    }

    @Test func survivesRandomizedInput() throws {
        let seeds = try PcapFile.udpDatagrams(TestEnv.fixture("pxe-observed/tftp-ovmf-nbp.pcap")).map(\.payload)
            .filter { $0.count < 600 } + [TFTPPacket.readRequest(filename: "pxelinux.0", mode: "octet", options: [TFTPOption(name: "tsize", value: "0")]).encoded()]
        var rng = SystemRandomNumberGenerator()
        var parsed = 0
        for round in 0..<100_000 {
            let bytes = mutated(seeds[round % seeds.count], alphabet: [0, 1, 3, 4, 5, 6, 48, 57], using: &rng)
            guard let packet = try? TFTPPacket(parsing: bytes) else { continue }
            parsed += 1
            #expect((try? TFTPPacket(parsing: packet.encoded())) == packet)
        }
        #expect(parsed > 1000)
    }
}

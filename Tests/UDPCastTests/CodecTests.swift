import Foundation
import Testing
import TestSupport
@testable import UDPCast

@Suite struct CodecTests {
    static let captures = ["sample-mcast-2rcv-half", "sample-p2p-1rcv-full", "sample-fec4x2-2rcv", "sample-async-fec4x2-1rcv"]

    static func datagrams(_ name: String) throws -> [CapturedDatagram] {
        try PcapFile.udpDatagrams(TestEnv.fixture("udpcast-captures/\(name).pcap"))
    }

    @Test(arguments: captures)
    func everyCapturedPacketRoundTripsByteForByte(_ name: String) throws {
        let packets = try Self.datagrams(name)
        #expect(packets.count > 40)
        for packet in packets {
            let message = try UDPCastMessage.decode(packet.payload)
            #expect(message.encoded() == packet.payload, "frame \(packet.frame) of \(name)")
            // Receivers send from the port base, the sender from port base + 1.
            let fromSender = [.hello, .helloNew, .helloStreaming, .connectReply, .data, .fec, .reqack].contains(message.opcode)
            #expect(packet.source.port == (fromSender ? 9001 : 9000), "frame \(packet.frame)")
        }
    }

    /// The DATA packets of the half-duplex session carry the fixture file in slice order.
    @Test func dataPacketsReassembleThePayload() throws {
        let expected = TestEnv.readBytes(TestEnv.fixture("udpcast-captures/fixture-50000.bin"))
        var slices: [UInt32: [UInt16: [UInt8]]] = [:]
        var sliceBytes: [UInt32: UInt32] = [:]
        for packet in try Self.datagrams("sample-mcast-2rcv-half") {
            guard case .data(let slice, let block, let bytes, let payload) = try UDPCastMessage.decode(packet.payload) else { continue }
            slices[slice, default: [:]][block] = Array(payload)
            sliceBytes[slice] = bytes
        }
        #expect(sliceBytes == [0: 49504, 1: 496])
        var assembled: [UInt8] = []
        for slice in slices.keys.sorted() {
            for block in slices[slice]!.keys.sorted() { assembled += slices[slice]![block]! }
        }
        #expect(assembled == expected)
    }

    @Test func documentedFieldValues() throws {
        let packets = try Self.datagrams("sample-mcast-2rcv-half")
        let messages = try packets.map { try UDPCastMessage.decode($0.payload) }
        let hello = try #require(messages.first { $0.opcode == .hello })
        #expect(hello == .hello(kind: .legacy, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1), blockSize: 1456))
        let replies = messages.compactMap { m -> Int32? in if case .connectReply(let c, 1456, .standard, IPv4Address(234, 77, 0, 1)) = m { return c } else { return nil } }
        #expect(replies.sorted() == [0, 1])
        #expect(messages.contains(.connectRequest(capabilities: .standard, receiveBuffer: 212_992)))
        #expect(messages.contains(.reqack(slice: 2, bytes: 0, round: 0, ready: BitMap1024())))
        #expect(messages.filter { $0 == .ok(slice: 2) }.count == 2)
        #expect(messages.filter { $0 == .disconnect }.count == 2)
        let asyncHello = try Self.datagrams("sample-async-fec4x2-1rcv").map { try UDPCastMessage.decode($0.payload) }.first { $0.opcode == .hello }
        guard case .hello(_, let caps, _, _) = asyncHello else { Issue.record("no HELLO"); return }
        #expect(caps == [.standard, .async] && caps.rawValue == 0x29)
    }

    @Test func documentedRetransmitAndReqackLayouts() throws {
        // RETRANSMIT of the 3-receiver trial: blocks 0–19 missing except 20–23 present, 24–79 present.
        var have = BitMap1024()
        for block in 20..<80 { have[block] = true }
        let retransmit = UDPCastMessage.retransmit(slice: 1, round: 0, received: have).encoded()
        #expect(retransmit.count == 140)
        #expect(Array(retransmit[0..<16]) == [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xF0, 0xFF])
        var ready = BitMap1024()
        ready[1] = true
        ready[2] = true
        let reqack = UDPCastMessage.reqack(slice: 2, bytes: 112 * 1456, round: 1, ready: ready).encoded()
        #expect(reqack.count == 144)
        #expect(Array(reqack[0..<17]) == [0, 6, 0, 0, 0, 0, 0, 2, 0, 2, 0x7D, 0, 0, 0, 0, 1, 6])
        #expect(UDPCastMessage.go.encoded() == [0, 2, 0, 0])
        #expect(UDPCastMessage.disconnect.encoded() == [0, 4, 0, 0])
        #expect(UDPCastMessage.ok(slice: 1288).encoded() == [0, 0, 0, 0, 0, 0, 5, 8])
        let hello = UDPCastMessage.hello(kind: .legacy, capabilities: .standard, dataAddress: IPv4Address("224.0.0.1")!, blockSize: 1456).encoded()
        #expect(hello.count == 28 && hello[0] == 5 && hello[8] == 224 && hello[24] == 0x05 && hello[25] == 0xB0)
        #expect(UDPCastMessage.connectReply(client: -1, blockSize: 1456, capabilities: .standard, dataAddress: IPv4Address(0)).encoded().count == 32)
    }

    @Test func shortControlMessagesReadAsZeroAndTrailingBytesAreIgnored() throws {
        #expect(try UDPCastMessage.decode([0, 0]) == .ok(slice: 0))
        #expect(try UDPCastMessage.decode([0, 0, 0, 0, 0, 0, 0, 7, 0xEE, 0xEE]) == .ok(slice: 7))
        #expect(try UDPCastMessage.decode([0, 6, 0, 0, 0, 0, 0, 3]) == .reqack(slice: 3, bytes: 0, round: 0, ready: BitMap1024()))
        #expect(try UDPCastMessage.decode([5, 0]) == .hello(kind: .legacy, capabilities: [], dataAddress: IPv4Address(0), blockSize: 0))
        #expect(try UDPCastMessage.decode([0, 0x0B] + [UInt8](repeating: 0, count: 26)).opcode == .helloStreaming)
    }

    @Test func malformedDatagramsAreTypedErrors() {
        #expect(throws: UDPCastDecodeError.tooShort(length: 0, needed: 2)) { try UDPCastMessage.decode([]) }
        #expect(throws: UDPCastDecodeError.tooShort(length: 1, needed: 2)) { try UDPCastMessage.decode([8]) }
        #expect(throws: UDPCastDecodeError.unknownOpcode(5)) { try UDPCastMessage.decode([0, 5, 0, 0]) }
        #expect(throws: UDPCastDecodeError.unknownOpcode(0xFFFF)) { try UDPCastMessage.decode([0xFF, 0xFF]) }
        #expect(throws: UDPCastDecodeError.tooShort(length: 15, needed: 16)) { try UDPCastMessage.decode([0, 8] + [UInt8](repeating: 0, count: 13)) }
        #expect(throws: UDPCastDecodeError.tooShort(length: 4, needed: 16)) { try UDPCastMessage.decode([0, 9, 0, 8]) }
    }

    /// Random and mutated datagrams decode or fail with a typed error; whatever decodes
    /// re-encodes to something that decodes to the same message.
    @Test func survivesRandomizedInput() throws {
        var seeds = try Self.captures.flatMap { try Self.datagrams($0).map(\.payload) }
        seeds.append([])
        var state: UInt64 = 0xC0FFEE
        func next() -> UInt64 { state &+= 0x9E3779B97F4A7C15; var z = state; z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; return z ^ (z >> 31) }
        var decoded = 0
        for i in 0..<120_000 {
            var datagram: [UInt8]
            if i % 4 == 0 {
                datagram = (0..<Int(next() % 200)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                datagram = seeds[Int(next() % UInt64(seeds.count))]
                for _ in 0..<(1 + Int(next() % 3)) where !datagram.isEmpty {
                    switch next() % 3 {
                    case 0: datagram[Int(next() % UInt64(datagram.count))] = UInt8(truncatingIfNeeded: next())
                    case 1: datagram.removeLast(Int(next() % UInt64(datagram.count)))
                    default: datagram[Int(next() % UInt64(min(datagram.count, 2)))] = UInt8(next() % 12)
                    }
                }
            }
            if let message = try? UDPCastMessage.decode(datagram) {
                decoded += 1
                #expect(try UDPCastMessage.decode(message.encoded()) == message)
            }
        }
        #expect(decoded > 10_000)
    }
}

import Testing
@testable import BitTorrent

@Suite struct PeerWireTests {
    static let hash = [UInt8](repeating: 0xAB, count: 20)
    static let messages: [PeerMessage] = [
        .keepAlive, .choke, .unchoke, .interested, .notInterested, .have(piece: 7), .bitfield([0xF0, 0x80]),
        .request(BlockRequest(index: 1, begin: 16_384, length: 16_384)), .piece(index: 2, begin: 0, block: [1, 2, 3][...]),
        .cancel(BlockRequest(index: 1, begin: 0, length: 16_384)), .port(6881), .suggestPiece(3), .haveAll, .haveNone,
        .rejectRequest(BlockRequest(index: 4, begin: 32_768, length: 100)), .allowedFast(5),
        .extended(id: 0, payload: Array("d1:md11:ut_metadatai2eee".utf8)[...]),
    ]

    @Test func everyMessageRoundTripsThroughTheFramerOneByteAtATime() throws {
        let handshake = Handshake(infoHash: Self.hash, peerID: Array("-LS0100-abcdefghijkl".utf8))
        #expect(handshake.encoded().count == 68)
        #expect(handshake.encoded()[20..<28] == [0, 0, 0, 0, 0, 0x10, 0, 0x04])
        let stream = handshake.encoded() + Self.messages.flatMap { $0.encoded() }
        var framer = PeerWireFramer()
        var got: [PeerMessage] = []
        var heard: Handshake?
        for byte in stream {
            framer.append([byte])
            if heard == nil { heard = try framer.nextHandshake(); continue }
            while let message = try framer.nextMessage() { got.append(message) }
        }
        #expect(heard == handshake)
        #expect(heard?.supportsFast == true && heard?.supportsExtensions == true)
        #expect(got == Self.messages)
        #expect(PeerMessage.request(BlockRequest(index: 1, begin: 2, length: 3)).encoded() == [0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3])
    }

    @Test func hostileInputIsATypedError() throws {
        var framer = PeerWireFramer()
        framer.append(Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8))
        #expect(throws: PeerWireError.notBitTorrent) { try framer.nextHandshake() }

        framer = PeerWireFramer(expectHandshake: false)
        framer.append([0x00, 0x10, 0x00, 0x00, 7])   // 1 MiB "piece" announced
        #expect(throws: PeerWireError.messageTooLong(length: 0x100000, limit: 16_384 + 13 + 64)) { try framer.nextMessage() }

        #expect(throws: PeerWireError.badLength(id: 4, length: 4)) { try PeerMessage.decode(body: [4, 0, 0, 1][...]) }
        #expect(throws: PeerWireError.badLength(id: 6, length: 14)) { try PeerMessage.decode(body: [6] + [UInt8](repeating: 0, count: 13)) }
        #expect(throws: PeerWireError.badLength(id: 0, length: 2)) { try PeerMessage.decode(body: [0, 0][...]) }
        #expect(try PeerMessage.decode(body: [21, 1, 2][...]) == .unknown(id: 21))
    }

    /// 100k random and mutated streams: the framer either yields messages or throws a typed
    /// error; never a crash, never more buffered than one bounded message.
    @Test func survivesRandomizedInput() {
        var rng = SystemRandomNumberGenerator()
        let valid = Handshake(infoHash: Self.hash, peerID: [UInt8](repeating: 1, count: 20)).encoded() + Self.messages.flatMap { $0.encoded() }
        var messages = 0
        for round in 0..<100_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = valid
                for _ in 0..<Int.random(in: 1...3, using: &rng) { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            var framer = PeerWireFramer(expectHandshake: round % 4 != 1)
            framer.append(bytes)
            do {
                if round % 4 != 1 { guard try framer.nextHandshake() != nil else { continue } }
                while let _ = try framer.nextMessage() { messages += 1 }
            } catch {
                #expect(!String(describing: error).isEmpty)
            }
        }
        #expect(messages > 0)
    }
}

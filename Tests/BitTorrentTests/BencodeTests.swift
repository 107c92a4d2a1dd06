import Testing
import TestSupport
@testable import BitTorrent

@Suite struct BencodeTests {
    func decode(_ text: String) throws(BencodeError) -> BencodeValue { try BencodeDecoder.decode(Array(text.utf8)) }

    @Test func canonicalValuesRoundTrip() throws {
        for text in ["i0e", "i-42e", "i9223372036854775807e", "i-9223372036854775808e", "0:", "4:spam", "le",
                     "l4:spami1ee", "de", "d3:bar4:spam3:fooi42ee", "d1:ad1:bl1:cee1:di1ee"] {
            let value = try decode(text)
            #expect(value.encoded() == Array(text.utf8), "\(text)")
        }
        #expect(try decode("d3:bar4:spam3:fooi42ee")["foo"] == .integer(42))
    }

    @Test func nonCanonicalOrMalformedInputIsRejectedWithItsPosition() {
        let cases: [(String, BencodeError)] = [
            ("i03e", .malformedInteger(at: 0)), ("i-0e", .malformedInteger(at: 0)), ("ie", .malformedInteger(at: 0)),
            ("i-e", .malformedInteger(at: 0)), ("i12", .truncated(at: 3)), ("i1x", .unexpectedByte(UInt8(ascii: "x"), at: 2)),
            ("i9223372036854775808e", .integerOutOfRange(at: 0)), ("03:abc", .malformedLength(at: 0)),
            ("5:abc", .stringPastEnd(at: 0)), ("4spam", .unexpectedByte(UInt8(ascii: "s"), at: 1)),
            ("l4:spam", .truncated(at: 7)), ("d1:b0:1:a0:e", .unsortedKey(at: 6)), ("d1:a0:1:a0:e", .duplicateKey(at: 6)),
            ("di1e0:e", .nonStringKey(at: 1)), ("i1ei2e", .trailingBytes(at: 3)), ("x", .unexpectedByte(UInt8(ascii: "x"), at: 0)),
            ("", .truncated(at: 0)), ("d1:a", .truncated(at: 4)),
        ]
        for (text, expected) in cases {
            #expect(throws: expected, "\(text)") { try decode(text) }
        }
    }

    @Test func limitsStopHostileNestingAndVolume() {
        var limits = BencodeDecoder.Limits()
        limits.maxDepth = 100
        let deep = Array(String(repeating: "l", count: 101).utf8) + Array(String(repeating: "e", count: 101).utf8)
        #expect(throws: BencodeError.tooDeep(at: 100, limit: 100)) { try BencodeDecoder.decode(deep, limits: limits) }
        let fine = Array(String(repeating: "l", count: 100).utf8) + Array(String(repeating: "e", count: 100).utf8)
        #expect((try? BencodeDecoder.decode(fine, limits: limits)) != nil)
        limits.maxTokens = 1000
        let many = Array(("l" + String(repeating: "i1e", count: 1000) + "e").utf8)
        #expect(throws: BencodeError.tooManyTokens(limit: 1000)) { try BencodeDecoder.decode(many, limits: limits) }
    }

    @Test func spansGiveTheExactBytesOfEachTopLevelValue() throws {
        let text = Array("d8:announce3:url4:infod4:name4:sda1ee".utf8)
        let (_, spans) = try BencodeDecoder.decodeDictionaryWithSpans(text)
        let span = try #require(spans[Array("info".utf8)])
        #expect(Array(text[span]) == Array("d4:name4:sda1e".utf8))
    }

    /// 100k mutations of a real Clonezilla-layout torrent: never a crash, and whatever decodes
    /// re-encodes to the very same bytes (the decoder accepts canonical input only).
    @Test func survivesRandomizedInput() {
        let seed = ClonezillaLayout.torrent(device: "sda1", extents: [Extent(offset: 0, length: 1 << 24), Extent(offset: 1 << 25, length: 4096)],
                                            pieces: [[UInt8](repeating: 7, count: 20), [UInt8](repeating: 9, count: 20)],
                                            announce: "http://10.0.0.1:6969/announce", creationDate: 1_795_751_487).encoded()
        var rng = SystemRandomNumberGenerator()
        var decoded = 0
        for _ in 0..<100_000 {
            let bytes = mutated(seed, alphabet: Array("ilde:0123456789-".utf8), using: &rng)
            if let value = try? BencodeDecoder.decode(bytes) {
                decoded += 1
                #expect(value.encoded() == bytes)
            }
            _ = try? Metainfo(decoding: bytes)
        }
        #expect(decoded > 0)
    }
}

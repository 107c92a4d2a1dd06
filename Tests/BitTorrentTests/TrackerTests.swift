import Testing
@testable import BitTorrent

@Suite struct TrackerTests {
    static let hash = [UInt8](0..<20)
    static func percent(_ bytes: [UInt8]) -> String { bytes.map { "%" + String(format2: $0) }.joined() }
    static func query(peer: UInt8, port: Int = 6881, left: Int, event: String? = nil, extra: String = "") -> String {
        "info_hash=\(percent(hash))&peer_id=\(percent([UInt8](repeating: peer, count: 20)))&port=\(port)&uploaded=0&downloaded=0"
            + "&left=\(left)&compact=1&key=abc&numwant=50&no_peer_id=1" + (event.map { "&event=\($0)" } ?? "") + extra
    }

    @Test func parsesAria2sAnnounceAndIgnoresUnknownParameters() throws {
        let announce = try TrackerAnnounce(query: Self.query(peer: 7, left: 268_435_456, event: "started", extra: "&supportcrypto=1"))
        #expect(announce.infoHash == Self.hash)
        #expect(announce.peerID == [UInt8](repeating: 7, count: 20))
        #expect(announce.port == 6881 && announce.left == 268_435_456 && announce.event == .started && announce.compact && announce.numWant == 50)
        #expect(throws: TrackerError.badParameter("info_hash")) { try TrackerAnnounce(query: "info_hash=abc&peer_id=x&port=1&left=0") }
        #expect(throws: TrackerError.badEncoding) { try TrackerAnnounce(query: "info_hash=%zz") }
        #expect(throws: TrackerError.badParameter("port")) { try TrackerAnnounce(query: Self.query(peer: 1, port: 0, left: 0)) }
        #expect(throws: TrackerError.badParameter("event")) { try TrackerAnnounce(query: Self.query(peer: 1, left: 0, event: "exploded")) }
    }

    @Test func compactRepliesNeverContainTheAskingPeerAndListSeedsFirst() throws {
        var tracker = TrackerState(infoHashes: [Self.hash])
        _ = tracker.announce(try TrackerAnnounce(query: Self.query(peer: 1, left: 0, event: "started")), from: (10, 78, 0, 1), now: 0)
        _ = tracker.announce(try TrackerAnnounce(query: Self.query(peer: 2, left: 100, event: "started")), from: (10, 78, 0, 2), now: 1)
        let reply = tracker.announce(try TrackerAnnounce(query: Self.query(peer: 3, left: 100, event: "started")), from: (10, 78, 0, 3), now: 2)
        let value = try BencodeDecoder.decode(reply)
        #expect(value["peers"] == .bytes([10, 78, 0, 1, 0x1a, 0xe1, 10, 78, 0, 2, 0x1a, 0xe1]))
        #expect(value["complete"] == .integer(1) && value["incomplete"] == .integer(2))
        #expect(value["interval"] == .integer(30) && value["min interval"] == .integer(10))
        // The seed sees only leechers; a stopped peer is gone; completion counts once.
        _ = tracker.announce(try TrackerAnnounce(query: Self.query(peer: 2, left: 0, event: "completed")), from: (10, 78, 0, 2), now: 3)
        _ = tracker.announce(try TrackerAnnounce(query: Self.query(peer: 3, left: 0, event: "stopped")), from: (10, 78, 0, 3), now: 4)
        let scrape = try BencodeDecoder.decode(tracker.scrape([], now: 5))
        #expect(scrape["files"] == .dictionary([(Self.hash, .dict([("complete", .integer(2)), ("downloaded", .integer(1)), ("incomplete", .integer(0))]))]))
    }

    @Test func onlyServedTorrentsAreTrackedAndSilentPeersExpire() throws {
        var tracker = TrackerState(infoHashes: [Self.hash])
        var other = try TrackerAnnounce(query: Self.query(peer: 1, left: 0))
        other.infoHash = [UInt8](repeating: 9, count: 20)
        #expect(tracker.announce(other, from: (1, 2, 3, 4), now: 0)
                == Array("d14:failure reason63:Requested download is not authorized for use with this tracker.e".utf8))
        _ = tracker.announce(try TrackerAnnounce(query: Self.query(peer: 1, left: 0)), from: (10, 0, 0, 1), now: 0)
        #expect(tracker.peers(of: Self.hash).count == 1)
        let later: UInt64 = 91 * 1_000_000_000
        let reply = try BencodeDecoder.decode(tracker.announce(try TrackerAnnounce(query: Self.query(peer: 2, left: 5)), from: (10, 0, 0, 2), now: later))
        #expect(reply["peers"] == .bytes([]))
        #expect(tracker.peers(of: Self.hash).count == 1)
    }

    @Test func survivesRandomizedQueries() {
        var rng = SystemRandomNumberGenerator()
        var tracker = TrackerState(infoHashes: [Self.hash])
        let alphabet = Array("%&=0123456789abcdefABCDEF_+info_hashpeer_idportleftevent".utf8)
        let seed = Array(Self.query(peer: 1, left: 5).utf8)
        for round in 0..<100_000 {
            var bytes = round % 2 == 0 ? seed : (0..<Int.random(in: 0...80, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            if round % 2 == 0 { for _ in 0..<3 { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = alphabet.randomElement(using: &rng)! } }
            if let announce = try? TrackerAnnounce(query: String(decoding: bytes, as: UTF8.self)) {
                #expect((try? BencodeDecoder.decode(tracker.announce(announce, from: (10, 0, 0, 9), now: UInt64(round)))) != nil)
            }
        }
    }
}

extension String {
    init(format2 byte: UInt8) {
        let digits = Array("0123456789ABCDEF")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

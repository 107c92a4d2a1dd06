import Testing
import TestSupport
@testable import BitTorrent

@Suite struct LocalServiceDiscoveryTests {
    static let hash = [UInt8](hex: "e736349f80dbf2828186af85ead4a86d5585d2ca")!
    static let other = [UInt8](repeating: 0xab, count: 20)
    /// libtorrent's announce byte for byte (bittorrent.md §2.10).
    static let libtorrentDatagram = Array("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: e736349f80dbf2828186af85ead4a86d5585d2ca\r\ncookie: 7f79db12\r\n\r\n\r\n".utf8)

    @Test func encodesLikeLibtorrent() {
        #expect(LSDAnnouncement(port: 6881, infoHashes: [Self.hash], cookie: "7f79db12").encoded() == Self.libtorrentDatagram)
    }

    @Test func parsesLibtorrentAndAria2() throws {
        let lt = try LSDAnnouncement(parsing: Self.libtorrentDatagram)
        #expect(lt == LSDAnnouncement(port: 6881, infoHashes: [Self.hash], cookie: "7f79db12"))
        let aria = Array("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6882\r\nInfohash: E736349F80DBF2828186AF85EAD4A86D5585D2CA\r\n\r\n\r\n".utf8)
        #expect(try LSDAnnouncement(parsing: aria) == LSDAnnouncement(port: 6882, infoHashes: [Self.hash]))
        let several = Array("BT-SEARCH * HTTP/1.1\r\nhost: x\r\nPORT: 7000\r\ninfohash: \(Self.hash.hexString)\r\nINFOHASH: \(Self.other.hexString)\r\nX-Other: 1\r\n\r\n".utf8)
        #expect(try LSDAnnouncement(parsing: several).infoHashes == [Self.hash, Self.other])
    }

    @Test func rejectsWhatIsNotAnAnnounce() {
        func error(_ text: String) -> LSDError? {
            do { _ = try LSDAnnouncement(parsing: Array(text.utf8)); return nil } catch { return error }
        }
        let head = "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\n"
        #expect(error("M-SEARCH * HTTP/1.1\r\n\r\n") == .notAnnouncement)
        #expect(error(head + "Infohash: \(Self.hash.hexString)\r\n\r\n") == .missingPort)
        #expect(error(head + "Port: 6881\r\n\r\n") == .missingInfoHash)
        #expect(error(head + "Port: 0\r\nInfohash: \(Self.hash.hexString)\r\n\r\n") == .badPort("0"))
        #expect(error(head + "Port: 70000\r\nInfohash: \(Self.hash.hexString)\r\n\r\n") == .badPort("70000"))
        #expect(error(head + "Port: +80\r\nInfohash: \(Self.hash.hexString)\r\n\r\n") == .badPort("+80"))
        #expect(error(head + "Port: 6881\r\nInfohash: +736349f80dbf2828186af85ead4a86d5585d2ca\r\n\r\n") != nil)
        #expect(error(head + "Port: 6881\r\nInfohash: e736\r\n\r\n") == .badInfoHash("e736"))
        #expect(error(head + "Port 6881\r\n\r\n") == .malformedHeader("Port 6881"))
        #expect((try? LSDAnnouncement(parsing: [0xff, 0xfe])) == nil)
        #expect((try? LSDAnnouncement(parsing: [UInt8](repeating: 65, count: 5000))) == nil)
        #expect(LSDError.missingPort.description.contains("Port"))
    }

    /// 100k mutations: never a crash, and whatever parses re-encodes and parses to the same value.
    @Test func survivesRandomizedInput() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("BT-SEARCH*HTTP/1.1\r\n:Portinfohash0123456789abcdef ".utf8)
        var parsed = 0
        for _ in 0..<100_000 {
            let bytes = mutated(Self.libtorrentDatagram, alphabet: alphabet, using: &rng)
            guard let announcement = try? LSDAnnouncement(parsing: bytes) else { continue }
            parsed += 1
            #expect((try? LSDAnnouncement(parsing: announcement.encoded())) == announcement)
        }
        #expect(parsed > 0)
    }

    // MARK: announcer

    func announcer(_ torrents: [LSDAnnouncer.Torrent] = [.init(infoHash: hash, port: 6881)]) -> LSDAnnouncer {
        LSDAnnouncer(torrents: torrents, cookie: "c0ffee", interval: 60, answerGap: 5)
    }

    static func sent(_ actions: [LSDAnnouncer.Action]) -> [LSDAnnouncement] {
        actions.compactMap { if case .send(let bytes) = $0 { return try? LSDAnnouncement(parsing: bytes) } else { return nil } }
    }

    @Test func announcesAtStartTwoSecondsLaterThenEveryInterval() {
        var machine = announcer()
        let first = machine.handle(.start(now: 10))
        #expect(Self.sent(first) == [LSDAnnouncement(port: 6881, infoHashes: [Self.hash], cookie: "c0ffee")])
        #expect(first.last == .wake(at: 12))
        #expect(machine.handle(.timer(now: 11.5)) == [.wake(at: 12)])
        let second = machine.handle(.timer(now: 12))
        #expect(Self.sent(second).count == 1)
        #expect(second.last == .wake(at: 72))
        #expect(machine.handle(.timer(now: 40)) == [.wake(at: 72)])
        #expect(Self.sent(machine.handle(.timer(now: 72.1))).count == 1)
    }

    @Test func namesPeersForOurTorrentsOnlyAndIgnoresItself() {
        var machine = announcer()
        _ = machine.handle(.start(now: 0))
        let own = LSDAnnouncement(port: 6881, infoHashes: [Self.hash], cookie: "c0ffee").encoded()
        #expect(machine.handle(.received(own, from: "10.0.0.1", now: 1)) == [])
        let foreign = LSDAnnouncement(port: 6890, infoHashes: [Self.other], cookie: "1").encoded()
        #expect(machine.handle(.received(foreign, from: "10.0.0.5", now: 1)) == [])
        let peer = LSDAnnouncement(port: 6890, infoHashes: [Self.other, Self.hash]).encoded()
        #expect(machine.handle(.received(peer, from: "10.0.0.5", now: 1)) == [.addPeer(infoHash: Self.hash, host: "10.0.0.5", port: 6890)])
        let garbage = machine.handle(.received(Array("hello".utf8), from: "10.0.0.6", now: 1))
        #expect(garbage.count == 1)
        if case .ignored(let why)? = garbage.first { #expect(why.contains("10.0.0.6")) } else { Issue.record("expected .ignored") }
    }

    /// A newcomer is answered at once, or once the gap since our last announce has passed, so
    /// two of ours never echo each other faster than the gap and a late client waits seconds.
    @Test func answersNewcomersAtMostOncePerGap() {
        var machine = announcer()
        _ = machine.handle(.start(now: 0))
        _ = machine.handle(.timer(now: 2))
        let peer = LSDAnnouncement(port: 7000, infoHashes: [Self.hash]).encoded()
        let early = machine.handle(.received(peer, from: "10.0.0.7", now: 4))
        #expect(Self.sent(early).isEmpty)
        #expect(early.last == .wake(at: 7))
        #expect(Self.sent(machine.handle(.received(peer, from: "10.0.0.8", now: 5))).isEmpty)
        let deferred = machine.handle(.timer(now: 7))
        #expect(Self.sent(deferred).count == 1)
        #expect(deferred.last == .wake(at: 67))
        let answered = machine.handle(.received(peer, from: "10.0.0.7", now: 30))
        #expect(Self.sent(answered).count == 1)
        #expect(answered.contains(.wake(at: 90)))
        let again = machine.handle(.received(peer, from: "10.0.0.8", now: 33))
        #expect(Self.sent(again).isEmpty)
        #expect(again.last == .wake(at: 35))
    }

    @Test func oneDatagramPerPortAndBoundedSize() {
        var torrents = [LSDAnnouncer.Torrent(infoHash: Self.hash, port: 6881), .init(infoHash: Self.other, port: 6882)]
        for k in 0..<20 { torrents.append(.init(infoHash: [UInt8](repeating: UInt8(k), count: 20), port: 6883)) }
        var machine = announcer(torrents)
        let datagrams = machine.handle(.start(now: 0)).compactMap { if case .send(let bytes) = $0 { return bytes } else { return nil } }
        let parsed = datagrams.compactMap { try? LSDAnnouncement(parsing: $0) }
        #expect(parsed.count == datagrams.count)
        #expect(parsed.map(\.port) == [6881, 6882, 6883, 6883])
        #expect(parsed.flatMap(\.infoHashes).count == 22)
        #expect(datagrams.allSatisfy { $0.count <= LSDAnnouncement.maximumSize })
    }
}

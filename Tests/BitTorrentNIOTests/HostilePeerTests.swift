import BitTorrent
import BitTorrentNIO
import Foundation
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// Hostile peers against the real seed server on loopback: each is dropped, and a well-behaved
/// peer connected all along still gets correct blocks afterwards.
@Suite(.serialized) struct HostilePeerTests {
    /// A blocking TCP client on 127.0.0.1 with a receive timeout (bounded waits only).
    final class Client {
        let fd: Int32
        init?(port: Int) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let ok = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if ok != 0 { close(fd); return nil }
        }
        deinit { close(fd) }
        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        /// Reads until `count` bytes or EOF/timeout.
        func read(_ count: Int) -> [UInt8] {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while out.count < count {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
                if n <= 0 { break }
                out += buffer[0..<n]
            }
            return out
        }
        /// Whatever arrives next (empty on EOF or timeout).
        func readSome() -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n > 0 ? Array(buffer[0..<n]) : []
        }
        /// True when the server closed the connection (EOF) within the timeout.
        func closedByPeer() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            for _ in 0..<3 {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return true }
                if n < 0 { return errno == ECONNRESET }
            }
            return false
        }
    }

    @Test func hostilePeersAreDroppedWhileOthersAreServed() throws {
        let dir = TestEnv.scratch("bthostile")
        defer { TestEnv.cleanup(dir) }
        let cache = try PartitionCache.open(image: TestEnv.fixture("cz-dos/image"), device: "sda1", cacheDirectory: dir)
        let torrent = ClonezillaLayout.torrent(device: "sda1", extents: cache.extents, pieces: cache.pieces, announce: nil, creationDate: nil)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let port = Int.random(in: 20_000...40_000)
        let server = try SeedServer(metainfo: torrent, cachePath: cache.dataPath, extents: cache.extents,
                                    peerID: Array("-LS0100-hostiletests".utf8), listenPort: UInt16(port), on: group.next(), log: { _ in })
        try server.start(address: "127.0.0.1", port: port).wait()
        defer { try? server.stop().wait() }

        // The good peer: handshake, interested, waits to be unchoked.
        let good = try #require(Client(port: port))
        good.send(Handshake(infoHash: torrent.infoHash, peerID: [UInt8](repeating: 1, count: 20)).encoded() + PeerMessage.interested.encoded())
        var framer = PeerWireFramer()
        framer.append(good.read(68))
        #expect(try framer.nextHandshake()?.infoHash == torrent.infoHash)

        let hostile: [(String, [UInt8])] = [
            ("bad handshake", Array("GET /announce HTTP/1.1\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 60)),
            ("other torrent", Handshake(infoHash: [UInt8](repeating: 9, count: 20), peerID: [UInt8](repeating: 2, count: 20)).encoded()),
            ("oversized message", Handshake(infoHash: torrent.infoHash, peerID: [UInt8](repeating: 3, count: 20)).encoded() + [0x7F, 0xFF, 0xFF, 0xFF, 7]),
            ("request outside a piece", Handshake(infoHash: torrent.infoHash, peerID: [UInt8](repeating: 4, count: 20)).encoded()
                + PeerMessage.request(BlockRequest(index: 5, begin: 0, length: 16_384)).encoded()),
            ("garbage after handshake", Handshake(infoHash: torrent.infoHash, peerID: [UInt8](repeating: 5, count: 20)).encoded()
                + [0, 0, 0, 3, 4, 0xFF, 0xFF]),
        ]
        for (name, bytes) in hostile {
            let client = try #require(Client(port: port), "\(name)")
            client.send(bytes)
            #expect(client.closedByPeer(), "\(name) was not dropped")
        }

        /// Reads messages until `wanted` says stop; at most 10 s.
        func waitFor(_ wanted: (PeerMessage) -> Bool) throws -> Bool {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                while let message = try framer.nextMessage() { if wanted(message) { return true } }
                let bytes = good.readSome()
                if bytes.isEmpty { return false }
                framer.append(bytes)
            }
            return false
        }
        // The good peer is still served: first block of piece 0 equals the partition bytes.
        #expect(try waitFor { $0 == .unchoke })
        good.send(PeerMessage.request(BlockRequest(index: 0, begin: 0, length: 16_384)).encoded())
        var block: [UInt8]?
        _ = try waitFor { message in
            if case .piece(0, 0, let bytes) = message { block = Array(bytes); return true }
            return false
        }
        let expected = TestEnv.readBytes(cache.dataPath)
        let first = try #require(cache.extents.first)
        #expect(block == Array(expected[Int(first.offset)..<Int(first.offset) + 16_384]))
        #expect(server.peerCount == 1)
    }
}

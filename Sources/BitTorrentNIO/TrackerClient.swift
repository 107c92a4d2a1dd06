import BitTorrent
import Foundation
import NIOCore
import NIOPosix

/// One HTTP GET to a tracker (HTTP/1.0, the body ends with the connection); the reply is
/// parsed into peers. Bounded: 10 s and 1 MiB.
enum TrackerClient {
    struct Reply {
        var interval: UInt64
        var peers: [(address: String, port: Int)]
    }

    static func announce(_ url: String, torrent: Metainfo, peerID: [UInt8], port: Int, uploaded: UInt64, downloaded: UInt64,
                         left: UInt64, event: TrackerAnnounce.Event?, on loop: EventLoop) -> EventLoopFuture<Reply> {
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host else {
            return loop.makeFailedFuture(LeechError.tracker("unsupported tracker URL \(url)"))
        }
        let query = "info_hash=\(percent(torrent.infoHash))&peer_id=\(percent(peerID))&port=\(port)&uploaded=\(uploaded)"
            + "&downloaded=\(downloaded)&left=\(left)&compact=1&numwant=200" + (event.map { "&event=\($0.rawValue)" } ?? "")
        let path = (parsed.path.isEmpty ? "/" : parsed.path) + "?" + query
        let request = "GET \(path) HTTP/1.0\r\nHost: \(host)\r\nUser-Agent: LiteServer\r\nConnection: close\r\n\r\n"
        let promise = loop.makePromise(of: [UInt8].self)
        let collector = Collector(promise: promise)
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelInitializer { $0.pipeline.addHandler(collector) }
            .connect(host: host, port: parsed.port ?? 80)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    channel.writeAndFlush(channel.allocator.buffer(string: request), promise: nil)
                    loop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
                case .failure(let error):
                    promise.fail(LeechError.tracker("cannot reach \(url): \(error)"))
                }
            }
        return promise.futureResult.flatMapThrowing { response in try parse(response, url: url) }
    }

    static func parse(_ response: [UInt8], url: String) throws -> Reply {
        guard let split = response.firstRange(of: Array("\r\n\r\n".utf8)) else { throw LeechError.tracker("\(url): no HTTP reply") }
        let body = Array(response[split.upperBound...])
        let value: BencodeValue
        do { value = try BencodeDecoder.decode(body) } catch { throw LeechError.tracker("\(url): \(error)") }
        if let reason = value["failure reason"]?.stringValue { throw LeechError.tracker("\(url): \(reason)") }
        var peers: [(String, Int)] = []
        if let compact = value["peers"]?.bytesValue {
            for at in stride(from: 0, to: compact.count - compact.count % 6, by: 6) {
                peers.append(("\(compact[at]).\(compact[at + 1]).\(compact[at + 2]).\(compact[at + 3])", Int(compact[at + 4]) << 8 | Int(compact[at + 5])))
            }
        } else if let list = value["peers"]?.listValue {
            for peer in list { if let ip = peer["ip"]?.stringValue, let port = peer["port"]?.integerValue { peers.append((ip, Int(port))) } }
        }
        return Reply(interval: UInt64(max(1, value["interval"]?.integerValue ?? 30)), peers: peers)
    }

    static func percent(_ bytes: [UInt8]) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        return bytes.map { unreserved.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
    }

    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<[UInt8]>
        var bytes: [UInt8] = []
        init(promise: EventLoopPromise<[UInt8]>) { self.promise = promise }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytesView
            if bytes.count > 1 << 20 { context.close(promise: nil) }
        }
        func channelInactive(context: ChannelHandlerContext) { promise.succeed(bytes) }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }
}

public enum LeechError: Error, CustomStringConvertible {
    case tracker(String)
    case target(String)
    case layout(String)
    case noTracker

    public var description: String {
        switch self {
        case .tracker(let detail): return "tracker: \(detail)"
        case .target(let detail): return "target: \(detail)"
        case .layout(let detail): return "torrent: \(detail)"
        case .noTracker: return "the torrent names no tracker and local service discovery (BEP 14) is off: no way to find peers"
        }
    }
}

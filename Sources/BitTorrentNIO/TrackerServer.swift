import BitTorrent
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The built-in HTTP tracker: `/announce` and `/scrape` for the served info-hashes only,
/// on the chosen address (Clonezilla's ports are 6969 + 2k).
public final class TrackerServer: @unchecked Sendable {
    private var state: TrackerState
    private let loop: EventLoop
    private var channel: Channel?
    private let started = DispatchTime.now().uptimeNanoseconds

    public init(infoHashes: [[UInt8]], interval: UInt64 = 30, on loop: EventLoop) {
        state = TrackerState(infoHashes: infoHashes)
        state.interval = interval
        state.minInterval = max(1, interval / 3)
        self.loop = loop
    }

    public func start(address: String, port: Int) -> EventLoopFuture<Void> {
        ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [unowned self] channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(TrackerHTTPHandler(tracker: self))
                }
            }
            .bind(host: address, port: port)
            .map { [unowned self] channel in self.channel = channel }
    }

    /// Lists the built-in seed in its swarm for good.
    public func pinSeed(infoHash: [UInt8], address: String, port: UInt16, peerID: [UInt8]) -> EventLoopFuture<Void> {
        loop.submit { [self] in
            let octets = address.split(separator: ".").compactMap { UInt8($0) }
            guard octets.count == 4 else { return }
            state.pinSeed(infoHash: infoHash, address: (octets[0], octets[1], octets[2], octets[3]), port: port, peerID: peerID)
        }
    }

    public func stop() -> EventLoopFuture<Void> { channel?.close() ?? loop.makeSucceededVoidFuture() }

    /// Answers one request: (status, body).
    fileprivate func respond(uri: String, from remote: SocketAddress?) -> (HTTPResponseStatus, [UInt8]) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let query = parts.count > 1 ? String(parts[1]) : ""
        let now = DispatchTime.now().uptimeNanoseconds - started
        if path.hasSuffix("/announce") {
            guard case .v4(let v4)? = remote else { return (.ok, TrackerState.failure("IPv4 peers only")) }
            let raw = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            do {
                let request = try TrackerAnnounce(query: query)
                return (.ok, state.announce(request, from: (UInt8(raw >> 24), UInt8(raw >> 16 & 0xFF), UInt8(raw >> 8 & 0xFF), UInt8(raw & 0xFF)), now: now))
            } catch {
                return (.ok, TrackerState.failure("\(error)"))
            }
        }
        if path.hasSuffix("/scrape") {
            do { return (.ok, state.scrape(try TrackerState.scrapeHashes(query: query), now: now)) } catch { return (.ok, TrackerState.failure("\(error)")) }
        }
        return (.notFound, Array("not found\n".utf8))
    }
}

private final class TrackerHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let tracker: TrackerServer
    var head: HTTPRequestHead?

    init(tracker: TrackerServer) { self.tracker = tracker }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break
        case .end:
            guard let head else { return }
            let (status, body) = head.method == .GET ? tracker.respond(uri: head.uri, from: context.channel.remoteAddress)
                                                     : (.methodNotAllowed, Array("GET only\n".utf8))
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain")
            headers.add(name: "Content-Length", value: String(body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let keepAlive = head.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in if !keepAlive { context.close(promise: nil) } }
            self.head = nil
        }
    }
}

import BitTorrent
import ClonezillaImage
import Foundation
import NIOCore
import NIOPosix

/// Serves one torrent from its partition cache over TCP: each connection runs a `SeedPeer`,
/// blocks are read with `pread` from the sparse cache (mapped through the extents), and a
/// `SeedChoker` re-decides the unchoked peers every `rechokeInterval` and on interest changes.
public final class SeedServer: @unchecked Sendable {
    public let metainfo: Metainfo
    private let cacheFD: Int32
    private let map: PayloadMap
    private let loop: EventLoop
    private let configuration: SeedPeer.Configuration
    private var choker: SeedChoker
    private var distribution: SeedDistribution
    private var connections: [Int: Connection] = [:]
    private var nextID = 0
    private var channel: Channel?
    private var rechokeTask: RepeatedTask?
    private let log: (String) -> Void
    public private(set) var uploadedBytes: UInt64 = 0

    final class Connection {
        let channel: Channel
        var peer: SeedPeer
        var framer = PeerWireFramer()
        init(channel: Channel, peer: SeedPeer) {
            self.channel = channel
            self.peer = peer
        }
    }

    public init(metainfo: Metainfo, cachePath: String, extents: [Extent], peerID: [UInt8], listenPort: UInt16,
                on loop: EventLoop, slots: Int = 4, log: @escaping (String) -> Void) throws {
        self.metainfo = metainfo
        map = PayloadMap(extents: extents)
        guard map.totalLength == metainfo.totalLength else {
            throw SeedServerError.layoutMismatch(cache: map.totalLength, torrent: metainfo.totalLength)
        }
        cacheFD = open(cachePath, O_RDONLY | O_CLOEXEC)
        guard cacheFD >= 0 else { throw SeedServerError.cache(path: cachePath, errno: errno) }
        self.loop = loop
        configuration = SeedPeer.Configuration(peerID: peerID, listenPort: listenPort)
        choker = SeedChoker(slots: slots, quota: 4 * metainfo.pieceLength)
        distribution = SeedDistribution(pieceCount: metainfo.pieces.count)
        self.log = log
    }

    deinit { close(cacheFD) }

    /// Listens on `address:port` (the chosen interface only).
    public func start(address: String, port: Int) -> EventLoopFuture<Void> {
        ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [unowned self] channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(PeerHandler(server: self)) }
            }
            .bind(host: address, port: port)
            .map { [unowned self] channel in
                self.channel = channel
                self.rechokeTask = self.loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(10)) { [unowned self] _ in self.rechoke() }
            }
    }

    public func stop() -> EventLoopFuture<Void> {
        loop.flatSubmit { [self] in
            rechokeTask?.cancel()
            for connection in connections.values { connection.channel.close(promise: nil) }
            return channel?.close() ?? loop.makeSucceededVoidFuture()
        }
    }

    public var peerCount: Int { connections.count }

    // MARK: connection events (on the loop)

    fileprivate func opened(_ channel: Channel) -> Int {
        let id = nextID
        nextID += 1
        connections[id] = Connection(channel: channel, peer: SeedPeer(torrent: SeedPeer.Torrent(metainfo), configuration: configuration))
        return id
    }

    fileprivate func closed(_ id: Int) {
        distribution.peerLeft(id)
        guard connections.removeValue(forKey: id) != nil else { return }
        rechoke()
    }

    fileprivate func received(_ bytes: ByteBuffer, on id: Int) {
        guard let connection = connections[id] else { return }
        connection.framer.append(bytes.readableBytesView)
        do {
            if connection.peer.remote == nil {
                guard let handshake = try connection.framer.nextHandshake() else { return }
                apply(connection.peer.receivedHandshake(handshake), to: connection, id: id)
            }
            var interestChanged = false
            while connections[id] != nil, let message = try connection.framer.nextMessage() {
                let before = connection.peer.isInterested
                apply(connection.peer.received(message), to: connection, id: id)
                noteHoldings(message, of: connection, id: id)
                interestChanged = interestChanged || before != connection.peer.isInterested
            }
            if interestChanged { rechoke() }
        } catch {
            drop(connection, id: id, reason: "\(error)")
        }
    }

    private func apply(_ actions: [SeedPeer.Action], to connection: Connection, id: Int) {
        for action in actions {
            switch action {
            case .send(let bytes):
                connection.channel.writeAndFlush(connection.channel.allocator.buffer(bytes: bytes), promise: nil)
            case .serve(let request):
                if connection.peer.remote?.supportsFast == true, !distribution.shouldServe(Int(request.index), to: id, now: DispatchTime.now().uptimeNanoseconds) {
                    connection.peer.served(request, sent: false)
                    connection.channel.writeAndFlush(connection.channel.allocator.buffer(bytes: PeerMessage.rejectRequest(request).encoded()), promise: nil)
                } else {
                    distribution.peerHas(id, piece: Int(request.index))
                    serve(request, on: connection)
                }
            case .close(let reason):
                drop(connection, id: id, reason: reason)
                return
            }
        }
    }

    /// Pieces a peer announces count as held: the seed need not send them to others first.
    private func noteHoldings(_ message: PeerMessage, of connection: Connection, id: Int) {
        switch message {
        case .have(let piece): distribution.peerHas(id, piece: Int(piece))
        case .bitfield, .haveAll:
            for (index, held) in connection.peer.has.enumerated() where held { distribution.peerHas(id, piece: index) }
        default: break
        }
    }

    private func drop(_ connection: Connection, id: Int, reason: String) {
        distribution.peerLeft(id)
        log("dropping peer \(connection.channel.remoteAddress?.description ?? "?"): \(reason)")
        connections[id] = nil
        connection.channel.close(promise: nil)
        rechoke()
    }

    /// PIECE message straight from the cache: header, then the block read into the buffer.
    private func serve(_ request: BlockRequest, on connection: Connection) {
        let start = UInt64(request.index) * metainfo.pieceLength + UInt64(request.begin)
        guard let segments = map.segments(payloadOffset: start, length: UInt64(request.length)) else {
            connection.peer.served(request, sent: false)
            return
        }
        var buffer = connection.channel.allocator.buffer(capacity: 13 + Int(request.length))
        buffer.writeMultipleIntegers(UInt32(9 + request.length), UInt8(7), request.index, request.begin)
        for segment in segments {
            let wrote = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Int(segment.length)) { target in
                (try? PositionedIO.readFully(cacheFD, into: UnsafeMutableRawBufferPointer(rebasing: target[..<Int(segment.length)]),
                                             at: segment.partitionOffset).get()) ?? 0
            }
            guard wrote == Int(segment.length) else {
                log("cache read failed at \(segment.partitionOffset): \(String(cString: strerror(errno)))")
                connection.peer.served(request, sent: false)
                return
            }
        }
        let promise = loop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [weak connection, unowned self] result in
            guard let connection else { return }
            let sent = (try? result.get()) != nil
            connection.peer.served(request, sent: sent)
            if sent { self.uploadedBytes += UInt64(request.length) }
        }
        connection.channel.writeAndFlush(buffer, promise: promise)
    }

    private func rechoke() {
        let ids = connections.keys.sorted()
        let unchoked = choker.decide(ids.compactMap { id in
            connections[id].map { (id: id, interested: $0.peer.isInterested && !$0.peer.hasEverything, uploaded: $0.peer.uploaded) }
        })
        for id in ids {
            guard let connection = connections[id] else { continue }
            apply(connection.peer.setChoked(!unchoked.contains(id)), to: connection, id: id)
        }
    }
}

private final class PeerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let server: SeedServer
    var id: Int?

    init(server: SeedServer) { self.server = server }

    func channelActive(context: ChannelHandlerContext) { id = server.opened(context.channel) }
    func channelInactive(context: ChannelHandlerContext) { if let id { server.closed(id) } }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let id { server.received(unwrapInboundIn(data), on: id) }
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

public enum SeedServerError: Error, CustomStringConvertible {
    case layoutMismatch(cache: UInt64, torrent: UInt64)
    case cache(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .layoutMismatch(let cache, let torrent): return "the cache holds \(cache) payload bytes but the torrent \(torrent)"
        case .cache(let path, let code): return "\(path): \(String(cString: strerror(code)))"
        }
    }
}

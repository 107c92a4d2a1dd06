import BitTorrent
import ClonezillaImage
import Foundation
import NIOCore
import NIOPosix

/// Serves one torrent from its partition cache over TCP: each connection runs a `SeedPeer`,
/// blocks are read with `pread` from the sparse cache (mapped through the extents), and a
/// `SeedChoker` re-decides the unchoked peers every 10 s and on interest changes. With
/// `superSeeding` (the deployment seed) `SeedOffers` decides which pieces each peer is shown.
public final class SeedServer: @unchecked Sendable {
    public let metainfo: Metainfo
    private let cacheFD: Int32
    private let map: PayloadMap
    private let loop: EventLoop
    private let configuration: SeedPeer.Configuration
    private var choker: SeedChoker
    private var offers: SeedOffers?
    private var offerTask: RepeatedTask?
    private var connections: [Int: Connection] = [:]
    private var nextID = 0
    private var channel: Channel?
    private var rechokeTask: RepeatedTask?
    private let log: (String) -> Void
    public private(set) var uploadedBytes: UInt64 = 0

    final class Connection {
        let id: Int
        let channel: Channel
        var peer: SeedPeer
        var framer = PeerWireFramer()
        var offersReady = false
        var handshakeAt: UInt64 = 0
        init(id: Int, channel: Channel, peer: SeedPeer) {
            self.id = id
            self.channel = channel
            self.peer = peer
        }
    }

    public init(metainfo: Metainfo, cachePath: String, extents: [Extent], peerID: [UInt8], listenPort: UInt16,
                on loop: EventLoop, slots: Int = 4, superSeeding: Bool = false, log: @escaping (String) -> Void) throws {
        self.metainfo = metainfo
        map = PayloadMap(extents: extents)
        guard map.totalLength == metainfo.totalLength else {
            throw SeedServerError.layoutMismatch(cache: map.totalLength, torrent: metainfo.totalLength)
        }
        cacheFD = open(cachePath, O_RDONLY | O_CLOEXEC)
        guard cacheFD >= 0 else { throw SeedServerError.cache(path: cachePath, errno: errno) }
        self.loop = loop
        // Super-seeding hands out a peer's pieces one HAVE at a time. With no more pieces than a
        // peer is offered at once it saves nothing, and the HAVE that completes the set makes
        // libtorrent see a seed before it has decided it is interested, and hang up
        // ("uninteresting upload-only peer"): small partitions are seeded plainly.
        let superSeeding = superSeeding && metainfo.pieces.count > SeedOffers.defaultPerPeer
        configuration = SeedPeer.Configuration(peerID: peerID, listenPort: listenPort, superSeeding: superSeeding)
        choker = SeedChoker(slots: slots, quota: 4 * metainfo.pieceLength)
        offers = superSeeding ? SeedOffers(pieceCount: metainfo.pieces.count) : nil
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
                if self.offers != nil {
                    self.offerTask = self.loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [unowned self] _ in self.makeOffers() }
                }
            }
    }

    public func stop() -> EventLoopFuture<Void> {
        loop.flatSubmit { [self] in
            rechokeTask?.cancel()
            offerTask?.cancel()
            for connection in connections.values { connection.channel.close(promise: nil) }
            return channel?.close() ?? loop.makeSucceededVoidFuture()
        }
    }

    public var peerCount: Int { connections.count }

    // MARK: connection events (on the loop)

    fileprivate func opened(_ channel: Channel) -> Int {
        let id = nextID
        nextID += 1
        connections[id] = Connection(id: id, channel: channel, peer: SeedPeer(torrent: SeedPeer.Torrent(metainfo), configuration: configuration))
        return id
    }

    fileprivate func closed(_ id: Int) {
        offers?.peerLeft(id)
        guard connections.removeValue(forKey: id) != nil else { return }
        rechoke()
    }

    fileprivate func received(_ bytes: ByteBuffer, on id: Int) {
        guard let connection = connections[id] else { return }
        connection.framer.append(bytes.readableBytesView)
        var slotChanged = false
        var progress = false
        do {
            if connection.peer.remote == nil {
                guard let handshake = try connection.framer.nextHandshake() else { return }
                apply(connection.peer.receivedHandshake(handshake), to: connection, id: id)
                connection.handshakeAt = now
                slotChanged = true   // a new peer is a candidate for a slot (and offers) at once
            }
            while connections[id] != nil, let message = try connection.framer.nextMessage() {
                // Offers wait for the peer's first message after the handshake: libtorrent
                // sometimes ignores a HAVE that arrives before it has sent its own bitfield.
                if !connection.offersReady {
                    markReady(connection)
                    slotChanged = true
                }
                let before = connection.peer.wantsSlot
                apply(connection.peer.received(message), to: connection, id: id)
                progress = noteHoldings(message, of: connection, id: id) || progress
                slotChanged = slotChanged || before != connection.peer.wantsSlot
            }
            if slotChanged { rechoke() } else if progress { makeOffers() }
        } catch {
            drop(connection, id: id, reason: "\(error)")
        }
    }

    /// Writes without flushing: the replies to one read burst leave in one `writev` when the
    /// read completes (`flush(_:)`), so the kernel sees large sends instead of a 16 KiB write
    /// per block (on veth most of the seed's CPU was per-write TCP work).
    private func apply(_ actions: [SeedPeer.Action], to connection: Connection, id: Int) {
        for action in actions {
            switch action {
            case .send(let bytes):
                connection.channel.write(connection.channel.allocator.buffer(bytes: bytes), promise: nil)
            case .serve(let request):
                offers?.peerRequested(id, piece: Int(request.index), now: now)
                serve(request, on: connection)
            case .close(let reason):
                drop(connection, id: id, reason: reason)
                return
            }
        }
    }

    /// Pieces a peer announces count as held: the seed need not send them to others first.
    /// True when the message told of a piece.
    private func noteHoldings(_ message: PeerMessage, of connection: Connection, id: Int) -> Bool {
        guard offers != nil else { return false }
        switch message {
        case .have(let piece):
            offers?.peerHas(id, piece: Int(piece), now: now)
        case .bitfield, .haveAll:
            for (index, held) in connection.peer.has.enumerated() where held { offers?.peerHas(id, piece: index, now: now) }
        default: return false
        }
        return true
    }

    private func markReady(_ connection: Connection) {
        connection.offersReady = true
        offers?.peerJoined(connection.id, now: now)
    }

    /// Announces the pieces `SeedOffers` picks (HAVE), each to its peer. A peer that has said
    /// nothing a second after its handshake (it need not send a bitfield) is ready anyway.
    private func makeOffers() {
        let quiet = connections.values.filter { !$0.offersReady && $0.peer.remote != nil && now > $0.handshakeAt + 1_000_000_000 }
        for connection in quiet { markReady(connection) }
        if !quiet.isEmpty { rechoke() }
        guard let made = offers?.decide(now: now), !made.isEmpty else { return }
        for (id, piece) in made {
            guard let connection = connections[id] else { continue }
            apply(connection.peer.offer(piece), to: connection, id: id)
            connection.channel.flush()
        }
    }

    private var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    private func drop(_ connection: Connection, id: Int, reason: String) {
        offers?.peerLeft(id)
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
            let delivered = connection.peer.served(request, sent: sent)
            if sent { self.uploadedBytes += UInt64(request.length) }
            if let delivered {
                self.offers?.peerHas(connection.id, piece: delivered, now: self.now)
                self.makeOffers()
            }
        }
        connection.channel.write(buffer, promise: promise)
    }

    fileprivate func flush(_ id: Int) { connections[id]?.channel.flush() }

    private func rechoke() {
        let ids = connections.keys.sorted()
        let unchoked = choker.decide(ids.compactMap { id in
            connections[id].map { (id: id, interested: $0.peer.wantsSlot, uploaded: $0.peer.uploaded) }
        })
        for id in ids {
            guard let connection = connections[id] else { continue }
            apply(connection.peer.setChoked(!unchoked.contains(id)), to: connection, id: id)
            offers?.setUnchoked(id, unchoked.contains(id), now: now)
            connection.channel.flush()
        }
        makeOffers()
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
    func channelReadComplete(context: ChannelHandlerContext) { if let id { server.flush(id) } }
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

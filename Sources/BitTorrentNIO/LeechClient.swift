import BitTorrent
import ClonezillaImage
import Foundation
import NIOCore
import NIOPosix

/// Downloads a Clonezilla-layout torrent straight into a partition (block device or image
/// file): verified pieces are written at their extents' offsets. A restart re-checks what the
/// target already holds. After completion the target is seeded for `seedTime`.
public final class LeechClient: @unchecked Sendable {
    public struct Report: Sendable {
        public var downloaded: UInt64
        public var wasted: UInt64
        public var hashFailures: Int
        public var alreadyThere: Int
        public var seconds: Double
        public var uploadedWhileSeeding: UInt64
    }

    private let torrent: Metainfo
    private let extents: [Extent]
    private let map: PayloadMap
    private let targetPath: String
    private let fd: Int32
    /// Where the partition starts in the target (0 for a partition device; its offset on a
    /// whole disk or disk image file).
    private let base: UInt64
    private let address: String
    private let port: Int
    private let seedTime: Double
    private let log: (String) -> Void
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let loop: EventLoop
    private var session: LeechSession
    private var channels: [Int: Channel] = [:]
    private var framers: [Int: PeerWireFramer] = [:]
    private var connectedTo: Set<String> = []
    private var nextID = 0
    private var done: EventLoopPromise<Void>!
    private var announceTask: Scheduled<Void>?
    private let alreadyThere: Int
    private let useLSD: Bool
    private var lsd: LSDService?

    /// Opens the target and checks it is large enough for every extent before anything is
    /// written; pieces already there (hash matches) are not downloaded again. `lsd` adds BEP 14
    /// local service discovery to the tracker (or replaces it when the torrent names none).
    public init(torrent: Metainfo, target: String, base: UInt64 = 0, address: String, port: Int = 6881, seedTime: Double = 90,
                lsd: Bool = false, log: @escaping (String) -> Void) throws {
        self.base = base
        self.torrent = torrent
        guard lsd || !(torrent.announce ?? "").isEmpty else { throw LeechError.noTracker }
        var extents: [Extent] = []
        for file in torrent.files {
            guard let offset = ClonezillaLayout.offset(ofPath: file.path) else {
                throw LeechError.layout("file \(file.path.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")) is not named by a hex offset")
            }
            extents.append(Extent(offset: offset, length: file.length))
        }
        self.extents = extents
        map = PayloadMap(extents: extents)
        targetPath = target
        let needed = base + (extents.map { $0.offset + $0.length }.max() ?? 0)
        fd = open(target, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw LeechError.target("\(target): \(String(cString: strerror(errno)))") }
        var size: UInt64 = 0
        var st = stat()
        fstat(fd, &st)
        if (st.st_mode & S_IFMT) == S_IFBLK {
            size = UInt64(lseek(fd, 0, SEEK_END))
        } else {
            size = UInt64(st.st_size)
        }
        guard size >= needed else {
            close(fd)
            throw LeechError.target("\(target) holds \(size) bytes; the torrent's extents reach \(needed)")
        }
        self.address = address
        self.port = port
        self.seedTime = seedTime
        self.log = log
        useLSD = lsd
        loop = group.next()
        var peerID = Array("-LS0100-".utf8)
        peerID += (0..<12).map { _ in UInt8.random(in: 48...57) }
        var have = [Bool](repeating: false, count: torrent.pieces.count)
        for index in have.indices {
            let start = UInt64(index) * torrent.pieceLength
            if let bytes = Self.read(fd: fd, map: map, base: base, offset: start, length: torrent.length(ofPiece: index)),
               Metainfo.sha1(bytes) == torrent.pieces[index] { have[index] = true }
        }
        alreadyThere = have.filter { $0 }.count
        session = LeechSession(torrent: torrent, peerID: peerID, have: have)
    }

    deinit {
        close(fd)
        try? group.syncShutdownGracefully()
    }

    /// Runs to completion and the seeding time; blocks the calling thread.
    public func run() throws -> Report {
        let started = Date()
        if alreadyThere > 0 { log("\(alreadyThere) of \(torrent.pieces.count) pieces already on \(targetPath)") }
        done = loop.makePromise()
        if useLSD && !session.isComplete { try startLSD() }
        loop.execute { [self] in
            if session.isComplete { done.succeed(()) } else if hasTracker { announce(event: .started) }
        }
        try done.futureResult.wait()
        fsync(fd)
        let downloadSeconds = Date().timeIntervalSince(started)
        log(String(format: "download complete: %llu bytes in %.1f s", session.downloadedBytes, downloadSeconds))
        var uploaded: UInt64 = 0
        try loop.submit { [self] in
            announceTask?.cancel()
            for channel in channels.values { channel.close(promise: nil) }
        }.wait()
        if seedTime > 0 {
            let seed = try SeedServer(metainfo: torrent, cachePath: targetPath, extents: extents, peerID: session.peerID,
                                      listenPort: UInt16(port), on: loop, log: log)
            try seed.start(address: address, port: port).wait()
            _ = try? announceOnce(event: .completed).wait()
            Thread.sleep(forTimeInterval: seedTime)
            uploaded = seed.uploadedBytes
            try? seed.stop().wait()
        }
        try? lsd?.stop().wait()
        _ = try? announceOnce(event: .stopped).wait()
        return Report(downloaded: session.downloadedBytes, wasted: session.wastedBytes, hashFailures: session.hashFailures,
                      alreadyThere: alreadyThere, seconds: downloadSeconds, uploadedWhileSeeding: uploaded)
    }

    // MARK: tracker and local service discovery

    private var hasTracker: Bool { !(torrent.announce ?? "").isEmpty }

    private func startLSD() throws {
        let service = LSDService(torrents: [LSDAnnouncer.Torrent(infoHash: torrent.infoHash, port: UInt16(port))], address: address,
                                 on: loop, log: log) { [unowned self] _, host, peerPort in connect(host, peerPort) }
        try service.start().wait()
        lsd = service
    }

    private func announceOnce(event: TrackerAnnounce.Event?) -> EventLoopFuture<TrackerClient.Reply> {
        guard hasTracker else { return loop.makeFailedFuture(LeechError.noTracker) }
        return TrackerClient.announce(torrent.announce ?? "", torrent: torrent, peerID: session.peerID, port: port, uploaded: 0,
                               downloaded: session.downloadedBytes, left: session.leftBytes, event: event, on: loop)
    }

    private func announce(event: TrackerAnnounce.Event?) {
        announceOnce(event: event).whenComplete { [self] result in
            var wait: Int64 = 5
            switch result {
            case .success(let reply):
                wait = Int64(min(reply.interval, 30))
                for peer in reply.peers { connect(peer.address, peer.port) }
            case .failure(let error):
                log("\(error)")
            }
            // Re-announce soon while no peer is connected (a seed may not be known yet).
            if channels.isEmpty { wait = min(wait, 3) }
            announceTask = loop.scheduleTask(in: .seconds(wait)) { [self] in if !session.isComplete { announce(event: nil) } }
        }
    }

    // MARK: peers

    private func connect(_ host: String, _ peerPort: Int) {
        let key = "\(host):\(peerPort)"
        guard !(host == address && peerPort == port), !connectedTo.contains(key), !session.isComplete else { return }
        connectedTo.insert(key)
        let id = nextID
        nextID += 1
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in channel.pipeline.addHandler(LeechPeerHandler(client: self, id: id)) }
            .connect(host: host, port: peerPort)
            .whenFailure { [self] error in
                connectedTo.remove(key)
                log("cannot connect to \(key): \(error)")
            }
    }

    fileprivate func opened(_ id: Int, _ channel: Channel) {
        channels[id] = channel
        framers[id] = PeerWireFramer()
        apply(session.connected(id))
    }

    fileprivate func closed(_ id: Int) {
        guard let channel = channels.removeValue(forKey: id) else { return }
        framers[id] = nil
        if let remote = channel.remoteAddress, let ip = remote.ipAddress, let p = remote.port { connectedTo.remove("\(ip):\(p)") }
        session.disconnected(id)
    }

    fileprivate func received(_ id: Int, _ bytes: ByteBuffer) {
        guard framers[id] != nil else { return }
        framers[id]!.append(bytes.readableBytesView)
        do {
            if framers[id]!.handshake == nil {
                guard let handshake = try framers[id]!.nextHandshake() else { return }
                apply(session.handshake(id, handshake))
            }
            while framers[id] != nil, let message = try framers[id]!.nextMessage() {
                apply(session.received(id, message))
            }
        } catch {
            log("peer \(channels[id]?.remoteAddress?.description ?? "?"): \(error)")
            channels[id]?.close(promise: nil)
        }
    }

    private func apply(_ actions: [LeechSession.Action]) {
        for action in actions {
            switch action {
            case .send(let id, let bytes):
                if let channel = channels[id] { channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil) }
            case .write(let piece, let bytes):
                if let error = write(piece: piece, bytes: bytes) {
                    done.fail(LeechError.target(error))
                    return
                }
            case .close(let id, let reason):
                log("dropping peer: \(reason)")
                channels[id]?.close(promise: nil)
            case .complete:
                done.succeed(())
            }
        }
    }

    private func write(piece: Int, bytes: [UInt8]) -> String? {
        guard let segments = map.segments(payloadOffset: UInt64(piece) * torrent.pieceLength, length: UInt64(bytes.count)) else {
            return "piece \(piece) lies outside the extents"
        }
        var at = 0
        for segment in segments {
            let failure = bytes.withUnsafeBytes { all in
                PositionedIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: all[at..<(at + Int(segment.length))]), at: base + segment.partitionOffset)
            }
            if let failure { return "\(targetPath): \(String(cString: strerror(failure)))" }
            at += Int(segment.length)
        }
        return nil
    }

    static func read(fd: Int32, map: PayloadMap, base: UInt64 = 0, offset: UInt64, length: UInt64) -> [UInt8]? {
        guard let segments = map.segments(payloadOffset: offset, length: length) else { return nil }
        var out = [UInt8](repeating: 0, count: Int(length))
        var at = 0
        for segment in segments {
            let n = out.withUnsafeMutableBytes { all in
                PositionedIO.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: all[at..<(at + Int(segment.length))]), at: base + segment.partitionOffset)
            }
            guard (try? n.get()) == Int(segment.length) else { return nil }
            at += Int(segment.length)
        }
        return out
    }
}

private final class LeechPeerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let client: LeechClient
    let id: Int
    init(client: LeechClient, id: Int) {
        self.client = client
        self.id = id
    }
    func channelActive(context: ChannelHandlerContext) { client.opened(id, context.channel) }
    func channelInactive(context: ChannelHandlerContext) { client.closed(id) }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { client.received(id, unwrapInboundIn(data)) }
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

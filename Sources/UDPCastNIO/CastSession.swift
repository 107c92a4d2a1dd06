import NIOCore
import NIOPosix
import UDPCast

/// What sender and receiver drivers share: one event loop, the sockets, the address cache,
/// batched writes with one flush, and the single timer that wakes a state machine.
public class CastSession {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop: EventLoop
    let interface: CastInterface
    var sendChannel: Channel?
    var extraChannels: [Channel] = []
    private var addresses: [Endpoint: SocketAddress] = [:]
    private var timer: Scheduled<Void>?
    private var timerDeadline: Nanoseconds?
    private var pendingFlush = false
    private var batch: SegmentBatch?
    /// Set by a driver to the size of a full DATA packet: runs of such packets to one
    /// destination leave in one UDP GSO write (the kernel cuts them into the very same
    /// datagrams), so the sender pays one trip through the stack per run instead of per block.
    var segmentSize: Int?
    static let minimumDelay: Nanoseconds = 30_000

    init(interface: CastInterface) {
        self.interface = interface
        loop = group.next()
    }

    private var loopStopped = false

    deinit { stopLoop() }

    /// Waits for the session's result, then stops the event loop, so that no callback of this
    /// session can run once `run` has returned (even one whose cancellation came too late).
    func awaitResult<T>(_ future: EventLoopFuture<T>, beforeStopping: () -> Void = {}) throws -> T {
        defer {
            beforeStopping()
            stopLoop()
        }
        return try future.wait()
    }

    private func stopLoop() {
        guard !loopStopped else { return }
        loopStopped = true
        try? group.syncShutdownGracefully()
    }

    func address(_ endpoint: Endpoint) -> SocketAddress {
        if let cached = addresses[endpoint] { return cached }
        let made = SocketAddress(endpoint)
        addresses[endpoint] = made
        return made
    }

    func send(_ message: UDPCastMessage, to endpoint: Endpoint) {
        guard let channel = sendChannel else { return }
        if let size = segmentSize, CastSocket.blockMessageSize(message) == size {
            if let open = batch, open.destination != endpoint || open.isFull { writeBatch() }
            if batch == nil {
                batch = SegmentBatch(destination: endpoint, segmentSize: size, buffer: channel.allocator.buffer(capacity: size * SegmentBatch.maxSegments(size)))
            }
            CastSocket.encode(message, into: &batch!.buffer)
            batch!.count += 1
            return
        }
        writeBatch()
        var buffer = channel.allocator.buffer(capacity: CastSocket.blockMessageSize(message) ?? 64)
        CastSocket.encode(message, into: &buffer)
        channel.write(AddressedEnvelope(remoteAddress: address(endpoint), data: buffer), promise: nil)
        pendingFlush = true
    }

    private func writeBatch() {
        guard let open = batch, let channel = sendChannel else { return }
        batch = nil
        pendingFlush = true
        guard open.count > 1 else {
            channel.write(AddressedEnvelope(remoteAddress: address(open.destination), data: open.buffer), promise: nil)
            return
        }
        let envelope = AddressedEnvelope(remoteAddress: address(open.destination), data: open.buffer,
                                         metadata: .init(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: open.segmentSize))
        let promise = loop.makePromise(of: Void.self)
        // Loop callbacks hold the session unowned(unsafe): a weak reference would move its
        // reference count to a side table and slow every retain on the per-packet path. Safe
        // because `awaitResult` stops the loop before `run` returns.
        promise.futureResult.whenFailure { [unowned(unsafe) self] error in
            // The kernel refuses GSO when a segment does not fit the link MTU (EMSGSIZE) or the
            // route cannot offload checksums (EIO, EINVAL on older kernels): send block by
            // block from now on. This write's blocks count as lost; the protocol asks again.
            guard self.segmentSize != nil, Self.refusesSegmentation(error) else { return }
            self.segmentSize = nil
            self.segmentationRefused(error)
        }
        channel.write(envelope, promise: promise)
    }

    static func refusesSegmentation(_ error: Error) -> Bool {
        if let error = error as? ChannelError { return error == .writeMessageTooLarge }   // NIO's EMSGSIZE
        if let code = (error as? IOError)?.errnoCode { return code == EIO || code == EINVAL || code == EMSGSIZE }
        return false
    }

    /// Called once when the kernel refuses a segmented write.
    func segmentationRefused(_ error: Error) {}

    func flush() {
        writeBatch()
        if pendingFlush { sendChannel?.flush() }
        pendingFlush = false
    }

    var canWrite: Bool { sendChannel?.isWritable ?? false }

    /// Arms the timer for `deadline`. A later deadline keeps an armed earlier timer: it fires
    /// early, the machine finds nothing due and the driver re-arms (a receive timeout moves
    /// with every packet; re-arming per packet would cost more than the rare early wake-up).
    /// A deadline already due still waits `minimumDelay`: NIO runs every task that is ready
    /// before it polls the sockets again, so an immediate re-arm would starve the reads.
    func schedule(_ deadline: Nanoseconds?, fire: @escaping () -> Void) {
        if timer != nil, let armed = timerDeadline, let deadline, armed <= deadline { return }
        timer?.cancel()
        timer = nil
        timerDeadline = deadline
        guard let deadline else { return }
        let now = MonotonicClock.now()
        let delay = TimeAmount.nanoseconds(Int64(max(deadline > now ? deadline - now : 0, Self.minimumDelay)))
        timer = loop.scheduleTask(in: delay) { [unowned(unsafe) self] in
            self.timer = nil
            self.timerDeadline = nil
            fire()
        }
    }

    func closeAll() {
        batch = nil
        timer?.cancel()
        for channel in extraChannels + [sendChannel].compactMap({ $0 }) { _ = channel.close() }
        extraChannels = []
        sendChannel = nil
    }

    func closeExtras() {
        for channel in extraChannels { _ = channel.close() }
        extraChannels = []
    }
}

/// Equal-size block messages to one destination, back to back, for one segmented write.
struct SegmentBatch {
    let destination: Endpoint
    let segmentSize: Int
    var buffer: ByteBuffer
    var count = 0

    /// The kernel takes at most 64 segments (UDP_MAX_SEGMENTS on older kernels) and one IP
    /// datagram's worth of UDP payload per write.
    static func maxSegments(_ segmentSize: Int) -> Int { max(1, min(64, 65_507 / segmentSize)) }
    var isFull: Bool { count >= Self.maxSegments(segmentSize) }
}

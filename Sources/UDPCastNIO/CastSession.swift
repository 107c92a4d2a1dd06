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
    static let minimumDelay: Nanoseconds = 30_000

    init(interface: CastInterface) {
        self.interface = interface
        loop = group.next()
    }

    deinit { try? group.syncShutdownGracefully() }

    func address(_ endpoint: Endpoint) -> SocketAddress {
        if let cached = addresses[endpoint] { return cached }
        let made = SocketAddress(endpoint)
        addresses[endpoint] = made
        return made
    }

    func send(_ message: UDPCastMessage, to endpoint: Endpoint) {
        guard let channel = sendChannel else { return }
        CastSocket.write(message, to: address(endpoint), on: channel)
        pendingFlush = true
    }

    func flush() {
        if pendingFlush { sendChannel?.flush() }
        pendingFlush = false
    }

    var canWrite: Bool { sendChannel?.isWritable ?? false }

    /// Arms the timer for `deadline` (replacing an earlier one). A deadline already due still
    /// waits `minimumDelay`: NIO runs every task that is ready before it polls the sockets
    /// again, so an immediate re-arm would starve the reads of replies.
    func schedule(_ deadline: Nanoseconds?, fire: @escaping () -> Void) {
        guard deadline != timerDeadline || timer == nil else { return }
        timer?.cancel()
        timer = nil
        timerDeadline = deadline
        guard let deadline else { return }
        let now = MonotonicClock.now()
        let delay = TimeAmount.nanoseconds(Int64(max(deadline > now ? deadline - now : 0, Self.minimumDelay)))
        timer = loop.scheduleTask(in: delay) { [weak self] in
            self?.timer = nil
            self?.timerDeadline = nil
            fire()
        }
    }

    func closeAll() {
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

import NIOCore
import NetworkNIO
import TFTP
#if canImport(Glibc)
import Glibc
#endif

/// One read transfer on its own port: the `ReadTransfer` state machine, the file it reads and
/// the client it talks to. DATA payloads are read from the file straight into the send buffer.
final class TFTPTransferHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private var transfer: ReadTransfer
    private let file: ConfinedFiles.OpenFile
    private let name: String
    private let client: SocketAddress
    private let clientAddress: (address: IPv4Address, port: UInt16)?
    private let log: ServiceLog
    private let onEnd: () -> Void
    private var context: ChannelHandlerContext?
    private var ended = false
    private let started = MonotonicClock.seconds
    /// One timer at a time; a later deadline only moves `deadline` (no reschedule per block).
    private var deadline: Double?
    private var timer: Scheduled<Void>?
    private var timerFiresAt = Double.infinity
    private var sentBytes: UInt64 = 0

    init(transfer: ReadTransfer, file: ConfinedFiles.OpenFile, name: String, client: SocketAddress,
         log: @escaping ServiceLog, onEnd: @escaping () -> Void) {
        self.transfer = transfer
        self.file = file
        self.name = name
        self.client = client
        clientAddress = client.ipv4
        self.log = log
        self.onEnd = onEnd
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Called on the channel's loop once the socket is bound.
    func begin() {
        apply(transfer.handle(.start(now: MonotonicClock.seconds)))
    }

    /// The socket could not be made: release what the transfer holds.
    func abandon() { end(nil) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = envelope.remoteAddress.ipv4 else { return }
        guard let clientAddress, source.address == clientAddress.address, source.port == clientAddress.port else {
            // RFC 1350: a packet from a foreign TID gets ERROR 5 and changes nothing.
            let error = TFTPPacket.error(code: .unknownTransferID, message: "Unknown transfer ID").encoded()
            context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: context.channel.allocator.buffer(bytes: error))), promise: nil)
            return
        }
        guard let packet = try? TFTPPacket(parsing: Array(envelope.data.readableBytesView)) else { return }
        apply(transfer.handle(.received(packet, now: MonotonicClock.seconds)))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port unreachable: the client went away; the retry timer ends the transfer.
    }

    private func apply(_ actions: [ReadTransfer.Action]) {
        guard let context, !ended else { return }
        var wrote = false
        for action in actions {
            switch action {
            case .send(let packet):
                write(context.channel.allocator.buffer(bytes: packet.encoded()), context)
                wrote = true
            case .sendData(let block, let offset, let length):
                var buffer = context.channel.allocator.buffer(capacity: 4 + length)
                buffer.writeMultipleIntegers(UInt16(3), block)
                let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { pointer in
                    length == 0 ? 0 : max(0, pread(file.descriptor, pointer.baseAddress, length, off_t(offset)))
                }
                guard read == length else {
                    write(context.channel.allocator.buffer(bytes: TFTPPacket.error(code: .notDefined, message: "Read error").encoded()), context)
                    context.flush()
                    return end("file \(name) could not be read at \(offset) (changed while served?)")
                }
                sentBytes = max(sentBytes, offset + UInt64(length))
                write(buffer, context)
                wrote = true
            case .wake(let at):
                arm(at)
            case .finished:
                if wrote { context.flush() }
                return end(nil)
            case .aborted(let reason):
                if wrote { context.flush() }
                return end(reason)
            }
        }
        if wrote { context.flush() }
    }

    private func write(_ buffer: ByteBuffer, _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: buffer)), promise: nil)
    }

    private func arm(_ at: Double) {
        deadline = at
        guard at < timerFiresAt, let context else { return }
        timer?.cancel()
        timerFiresAt = at
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(max(0, at - MonotonicClock.seconds) * 1e9))) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timerFiresAt = .infinity
        timer = nil
        guard let deadline, !ended else { return }
        let now = MonotonicClock.seconds
        if now + 0.001 < deadline { return arm(deadline) }
        self.deadline = nil
        apply(transfer.handle(.timer(now: now)))
    }

    private func end(_ failure: String?) {
        guard !ended else { return }
        ended = true
        timer?.cancel()
        close(file.descriptor)
        onEnd()
        let who = clientAddress.map { "\($0.address):\($0.port)" } ?? "?"
        let seconds = MonotonicClock.seconds - started
        let n = transfer.negotiation
        let options = "blksize \(n.blockSize)" + (n.windowSize > 1 ? " windowsize \(n.windowSize)" : "")
        if let failure {
            log("tftp: \(who): \(name) failed after \(sentBytes) of \(file.size) bytes: \(failure)")
        } else if sentBytes == 0 && file.size > 0 {
            log("tftp: \(who): \(name) size query answered (\(file.size) bytes, \(options))")
        } else {
            let rate = seconds > 0 ? Double(file.size) / seconds / 1_048_576 : 0
            log("tftp: \(who): sent \(name) (\(file.size) bytes, \(options), \(String(format: "%.2f", seconds)) s, \(String(format: "%.1f", rate)) MiB/s)")
        }
        context?.channel.close(promise: nil)
        context = nil
    }
}

import NIOCore
import NIOPosix
import UDPCast
#if canImport(Glibc)
import Glibc
#endif

/// One bound UDP socket of a session. Every socket hands decoded datagrams to the same
/// callback on the session's event loop; undecodable ones are dropped.
final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let onMessage: (UDPCastMessage, Endpoint) -> Void
    /// DATA and FEC with the payload still in the receive buffer (receivers: no copy first).
    let onBlock: ((BlockHeader, UnsafeRawBufferPointer, Endpoint) -> Void)?
    let onWritable: () -> Void

    init(onMessage: @escaping (UDPCastMessage, Endpoint) -> Void,
         onBlock: ((BlockHeader, UnsafeRawBufferPointer, Endpoint) -> Void)? = nil,
         onWritable: @escaping () -> Void) {
        self.onMessage = onMessage
        self.onBlock = onBlock
        self.onWritable = onWritable
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = envelope.remoteAddress.endpoint else { return }
        // With receive offload the kernel hands over a run of equal datagrams in one buffer.
        let segment = envelope.metadata?.segmentSize ?? 0
        envelope.data.withUnsafeReadableBytes { bytes in
            let step = segment > 0 ? segment : max(bytes.count, 1)
            var start = 0
            repeat {
                let datagram = UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + step, bytes.count)])
                if let onBlock, let header = UDPCastMessage.blockHeader(datagram) {
                    onBlock(header, UnsafeRawBufferPointer(rebasing: datagram[UDPCastMessage.dataHeaderSize...]), source)
                } else if let message = try? UDPCastMessage.decode(datagram) {
                    onMessage(message, source)
                }   // undecodable datagrams are dropped, as udpcast drops them
                start += step
            } while start < bytes.count
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { onWritable() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors (a receiver that went away) surface here; the protocol handles absence.
    }
}

enum CastSocket {
    static let vectorReads = 64
    /// With receive offload one read may carry a 64 KiB run of datagrams; NIO splits the
    /// receive buffer evenly among the messages of a vector read.
    static let offloadVectorReads = 16
    static let offloadMessageSize = 65_536

    struct Options {
        var broadcast = false
        var multicastInterface: IPv4Address?
        var ttl: UInt8 = 1
        var receiveBuffer: Int?
        var sendBuffer: Int?
        var join: (group: IPv4Address, device: NIONetworkDevice)?
        /// UDP_GRO: take runs of datagrams in one read (data sockets of a receiver).
        var receiveOffload = false
    }

    /// Binds `address:port` on `loop` (blocking until bound); not for use on the loop itself.
    static func bind(_ address: IPv4Address, port: UInt16, on loop: EventLoop, options: Options,
                     handler: @escaping () -> DatagramHandler) throws -> Channel {
        try bindAsync(address, port: port, on: loop, options: options, handler: handler).wait()
    }

    static func bindAsync(_ address: IPv4Address, port: UInt16, on loop: EventLoop, options: Options,
                          handler: @escaping () -> DatagramHandler) -> EventLoopFuture<Channel> {
        let offload = options.receiveOffload && System.supportsUDPReceiveOffload
        let messages = offload ? offloadVectorReads : vectorReads
        return DatagramBootstrap(group: loop)
            // recvmmsg: NIO splits one receive buffer evenly among the vector's messages.
            .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: messages)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: messages * (offload ? offloadMessageSize : 2048)))
            .channelOption(ChannelOptions.socketOption(.so_broadcast), value: options.broadcast ? 1 : 0)
            .channelInitializer { channel in channel.pipeline.addHandler(handler()) }
            .bind(to: SocketAddress(Endpoint(address, port)))
            .flatMap { channel in configure(channel, options: options).map { channel } }
    }

    private static func configure(_ channel: Channel, options: Options) -> EventLoopFuture<Void> {
        var steps: [EventLoopFuture<Void>] = []
        if let size = options.receiveBuffer { steps.append(setBuffer(channel, size: size, option: SO_RCVBUF, force: SO_RCVBUFFORCE)) }
        if let size = options.sendBuffer { steps.append(setBuffer(channel, size: size, option: SO_SNDBUF, force: SO_SNDBUFFORCE)) }
        if let interface = options.multicastInterface, let provider = channel as? SocketOptionProvider {
            steps.append(provider.setIPMulticastIF(interface.inAddr))
            steps.append(provider.setIPMulticastTTL(options.ttl))
            steps.append(provider.setIPMulticastLoop(1))
        }
        if options.receiveOffload && System.supportsUDPReceiveOffload {
            steps.append(channel.setOption(ChannelOptions.datagramReceiveOffload, value: true)
                .flatMap { channel.setOption(ChannelOptions.datagramReceiveSegmentSize, value: true) }
                .recover { _ in })
        }
        if let join = options.join, let multicast = channel as? MulticastChannel {
            steps.append(multicast.joinGroup(SocketAddress(Endpoint(join.group, 0)), device: join.device))
        }
        return EventLoopFuture.andAllSucceed(steps, on: channel.eventLoop)
    }

    /// A large socket buffer absorbs bursts (udpcast's resends were mostly buffer overruns);
    /// root may exceed the sysctl limit with the FORCE variant.
    static func setBuffer(_ channel: Channel, size: Int, option: Int32, force: Int32) -> EventLoopFuture<Void> {
        channel.setOption(ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: force)), value: size)
            .flatMapError { _ in channel.setOption(ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: option)), value: size) }
            .recover { _ in }
    }

    /// Appends the wire bytes of `message` to `buffer`. DATA and FEC go straight from the
    /// slice into the buffer (the hot path: no intermediate array).
    static func encode(_ message: UDPCastMessage, into buffer: inout ByteBuffer) {
        switch message {
        case .data(let slice, let block, let bytes, let payload):
            writeBlockHeader(opcode: .data, second: 0, slice: slice, block: block, sliceBytes: bytes, into: &buffer)
            buffer.writeBytes(payload)
        case .fec(let stripes, let slice, let block, let bytes, let payload):
            writeBlockHeader(opcode: .fec, second: stripes, slice: slice, block: block, sliceBytes: bytes, into: &buffer)
            buffer.writeBytes(payload)
        default:
            buffer.writeBytes(message.encoded())
        }
    }

    private static func writeBlockHeader(opcode: UDPCastMessage.Opcode, second: UInt16, slice: UInt32, block: UInt16,
                                         sliceBytes: UInt32, into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(opcode.rawValue, second, slice, block, UInt16(0), sliceBytes)
    }

    /// The size `encode` will produce for a payload-bearing message, nil for control messages.
    static func blockMessageSize(_ message: UDPCastMessage) -> Int? {
        switch message {
        case .data(_, _, _, let payload), .fec(_, _, _, _, let payload): return UDPCastMessage.dataHeaderSize + payload.count
        default: return nil
        }
    }
}

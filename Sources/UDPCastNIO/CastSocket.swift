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
    let onWritable: () -> Void

    init(onMessage: @escaping (UDPCastMessage, Endpoint) -> Void, onWritable: @escaping () -> Void) {
        self.onMessage = onMessage
        self.onWritable = onWritable
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = envelope.remoteAddress.endpoint else { return }
        let decoded = envelope.data.withUnsafeReadableBytes { bytes in Result { try UDPCastMessage.decode(bytes) } }
        switch decoded {
        case .success(let message): onMessage(message, source)
        case .failure: break   // undecodable datagrams are dropped, as udpcast drops them
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

    struct Options {
        var broadcast = false
        var multicastInterface: IPv4Address?
        var ttl: UInt8 = 1
        var receiveBuffer: Int?
        var sendBuffer: Int?
        var join: (group: IPv4Address, device: NIONetworkDevice)?
    }

    /// Binds `address:port` on `loop` (blocking until bound); not for use on the loop itself.
    static func bind(_ address: IPv4Address, port: UInt16, on loop: EventLoop, options: Options,
                     handler: @escaping () -> DatagramHandler) throws -> Channel {
        try bindAsync(address, port: port, on: loop, options: options, handler: handler).wait()
    }

    static func bindAsync(_ address: IPv4Address, port: UInt16, on loop: EventLoop, options: Options,
                          handler: @escaping () -> DatagramHandler) -> EventLoopFuture<Channel> {
        DatagramBootstrap(group: loop)
            // recvmmsg: NIO splits one receive buffer evenly among the vector's messages.
            .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: vectorReads)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: vectorReads * 2048))
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

    /// Writes one message without flushing; the caller flushes once per batch.
    static func write(_ message: UDPCastMessage, to destination: SocketAddress, on channel: Channel) {
        var buffer: ByteBuffer
        if case .data(let slice, let block, let bytes, let payload) = message {
            // The hot path: header and payload straight into one buffer, no intermediate copy.
            buffer = channel.allocator.buffer(capacity: UDPCastMessage.dataHeaderSize + payload.count)
            buffer.writeBytes(UDPCastMessage.dataHeader(slice: slice, block: block, sliceBytes: bytes))
            buffer.writeBytes(payload)
        } else {
            buffer = channel.allocator.buffer(bytes: message.encoded())
        }
        channel.write(AddressedEnvelope(remoteAddress: destination, data: buffer), promise: nil)
    }
}

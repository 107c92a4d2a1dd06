import NIOCore

/// Hands every datagram of a channel to `receive` as bytes with its source; what `receive`
/// returns is sent in one flush. Protocol logic stays in the pure state machines; this is the
/// whole of their socket side.
final class DatagramInbox: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let receive: ([UInt8], SocketAddress) -> [(bytes: [UInt8], to: SocketAddress)]

    init(receive: @escaping ([UInt8], SocketAddress) -> [(bytes: [UInt8], to: SocketAddress)]) {
        self.receive = receive
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let replies = receive(Array(envelope.data.readableBytesView), envelope.remoteAddress)
        guard !replies.isEmpty else { return }
        for reply in replies {
            let buffer = context.channel.allocator.buffer(bytes: reply.bytes)
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: reply.to, data: buffer)), promise: nil)
        }
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP "port unreachable" from a client that went away: nothing to do.
    }
}

/// Where service messages go: a terminal or a batch log, one line each.
public typealias ServiceLog = @Sendable (String) -> Void

import BitTorrent
import Foundation
import NIOCore
import NIOPosix

/// BEP 14 on one interface: a socket on 239.192.152.143:6771 that joined the group on the
/// interface owning `address` only (IP_MULTICAST_ALL off), and a sender bound to `address`.
/// Drives an `LSDAnnouncer`; peers it names go to `onPeer` (on the loop).
public final class LSDService: @unchecked Sendable {
    private let loop: EventLoop
    private let address: String
    private var announcer: LSDAnnouncer
    private let onPeer: (_ infoHash: [UInt8], _ host: String, _ port: Int) -> Void
    private let log: (String) -> Void
    private var receiver: Channel?
    private var sender: Channel?
    private var wake: Scheduled<Void>?
    private var stopped = false
    private let clockStart = NIODeadline.now()
    private static let groupAddress = try! SocketAddress(ipAddress: LSDAnnouncement.group, port: Int(LSDAnnouncement.port))

    public init(torrents: [LSDAnnouncer.Torrent], address: String, on loop: EventLoop, interval: Double = 60,
                log: @escaping (String) -> Void, onPeer: @escaping (_ infoHash: [UInt8], _ host: String, _ port: Int) -> Void) {
        let cookie = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        announcer = LSDAnnouncer(torrents: torrents, cookie: cookie, interval: interval)
        self.loop = loop
        self.address = address
        self.log = log
        self.onPeer = onPeer
    }

    /// Binds both sockets and sends the first announce.
    public func start() -> EventLoopFuture<Void> {
        let device: NIONetworkDevice
        do {
            guard let found = try System.enumerateDevices().first(where: { $0.address?.ipAddress == address }) else {
                return loop.makeFailedFuture(LSDServiceError.noInterface(address))
            }
            device = found
        } catch {
            return loop.makeFailedFuture(error)
        }
        let group = Self.groupAddress
        let interfaceAddress = device.address.flatMap { address -> in_addr? in
            guard case .v4(let v4) = address else { return nil }
            return v4.address.sin_addr
        }
        let receiving = DatagramBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { [unowned self] channel in channel.pipeline.addHandler(LSDHandler(service: self)) }
            .bind(to: group)
            .flatMap { channel -> EventLoopFuture<Channel> in
                let all = channel.setOption(ChannelOptions.Types.SocketOption(level: .ip, name: NIOBSDSocket.Option(rawValue: 49 /* IP_MULTICAST_ALL */)),
                                            value: 0)
                let join = (channel as! MulticastChannel).joinGroup(group, device: device)
                return all.and(join).map { _ in channel }
            }
        let sending = DatagramBootstrap(group: loop)
            .channelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: address, port: 0)
            .flatMap { channel -> EventLoopFuture<Channel> in
                guard let provider = channel as? SocketOptionProvider, let interfaceAddress else { return channel.eventLoop.makeSucceededFuture(channel) }
                return provider.setIPMulticastIF(interfaceAddress)
                    .flatMap { provider.setIPMulticastTTL(1) }
                    .map { channel }
            }
        return receiving.and(sending).map { [self] (receiver: Channel, sender: Channel) in
            self.receiver = receiver
            self.sender = sender
            apply(announcer.handle(.start(now: now)))
        }
    }

    public func stop() -> EventLoopFuture<Void> {
        loop.flatSubmit { [self] in
            stopped = true
            wake?.cancel()
            let closing = [receiver, sender].compactMap { $0?.close() }
            return EventLoopFuture.andAllComplete(closing, on: loop)
        }
    }

    private var now: Double { Double((NIODeadline.now() - clockStart).nanoseconds) / 1e9 }

    fileprivate func received(_ bytes: [UInt8], from host: String) {
        guard !stopped else { return }
        apply(announcer.handle(.received(bytes, from: host, now: now)))
    }

    private func apply(_ actions: [LSDAnnouncer.Action]) {
        for action in actions {
            switch action {
            case .send(let datagram):
                guard let sender else { continue }
                sender.writeAndFlush(AddressedEnvelope(remoteAddress: Self.groupAddress, data: ByteBuffer(bytes: datagram)))
                    .whenFailure { [log] error in log("LSD announce not sent: \(error)") }
            case .addPeer(let infoHash, let host, let port):
                onPeer(infoHash, host, Int(port))
            case .wake(let at):
                wake?.cancel()
                let delay = TimeAmount.nanoseconds(Int64(max(0, at - now) * 1e9))
                wake = loop.scheduleTask(in: delay) { [self] in
                    if !stopped { apply(announcer.handle(.timer(now: now))) }
                }
            case .ignored:
                continue
            }
        }
    }
}

public enum LSDServiceError: Error, CustomStringConvertible {
    case noInterface(String)

    public var description: String {
        switch self {
        case .noInterface(let address): return "local service discovery: no interface has the address \(address)"
        }
    }
}

private final class LSDHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    unowned let service: LSDService

    init(service: LSDService) { self.service = service }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let host = envelope.remoteAddress.ipAddress else { return }
        service.received(Array(envelope.data.readableBytesView), from: host)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

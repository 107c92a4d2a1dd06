import Feeder
import Foundation
import NIOCore
import NIOPosix
import NetBootNIO
import NetworkNIO

/// The job-report listener on TCP 6461 (contract §3.7): one line per connection, up to LF or
/// EOF, at most 64 KiB, 30 s to send it; nothing is ever answered. Each report goes to the
/// operator's job log (the `clonezilla-jobs.log` line the original's ocsmgrd writes, with the
/// whole message) and to a JSON record, then to `onReport` (local-boot files and status).
public final class ReportListener: @unchecked Sendable {
    public static let port: UInt16 = 6461
    static let maximumLine = 64 * 1024

    private let group: EventLoopGroup
    private let journal: JobJournal
    private let onReport: @Sendable (JobReport, String) -> Void
    private var channel: Channel?

    public init(group: EventLoopGroup, journal: JobJournal, onReport: @escaping @Sendable (JobReport, String) -> Void = { _, _ in }) {
        self.group = group
        self.journal = journal
        self.onReport = onReport
    }

    @discardableResult
    public func start(address: IPv4Address, port: UInt16 = ReportListener.port) throws -> UInt16 {
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [unowned self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([IdleStateHandler(readTimeout: .seconds(30)), ReportLineHandler(listener: self)])
                }
            }
            .bind(to: address.socketAddress(port: port)).wait()
        self.channel = channel
        return UInt16(channel.localAddress?.port ?? Int(port))
    }

    public func stop() {
        try? channel?.close().wait()
        channel = nil
    }

    fileprivate func received(_ bytes: [UInt8], from peer: String) {
        let line = String(decoding: bytes, as: UTF8.self)
        let report = JobReport(line: line)
        journal.record(report, peer: peer)
        onReport(report, peer)
    }
}

private final class ReportLineHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let listener: ReportListener
    var line: [UInt8] = []
    var done = false

    init(listener: ReportListener) { self.listener = listener }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        let buffer = unwrapInboundIn(data)
        for byte in buffer.readableBytesView {
            if byte == UInt8(ascii: "\n") { return finish(context) }
            line.append(byte)
            if line.count >= ReportListener.maximumLine { return finish(context) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent || (event as? ChannelEvent) == .inputClosed { finish(context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done, !line.isEmpty { deliver(context) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }

    private func finish(_ context: ChannelHandlerContext) {
        guard !done else { return }
        if !line.isEmpty { deliver(context) }
        done = true
        context.close(promise: nil)
    }

    private func deliver(_ context: ChannelHandlerContext) {
        done = true
        listener.received(line, from: context.remoteAddress?.ipv4.map { "\($0.address)" } ?? "unknown")
    }
}

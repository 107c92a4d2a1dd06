import Foundation
import NIOConcurrencyHelpers
import NetworkNIO
import Restore
import UDPCast
import UDPCastNIO

/// The partitions' multicast sessions as the restore engine asks for them: stream k is a
/// udpcast receiver on portbase `base + 2k` (the Lite Server's port plan) writing into a pipe
/// the engine reads. No sender within `startTimeout`, or silence for `receiveTimeout` once data
/// flows, ends the receiver with a reason that names group, port and interface.
public final class MulticastStreams: PayloadStreamSource, @unchecked Sendable {
    public struct Settings: Sendable {
        public var interface: NetworkInterface
        public var portBase: UInt16 = 2232
        public var rendezvous = IPv4Address(224, 0, 0, 1)
        public var startTimeout = 300.0
        public var receiveTimeout = 60.0
        public init(interface: NetworkInterface) { self.interface = interface }
    }

    struct Session {
        var done = DispatchSemaphore(value: 0)
        var failure: String?
        var report: ReceiverDriver.Report?
    }

    public let settings: Settings
    private let log: @Sendable (String) -> Void
    private let lock = NIOLock()
    private var sessions: [Int32: Session] = [:]
    /// Why the last failed receiver stopped (for the client's final message).
    public private(set) var lastFailure: String?

    public init(settings: Settings, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.log = log
    }

    public func open(partition: String, index: Int) throws(RestoreError) -> PayloadStream {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .io(path: "pipe", operation: "pipe", errno: errno) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let port = settings.portBase &+ UInt16(2 * index)
        var config = ReceiverStateMachine.Configuration(rendezvous: settings.rendezvous, ownAddress: settings.interface.address)
        config.portBase = port
        config.startTimeout = .milliseconds(UInt64(settings.startTimeout * 1000))
        config.receiveTimeout = .milliseconds(UInt64(settings.receiveTimeout * 1000))
        let name = "multicast stream \(index + 1) (port \(port), rendezvous \(settings.rendezvous), interface \(settings.interface.name))"
        let session = Session()
        lock.withLock { sessions[readEnd] = session }
        let (log, interface, done, configuration) = (log, settings.interface, session.done, config)
        log("\(partition): waiting for \(name)")
        Thread { [self] in
            let driver = ReceiverDriver(configuration: configuration, interface: interface, outputFD: writeEnd, log: { line in log("\(partition): \(line)") })
            do {
                let report = try driver.run()
                lock.withLock { sessions[readEnd]?.report = report }
            } catch {
                lock.withLock { sessions[readEnd]?.failure = "\(name): \(error)" }
            }
            Glibc.close(writeEnd)
            done.signal()
        }.start()
        return PayloadStream(descriptor: readEnd, name: name)
    }

    public func close(_ stream: PayloadStream, succeeded: Bool) {
        // Closing the read end first ends a receiver the engine gave up on (its writes fail).
        Glibc.close(stream.descriptor)
        guard let session = lock.withLock({ sessions[stream.descriptor] }) else { return }
        session.done.wait()
        let finished = lock.withLock { sessions.removeValue(forKey: stream.descriptor) }
        if let failure = finished?.failure, !succeeded || finished?.report == nil {
            lastFailure = failure
            log(failure)
        }
    }
}

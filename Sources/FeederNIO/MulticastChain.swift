import Feeder
import Foundation
import NIOConcurrencyHelpers
import NetworkNIO
import UDPCast
import UDPCastNIO

/// The udp-sender chain (contract §3.5) with our sender: one session per partition, strictly in
/// order, stream k on portbase 2232 + 2k, its chunk files concatenated unchanged into the
/// session through a pipe, holds per the original's table (later streams bounded, B17).
public final class MulticastChain: @unchecked Sendable {
    public struct Settings: Sendable {
        public var interface: NetworkInterface
        public var rendezvous = IPv4Address(224, 0, 0, 1)
        public var fullDuplex = false
        public var broadcast = false
        public var timeToWait: Int?
        public var clientsToWait: Int?
        public var maxTimeToWait: Int?
        /// REQACK rounds a silent receiver gets before the sender drops it. udpcast's 200 stall
        /// the whole lab 3–4 minutes per powered-off PC (every partition); Clonezilla's
        /// drbl-ocs.conf recommends 50 (~40 s), which still outlasts any live client's pause.
        public var retriesUntilDrop = Self.defaultRetriesUntilDrop
        public static let defaultRetriesUntilDrop = 50

        public init(interface: NetworkInterface) { self.interface = interface }
    }

    public enum Failure: Error, CustomStringConvertible {
        case pipe(Int32)
        case stream(String, String)
        public var description: String {
            switch self {
            case .pipe(let code): return "multicast: pipe failed: \(String(cString: strerror(code)))"
            case .stream(let partition, let why): return "multicast: stream of \(partition): \(why)"
            }
        }
    }

    let settings: Settings
    let log: @Sendable (String) -> Void
    /// Told when stream k ends (its report, or why it failed).
    let ended: @Sendable (Int, Result<SenderDriver.Report, Failure>) -> Void
    private let lock = NIOLock()
    private var current: (index: Int, driver: SenderDriver)?

    public init(settings: Settings, log: @escaping @Sendable (String) -> Void,
                ended: @escaping @Sendable (Int, Result<SenderDriver.Report, Failure>) -> Void = { _, _ in }) {
        self.settings = settings
        self.log = log
        self.ended = ended
    }

    /// The running stream's index and state, for the status page. It waits for the session's
    /// event loop, so it must not be called on an event loop.
    public func snapshot() -> (index: Int, state: SenderDriver.Snapshot)? {
        guard let current = lock.withLock({ current }), let state = current.driver.snapshot() else { return nil }
        return (current.index, state)
    }

    /// `start-now`: stream `index`, if it is the one running, starts with the receivers it has
    /// (udp-sender's keypress). Never blocks.
    public func startNow(stream index: Int) -> Bool {
        guard let current = lock.withLock({ current }), current.index == index else { return false }
        current.driver.keyPressed()
        return true
    }

    func configuration(for stream: StreamPlan.Stream) -> SenderConfiguration {
        var config = SenderConfiguration(ownAddress: settings.interface.address, rendezvous: settings.rendezvous)
        config.portBase = stream.portbase
        config.broadcastData = settings.broadcast
        if settings.fullDuplex { config.duplex = .full }
        let holds = StreamPlan.holds(stream: stream.index, timeToWait: settings.timeToWait, clientsToWait: settings.clientsToWait,
                                     maxTimeToWait: settings.maxTimeToWait)
        config.minWait = holds.minWait.map { Nanoseconds($0) * 1_000_000_000 }
        config.maxWait = holds.maxWait.map { Nanoseconds($0) * 1_000_000_000 }
        config.minReceivers = holds.minClients
        config.retriesUntilDrop = settings.retriesUntilDrop
        return config
    }

    /// Runs a shell pipeline with its standard output on `fd`; returns its exit status.
    static func run(_ command: String, output fd: Int32) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", command]
        process.standardOutput = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs every stream; blocks. Returns one report per stream.
    public func run(_ plan: StreamPlan) throws -> [SenderDriver.Report] {
        var reports: [SenderDriver.Report] = []
        for stream in plan.streams {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw Failure.pipe(errno) }
            let (readEnd, writeEnd) = (fds[0], fds[1])
            let files = stream.files
            let producer = stream.producer
            let partition = stream.partition
            let feeder = Thread { [log] in
                defer { close(writeEnd) }
                if let producer {
                    log("multicast: \(partition): reading the device: \(producer)")
                    let status = Self.run(producer, output: writeEnd)
                    if status != 0 { log("multicast: \(partition): the device reader failed (status \(status)); the stream ends short and the clients' partclone will refuse it") }
                    return
                }
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                for file in files {
                    let fd = open(file, O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { return }
                    defer { close(fd) }
                    while true {
                        let count = read(fd, &buffer, buffer.count)
                        if count <= 0 { break }
                        var offset = 0
                        while offset < count {
                            let written = buffer.withUnsafeBytes { write(writeEnd, $0.baseAddress! + offset, count - offset) }
                            if written <= 0 { return }   // the session ended early
                            offset += written
                        }
                    }
                }
            }
            feeder.start()
            log("multicast: stream \(stream.index + 1)/\(plan.streams.count) \(stream.partition) on port \(stream.portbase)")
            defer { close(readEnd) }
            do {
                let driver = try SenderDriver(configuration: configuration(for: stream), interface: settings.interface, inputFD: readEnd,
                                              log: { [log] line in log("multicast: \(stream.partition): \(line)") })
                lock.withLock { current = (stream.index, driver) }
                defer { lock.withLock { current = nil } }
                let report = try driver.run()
                reports.append(report)
                var line = "multicast: \(stream.partition): \(report.bytes) bytes to \(report.participants.count) receiver(s) in \(String(format: "%.1f", report.seconds)) s"
                if !report.dropped.isEmpty {
                    line += "; dropped (stopped answering): " + report.dropped.map { "\($0.address)" }.joined(separator: ", ")
                }
                log(line)
                ended(stream.index, .success(report))
            } catch {
                let failure = Failure.stream(stream.partition, "\(error)")
                ended(stream.index, .failure(failure))
                throw failure
            }
        }
        return reports
    }
}

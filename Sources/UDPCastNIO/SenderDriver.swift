import Foundation
import NIOCore
import NIOPosix
import UDPCast

/// Runs a `SenderStateMachine` on real sockets: the main socket on `<own IP>:P+1` sends
/// everything and takes replies; during rendezvous extra sockets listen on the broadcast
/// address and the rendezvous group.
public final class SenderDriver: CastSession {
    public struct Report: Sendable {
        public var outcome: SenderOutcome
        public var bytes: UInt64
        public var blocksSent: UInt64
        public var blocksResent: UInt64
        public var seconds: Double
        public var participants: [Endpoint]
        public var dropped: [Endpoint]
    }

    public enum Failure: Error, CustomStringConvertible {
        case input(Int32)
        case network(String)
        public var description: String {
            switch self {
            case .input(let code): return "cannot read the input: \(String(cString: strerror(code)))"
            case .network(let detail): return detail
            }
        }
    }

    private var machine: SenderStateMachine
    private let config: SenderConfiguration
    private let input: InputReader
    private let ttl: UInt8
    private let sendBuffer: Int
    private let log: (String) -> Void
    /// The input thread holds a grant for one more piece (it starts with one).
    private var readerBusy = true
    private var inputEnded = false
    private var result: EventLoopPromise<Report>!
    private var finished = false
    private var participantsSeen: [Endpoint] = []

    public init(configuration: SenderConfiguration, interface: CastInterface, inputFD: Int32, ttl: UInt8 = 1,
                sendBuffer: Int = 4 << 20, segmentation: Bool = true, log: @escaping (String) -> Void) throws {
        config = configuration
        machine = try SenderStateMachine(configuration: configuration)
        input = InputReader(fd: inputFD)
        self.ttl = ttl
        self.sendBuffer = sendBuffer
        self.log = log
        super.init(interface: interface)
        if System.supportsUDPSegmentationOffload && segmentation {
            segmentSize = UDPCastMessage.dataHeaderSize + configuration.blockSize
        }
        result = loop.makePromise()
    }

    /// Runs the session to its end; blocks the calling thread.
    public func run() throws -> Report {
        let handler: () -> DatagramHandler = { [unowned(unsafe) self] in
            DatagramHandler(onMessage: { [unowned(unsafe) self] m, from in self.received(m, from: from) },
                            onWritable: { [unowned(unsafe) self] in self.pump() })
        }
        var options = CastSocket.Options(broadcast: true, multicastInterface: interface.address, ttl: ttl, receiveBuffer: 4 << 20, sendBuffer: sendBuffer)
        do {
            sendChannel = try CastSocket.bind(interface.address, port: config.portBase &+ 1, on: loop, options: options, handler: handler)
            options = CastSocket.Options(receiveBuffer: 1 << 20)
            if let broadcast = interface.broadcast {
                extraChannels.append(try CastSocket.bind(broadcast, port: config.portBase &+ 1, on: loop, options: options, handler: handler))
            }
            if config.rendezvous.isMulticast {
                options.join = (config.rendezvous, interface.device)
                extraChannels.append(try CastSocket.bind(config.rendezvous, port: config.portBase &+ 1, on: loop, options: options, handler: handler))
            }
        } catch {
            closeAll()
            throw Failure.network("cannot open the sender sockets on \(interface.name) (\(interface.address)) port \(config.portBase &+ 1): \(error)")
        }
        input.start(deliver: { [self] bytes in
            self.loop.execute {
                self.readerBusy = false
                self.apply(self.machine.provideInput(bytes, now: MonotonicClock.now()))
            }
        }, end: { [self] failure in
            self.loop.execute {
                self.readerBusy = false
                self.inputEnded = true
                if let failure { self.fail(Failure.input(failure)) } else { self.apply(self.machine.endOfInput(now: MonotonicClock.now())) }
            }
        })
        loop.execute { self.apply(self.machine.start(now: MonotonicClock.now())) }
        return try awaitResult(result.futureResult, beforeStopping: { input.stop() })
    }

    /// What a status page shows of a running session.
    public struct Snapshot: Sendable {
        public var phase: SenderStateMachine.Phase
        public var receivers: [Endpoint]
        public var bytes: UInt64
    }

    /// Taken on the session's loop; nil once the session is over.
    public func snapshot() -> Snapshot? {
        try? loop.submit { [self] in Snapshot(phase: machine.phase, receivers: participantsSeen, bytes: machine.bytesAcknowledged) }.wait()
    }

    public func keyPressed() {
        loop.execute { self.apply(self.machine.keyPressed(now: MonotonicClock.now())) }
    }

    override func segmentationRefused(_ error: Error) {
        log("UDP segmentation offload refused on \(interface.name) (\(error)); sending block by block")
    }

    private func received(_ message: UDPCastMessage, from source: Endpoint) {
        if case .connectRequest = message, !participantsSeen.contains(source), machine.phase == .rendezvous {
            participantsSeen.append(source)
            log("New connection from \(source.address)")
        }
        apply(machine.receive(message, from: source, now: MonotonicClock.now()))
    }

    private func pump() {
        guard !finished else { return }
        apply(machine.tick(now: MonotonicClock.now()))
    }

    private func apply(_ actions: [SenderStateMachine.Action]) {
        guard !finished else { return }
        for action in actions {
            switch action {
            case .send(let message, let to): send(message, to: to)
            case .finished(let outcome): complete(outcome)
            case .failed(let error): fail(error)
            }
        }
        flush()
        guard !finished else { return }
        if machine.phase == .transfer && !extraChannels.isEmpty { closeExtras() }
        if !readerBusy && !inputEnded && machine.wantsInput {
            readerBusy = true
            input.grant()
        }
        let now = MonotonicClock.now()
        if let deadline = machine.deadline, deadline <= now, !canWrite {
            return   // channelWritabilityChanged will pump
        }
        schedule(machine.deadline) { [unowned(unsafe) self] in self.pump() }
    }

    private func complete(_ outcome: SenderOutcome) {
        finished = true
        let started = machine.transferStartedAt
        let report = Report(outcome: outcome, bytes: machine.bytesAcknowledged, blocksSent: machine.blocksSent,
                            blocksResent: machine.blocksResent,
                            seconds: started.map { Double(MonotonicClock.now() - $0) / 1e9 } ?? 0,
                            participants: participantsSeen, dropped: machine.dropped)
        flush()
        closeAll()
        result.succeed(report)
    }

    private func fail(_ error: Error) {
        finished = true
        closeAll()
        result.fail(error)
    }
}

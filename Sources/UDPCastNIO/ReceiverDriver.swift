import Foundation
import NIOCore
import NIOPosix
import UDPCast

/// Runs a `ReceiverStateMachine` on real sockets: `<own IP>:P` sends everything and takes
/// unicast; sockets on the broadcast address, the rendezvous group and (once connected) the
/// data group feed the same machine, which checks every source itself.
public final class ReceiverDriver: CastSession {
    public struct Report: Sendable {
        public var bytes: UInt64
        public var seconds: Double
        public var clientNumber: Int32?
        public var sender: Endpoint?
        public var retransmitRequests: UInt64
    }

    public enum Failure: Error, CustomStringConvertible {
        case protocolError(ReceiverError, interface: String)
        case output(Int32)
        case network(String)

        public var description: String {
            switch self {
            case .protocolError(let error, let interface): return "\(error) on interface \(interface)"
            case .output(let code): return "cannot write the output: \(String(cString: strerror(code)))"
            case .network(let detail): return detail
            }
        }

        /// udpcast's exit statuses: 255 when no sender ever answered, 1 otherwise.
        public var exitStatus: Int32 {
            if case .protocolError(.noSender, _) = self { return 255 }
            return 1
        }
    }

    private var machine: ReceiverStateMachine
    private let config: ReceiverStateMachine.Configuration
    private let output: OutputWriter
    private let receiveBuffer: Int
    private let log: (String) -> Void
    private var result: EventLoopPromise<Report>!
    private var finished = false
    private var joined: Set<IPv4Address> = []
    private var announcedConnection = false

    public init(configuration: ReceiverStateMachine.Configuration, interface: CastInterface, outputFD: Int32,
                receiveBuffer: Int = 32 << 20, log: @escaping (String) -> Void) {
        var configuration = configuration
        configuration.receiveBuffer = UInt32(min(receiveBuffer, Int(UInt32.max)))
        config = configuration
        machine = ReceiverStateMachine(configuration: configuration)
        output = OutputWriter(fd: outputFD)
        self.receiveBuffer = receiveBuffer
        self.log = log
        super.init(interface: interface)
    }

    private func makeHandler() -> DatagramHandler {
        DatagramHandler(onMessage: { [unowned(unsafe) self] m, from in
            self.apply(self.machine.receive(m, from: from, now: MonotonicClock.now()))
        }, onBlock: { [unowned(unsafe) self] header, payload, from in
            self.apply(self.machine.receiveBlock(header, payload: payload, from: from, now: MonotonicClock.now()))
        }, onWritable: {})
    }

    /// Runs the session to its end; blocks the calling thread.
    public func run() throws -> Report {
        result = loop.makePromise()
        let options = CastSocket.Options(broadcast: true, multicastInterface: interface.address, receiveBuffer: receiveBuffer,
                                         receiveOffload: true)
        do {
            sendChannel = try CastSocket.bind(interface.address, port: config.portBase, on: loop, options: options, handler: makeHandler)
            if let broadcast = interface.broadcast {
                extraChannels.append(try CastSocket.bind(broadcast, port: config.portBase, on: loop, options: options, handler: makeHandler))
            }
            if config.rendezvous.isMulticast {
                var rdv = options
                rdv.join = (config.rendezvous, interface.device)
                extraChannels.append(try CastSocket.bind(config.rendezvous, port: config.portBase, on: loop, options: rdv, handler: makeHandler))
                joined.insert(config.rendezvous)
            }
        } catch {
            closeAll()
            throw Failure.network("cannot open the receiver sockets on \(interface.name) (\(interface.address)) port \(config.portBase): \(error)")
        }
        loop.execute { self.apply(self.machine.start(now: MonotonicClock.now())) }
        return try awaitResult(result.futureResult)
    }

    /// A key press (or stdin at EOF without `--nokbd`) sends GO.
    public func keyPressed() {
        loop.execute { self.apply(self.machine.keyPressed()) }
    }

    private func apply(_ actions: [ReceiverStateMachine.Action]) {
        guard !finished else { return }
        for action in actions {
            switch action {
            case .send(let message, let to):
                send(message, to: to)
            case .joinGroup(let group):
                join(group)
            case .deliver(let bytes):
                if let error = output.write(bytes) { fail(.output(error)) }
            case .finished:
                flush()
                complete()
            case .failed(let error):
                flush()
                fail(.protocolError(error, interface: interface.name))
            }
        }
        flush()
        guard !finished else { return }
        if !announcedConnection, let number = machine.clientNumber, let sender = machine.sender {
            announcedConnection = true
            log("Connected as #\(number) to \(sender.address)")
        }
        schedule(machine.deadline) { [unowned(unsafe) self] in
            self.apply(self.machine.tick(now: MonotonicClock.now()))
        }
    }

    private func join(_ group: IPv4Address) {
        guard !joined.contains(group) else { return }
        joined.insert(group)
        var options = CastSocket.Options(receiveBuffer: receiveBuffer, receiveOffload: true)
        options.join = (group, interface.device)
        log("Listening to multicast on \(group)")
        CastSocket.bindAsync(group, port: config.portBase, on: loop, options: options, handler: makeHandler).whenComplete { result in
            switch result {
            case .success(let channel): self.extraChannels.append(channel)
            case .failure(let error): self.fail(.network("cannot join \(group) on \(self.interface.name): \(error)"))
            }
        }
    }

    private func complete() {
        finished = true
        closeAll()
        let outcome = output.finish(sync: true)
        if let outcome { result.fail(Failure.output(outcome)); return }
        result.succeed(Report(bytes: machine.bytesDelivered,
                              seconds: machine.firstDataAt.map { Double(MonotonicClock.now() - $0) / 1e9 } ?? 0,
                              clientNumber: machine.clientNumber, sender: machine.sender,
                              retransmitRequests: machine.retransmitRequests))
    }

    private func fail(_ error: Failure) {
        guard !finished else { return }
        finished = true
        closeAll()
        _ = output.finish(sync: false)
        result.fail(error)
    }
}

@testable import UDPCast

/// An in-memory network for one sender and several receivers: datagrams arrive after a fixed
/// delay, each receiver can lose a share of what is sent to it, time is simulated. Every loop
/// is bounded so a protocol bug shows up as a failed expectation, not a hang.
struct SessionSimulation {
    struct Host {
        var machine: ReceiverStateMachine
        var address: IPv4Address
        var output: [UInt8] = []
        var outcome: ReceiverStateMachine.Action?
        var groups: Set<IPv4Address> = []
        var lossPerMille: UInt64 = 0
        var deafAfterBytes: Int?
        /// Extra time this host takes to answer (a busy receiver).
        var answerDelay: Nanoseconds = 0
        var sent = 0
    }

    enum Packet { case toSender(UDPCastMessage, from: Endpoint), toReceiver(Int, UDPCastMessage, from: Endpoint) }

    var sender: SenderStateMachine
    var senderConfig: SenderConfiguration
    var hosts: [Host] = []
    var senderOutcome: SenderStateMachine.Action?
    var now: Nanoseconds = 0
    var queue: [(at: Nanoseconds, seq: Int, packet: Packet)] = []
    var seq = 0
    var rng: UInt64 = 12345
    var input: [UInt8]
    var inputOffset = 0
    var chunk = 100_000
    let delay: Nanoseconds = 50_000
    var sentBySender: [UDPCastMessage] = []
    var senderFinishedAt: Nanoseconds?

    static let senderAddress = IPv4Address(10, 77, 0, 1)
    static let broadcast = IPv4Address(10, 77, 0, 255)

    init(receivers: Int, input: [UInt8], configure: (inout SenderConfiguration) -> Void = { _ in },
         configureReceiver: (inout ReceiverStateMachine.Configuration) -> Void = { _ in }) throws {
        var config = SenderConfiguration(ownAddress: Self.senderAddress, rendezvous: Self.broadcast)
        config.minReceivers = receivers
        configure(&config)
        senderConfig = config
        sender = try SenderStateMachine(configuration: config)
        self.input = input
        for i in 0..<receivers {
            let address = IPv4Address(10, 77, 0, UInt8(11 + i))
            var rc = ReceiverStateMachine.Configuration(rendezvous: config.rendezvous, ownAddress: address)
            rc.portBase = config.portBase
            configureReceiver(&rc)
            hosts.append(Host(machine: ReceiverStateMachine(configuration: rc), address: address))
        }
    }

    mutating func random() -> UInt64 {
        rng &+= 0x9E3779B97F4A7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        return z ^ (z >> 31)
    }

    mutating func enqueue(_ packet: Packet, extraDelay: Nanoseconds = 0) {
        seq += 1
        queue.append((now + delay + extraDelay, seq, packet))
    }

    mutating func senderActions(_ actions: [SenderStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let m, let to):
                sentBySender.append(m)
                for i in hosts.indices where reaches(to, host: i) {
                    if case .data = m, hosts[i].lossPerMille > 0, random() % 1000 < hosts[i].lossPerMille { continue }
                    enqueue(.toReceiver(i, m, from: Endpoint(Self.senderAddress, senderConfig.portBase + 1)))
                }
            case .finished, .failed:
                senderOutcome = action
                senderFinishedAt = now
            }
        }
    }

    func reaches(_ to: Endpoint, host i: Int) -> Bool {
        to.address == hosts[i].address || to.address == Self.broadcast || hosts[i].groups.contains(to.address)
            || (to.address.isMulticast && to.address == senderConfig.rendezvous)
    }

    mutating func receiverActions(_ i: Int, _ actions: [ReceiverStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let m, _):
                hosts[i].sent += 1
                if hosts[i].deafAfterBytes.map({ hosts[i].output.count < $0 }) ?? true {
                    enqueue(.toSender(m, from: Endpoint(hosts[i].address, senderConfig.portBase)), extraDelay: hosts[i].answerDelay)
                }
            case .deliver(let bytes): hosts[i].output += bytes
            case .joinGroup(let g): hosts[i].groups.insert(g)
            case .finished, .failed: hosts[i].outcome = action
            }
        }
    }

    mutating func feedInput() {
        while sender.wantsInput && inputOffset < input.count {
            let end = min(input.count, inputOffset + chunk)
            senderActions(sender.provideInput(Array(input[inputOffset..<end]), now: now))
            inputOffset = end
        }
        if inputOffset == input.count && sender.wantsInput { senderActions(sender.endOfInput(now: now)) }
    }

    /// Runs until the sender and every receiver are done (or the bounds are hit).
    mutating func run(maxSteps: Int = 3_000_000, maxTime: Nanoseconds = .seconds(900)) {
        for i in hosts.indices { receiverActions(i, hosts[i].machine.start(now: now)) }
        now += .milliseconds(1)
        senderActions(sender.start(now: now))
        for _ in 0..<maxSteps {
            feedInput()
            let receiversDone = hosts.allSatisfy { $0.outcome != nil }
            if senderOutcome != nil && receiversDone && queue.isEmpty { return }
            let deadlines = [sender.deadline].compactMap { $0 } + hosts.compactMap { $0.machine.deadline }
            let nextPacket = queue.min { ($0.at, $0.seq) < ($1.at, $1.seq) }
            let nextDeadline = deadlines.min()
            if let p = nextPacket, nextDeadline.map({ p.at <= $0 }) ?? true {
                queue.removeAll { $0.seq == p.seq }
                now = max(now, p.at)
                switch p.packet {
                case .toSender(let m, let from): senderActions(sender.receive(m, from: from, now: now))
                case .toReceiver(let i, let m, let from): receiverActions(i, hosts[i].machine.receive(m, from: from, now: now))
                }
            } else if let d = nextDeadline {
                now = max(now, d)
                senderActions(sender.tick(now: now))
                for i in hosts.indices { receiverActions(i, hosts[i].machine.tick(now: now)) }
            } else {
                return
            }
            if now > maxTime { return }
        }
    }
}

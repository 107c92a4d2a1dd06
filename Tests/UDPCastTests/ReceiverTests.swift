import Testing
import TestSupport
@testable import UDPCast

/// Drives our receiver with what a real udp-sender sent in the shared captures, as seen by one
/// of the real receivers, and compares what we answer with what that receiver answered.
@Suite struct ReceiverTests {
    static let payload = TestEnv.readBytes(TestEnv.fixture("udpcast-captures/fixture-50000.bin"))
    static let sender = Endpoint(IPv4Address(10, 77, 0, 1), 9001)

    struct Replay {
        var machine: ReceiverStateMachine
        var sent: [(UDPCastMessage, Endpoint)] = []
        var delivered: [UInt8] = []
        var outcome: ReceiverStateMachine.Action?
        var joined: [IPv4Address] = []

        init(own: IPv4Address, configure: (inout ReceiverStateMachine.Configuration) -> Void = { _ in }) {
            var config = ReceiverStateMachine.Configuration(rendezvous: IPv4Address(10, 77, 0, 255), ownAddress: own)
            configure(&config)
            machine = ReceiverStateMachine(configuration: config)
        }

        mutating func apply(_ actions: [ReceiverStateMachine.Action]) {
            for action in actions {
                switch action {
                case .send(let m, let to): sent.append((m, to))
                case .deliver(let bytes): delivered += bytes
                case .joinGroup(let g): joined.append(g)
                case .finished, .failed: outcome = action
                }
            }
        }

        mutating func start(_ now: Nanoseconds = 0) { apply(machine.start(now: now)) }
        mutating func feed(_ m: UDPCastMessage, from: Endpoint = ReceiverTests.sender, at now: Nanoseconds) { apply(machine.receive(m, from: from, now: now)) }
        mutating func tick(_ now: Nanoseconds) { apply(machine.tick(now: now)) }
        var sentMessages: [UDPCastMessage] { sent.map(\.0) }
    }

    /// Messages of a capture that reach receiver `own`, with their times.
    static func inbound(_ capture: String, own: UInt32, drop: (UDPCastMessage) -> Bool = { _ in false }) throws
        -> (messages: [(UDPCastMessage, Endpoint, Nanoseconds)], answers: [UDPCastMessage]) {
        let packets = try PcapFile.udpDatagrams(TestEnv.fixture("udpcast-captures/\(capture).pcap"))
        let t0 = packets[0].time
        var inbound: [(UDPCastMessage, Endpoint, Nanoseconds)] = []
        var answers: [UDPCastMessage] = []
        for p in packets {
            let m = try UDPCastMessage.decode(p.payload)
            let at = Nanoseconds((p.time - t0) * 1e9)
            if p.source.address == own { answers.append(m); continue }
            guard p.source.port == 9001, [own, 0x0A4D_00FF, 0xEA4D_0001].contains(p.destination.address) else { continue }
            if drop(m) { continue }
            inbound.append((m, Endpoint(IPv4Address(p.source.address), p.source.port), at))
        }
        return (inbound, answers)
    }

    static func run(_ capture: String, own: UInt32, drop: (UDPCastMessage) -> Bool = { _ in false }) throws -> (Replay, [UDPCastMessage]) {
        let (messages, answers) = try inbound(capture, own: own, drop: drop)
        var replay = Replay(own: IPv4Address(own))
        replay.start()
        var last: Nanoseconds = 0
        for (m, from, at) in messages {
            replay.feed(m, from: from, at: at)
            last = at
        }
        replay.tick(last + .milliseconds(600))
        return (replay, answers)
    }

    @Test(arguments: [("sample-mcast-2rcv-half", UInt32(0x0A4D_000B)), ("sample-mcast-2rcv-half", 0x0A4D_000C),
                      ("sample-p2p-1rcv-full", 0x0A4D_000B), ("sample-fec4x2-2rcv", 0x0A4D_000B), ("sample-fec4x2-2rcv", 0x0A4D_000C)])
    func answersLikeTheRealReceiver(capture: String, own: UInt32) throws {
        let (replay, answers) = try Self.run(capture, own: own)
        #expect(replay.delivered == Self.payload)
        #expect(replay.outcome == .finished)
        // Same answers in the same order (the real receiver's first broadcast CONNECT_REQ included).
        #expect(replay.sentMessages == answers, "\(replay.sentMessages) vs \(answers)")
        #expect(replay.sent.first?.1 == Endpoint(IPv4Address(10, 77, 0, 255), 9001))
        #expect(replay.sent.dropFirst().allSatisfy { $0.1 == Self.sender })
        if capture != "sample-p2p-1rcv-full" { #expect(replay.joined == [IPv4Address(234, 77, 0, 1)]) }
    }

    @Test func asyncSenderMakesThePassiveReceiverFinishOnTheFECEndMarker() throws {
        let (replay, answers) = try Self.run("sample-async-fec4x2-1rcv", own: 0x0A4D_000B)
        #expect(replay.delivered == Self.payload)
        #expect(replay.outcome == .finished)
        #expect(replay.machine.clientNumber == 0)
        #expect(replay.sentMessages == answers)
    }

    /// Losing up to R blocks of a stripe costs nothing with FEC: no RETRANSMIT is needed.
    @Test func fecRebuildsLostBlocks() throws {
        // Slice 0 has 16 blocks in 4 stripes of 4; lose blocks 1 and 5 (stripe 1, two rows of FEC).
        let (replay, _) = try Self.run("sample-fec4x2-2rcv", own: 0x0A4D_000B) { m in
            if case .data(0, let block, _, _) = m { return block == 1 || block == 5 } else { return false }
        }
        #expect(replay.delivered == Self.payload)
        #expect(!replay.sentMessages.contains { if case .retransmit = $0 { true } else { false } })
    }

    @Test func lossIsReportedInTheRetransmitMapAndRepairedByResends() throws {
        let (messages, _) = try Self.inbound("sample-mcast-2rcv-half", own: 0x0A4D_000B)
        var replay = Replay(own: IPv4Address(10, 77, 0, 11))
        replay.start()
        var withheld: [(UDPCastMessage, Endpoint, Nanoseconds)] = []
        for (m, from, at) in messages {
            if case .data(0, let block, _, _) = m, [3, 17, 33].contains(block) { withheld.append((m, from, at)); continue }
            if case .reqack(0, let bytes, 0, _) = m {
                replay.feed(m, from: from, at: at)
                guard case .retransmit(0, 0, let have) = replay.sentMessages.last else { Issue.record("no RETRANSMIT"); return }
                #expect(have.setCount == 31 && !have[3] && !have[17] && !have[33] && have[0] && have[32])
                for w in withheld { replay.feed(w.0, from: w.1, at: at) }
                replay.feed(.reqack(slice: 0, bytes: bytes, round: 1, ready: BitMap1024()), from: from, at: at)
                #expect(replay.sentMessages.last == .ok(slice: 0))
                continue
            }
            replay.feed(m, from: from, at: at)
        }
        replay.tick(.seconds(10))
        #expect(replay.delivered == Self.payload && replay.outcome == .finished)
    }

    @Test func rogueAndEarlyPacketsAreIgnoredOrFatalAsInUdpcast() {
        var r = Replay(own: IPv4Address(10, 77, 0, 11))
        r.start()
        // Wrong source port during rendezvous: ignored.
        r.feed(.connectReply(client: 0, blockSize: 1456, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1)),
               from: Endpoint(IPv4Address(10, 77, 0, 1), 9000), at: 1)
        #expect(r.machine.phase == .rendezvous)
        r.feed(.connectReply(client: 2, blockSize: 1456, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1)), at: 2)
        #expect(r.machine.phase == .connected && r.machine.clientNumber == 2)
        // DATA from another host or port: rogue, ignored.
        r.feed(.data(slice: 0, block: 0, sliceBytes: 3, payload: [1, 2, 3]), from: Endpoint(IPv4Address(10, 77, 0, 9), 9001), at: 3)
        r.feed(.data(slice: 0, block: 0, sliceBytes: 3, payload: [1, 2, 3]), from: Endpoint(IPv4Address(10, 77, 0, 1), 9000), at: 3)
        #expect(r.delivered.isEmpty)
        // Malformed: block past the slice, wrong payload length, slice too long.
        r.feed(.data(slice: 0, block: 1, sliceBytes: 3, payload: [1, 2, 3]), at: 4)
        r.feed(.data(slice: 0, block: 0, sliceBytes: 3, payload: [1, 2]), at: 4)
        r.feed(.reqack(slice: 0, bytes: 3, round: 0, ready: BitMap1024()), at: 5)
        #expect(r.sentMessages.last == .retransmit(slice: 0, round: 0, received: BitMap1024()))
        // Our bit in the ready set: stay silent.
        var ready = BitMap1024()
        ready[2] = true
        let count = r.sent.count
        r.feed(.reqack(slice: 0, bytes: 3, round: 1, ready: ready), at: 6)
        #expect(r.sent.count == count)
        r.feed(.data(slice: 0, block: 0, sliceBytes: 3, payload: [1, 2, 3]), at: 7)
        #expect(r.delivered == [1, 2, 3])
        // A different length for a known slice is a sender bug: fatal.
        r.feed(.data(slice: 1, block: 0, sliceBytes: 3000, payload: ArraySlice(repeating: 7, count: 1456)), at: 8)
        r.feed(.reqack(slice: 1, bytes: 6, round: 0, ready: BitMap1024()), at: 8)
        guard case .failed(.sliceLength(1, _)) = r.outcome else { Issue.record("\(String(describing: r.outcome))"); return }
        #expect(r.sentMessages.last == .disconnect)
    }

    @Test func fatalRendezvousAnswers() {
        var busy = Replay(own: IPv4Address(10, 77, 0, 11))
        busy.start()
        busy.feed(.reqack(slice: 9, bytes: 0, round: 0, ready: BitMap1024()), at: 1)
        #expect(busy.outcome == .failed(.otherTransferInProgress(Self.sender)))
        var refused = Replay(own: IPv4Address(10, 77, 0, 11))
        refused.start()
        refused.feed(.connectReply(client: -1, blockSize: 1456, capabilities: .standard, dataAddress: IPv4Address(0)), at: 1)
        #expect(refused.outcome == .failed(.refused(sender: Self.sender)))
    }

    @Test func timeoutsNeverLeaveAReceiverHanging() {
        var lonely = Replay(own: IPv4Address(10, 77, 0, 11)) { $0.startTimeout = .seconds(2) }
        lonely.start(0)
        // No reply within a second: ask again (udpcast would wait for ever), then give up.
        #expect(lonely.machine.deadline == .seconds(1))
        lonely.tick(.seconds(1))
        #expect(lonely.outcome == nil)
        #expect(lonely.sentMessages.count == 2 && lonely.sent.last?.1 == Endpoint(IPv4Address(10, 77, 0, 255), 9001))
        lonely.feed(.hello(kind: .legacy, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1), blockSize: 1456), at: .seconds(1.5))
        lonely.tick(.seconds(1.5) + .seconds(1))
        #expect(lonely.sent.last?.1 == Self.sender)
        lonely.tick(.seconds(2))
        #expect(lonely.outcome == .failed(.noSender(rendezvous: Endpoint(IPv4Address(10, 77, 0, 255), 9001))))
        #expect(lonely.outcome.map { "\($0)" }?.contains("10.77.0.255:9001") == true)

        var unfed = Replay(own: IPv4Address(10, 77, 0, 11)) { $0.startTimeout = .seconds(3) }
        unfed.start(0)
        unfed.feed(.connectReply(client: 0, blockSize: 1456, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1)), at: .seconds(1))
        unfed.tick(.seconds(4))
        #expect(unfed.outcome == .failed(.noData(sender: Self.sender, dataAddress: IPv4Address(234, 77, 0, 1), port: 9000)))

        var stalled = Replay(own: IPv4Address(10, 77, 0, 11)) { $0.receiveTimeout = .seconds(5) }
        stalled.start(0)
        stalled.feed(.connectReply(client: 0, blockSize: 4, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1)), at: 0)
        #expect(stalled.machine.deadline == nil)
        stalled.feed(.data(slice: 0, block: 0, sliceBytes: 8, payload: [1, 2, 3, 4]), at: .seconds(1))
        #expect(stalled.machine.deadline == .seconds(6))
        stalled.tick(.seconds(6))
        #expect(stalled.outcome == .failed(.receiveTimeout(seconds: 5, slice: 0)))
    }

    /// The sender waiting on a dead receiver repeats its REQACK naming us ready: we are not
    /// left in silence and wait with it. REQACKs for a slice whose data never reaches us are
    /// not progress: the receive timeout still ends a receiver cut off from the data.
    @Test func waitingForOthersIsNotSilenceButStarvingIs() {
        var ready = BitMap1024()
        ready[0] = true
        var patient = Replay(own: IPv4Address(10, 77, 0, 11)) { $0.receiveTimeout = .seconds(5) }
        patient.start(0)
        patient.feed(.connectReply(client: 0, blockSize: 4, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1)), at: 0)
        patient.feed(.data(slice: 0, block: 0, sliceBytes: 4, payload: [1, 2, 3, 4]), at: .seconds(1))
        for second in 2...30 {
            patient.feed(.reqack(slice: 0, bytes: 4, round: UInt32(second), ready: ready), at: .seconds(Double(second)))
            patient.tick(.seconds(Double(second)))
        }
        #expect(patient.outcome == nil && patient.machine.deadline == .seconds(35))

        var starved = Replay(own: IPv4Address(10, 77, 0, 11)) { $0.receiveTimeout = .seconds(5) }
        starved.start(0)
        starved.feed(.connectReply(client: 0, blockSize: 4, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1)), at: 0)
        starved.feed(.data(slice: 0, block: 0, sliceBytes: 8, payload: [1, 2, 3, 4]), at: .seconds(1))
        for second in 2...6 {
            starved.feed(.reqack(slice: 0, bytes: 8, round: UInt32(second), ready: BitMap1024()), at: .seconds(Double(second)))
            starved.tick(.seconds(Double(second)))
        }
        #expect(starved.sentMessages.contains { if case .retransmit = $0 { true } else { false } })
        #expect(starved.outcome == .failed(.receiveTimeout(seconds: 5, slice: 0)))
    }

    @Test func aReceiverLeftBehindKnowsItWasDropped() {
        var r = Replay(own: IPv4Address(10, 77, 0, 11))
        r.start()
        r.feed(.connectReply(client: 0, blockSize: 4, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1)), at: 0)
        r.feed(.data(slice: 0, block: 0, sliceBytes: 8, payload: [1, 2, 3, 4]), at: 1)
        r.feed(.data(slice: 3, block: 0, sliceBytes: 4, payload: [1, 2, 3, 4]), at: 2)
        #expect(r.outcome == .failed(.droppedBySender(slice: 3, waitingFor: 0, missingBlocks: 1)))
    }

    /// Random traffic from the connected sender never traps the machine.
    @Test func survivesRandomTraffic() {
        var state: UInt64 = 77
        func next() -> UInt64 { state &+= 0x9E3779B97F4A7C15; var z = state; z = (z ^ (z >> 29)) &* 0xBF58476D1CE4E5B9; return z ^ (z >> 32) }
        for run in 0..<200 {
            var r = Replay(own: IPv4Address(10, 77, 0, 11))
            r.start()
            r.feed(.connectReply(client: Int32(run % 5), blockSize: 8, capabilities: .standard, dataAddress: IPv4Address(234, 77, 0, 1)), at: 0)
            for i in 0..<500 {
                let slice = UInt32(next() % 5), bytes = UInt32(next() % 40), block = UInt16(next() % 8)
                let payload = ArraySlice((0..<Int(next() % 10)).map { _ in UInt8(truncatingIfNeeded: next()) })
                let m: UDPCastMessage
                switch next() % 4 {
                case 0: m = .fec(stripes: UInt16(next() % 4), slice: slice, block: block, sliceBytes: bytes, payload: payload)
                case 1: m = .reqack(slice: slice, bytes: bytes, round: UInt32(i), ready: BitMap1024())
                default: m = .data(slice: slice, block: block, sliceBytes: bytes, payload: payload)
                }
                r.feed(m, at: Nanoseconds(i))
                if r.outcome != nil { break }
            }
        }
    }
}

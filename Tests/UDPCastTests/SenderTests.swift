import Testing
import TestSupport
@testable import UDPCast

@Suite struct SenderTests {
    static func payload(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var s = seed
        return (0..<count).map { _ in s = s &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: s >> 40) }
    }

    func expectComplete(_ sim: SessionSimulation, _ label: String, count: Int? = nil) {
        #expect(sim.senderOutcome == .finished(.complete), "\(label): sender \(String(describing: sim.senderOutcome))")
        for (i, host) in sim.hosts.enumerated() {
            #expect(host.outcome == .finished, "\(label): receiver \(i) \(String(describing: host.outcome))")
            #expect(host.output == sim.input, "\(label): receiver \(i) got \(host.output.count) of \(sim.input.count) bytes")
        }
    }

    @Test(arguments: [SenderConfiguration.Duplex.half, .full], [1, 3])
    func everyReceiverGetsTheInput(duplex: SenderConfiguration.Duplex, receivers: Int) throws {
        var sim = try SessionSimulation(receivers: receivers, input: Self.payload(700_000)) { $0.duplex = duplex }
        sim.run()
        expectComplete(sim, "\(duplex) \(receivers)")
        #expect(sim.sender.blocksResent == 0)
        // Receivers join the derived data group on connecting, even when data then comes by unicast.
        #expect(sim.hosts.allSatisfy { $0.groups == [IPv4Address(234, 77, 0, 1)] })
    }

    @Test(arguments: [SenderConfiguration.Duplex.half, .full], [10, 50])
    func lossIsRepaired(duplex: SenderConfiguration.Duplex, perMille: UInt64) throws {
        var sim = try SessionSimulation(receivers: 3, input: Self.payload(700_000, seed: perMille)) { $0.duplex = duplex }
        sim.hosts[1].lossPerMille = perMille
        sim.run()
        expectComplete(sim, "\(duplex) loss \(perMille)‰")
        #expect(sim.sender.blocksResent > 0)
        // Loss on one receiver costs about its own losses, not a multiple.
        let sent = Double(sim.sender.blocksSent - sim.sender.blocksResent)
        #expect(Double(sim.sender.blocksResent) < sent * Double(perMille) / 1000 * 3 + 10)
    }

    @Test func fecRepairsLossWithoutResends() throws {
        var sim = try SessionSimulation(receivers: 2, input: Self.payload(700_000)) {
            $0.fec = (stripes: 8, redundancy: 8, stripeSize: 64)
            $0.duplex = .half
        }
        sim.hosts[0].lossPerMille = 20
        sim.run()
        expectComplete(sim, "fec")
        #expect(sim.sentBySender.contains { if case .fec(8, _, _, _, _) = $0 { true } else { false } })
        #expect(sim.sender.blocksResent < 10)
    }

    @Test func asyncSenderNeedsNoAnswers() throws {
        var sim = try SessionSimulation(receivers: 2, input: Self.payload(400_000)) {
            $0.async = true
            $0.fec = (stripes: 4, redundancy: 4, stripeSize: 128)
            $0.maxBitrate = 400_000_000
            $0.autostart = 1
            $0.minReceivers = nil
        }
        sim.run()
        expectComplete(sim, "async")
        #expect(sim.hosts.allSatisfy { $0.machine.clientNumber == 0 })
        #expect(!sim.sentBySender.contains { if case .connectReply = $0 { true } else { false } })
        #expect(throws: SenderError.self) {
            _ = try SenderStateMachine(configuration: { var c = SenderConfiguration(ownAddress: SessionSimulation.senderAddress, rendezvous: SessionSimulation.broadcast); c.async = true; return c }())
        }
    }

    @Test func broadcastAndPointToPointDestinations() throws {
        var broadcast = try SessionSimulation(receivers: 2, input: Self.payload(100_000)) { $0.broadcastData = true }
        broadcast.run()
        expectComplete(broadcast, "broadcast")
        var p2p = try SessionSimulation(receivers: 1, input: Self.payload(100_000))
        p2p.run()
        expectComplete(p2p, "p2p")
        var never = try SessionSimulation(receivers: 1, input: Self.payload(100_000)) { $0.pointToPoint = .never }
        never.run()
        expectComplete(never, "nopointopoint")
    }

    @Test func rateLimitHoldsTheBitrate() throws {
        var sim = try SessionSimulation(receivers: 1, input: Self.payload(2_000_000)) { $0.maxBitrate = 40_000_000 }
        sim.run()
        expectComplete(sim, "rate")
        let seconds = Double((sim.senderFinishedAt ?? 0) - (sim.sender.transferStartedAt ?? 0)) / 1e9
        let rate = Double(sim.input.count) * 8 / seconds
        #expect(rate < 40_000_000 * 1.05 && rate > 40_000_000 * 0.7, "rate \(rate)")
    }

    @Test func aDeafReceiverIsDroppedAndTheOthersFinish() throws {
        var sim = try SessionSimulation(receivers: 3, input: Self.payload(600_000)) { $0.retriesUntilDrop = 12 }
        sim.hosts[2].deafAfterBytes = 200_000    // connected and fed, then its answers stop arriving
        sim.run()
        #expect(sim.senderOutcome == .finished(.complete))
        #expect(sim.sender.dropped == [Endpoint(IPv4Address(10, 77, 0, 13), 9000)])
        for i in 0..<2 { #expect(sim.hosts[i].output == sim.input) }
    }

    /// Receivers that all stall for a moment (a busy CPU) are not dropped by a low
    /// --retries-until-drop: the last rounds before a drop wait a second each.
    @Test func aMomentarilySlowGroupIsNotDropped() throws {
        var sim = try SessionSimulation(receivers: 3, input: Self.payload(300_000)) { $0.retriesUntilDrop = 8 }
        for i in 0..<3 { sim.hosts[i].answerDelay = .milliseconds(150) }
        sim.run()
        expectComplete(sim, "slow answers")
        #expect(sim.sender.dropped.isEmpty)
    }

    @Test func startRules() throws {
        // --min-receivers 3 with two receivers and --max-wait 3: starts at 3 s.
        var sim = try SessionSimulation(receivers: 2, input: Self.payload(10_000)) {
            $0.minReceivers = 3
            $0.maxWait = .seconds(3)
        }
        sim.run()
        expectComplete(sim, "max-wait")
        let start = try #require(sim.sender.transferStartedAt)
        #expect(start >= .seconds(3) && start < .seconds(3.2))

        // Nobody comes: --start-timeout ends the sender quietly.
        var lonely = try SessionSimulation(receivers: 0, input: Self.payload(10)) {
            $0.startTimeout = .seconds(2)
            $0.minReceivers = 1
        }
        lonely.run()
        #expect(lonely.senderOutcome == .finished(.noParticipants))
    }

    @Test func rendezvousMessagesMatchTheRealSender() throws {
        let captured = try PcapFile.udpDatagrams(TestEnv.fixture("udpcast-captures/sample-mcast-2rcv-half.pcap"))
        let hello = try #require(captured.first { $0.payload.starts(with: [5, 0]) })
        let reply = try #require(captured.first { $0.payload.starts(with: [0, 7]) && $0.destination.address == 0x0A4D_000B })
        var config = SenderConfiguration(ownAddress: IPv4Address(10, 77, 0, 1), rendezvous: IPv4Address(10, 77, 0, 255))
        config.minReceivers = 2
        var sender = try SenderStateMachine(configuration: config)
        let start = sender.start(now: 0)
        #expect(start == [.send(try UDPCastMessage.decode(hello.payload), to: Endpoint(IPv4Address(10, 77, 0, 255), 9000))])
        guard case .send(let m, _) = start[0] else { return }
        #expect(m.encoded() == hello.payload)
        _ = sender.receive(.connectRequest(capabilities: .standard, receiveBuffer: 212_992), from: Endpoint(IPv4Address(10, 77, 0, 12), 9000), now: 1)
        let second = sender.receive(.connectRequest(capabilities: .standard, receiveBuffer: 212_992), from: Endpoint(IPv4Address(10, 77, 0, 11), 9000), now: 2)
        guard case .send(let answer, let to) = second.first else { Issue.record("no reply"); return }
        #expect(answer.encoded() == reply.payload && to == Endpoint(IPv4Address(10, 77, 0, 11), 9000))
        // Wrong source port: ignored.
        #expect(sender.receive(.go, from: Endpoint(IPv4Address(10, 77, 0, 11), 1234), now: 3).isEmpty)
    }
}

@Suite struct RateLimitedSessionTests {
    @Test func threeReceiversUnderARateLimitAreNotDropped() throws {
        var sim = try SessionSimulation(receivers: 3, input: SenderTests.payload(2_000_000)) {
            $0.maxBitrate = 200_000_000
            $0.retriesUntilDrop = 8
        }
        sim.run()
        #expect(sim.senderOutcome == .finished(.complete))
        #expect(sim.sender.dropped.isEmpty)
        #expect(sim.hosts.allSatisfy { $0.output == sim.input })
    }
}

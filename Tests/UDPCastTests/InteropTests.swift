import Foundation
import Testing
import TestSupport

/// Our ocs-cast against the real udpcast 20120424 programs, in namespaces the tests create:
/// one sender and three receivers on a bridge, ≥ 64 MiB of random data, outputs compared.
@Suite(.serialized) struct InteropTests {
    static var ocsCast: String {
        if let explicit = ProcessInfo.processInfo.environment["OCS_CAST"] { return explicit }
        return URL(fileURLWithPath: TestEnv.restoreTool).deletingLastPathComponent().appendingPathComponent("ocs-cast").path
    }

    enum Peer { case ours, real }

    struct Run {
        var sender: Peer
        var receivers: [Peer]
        var senderOptions: [String] = []
        var receiverOptions: [String] = []
        var portBase = "9000"
        var lossOn: (host: String, perMille: Int)?
        var killReceiverAfter: Double?
        /// Run in the sender's namespace before it starts (NIC settings).
        var senderHostSetup: String?
    }

    static let payloadBytes = 64 << 20

    /// Runs one session; returns the sender's exit status and each receiver's output match.
    func session(_ run: Run, tag: String) throws -> (sender: Int32?, matches: [Bool], logs: String)? {
        guard TestEnv.which("udp-sender") != nil, TestEnv.which("udp-receiver") != nil else {
            print("skipped: udpcast is not installed")
            return nil
        }
        guard let lan = NetnsLAN.make(clients: run.receivers.count, tag: tag) else { return nil }
        defer { lan.down() }
        let dir = TestEnv.scratch("cast")
        defer { TestEnv.cleanup(dir) }
        let source = dir + "/source.bin"
        TestEnv.shell("head -c \(Self.payloadBytes) /dev/urandom > '\(source)'")
        if let loss = run.lossOn { lan.loss(loss.host, perMille: loss.perMille) }
        if let setup = run.senderHostSetup {
            let result = lan.shell("srv", setup)
            guard result.status == 0 else { Issue.record("sender host setup failed: \(result.stderr)"); return nil }
        }
        var receivers: [Process] = []
        for (index, peer) in run.receivers.enumerated() {
            let host = "c\(index + 1)"
            let common = ["--nokbd", "--portbase", run.portBase, "--file", "\(dir)/\(host).out"] + run.receiverOptions
            let command = peer == .ours ? [Self.ocsCast, "receive"] + common : ["udp-receiver"] + common
            receivers.append(lan.start(host, command, log: "\(dir)/\(host).log"))
        }
        usleep(300_000)
        let senderCommon = ["--interface", "lsnet0", "--nokbd", "--portbase", run.portBase, "--file", source] + run.senderOptions
        let sender = lan.start("srv", (run.sender == .ours ? [Self.ocsCast, "send"] : ["udp-sender"]) + senderCommon, log: dir + "/srv.log")
        if let after = run.killReceiverAfter {
            usleep(UInt32(after * 1_000_000))
            kill(receivers.last!.processIdentifier, SIGKILL)
        }
        let status = lan.wait(sender, seconds: 120)
        for receiver in receivers { lan.wait(receiver, seconds: 10) }
        let expected = TestEnv.sha256(source)
        let matches = run.receivers.indices.map { i -> Bool in
            let out = "\(dir)/c\(i + 1).out"
            return FileManager.default.fileExists(atPath: out) && TestEnv.sha256(out) == expected
        }
        let logs = (["srv"] + run.receivers.indices.map { "c\($0 + 1)" })
            .map { "== \($0)\n" + (TestEnv.text("\(dir)/\($0).log")) }
            .joined(separator: "\n").replacingOccurrences(of: "\r", with: "\n")
        return (status, matches, logs)
    }

    func expectAllMatch(_ run: Run, tag: String) throws {
        guard let result = try session(run, tag: tag) else { return }
        #expect(result.sender == 0, "\(result.logs)")
        #expect(result.matches.allSatisfy { $0 }, "\(result.matches) \(result.logs)")
    }

    @Test(arguments: ["--half-duplex", "--full-duplex"])
    func ourSenderFeedsRealReceivers(_ duplex: String) throws {
        try expectAllMatch(Run(sender: .ours, receivers: [.real, .real, .real], senderOptions: ["--min-receivers", "3", duplex]), tag: "a")
    }

    @Test(arguments: ["--half-duplex", "--full-duplex"])
    func realSenderFeedsOurReceivers(_ duplex: String) throws {
        try expectAllMatch(Run(sender: .real, receivers: [.ours, .ours, .ours], senderOptions: ["--min-receivers", "3", duplex]), tag: "b")
    }

    /// Clonezilla's exact option lines, two real receivers and one of ours, both senders.
    @Test(arguments: [Peer.ours, .real])
    func clonezillaOptionLinesWithAMix(_ sender: Peer) throws {
        try expectAllMatch(Run(sender: sender, receivers: [.real, .real, .ours],
                               senderOptions: ["--min-clients", "3", "--max-wait", "300", "--mcast-all-addr", "224.0.0.1", "--ttl", "1", "--full-duplex"],
                               receiverOptions: ["--mcast-all-addr", "224.0.0.1", "--ttl", "1"], portBase: "2232"), tag: "c")
    }

    @Test func broadcastPointToPointAndFEC() throws {
        try expectAllMatch(Run(sender: .ours, receivers: [.real, .ours], senderOptions: ["--min-receivers", "2", "--broadcast"]), tag: "d")
        try expectAllMatch(Run(sender: .ours, receivers: [.real], senderOptions: ["--min-receivers", "1"]), tag: "e")
        try expectAllMatch(Run(sender: .real, receivers: [.ours], senderOptions: ["--min-receivers", "1"]), tag: "f")
        try expectAllMatch(Run(sender: .ours, receivers: [.real, .real, .ours], senderOptions: ["--min-receivers", "3", "--fec", "8x8/64", "--half-duplex"]), tag: "g")
        try expectAllMatch(Run(sender: .real, receivers: [.ours, .ours], senderOptions: ["--min-receivers", "2", "--fec", "8x8/64"]), tag: "h")
    }

    /// 1 % and 5 % of the data datagrams to c1 dropped at the switch; c1 is a real receiver in
    /// one case and ours in the other, under both duplex modes.
    @Test(arguments: [(10, "--half-duplex", Peer.real), (50, "--full-duplex", Peer.ours), (50, "--half-duplex", Peer.real)])
    func lossOnOneReceiverIsRepaired(_ perMille: Int, _ duplex: String, _ lossy: Peer) throws {
        try expectAllMatch(Run(sender: .ours, receivers: [lossy, .real, .ours], senderOptions: ["--min-receivers", "3", duplex],
                               lossOn: ("c1", perMille)), tag: "l")
    }

    /// A sender link whose MTU is below a full DATA datagram refuses UDP segmentation
    /// (EMSGSIZE): the sender says so once, falls back to one (IP-fragmented) datagram per
    /// block, as udpcast sends them, and the real receivers still get every byte.
    @Test func segmentationRefusedFallsBackToSingleDatagrams() throws {
        guard let result = try session(Run(sender: .ours, receivers: [.real, .real, .ours], senderOptions: ["--min-receivers", "3"],
                                           senderHostSetup: "ip link set lsnet0 mtu 1400"), tag: "s") else { return }
        #expect(result.sender == 0, "\(result.logs)")
        #expect(result.matches.allSatisfy { $0 }, "\(result.matches) \(result.logs)")
        #expect(result.logs.contains("segmentation offload refused"), "\(result.logs)")
    }

    /// A receiver killed mid-transfer: the others finish; the sender drops it and exits 0.
    @Test func aKilledReceiverIsDropped() throws {
        guard let result = try session(Run(sender: .ours, receivers: [.real, .ours, .ours],
                                           senderOptions: ["--min-receivers", "3", "--retries-until-drop", "8", "--max-bitrate", "200m"],
                                           killReceiverAfter: 1.0), tag: "k") else { return }
        #expect(result.sender == 0, "\(result.logs)")
        #expect(result.matches == [true, true, false], "\(result.logs)")
        #expect(result.logs.contains("Dropped"), "\(result.logs)")
    }
}

import Testing
@testable import TFTP

@Suite struct ReadTransferTests {
    static func negotiation(_ pairs: [(String, String)]) -> TFTPNegotiation {
        TFTPNegotiation(requested: pairs.map { TFTPOption(name: $0.0, value: $0.1) }, fileSize: 0, pathMTU: 1500)
    }

    static func blocks(_ actions: [ReadTransfer.Action]) -> [UInt16] {
        actions.compactMap { if case .sendData(let block, _, _) = $0 { return block } else { return nil } }
    }

    /// An ideal client: ACKs each window's last block. Returns the bytes "received" (offset
    /// ranges) and the number of DATA packets.
    static func download(_ transfer: inout ReadTransfer, drop: (Int) -> Bool = { _ in false }) -> (covered: UInt64, packets: Int, finished: Bool) {
        var actions = transfer.handle(.start(now: 0))
        if case .send(.optionAck) = actions.first { actions = transfer.handle(.received(.ack(block: 0), now: 0)) }
        var expected: UInt64 = 1, covered: UInt64 = 0, packets = 0, now = 0.0
        for _ in 0..<1_000_000 {
            var lastGood: UInt16?
            var gap = false
            for case .sendData(let block, let offset, let length) in actions {
                packets += 1
                if drop(packets) { gap = true; continue }
                guard !gap, block == UInt16(truncatingIfNeeded: expected) else { gap = true; continue }
                #expect(offset == covered)
                covered += UInt64(length)
                expected += 1
                lastGood = block
            }
            if actions.contains(.finished) { return (covered, packets, true) }
            if actions.contains(where: { if case .aborted = $0 { return true } else { return false } }) { return (covered, packets, false) }
            now += 0.001
            if let lastGood {
                actions = transfer.handle(.received(.ack(block: lastGood), now: now))
            } else {
                now += 2
                actions = transfer.handle(.timer(now: now))
            }
        }
        return (covered, packets, false)
    }

    @Test func lockStepWithoutOptionsEndsWithAnEmptyBlockOnAMultiple() {
        var transfer = ReadTransfer(fileSize: 1024, negotiation: Self.negotiation([]))
        let first = transfer.handle(.start(now: 0))
        #expect(first == [.sendData(block: 1, offset: 0, length: 512), .wake(at: 1)])
        #expect(transfer.handle(.received(.ack(block: 1), now: 0.1)) == [.sendData(block: 2, offset: 512, length: 512), .wake(at: 1.1)])
        #expect(transfer.handle(.received(.ack(block: 1), now: 0.2)).isEmpty)   // duplicate ACK: no resend
        #expect(Self.blocks(transfer.handle(.received(.ack(block: 2), now: 0.3))) == [3])
        #expect(transfer.handle(.received(.ack(block: 3), now: 0.4)) == [.finished])
    }

    /// 100 MiB at 512-byte blocks: 204,801 DATA packets (the last one empty), three wraps.
    @Test func blockNumbersRollOverPast65535() {
        var transfer = ReadTransfer(fileSize: 104_857_600, negotiation: Self.negotiation([("tsize", "0")]))
        let result = Self.download(&transfer)
        #expect(result.finished && result.covered == 104_857_600 && result.packets == 204_801)
    }

    @Test func windowsAndLossRecovery() {
        var transfer = ReadTransfer(fileSize: 1_000_000, negotiation: Self.negotiation([("blksize", "1468"), ("windowsize", "4")]))
        let start = transfer.handle(.start(now: 0))
        #expect(start.first == .send(.optionAck([TFTPOption(name: "blksize", value: "1468"), TFTPOption(name: "windowsize", value: "4")])))
        #expect(Self.blocks(transfer.handle(.received(.ack(block: 0), now: 0.1))) == [1, 2, 3, 4])
        #expect(Self.blocks(transfer.handle(.received(.ack(block: 2), now: 0.2))) == [3, 4, 5, 6])   // a gap after 2
        var lossy = ReadTransfer(fileSize: 1_000_000, negotiation: Self.negotiation([("blksize", "1468"), ("windowsize", "8")]))
        let result = Self.download(&lossy) { $0 % 37 == 0 }
        #expect(result.finished && result.covered == 1_000_000)
    }

    @Test func ovmfSizeProbeAndTimeouts() {
        var probe = ReadTransfer(fileSize: 5000, negotiation: Self.negotiation([("tsize", "0"), ("blksize", "1468")]))
        _ = probe.handle(.start(now: 0))
        #expect(probe.handle(.received(.error(code: .optionRefused, message: "User aborted the transfer"), now: 0.1)) == [.finished])
        var silent = ReadTransfer(fileSize: 5000, negotiation: Self.negotiation([("timeout", "2")]), maximumRetries: 2)
        _ = silent.handle(.start(now: 0))
        #expect(silent.handle(.timer(now: 2)) == [.send(.optionAck([TFTPOption(name: "timeout", value: "2")])), .wake(at: 6)])
        _ = silent.handle(.timer(now: 6))
        let last = silent.handle(.timer(now: 12))
        #expect(last.last == .aborted("no answer after 2 retransmissions"))
        #expect(silent.handle(.received(.ack(block: 0), now: 13)).isEmpty)
    }
}

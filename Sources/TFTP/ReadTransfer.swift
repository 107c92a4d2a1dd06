/// One read transfer as a pure state machine: packets and the time in, what to send out.
/// Blocks are counted from 1 without limit and go on the wire modulo 65536 (65535 → 0, the
/// rollover every client accepted). With `windowsize` W, W blocks leave before an ACK; an ACK
/// for the last in-order block moves the window, a stale or duplicate ACK changes nothing (no
/// Sorcerer's Apprentice resends); only a timeout resends, from the first unacknowledged block.
public struct ReadTransfer: Sendable {
    public enum Event: Sendable {
        case start(now: Double)
        case received(TFTPPacket, now: Double)
        case timer(now: Double)
    }

    public enum Action: Equatable, Sendable {
        case send(TFTPPacket)
        /// Send DATA `block` with the file's bytes `offset ..< offset + length`.
        case sendData(block: UInt16, offset: UInt64, length: Int)
        /// Deliver `.timer` at this time (replaces the previous request).
        case wake(at: Double)
        case finished
        /// The transfer ended without the client having everything (the reason is for the log).
        case aborted(String)
    }

    enum State: Equatable { case idle, awaitingOptionAck, sending, done }

    public let fileSize: UInt64
    public let negotiation: TFTPNegotiation
    public let retryTimeout: Double
    public let maximumRetries: Int
    private var state = State.idle
    /// First block not yet acknowledged, and the highest block sent.
    private var base: UInt64 = 1
    private var sentUpTo: UInt64 = 0
    private var retries = 0

    public init(fileSize: UInt64, negotiation: TFTPNegotiation, maximumRetries: Int = 5) {
        self.fileSize = fileSize
        self.negotiation = negotiation
        retryTimeout = Double(negotiation.timeout ?? 1)
        self.maximumRetries = maximumRetries
    }

    /// The last block: the one shorter than the block size (empty when the size is a multiple).
    public var lastBlock: UInt64 { fileSize / UInt64(negotiation.blockSize) + 1 }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.idle, .start(let now)):
            if negotiation.granted.isEmpty {
                state = .sending
                return sendWindow(from: 1, now: now)
            }
            state = .awaitingOptionAck
            return [.send(.optionAck(negotiation.granted)), .wake(at: now + retryTimeout)]
        case (.awaitingOptionAck, .received(.ack(0), let now)):
            state = .sending
            retries = 0
            return sendWindow(from: 1, now: now)
        case (.awaitingOptionAck, .received(.error(let code, let message), _)):
            state = .done
            // OVMF asks for the size only, then refuses the OACK: a normal end.
            return code == .optionRefused ? [.finished] : [.aborted("client error \(code.rawValue): \(message)")]
        case (.sending, .received(.ack(let wire), let now)):
            guard let acked = absolute(wire), acked >= base - 1 else { return [] }   // stale or foreign: ignore
            if acked == lastBlock {
                state = .done
                return [.finished]
            }
            guard acked >= base else { return [] }                                  // duplicate of the last window's start
            // The end of a window, or (RFC 7440) the last block before a gap: go on from the next.
            retries = 0
            base = acked + 1
            return sendWindow(from: base, now: now)
        case (.sending, .received(.error(let code, let message), _)):
            state = .done
            return [.aborted("client error \(code.rawValue): \(message)")]
        case (.awaitingOptionAck, .timer(let now)), (.sending, .timer(let now)):
            retries += 1
            guard retries <= maximumRetries else {
                state = .done
                return [.send(.error(code: .notDefined, message: "timed out")), .aborted("no answer after \(maximumRetries) retransmissions")]
            }
            if state == .awaitingOptionAck { return [.send(.optionAck(negotiation.granted)), .wake(at: now + retryTimeout * Double(retries + 1))] }
            return sendWindow(from: base, now: now, backoff: Double(retries + 1))
        case (.awaitingOptionAck, .received), (.sending, .received):
            return []   // DATA, requests or OACKs from the client: nothing to do in a read
        case (.done, _), (.idle, _), (_, .start):
            return []
        }
    }

    /// The absolute block an ACK's 16-bit number stands for, among those it can refer to.
    private func absolute(_ wire: UInt16) -> UInt64? {
        let low = base - 1
        var candidate = (low & ~0xFFFF) | UInt64(wire)
        if candidate < low { candidate += 0x1_0000 }
        return candidate <= sentUpTo ? candidate : nil
    }

    private mutating func sendWindow(from first: UInt64, now: Double, backoff: Double = 1) -> [Action] {
        let last = min(first + UInt64(negotiation.windowSize) - 1, lastBlock)
        var actions: [Action] = []
        for block in first...last {
            let offset = (block - 1) * UInt64(negotiation.blockSize)
            let length = Int(min(UInt64(negotiation.blockSize), fileSize - offset))
            actions.append(.sendData(block: UInt16(truncatingIfNeeded: block), offset: offset, length: length))
        }
        sentUpTo = max(sentUpTo, last)
        actions.append(.wake(at: now + retryTimeout * backoff))
        return actions
    }
}

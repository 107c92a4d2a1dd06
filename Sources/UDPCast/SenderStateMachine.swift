/// The udpcast sender as a value-type state machine: rendezvous (HELLO, CONNECT_REQ/REPLY,
/// start rules), slices sent in first transmission (DATA, then FEC), REQACK rounds answered by
/// OK or RETRANSMIT, resends, drops, and the 0-byte end slice. The driver feeds input bytes,
/// datagrams and ticks with the time, and carries out the sends.
public struct SenderStateMachine: Sendable {
    public enum Action: Equatable, Sendable {
        case send(UDPCastMessage, to: Endpoint)
        case finished(SenderOutcome)
        case failed(SenderError)
    }

    public enum Phase: Equatable, Sendable { case idle, rendezvous, starting, transfer, done }

    public private(set) var phase = Phase.idle
    /// When the driver must call `tick` next (now or earlier means: again, right away).
    public private(set) var deadline: Nanoseconds?
    public private(set) var bytesAcknowledged: UInt64 = 0
    public private(set) var blocksSent: UInt64 = 0
    public private(set) var blocksResent: UInt64 = 0
    public private(set) var sliceSize: Int
    public private(set) var dropped: [Endpoint] = []
    public private(set) var transferStartedAt: Nanoseconds?
    public private(set) var commonCapabilities = Capabilities.standard

    let config: SenderConfiguration
    var participants = ParticipantTable()
    private var governor: RateGovernor?
    private var fec: FECCode?
    private var dataDestination: Endpoint
    private var lastControlAt: Nanoseconds = 0
    private var firstConnectionAt: Nanoseconds?
    private var nextHelloAt: Nanoseconds?
    private var hellosRepeated = 0
    private var input = InputQueue()
    private var inputEnded = false
    private var nextSliceNumber: UInt32 = 0
    private var endSliceCreated = false
    private var xmit: OutgoingSlice?
    private var rexmit: OutgoingSlice?
    private var averageReplyDelay: Double = 10_000_000
    private var sliceShrunk = false
    private var transferBeginsAt: Nanoseconds = 0
    /// A receiver lost a long run of consecutive blocks: its socket buffer overflowed, so
    /// the slice is too large for it. Scattered losses are the network's and need no shrink.
    private var sawOverrun = false
    static let overrunRun = 8
    /// The last pump stopped because the rate limit said "not yet".
    private var rateLimited = false

    /// Packets one pump may emit before yielding so that replies are read in between.
    static let burst = 64

    public init(configuration: SenderConfiguration) throws(SenderError) {
        config = configuration
        guard (4...65_507).contains(configuration.blockSize) else { throw .invalidOption("--blocksize \(configuration.blockSize)") }
        if configuration.async && configuration.maxBitrate == nil {
            throw .invalidOption("--async needs --max-bitrate (there is no return channel to slow down)")
        }
        if let f = configuration.fec {
            guard (1...128).contains(f.stripes), (1...128).contains(f.redundancy), (1...128).contains(f.stripeSize) else {
                throw .invalidOption("--fec \(f.stripes)x\(f.redundancy)/\(f.stripeSize)")
            }
            fec = FECCode(stripes: f.stripes, redundancy: f.redundancy, blockSize: configuration.blockSize)
        }
        governor = configuration.maxBitrate.map { RateGovernor(bitsPerSecond: $0) }
        sliceSize = configuration.initialSliceSize
        dataDestination = Endpoint(configuration.dataAddress, configuration.receiverPort)
    }

    /// True while the driver should read more input into `provideInput`.
    public var wantsInput: Bool {
        !inputEnded && input.count < 2 * config.sliceCap * config.blockSize
    }

    var helloMessage: UDPCastMessage {
        .hello(kind: .legacy, capabilities: config.capabilities, dataAddress: config.dataAddress, blockSize: UInt16(config.blockSize))
    }

    var rendezvousEndpoint: Endpoint { Endpoint(config.rendezvous, config.receiverPort) }

    // MARK: events

    public mutating func start(now: Nanoseconds) -> [Action] {
        guard phase == .idle else { return [] }
        phase = .rendezvous
        lastControlAt = now
        nextHelloAt = config.helloInterval.map { now + $0 }
        updateDeadline(now: now)
        return [.send(helloMessage, to: rendezvousEndpoint)]
    }

    public mutating func provideInput(_ bytes: [UInt8], now: Nanoseconds) -> [Action] {
        input.append(bytes)
        return pump(now: now)
    }

    public mutating func endOfInput(now: Nanoseconds) -> [Action] {
        inputEnded = true
        return pump(now: now)
    }

    /// A key press on the sender's console starts the transfer now.
    public mutating func keyPressed(now: Nanoseconds) -> [Action] {
        guard phase == .rendezvous else { return [] }
        return startTransfer(now: now)
    }

    public mutating func tick(now: Nanoseconds) -> [Action] {
        switch phase {
        case .rendezvous: return rendezvousTick(now: now)
        case .starting: return now >= transferBeginsAt ? beginTransfer(now: now) : []
        case .transfer: return pump(now: now)
        case .idle, .done: return []
        }
    }

    public mutating func receive(_ message: UDPCastMessage, from source: Endpoint, now: Nanoseconds) -> [Action] {
        // Only the receiver port or our own may talk to us ("Bad message from port").
        guard source.port == config.receiverPort || source.port == config.portBase &+ 1 else { return [] }
        switch phase {
        case .rendezvous, .starting: return rendezvous(message, from: source, now: now)
        case .transfer: return transfer(message, from: source, now: now)
        case .idle, .done: return []
        }
    }

    // MARK: rendezvous

    private mutating func rendezvous(_ message: UDPCastMessage, from source: Endpoint, now: Nanoseconds) -> [Action] {
        guard !config.async else { return [] }
        lastControlAt = now
        switch message {
        case .connectRequest(let caps, _):
            let number: Int?
            if config.pointToPoint == .forced, participants.count >= 1, participants.number(of: source.address) == nil {
                number = nil
            } else {
                number = participants.register(source, capabilities: caps)
            }
            guard let number else {
                return [.send(.connectReply(client: -1, blockSize: UInt32(config.blockSize), capabilities: config.capabilities,
                                            dataAddress: config.dataAddress), to: source)]
            }
            if firstConnectionAt == nil { firstConnectionAt = now }
            let advertised = config.pointToPoint == .forced ? source.address : config.dataAddress
            var actions: [Action] = [.send(.connectReply(client: Int32(number), blockSize: UInt32(config.blockSize),
                                                         capabilities: config.capabilities, dataAddress: advertised), to: source)]
            if phase == .rendezvous && startRuleMet(now: now) { actions += startTransfer(now: now) } else { updateDeadline(now: now) }
            return actions
        case .go:
            return phase == .rendezvous ? startTransfer(now: now) : []
        case .disconnect:
            if let number = participants.number(of: source.address) { participants.remove(number) }
            updateDeadline(now: now)
            return []
        default:
            return []
        }
    }

    private mutating func rendezvousTick(now: Nanoseconds) -> [Action] {
        var actions: [Action] = []
        if let at = nextHelloAt, now >= at, let interval = config.helloInterval {
            actions.append(.send(helloMessage, to: rendezvousEndpoint))
            hellosRepeated += 1
            nextHelloAt = now + (config.async || config.autostart != nil ? .seconds(1) : interval)
            if let n = config.autostart, hellosRepeated > n { return actions + startTransfer(now: now) }
        }
        if startRuleMet(now: now) { return actions + startTransfer(now: now) }
        if let timeout = config.startTimeout, now >= lastControlAt + timeout {
            return actions + end(.noParticipants)
        }
        updateDeadline(now: now)
        return actions
    }

    private func startRuleMet(now: Nanoseconds) -> Bool {
        guard !participants.isEmpty, let first = firstConnectionAt else { return false }
        if let maxWait = config.maxWait, now >= first + maxWait { return true }
        if let minReceivers = config.minReceivers {
            return participants.count >= minReceivers && config.minWait.map { now >= first + $0 } ?? true
        }
        if let minWait = config.minWait { return now >= first + minWait }
        return false
    }

    /// The start decision: data follows after `startDelay`.
    private mutating func startTransfer(now: Nanoseconds) -> [Action] {
        if participants.isEmpty && !config.async { return end(.noParticipants) }
        phase = .starting
        transferBeginsAt = now + config.startDelay
        deadline = transferBeginsAt
        return config.startDelay == 0 ? beginTransfer(now: now) : []
    }

    private mutating func beginTransfer(now: Nanoseconds) -> [Action] {
        if participants.isEmpty && !config.async { return end(.noParticipants) }
        phase = .transfer
        transferStartedAt = now
        commonCapabilities = participants.commonCapabilities(with: config.capabilities)
        if config.broadcastData {
            dataDestination = rendezvousEndpoint
        } else if !config.async, config.pointToPoint != .never, participants.count == 1,
                  let only = participants.numbers.first.flatMap({ participants[$0] }) {
            dataDestination = only.endpoint
        }
        return pump(now: now)
    }

    // MARK: transfer

    private mutating func transfer(_ message: UDPCastMessage, from source: Endpoint, now: Nanoseconds) -> [Action] {
        guard !config.async, let number = participants.number(of: source.address) else { return [] }
        switch message {
        case .connectRequest:
            // A participant whose CONNECT_REPLY was lost asks again: same number, same answer.
            return [.send(.connectReply(client: Int32(number), blockSize: UInt32(config.blockSize), capabilities: config.capabilities,
                                        dataAddress: config.pointToPoint == .forced ? source.address : config.dataAddress), to: source)]
                + pump(now: now)
        case .ok(let slice):
            guard var slice0 = rexmit, slice0.number == slice else { return pump(now: now) }
            noteReplyDelay(now - slice0.reqackSentAt)
            slice0.ready[number] = true
            slice0.answered[number] = true
            rexmit = slice0
        case .retransmit(let slice, let round, let have):
            guard var slice0 = rexmit, slice0.number == slice, round >= slice0.round else { return pump(now: now) }
            noteReplyDelay(now - slice0.reqackSentAt)
            slice0.answered[number] = true
            var run = 0
            for block in 0..<slice0.blockCount where !have[block] {
                slice0.want(block)
                run = block > 0 && !have[block - 1] ? run + 1 : 1
                if run >= Self.overrunRun { sawOverrun = true }
            }
            rexmit = slice0
        case .disconnect:
            participants.remove(number)
            forget(number)
        default:
            break
        }
        return pump(now: now)
    }

    private mutating func noteReplyDelay(_ delay: Nanoseconds) {
        averageReplyDelay = (averageReplyDelay * 7 + Double(delay)) / 8
    }

    private mutating func forget(_ number: Int) {
        if var slice = rexmit { slice.ready[number] = false; slice.answered[number] = false; rexmit = slice }
    }

    private var waitingFor: [Int] {
        guard let slice = rexmit else { return [] }
        return participants.numbers.filter { !slice.ready[$0] && !slice.answered[$0] }
    }

    /// Every participant has answered the current round (or was already done).
    private var noneWaiting: Bool {
        guard let ready = rexmit?.ready, let answered = rexmit?.answered else { return true }
        return participants.all { ready[$0] || answered[$0] }
    }

    /// Runs the transmit loop until it has to wait for input, replies, the rate limit or time.
    private mutating func pump(now: Nanoseconds) -> [Action] {
        guard phase == .transfer else { return [] }
        var actions: [Action] = []
        var packets = 0
        rateLimited = false
        while true {
            if !config.async && participants.isEmpty {
                return actions + end(bytesAcknowledged > 0 || rexmit != nil ? .allReceiversGone : .noParticipants)
            }
            // 1. Everyone has the waiting slice.
            if let ready = rexmit?.ready, config.async || participants.all({ ready[$0] }) {
                let slice = rexmit!
                rexmit = nil
                bytesAcknowledged += UInt64(slice.length)
                if slice.length == 0 { return actions + end(.complete) }
                if config.duplex == .half && !sliceShrunk { sliceSize = min(config.sliceCap, sliceSize + sliceSize / 4) }
                continue
            }
            // 2. A fully transmitted slice moves on to be acknowledged.
            if rexmit == nil, let done = xmit.map(firstTransmissionDone), done {
                var slice = xmit!
                xmit = nil
                slice.startRound(0, at: now)
                rexmit = slice
                if !config.async || (slice.length == 0 && fec == nil) { actions.append(reqack(for: slice)) }
                continue
            }
            // 3. Resend what the last answers asked for (in place: no copy of the slice).
            if rexmit?.hasPendingResends == true, let block = rexmit!.nextResend() {
                let length = rexmit!.length
                guard admit(payload: min(config.blockSize, Int(length) - block * config.blockSize), now: now) else { break }
                actions.append(.send(.data(slice: rexmit!.number, block: UInt16(block), sliceBytes: length,
                                           payload: rexmit!.block(block)), to: dataDestination))
                rexmit!.markResent(block)
                blocksResent += 1
                blocksSent += 1
                packets += 1
                if packets >= Self.burst { break }
                continue
            }
            // 4. Everyone still missing has answered: next round.
            if rexmit != nil, noneWaiting {
                rexmit!.startRound(rexmit!.round + 1, at: now)
                shrinkAfterLoss()
                actions.append(reqack(for: rexmit!))
                continue
            }
            // 5. Start the next slice (half duplex only once the previous one is acknowledged).
            if xmit == nil, rexmit == nil || config.duplex == .full, let slice = makeSlice() {
                xmit = slice
                continue
            }
            // 6. First transmission of the current slice: data blocks, then FEC blocks.
            if let done = xmit.map(firstTransmissionDone), !done {
                let message: UDPCastMessage
                if xmit!.nextBlock < xmit!.blockCount {
                    let block = xmit!.nextBlock
                    let payload = xmit!.block(block)
                    guard admit(payload: payload.count, now: now) else { break }
                    message = .data(slice: xmit!.number, block: UInt16(block), sliceBytes: xmit!.length, payload: payload)
                    xmit!.nextBlock += 1
                    blocksSent += 1
                } else {
                    guard admit(payload: config.blockSize, now: now) else { break }
                    message = fecMessage(xmit!, fecBlock: xmit!.nextFEC)
                    xmit!.nextFEC += 1
                }
                actions.append(.send(message, to: dataDestination))
                packets += 1
                if packets >= Self.burst { break }
                continue
            }
            break
        }
        // Replies overdue: repeat the REQACK, or drop the silent after enough rounds.
        if let slice = rexmit, !config.async, !noneWaiting, !slice.hasPendingResends, now >= replyDeadline(slice) {
            if Int(slice.round) >= config.retriesUntilDrop {
                for number in waitingFor {
                    if let p = participants[number] { dropped.append(p.endpoint) }
                    participants.remove(number)
                    forget(number)
                }
            } else {
                var next = slice
                next.startRound(slice.round + 1, at: now)
                rexmit = next
                actions.append(reqack(for: next))
            }
            return actions + pump(now: now)
        }
        updateDeadline(now: now, yielded: packets >= Self.burst)
        return actions
    }

    private mutating func end(_ outcome: SenderOutcome) -> [Action] {
        phase = .done
        deadline = nil
        return [.finished(outcome)]
    }

    private func firstTransmissionDone(_ slice: OutgoingSlice) -> Bool {
        guard slice.nextBlock >= slice.blockCount else { return false }
        guard let fec else { return true }
        // The 0-byte end slice carries FEC (the end marker) only in async mode.
        if slice.length == 0 && !config.async { return true }
        return slice.nextFEC >= fec.stripes * fec.redundancy
    }

    private func fecMessage(_ slice: OutgoingSlice, fecBlock f: Int) -> UDPCastMessage {
        let code = fec!
        let payload = slice.length == 0
            ? [UInt8](repeating: 0, count: config.blockSize)
            : code.encode(fecBlock: f, sliceBlocks: slice.blockCount) { Array(slice.block($0)) }
        return .fec(stripes: UInt16(code.stripes), slice: slice.number, block: UInt16(f), sliceBytes: slice.length, payload: payload[...])
    }

    private func reqack(for slice: OutgoingSlice) -> Action {
        .send(.reqack(slice: slice.number, bytes: slice.length, round: slice.round, ready: slice.ready), to: dataDestination)
    }

    /// Cuts the next slice from the input: a full slice, or what is left at end of input, or
    /// the 0-byte end slice once everything was sent.
    private mutating func makeSlice() -> OutgoingSlice? {
        let full = sliceSize * config.blockSize
        guard input.count >= full || inputEnded else { return nil }
        if input.isEmpty {
            guard inputEnded, !endSliceCreated else { return nil }
            endSliceCreated = true
        }
        let slice = OutgoingSlice(number: nextSliceNumber, data: input.take(full), blockSize: config.blockSize)
        nextSliceNumber &+= 1
        return slice
    }

    /// Half duplex: a round that showed a receiver overrun halves the slice (never below the
    /// floor) and stops growth. Unlike udpcast, scattered random loss keeps the slice large, so
    /// repairs cost one extra round per slice instead of many small slices.
    private mutating func shrinkAfterLoss() {
        defer { sawOverrun = false }
        guard config.duplex == .half, sawOverrun else { return }
        sliceShrunk = true
        sliceSize = max(min(config.minSliceSize, sliceSize), sliceSize / 2)
    }

    private mutating func admit(payload: Int, now: Nanoseconds) -> Bool {
        guard var governor else { return true }
        defer { self.governor = governor }
        let admitted = governor.admit(payload: payload, now: now)
        if !admitted { rateLimited = true }
        return admitted
    }

    /// Fast rounds first (1.1 × the average reply delay), then a second each, as udpcast does
    /// after round 10. The last rounds before a drop are always slow, so a low
    /// `--retries-until-drop` cannot drop a whole group that stalled for a few milliseconds.
    private func replyDeadline(_ slice: OutgoingSlice) -> Nanoseconds {
        let patient = slice.round > 10 || Int(slice.round) + 3 >= config.retriesUntilDrop
        let wait = Nanoseconds(max(1_000_000, 1.1 * averageReplyDelay)) + (patient ? .seconds(1) : 0)
        return slice.reqackSentAt + wait
    }

    private mutating func updateDeadline(now: Nanoseconds, yielded: Bool = false) {
        switch phase {
        case .rendezvous:
            var candidates: [Nanoseconds] = []
            if let at = nextHelloAt { candidates.append(at) }
            if let first = firstConnectionAt {
                if let w = config.maxWait { candidates.append(first + w) }
                if let w = config.minWait { candidates.append(first + w) }
            }
            if let t = config.startTimeout { candidates.append(lastControlAt + t) }
            deadline = candidates.min()
        case .transfer:
            if yielded { deadline = now; return }
            var candidates: [Nanoseconds] = []
            if let slice = rexmit, !config.async, !noneWaiting { candidates.append(replyDeadline(slice)) }
            if let governor, rateLimited { candidates.append(governor.nextAdmission(after: now)) }
            deadline = candidates.min()
        case .starting:
            deadline = transferBeginsAt
        case .idle, .done:
            deadline = nil
        }
    }
}

public enum SenderError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidOption(String)

    public var description: String {
        switch self {
        case .invalidOption(let detail): return "invalid option: \(detail)"
        }
    }
}

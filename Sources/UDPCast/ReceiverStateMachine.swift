/// The udpcast receiver as a value-type state machine: rendezvous with a sender, reassemble
/// slices (with FEC), answer REQACKs, deliver the bytes in order, linger for the exit-wait and
/// say goodbye. Events carry the time; actions say what to send, join, write and when to wake.
public struct ReceiverStateMachine: Sendable {
    public struct Configuration: Sendable {
        public var portBase: UInt16 = 9000
        /// Where the first CONNECT_REQ goes: the subnet broadcast or the rendezvous group.
        public var rendezvous: IPv4Address
        public var ownAddress: IPv4Address
        /// `--passive` (or an ASYNC sender): never ask to connect, never needed for progress.
        public var passive = false
        public var exitWait: Nanoseconds = .milliseconds(500)
        /// Without a sender (or, unlike udpcast, without data) for this long: fail.
        public var startTimeout: Nanoseconds?
        /// Once data flows, silence for this long: fail.
        public var receiveTimeout: Nanoseconds?
        /// Reported in CONNECT_REQ.
        public var receiveBuffer: UInt32 = 212_992
        /// Without a CONNECT_REPLY for this long, ask again (udpcast never does: a lost reply
        /// leaves its receiver waiting for ever).
        public var connectRetry: Nanoseconds? = .seconds(1)

        public init(rendezvous: IPv4Address, ownAddress: IPv4Address) {
            self.rendezvous = rendezvous
            self.ownAddress = ownAddress
        }

        var senderPort: UInt16 { portBase &+ 1 }
    }

    public enum Action: Equatable, Sendable {
        case send(UDPCastMessage, to: Endpoint)
        case joinGroup(IPv4Address)
        case deliver([UInt8])
        case finished
        case failed(ReceiverError)
    }

    public enum Phase: Equatable, Sendable { case idle, rendezvous, connected, transferring, exitWait, done }

    public private(set) var phase = Phase.idle
    public private(set) var clientNumber: Int32?
    public private(set) var sender: Endpoint?
    public private(set) var dataAddress: IPv4Address?
    public private(set) var blockSize = UDPCastMessage.maxBlockSize
    public private(set) var bytesDelivered: UInt64 = 0
    public private(set) var blocksReceived: UInt64 = 0
    public private(set) var retransmitRequests: UInt64 = 0
    /// When the first data packet arrived (for the rate the CLI prints).
    public private(set) var firstDataAt: Nanoseconds?
    /// The next moment the driver must deliver a `.tick`, if any.
    public private(set) var deadline: Nanoseconds?

    private let config: Configuration
    private var startedAt: Nanoseconds = 0
    private var lastPacketAt: Nanoseconds = 0
    private var connectRequestAt: Nanoseconds = 0
    private var exitAt: Nanoseconds = 0
    private var nextSlice: UInt32 = 0
    private var endSlice: UInt32?
    private var slices: [UInt32: SliceAssembly] = [:]

    /// Slices ahead of the next undelivered one that may be in flight (udpcast keeps four;
    /// a sender at nextSlice + 3 has dropped us).
    static let window: UInt32 = 3

    public init(configuration: Configuration) { config = configuration }

    // MARK: events

    public mutating func start(now: Nanoseconds) -> [Action] {
        guard phase == .idle else { return [] }
        phase = .rendezvous
        startedAt = now
        connectRequestAt = now
        updateDeadline()
        guard !config.passive else { return [] }
        return [.send(.connectRequest(capabilities: .standard, receiveBuffer: config.receiveBuffer),
                      to: Endpoint(config.rendezvous, config.senderPort))]
    }

    /// A key press (or stdin at EOF without `--nokbd`) asks the sender to start now.
    public mutating func keyPressed() -> [Action] {
        guard let sender, phase == .connected, !config.passive else { return [] }
        return [.send(.go, to: sender)]
    }

    public mutating func receive(_ message: UDPCastMessage, from source: Endpoint, now: Nanoseconds) -> [Action] {
        switch phase {
        case .idle, .done: return []
        case .rendezvous: return rendezvous(message, from: source, now: now)
        case .connected, .transferring, .exitWait: return transfer(message, from: source, now: now)
        }
    }

    /// A DATA or FEC datagram straight from the driver's receive buffer: the payload is copied
    /// once, into its slice. `receive` takes the same path for decoded messages.
    public mutating func receiveBlock(_ header: BlockHeader, payload: UnsafeRawBufferPointer, from source: Endpoint,
                                      now: Nanoseconds) -> [Action] {
        switch phase {
        case .idle, .done, .rendezvous: return []
        case .connected, .transferring, .exitWait: break
        }
        // Only the connected sender's socket may feed us ("rogue packet" otherwise).
        guard source == sender else { return [] }
        return accept(slice: header.slice, bytes: header.sliceBytes, now: now) { assembly in
            if header.isFEC {
                assembly.addFEC(stripes: Int(header.stripes), fecBlock: Int(header.block), payload: payload)
            } else {
                _ = assembly.addData(block: Int(header.block), payload: payload)
            }
        }
    }

    public mutating func tick(now: Nanoseconds) -> [Action] {
        guard let deadline, now >= deadline else { return [] }
        switch phase {
        case .rendezvous:
            if let timeout = config.startTimeout, now >= startedAt + timeout {
                return fail(.noSender(rendezvous: Endpoint(config.rendezvous, config.senderPort)))
            }
            // Ask again: the HELLO's sender if one was heard, else the rendezvous address.
            connectRequestAt = now
            updateDeadline()
            return [.send(.connectRequest(capabilities: .standard, receiveBuffer: config.receiveBuffer),
                          to: sender ?? Endpoint(config.rendezvous, config.senderPort))]
        case .connected:
            return fail(.noData(sender: sender!, dataAddress: dataAddress, port: config.portBase))
        case .transferring:
            return fail(.receiveTimeout(seconds: Double(config.receiveTimeout ?? 0) / 1e9, slice: nextSlice))
        case .exitWait:
            phase = .done
            self.deadline = nil
            return [.send(.disconnect, to: sender!), .finished]
        case .idle, .done:
            return []
        }
    }

    // MARK: rendezvous

    private mutating func rendezvous(_ message: UDPCastMessage, from source: Endpoint, now: Nanoseconds) -> [Action] {
        guard source.port == config.senderPort else { return [] }
        switch message {
        case .connectReply(let client, let size, let caps, let address):
            guard client >= 0 else { return fail(.refused(sender: source)) }
            if caps.contains(.newGeneration) {
                guard (1...65_507).contains(size) else { return fail(.badBlockSize(Int(size))) }
                blockSize = Int(size)
                dataAddress = address
            }
            clientNumber = client
            return connect(to: source, now: now)
        case .hello(_, let caps, let address, let size):
            sender = source
            if caps.contains(.newGeneration) {
                guard size > 0 else { return fail(.badBlockSize(0)) }
                blockSize = Int(size)
                dataAddress = address
            }
            if caps.contains(.async) || config.passive {
                clientNumber = 0
                return connect(to: source, now: now)
            }
            connectRequestAt = now
            updateDeadline()
            return [.send(.connectRequest(capabilities: .standard, receiveBuffer: config.receiveBuffer), to: source)]
        case .connectRequest, .data, .fec:
            return []
        case .reqack:
            return fail(.otherTransferInProgress(source))
        default:
            return []
        }
    }

    private mutating func connect(to source: Endpoint, now: Nanoseconds) -> [Action] {
        sender = source
        phase = .connected
        lastPacketAt = now
        startedAt = now
        updateDeadline()
        guard let group = dataAddress, group.value != 0, group != config.ownAddress, group != config.rendezvous,
              group.isMulticast else { return [] }
        return [.joinGroup(group)]
    }

    // MARK: transfer

    private mutating func transfer(_ message: UDPCastMessage, from source: Endpoint, now: Nanoseconds) -> [Action] {
        // Only the connected sender's socket may feed or question us ("rogue packet" otherwise).
        guard source == sender else { return [] }
        switch message {
        case .data(let slice, let block, let bytes, let payload):
            let header = BlockHeader(isFEC: false, stripes: 0, slice: slice, block: block, sliceBytes: bytes)
            return payload.withUnsafeBytes { receiveBlock(header, payload: $0, from: source, now: now) }
        case .fec(let stripes, let slice, let block, let bytes, let payload):
            let header = BlockHeader(isFEC: true, stripes: stripes, slice: slice, block: block, sliceBytes: bytes)
            return payload.withUnsafeBytes { receiveBlock(header, payload: $0, from: source, now: now) }
        case .reqack(let slice, let bytes, let round, let ready):
            return reqack(slice: slice, bytes: bytes, round: round, ready: ready, now: now)
        default:
            return []
        }
    }

    /// Common path of DATA and FEC: window checks, length bookkeeping, then delivery of
    /// whatever has become complete.
    private mutating func accept(slice: UInt32, bytes: UInt32, now: Nanoseconds,
                                 _ store: (inout SliceAssembly) -> Void) -> [Action] {
        guard phase != .exitWait else { return [] }
        guard slice >= nextSlice else { return [] }
        guard slice < nextSlice &+ Self.window else { return droppedAt(slice) }
        markTraffic(now)
        if bytes == 0 {
            // Async mode marks the end with FEC packets of a 0-byte slice.
            endSlice = min(endSlice ?? slice, slice)
            return deliverReady(now: now)
        }
        // Mutate in place: a copy taken out of the dictionary would duplicate the slice buffer
        // on every packet.
        if slices[slice] == nil { slices[slice] = SliceAssembly(number: slice, blockSize: blockSize) }
        do { try slices[slice]!.setLength(bytes) } catch { return fail(.sliceLength(slice: slice, detail: "\(error)")) }
        let before = slices[slice]!.haveCount
        store(&slices[slice]!)
        blocksReceived += UInt64(max(0, slices[slice]!.haveCount - before))
        return deliverReady(now: now)
    }

    private mutating func reqack(slice: UInt32, bytes: UInt32, round: UInt32, ready: BitMap1024, now: Nanoseconds) -> [Action] {
        // A REQACK that finds us done proves the sender alive and waiting for others (a dead
        // receiver can hold a lab for many rounds): not silence. One for a slice we still lack
        // is no progress: a receiver whose data is lost on the way while control passes must
        // still time out (data arriving after it resets the clock).
        if let number = clientNumber, ready[Int(number)] {
            markTraffic(now)
            return []
        }
        let sender = self.sender!
        if slice < nextSlice || phase == .exitWait {
            markTraffic(now)
            return [.send(.ok(slice: slice), to: sender)]
        }
        guard slice < nextSlice &+ Self.window else { return droppedAt(slice) }
        var actions: [Action] = []
        if bytes == 0 {
            endSlice = min(endSlice ?? slice, slice)
        } else {
            if slices[slice] == nil { slices[slice] = SliceAssembly(number: slice, blockSize: blockSize) }
            do { try slices[slice]!.setLength(bytes) } catch { return fail(.sliceLength(slice: slice, detail: "\(error)")) }
        }
        actions += deliverReady(now: now)
        if case .failed = actions.last { return actions }
        if slice < nextSlice || phase == .exitWait {
            actions.append(.send(.ok(slice: slice), to: sender))
        } else if let assembly = slices[slice] {
            retransmitRequests += 1
            actions.append(.send(.retransmit(slice: slice, round: round, received: assembly.have), to: sender))
        } else {
            // The end slice is answered OK only once everything before it has been delivered.
            retransmitRequests += 1
            actions.append(.send(.retransmit(slice: slice, round: round, received: BitMap1024()), to: sender))
        }
        return actions
    }

    /// Hands out every complete slice in order; reaching the 0-byte slice starts the exit-wait
    /// (its OK goes out with the REQACK that asks for it; async senders ask nothing).
    private mutating func deliverReady(now: Nanoseconds) -> [Action] {
        var actions: [Action] = []
        while slices[nextSlice]?.isComplete == true {
            let bytes = slices[nextSlice]!.takePayload()
            bytesDelivered += UInt64(bytes.count)
            if !bytes.isEmpty { actions.append(.deliver(bytes)) }
            slices[nextSlice] = nil
            nextSlice &+= 1
        }
        if let end = endSlice, end == nextSlice, phase != .exitWait {
            phase = .exitWait
            exitAt = now + config.exitWait
            nextSlice &+= 1
            updateDeadline()
        }
        return actions
    }

    private mutating func droppedAt(_ slice: UInt32) -> [Action] {
        let missing = slices[nextSlice]?.missingBlocks ?? []
        return fail(.droppedBySender(slice: slice, waitingFor: nextSlice, missingBlocks: missing.count))
    }

    private mutating func markTraffic(_ now: Nanoseconds) {
        lastPacketAt = now
        if phase == .connected {
            phase = .transferring
            firstDataAt = now
        }
        updateDeadline()
    }

    private mutating func fail(_ error: ReceiverError) -> [Action] {
        phase = .done
        deadline = nil
        var actions: [Action] = []
        // Like udpcast, say goodbye so a sender does not wait for us through its retries.
        if let sender, clientNumber != nil { actions.append(.send(.disconnect, to: sender)) }
        return actions + [.failed(error)]
    }

    private mutating func updateDeadline() {
        switch phase {
        case .rendezvous:
            let retry = config.passive ? nil : config.connectRetry.map { connectRequestAt + $0 }
            deadline = [config.startTimeout.map { startedAt + $0 }, retry].compactMap { $0 }.min()
        case .connected: deadline = config.startTimeout.map { startedAt + $0 }
        case .transferring: deadline = config.receiveTimeout.map { lastPacketAt + $0 }
        case .exitWait: deadline = exitAt
        case .idle, .done: deadline = nil
        }
    }
}

public enum ReceiverError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSender(rendezvous: Endpoint)
    case noData(sender: Endpoint, dataAddress: IPv4Address?, port: UInt16)
    case receiveTimeout(seconds: Double, slice: UInt32)
    case refused(sender: Endpoint)
    case badBlockSize(Int)
    case otherTransferInProgress(Endpoint)
    case droppedBySender(slice: UInt32, waitingFor: UInt32, missingBlocks: Int)
    case sliceLength(slice: UInt32, detail: String)

    public var description: String {
        switch self {
        case .noSender(let rdv):
            return "no udpcast sender answered (rendezvous \(rdv))"
        case .noData(let sender, let group, let port):
            return "connected to \(sender) but no data arrived on port \(port)" + (group.map { " (data group \($0))" } ?? "")
        case .receiveTimeout(let seconds, let slice):
            return "no data for \(seconds) s while waiting for slice \(slice)"
        case .refused(let sender):
            return "\(sender) refused the connection (too many clients already connected)"
        case .badBlockSize(let size):
            return "sender announced an unusable block size \(size)"
        case .otherTransferInProgress(let source):
            return "\(source) is already running a transfer on this port base (REQACK before connecting)"
        case .droppedBySender(let slice, let waiting, let missing):
            return "dropped by the sender: it is at slice \(slice) while slice \(waiting) still misses \(missing) block(s)"
        case .sliceLength(let slice, let detail):
            return "inconsistent length for slice \(slice): \(detail)"
        }
    }
}

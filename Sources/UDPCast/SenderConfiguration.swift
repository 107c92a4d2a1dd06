/// Everything that shapes a sender session; the CLI maps udpcast's option names onto it.
public struct SenderConfiguration: Sendable {
    public enum Duplex: Sendable { case half, full }
    public enum PointToPoint: Sendable { case automatic, never, forced }

    public var portBase: UInt16 = 9000
    public var ownAddress: IPv4Address
    /// HELLO and the broadcast data of `--broadcast` go here: subnet broadcast or rendezvous group.
    public var rendezvous: IPv4Address
    /// `--mcast-data-address`; nil derives 232.x.y.z from the sender's address.
    public var dataGroup: IPv4Address?
    /// `--broadcast`: data to the rendezvous address instead of the data group.
    public var broadcastData = false
    public var pointToPoint = PointToPoint.automatic
    public var duplex = Duplex.full
    public var blockSize = UDPCastMessage.maxBlockSize
    /// Initial slice size in blocks (nil: 130 half duplex, S·Z with FEC, and 512 full duplex:
    /// udpcast's 112 leaves a one-packet repair round barely a slice's time to finish, so
    /// the sender stalls on every slice with a loss; receivers take any size up to 1024).
    public var sliceSize: Int?
    public var minSliceSize = 32
    public var maxSliceSize = 1024
    public var fec: (stripes: Int, redundancy: Int, stripeSize: Int)?
    public var async = false
    /// `--max-bitrate` in bit/s, counting 28 bytes of IP+UDP per datagram.
    public var maxBitrate: UInt64?
    public var retriesUntilDrop = 200
    /// HELLO is repeated this often during rendezvous (udpcast: only with
    /// `--rexmit-hello-interval`; repeating it lets receivers whose CONNECT_REQ was lost join).
    public var helloInterval: Nanoseconds? = .seconds(1)
    public var minReceivers: Int?
    public var minWait: Nanoseconds?
    public var maxWait: Nanoseconds?
    /// Give up rendezvous after this long without a control message (exit 0, like udpcast).
    public var startTimeout: Nanoseconds?
    /// `--autostart N`: start after N HELLOs were repeated (async senders).
    public var autostart: Int?
    /// Pause between the start decision and the first data, so the last receiver to connect
    /// has joined the data group before data flows (udpcast's 2-s start poll hides this race).
    public var startDelay: Nanoseconds = .milliseconds(100)

    public init(ownAddress: IPv4Address, rendezvous: IPv4Address) {
        self.ownAddress = ownAddress
        self.rendezvous = rendezvous
    }

    var receiverPort: UInt16 { portBase }
    var dataAddress: IPv4Address { dataGroup ?? ownAddress.derivedDataGroup }

    var capabilities: Capabilities { async ? [.standard, .async] : .standard }

    /// Largest slice the FEC layout allows (a stripe holds at most 128 blocks).
    var sliceCap: Int { min(maxSliceSize, 1024, fec.map { 128 * $0.stripes } ?? 1024) }

    var initialSliceSize: Int {
        let base = sliceSize ?? fec.map { $0.stripes * $0.stripeSize } ?? (async ? 1024 : duplex == .half ? 130 : 512)
        return max(1, min(base, sliceCap))
    }

    /// True when some start rule is set; without one (and `--nokbd`) only GO starts.
    public var hasStartRule: Bool { minReceivers != nil || minWait != nil || maxWait != nil }
}

/// Why and how a sender finished.
public enum SenderOutcome: Hashable, Sendable {
    case complete
    /// Nobody connected (or the start timeout expired): udpcast exits 0 here too.
    case noParticipants
    /// Everyone was dropped or left before the end.
    case allReceiversGone
}

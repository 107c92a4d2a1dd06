@_exported import NetworkAddress

/// The shared address type, under the name the UDPCast API has always used.
public typealias IPv4Address = NetworkAddress.IPv4Address

/// Capability word of HELLO, CONNECT_REQ and CONNECT_REPLY.
public struct Capabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The capability word is present: multicast and async capable.
    public static let newGeneration = Capabilities(rawValue: 0x01)
    /// Defined but never advertised by udpcast 20120424.
    public static let fec = Capabilities(rawValue: 0x04)
    /// Network byte order; a peer without it is refused.
    public static let bigEndian = Capabilities(rawValue: 0x08)
    /// The sender runs without a return channel; receivers stay passive.
    public static let async = Capabilities(rawValue: 0x20)

    /// What every udpcast 20120424 peer sends (0x09).
    public static let standard: Capabilities = [.newGeneration, .bigEndian]
}

/// The 1024-bit maps of RETRANSMIT (blocks received) and REQACK (clients done): bit n is
/// `1 << (n % 8)` of byte `n / 8`.
public struct BitMap1024: Hashable, Sendable {
    public static let byteCount = 128
    public static let bitCount = 1024
    public private(set) var bytes: [UInt8]

    public init() { bytes = [UInt8](repeating: 0, count: Self.byteCount) }

    public init<C: Collection>(bytes source: C) where C.Element == UInt8 {
        var bytes = Array(source.prefix(Self.byteCount))
        bytes += [UInt8](repeating: 0, count: Self.byteCount - bytes.count)
        self.bytes = bytes
    }

    public subscript(index: Int) -> Bool {
        get { index >= 0 && index < Self.bitCount && bytes[index >> 3] & (1 << (index & 7)) != 0 }
        set {
            precondition(index >= 0 && index < Self.bitCount, "bit \(index) outside a 1024-bit map")
            if newValue { bytes[index >> 3] |= 1 << (index & 7) } else { bytes[index >> 3] &= ~(1 << (index & 7)) }
        }
    }

    public var setCount: Int { bytes.reduce(0) { $0 + $1.nonzeroBitCount } }
}

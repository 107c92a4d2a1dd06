/// An IPv4 address as udpcast carries it: four bytes in network order.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let byte = UInt8(part), part.count <= 3 else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

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

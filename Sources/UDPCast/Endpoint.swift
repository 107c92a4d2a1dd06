/// An IPv4 address and UDP port.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var port: UInt16

    public init(_ address: IPv4Address, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    public var description: String { "\(address):\(port)" }
}

/// Monotonic time in nanoseconds, passed in by the drivers; the state machines read no clock.
public typealias Nanoseconds = UInt64

extension Nanoseconds {
    public static func milliseconds(_ ms: UInt64) -> Nanoseconds { ms * 1_000_000 }
    public static func seconds(_ s: Double) -> Nanoseconds { Nanoseconds(s * 1e9) }
}

extension IPv4Address {
    /// udpcast's data group for a sender: the low 27 bits of its address under 232.0.0.0/5.
    public var derivedDataGroup: IPv4Address { IPv4Address(value & 0x07FF_FFFF | 0xE800_0000) }

    public var isMulticast: Bool { value >> 28 == 0xE }
}

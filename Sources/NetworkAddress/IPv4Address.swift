/// An IPv4 address as the wire protocols carry it (udpcast, DHCP, TFTP): four bytes in
/// network order, held as a host-order `UInt32`.
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
            guard part.count <= 3, part.allSatisfy({ $0 >= "0" && $0 <= "9" }), let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

extension IPv4Address {
    /// The four bytes in network order.
    public var bytes: [UInt8] { value.bigEndianBytes }

    /// Reads four network-order bytes at `offset`.
    public init<C: RandomAccessCollection>(bytes: C, at offset: C.Index) where C.Element == UInt8 {
        var value: UInt32 = 0
        var index = offset
        for _ in 0..<4 {
            value = value << 8 | UInt32(bytes[index])
            index = bytes.index(after: index)
        }
        self.init(value)
    }

    public static let any = IPv4Address(0)
    public static let broadcast = IPv4Address(0xFFFF_FFFF)
}

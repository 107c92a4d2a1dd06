/// BEP 3 bitfields: bit 7 of byte 0 is piece 0, spare bits are zero.
public enum Bitfield {
    public static func encode(_ have: [Bool]) -> [UInt8] {
        var bits = [UInt8](repeating: 0, count: (have.count + 7) / 8)
        for index in have.indices where have[index] { bits[index / 8] |= 0x80 >> UInt8(index % 8) }
        return bits
    }

    /// The pieces set in `bits`; nil when its length does not fit `count` pieces.
    public static func pieces(_ bits: [UInt8], count: Int) -> [Int]? {
        guard bits.count == (count + 7) / 8 else { return nil }
        return (0..<count).filter { bits[$0 / 8] & (0x80 >> UInt8($0 % 8)) != 0 }
    }

    static func sizeMismatch(_ bits: [UInt8], count: Int) -> String { "bitfield of \(bits.count) bytes for \(count) pieces" }
}

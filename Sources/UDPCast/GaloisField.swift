/// GF(2^8) with udpcast's primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), generator 2.
/// A full multiplication table (64 KiB) turns every FEC byte operation into one lookup.
public enum GaloisField {
    /// exp[i] = 2^i, doubled in length so exp[log a + log b] needs no modulo.
    public static let exp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 510)
        var value = 1
        for i in 0..<255 {
            table[i] = UInt8(value)
            table[i + 255] = UInt8(value)
            value <<= 1
            if value & 0x100 != 0 { value ^= 0x11D }
        }
        return table
    }()

    public static let log: [Int] = {
        var table = [Int](repeating: 0, count: 256)
        for i in 0..<255 { table[Int(exp[i])] = i }
        return table
    }()

    /// products[a << 8 | b] = a·b.
    static let products: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 65536)
        for a in 1..<256 {
            for b in 1..<256 { table[a << 8 | b] = exp[log[a] + log[b]] }
        }
        return table
    }()

    @inline(__always)
    public static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 { products[Int(a) << 8 | Int(b)] }

    public static func inverse(_ a: UInt8) -> UInt8 {
        precondition(a != 0, "0 has no inverse in GF(256)")
        return exp[(255 - log[Int(a)]) % 255]
    }

    /// target[i] ^= factor · source[i] for every byte.
    static func multiplyAdd(_ factor: UInt8, _ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) {
        guard factor != 0 else { return }
        let count = min(source.count, target.count)
        if factor == 1 {
            for i in 0..<count { target[i] ^= source[i] }
            return
        }
        products.withUnsafeBufferPointer { table in
            let row = table.baseAddress! + Int(factor) << 8
            for i in 0..<count { target[i] ^= row[Int(source[i])] }
        }
    }
}

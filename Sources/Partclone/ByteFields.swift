/// Little-endian field access on a header held in a byte array; every read is bounds-checked
/// by the callers' fixed header sizes.
struct LittleEndianFields {
    let bytes: [UInt8]

    func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }

    func u32(_ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
    }

    func u64(_ at: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
    }

    /// ASCII text up to the first NUL, with non-printable bytes replaced so it can be shown.
    func text(_ at: Int, _ length: Int) -> String {
        let slice = bytes[at..<(at + length)].prefix { $0 != 0 }
        return String(decoding: slice.map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

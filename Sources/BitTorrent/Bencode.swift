/// A bencoded value (BEP 3). Dictionaries keep their entries sorted by the raw key bytes, as
/// the canonical encoding requires, so encoding a decoded value reproduces its input.
public enum BencodeValue: Hashable, Sendable {
    case integer(Int64)
    case bytes([UInt8])
    case list([BencodeValue])
    case dictionary([(key: [UInt8], value: BencodeValue)])

    /// Builds a dictionary from entries in any order (sorted here; later duplicates win).
    public static func dict(_ entries: [(String, BencodeValue)]) -> BencodeValue {
        var byKey: [[UInt8]: BencodeValue] = [:]
        for (key, value) in entries { byKey[Array(key.utf8)] = value }
        return .dictionary(byKey.map { (key: $0.key, value: $0.value) }.sorted { $0.key.lexicographicallyPrecedes($1.key) })
    }

    public static func string(_ text: String) -> BencodeValue { .bytes(Array(text.utf8)) }

    public subscript(key: String) -> BencodeValue? {
        guard case .dictionary(let entries) = self else { return nil }
        let raw = Array(key.utf8)
        return entries.first { $0.key == raw }?.value
    }

    public var integerValue: Int64? { if case .integer(let v) = self { return v } else { return nil } }
    public var bytesValue: [UInt8]? { if case .bytes(let v) = self { return v } else { return nil } }
    public var listValue: [BencodeValue]? { if case .list(let v) = self { return v } else { return nil } }
    public var stringValue: String? { bytesValue.flatMap { String(bytes: $0, encoding: .utf8) } }

    public static func == (lhs: BencodeValue, rhs: BencodeValue) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.list(let a), .list(let b)): return a == b
        case (.dictionary(let a), .dictionary(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(encoded())
    }

    /// The canonical encoding.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    public func encode(into out: inout [UInt8]) {
        switch self {
        case .integer(let value):
            out.append(UInt8(ascii: "i")); out += Array(String(value).utf8); out.append(UInt8(ascii: "e"))
        case .bytes(let bytes):
            out += Array(String(bytes.count).utf8); out.append(UInt8(ascii: ":")); out += bytes
        case .list(let items):
            out.append(UInt8(ascii: "l"))
            for item in items { item.encode(into: &out) }
            out.append(UInt8(ascii: "e"))
        case .dictionary(let entries):
            out.append(UInt8(ascii: "d"))
            for entry in entries {
                BencodeValue.bytes(entry.key).encode(into: &out)
                entry.value.encode(into: &out)
            }
            out.append(UInt8(ascii: "e"))
        }
    }
}

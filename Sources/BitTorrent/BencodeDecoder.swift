/// Strict BEP 3 decoding: canonical integers, sorted unique dictionary keys, nothing after
/// the value. Limits on tokens and depth keep hostile input from exhausting memory or stack;
/// the defaults accept what ezio accepts (10 M tokens, depth 100).
public struct BencodeDecoder {
    public struct Limits: Sendable {
        public var maxTokens = 10_000_000
        public var maxDepth = 100
        public init() {}
    }

    private let bytes: [UInt8]
    private let limits: Limits
    private var position = 0
    private var tokens = 0

    public init(_ bytes: [UInt8], limits: Limits = Limits()) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Decodes one complete value; trailing bytes are an error.
    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(BencodeError) -> BencodeValue {
        var decoder = BencodeDecoder(bytes, limits: limits)
        let value = try decoder.value(depth: 0)
        guard decoder.position == bytes.count else { throw .trailingBytes(at: decoder.position) }
        return value
    }

    /// Decodes a top-level dictionary and also returns where each value's bytes lie, so the
    /// info-hash can be taken over the exact bytes received.
    public static func decodeDictionaryWithSpans(_ bytes: [UInt8], limits: Limits = Limits())
        throws(BencodeError) -> (value: BencodeValue, spans: [[UInt8]: Range<Int>]) {
        var decoder = BencodeDecoder(bytes, limits: limits)
        var spans: [[UInt8]: Range<Int>] = [:]
        let value = try decoder.dictionary(depth: 0) { key, span in spans[key] = span }
        guard decoder.position == bytes.count else { throw .trailingBytes(at: decoder.position) }
        return (value, spans)
    }

    private mutating func value(depth: Int) throws(BencodeError) -> BencodeValue {
        guard depth < limits.maxDepth else { throw .tooDeep(at: position, limit: limits.maxDepth) }
        tokens += 1
        guard tokens <= limits.maxTokens else { throw .tooManyTokens(limit: limits.maxTokens) }
        guard position < bytes.count else { throw .truncated(at: position) }
        switch bytes[position] {
        case UInt8(ascii: "i"): return .integer(try integer())
        case UInt8(ascii: "l"):
            position += 1
            var items: [BencodeValue] = []
            while true {
                guard position < bytes.count else { throw .truncated(at: position) }
                if bytes[position] == UInt8(ascii: "e") { position += 1; return .list(items) }
                items.append(try value(depth: depth + 1))
            }
        case UInt8(ascii: "d"): return try dictionary(depth: depth) { _, _ in }
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return .bytes(try byteString())
        case let other: throw .unexpectedByte(other, at: position)
        }
    }

    private mutating func dictionary(depth: Int, span: ([UInt8], Range<Int>) -> Void) throws(BencodeError) -> BencodeValue {
        guard position < bytes.count else { throw .truncated(at: position) }
        guard bytes[position] == UInt8(ascii: "d") else { throw .unexpectedByte(bytes[position], at: position) }
        position += 1
        var entries: [(key: [UInt8], value: BencodeValue)] = []
        while true {
            guard position < bytes.count else { throw .truncated(at: position) }
            if bytes[position] == UInt8(ascii: "e") { position += 1; return .dictionary(entries) }
            let keyAt = position
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else { throw .nonStringKey(at: position) }
            let key = try byteString()
            if let last = entries.last?.key {
                guard last != key else { throw .duplicateKey(at: keyAt) }
                guard last.lexicographicallyPrecedes(key) else { throw .unsortedKey(at: keyAt) }
            }
            let start = position
            let item = try value(depth: depth + 1)
            span(key, start..<position)
            entries.append((key, item))
        }
    }

    private mutating func integer() throws(BencodeError) -> Int64 {
        let start = position
        position += 1   // "i"
        var negative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { negative = true; position += 1 }
        let digitsStart = position
        var magnitude: UInt64 = 0
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(bytes[position] - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw .integerOutOfRange(at: start) }
            magnitude = sum
            position += 1
        }
        guard position < bytes.count else { throw .truncated(at: position) }
        guard bytes[position] == UInt8(ascii: "e") else { throw .unexpectedByte(bytes[position], at: position) }
        let digits = position - digitsStart
        guard digits > 0 else { throw .malformedInteger(at: start) }
        // No leading zeros; "i-0e" is not canonical.
        if bytes[digitsStart] == UInt8(ascii: "0") && (digits > 1 || negative) { throw .malformedInteger(at: start) }
        position += 1
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw .integerOutOfRange(at: start) }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw .integerOutOfRange(at: start) }
        return Int64(magnitude)
    }

    private mutating func byteString() throws(BencodeError) -> [UInt8] {
        let start = position
        var length = 0
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            guard length <= (bytes.count - position) else { throw .stringPastEnd(at: start) }
            length = length * 10 + Int(bytes[position] - UInt8(ascii: "0"))
            position += 1
        }
        guard position < bytes.count else { throw .truncated(at: position) }
        guard bytes[position] == UInt8(ascii: ":") else { throw .unexpectedByte(bytes[position], at: position) }
        if bytes[start] == UInt8(ascii: "0") && position - start > 1 { throw .malformedLength(at: start) }
        position += 1
        guard length <= bytes.count - position else { throw .stringPastEnd(at: start) }
        defer { position += length }
        return Array(bytes[position..<(position + length)])
    }
}

public enum BencodeError: Error, Hashable, Sendable, CustomStringConvertible {
    case truncated(at: Int)
    case unexpectedByte(UInt8, at: Int)
    case malformedInteger(at: Int)
    case integerOutOfRange(at: Int)
    case malformedLength(at: Int)
    case stringPastEnd(at: Int)
    case nonStringKey(at: Int)
    case unsortedKey(at: Int)
    case duplicateKey(at: Int)
    case trailingBytes(at: Int)
    case tooDeep(at: Int, limit: Int)
    case tooManyTokens(limit: Int)

    public var description: String {
        switch self {
        case .truncated(let at): return "bencode ends early at byte \(at)"
        case .unexpectedByte(let byte, let at): return "bencode: unexpected byte 0x\(String(byte, radix: 16)) at \(at)"
        case .malformedInteger(let at): return "bencode: integer at byte \(at) is not canonical (empty, leading zero or -0)"
        case .integerOutOfRange(let at): return "bencode: integer at byte \(at) does not fit 64 bits"
        case .malformedLength(let at): return "bencode: string length at byte \(at) has a leading zero"
        case .stringPastEnd(let at): return "bencode: string at byte \(at) runs past the end of the input"
        case .nonStringKey(let at): return "bencode: dictionary key at byte \(at) is not a string"
        case .unsortedKey(let at): return "bencode: dictionary key at byte \(at) is out of order"
        case .duplicateKey(let at): return "bencode: duplicate dictionary key at byte \(at)"
        case .trailingBytes(let at): return "bencode: unexpected bytes after the value, from byte \(at)"
        case .tooDeep(let at, let limit): return "bencode: nesting deeper than \(limit) at byte \(at)"
        case .tooManyTokens(let limit): return "bencode: more than \(limit) values"
        }
    }
}

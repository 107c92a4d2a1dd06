/// A tar stream read as it arrives (push: bytes in, events out), for the pseudo image: ustar
/// and GNU members (GNU long names, pax headers skipped), regular files and directories only.
/// Names are checked here — relative, no `..`, no control characters — so nothing outside the
/// unpack directory can be named; links, devices and FIFOs are refused.
public struct TarReader: Sendable {
    public enum Event: Equatable, Sendable {
        case directory(String)
        case file(String, size: UInt64)
        /// Bytes of the current file, in order.
        case data([UInt8])
        case fileEnd
        case end
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case badHeader(offset: UInt64, why: String)
        case unsafeName(String)
        case unsupportedType(name: String, type: UInt8)
        case truncated
        case tooLarge(name: String, size: UInt64, limit: UInt64)

        public var description: String {
            switch self {
            case .badHeader(let offset, let why): return "pseudo image: bad tar header at byte \(offset): \(why)"
            case .unsafeName(let name): return "pseudo image: member name \"\(name)\" leaves the image directory; refused"
            case .unsupportedType(let name, let type): return "pseudo image: member \"\(name)\" is of tar type \"\(Character(Unicode.Scalar(type)))\" (only files and directories are accepted)"
            case .truncated: return "pseudo image: the tar stream ends inside a member"
            case .tooLarge(let name, let size, let limit): return "pseudo image: member \"\(name)\" is \(size) bytes (limit \(limit))"
            }
        }
    }

    /// No metadata file of an image is larger (the hidden data after the MBR is at most 1 GiB).
    public var memberLimit: UInt64 = 1 << 30 + 1 << 20

    private enum State: Sendable {
        case header
        /// `longName`: the data is a GNU long name or pax attributes for the next member.
        case data(remaining: UInt64, padding: Int, keep: Bool, longName: Bool)
        case ended
    }

    private var state = State.header
    private var pending: [UInt8] = []
    private var offset: UInt64 = 0
    private var longName: [UInt8] = []
    private var paxPending = false
    private var zeroBlocks = 0

    public init() {}

    public var finished: Bool { if case .ended = state { return true } else { return false } }

    public mutating func consume(_ bytes: [UInt8]) throws(Failure) -> [Event] {
        var events: [Event] = []
        var input = bytes[...]
        while !input.isEmpty {
            switch state {
            case .ended:
                return events   // what follows the end (more zero padding) is ignored
            case .header:
                let needed = 512 - pending.count
                pending += input.prefix(needed)
                input = input.dropFirst(needed)
                guard pending.count == 512 else { continue }
                let block = pending
                pending = []
                offset += 512
                if let event = try header(block) { events.append(event) }
            case .data(let remaining, let padding, let keep, let isLongName):
                if remaining > 0 {
                    let take = Int(min(UInt64(input.count), remaining))
                    let chunk = Array(input.prefix(take))
                    input = input.dropFirst(take)
                    offset += UInt64(take)
                    if isLongName { longName += chunk } else if keep { events.append(.data(chunk)) }
                    state = .data(remaining: remaining - UInt64(take), padding: padding, keep: keep, longName: isLongName)
                } else {
                    let skip = min(input.count, padding)
                    input = input.dropFirst(skip)
                    offset += UInt64(skip)
                    if padding - skip > 0 {
                        state = .data(remaining: 0, padding: padding - skip, keep: keep, longName: isLongName)
                    } else {
                        if keep { events.append(.fileEnd) }
                        if isLongName { while longName.last == 0 { longName.removeLast() } }
                        state = .header
                    }
                }
            }
        }
        // A member that ends exactly at the input's end still owes its fileEnd.
        if case .data(0, 0, let keep, let isLongName) = state {
            if keep { events.append(.fileEnd) }
            if isLongName { while longName.last == 0 { longName.removeLast() } }
            state = .header
        }
        return events
    }

    /// At the end of input: the archive must have ended (or at least stopped between members).
    public func finish() throws(Failure) {
        switch state {
        case .ended: return
        case .header where pending.isEmpty: return
        default: throw .truncated
        }
    }

    private mutating func header(_ block: [UInt8]) throws(Failure) -> Event? {
        if block.allSatisfy({ $0 == 0 }) {
            zeroBlocks += 1
            if zeroBlocks == 2 { state = .ended; return .end }
            return nil
        }
        zeroBlocks = 0
        let start = offset - 512
        let stored = Self.octal(block[148..<156])
        let sum = block.enumerated().reduce(UInt64(0)) { $0 + UInt64(($1.offset >= 148 && $1.offset < 156) ? 32 : $1.element) }
        guard let stored, stored == sum else { throw .badHeader(offset: start, why: "checksum mismatch") }
        guard let size = Self.octal(block[124..<136]) else { throw .badHeader(offset: start, why: "size field") }
        let type = block[156]
        var name: [UInt8]
        if paxPending {
            paxPending = false
            longName = Self.paxPath(longName) ?? []
        }
        if !longName.isEmpty {
            name = longName
            longName = []
        } else {
            name = Array(block[0..<100].prefix { $0 != 0 })
            if block[257..<262].elementsEqual(Array("ustar".utf8)) {
                let prefix = Array(block[345..<500].prefix { $0 != 0 })
                if !prefix.isEmpty { name = prefix + [UInt8(ascii: "/")] + name }
            }
        }
        let padding = Int((512 - size % 512) % 512)
        switch type {
        case UInt8(ascii: "L"):   // GNU long name: the next member's name is the data
            guard size < 4096 else { throw .badHeader(offset: start, why: "long name of \(size) bytes") }
            state = .data(remaining: size, padding: padding, keep: false, longName: true)
            return nil
        case UInt8(ascii: "x"):   // pax attributes of the next member: only its path matters here
            guard size < 1 << 20 else { throw .badHeader(offset: start, why: "pax header of \(size) bytes") }
            paxPending = true
            state = .data(remaining: size, padding: padding, keep: false, longName: true)
            return nil
        case UInt8(ascii: "g"):   // global pax attributes: nothing needed
            guard size < 1 << 20 else { throw .badHeader(offset: start, why: "pax header of \(size) bytes") }
            state = .data(remaining: size, padding: padding, keep: false, longName: false)
            return nil
        default: break
        }
        let text = try Self.safeName(name)
        switch type {
        case UInt8(ascii: "5"):
            state = .data(remaining: size, padding: padding, keep: false, longName: false)
            return text.isEmpty ? nil : .directory(text)
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
            guard !text.isEmpty else { throw .unsafeName(String(decoding: name, as: UTF8.self)) }
            guard size <= memberLimit else { throw .tooLarge(name: text, size: size, limit: memberLimit) }
            state = .data(remaining: size, padding: padding, keep: true, longName: false)
            return .file(text, size: size)
        default:
            throw .unsupportedType(name: text, type: type)
        }
    }

    /// The `path` record of pax attributes (`<length> path=<name>\n` records).
    static func paxPath(_ data: [UInt8]) -> [UInt8]? {
        var rest = data[...]
        while let space = rest.firstIndex(of: UInt8(ascii: " ")) {
            guard let length = Int(String(decoding: rest[rest.startIndex..<space], as: UTF8.self)), length > 0,
                  rest.startIndex + length <= rest.endIndex, space + 1 <= rest.startIndex + length else { return nil }
            let record = rest[(space + 1)..<(rest.startIndex + length)]
            if record.starts(with: Array("path=".utf8)) { return Array(record.dropFirst(5).prefix { $0 != UInt8(ascii: "\n") }) }
            rest = rest[(rest.startIndex + length)...]
        }
        return nil
    }

    /// `./a/b/` → `a/b`; refuses absolute names, `..`, empty components after the first and
    /// control characters.
    static func safeName(_ bytes: [UInt8]) throws(Failure) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .unsafeName(String(decoding: bytes, as: UTF8.self)) }
        guard !text.hasPrefix("/"), !text.contains(where: { ($0.asciiValue ?? 32) < 32 || $0 == "\u{7f}" || $0 == "\\" }) else { throw .unsafeName(text) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !parts.contains("..") else { throw .unsafeName(text) }
        return parts.joined(separator: "/")
    }

    static func octal(_ field: ArraySlice<UInt8>) -> UInt64? {
        if let first = field.first, first & 0x80 != 0 {   // GNU base-256 for large sizes
            var value = UInt64(first & 0x7f)
            for byte in field.dropFirst() {
                guard value <= UInt64.max >> 8 else { return nil }
                value = value << 8 | UInt64(byte)
            }
            return value
        }
        let digits = field.drop { $0 == UInt8(ascii: " ") || $0 == 0 }.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }
        guard !digits.isEmpty else { return field.allSatisfy { $0 == 0 || $0 == UInt8(ascii: " ") } ? 0 : nil }
        return digits.reduce(UInt64(0)) { $0 << 3 | UInt64($1 - UInt8(ascii: "0")) }
    }
}

import NetworkAddress

/// TFTP packets (RFC 1350, option extension RFC 2347). Parsing is total: any datagram gives a
/// packet or a `TFTPError` naming what is wrong.
public enum TFTPPacket: Equatable, Sendable {
    case readRequest(filename: String, mode: String, options: [TFTPOption])
    case writeRequest(filename: String, mode: String, options: [TFTPOption])
    case data(block: UInt16, payload: [UInt8])
    case ack(block: UInt16)
    case error(code: TFTPErrorCode, message: String)
    case optionAck([TFTPOption])

    /// RFC 2347: a request with its options must fit 512 bytes.
    public static let maximumRequestLength = 512

    public init(parsing datagram: [UInt8]) throws(TFTPError) {
        guard datagram.count >= 4 else { throw .tooShort(datagram.count) }
        let opcode = UInt16(datagram[0]) << 8 | UInt16(datagram[1])
        let body = datagram[2...]
        switch opcode {
        case 1, 2:
            guard datagram.count <= Self.maximumRequestLength else { throw .requestTooLong(datagram.count) }
            let strings = try Self.strings(body)
            guard strings.count >= 2, strings.count % 2 == 0 else { throw .malformedRequest }
            guard !strings[0].isEmpty else { throw .malformedRequest }
            let options = stride(from: 2, to: strings.count, by: 2).map { TFTPOption(name: strings[$0], value: strings[$0 + 1]) }
            self = opcode == 1 ? .readRequest(filename: strings[0], mode: strings[1], options: options)
                               : .writeRequest(filename: strings[0], mode: strings[1], options: options)
        case 3:
            self = .data(block: Self.block(datagram), payload: Array(datagram[4...]))
        case 4:
            guard datagram.count == 4 else { throw .trailingBytes(opcode: opcode) }
            self = .ack(block: Self.block(datagram))
        case 5:
            let strings = try Self.strings(datagram[4...], lossy: true)
            self = .error(code: TFTPErrorCode(rawValue: Self.block(datagram)) ?? .notDefined, message: strings.first ?? "")
        case 6:
            let strings = try Self.strings(body)
            guard strings.count % 2 == 0 else { throw .malformedRequest }
            self = .optionAck(stride(from: 0, to: strings.count, by: 2).map { TFTPOption(name: strings[$0], value: strings[$0 + 1]) })
        default:
            throw .unknownOpcode(opcode)
        }
    }

    public func encoded() -> [UInt8] {
        func word(_ value: UInt16) -> [UInt8] { value.bigEndianBytes }
        func strings(_ list: [String]) -> [UInt8] { list.flatMap { Array($0.utf8) + [0] } }
        switch self {
        case .readRequest(let name, let mode, let options):
            return word(1) + strings([name, mode] + options.flatMap { [$0.name, $0.value] })
        case .writeRequest(let name, let mode, let options):
            return word(2) + strings([name, mode] + options.flatMap { [$0.name, $0.value] })
        case .data(let block, let payload):
            return word(3) + word(block) + payload
        case .ack(let block):
            return word(4) + word(block)
        case .error(let code, let message):
            return word(5) + word(code.rawValue) + strings([message])
        case .optionAck(let options):
            return word(6) + strings(options.flatMap { [$0.name, $0.value] })
        }
    }

    static func block(_ datagram: [UInt8]) -> UInt16 { UInt16(datagram[2]) << 8 | UInt16(datagram[3]) }

    /// NUL-terminated strings filling `bytes` exactly; the last one must be terminated.
    /// `lossy` only for a peer's error message, which is just logged.
    static func strings(_ bytes: ArraySlice<UInt8>, lossy: Bool = false) throws(TFTPError) -> [String] {
        guard !bytes.isEmpty else { return [] }
        guard bytes.last == 0 else { throw .unterminatedString }
        let fields = bytes.dropLast().split(separator: 0, omittingEmptySubsequences: false)
        guard lossy else {
            // A name must mean exactly its bytes: lossy decoding would map different names (and
            // invalid sequences) onto one path, and grow the request past what a client sent.
            var text: [String] = []
            for field in fields {
                guard let string = String(validating: field, as: UTF8.self) else { throw .notText }
                text.append(string)
            }
            return text
        }
        return fields.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// One `name=value` option; names compare case-insensitively.
public struct TFTPOption: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

public enum TFTPErrorCode: UInt16, Sendable {
    case notDefined = 0, fileNotFound, accessViolation, diskFull, illegalOperation, unknownTransferID, fileExists, noSuchUser,
         optionRefused
}

public enum TFTPError: Error, Equatable, CustomStringConvertible {
    case tooShort(Int)
    case unknownOpcode(UInt16)
    case requestTooLong(Int)
    case malformedRequest
    case unterminatedString
    case notText
    case trailingBytes(opcode: UInt16)

    public var description: String {
        switch self {
        case .tooShort(let size): return "TFTP packet of \(size) bytes is shorter than any packet (4)"
        case .unknownOpcode(let op): return "TFTP opcode \(op) is not 1-6"
        case .requestTooLong(let size): return "TFTP request of \(size) bytes exceeds 512 (RFC 2347)"
        case .malformedRequest: return "TFTP request or OACK is not filename, mode and name/value pairs"
        case .unterminatedString: return "TFTP string field without its NUL terminator"
        case .notText: return "TFTP file name, mode or option is not valid UTF-8 text"
        case .trailingBytes(let op): return "TFTP packet with opcode \(op) has bytes after its fields"
        }
    }
}

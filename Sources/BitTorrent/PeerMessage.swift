/// The 68-byte BitTorrent handshake (BEP 3), with the reserved bits we read and set.
public struct Handshake: Equatable, Sendable {
    public static let length = 68
    static let protocolName = Array("BitTorrent protocol".utf8)

    public var reserved: [UInt8]
    public var infoHash: [UInt8]
    public var peerID: [UInt8]

    public init(infoHash: [UInt8], peerID: [UInt8], fast: Bool = true, extended: Bool = true) {
        var reserved = [UInt8](repeating: 0, count: 8)
        if extended { reserved[5] |= 0x10 }
        if fast { reserved[7] |= 0x04 }
        self.reserved = reserved
        self.infoHash = infoHash
        self.peerID = peerID
    }

    /// BEP 10 extension protocol (reserved byte 5, bit 0x10).
    public var supportsExtensions: Bool { reserved[5] & 0x10 != 0 }
    /// BEP 6 Fast Extension (reserved byte 7, bit 0x04).
    public var supportsFast: Bool { reserved[7] & 0x04 != 0 }

    public func encoded() -> [UInt8] { [19] + Self.protocolName + reserved + infoHash + peerID }

    public init(decoding bytes: ArraySlice<UInt8>) throws(PeerWireError) {
        guard bytes.count >= Self.length else { throw .truncatedHandshake(bytes.count) }
        let b = Array(bytes.prefix(Self.length))
        guard b[0] == 19, Array(b[1..<20]) == Self.protocolName else { throw .notBitTorrent }
        reserved = Array(b[20..<28])
        infoHash = Array(b[28..<48])
        peerID = Array(b[48..<68])
    }
}

/// One peer-wire message after the handshake (BEP 3, BEP 6, BEP 10).
public enum PeerMessage: Equatable, Sendable {
    case keepAlive
    case choke, unchoke, interested, notInterested
    case have(piece: UInt32)
    case bitfield([UInt8])
    case request(BlockRequest)
    case piece(index: UInt32, begin: UInt32, block: ArraySlice<UInt8>)
    case cancel(BlockRequest)
    case port(UInt16)
    case suggestPiece(UInt32)
    case haveAll, haveNone
    case rejectRequest(BlockRequest)
    case allowedFast(UInt32)
    /// BEP 10: extended id 0 is the handshake (a bencoded dictionary).
    case extended(id: UInt8, payload: ArraySlice<UInt8>)
    /// An id we do not know (BEP 52 hash messages, others): ignored, not fatal.
    case unknown(id: UInt8)

    public enum ID: UInt8 {
        case choke = 0, unchoke, interested, notInterested, have, bitfield, request, piece, cancel, port
        case suggestPiece = 13, haveAll, haveNone, rejectRequest, allowedFast
        case extended = 20
    }

    /// The framed bytes: u32 length, id, payload.
    public func encoded() -> [UInt8] {
        var body: [UInt8] = []
        func u32(_ v: UInt32) { body += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
        switch self {
        case .keepAlive: return [0, 0, 0, 0]
        case .choke: body = [ID.choke.rawValue]
        case .unchoke: body = [ID.unchoke.rawValue]
        case .interested: body = [ID.interested.rawValue]
        case .notInterested: body = [ID.notInterested.rawValue]
        case .have(let piece): body = [ID.have.rawValue]; u32(piece)
        case .bitfield(let bits): body = [ID.bitfield.rawValue] + bits
        case .request(let r): body = [ID.request.rawValue]; u32(r.index); u32(r.begin); u32(r.length)
        case .piece(let index, let begin, let block): body = [ID.piece.rawValue]; u32(index); u32(begin); body += block
        case .cancel(let r): body = [ID.cancel.rawValue]; u32(r.index); u32(r.begin); u32(r.length)
        case .port(let port): body = [ID.port.rawValue, UInt8(port >> 8), UInt8(port & 0xFF)]
        case .suggestPiece(let piece): body = [ID.suggestPiece.rawValue]; u32(piece)
        case .haveAll: body = [ID.haveAll.rawValue]
        case .haveNone: body = [ID.haveNone.rawValue]
        case .rejectRequest(let r): body = [ID.rejectRequest.rawValue]; u32(r.index); u32(r.begin); u32(r.length)
        case .allowedFast(let piece): body = [ID.allowedFast.rawValue]; u32(piece)
        case .extended(let id, let payload): body = [ID.extended.rawValue, id] + payload
        case .unknown(let id): body = [id]
        }
        let n = UInt32(body.count)
        return [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + body
    }

    /// Decodes one message body (id + payload, without the length prefix).
    public static func decode(body: ArraySlice<UInt8>) throws(PeerWireError) -> PeerMessage {
        guard let first = body.first else { return .keepAlive }
        let payload = body.dropFirst()
        func u32(_ at: Int) -> UInt32 {
            let i = payload.startIndex + at
            return UInt32(payload[i]) << 24 | UInt32(payload[i + 1]) << 16 | UInt32(payload[i + 2]) << 8 | UInt32(payload[i + 3])
        }
        func need(_ count: Int, exactly: Bool = true) throws(PeerWireError) {
            if exactly ? payload.count != count : payload.count < count { throw .badLength(id: first, length: body.count) }
        }
        guard let id = ID(rawValue: first) else { return .unknown(id: first) }
        switch id {
        case .choke, .unchoke, .interested, .notInterested, .haveAll, .haveNone:
            try need(0)
            switch id {
            case .choke: return .choke
            case .unchoke: return .unchoke
            case .interested: return .interested
            case .notInterested: return .notInterested
            case .haveAll: return .haveAll
            default: return .haveNone
            }
        case .have: try need(4); return .have(piece: u32(0))
        case .suggestPiece: try need(4); return .suggestPiece(u32(0))
        case .allowedFast: try need(4); return .allowedFast(u32(0))
        case .bitfield: return .bitfield(Array(payload))
        case .request, .cancel, .rejectRequest:
            try need(12)
            let r = BlockRequest(index: u32(0), begin: u32(4), length: u32(8))
            return id == .request ? .request(r) : id == .cancel ? .cancel(r) : .rejectRequest(r)
        case .piece:
            try need(8, exactly: false)
            return .piece(index: u32(0), begin: u32(4), block: payload.dropFirst(8))
        case .port:
            try need(2)
            return .port(UInt16(payload[payload.startIndex]) << 8 | UInt16(payload[payload.startIndex + 1]))
        case .extended:
            try need(1, exactly: false)
            return .extended(id: payload[payload.startIndex], payload: payload.dropFirst())
        }
    }
}

/// A 16 KiB block request (or cancel / reject) within a piece.
public struct BlockRequest: Hashable, Sendable {
    public var index: UInt32
    public var begin: UInt32
    public var length: UInt32

    public init(index: UInt32, begin: UInt32, length: UInt32) {
        self.index = index
        self.begin = begin
        self.length = length
    }

    public static let blockSize: UInt32 = 16_384
}

public enum PeerWireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncatedHandshake(Int)
    case notBitTorrent
    case unknownInfoHash([UInt8])
    case messageTooLong(length: UInt32, limit: UInt32)
    case badLength(id: UInt8, length: Int)

    public var description: String {
        switch self {
        case .truncatedHandshake(let n): return "peer handshake ended after \(n) of 68 bytes"
        case .notBitTorrent: return "peer did not start with the BitTorrent protocol handshake"
        case .unknownInfoHash(let hash): return "peer asked for torrent \(hash.hexString), which is not served here"
        case .messageTooLong(let length, let limit): return "peer message of \(length) bytes exceeds the \(limit)-byte limit"
        case .badLength(let id, let length): return "peer message id \(id) has a body of \(length) bytes"
        }
    }
}

/// Splits a TCP byte stream into the handshake and then messages; bounded: a length prefix
/// above `maxMessageLength` is an error before anything is buffered for it.
public struct PeerWireFramer: Sendable {
    public let maxMessageLength: UInt32
    public private(set) var handshake: Handshake?
    private var buffer: [UInt8] = []
    private var start = 0

    public init(expectHandshake: Bool = true, maxMessageLength: UInt32 = 16_384 + 13 + 64) {
        self.maxMessageLength = maxMessageLength
        if !expectHandshake { handshake = Handshake(infoHash: [], peerID: []) }
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        buffer.append(contentsOf: bytes)
    }

    /// The handshake, once 68 bytes are in.
    public mutating func nextHandshake() throws(PeerWireError) -> Handshake? {
        guard buffer.count - start >= Handshake.length else {
            if buffer.count - start >= 20 { _ = try Handshake.checkPrefix(buffer[start..<(start + 20)]) }
            return nil
        }
        let decoded = try Handshake(decoding: buffer[start..<(start + Handshake.length)])
        start += Handshake.length
        handshake = decoded
        return decoded
    }

    /// The next complete message, nil when more bytes are needed.
    public mutating func nextMessage() throws(PeerWireError) -> PeerMessage? {
        guard buffer.count - start >= 4 else { return nil }
        let length = UInt32(buffer[start]) << 24 | UInt32(buffer[start + 1]) << 16 | UInt32(buffer[start + 2]) << 8 | UInt32(buffer[start + 3])
        guard length <= maxMessageLength else { throw .messageTooLong(length: length, limit: maxMessageLength) }
        guard buffer.count - start >= 4 + Int(length) else { return nil }
        let body = Array(buffer[(start + 4)..<(start + 4 + Int(length))])
        start += 4 + Int(length)
        if start > 1 << 20 { buffer.removeFirst(start); start = 0 }
        return try PeerMessage.decode(body: body[...])
    }
}

extension Handshake {
    /// Fails early on a peer that does not speak BitTorrent, before 68 bytes arrived.
    static func checkPrefix(_ prefix: ArraySlice<UInt8>) throws(PeerWireError) -> Bool {
        guard prefix.first == 19, Array(prefix.dropFirst().prefix(19)) == Array(protocolName.prefix(prefix.count - 1)) else { throw .notBitTorrent }
        return true
    }
}

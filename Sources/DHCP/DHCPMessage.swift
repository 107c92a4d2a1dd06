@_exported import NetworkAddress

/// One BOOTP/DHCP message (RFC 951, 2131): the 236-byte fixed part, the magic cookie and the
/// options. The parser is total: any datagram yields a message or a `DHCPError`.
public struct DHCPMessage: Equatable, Sendable {
    public static let cookie: [UInt8] = [99, 130, 83, 99]
    public static let fixedLength = 236
    /// Replies carry at least this much BOOTP payload (old clients drop shorter ones).
    public static let minimumReplyLength = 300
    /// Without option 57 a reply must fit a 576-byte IP datagram (RFC 2131 §2).
    public static let defaultMaximumLength = 576 - 28
    public static let broadcastFlag: UInt16 = 0x8000

    public enum Operation: UInt8, Sendable { case request = 1, reply = 2 }

    public var op: Operation
    public var htype: UInt8 = 1
    public var hlen: UInt8 = 6
    public var hops: UInt8 = 0
    public var xid: UInt32
    public var secs: UInt16 = 0
    public var flags: UInt16 = 0
    public var ciaddr = IPv4Address.any
    public var yiaddr = IPv4Address.any
    public var siaddr = IPv4Address.any
    public var giaddr = IPv4Address.any
    /// 16 bytes; the first `hlen` are the hardware address.
    public var chaddr: [UInt8]
    /// 64 bytes, NUL padded.
    public var sname: [UInt8] = [UInt8](repeating: 0, count: 64)
    /// 128 bytes, NUL padded.
    public var file: [UInt8] = [UInt8](repeating: 0, count: 128)
    public var options = DHCPOptions()

    public init(op: Operation, xid: UInt32, hardwareAddress: [UInt8]) {
        self.op = op
        self.xid = xid
        hlen = UInt8(min(hardwareAddress.count, 16))
        chaddr = Array(hardwareAddress.prefix(16)) + [UInt8](repeating: 0, count: 16 - min(hardwareAddress.count, 16))
    }

    public var hardwareAddress: [UInt8] { Array(chaddr.prefix(Int(min(hlen, 16)))) }
    public var wantsBroadcast: Bool { flags & Self.broadcastFlag != 0 }
    public var messageType: DHCPMessageType? { options.messageType }

    /// `file` up to its first NUL, as text.
    public var bootFileName: String {
        get { Self.text(file) }
        set { file = Self.field(newValue, size: 128) }
    }

    public var serverName: String {
        get { Self.text(sname) }
        set { sname = Self.field(newValue, size: 64) }
    }

    // MARK: parsing

    public init(parsing datagram: [UInt8]) throws(DHCPError) {
        guard datagram.count >= Self.fixedLength + 4 else { throw .tooShort(datagram.count) }
        guard let op = Operation(rawValue: datagram[0]) else { throw .badOperation(datagram[0]) }
        guard datagram[2] <= 16 else { throw .badHardwareLength(datagram[2]) }
        guard Array(datagram[236..<240]) == Self.cookie else { throw .missingCookie }
        self.op = op
        htype = datagram[1]
        hlen = datagram[2]
        hops = datagram[3]
        xid = UInt32(datagram[4]) << 24 | UInt32(datagram[5]) << 16 | UInt32(datagram[6]) << 8 | UInt32(datagram[7])
        secs = UInt16(datagram[8]) << 8 | UInt16(datagram[9])
        flags = UInt16(datagram[10]) << 8 | UInt16(datagram[11])
        ciaddr = IPv4Address(bytes: datagram, at: 12)
        yiaddr = IPv4Address(bytes: datagram, at: 16)
        siaddr = IPv4Address(bytes: datagram, at: 20)
        giaddr = IPv4Address(bytes: datagram, at: 24)
        chaddr = Array(datagram[28..<44])
        sname = Array(datagram[44..<108])
        file = Array(datagram[108..<236])
        var options = DHCPOptions()
        try Self.parseOptions(datagram[240...], into: &options, area: "options")
        // Option 52: more options in `file` and/or `sname`. They join the others and the field
        // counts as empty; we never overload when writing (PXE ROMs read both fields literally).
        if let overload = options[.overload] {
            options[.overload] = nil
            if overload.count == 1, overload[0] & 1 != 0 {
                try Self.parseOptions(file[...], into: &options, area: "file")
                file = [UInt8](repeating: 0, count: 128)
            }
            if overload.count == 1, overload[0] & 2 != 0 {
                try Self.parseOptions(sname[...], into: &options, area: "sname")
                sname = [UInt8](repeating: 0, count: 64)
            }
            options[.overload] = nil   // an overload option inside an overloaded field is void too
        }
        self.options = options
    }

    static func parseOptions(_ bytes: ArraySlice<UInt8>, into options: inout DHCPOptions, area: String) throws(DHCPError) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let code = bytes[index]
            if code == DHCPOptionCode.end.rawValue { return }
            if code == DHCPOptionCode.pad.rawValue { index += 1; continue }
            guard index + 1 < bytes.endIndex else { throw .truncatedOption(code: code, area: area) }
            let length = Int(bytes[index + 1])
            let start = index + 2
            guard start + length <= bytes.endIndex else { throw .truncatedOption(code: code, area: area) }
            options.append(code, bytes[start..<start + length])
            index = start + length
        }
        // No end option: accepted (several ROMs omit it when the area is full).
    }

    // MARK: encoding

    /// The datagram: options in order (longer than 255 bytes split per RFC 3396), option 255,
    /// zero padding to `minimumReplyLength` for replies. Throws when it exceeds `maximumLength`.
    public func encoded(maximumLength: Int = Int.max) throws(DHCPError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.minimumReplyLength + 64)
        out += [op.rawValue, htype, hlen, hops]
        out += xid.bigEndianBytes + secs.bigEndianBytes + flags.bigEndianBytes
        out += ciaddr.bytes + yiaddr.bytes + siaddr.bytes + giaddr.bytes
        out += Self.fixed(chaddr, 16) + Self.fixed(sname, 64) + Self.fixed(file, 128)
        out += Self.cookie
        for (code, data) in options.entries where code != DHCPOptionCode.pad.rawValue && code != DHCPOptionCode.end.rawValue {
            var rest = data[...]
            repeat {
                let chunk = rest.prefix(255)
                out += [code, UInt8(chunk.count)] + chunk
                rest = rest.dropFirst(chunk.count)
            } while !rest.isEmpty
        }
        out.append(DHCPOptionCode.end.rawValue)
        if op == .reply, out.count < Self.minimumReplyLength { out += [UInt8](repeating: 0, count: Self.minimumReplyLength - out.count) }
        guard out.count <= maximumLength else { throw .tooLarge(out.count, limit: maximumLength) }
        return out
    }

    /// The largest reply this request allows: option 57 minus IP and UDP headers, else 548.
    public var maximumReplyLength: Int {
        options.maximumMessageSize.map { $0 - 28 } ?? Self.defaultMaximumLength
    }

    static func fixed(_ bytes: [UInt8], _ size: Int) -> [UInt8] {
        Array(bytes.prefix(size)) + [UInt8](repeating: 0, count: max(0, size - bytes.count))
    }

    static func text(_ field: [UInt8]) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func field(_ text: String, size: Int) -> [UInt8] {
        fixed(Array(text.utf8.prefix(size - 1)), size)
    }
}

public enum DHCPError: Error, Equatable, CustomStringConvertible {
    case tooShort(Int)
    case badOperation(UInt8)
    case badHardwareLength(UInt8)
    case missingCookie
    case truncatedOption(code: UInt8, area: String)
    case tooLarge(Int, limit: Int)

    public var description: String {
        switch self {
        case .tooShort(let size): return "DHCP datagram of \(size) bytes is shorter than the 240-byte BOOTP header and cookie"
        case .badOperation(let op): return "DHCP op field is \(op), neither 1 (request) nor 2 (reply)"
        case .badHardwareLength(let hlen): return "DHCP hlen \(hlen) exceeds the 16-byte chaddr field"
        case .missingCookie: return "DHCP magic cookie 99.130.83.99 missing at offset 236"
        case .truncatedOption(let code, let area): return "DHCP option \(code) runs past the end of the \(area) area"
        case .tooLarge(let size, let limit): return "DHCP reply of \(size) bytes exceeds the client's limit of \(limit)"
        }
    }
}

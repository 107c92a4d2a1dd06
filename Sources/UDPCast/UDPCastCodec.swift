extension UDPCastMessage {
    /// Decodes one UDP payload. Control messages shorter than their layout read the missing
    /// bytes as zero (as the real sender's zeroed buffer does) and trailing bytes are ignored;
    /// DATA and FEC need their 16-byte header, and everything after it is the payload.
    public static func decode(_ datagram: UnsafeRawBufferPointer) throws(UDPCastDecodeError) -> UDPCastMessage {
        guard datagram.count >= 2 else { throw .tooShort(length: datagram.count, needed: 2) }
        let reader = FieldReader(bytes: datagram)
        let raw = reader.u16(0)
        guard let opcode = Opcode(rawValue: raw) else { throw .unknownOpcode(raw) }
        switch opcode {
        case .ok:
            return .ok(slice: reader.u32(4))
        case .retransmit:
            return .retransmit(slice: reader.u32(4), round: reader.u32(8), received: reader.bitmap(12))
        case .go:
            return .go
        case .connectRequest:
            return .connectRequest(capabilities: Capabilities(rawValue: reader.u32(4)), receiveBuffer: reader.u32(8))
        case .disconnect:
            return .disconnect
        case .reqack:
            return .reqack(slice: reader.u32(4), bytes: reader.u32(8), round: reader.u32(12), ready: reader.bitmap(16))
        case .connectReply:
            return .connectReply(client: Int32(bitPattern: reader.u32(4)), blockSize: reader.u32(8),
                                 capabilities: Capabilities(rawValue: reader.u32(12)), dataAddress: IPv4Address(reader.u32(16)))
        case .data, .fec:
            guard let header = blockHeader(datagram) else { throw .tooShort(length: datagram.count, needed: dataHeaderSize) }
            let payload = ArraySlice(datagram[dataHeaderSize...])
            if header.isFEC {
                return .fec(stripes: header.stripes, slice: header.slice, block: header.block, sliceBytes: header.sliceBytes, payload: payload)
            }
            return .data(slice: header.slice, block: header.block, sliceBytes: header.sliceBytes, payload: payload)
        case .hello, .helloNew, .helloStreaming:
            return .hello(kind: HelloKind(rawValue: raw)!, capabilities: Capabilities(rawValue: reader.u32(4)),
                          dataAddress: IPv4Address(reader.u32(8)), blockSize: reader.u16(24))
        }
    }

    /// The header of a DATA or FEC datagram (nil for any other or a short one), so a driver can
    /// hand the payload on from its receive buffer without copying it first.
    public static func blockHeader(_ datagram: UnsafeRawBufferPointer) -> BlockHeader? {
        guard datagram.count >= dataHeaderSize else { return nil }
        let reader = FieldReader(bytes: datagram)
        let raw = reader.u16(0)
        guard raw == Opcode.data.rawValue || raw == Opcode.fec.rawValue else { return nil }
        return BlockHeader(isFEC: raw == Opcode.fec.rawValue, stripes: reader.u16(2), slice: reader.u32(4),
                           block: reader.u16(8), sliceBytes: reader.u32(12))
    }

    public static func decode(_ datagram: [UInt8]) throws(UDPCastDecodeError) -> UDPCastMessage {
        let result = datagram.withUnsafeBytes { bytes in Result { () throws(UDPCastDecodeError) in try decode(bytes) } }
        return try result.get()
    }

    /// The 16-byte header of a DATA packet; drivers write it in front of the payload directly.
    public static func dataHeader(slice: UInt32, block: UInt16, sliceBytes: UInt32) -> [UInt8] {
        UDPCastMessage.data(slice: slice, block: block, sliceBytes: sliceBytes, payload: []).encoded()
    }

    /// The exact bytes udpcast 20120424 puts on the wire for this message.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    public func encode(into out: inout [UInt8]) {
        var writer = FieldWriter(out: out)
        writer.u16(opcode.rawValue)
        switch self {
        case .ok(let slice):
            writer.u16(0); writer.u32(slice)
        case .retransmit(let slice, let round, let received):
            writer.u16(0); writer.u32(slice); writer.u32(round); writer.bytes(received.bytes)
        case .go, .disconnect:
            writer.u16(0)
        case .connectRequest(let capabilities, let receiveBuffer):
            writer.u16(0); writer.u32(capabilities.rawValue); writer.u32(receiveBuffer)
        case .reqack(let slice, let bytes, let round, let ready):
            writer.u16(0); writer.u32(slice); writer.u32(bytes); writer.u32(round); writer.bytes(ready.bytes)
        case .connectReply(let client, let blockSize, let capabilities, let dataAddress):
            writer.u16(0); writer.u32(UInt32(bitPattern: client)); writer.u32(blockSize)
            writer.u32(capabilities.rawValue); writer.u32(dataAddress.value); writer.zeros(12)
        case .data(let slice, let block, let sliceBytes, let payload):
            writer.u16(0); writer.u32(slice); writer.u16(block); writer.u16(0); writer.u32(sliceBytes); writer.bytes(payload)
        case .fec(let stripes, let slice, let block, let sliceBytes, let payload):
            writer.u16(stripes); writer.u32(slice); writer.u16(block); writer.u16(0); writer.u32(sliceBytes); writer.bytes(payload)
        case .hello(_, let capabilities, let dataAddress, let blockSize):
            // The real struct is naturally aligned: 2 trailing pad bytes make it 28.
            writer.u16(0); writer.u32(capabilities.rawValue); writer.u32(dataAddress.value); writer.zeros(12)
            writer.u16(blockSize); writer.zeros(2)
        }
        out = writer.out
    }
}

/// Big-endian reads that see bytes past the end of the datagram as zero.
struct FieldReader {
    let bytes: UnsafeRawBufferPointer

    func byte(_ at: Int) -> UInt8 { at < bytes.count ? bytes[at] : 0 }
    func u16(_ at: Int) -> UInt16 { UInt16(byte(at)) << 8 | UInt16(byte(at + 1)) }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }

    func bitmap(_ at: Int) -> BitMap1024 {
        at >= bytes.count ? BitMap1024() : BitMap1024(bytes: bytes[at...])
    }
}

struct FieldWriter {
    var out: [UInt8]
    mutating func u16(_ v: UInt16) { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF)) }
    mutating func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(v & 0xFFFF)) }
    mutating func zeros(_ n: Int) { out.append(contentsOf: repeatElement(0, count: n)) }
    mutating func bytes<C: Collection>(_ b: C) where C.Element == UInt8 { out.append(contentsOf: b) }
}

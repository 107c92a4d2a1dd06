/// Every message of the udpcast 20120424 wire protocol. Multi-byte fields are big-endian;
/// reserved fields are sent as zero and ignored on receipt.
public enum UDPCastMessage: Hashable, Sendable {
    /// R→S: slice complete.
    case ok(slice: UInt32)
    /// R→S: the blocks of `slice` the receiver has, answering REQACK round `round`.
    case retransmit(slice: UInt32, round: UInt32, received: BitMap1024)
    /// R→S: start now.
    case go
    /// R→S: join request; `receiveBuffer` is the receiver's SO_RCVBUF (informational).
    case connectRequest(capabilities: Capabilities, receiveBuffer: UInt32)
    /// R→S: receiver leaves.
    case disconnect
    /// S→R: report on `slice`; `bytes` = 0 ends the transfer; clients in `ready` must not answer.
    case reqack(slice: UInt32, bytes: UInt32, round: UInt32, ready: BitMap1024)
    /// S→R: join accepted as client number `client` (−1 = refused).
    case connectReply(client: Int32, blockSize: UInt32, capabilities: Capabilities, dataAddress: IPv4Address)
    /// S→R: block `block` of `slice`; `sliceBytes` is the whole slice's length. The payload is a
    /// slice so a sender can hand out its slice buffer without copying.
    case data(slice: UInt32, block: UInt16, sliceBytes: UInt32, payload: ArraySlice<UInt8>)
    /// S→R: FEC block `block` (stripe + row × stripes) of `slice`.
    case fec(stripes: UInt16, slice: UInt32, block: UInt16, sliceBytes: UInt32, payload: ArraySlice<UInt8>)
    /// S→R: sender announcement (sent as opcode 0x0500; 0x000A and 0x000B are read as HELLO too).
    case hello(kind: HelloKind, capabilities: Capabilities, dataAddress: IPv4Address, blockSize: UInt16)

    public enum HelloKind: UInt16, Hashable, Sendable {
        case legacy = 0x0500
        case new = 0x000A
        case streaming = 0x000B
    }

    public enum Opcode: UInt16, Sendable {
        case ok = 0x0000, retransmit = 0x0001, go = 0x0002, connectRequest = 0x0003, disconnect = 0x0004
        case reqack = 0x0006, connectReply = 0x0007, data = 0x0008, fec = 0x0009
        case helloNew = 0x000A, helloStreaming = 0x000B, hello = 0x0500
    }

    /// Largest block udpcast sends: 1456 payload + 16 header = a 1500-byte IP packet.
    public static let maxBlockSize = 1456
    public static let dataHeaderSize = 16

    public var opcode: Opcode {
        switch self {
        case .ok: return .ok
        case .retransmit: return .retransmit
        case .go: return .go
        case .connectRequest: return .connectRequest
        case .disconnect: return .disconnect
        case .reqack: return .reqack
        case .connectReply: return .connectReply
        case .data: return .data
        case .fec: return .fec
        case .hello(let kind, _, _, _):
            switch kind {
            case .legacy: return .hello
            case .new: return .helloNew
            case .streaming: return .helloStreaming
            }
        }
    }
}

/// The fixed 16-byte header of DATA and FEC datagrams (`stripes` is 0 in DATA).
public struct BlockHeader: Hashable, Sendable {
    public var isFEC: Bool
    public var stripes: UInt16
    public var slice: UInt32
    public var block: UInt16
    public var sliceBytes: UInt32

    public init(isFEC: Bool, stripes: UInt16, slice: UInt32, block: UInt16, sliceBytes: UInt32) {
        self.isFEC = isFEC
        self.stripes = stripes
        self.slice = slice
        self.block = block
        self.sliceBytes = sliceBytes
    }
}

public enum UDPCastDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    case tooShort(length: Int, needed: Int)
    case unknownOpcode(UInt16)

    public var description: String {
        switch self {
        case .tooShort(let length, let needed): return "udpcast datagram of \(length) bytes is shorter than the \(needed) its opcode needs"
        case .unknownOpcode(let op): return "unknown udpcast opcode 0x\(String(op, radix: 16))"
        }
    }
}

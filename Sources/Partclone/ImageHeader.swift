import CZlib

/// Stored checksum modes of format 0002 plus the implicit mode of format 0001.
public enum ChecksumMode: Equatable, Sendable {
    case none
    case crc32
    case xxh64
    case xxh128
    /// Format 0001: a chained CRC over each block's first byte repeated `block_size` times.
    case crc32V1Bug

    init?(stored: UInt16) {
        switch stored {
        case 0x00: self = .none
        case 0x20: self = .crc32
        case 0x30: self = .xxh64
        case 0x31: self = .xxh128
        default: return nil
        }
    }

    public var digestSize: Int {
        switch self {
        case .none: return 0
        case .crc32, .crc32V1Bug: return 4
        case .xxh64: return 8
        case .xxh128: return 16
        }
    }
}

public enum BitmapMode: UInt8, Sendable {
    case none = 0x00
    case bit = 0x01
    case byte = 0x08
}

/// A validated partclone image header (format 0001 or 0002).
public struct ImageHeader: Equatable, Sendable {
    public var formatVersion: String
    public var partcloneVersion: String
    public var fileSystem: String
    public var deviceSize: UInt64
    public var totalBlocks: UInt64
    public var usedBlocksPerSuperblock: UInt64
    public var usedBlocksPerBitmap: UInt64
    public var blockSize: UInt32
    public var checksumMode: ChecksumMode
    public var blocksPerChecksum: UInt32
    public var reseed: Bool
    public var bitmapMode: BitmapMode
    /// Bytes of header on the wire: 110 for 0002, 4160 for 0001.
    public var encodedSize: Int

    public static let v2Size = 110
    public static let v1Size = 4160
    static let magic = Array("partclone-image".utf8)

    /// Bytes the stream needs before `parse` can decide; the caller passes at least this many.
    public static func requiredLength(peek: [UInt8]) -> Int {
        guard peek.count >= 34 else { return v2Size }
        return peek[30..<34].elementsEqual("0001".utf8) ? v1Size : v2Size
    }

    /// Parses and validates a header. `bytes` must hold at least `requiredLength(peek:)` bytes.
    public static func parse(_ bytes: [UInt8]) throws(PartcloneError) -> ImageHeader {
        guard bytes.count >= 34, bytes[0..<15].elementsEqual(magic) else { throw .badMagic }
        let f = LittleEndianFields(bytes: bytes)
        let version = f.text(30, 4)
        switch version {
        case "0002": return try parseV2(f)
        case "0001": return try parseV1(f)
        default: throw .unsupportedImageVersion(version)
        }
    }

    private static func parseV2(_ f: LittleEndianFields) throws(PartcloneError) -> ImageHeader {
        guard f.bytes.count >= v2Size else { throw .truncated(expected: "a 110-byte header", streamOffset: UInt64(f.bytes.count)) }
        let endian = f.u16(34)
        guard endian == 0xC0DE else { throw .incompatibleEndianness(endian) }
        let stored = f.u32(106)
        let computed = PartcloneCRC32.fresh(f.bytes[0..<106])
        guard stored == computed else { throw .headerChecksumMismatch(stored: stored, computed: computed) }
        let rawMode = f.u16(96)
        guard let mode = ChecksumMode(stored: rawMode) else {
            throw .invalidHeaderField(field: "checksum_mode", value: "0x" + String(rawMode, radix: 16), reason: "unknown checksum mode")
        }
        guard let bitmapMode = BitmapMode(rawValue: f.bytes[105]) else {
            throw .invalidHeaderField(field: "bitmap_mode", value: String(f.bytes[105]), reason: "unknown bitmap mode")
        }
        let header = ImageHeader(
            formatVersion: "0002", partcloneVersion: f.text(16, 14), fileSystem: f.text(36, 16),
            deviceSize: f.u64(52), totalBlocks: f.u64(60), usedBlocksPerSuperblock: f.u64(68),
            usedBlocksPerBitmap: f.u64(76), blockSize: f.u32(84), checksumMode: mode,
            blocksPerChecksum: f.u32(100), reseed: f.bytes[104] != 0, bitmapMode: bitmapMode,
            encodedSize: v2Size)
        let checksumSize = Int(f.u16(98))
        guard checksumSize == mode.digestSize else {
            throw .invalidHeaderField(field: "checksum_size", value: String(checksumSize),
                                      reason: "checksum mode 0x\(String(rawMode, radix: 16)) needs \(mode.digestSize)")
        }
        try header.validate()
        return header
    }

    private static func parseV1(_ f: LittleEndianFields) throws(PartcloneError) -> ImageHeader {
        guard f.bytes.count >= v1Size else { throw .truncated(expected: "a 4160-byte v1 header", streamOffset: UInt64(f.bytes.count)) }
        let header = ImageHeader(
            formatVersion: "0001", partcloneVersion: "", fileSystem: f.text(15, 15),
            deviceSize: f.u64(40), totalBlocks: f.u64(48), usedBlocksPerSuperblock: f.u64(56),
            usedBlocksPerBitmap: f.u64(56), blockSize: f.u32(36), checksumMode: .crc32V1Bug,
            blocksPerChecksum: 1, reseed: false, bitmapMode: .byte, encodedSize: v1Size)
        try header.validate()
        return header
    }

    /// The checks partclone itself makes, so a hostile header cannot make us allocate or seek wildly.
    func validate() throws(PartcloneError) {
        guard (1...(64 << 20)).contains(blockSize) else {
            throw .invalidHeaderField(field: "block_size", value: String(blockSize), reason: "must be 1 byte … 64 MiB")
        }
        guard totalBlocks <= 8 << 40 else {
            throw .invalidHeaderField(field: "totalblock", value: String(totalBlocks), reason: "bitmap would exceed 1 TiB")
        }
        guard usedBlocksPerBitmap <= totalBlocks else {
            throw .invalidHeaderField(field: "usedblocks", value: String(usedBlocksPerBitmap), reason: "exceeds totalblock \(totalBlocks)")
        }
        if checksumMode != .none && blocksPerChecksum == 0 {
            throw .invalidHeaderField(field: "blocks_per_checksum", value: "0", reason: "must be > 0 with a checksum mode")
        }
        let (span, overflow) = totalBlocks.multipliedReportingOverflow(by: UInt64(blockSize))
        guard !overflow, formatVersion == "0001" || span <= deviceSize else {
            throw .invalidHeaderField(field: "totalblock", value: String(totalBlocks),
                                      reason: "totalblock × block_size exceeds device_size \(deviceSize)")
        }
    }

    /// Bytes of bitmap (plus its CRC or magic) that follow the header.
    public var bitmapBytesOnWire: UInt64 {
        switch bitmapMode {
        case .none: return 0
        case .bit: return (totalBlocks + 7) / 8 + 4
        case .byte: return totalBlocks + 8
        }
    }
}

/// Everything that can be wrong with a partclone stream. Each case carries the stream offset
/// (in decompressed bytes) so the restore pipeline can name the chunk file it came from.
public enum PartcloneError: Error, Equatable, CustomStringConvertible, Sendable {
    case badMagic
    case unsupportedImageVersion(String)
    case headerChecksumMismatch(stored: UInt32, computed: UInt32)
    case incompatibleEndianness(UInt16)
    case invalidHeaderField(field: String, value: String, reason: String)
    case bitmapChecksumMismatch(stored: UInt32, computed: UInt32)
    case bitmapMagicMissing
    case blockChecksumMismatch(block: UInt64, streamOffset: UInt64)
    case truncated(expected: String, streamOffset: UInt64)
    case trailingData(streamOffset: UInt64)
    case outputBeyondTarget(offset: UInt64, length: Int, limit: UInt64)

    public var description: String {
        switch self {
        case .badMagic:
            return "not a partclone image (magic \"partclone-image\" missing)"
        case .unsupportedImageVersion(let v):
            return "unsupported partclone image format \"\(v)\" (supported: 0001, 0002)"
        case .headerChecksumMismatch(let stored, let computed):
            return "partclone header CRC mismatch: stored 0x\(hex(stored)), computed 0x\(hex(computed))"
        case .incompatibleEndianness(let v):
            return "partclone header endianness marker 0x\(String(v, radix: 16)) is not 0xc0de (incompatible architecture)"
        case .invalidHeaderField(let field, let value, let reason):
            return "partclone header field \(field) = \(value): \(reason)"
        case .bitmapChecksumMismatch(let stored, let computed):
            return "partclone bitmap CRC mismatch: stored 0x\(hex(stored)), computed 0x\(hex(computed))"
        case .bitmapMagicMissing:
            return "partclone v1 bitmap is not followed by \"BiTmAgIc\""
        case .blockChecksumMismatch(let block, let offset):
            return "checksum mismatch in the strip ending at block \(block) (stream offset \(offset))"
        case .truncated(let expected, let offset):
            return "stream ends early at offset \(offset): expected \(expected)"
        case .trailingData(let offset):
            return "unexpected data after the last checksum at stream offset \(offset)"
        case .outputBeyondTarget(let offset, let length, let limit):
            return "data at byte \(offset) (+\(length)) lies beyond the partition size \(limit)"
        }
    }

    /// The decompressed-stream offset where the problem was found, if it has one.
    public var streamOffset: UInt64? {
        switch self {
        case .blockChecksumMismatch(_, let o), .truncated(_, let o), .trailingData(let o): return o
        default: return nil
        }
    }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}

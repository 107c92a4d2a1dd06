import CZlib

/// partclone's CRC-32: zlib's polynomial and seed but without the final inversion, so every
/// value here is the bitwise NOT of what zlib reports. zlib's implementation is used because
/// it is several times faster than partclone's byte loop.
public enum PartcloneCRC32 {
    public static func fresh<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        let zlibValue: UInt = Array(bytes).withUnsafeBufferPointer { buffer in
            crc32(0, buffer.baseAddress, uInt(buffer.count))
        }
        return ~UInt32(truncatingIfNeeded: zlibValue)
    }
}

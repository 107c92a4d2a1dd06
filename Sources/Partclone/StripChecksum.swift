import CXXHash
import CZlib

/// Running digest over block data for one checksum mode. A class because it owns C hash states.
/// Reset after each stored checksum when
/// the image was written with reseed = 1; otherwise it runs over the whole image.
final class StripChecksum {
    let mode: ChecksumMode
    let blockSize: Int
    private var zlibCRC: UInt = 0
    private let xxh64: OpaquePointer?
    private let xxh3: OpaquePointer?
    /// zlib CRC of `blockSize` copies of each byte value, for the v1 first-byte bug.
    private var repeatedByteCRC: [UInt?] = []

    init(mode: ChecksumMode, blockSize: Int) {
        self.mode = mode
        self.blockSize = blockSize
        xxh64 = mode == .xxh64 ? XXH64_createState() : nil
        xxh3 = mode == .xxh128 ? XXH3_createState() : nil
        if mode == .crc32V1Bug {
            repeatedByteCRC = Array(repeating: nil, count: 256)
        }
        reset()
    }

    deinit {
        if let xxh64 { XXH64_freeState(xxh64) }
        if let xxh3 { XXH3_freeState(xxh3) }
    }

    func reset() {
        zlibCRC = 0
        if let xxh64 { XXH64_reset(xxh64, 0) }
        if let xxh3 { XXH3_128bits_reset(xxh3) }
    }

    /// Feeds whole blocks (`bytes.count` is a multiple of the block size).
    func update(_ bytes: UnsafeRawBufferPointer) {
        switch mode {
        case .none:
            break
        case .crc32:
            var base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var left = bytes.count
            while left > 0 {
                let step = min(left, Int(UInt32.max >> 1))
                zlibCRC = crc32(zlibCRC, base, uInt(step))
                base += step
                left -= step
            }
        case .xxh64:
            XXH64_update(xxh64, bytes.baseAddress, bytes.count)
        case .xxh128:
            XXH3_128bits_update(xxh3, bytes.baseAddress, bytes.count)
        case .crc32V1Bug:
            var offset = 0
            while offset < bytes.count {
                let first = Int(bytes[offset])
                let blockCRC = repeatedByteCRC[first] ?? computeRepeated(byte: UInt8(first))
                zlibCRC = crc32_combine(zlibCRC, blockCRC, off_t(blockSize))
                offset += blockSize
            }
        }
    }

    private func computeRepeated(byte: UInt8) -> UInt {
        let block = [UInt8](repeating: byte, count: blockSize)
        let value = block.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt(blockSize)) }
        repeatedByteCRC[Int(byte)] = value
        return value
    }

    /// The digest as partclone stores it (little-endian; XXH128 low half first).
    func storedDigest() -> [UInt8] {
        switch mode {
        case .none:
            return []
        case .crc32, .crc32V1Bug:
            return littleEndian(UInt64(~UInt32(truncatingIfNeeded: zlibCRC)), count: 4)
        case .xxh64:
            return littleEndian(XXH64_digest(xxh64), count: 8)
        case .xxh128:
            let hash = XXH3_128bits_digest(xxh3)
            return littleEndian(hash.low64, count: 8) + littleEndian(hash.high64, count: 8)
        }
    }
}

func littleEndian(_ value: UInt64, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

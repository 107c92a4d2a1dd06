import CXXHash
import CZlib
@testable import Partclone

/// Writes partclone 0002 streams for tests, computing checksums with one-shot library calls
/// (not the decoder's streaming code), so encoder and decoder check each other.
struct SyntheticImage {
    var blockSize = 512
    var used: [Bool]
    var mode: UInt16 = 0x20
    var blocksPerChecksum: UInt32 = 4
    var reseed = true
    var seed: UInt64 = 1
    var fileSystem = "EXTFS"

    var totalBlocks: Int { used.count }
    var deviceSize: UInt64 { UInt64(totalBlocks * blockSize) }

    func blockData(_ block: Int) -> [UInt8] {
        var rng = SplitMix64(seed: seed &+ UInt64(block) &* 0x9E37)
        return (0..<blockSize).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// The partition as partclone restores it into zeros.
    var expectedPartition: [UInt8] {
        var out = [UInt8](repeating: 0, count: totalBlocks * blockSize)
        for b in 0..<totalBlocks where used[b] { out.replaceSubrange(b * blockSize..<(b + 1) * blockSize, with: blockData(b)) }
        return out
    }

    var checksumSize: Int { [0x00: 0, 0x20: 4, 0x30: 8, 0x31: 16][Int(mode)]! }

    func encode() -> [UInt8] {
        var h = [UInt8]()
        h += Array("partclone-image".utf8) + [0]
        h += pad(Array("0.3.47".utf8), 14)
        h += Array("0002".utf8) + [0xDE, 0xC0]
        h += pad(Array(fileSystem.utf8), 16)
        let usedCount = UInt64(used.filter { $0 }.count)
        h += le(deviceSize, 8) + le(UInt64(totalBlocks), 8) + le(usedCount, 8) + le(usedCount, 8)
        h += le(UInt64(blockSize), 4) + le(18, 4) + le(2, 2) + le(64, 2)
        h += le(UInt64(mode), 2) + le(UInt64(checksumSize), 2)
        h += le(mode == 0 ? 0 : UInt64(blocksPerChecksum), 4) + [reseed ? 1 : 0, 1]
        h += le(UInt64(partcloneCRC(h)), 4)
        var bitmap = [UInt8](repeating: 0, count: (totalBlocks + 7) / 8)
        for b in 0..<totalBlocks where used[b] { bitmap[b / 8] |= 1 << (b % 8) }
        var out = h + bitmap + le(UInt64(partcloneCRC(bitmap)), 4)
        var strip: [UInt8] = [], all: [UInt8] = []
        var inStrip = 0
        func emitChecksum() {
            out += digest(reseed ? strip : all)
            strip = []
            inStrip = 0
        }
        for b in 0..<totalBlocks where used[b] {
            let data = blockData(b)
            out += data
            strip += data
            all += data
            inStrip += 1
            if mode != 0 && inStrip == Int(blocksPerChecksum) { emitChecksum() }
        }
        if mode != 0 && inStrip > 0 { emitChecksum() }
        return out
    }

    func digest(_ data: [UInt8]) -> [UInt8] {
        switch mode {
        case 0x20: return le(UInt64(partcloneCRC(data)), 4)
        case 0x30: return le(data.withUnsafeBytes { XXH64($0.baseAddress, $0.count, 0) }, 8)
        case 0x31:
            let h = data.withUnsafeBytes { XXH3_128bits($0.baseAddress, $0.count) }
            return le(h.low64, 8) + le(h.high64, 8)
        default: return []
        }
    }
}

func partcloneCRC(_ data: [UInt8]) -> UInt32 {
    ~UInt32(truncatingIfNeeded: data.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) })
}

func le(_ value: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
func pad(_ bytes: [UInt8], _ count: Int) -> [UInt8] { bytes + [UInt8](repeating: 0, count: count - bytes.count) }

/// Deterministic generator so every randomized test is reproducible from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

/// Collects writes into a zero-filled partition image.
struct MemorySink: BlockSink {
    var bytes: [UInt8]
    var writes = 0
    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    mutating func write(_ data: UnsafeRawBufferPointer, at offset: UInt64) throws {
        bytes.replaceSubrange(Int(offset)..<Int(offset) + data.count, with: data)
        writes += 1
    }
}

/// Discards everything; for fuzzing.
struct NullSink: BlockSink {
    mutating func write(_ data: UnsafeRawBufferPointer, at offset: UInt64) throws {}
}

/// Feeds `stream` to a fresh decoder in pieces of `piece` bytes.
func decode(_ stream: [UInt8], piece: Int, into sink: inout some BlockSink,
            limits: PartcloneStreamDecoder.Limits = .init()) throws -> PartcloneStreamDecoder {
    var decoder = PartcloneStreamDecoder(limits: limits)
    var offset = 0
    while offset < stream.count {
        let end = min(stream.count, offset + piece)
        try stream[offset..<end].withUnsafeBytes { try decoder.consume($0, into: &sink) }
        offset = end
    }
    try decoder.finish(into: &sink)
    return decoder
}

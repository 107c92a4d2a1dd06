/// The set of used blocks, one bit per block in 64-bit words (LSB first, as partclone's BIT map
/// is laid out on little-endian hosts). Grown as map bytes arrive, so a hostile header that
/// declares a huge map costs memory only for bytes really received.
public struct UsedBlockMap: Equatable, Sendable {
    public let totalBlocks: UInt64
    /// Streams without a bitmap (mode NONE) store every block.
    public let allUsed: Bool
    private(set) var words: [UInt64] = []

    public init(totalBlocks: UInt64, allUsed: Bool = false) {
        self.totalBlocks = totalBlocks
        self.allUsed = allUsed
    }

    /// Sets the bits of eight blocks from byte `index` of a BIT map; bytes arrive in order.
    mutating func setByte(_ value: UInt8, atByte index: Int) {
        let word = index >> 3
        if word == words.count { words.append(0) }
        words[word] |= UInt64(value) << (8 * UInt64(index & 7))
    }

    /// Marks one block from a BYTE map; blocks arrive in order.
    mutating func setBlock(_ block: UInt64, used: Bool) {
        let word = Int(block >> 6)
        if word == words.count { words.append(0) }
        if used { words[word] |= 1 << (block & 63) }
    }

    /// Pads to the declared size and clears bits past `totalBlocks` (padding partclone ignores).
    mutating func complete() {
        let needed = Int((totalBlocks + 63) / 64)
        if words.count < needed { words += Array(repeating: 0, count: needed - words.count) }
        let rem = totalBlocks & 63
        if rem != 0, !words.isEmpty { words[words.count - 1] &= (1 << rem) - 1 }
    }

    public func isUsed(_ block: UInt64) -> Bool {
        guard block < totalBlocks else { return false }
        if allUsed { return true }
        let word = Int(block >> 6)
        return word < words.count && words[word] & (1 << (block & 63)) != 0
    }

    public var usedCount: UInt64 {
        allUsed ? totalBlocks : words.reduce(0) { $0 + UInt64($1.nonzeroBitCount) }
    }

    /// The first used block at or after `block`, or nil when there is none.
    public func nextUsed(from block: UInt64) -> UInt64? {
        guard block < totalBlocks else { return nil }
        if allUsed { return block }
        var index = Int(block >> 6)
        guard index < words.count else { return nil }
        var word = words[index] & (~0 << (block & 63))
        while word == 0 {
            index += 1
            guard index < words.count else { return nil }
            word = words[index]
        }
        return UInt64(index) << 6 + UInt64(word.trailingZeroBitCount)
    }

    /// Runs of consecutive used blocks as (first block, count).
    public var usedRuns: [(first: UInt64, count: UInt64)] {
        if allUsed { return totalBlocks == 0 ? [] : [(first: UInt64(0), count: totalBlocks)] }
        var runs: [(first: UInt64, count: UInt64)] = []
        var cursor: UInt64 = 0
        while let start = nextUsed(from: cursor) {
            var end = start + 1
            while isUsed(end) { end += 1 }
            runs.append((start, end - start))
            cursor = end
        }
        return runs
    }
}

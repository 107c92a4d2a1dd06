import CZlib

/// Push decoder for a partclone image stream (format 0001 or 0002): header → bitmap → used
/// blocks with interleaved checksums → EOF. Feed it decompressed bytes in pieces of any size;
/// it emits runs of consecutive used blocks to a `BlockSink` after their strip checksum has
/// verified, so a corrupt strip is never written (strips larger than the buffer are the one
/// exception, and they still fail the stream). Holds no file or clock.
public struct PartcloneStreamDecoder: PayloadDecoder {
    public struct Limits: Sendable {
        /// Verified strips are batched up to this many bytes per flush.
        public var minBuffer: Int = 8 << 20
        /// A strip larger than this is written before its checksum arrives.
        public var maxBuffer: Int = 64 << 20
        /// Largest bitmap held in memory (bits); 2^33 blocks is 32 TiB at 4 KiB.
        public var maxTotalBlocks: UInt64 = 1 << 33
        public init() {}
    }

    enum Phase { case header, bitmap, bitmapTrailer, data, checksum, done }

    public private(set) var header: ImageHeader?
    public private(set) var usedMap: UsedBlockMap?
    /// Decompressed bytes consumed so far.
    public private(set) var streamOffset: UInt64 = 0
    public private(set) var outputBytes: UInt64 = 0
    public private(set) var checksumsVerified = 0
    /// True once a strip had to be written before its checksum could be checked.
    public private(set) var wroteUnverifiedData = false

    private let limits: Limits
    /// Asked once the header is read, before any block is written: a receiver checks that the
    /// stream is the partition it expects (file system, device size) and throws otherwise.
    public var headerCheck: (@Sendable (ImageHeader) throws -> Void)?
    private var phase = Phase.header
    private var scratch: [UInt8] = []
    private var bitmapBytesSeen: UInt64 = 0
    private var bitmapZlibCRC: UInt = 0
    private var usedTotal: UInt64 = 0
    private var usedDone: UInt64 = 0
    private var nextBlock: UInt64 = 0
    private var inStrip: UInt64 = 0
    private var checksum: StripChecksum?
    private var buffer: [UInt8] = []
    private var fill = 0
    private var blockFill = 0
    private var checksummedUpTo = 0
    private var runs: [(first: UInt64, count: Int)] = []

    public init(limits: Limits = Limits()) { self.limits = limits }

    public var expectedOutputBytes: UInt64? {
        guard let header, usedMap != nil else { return nil }
        return usedTotal * UInt64(header.blockSize)
    }

    public var isComplete: Bool { phase == .done }

    public mutating func consume<S: BlockSink>(_ input: UnsafeRawBufferPointer, into sink: inout S) throws {
        var pos = 0
        while pos < input.count {
            let rest = UnsafeRawBufferPointer(rebasing: input[pos...])
            let used: Int
            switch phase {
            case .header: used = try takeHeader(rest)
            case .bitmap: used = takeBitmap(rest)
            case .bitmapTrailer: used = try takeBitmapTrailer(rest)
            case .data: used = try takeData(rest, into: &sink)
            case .checksum: used = try takeChecksum(rest, into: &sink)
            case .done: throw PartcloneError.trailingData(streamOffset: streamOffset)
            }
            pos += used
            streamOffset += UInt64(used)
        }
    }

    public mutating func finish<S: BlockSink>(into sink: inout S) throws {
        guard phase == .done else {
            throw PartcloneError.truncated(expected: expectation, streamOffset: streamOffset)
        }
    }

    private var expectation: String {
        switch phase {
        case .header: return "the image header"
        case .bitmap, .bitmapTrailer: return "the rest of the block bitmap"
        case .data: return "block \(nextBlock) (\(usedTotal - usedDone) used blocks missing)"
        case .checksum: return "the checksum after block \(lastBlockInBuffer)"
        case .done: return "nothing"
        }
    }

    private var lastBlockInBuffer: UInt64 {
        guard let last = runs.last else { return nextBlock }
        return last.first + UInt64(last.count) - 1
    }

    // MARK: header and bitmap

    private mutating func takeHeader(_ input: UnsafeRawBufferPointer) throws -> Int {
        let need = scratch.count < 34 ? 34 : ImageHeader.requiredLength(peek: scratch)
        let n = min(need - scratch.count, input.count)
        scratch += input.prefix(n)
        if scratch.count >= 34 && scratch.count == ImageHeader.requiredLength(peek: scratch) {
            let parsed = try ImageHeader.parse(scratch)
            guard parsed.totalBlocks <= limits.maxTotalBlocks else {
                throw PartcloneError.invalidHeaderField(field: "totalblock", value: String(parsed.totalBlocks),
                                                        reason: "larger than the supported \(limits.maxTotalBlocks) blocks")
            }
            try headerCheck?(parsed)
            header = parsed
            scratch = []
            usedMap = UsedBlockMap(totalBlocks: parsed.totalBlocks, allUsed: parsed.bitmapMode == .none)
            if parsed.bitmapMode == .none { startData() } else if parsed.totalBlocks == 0 { phase = .bitmapTrailer } else { phase = .bitmap }
        }
        return n
    }

    private mutating func takeBitmap(_ input: UnsafeRawBufferPointer) -> Int {
        let header = header!
        let mapBytes = header.bitmapMode == .bit ? (header.totalBlocks + 7) / 8 : header.totalBlocks
        let n = Int(min(UInt64(input.count), mapBytes - bitmapBytesSeen))
        let slice = UnsafeRawBufferPointer(rebasing: input[..<n])
        if header.bitmapMode == .bit {
            for (i, byte) in slice.enumerated() { usedMap!.setByte(byte, atByte: Int(bitmapBytesSeen) + i) }
            bitmapZlibCRC = crc32(bitmapZlibCRC, slice.baseAddress?.assumingMemoryBound(to: UInt8.self), uInt(n))
        } else {
            for (i, byte) in slice.enumerated() { usedMap!.setBlock(bitmapBytesSeen + UInt64(i), used: byte == 1) }
        }
        bitmapBytesSeen += UInt64(n)
        if bitmapBytesSeen == mapBytes { phase = .bitmapTrailer }
        return n
    }

    private mutating func takeBitmapTrailer(_ input: UnsafeRawBufferPointer) throws -> Int {
        let bitMode = header!.bitmapMode == .bit
        let need = bitMode ? 4 : 8
        let n = min(need - scratch.count, input.count)
        scratch += input.prefix(n)
        guard scratch.count == need else { return n }
        if bitMode {
            let stored = LittleEndianFields(bytes: scratch).u32(0)
            let computed = ~UInt32(truncatingIfNeeded: bitmapZlibCRC)
            guard stored == computed else { throw PartcloneError.bitmapChecksumMismatch(stored: stored, computed: computed) }
        } else {
            guard scratch.elementsEqual("BiTmAgIc".utf8) else { throw PartcloneError.bitmapMagicMissing }
        }
        scratch = []
        usedMap!.complete()
        startData()
        return n
    }

    private mutating func startData() {
        let header = header!
        usedTotal = usedMap!.usedCount
        guard usedTotal > 0, let first = usedMap!.nextUsed(from: 0) else { phase = .done; return }
        nextBlock = first
        let blockSize = Int(header.blockSize)
        let strip = header.checksumMode == .none ? 0 : UInt64(header.blocksPerChecksum) * UInt64(blockSize)
        let wanted = min(max(UInt64(limits.minBuffer), strip), UInt64(limits.maxBuffer), usedTotal * UInt64(blockSize))
        let capacity = max(blockSize, Int(wanted) / blockSize * blockSize)
        buffer = [UInt8](repeating: 0, count: capacity)
        checksum = StripChecksum(mode: header.checksumMode, blockSize: blockSize)
        phase = .data
    }

    // MARK: block data

    private var blockSize: Int { Int(header!.blockSize) }
    private var stripBlocks: UInt64 { header!.checksumMode == .none ? .max : UInt64(header!.blocksPerChecksum) }

    private mutating func takeData<S: BlockSink>(_ input: UnsafeRawBufferPointer, into sink: inout S) throws -> Int {
        if fill == buffer.count {
            // Only reachable inside a strip larger than the buffer.
            feedChecksum()
            wroteUnverifiedData = header!.checksumMode != .none
            try flush(into: &sink)
        }
        let blocksToBoundary = min(stripBlocks - inStrip, usedTotal - usedDone)
        let bytesToBoundary = blocksToBoundary > UInt64(Int.max / blockSize) ? Int.max : Int(blocksToBoundary) * blockSize - blockFill
        let n = min(input.count, bytesToBoundary, buffer.count - fill)
        buffer.withUnsafeMutableBytes { dst in
            dst.baseAddress!.advanced(by: fill).copyMemory(from: input.baseAddress!, byteCount: n)
        }
        fill += n
        blockFill += n
        while blockFill >= blockSize {
            blockFill -= blockSize
            completeBlock()
        }
        let stripEnded = usedDone == usedTotal || inStrip == stripBlocks
        if stripEnded && header!.checksumMode != .none {
            phase = .checksum
        } else if usedDone == usedTotal {
            try flush(into: &sink)
            phase = .done
        } else if header!.checksumMode == .none && buffer.count - fill < blockSize {
            try flush(into: &sink)
        }
        return n
    }

    private mutating func completeBlock() {
        if let last = runs.last, last.first + UInt64(last.count) == nextBlock {
            runs[runs.count - 1].count += 1
        } else {
            runs.append((nextBlock, 1))
        }
        usedDone += 1
        inStrip += 1
        if usedDone < usedTotal { nextBlock = usedMap!.nextUsed(from: nextBlock + 1) ?? nextBlock }
    }

    private mutating func takeChecksum<S: BlockSink>(_ input: UnsafeRawBufferPointer, into sink: inout S) throws -> Int {
        let need = header!.checksumMode.digestSize
        let n = min(need - scratch.count, input.count)
        scratch += input.prefix(n)
        guard scratch.count == need else { return n }
        feedChecksum()
        guard scratch == checksum!.storedDigest() else {
            throw PartcloneError.blockChecksumMismatch(block: lastBlockInBuffer, streamOffset: streamOffset + UInt64(n) - UInt64(need))
        }
        scratch = []
        checksumsVerified += 1
        inStrip = 0
        if header!.reseed { checksum!.reset() }
        if usedDone == usedTotal {
            try flush(into: &sink)
            phase = .done
        } else {
            let nextStrip = min(stripBlocks, usedTotal - usedDone) * UInt64(blockSize)
            if UInt64(buffer.count - fill) < nextStrip { try flush(into: &sink) }
            phase = .data
        }
        return n
    }

    private mutating func feedChecksum() {
        let end = fill - blockFill
        guard end > checksummedUpTo else { return }
        buffer.withUnsafeBytes { checksum!.update(UnsafeRawBufferPointer(rebasing: $0[checksummedUpTo..<end])) }
        checksummedUpTo = end
    }

    /// Writes every complete block in the buffer and keeps a partial block at the front.
    private mutating func flush<S: BlockSink>(into sink: inout S) throws {
        let blockSize = self.blockSize
        var position = 0
        try buffer.withUnsafeBytes { bytes in
            for run in runs {
                let length = run.count * blockSize
                try sink.write(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]),
                               at: run.first * UInt64(blockSize))
                position += length
            }
        }
        outputBytes += UInt64(position)
        runs.removeAll(keepingCapacity: true)
        if blockFill > 0 {
            buffer.withUnsafeMutableBytes { b in
                b.baseAddress!.copyMemory(from: b.baseAddress!.advanced(by: position), byteCount: blockFill)
            }
        }
        fill = blockFill
        checksummedUpTo = 0
    }
}

import Partclone

/// Writes decoded partition data at `base` on the target, refusing anything past the
/// partition's end, and counts progress.
struct PartitionSink: BlockSink {
    let target: RestoreTarget
    let base: UInt64
    let limit: UInt64
    let progress: ProgressMeter

    mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        guard offset + UInt64(bytes.count) <= limit else {
            throw PartcloneError.outputBeyondTarget(offset: offset, length: bytes.count, limit: limit)
        }
        try target.write(bytes, at: base + offset)
        progress.advance(by: bytes.count)
    }
}

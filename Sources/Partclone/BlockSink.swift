/// Where decoded partition bytes go: `offset` is relative to the start of the partition.
/// Decoders call it only with data that has passed its checksum, except for strips larger than
/// the decode buffer, whose failure is still reported before the restore can succeed.
public protocol BlockSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws
}

/// A decoder of one partition payload (a partclone stream or raw dd bytes), fed in pieces of
/// any size as they arrive from the decompressor.
public protocol PayloadDecoder {
    /// Bytes of partition data the stream will produce when complete, once known.
    var expectedOutputBytes: UInt64? { get }
    var outputBytes: UInt64 { get }
    mutating func consume<S: BlockSink>(_ input: UnsafeRawBufferPointer, into sink: inout S) throws
    /// Called at end of input: flushes what is buffered and fails on a truncated stream.
    mutating func finish<S: BlockSink>(into sink: inout S) throws
}

/// `partclone.dd` payloads are the raw partition bytes with no header.
public struct RawStreamDecoder: PayloadDecoder {
    public private(set) var outputBytes: UInt64 = 0
    public let expectedOutputBytes: UInt64?

    public init(expectedBytes: UInt64? = nil) { expectedOutputBytes = expectedBytes }

    public mutating func consume<S: BlockSink>(_ input: UnsafeRawBufferPointer, into sink: inout S) throws {
        guard !input.isEmpty else { return }
        try sink.write(input, at: outputBytes)
        outputBytes += UInt64(input.count)
    }

    public mutating func finish<S: BlockSink>(into sink: inout S) throws {}
}

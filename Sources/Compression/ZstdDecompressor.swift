import CZstd

/// zstd through libzstd's streaming API, which continues across concatenated frames.
public final class ZstdDecompressor: StreamDecompressor {
    private let stream: OpaquePointer
    private var outBuffer: [UInt8]
    /// Last `ZSTD_decompressStream` hint: 0 means the input so far ends on a frame boundary.
    private var lastHint = 1
    private var sawInput = false

    public init(outputBufferSize: Int = 4 << 20) throws(CompressionError) {
        guard let stream = ZSTD_createDStream() else { throw .resource("ZSTD_createDStream failed") }
        self.stream = stream
        outBuffer = [UInt8](repeating: 0, count: outputBufferSize)
        ZSTD_initDStream(stream)
    }

    deinit { ZSTD_freeDStream(stream) }

    public func decompress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        sawInput = true
        var inBuf = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
        while true {
            let (hint, produced, full) = try outBuffer.withUnsafeMutableBytes { out -> (Int, Int, Bool) in
                var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let hint = ZSTD_decompressStream(stream, &outBuf, &inBuf)
                if ZSTD_isError(hint) != 0 {
                    throw CompressionError.corrupt(format: .zstd, detail: String(cString: ZSTD_getErrorName(hint)))
                }
                if outBuf.pos > 0 { try output(UnsafeRawBufferPointer(rebasing: out[..<outBuf.pos])) }
                return (hint, outBuf.pos, outBuf.pos == out.count)
            }
            lastHint = hint
            _ = produced
            if inBuf.pos == inBuf.size && !full { break }
        }
    }

    public func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard sawInput && lastHint == 0 else { throw CompressionError.truncated(format: .zstd) }
    }
}

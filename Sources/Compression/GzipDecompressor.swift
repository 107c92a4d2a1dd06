import CZlib

/// gzip through zlib's inflate, accepting concatenated members (pigz and `cat a.gz b.gz`).
public final class GzipDecompressor: StreamDecompressor {
    private var stream = z_stream()
    private var outBuffer: [UInt8]
    /// True between members: the next input byte must start a new member (or input may end).
    private var atBoundary = true
    private var sawMember = false

    public init(outputBufferSize: Int = 4 << 20) throws(CompressionError) {
        outBuffer = [UInt8](repeating: 0, count: outputBufferSize)
        let status = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw .resource("zlib inflateInit2 failed (\(status))") }
    }

    deinit { inflateEnd(&stream) }

    public func decompress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard var next = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var remaining = input.count
        while remaining > 0 {
            if atBoundary {
                // A member must start with the gzip magic; anything else is garbage.
                if next[0] != 0x1F { throw CompressionError.trailingGarbage(format: .gzip) }
                inflateReset(&stream)
                atBoundary = false
                sawMember = true
            }
            let chunk = min(remaining, Int(UInt32.max))
            stream.next_in = UnsafeMutablePointer(mutating: next)
            stream.avail_in = uInt(chunk)
            var status: Int32 = Z_OK
            repeat {
                status = try outBuffer.withUnsafeMutableBytes { out -> Int32 in
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    stream.avail_out = uInt(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    let produced = out.count - Int(stream.avail_out)
                    if produced > 0 { try output(UnsafeRawBufferPointer(rebasing: out[..<produced])) }
                    return status
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    let message = stream.msg.map { String(cString: $0) } ?? "inflate error \(status)"
                    throw CompressionError.corrupt(format: .gzip, detail: message)
                }
            } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
            let consumed = chunk - Int(stream.avail_in)
            next += consumed
            remaining -= consumed
            if status == Z_STREAM_END { atBoundary = true }
            if status == Z_BUF_ERROR && consumed == 0 && stream.avail_in > 0 {
                throw CompressionError.corrupt(format: .gzip, detail: "inflate made no progress")
            }
        }
    }

    public func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard atBoundary && sawMember else { throw CompressionError.truncated(format: .gzip) }
    }
}

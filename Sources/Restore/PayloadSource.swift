import ClonezillaImage
import Compression
import Foundation

/// Reads a payload's chunk files in order and decompresses them, handing decoded bytes to a
/// closure. Remembers which chunk fed which decoded offsets so that a decode error found
/// later in the stream can name the chunk file it came from.
final class PayloadSource {
    let payload: Payload
    let directory: String
    let format: CompressionFormat
    private(set) var decodedBytes: UInt64 = 0
    /// Decoded offset at which each chunk started to be fed.
    private(set) var chunkStarts: [(chunk: String, decodedOffset: UInt64)] = []
    private(set) var currentChunk: String
    private let readSize: Int
    /// The payload arrives on this descriptor (a receiver's pipe) instead of its chunk files,
    /// which are then empty placeholders that only name the format.
    private let stream: PayloadStream?

    init(payload: Payload, directory: String, readSize: Int = 4 << 20, stream: PayloadStream? = nil) throws(RestoreError) {
        self.payload = payload
        self.directory = directory
        self.readSize = readSize
        self.stream = stream
        currentChunk = stream?.name ?? payload.chunks[0]
        if let suffix = payload.compressionSuffix {
            guard let format = CompressionFormat(suffix: suffix) else {
                throw .payload(partition: payload.partition, chunk: payload.chunks[0], detail: "unknown compression .\(suffix)")
            }
            self.format = format
        } else if let stream {
            throw .payload(partition: payload.partition, chunk: stream.name, detail: "a legacy image name without a compression suffix cannot be received as a stream")
        } else {
            let magic = try PayloadSource.readPrefix(directory + "/" + payload.chunks[0], count: 16, partition: payload.partition)
            // Legacy names carry no suffix; a stream without a known magic is stored uncompressed.
            format = CompressionFormat.detect(magic: magic) ?? .uncompressed
        }
    }

    static func readPrefix(_ path: String, count: Int, partition: String) throws(RestoreError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .payload(partition: partition, chunk: path, detail: String(cString: strerror(errno))) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, count) }
        return n > 0 ? Array(buffer[..<n]) : []
    }

    /// The chunk that was being read when decoded offset `offset` was produced.
    func chunk(forDecodedOffset offset: UInt64) -> String {
        chunkStarts.last { $0.decodedOffset <= offset }?.chunk ?? payload.chunks[0]
    }

    /// Streams the whole payload. `output` may throw to stop early.
    func run(output: (UnsafeRawBufferPointer) throws -> Void) throws {
        try withoutActuallyEscaping(output) { output in try run(escapingOutput: output) }
    }

    private func run(escapingOutput output: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        let decoder: any StreamDecompressor
        do { decoder = try format.makeDecoder() } catch {
            throw RestoreError.payload(partition: payload.partition, chunk: payload.chunks[0], detail: error.description)
        }
        let counted: (UnsafeRawBufferPointer) throws -> Void = { bytes in
            self.decodedBytes += UInt64(bytes.count)
            try output(bytes)
        }
        var buffer = [UInt8](repeating: 0, count: readSize)
        for chunk in stream.map({ [$0.name] }) ?? payload.chunks {
            currentChunk = chunk
            chunkStarts.append((chunk, decodedBytes))
            let path = stream == nil ? directory + "/" + chunk : chunk
            let fd = stream?.descriptor ?? open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw RestoreError.payload(partition: payload.partition, chunk: chunk, detail: String(cString: strerror(errno))) }
            defer { if stream == nil { close(fd) } }
            var total = 0
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw RestoreError.io(path: path, operation: "read", errno: errno) }
                if n == 0 { break }
                total += n
                do {
                    try buffer.withUnsafeBytes { try decoder.decompress(UnsafeRawBufferPointer(rebasing: $0[..<n]), output: counted) }
                } catch let error as CompressionError {
                    throw RestoreError.payload(partition: payload.partition, chunk: chunk, detail: error.description)
                }
            }
            if total == 0 { throw RestoreError.image(.emptyChunk(chunk: path)) }
        }
        do { try decoder.finish(output: counted) } catch let error as CompressionError {
            throw RestoreError.payload(partition: payload.partition, chunk: stream?.name ?? payload.chunks.last!, detail: error.description)
        }
    }
}

/// A payload that arrives as a byte stream (multicast receiver, pipe): where to read it and
/// what to call it in messages. The caller owns and closes the descriptor.
public struct PayloadStream: Sendable {
    public var descriptor: Int32
    public var name: String
    public init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }
}

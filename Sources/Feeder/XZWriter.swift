import CLZMA
import Foundation

/// Bytes in, an .xz file out (liblzma, preset 6 with CRC64 as xz(1) writes by default).
public final class XZWriter {
    public enum Failure: Error, CustomStringConvertible {
        case encoder(UInt32)
        case write(String, String)
        public var description: String {
            switch self {
            case .encoder(let code): return "xz: liblzma error \(code)"
            case .write(let path, let reason): return "xz: cannot write \(path): \(reason)"
            }
        }
    }

    private var stream = lzma_stream()
    private let output: FileHandle
    private let path: String
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    public init(path: String, preset: UInt32 = 6) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw Failure.write(path, "cannot create")
        }
        output = handle
        self.path = path
        let status = lzma_easy_encoder(&stream, preset, LZMA_CHECK_CRC64)
        guard status == LZMA_OK else { throw Failure.encoder(status.rawValue) }
    }

    deinit { lzma_end(&stream) }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { input in
            stream.next_in = input.baseAddress
            stream.avail_in = input.count
            while stream.avail_in > 0 { try step(LZMA_RUN) }
        }
    }

    /// Writes what remains and closes the file.
    public func finish() throws {
        stream.next_in = nil
        stream.avail_in = 0
        while try step(LZMA_FINISH) != LZMA_STREAM_END {}
        try output.close()
    }

    @discardableResult
    private func step(_ action: lzma_action) throws -> lzma_ret {
        let status = buffer.withUnsafeMutableBufferPointer { out -> lzma_ret in
            stream.next_out = out.baseAddress
            stream.avail_out = out.count
            return lzma_code(&stream, action)
        }
        guard status == LZMA_OK || status == LZMA_STREAM_END else { throw Failure.encoder(status.rawValue) }
        let produced = buffer.count - stream.avail_out
        if produced > 0 {
            do { try output.write(contentsOf: buffer[0..<produced]) } catch { throw Failure.write(path, "\(error)") }
        }
        return status
    }
}

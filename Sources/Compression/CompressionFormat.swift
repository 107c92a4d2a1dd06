/// The compressors Clonezilla writes, keyed by the suffix after `-ptcl-img.` and by magic.
public enum CompressionFormat: String, CaseIterable, Sendable {
    case uncompressed = "uncomp"
    case gzip = "gz"
    case bzip2 = "bz2"
    case lzo
    case lzma
    case xz
    case lzip
    case lrzip = "lrz"
    case lz4
    case zstd = "zst"

    public init?(suffix: String) { self.init(rawValue: suffix) }

    public var suffix: String { rawValue }

    /// Identifies legacy payloads whose names carry no suffix, as Clonezilla does with `file -Ls`.
    public static func detect(magic bytes: [UInt8]) -> CompressionFormat? {
        func starts(_ prefix: [UInt8]) -> Bool { bytes.starts(with: prefix) }
        if starts([0x1F, 0x8B]) { return .gzip }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        if starts([0x42, 0x5A, 0x68]) { return .bzip2 }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if starts([0x89, 0x4C, 0x5A, 0x4F, 0x00, 0x0D, 0x0A, 0x1A, 0x0A]) { return .lzo }
        if starts(Array("LZIP".utf8)) { return .lzip }
        if starts(Array("LRZI".utf8)) { return .lrzip }
        if starts([0x04, 0x22, 0x4D, 0x18]) { return .lz4 }
        if starts([0x5D, 0x00, 0x00]) { return .lzma }
        return nil
    }

    /// The external decoder for formats without an in-process one: the command and the
    /// Debian package that provides it (named in the error when it is missing).
    public var externalDecoder: (command: [String], package: String)? {
        switch self {
        case .uncompressed, .gzip, .zstd: return nil
        case .bzip2: return (["bzip2", "-d", "-c"], "bzip2")
        case .lzo: return (["lzop", "-d", "-c"], "lzop")
        case .lzma: return (["xz", "--format=lzma", "-d", "-c"], "xz-utils")
        case .xz: return (["xz", "-d", "-c", "-T0"], "xz-utils")
        case .lzip: return (["lzip", "-d", "-c"], "lzip")
        case .lrzip: return (["lrzip", "-q", "-d", "-o", "-"], "lrzip")
        case .lz4: return (["lz4", "-d", "-c"], "lz4")
        }
    }

    /// Builds a fresh decoder for one stream.
    public func makeDecoder() throws(CompressionError) -> any StreamDecompressor {
        switch self {
        case .uncompressed: return PassthroughDecompressor()
        case .gzip: return try GzipDecompressor()
        case .zstd: return try ZstdDecompressor()
        default:
            let external = externalDecoder!
            return try ExternalDecompressor(format: self, command: external.command, package: external.package)
        }
    }
}

/// A streaming decoder fed compressed bytes in pieces of any size. `output` receives decoded
/// bytes in a buffer that is only valid during the call.
public protocol StreamDecompressor: AnyObject {
    func decompress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws
    /// End of input: emits what is left and fails if the stream stopped inside a member/frame.
    func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws
}

public enum CompressionError: Error, Equatable, CustomStringConvertible, Sendable {
    case toolMissing(tool: String, format: CompressionFormat, package: String)
    case corrupt(format: CompressionFormat, detail: String)
    case truncated(format: CompressionFormat)
    case trailingGarbage(format: CompressionFormat)
    case toolFailed(tool: String, status: Int32, message: String)
    case resource(String)

    public var description: String {
        switch self {
        case .toolMissing(let tool, let format, let package):
            return "'\(tool)' is needed to decompress .\(format.suffix) images but was not found in PATH (install the Debian package \(package))"
        case .corrupt(let format, let detail):
            return "corrupt .\(format.suffix) data: \(detail)"
        case .truncated(let format):
            return "the .\(format.suffix) stream ends in the middle of a compressed member (truncated or missing chunk)"
        case .trailingGarbage(let format):
            return "bytes after the end of the .\(format.suffix) stream are not another compressed member"
        case .toolFailed(let tool, let status, let message):
            return "\(tool) failed (status \(status))" + (message.isEmpty ? "" : ": \(message)")
        case .resource(let detail):
            return detail
        }
    }
}

/// `uncomp` payloads pass through unchanged.
public final class PassthroughDecompressor: StreamDecompressor {
    public init() {}
    public func decompress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !input.isEmpty { try output(input) }
    }
    public func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {}
}

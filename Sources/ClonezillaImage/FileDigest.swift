import COpenSSL
import Foundation

/// Streaming message digests through OpenSSL's EVP interface (MD5, SHA-1, SHA-256, BLAKE2b-512).
public final class Digest {
    public enum Algorithm: Sendable {
        case md5, sha1, sha256, blake2b512

        fileprivate var evp: OpaquePointer? {
            switch self {
            case .md5: return EVP_md5()
            case .sha1: return EVP_sha1()
            case .sha256: return EVP_sha256()
            case .blake2b512: return EVP_blake2b512()
            }
        }
    }

    private let context: OpaquePointer

    public init(_ algorithm: Algorithm) {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, algorithm.evp, nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        if let base = bytes.baseAddress { EVP_DigestUpdate(context, base, bytes.count) }
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public func finalBytes() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return Array(out[..<Int(length)])
    }

    public func finalHex() -> String { finalBytes().map { String(format: "%02x", $0) }.joined() }

    /// Digest of a file read in 4 MiB pieces, or of `length` bytes from `offset`.
    public static func hex(of path: String, algorithm: Algorithm, offset: UInt64 = 0, length: UInt64? = nil) throws(ImageError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let digest = Digest(algorithm)
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var position = offset
        var left = length ?? .max
        while left > 0 {
            let want = Int(min(UInt64(buffer.count), left))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(position)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .unreadable(file: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            position += UInt64(n)
            left -= UInt64(n)
        }
        return digest.finalHex()
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// `pwrite`/`pread` that finish partial transfers and retry EINTR, for every module that
/// writes partitions or serves blocks from them.
public enum PositionedIO {
    /// Writes every byte at `offset`; the errno of a failure, nil on success.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) -> Int32? {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return errno }
            if n == 0 { return EIO }
            done += n
        }
        return nil
    }

    /// Fills `buffer` from `offset`, stopping early only at end of file; the count read, or
    /// the errno of a failure.
    public static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) -> Result<Int, PositionedIOError> {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(PositionedIOError(errno: errno)) }
            if n == 0 { break }
            done += n
        }
        return .success(done)
    }
}

public struct PositionedIOError: Error, Equatable, Sendable {
    public var errno: Int32
}

import CLZMA
import Foundation

/// `img-wo-fs.tar.xz` unpacked into a fresh directory (liblzma in process, `TarReader`): files
/// are created new (O_EXCL, O_NOFOLLOW) under the directory only, so a hostile archive can
/// neither escape it nor follow a link out of it.
public enum PseudoImageUnpacker {
    public enum Failure: Error, CustomStringConvertible {
        case xz(file: String, code: UInt32)
        case tar(file: String, TarReader.Failure)
        case io(path: String, errno: Int32)
        case truncated(file: String)

        public var description: String {
            switch self {
            case .xz(let file, let code): return "\(file): not a valid xz stream (liblzma error \(code))"
            case .tar(let file, let failure): return "\(file): \(failure)"
            case .io(let path, let code): return "\(path): \(String(cString: strerror(code)))"
            case .truncated(let file): return "\(file): the xz stream ends early"
            }
        }
    }

    /// Unpacks `archive` into `directory` (created; must not exist). Returns the member names.
    @discardableResult
    public static func unpack(_ archive: String, into directory: String) throws(Failure) -> [String] {
        guard mkdir(directory, 0o700) == 0 else { throw .io(path: directory, errno: errno) }
        let input = open(archive, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .io(path: archive, errno: errno) }
        defer { close(input) }
        var stream = lzma_stream()
        guard lzma_stream_decoder(&stream, 1 << 28, 0) == LZMA_OK else { throw .xz(file: archive, code: 0) }
        defer { lzma_end(&stream) }
        var reader = TarReader()
        var names: [String] = []
        var output: Int32 = -1
        defer { if output >= 0 { close(output) } }
        // Plain buffers: liblzma keeps pointers into them across calls.
        let readSize = 1 << 16, decodedSize = 1 << 17
        let readBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: readSize)
        let decoded = UnsafeMutablePointer<UInt8>.allocate(capacity: decodedSize)
        defer {
            readBuffer.deallocate()
            decoded.deallocate()
        }
        func handle(_ events: [TarReader.Event]) throws(Failure) {
            for event in events {
                switch event {
                case .directory(let name):
                    if mkdir(directory + "/" + name, 0o755) != 0 && errno != EEXIST { throw .io(path: directory + "/" + name, errno: errno) }
                    names.append(name + "/")
                case .file(let name, _):
                    let path = directory + "/" + name
                    output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                    guard output >= 0 else { throw .io(path: path, errno: errno) }
                    names.append(name)
                case .data(let bytes):
                    let written = bytes.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                    guard written == bytes.count else { throw .io(path: names.last ?? directory, errno: errno) }
                case .fileEnd:
                    close(output)
                    output = -1
                case .end:
                    break
                }
            }
        }
        var atEnd = false
        while !atEnd {
            let count = read(input, readBuffer, readSize)
            guard count >= 0 else { throw .io(path: archive, errno: errno) }
            let action = count == 0 ? LZMA_FINISH : LZMA_RUN
            stream.next_in = UnsafePointer(readBuffer)
            stream.avail_in = count
            var status = LZMA_OK
            repeat {
                stream.next_out = decoded
                stream.avail_out = decodedSize
                status = lzma_code(&stream, action)
                guard status == LZMA_OK || status == LZMA_STREAM_END else { throw .xz(file: archive, code: status.rawValue) }
                let produced = decodedSize - stream.avail_out
                if produced > 0 {
                    let events: [TarReader.Event]
                    do { events = try reader.consume(Array(UnsafeBufferPointer(start: decoded, count: produced))) } catch { throw .tar(file: archive, error) }
                    try handle(events)
                }
            } while status == LZMA_OK && (stream.avail_in > 0 || stream.avail_out == 0)
            if status == LZMA_STREAM_END { atEnd = true } else if count == 0 { throw .truncated(file: archive) }
        }
        do { try reader.finish() } catch { throw .tar(file: archive, error) }
        return names
    }
}

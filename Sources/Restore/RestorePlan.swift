import ClonezillaImage
import Partclone

/// Everything decided and checked before the first byte is written: which payload goes where,
/// and that it fits. Building a plan reads the image and the targets but writes nothing.
struct PartitionJob {
    let partition: String
    let payload: Payload
    /// Byte offset of the partition on its target, and its size.
    let offset: UInt64
    let size: UInt64
    let header: ImageHeader?

    var expectedBytes: UInt64? {
        guard let header else { return payload.kind == .raw ? size : nil }
        return header.usedBlocksPerBitmap * UInt64(header.blockSize)
    }
}

enum JobChecks {
    /// Reads the stream's header (unless `-scr`) and checks it against the partition it is
    /// about to overwrite: same kind of file system, and a device size that fits.
    static func job(partition: String, payload: Payload, directory: String, offset: UInt64, size: UInt64,
                    options: RestoreOptions, received: Bool = false) throws(RestoreError) -> PartitionJob {
        let restorer = PayloadRestorer(payload: payload, directory: directory)
        if received, payload.kind == .ntfsclone {
            throw .payload(partition: partition, chunk: payload.chunks[0], detail: "ntfsclone images are not supported yet")
        }
        // `-scr` skips reading headers, but an unsupported format is still refused up front;
        // a received stream is checked when its header arrives (`streamCheck`).
        let header = received || options.skipRestorableCheck && payload.kind != .ntfsclone ? nil : try restorer.header()
        if let header { try check(header, partition: partition, payload: payload, size: size, options: options, stream: nil) }
        return PartitionJob(partition: partition, payload: payload, offset: offset, size: size, header: header)
    }

    /// The same checks for a received stream, made when its header arrives and before any block
    /// is written: a stream of another partition (5.5) is refused instead of written.
    static func streamCheck(partition: String, payload: Payload, size: UInt64, options: RestoreOptions,
                            stream: String) -> @Sendable (ImageHeader) throws -> Void {
        { header in try check(header, partition: partition, payload: payload, size: size, options: options, stream: stream) }
    }

    /// A partclone header against the partition it is for: the file system its image is named
    /// for, and a device that fits (unless `-icds`). `stream` names a received stream, for which
    /// either mismatch means another partition's data.
    static func check(_ header: ImageHeader, partition: String, payload: Payload, size: UInt64, options: RestoreOptions,
                      stream: String?) throws(RestoreError) {
        if case .partclone(let fs) = payload.kind, !FileSystemNames.compatible(nameFS: fs, headerFS: header.fileSystem) {
            throw .streamMismatch(partition: partition, reason: stream.map {
                "\($0) carries a \(header.fileSystem) file system, the image says \(fs): it is another partition's stream; nothing was written"
            } ?? "the image file says \(fs) but its partclone header says \(header.fileSystem)")
        }
        guard !options.ignoreDiskSize && header.deviceSize > size else { return }
        if let stream {
            throw .streamMismatch(partition: partition,
                                  reason: "\(stream) carries a \(header.deviceSize)-byte device for a \(size)-byte partition: it is another partition's stream; nothing was written")
        }
        throw .targetTooSmall(target: partition, neededBytes: header.deviceSize, actualBytes: size,
                              reason: "the \(header.fileSystem) file system of \(partition)")
    }
}

/// Where received payloads come from, asked once per partition in restore order; told when
/// each stream is done with (to end its receiver).
public protocol PayloadStreamSource: Sendable {
    func open(partition: String, index: Int) throws(RestoreError) -> PayloadStream
    func close(_ stream: PayloadStream, succeeded: Bool)
}

/// Partitions written by something other than the payload decoder (a BitTorrent leecher writes
/// each extent at its offset itself); asked once per partition in restore order, after the
/// partition table exists. `target` is the disk (or image file) path, `offset` where the
/// partition starts on it.
public protocol PartitionFiller: Sendable {
    func fill(partition: String, index: Int, target: String, offset: UInt64, size: UInt64) throws(RestoreError)
}

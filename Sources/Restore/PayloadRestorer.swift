import ClonezillaImage
import Compression
import Partclone

/// Streams one payload into a region of a target: chunk files → decompression (worker thread)
/// → partclone or raw decoding → `pwrite`. Errors name the partition and the chunk file.
public struct PayloadRestorer {
    public let payload: Payload
    public let directory: String
    /// Receive the payload from here instead of its chunk files.
    public var stream: PayloadStream?
    /// Checks a partclone header before any block is written (a received stream must be the
    /// partition it is written to).
    public var headerCheck: (@Sendable (ImageHeader) throws -> Void)?

    public init(payload: Payload, directory: String, stream: PayloadStream? = nil) {
        self.payload = payload
        self.directory = directory
        self.stream = stream
    }

    func restore(into target: RestoreTarget, at base: UInt64, limit: UInt64, progress: ProgressMeter) throws(RestoreError) {
        var sink = PartitionSink(target: target, base: base, limit: limit, progress: progress)
        _ = try decode(into: &sink, rawLimit: limit)
    }

    /// Decodes the whole payload into `sink` (used blocks only, ascending offsets); returns
    /// the finished decoder (its header and used-block map). `rawLimit` bounds dd payloads.
    public func decode<S: BlockSink>(into sink: inout S, rawLimit: UInt64?) throws(RestoreError) -> any PayloadDecoder {
        if case .ntfsclone = payload.kind {
            throw .payload(partition: payload.partition, chunk: payload.chunks[0], detail: "ntfsclone images are not supported yet")
        }
        let source = try PayloadSource(payload: payload, directory: directory, stream: stream)
        var partclone = PartcloneStreamDecoder()
        partclone.headerCheck = headerCheck
        var decoder: any PayloadDecoder = payload.kind == .raw ? RawStreamDecoder(expectedBytes: rawLimit) : partclone
        do {
            try DecodePipeline().run(produce: { emit in try source.run(output: emit) },
                                     consume: { bytes in try decoder.consume(bytes, into: &sink) })
            try decoder.finish(into: &sink)
            return decoder
        } catch let error as RestoreError {
            throw error
        } catch let error as PartcloneError {
            let offset = error.streamOffset ?? source.decodedBytes
            throw .payload(partition: payload.partition, chunk: source.chunk(forDecodedOffset: offset), detail: error.description)
        } catch {
            throw .payload(partition: payload.partition, chunk: source.currentChunk, detail: "\(error)")
        }
    }

    /// Decodes just enough of the stream to read the partclone header (nil for raw payloads).
    func header() throws(RestoreError) -> ImageHeader? {
        switch payload.kind {
        case .raw: return nil
        case .ntfsclone:
            throw .payload(partition: payload.partition, chunk: payload.chunks[0], detail: "ntfsclone images are not supported yet")
        case .partclone: break
        }
        struct Enough: Error {}
        let source = try PayloadSource(payload: payload, directory: directory)
        var prefix: [UInt8] = []
        do {
            try source.run { bytes in
                prefix += bytes.prefix(ImageHeader.v1Size - prefix.count)
                if prefix.count >= ImageHeader.v1Size || prefix.count >= 34 && prefix.count >= ImageHeader.requiredLength(peek: prefix) {
                    throw Enough()
                }
            }
        } catch is Enough {
        } catch let error as RestoreError {
            throw error
        } catch {
            throw .payload(partition: payload.partition, chunk: source.currentChunk, detail: "\(error)")
        }
        do {
            guard prefix.count >= 34, prefix.count >= ImageHeader.requiredLength(peek: prefix) else {
                throw PartcloneError.truncated(expected: "the image header", streamOffset: UInt64(prefix.count))
            }
            return try ImageHeader.parse(prefix)
        } catch {
            throw .payload(partition: payload.partition, chunk: payload.chunks[0], detail: "\(error)")
        }
    }
}

/// Whether the file system named in an image file (`ext4`) is the one its partclone header
/// declares (`EXTFS`): a mismatch means the stream belongs to another partition.
enum FileSystemNames {
    static func compatible(nameFS: String, headerFS: String) -> Bool {
        let header = headerFS.uppercased()
        switch nameFS.lowercased() {
        case "ext2", "ext3", "ext4", "ext4dev": return header == "EXTFS" || header.hasPrefix("EXT")
        case "vfat", "fat", "fat12", "fat16", "fat32": return header.hasPrefix("FAT") || header == "VFAT"
        case "ntfs": return header == "NTFS"
        case "xfs": return header == "XFS"
        case "btrfs": return header == "BTRFS"
        case "exfat": return header == "EXFAT"
        case "hfsplus", "hfs+": return header.hasPrefix("HFS")
        default: return true
        }
    }
}

import ClonezillaImage
import Foundation
import Partclone
import Restore

/// One partition of an image decoded once into a sparse file (holes where blocks are free),
/// so pieces can be served with `pread`; never a full expanded copy. Its extents and piece
/// hashes are kept next to it in partclone's torrent.info format, with the identity of the
/// image chunks it came from: a restart with the same image reuses it.
public struct PartitionCache: Sendable {
    public let dataPath: String
    public let info: TorrentInfoFile
    public let partitionBytes: UInt64

    public var extents: [Extent] { info.extents }
    public var pieces: [[UInt8]] { info.pieces }

    /// Opens the cache of `device` under `cacheDirectory`, building it from the image first
    /// unless a cache of the very same image chunks is there.
    public static func open(image: String, device: String, cacheDirectory: String) throws -> PartitionCache {
        let files = try FileManager.default.contentsOfDirectory(atPath: image)
        let payload = try Payload.find(partition: device, in: files, directory: image)
        let identity = try identity(of: payload, image: image)
        let base = cacheDirectory + "/" + device
        if let cached = try? reuse(base: base, identity: identity) { return cached }
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        for suffix in [".source", ".torrent.info", ".data"] { try? FileManager.default.removeItem(atPath: base + suffix) }
        let fd = Glibc.open(base + ".data", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PartitionCacheError.io(path: base + ".data", errno: errno) }
        defer { close(fd) }
        var sink = CacheSink(fd: fd, path: base + ".data")
        let decoder = try PayloadRestorer(payload: payload, directory: image).decode(into: &sink, rawLimit: nil)
        let extents: [Extent]
        let partitionBytes: UInt64
        if let partclone = decoder as? PartcloneStreamDecoder, let header = partclone.header,
           let found = ClonezillaLayout.extents(of: partclone) {
            extents = found
            partitionBytes = header.deviceSize
        } else {
            partitionBytes = decoder.outputBytes
            extents = ClonezillaLayout.ddExtents(partitionBytes: partitionBytes)
        }
        let pieces = sink.hasher.finish()
        let hashed = sink.hasher.hashedBytes
        let covered = extents.reduce(0) { $0 + $1.length }
        guard hashed == covered else { throw TorrentBuildError.sizeMismatch(extents: covered, hashed: hashed) }
        guard ftruncate(fd, off_t(partitionBytes)) == 0, fsync(fd) == 0 else { throw PartitionCacheError.io(path: base + ".data", errno: errno) }
        let info = TorrentInfoFile(blockSize: (decoder as? PartcloneStreamDecoder)?.header.map { UInt64($0.blockSize) },
                                   blocksTotal: (decoder as? PartcloneStreamDecoder)?.header?.totalBlocks, extents: extents, pieces: pieces)
        try info.text.write(toFile: base + ".torrent.info", atomically: true, encoding: .utf8)
        // Written last: its presence says the cache is complete.
        try identity.write(toFile: base + ".source", atomically: true, encoding: .utf8)
        return PartitionCache(dataPath: base + ".data", info: info, partitionBytes: partitionBytes)
    }

    private static func reuse(base: String, identity: String) throws -> PartitionCache? {
        guard try String(contentsOfFile: base + ".source", encoding: .utf8) == identity else { return nil }
        let info = try TorrentInfoFile(parsing: String(contentsOfFile: base + ".torrent.info", encoding: .utf8))
        let size = try FileManager.default.attributesOfItem(atPath: base + ".data")[.size] as? UInt64 ?? 0
        guard let last = info.extents.last, last.offset + last.length <= size else { return nil }
        return PartitionCache(dataPath: base + ".data", info: info, partitionBytes: size)
    }

    /// Names, sizes and modification times of the chunk files, plus the image id.
    private static func identity(of payload: Payload, image: String) throws -> String {
        var lines = ["image-id: " + ((try? String(contentsOfFile: image + "/Info-img-id.txt", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)]
        for chunk in payload.chunks {
            let attributes = try FileManager.default.attributesOfItem(atPath: image + "/" + chunk)
            let size = attributes[.size] as? UInt64 ?? 0
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            lines.append("\(chunk) \(size) \(modified)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Writes decoded blocks into the sparse file and hashes them into pieces on the way.
struct CacheSink: BlockSink {
    let fd: Int32
    let path: String
    var hasher = PieceHasher()

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        if let code = PositionedIO.writeAll(fd, bytes, at: offset) { throw PartitionCacheError.io(path: path, errno: code) }
        try hasher.write(bytes, at: offset)
    }
}

public enum PartitionCacheError: Error, CustomStringConvertible {
    case io(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .io(let path, let code): return "\(path): \(String(cString: strerror(code)))"
        }
    }
}

extension TorrentInfoFile {
    /// partclone's layout: header lines, then the extents, then the piece hashes.
    public var text: String {
        var lines: [String] = []
        if let blockSize { lines.append("block_size: \(blockSize)") }
        if let blocksTotal { lines.append("blocks_total: \(blocksTotal)") }
        for extent in extents {
            lines.append("offset: " + ClonezillaLayout.fileName(offset: extent.offset))
            lines.append("length: " + ClonezillaLayout.fileName(offset: extent.length))
        }
        lines += pieces.map { "sha1: " + $0.hexString }
        return lines.joined(separator: "\n") + "\n"
    }
}

import Partclone

/// One file of a Clonezilla torrent: a run of used blocks at a byte offset of the partition.
public struct Extent: Equatable, Hashable, Sendable {
    public var offset: UInt64
    public var length: UInt64

    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }
}

/// Clonezilla's torrent layout (one torrent per partition, files = used-block extents named
/// by their offset, 16 MiB pieces): the rules partclone `-r -t` and ezio's torrent script
/// follow, so that our info-hash equals Clonezilla's for the same image and device.
public enum ClonezillaLayout {
    /// partclone's DEFAULT_PIECE_SIZE; fixed, whatever `-z` is.
    public static let pieceLength: UInt64 = 16 << 20
    /// Clonezilla's `-z 16777216` buffer: extents never exceed it.
    public static let chunkBytes: UInt64 = 16 << 20
    public static let creator = "Clonezilla"

    /// The restore rule (`partclone -r -t`): cut at every run start and after every
    /// `chunkBytes` of cumulative used data, so each extent lies inside one chunk.
    public static func extents(usedRuns: [(first: UInt64, count: UInt64)], blockSize: UInt64,
                               chunkBytes: UInt64 = chunkBytes) -> [Extent] {
        let perChunk = max(1, chunkBytes / blockSize)
        var inChunk: UInt64 = 0
        var extents: [Extent] = []
        for run in usedRuns {
            var block = run.first
            var left = run.count
            while left > 0 {
                let take = min(left, perChunk - inChunk)
                extents.append(Extent(offset: block * blockSize, length: take * blockSize))
                block += take
                left -= take
                inChunk = (inChunk + take) % perChunk
            }
        }
        return extents
    }

    /// `partclone.dd` images: every byte is used; consecutive chunks from offset 0.
    public static func ddExtents(partitionBytes: UInt64, chunkBytes: UInt64 = chunkBytes) -> [Extent] {
        stride(from: UInt64(0), to: partitionBytes, by: Int(chunkBytes)).map {
            Extent(offset: $0, length: min(chunkBytes, partitionBytes - $0))
        }
    }

    /// `%032llx` of the offset: the file's path leaf.
    public static func fileName(offset: UInt64) -> String {
        let hex = String(offset, radix: 16)
        return String(repeating: "0", count: max(0, 32 - hex.count)) + hex
    }

    /// The leecher's rule: the partition offset is the base-16 value of the last path
    /// component; other components are ignored. Nil for anything else.
    public static func offset(ofPath path: [[UInt8]]) -> UInt64? {
        guard let leaf = path.last, !leaf.isEmpty, leaf.count <= 32, let text = String(bytes: leaf, encoding: .ascii) else { return nil }
        return UInt64(hex: text)
    }

    /// The .torrent ezio's `partclone_create_torrent.py -c Clonezilla` writes: v1 multi-file,
    /// `name` = device, one file per extent, 16 MiB pieces, one tracker.
    public static func torrent(device: String, extents: [Extent], pieces: [[UInt8]], announce: String?,
                               creationDate: Int64?) -> Metainfo {
        Metainfo(name: device, pieceLength: pieceLength, pieces: pieces,
                 files: extents.map { Metainfo.File(path: [Array(fileName(offset: $0.offset).utf8)], length: $0.length) },
                 announce: announce, createdBy: creator, creationDate: creationDate)
    }
}

extension ClonezillaLayout {
    /// The extents of a partclone image, once its decoder has read the header and bitmap.
    public static func extents(of decoder: PartcloneStreamDecoder) -> [Extent]? {
        guard let header = decoder.header, let map = decoder.usedMap else { return nil }
        return extents(usedRuns: map.usedRuns, blockSize: UInt64(header.blockSize))
    }
}

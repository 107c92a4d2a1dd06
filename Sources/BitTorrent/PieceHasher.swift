import ClonezillaImage
import Partclone

/// SHA-1 of the used-block stream cut into pieces, fed by a partclone decoder (which writes
/// used blocks only, in ascending order): exactly v1 multi-file hashing of the extents.
public struct PieceHasher: BlockSink {
    public let pieceLength: UInt64
    public private(set) var pieces: [[UInt8]] = []
    public private(set) var hashedBytes: UInt64 = 0
    private var digest: Digest
    private var inPiece: UInt64 = 0
    private var nextOffset: UInt64 = 0

    public init(pieceLength: UInt64 = ClonezillaLayout.pieceLength) {
        self.pieceLength = pieceLength
        digest = Digest(.sha1)
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        guard offset >= nextOffset else { throw TorrentBuildError.outOfOrder(offset: offset, expectedAtLeast: nextOffset) }
        nextOffset = offset + UInt64(bytes.count)
        var start = 0
        while start < bytes.count {
            let take = min(bytes.count - start, Int(pieceLength - inPiece))
            digest.update(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + take)]))
            start += take
            inPiece += UInt64(take)
            hashedBytes += UInt64(take)
            if inPiece == pieceLength { closePiece() }
        }
    }

    /// Closes the last, shorter piece; returns every piece hash.
    public mutating func finish() -> [[UInt8]] {
        if inPiece > 0 { closePiece() }
        return pieces
    }

    private mutating func closePiece() {
        pieces.append(digest.finalBytes())
        digest = Digest(.sha1)
        inPiece = 0
    }
}

public enum TorrentBuildError: Error, Equatable, Sendable, CustomStringConvertible {
    case outOfOrder(offset: UInt64, expectedAtLeast: UInt64)
    case sizeMismatch(extents: UInt64, hashed: UInt64)
    case torrentInfo(line: Int, detail: String)

    public var description: String {
        switch self {
        case .outOfOrder(let offset, let expected):
            return "partition data arrived out of order: offset \(offset) after data up to \(expected)"
        case .sizeMismatch(let extents, let hashed):
            return "the used-block map covers \(extents) bytes but the image carried \(hashed)"
        case .torrentInfo(let line, let detail): return "torrent.info line \(line): \(detail)"
        }
    }
}

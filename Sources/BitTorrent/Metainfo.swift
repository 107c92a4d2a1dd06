import ClonezillaImage

/// A v1 torrent (BEP 3 metainfo): what the seeder serves and the leecher verifies against.
public struct Metainfo: Equatable, Sendable {
    public struct File: Equatable, Sendable {
        public var path: [[UInt8]]
        public var length: UInt64

        public init(path: [[UInt8]], length: UInt64) {
            self.path = path
            self.length = length
        }
    }

    public var announce: String?
    public var createdBy: String?
    public var creationDate: Int64?
    public var name: [UInt8]
    public var pieceLength: UInt64
    /// 20-byte SHA-1 of every piece.
    public var pieces: [[UInt8]]
    /// Multi-file layout; a single-file torrent has one file whose path is `[name]`.
    public var files: [File]
    public var isMultiFile: Bool
    public var isPrivate: Bool
    /// The exact bytes of the `info` value the hash was taken over.
    public private(set) var infoBytes: [UInt8]
    public private(set) var infoHash: [UInt8]

    public var totalLength: UInt64 { files.reduce(0) { $0 + $1.length } }
    public var infoHashHex: String { infoHash.hexString }

    /// Bytes of piece `index` (only the last one is shorter).
    public func length(ofPiece index: Int) -> UInt64 {
        let start = UInt64(index) * pieceLength
        return min(pieceLength, totalLength - start)
    }

    /// A multi-file torrent, as Clonezilla builds them (no `private`, v1 only).
    public init(name: String, pieceLength: UInt64, pieces: [[UInt8]], files: [File], announce: String?,
                createdBy: String?, creationDate: Int64?) {
        self.name = Array(name.utf8)
        self.pieceLength = pieceLength
        self.pieces = pieces
        self.files = files
        self.announce = announce
        self.createdBy = createdBy
        self.creationDate = creationDate
        isMultiFile = true
        isPrivate = false
        infoBytes = []
        infoHash = []
        infoBytes = infoValue.encoded()
        infoHash = Self.sha1(infoBytes)
    }

    private var infoValue: BencodeValue {
        var entries: [(String, BencodeValue)] = [
            ("name", .bytes(name)),
            ("piece length", .integer(Int64(pieceLength))),
            ("pieces", .bytes(pieces.flatMap { $0 })),
        ]
        if isMultiFile {
            entries.append(("files", .list(files.map { file in
                .dict([("length", .integer(Int64(file.length))), ("path", .list(file.path.map { .bytes($0) }))])
            })))
        } else {
            entries.append(("length", .integer(Int64(files.first?.length ?? 0))))
        }
        if isPrivate { entries.append(("private", .integer(1))) }
        return .dict(entries)
    }

    /// The .torrent bytes: the info dictionary exactly as hashed, plus the outer keys.
    public func encoded() -> [UInt8] {
        var outer: [(String, BencodeValue)] = []
        if let announce { outer.append(("announce", .string(announce))) }
        if let createdBy { outer.append(("created by", .string(createdBy))) }
        if let creationDate { outer.append(("creation date", .integer(creationDate))) }
        outer.append(("info", .integer(0)))   // placeholder: spliced below to keep `infoBytes` exact
        guard case .dictionary(let entries) = BencodeValue.dict(outer) else { return [] }
        var out: [UInt8] = [UInt8(ascii: "d")]
        for entry in entries {
            BencodeValue.bytes(entry.key).encode(into: &out)
            if entry.key == Array("info".utf8) { out += infoBytes } else { entry.value.encode(into: &out) }
        }
        out.append(UInt8(ascii: "e"))
        return out
    }

    /// Parses and validates a .torrent; the info-hash is taken over the `info` bytes as given.
    public init(decoding bytes: [UInt8], limits: BencodeDecoder.Limits = .init()) throws(MetainfoError) {
        let top: BencodeValue
        let spans: [[UInt8]: Range<Int>]
        do { (top, spans) = try BencodeDecoder.decodeDictionaryWithSpans(bytes, limits: limits) } catch { throw .bencode(error) }
        guard let info = top["info"], case .dictionary = info, let span = spans[Array("info".utf8)] else { throw .missing("info") }
        announce = top["announce"]?.stringValue
        createdBy = top["created by"]?.stringValue
        creationDate = top["creation date"]?.integerValue
        guard let name = info["name"]?.bytesValue else { throw .missing("info.name") }
        if info["pieces"] == nil, info["meta version"]?.integerValue == 2 { throw .versionTwoOnly }
        guard let pieceLength = info["piece length"]?.integerValue else { throw .missing("info.piece length") }
        guard pieceLength > 0 else { throw .invalid("info.piece length", "\(pieceLength)") }
        guard let pieceBytes = info["pieces"]?.bytesValue else { throw .missing("info.pieces") }
        guard pieceBytes.count % 20 == 0 else { throw .invalid("info.pieces", "\(pieceBytes.count) bytes is not a multiple of 20") }
        self.name = name
        self.pieceLength = UInt64(pieceLength)
        pieces = stride(from: 0, to: pieceBytes.count, by: 20).map { Array(pieceBytes[$0..<($0 + 20)]) }
        isPrivate = info["private"]?.integerValue == 1
        if let list = info["files"] {
            guard let items = list.listValue, !items.isEmpty else { throw .invalid("info.files", "not a non-empty list") }
            isMultiFile = true
            files = []
            for (index, item) in items.enumerated() {
                guard let length = item["length"]?.integerValue, length >= 0 else { throw .invalid("info.files[\(index)].length", "missing or negative") }
                guard let components = item["path"]?.listValue, !components.isEmpty,
                      let path = Optional(components.compactMap { $0.bytesValue }), path.count == components.count,
                      path.allSatisfy({ !$0.isEmpty }) else { throw .invalid("info.files[\(index)].path", "not a list of non-empty strings") }
                files.append(File(path: path, length: UInt64(length)))
            }
        } else if let length = info["length"]?.integerValue, length >= 0 {
            isMultiFile = false
            files = [File(path: [name], length: UInt64(length))]
        } else {
            throw .missing("info.length or info.files")
        }
        let total = files.reduce(UInt64(0)) { $0 &+ $1.length }
        let expectedPieces = total == 0 ? 0 : (total + self.pieceLength - 1) / self.pieceLength
        guard UInt64(pieces.count) == expectedPieces else {
            throw .invalid("info.pieces", "\(pieces.count) hashes for \(total) bytes in pieces of \(pieceLength) (expected \(expectedPieces))")
        }
        infoBytes = Array(bytes[span])
        infoHash = Self.sha1(infoBytes)
    }

    public static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        let digest = Digest(.sha1)
        digest.update(bytes)
        return digest.finalBytes()
    }
}

public enum MetainfoError: Error, Equatable, Sendable, CustomStringConvertible {
    case bencode(BencodeError)
    case missing(String)
    case invalid(String, String)
    case versionTwoOnly

    public var description: String {
        switch self {
        case .bencode(let error): return "torrent: \(error)"
        case .missing(let key): return "torrent: no \(key)"
        case .invalid(let key, let detail): return "torrent: bad \(key): \(detail)"
        case .versionTwoOnly: return "torrent: a v2-only torrent (meta version 2 without pieces); only v1 is supported"
        }
    }
}

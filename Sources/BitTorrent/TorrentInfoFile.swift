/// partclone's `torrent.info` (`-t` / `-T`): `offset:`/`length:` pairs (32 hex digits) and
/// `sha1:` lines (40 hex digits) as two independent ordered lists; the sha1 lines are written
/// lazily and sit between extent lines anywhere.
public struct TorrentInfoFile: Equatable, Sendable {
    public var blockSize: UInt64?
    public var blocksTotal: UInt64?
    public var extents: [Extent]
    public var pieces: [[UInt8]]

    public init(blockSize: UInt64?, blocksTotal: UInt64?, extents: [Extent], pieces: [[UInt8]]) {
        self.blockSize = blockSize
        self.blocksTotal = blocksTotal
        self.extents = extents
        self.pieces = pieces
    }

    public init(parsing text: String) throws(TorrentBuildError) {
        var extents: [Extent] = []
        var pieces: [[UInt8]] = []
        var pendingOffset: UInt64?
        var blockSize: UInt64?
        var blocksTotal: UInt64?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: " \r")
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: ":") else { throw .torrentInfo(line: index + 1, detail: "no key") }
            let key = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " ")
            switch key {
            case "block_size": blockSize = UInt64(value)
            case "blocks_total": blocksTotal = UInt64(value)
            case "offset":
                guard pendingOffset == nil, value.count == 32, let offset = UInt64(hex: value) else {
                    throw .torrentInfo(line: index + 1, detail: "bad offset \(value)")
                }
                pendingOffset = offset
            case "length":
                guard let offset = pendingOffset, value.count == 32, let length = UInt64(hex: value) else {
                    throw .torrentInfo(line: index + 1, detail: "length without offset or bad value \(value)")
                }
                extents.append(Extent(offset: offset, length: length))
                pendingOffset = nil
            case "sha1":
                guard value.count == 40, let bytes = [UInt8](hex: value) else { throw .torrentInfo(line: index + 1, detail: "bad sha1 \(value)") }
                pieces.append(bytes)
            default:
                throw .torrentInfo(line: index + 1, detail: "unknown key \(key)")
            }
        }
        self.init(blockSize: blockSize, blocksTotal: blocksTotal, extents: extents, pieces: pieces)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String { self[...].trimmingCharacters(in: set) }
}

extension UInt64 {
    /// Hex digits (partclone writes 32, zero padded) whose value fits 64 bits.
    init?(hex: String) {
        let significant = hex.drop { $0 == "0" }
        guard hex.allSatisfy(\.isHexDigit), significant.count <= 16 else { return nil }
        if significant.isEmpty { self = 0; return }
        guard let value = UInt64(significant, radix: 16) else { return nil }
        self = value
    }
}

extension Array where Element == UInt8 {
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self = bytes
    }

    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

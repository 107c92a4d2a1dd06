/// One partition's image data: which format, which compressor, and its chunk files in the
/// order they must be concatenated (the compressed stream is split, not the partclone stream).
public struct Payload: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case partclone(fileSystem: String)
        /// `partclone.dd` / legacy `dd | gzip`: the raw partition bytes.
        case raw
        case ntfsclone
    }

    public var partition: String
    public var kind: Kind
    /// The suffix after `-ptcl-img.` (`zst`, `gz`, …); nil for legacy names, whose compressor is
    /// recognised by magic.
    public var compressionSuffix: String?
    /// `sda1.ext4-ptcl-img.zst`: the name without a split suffix.
    public var baseName: String
    /// Chunk file names inside the image directory, in concatenation order.
    public var chunks: [String]

    /// Finds the payload of `partition` among the file names of an image directory.
    public static func find(partition: String, in files: [String], directory: String) throws(ImageError) -> Payload {
        var bases: [String: (kind: Kind, suffix: String?, chunks: [String], whole: Bool)] = [:]
        for file in files where file.hasPrefix(partition + ".") {
            let rest = String(file.dropFirst(partition.count + 1))
            guard let parsed = try parseName(rest, file: file) else { continue }
            let base = partition + "." + parsed.base
            var entry = bases[base] ?? (parsed.kind, parsed.suffix, [], false)
            if let chunk = parsed.chunk { entry.chunks.append(chunk) } else { entry.whole = true }
            bases[base] = entry
        }
        guard !bases.isEmpty else { throw .missingPayload(partition: partition, directory: directory) }
        guard bases.count == 1, let (base, entry) = bases.first else {
            throw .unsupported(file: directory, reason: "partition \(partition) has several images: \(bases.keys.sorted().joined(separator: ", "))")
        }
        if entry.whole && !entry.chunks.isEmpty {
            throw .unsupported(file: base, reason: "both an unsplit file and split chunks exist")
        }
        let chunks: [String]
        if entry.whole {
            chunks = [base]
        } else {
            let suffixes = entry.chunks.sorted()
            try checkContiguous(suffixes, partition: partition, base: base)
            chunks = suffixes.map { base + "." + $0 }
        }
        return Payload(partition: partition, kind: entry.kind, compressionSuffix: entry.suffix, baseName: base, chunks: chunks)
    }

    static let compressionSuffixes: Set<String> = ["uncomp", "gz", "bz2", "lzo", "lzma", "xz", "lzip", "lrz", "lz4", "zst"]

    /// Parses what follows `<part>.`; nil for side files (`.info`, checksum lists).
    private static func parseName(_ rest: String, file: String) throws(ImageError)
        -> (base: String, kind: Kind, suffix: String?, chunk: String?)? {
        let pieces = rest.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = pieces.first else { return nil }
        if first.hasSuffix("-ptcl-img") {
            guard pieces.count >= 2, compressionSuffixes.contains(pieces[1]) else {
                throw .unsupported(file: file, reason: "unknown compression suffix \"\(pieces.count >= 2 ? pieces[1] : "")\"")
            }
            guard pieces.count <= 3 else { return nil }
            let fs = String(first.dropLast("-ptcl-img".count))
            guard !fs.isEmpty else { throw .unsupported(file: file, reason: "no file-system type in the name") }
            let chunk = pieces.count == 3 ? try chunkSuffix(pieces[2], file: file) : nil
            return (first + "." + pieces[1], fs == "dd" ? .raw : .partclone(fileSystem: fs), pieces[1], chunk)
        }
        if first.hasSuffix("-img") {
            guard pieces.count <= 2 else { return nil }
            if pieces.count == 2 && pieces[1] == "info" { return nil }
            let fs = String(first.dropLast("-img".count))
            let chunk = pieces.count == 2 ? try chunkSuffix(pieces[1], file: file) : nil
            let kind: Kind = fs == "dd" ? .raw : fs == "ntfs" ? .ntfsclone : .partclone(fileSystem: fs)
            return (first, kind, nil, chunk)
        }
        if first.count == 3 && first.allSatisfy(\.isNumber) || pieces.count == 1 && first.count == 2 && first.allSatisfy(\.isLowercase) {
            throw .unsupported(file: file, reason: "partimage images are not supported (re-save the image with Clonezilla ≥ 2.x)")
        }
        return nil
    }

    private static func chunkSuffix(_ s: String, file: String) throws(ImageError) -> String {
        guard s.count >= 2, s.allSatisfy({ $0 >= "a" && $0 <= "z" }) else {
            throw .unsupported(file: file, reason: "\"\(s)\" is not a split suffix (aa, ab, …)")
        }
        return s
    }

    /// `split` names chunks aa, ab, … az, ba, …: a gap means a chunk file was lost.
    private static func checkContiguous(_ suffixes: [String], partition: String, base: String) throws(ImageError) {
        guard let first = suffixes.first else { return }
        let width = first.count
        guard suffixes.allSatisfy({ $0.count == width }) else {
            throw .unsupported(file: base, reason: "split suffixes of different lengths: \(suffixes.joined(separator: " "))")
        }
        var expected = String(repeating: "a", count: width)
        for suffix in suffixes {
            guard suffix == expected else { throw .missingChunk(partition: partition, chunk: base + "." + expected) }
            expected = successor(of: expected)
        }
    }

    static func successor(of s: String) -> String {
        var chars = Array(s.unicodeScalars.map { $0.value })
        var i = chars.count - 1
        while i >= 0 {
            if chars[i] < 0x7A { chars[i] += 1; break }
            chars[i] = 0x61
            i -= 1
        }
        return String(String.UnicodeScalarView(chars.compactMap(Unicode.Scalar.init)))
    }
}

import Foundation

/// `img-wo-fs.tar.xz` (contract §3.3): the image directory without its payloads. Every
/// non-payload file is shipped as it is; every payload (including each split chunk) becomes an
/// empty file of the same name, from which the client learns file system, compression and
/// layout; BT torrents go under `btzone/<img>/`. Members are flat (no wrapping directory).
public enum PseudoImage {
    public struct Member: Equatable, Sendable {
        public var name: String
        /// The file whose bytes are shipped; nil for a placeholder, a directory or `data`.
        public var source: String?
        public var isDirectory = false
        /// Bytes made here (a metadata file converted to another disk name).
        public var data: [UInt8]?
    }

    public enum Failure: Error, CustomStringConvertible {
        case notAnImage(String)
        case unreadable(String)
        public var description: String {
            switch self {
            case .notAnImage(let path): return "\(path) is not an image directory (no \"disk\" or \"parts\" file)"
            case .unreadable(let path): return "cannot read \(path)"
            }
        }
    }

    /// partclone, ntfsclone and dd payloads (B15: `.dd-img.info` is metadata and ships), and
    /// partimage's `<dev>.000` / `<dev>.aa` volumes.
    public static func isPayload(_ name: String) -> Bool {
        if name.contains("-ptcl-img.") || name.contains(".ntfs-img.") { return true }
        if name.contains(".dd-img.") { return !name.hasSuffix(".dd-img.info") }
        let parts = name.split(separator: ".")
        guard parts.count == 2, parts[0].allSatisfy({ $0.isLetter || $0.isNumber }), parts[0].last?.isNumber == true else { return false }
        let volume = parts[1]
        return (volume.count == 3 && volume.allSatisfy(\.isNumber)) || (volume.count == 2 && volume.allSatisfy(\.isLowercase))
    }

    /// The members for `image` (a directory) named `name`, with torrents from `torrentDirectory`,
    /// names and metadata converted by `rename` (contract §5.6).
    public static func members(image: String, name: String, torrentDirectory: String? = nil, rename: DiskRename = DiskRename(pairs: [])) throws -> [Member] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: image + "/disk") || fm.fileExists(atPath: image + "/parts") else { throw Failure.notAnImage(image) }
        guard let names = try? fm.contentsOfDirectory(atPath: image) else { throw Failure.unreadable(image) }
        var members: [Member] = []
        for entry in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where !entry.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: image + "/" + entry, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let path = image + "/" + entry
            if isPayload(entry) {
                members.append(Member(name: rename.name(entry)))
            } else if rename.edits(entry), let text = try? String(contentsOfFile: path, encoding: .utf8), let converted = rename.content(of: entry, text: text) {
                members.append(Member(name: rename.name(entry), data: Array(converted.utf8)))
            } else {
                members.append(Member(name: rename.name(entry), source: path))
            }
        }
        if let note = rename.note { members.append(Member(name: "device_name_converted.info", data: Array(note.utf8))) }
        members.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        if let torrentDirectory, let torrents = try? fm.contentsOfDirectory(atPath: torrentDirectory) {
            let files = torrents.filter { $0.hasSuffix(".torrent") }.sorted()
            if !files.isEmpty {
                members.append(Member(name: "btzone", isDirectory: true))
                members.append(Member(name: "btzone/\(name)", isDirectory: true))
                members += files.map { Member(name: "btzone/\(name)/" + rename.name($0), source: torrentDirectory + "/" + $0) }
            }
        }
        return members
    }

    /// Writes the xz-compressed tar to `path` (through a temporary name, so a half-written
    /// tarball is never published).
    public static func write(_ members: [Member], to path: String, mtime: UInt64 = UInt64(Date().timeIntervalSince1970)) throws {
        let temporary = path + ".partial"
        do {
            let xz = try XZWriter(path: temporary)
            for member in members {
                var size = UInt64(member.data?.count ?? 0)
                if let source = member.source {
                    size = ((try? FileManager.default.attributesOfItem(atPath: source))?[.size] as? NSNumber)?.uint64Value ?? 0
                }
                try xz.write(try TarArchive.header(name: member.name, size: size, directory: member.isDirectory, mtime: mtime,
                                                   mode: member.isDirectory ? 0o755 : 0o644))
                if let data = member.data {
                    try xz.write(data)
                    try xz.write(TarArchive.padding(after: size))
                } else if let source = member.source {
                    guard let handle = FileHandle(forReadingAtPath: source) else { throw Failure.unreadable(source) }
                    var written: UInt64 = 0
                    while written < size, let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                        let bytes = [UInt8](chunk.prefix(Int(size - written)))
                        try xz.write(bytes)
                        written += UInt64(bytes.count)
                    }
                    try handle.close()
                    guard written == size else { throw Failure.unreadable(source + " (changed while packed)") }
                    try xz.write(TarArchive.padding(after: size))
                }
            }
            try xz.write(TarArchive.trailer)
            try xz.finish()
            guard rename(temporary, path) == 0 else { throw Failure.unreadable(path) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }
}

import Foundation

/// `MD5SUMS`, `SHA1SUMS`, `B2SUMS`, `B3SUMS` as written by `ocs-sr -gm/-gs/-gb2/-gb3` and checked
/// with `-cm/-cs/-cb2/-cb3`: `<hex>  <file>` lines relative to the image directory.
public struct ChecksumFile: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case md5 = "MD5SUMS", sha1 = "SHA1SUMS", blake2 = "B2SUMS", blake3 = "B3SUMS"

        public var hexLength: Int {
            switch self {
            case .md5: return 32
            case .sha1: return 40
            case .blake2: return 128
            case .blake3: return 64
            }
        }

        /// The ocs-sr option that asks for this check.
        public var option: String {
            switch self {
            case .md5: return "-cm"
            case .sha1: return "-cs"
            case .blake2: return "-cb2"
            case .blake3: return "-cb3"
            }
        }
    }

    public struct Entry: Equatable, Sendable {
        public var hex: String
        public var file: String
    }

    public var kind: Kind
    public var entries: [Entry]

    public static func parse(_ text: String, kind: Kind) throws(ImageError) -> ChecksumFile {
        var entries: [Entry] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else {
                throw .malformed(file: kind.rawValue, line: index + 1, reason: "expected \"<checksum>  <file>\"")
            }
            let hex = parts[0].lowercased()
            var name = Substring(parts[1])
            if name.first == " " || name.first == "*" { name = name.dropFirst() }
            guard hex.count == kind.hexLength, hex.allSatisfy(\.isHexDigit) else {
                throw .malformed(file: kind.rawValue, line: index + 1, reason: "\"\(parts[0])\" is not a \(kind.hexLength)-digit checksum")
            }
            guard !name.isEmpty, !name.contains("/") || !name.contains("..") else {
                throw .malformed(file: kind.rawValue, line: index + 1, reason: "bad file name \"\(name)\"")
            }
            entries.append(Entry(hex: hex, file: String(name)))
        }
        guard !entries.isEmpty else { throw .malformed(file: kind.rawValue, line: 0, reason: "no entries") }
        return ChecksumFile(kind: kind, entries: entries)
    }

    /// Recomputes every listed file; the first missing or differing file is the error.
    public func verify(directory: String) throws(ImageError) {
        if kind == .blake3 { return try verifyWithB3sum(directory: directory) }
        let algorithm: Digest.Algorithm = kind == .md5 ? .md5 : kind == .sha1 ? .sha1 : .blake2b512
        for entry in entries {
            let path = directory + "/" + entry.file
            guard FileManager.default.fileExists(atPath: path) else {
                throw .checksumMissingFile(sumsFile: kind.rawValue, file: entry.file)
            }
            guard try Digest.hex(of: path, algorithm: algorithm) == entry.hex else {
                throw .checksumMismatch(sumsFile: kind.rawValue, file: entry.file)
            }
        }
    }

    /// No packaged library implements BLAKE3, so the `b3sum` tool computes it.
    private func verifyWithB3sum(directory: String) throws(ImageError) {
        let tool = ["/usr/bin/b3sum", "/usr/local/bin/b3sum", "/bin/b3sum"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool else { throw .checksumToolMissing(tool: "b3sum", package: "b3sum") }
        for entry in entries {
            let path = directory + "/" + entry.file
            guard FileManager.default.fileExists(atPath: path) else {
                throw .checksumMissingFile(sumsFile: kind.rawValue, file: entry.file)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["--no-names", "--", path]
            let pipe = Pipe()
            process.standardOutput = pipe
            do { try process.run() } catch { throw .checksumToolMissing(tool: "b3sum", package: "b3sum") }
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let hex = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard process.terminationStatus == 0, hex == entry.hex else {
                throw .checksumMismatch(sumsFile: kind.rawValue, file: entry.file)
            }
        }
    }
}

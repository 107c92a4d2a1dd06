/// Problems with an image directory, each naming the file (and line) at fault.
public enum ImageError: Error, Equatable, CustomStringConvertible, Sendable {
    case notAnImage(directory: String, reason: String)
    case unreadable(file: String, reason: String)
    case malformed(file: String, line: Int, reason: String)
    case missingPayload(partition: String, directory: String)
    case missingChunk(partition: String, chunk: String)
    case emptyChunk(chunk: String)
    case unsupported(file: String, reason: String)
    case checksumMismatch(sumsFile: String, file: String)
    case checksumMissingFile(sumsFile: String, file: String)
    case checksumToolMissing(tool: String, package: String)
    case noChecksumFile(file: String, option: String)

    public var description: String {
        switch self {
        case .notAnImage(let dir, let reason):
            return "\(dir) is not a Clonezilla image directory: \(reason)"
        case .unreadable(let file, let reason):
            return "cannot read \(file): \(reason)"
        case .malformed(let file, let line, let reason):
            return line > 0 ? "\(file) line \(line): \(reason)" : "\(file): \(reason)"
        case .missingPayload(let part, let dir):
            return "no image file for partition \(part) in \(dir) (expected \(part).<fs>-ptcl-img.<comp>[.aa…] or \(part).dd-ptcl-img.<comp>)"
        case .missingChunk(let part, let chunk):
            return "partition \(part): chunk file \(chunk) is missing (the split sequence has a gap)"
        case .emptyChunk(let chunk):
            return "chunk file \(chunk) is empty"
        case .unsupported(let file, let reason):
            return "\(file): \(reason)"
        case .checksumMismatch(let sums, let file):
            return "\(file) does not match its checksum in \(sums)"
        case .checksumMissingFile(let sums, let file):
            return "\(file), listed in \(sums), is missing"
        case .checksumToolMissing(let tool, let package):
            return "'\(tool)' is needed to check this checksum file but was not found (install the Debian package \(package))"
        case .noChecksumFile(let file, let option):
            return "\(option) was given but the image has no \(file)"
        }
    }
}

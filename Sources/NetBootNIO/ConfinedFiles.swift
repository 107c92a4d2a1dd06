import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Read-only access to a served tree: a relative path is resolved (symlinks included) and
/// opened only when the result lies inside the root or inside one of the allow-listed extra
/// roots (the live medium that the Lite Server links its squashfs from, docs §11 rule 4).
/// TFTP and HTTP share it, so both confine the same way.
public struct ConfinedFiles: Sendable {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notFound
        case outsideRoots
        case notRegularFile
        case unreadable(Int32)

        public var description: String {
            switch self {
            case .notFound: return "no such file"
            case .outsideRoots: return "resolves outside the served roots"
            case .notRegularFile: return "not a regular file"
            case .unreadable(let code): return String(cString: strerror(code))
            }
        }
    }

    public struct OpenFile: Sendable {
        public let descriptor: Int32
        public let size: UInt64
        public let resolvedPath: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case badRoot(String)
        public var description: String {
            switch self { case .badRoot(let path): return "served root \(path) does not exist or is not a directory" }
        }
    }

    /// The root as configured (clients may name files by it) and the canonical roots.
    public let configuredRoot: String
    public let root: String
    public let extraRoots: [String]

    public init(root: String, extraRoots: [String] = []) throws {
        guard let canonical = Self.canonical(root), Self.isDirectory(canonical) else { throw Failure.badRoot(root) }
        configuredRoot = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.root = canonical
        self.extraRoots = extraRoots.compactMap { Self.canonical($0) }.filter(Self.isDirectory)
    }

    /// Opens `relativePath` (already normalised: no `..`, no leading `/`) read-only.
    public func open(_ relativePath: String) -> Result<OpenFile, Refusal> {
        guard let resolved = Self.canonical(root + "/" + relativePath) else {
            return .failure(errno == EACCES ? .unreadable(EACCES) : .notFound)
        }
        guard ([root] + extraRoots).contains(where: { resolved == $0 || resolved.hasPrefix($0 == "/" ? "/" : $0 + "/") }) else {
            return .failure(.outsideRoots)
        }
        let fd = Glibc.open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return .failure(errno == ENOENT ? .notFound : .unreadable(errno)) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .failure(.notRegularFile)
        }
        return .success(OpenFile(descriptor: fd, size: UInt64(info.st_size), resolvedPath: resolved))
    }

    static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}

/// The file a read request names, as a path relative to the TFTP root, or why it is refused
/// (`../shared/docs/dhcp-tftp-pxe.md` §11). Boot loaders write `\` (Windows-style menus) and
/// leading `/` (GRUB prefix files), and dnsmasq takes the root's own absolute path as a prefix;
/// all three are accepted. A `..` component is refused even when it would stay inside the root:
/// no legitimate boot loader sends one, and refusing it outright leaves nothing to get wrong.
public enum TFTPRequestPath {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case empty
        case controlCharacter
        case parentComponent

        public var code: TFTPErrorCode { self == .empty ? .fileNotFound : .accessViolation }

        /// The text of the ERROR packet: no server paths in it.
        public var message: String {
            switch self {
            case .empty: return "File not found"
            case .controlCharacter, .parentComponent: return "Access violation"
            }
        }

        public var description: String {
            switch self {
            case .empty: return "empty file name"
            case .controlCharacter: return "control character in the file name"
            case .parentComponent: return "\"..\" in the file name"
            }
        }
    }

    /// `name` normalised: `\` → `/`, the root's absolute path and leading `/` stripped, `.` and
    /// empty components dropped. `rootPath` is the root as configured (no trailing `/`).
    public static func normalise(_ name: String, rootPath: String) -> Result<String, Refusal> {
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return .failure(.controlCharacter) }
        var path = name.replacingBackslashes()
        let root = rootPath.hasSuffix("/") ? String(rootPath.dropLast()) : rootPath
        if !root.isEmpty, path.hasPrefix(root + "/") { path = String(path.dropFirst(root.count)) }
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            if component == ".." { return .failure(.parentComponent) }
            components.append(component)
        }
        guard !components.isEmpty else { return .failure(.empty) }
        return .success(components.joined(separator: "/"))
    }
}

extension String {
    fileprivate func replacingBackslashes() -> String {
        String(unicodeScalars.map { $0 == "\\" ? "/" : Character($0) })
    }
}

/// `conf/netboot.conf`: `key = value` lines with `#` comments, so a lab's defaults live in a
/// file next to the feeder's instead of in every command line. Unknown keys are errors (a typo
/// must not silently keep a default).
public struct NetbootConfigFile: Equatable, Sendable {
    public static let keys: Set<String> = ["tftp_root", "live_media", "templates", "purpose", "keyboard", "language",
                                           "timeout", "serial", "extra_boot_param"]

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(file: String, line: Int)
        case unknownKey(file: String, line: Int, key: String, known: [String])

        public var description: String {
            switch self {
            case .malformed(let file, let line): return "\(file):\(line): expected \"key = value\""
            case .unknownKey(let file, let line, let key, let known):
                return "\(file):\(line): unknown key \"\(key)\" (known: \(known.joined(separator: ", ")))"
            }
        }
    }

    public private(set) var values: [String: String] = [:]

    /// `extraKeys`: a file that also carries another program's settings (the feeder's conf).
    public init(parsing text: String, file: String, extraKeys: Set<String> = []) throws(Failure) {
        let known = Self.keys.union(extraKeys)
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw .malformed(file: file, line: index + 1) }
            let key = Self.trim(parts[0]), value = Self.trim(parts[1])
            guard known.contains(key) else { throw .unknownKey(file: file, line: index + 1, key: key, known: known.sorted()) }
            if !value.isEmpty { values[key] = value }
        }
    }

    public subscript(key: String) -> String? { values[key] }

    static func trim(_ text: Substring) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

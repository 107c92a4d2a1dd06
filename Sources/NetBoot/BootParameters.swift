/// A kernel command line as an ordered list of parameters, so that the feeder can "set key"
/// (replace in place or append) the way `ocs-live-feed-img` edits DRBL's menus, and render the
/// same line for PXELINUX's `APPEND` and GRUB's `linux` (`../shared/docs/dhcp-tftp-pxe.md` §14).
public struct BootParameters: Equatable, Sendable, CustomStringConvertible {
    public struct Parameter: Equatable, Sendable {
        public var key: String
        /// nil: a bare word (`quiet`); "": `key=`.
        public var value: String?
        /// Written as `key="value"` (Clonezilla quotes `ocs_live_run` and `ocs_server`).
        public var quoted: Bool

        public init(key: String, value: String?, quoted: Bool = false) {
            self.key = key
            self.value = value
            self.quoted = quoted
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unterminatedQuote(String)
        case unsupportedCharacter(key: String, character: Character)

        public var description: String {
            switch self {
            case .unterminatedQuote(let line): return "boot parameters: unterminated quote in \"\(line)\""
            case .unsupportedCharacter(let key, let character):
                return "boot parameter \(key): the character \"\(character)\" cannot be passed through both PXELINUX and GRUB"
            }
        }
    }

    public private(set) var parameters: [Parameter] = []

    public init(_ parameters: [Parameter] = []) { self.parameters = parameters }

    /// Splits a line into words the way a shell (and `xargs echo`, as DRBL uses it) does: quotes
    /// group and are removed; a word whose value was quoted remembers it.
    public init(parsing line: String) throws(Failure) {
        var words: [(text: String, quoted: Bool)] = []
        var current = ""
        var inWord = false, quoted = false
        var quote: Character?
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
                continue
            }
            switch character {
            case "\"", "'":
                quote = character
                quoted = true
                inWord = true
            case " ", "\t", "\n":
                if inWord { words.append((current, quoted)) }
                current = ""
                inWord = false
                quoted = false
            default:
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil else { throw .unterminatedQuote(line) }
        if inWord { words.append((current, quoted)) }
        parameters = words.map { word in
            guard let equals = word.text.firstIndex(of: "=") else { return Parameter(key: word.text, value: nil) }
            return Parameter(key: String(word.text[..<equals]), value: String(word.text[word.text.index(after: equals)...]),
                             quoted: word.quoted && !word.text[word.text.index(after: equals)...].isEmpty)
        }
    }

    public func value(of key: String) -> String? { parameters.first { $0.key == key }?.value }
    public func contains(_ key: String) -> Bool { parameters.contains { $0.key == key } }

    /// Replaces the first `key` in place (also an empty `key=`), else appends it.
    public mutating func set(_ key: String, _ value: String?, quoted: Bool = false) {
        let parameter = Parameter(key: key, value: value, quoted: quoted)
        guard let index = parameters.firstIndex(where: { $0.key == key }) else { return parameters.append(parameter) }
        parameters[index] = parameter
        parameters = parameters.enumerated().filter { $0.offset <= index || $0.element.key != key }.map(\.element)
    }

    public mutating func remove(where drop: (Parameter) -> Bool) { parameters.removeAll(where: drop) }

    public mutating func append(contentsOf other: BootParameters) {
        for parameter in other.parameters { set(parameter.key, parameter.value, quoted: parameter.quoted) }
    }

    /// Characters neither PXELINUX's APPEND nor GRUB's script can carry unchanged.
    public func validated() throws(Failure) -> BootParameters {
        for parameter in parameters {
            for character in parameter.key + (parameter.value ?? "") where "\"'\\$;{}\n\r\t#".contains(character) {
                throw .unsupportedCharacter(key: parameter.key, character: character)
            }
            if parameter.key.isEmpty || parameter.key.contains(" ") { throw .unsupportedCharacter(key: parameter.key, character: " ") }
        }
        return self
    }

    /// The words as the kernel is meant to see them (PXELINUX passes its APPEND through as is).
    public var description: String { parameters.map(Self.word).joined(separator: " ") }

    /// For PXELINUX `APPEND`: the line itself.
    public var pxelinux: String { description }

    /// For a GRUB `linux` line. GRUB's script drops quotes and its loader re-quotes an argument
    /// that contains a space as a whole (`"key=a b"`), which the kernel and live-config read as
    /// `key=a b`, the same value; other words are written as they are.
    public var grub: String { description }

    static func word(_ parameter: Parameter) -> String {
        guard let value = parameter.value else { return parameter.key }
        return parameter.quoted || value.contains(" ") ? "\(parameter.key)=\"\(value)\"" : "\(parameter.key)=\(value)"
    }
}

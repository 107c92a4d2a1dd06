/// A config file with `@NAME@` placeholders (the files in `pxe-templates/`, which an operator
/// may edit). Every placeholder must have a value; a line that held only placeholders and
/// became blank is dropped (so an optional `@SERIAL@` line leaves nothing behind); lines that
/// start with `##` document the template and are not copied; `@@` is a literal `@`.
public struct Template: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownPlaceholder(template: String, name: String, line: Int)
        case unterminatedPlaceholder(template: String, line: Int)

        public var description: String {
            switch self {
            case .unknownPlaceholder(let template, let name, let line): return "\(template):\(line): unknown placeholder @\(name)@"
            case .unterminatedPlaceholder(let template, let line): return "\(template):\(line): \"@\" opens a placeholder that is not closed (write @@ for a literal @)"
            }
        }
    }

    public let name: String
    public let text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }

    public func render(_ values: [String: String]) throws(Failure) -> String {
        var output: [Substring] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("##") { continue }
            guard line.contains("@") else { output.append(line); continue }
            var rendered = ""
            var rest = line[...]
            var onlyPlaceholders = true
            while let at = rest.firstIndex(of: "@") {
                rendered += rest[..<at]
                if !rest[..<at].allSatisfy(\.isWhitespace) { onlyPlaceholders = false }
                let after = rest[rest.index(after: at)...]
                guard let close = after.firstIndex(of: "@") else { throw .unterminatedPlaceholder(template: name, line: number + 1) }
                let key = String(after[..<close])
                if key.isEmpty {
                    rendered += "@"
                    onlyPlaceholders = false
                } else {
                    guard let value = values[key] else { throw .unknownPlaceholder(template: name, name: key, line: number + 1) }
                    rendered += value
                }
                rest = after[after.index(after: close)...]
            }
            if !rest.allSatisfy(\.isWhitespace) { onlyPlaceholders = false }
            rendered += rest
            if onlyPlaceholders && rendered.allSatisfy(\.isWhitespace) { continue }
            output.append(Substring(rendered))
        }
        return output.joined(separator: "\n")
    }
}

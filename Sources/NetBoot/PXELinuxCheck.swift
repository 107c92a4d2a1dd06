/// syslinux ships no checker and skips unknown keywords at boot, so mistakes are silent: this
/// reads a generated PXELINUX config the way PXELINUX does and reports what would go wrong
/// (`../shared/docs/dhcp-tftp-pxe.md` §17).
public struct PXELinuxConfig: Equatable, Sendable {
    public struct Label: Equatable, Sendable {
        public var name: String
        public var kernel: String?
        public var append: String?
        public var isMenuDefault = false
        public var isHidden = false
    }

    public var directives: [(keyword: String, argument: String)] = []
    public var labels: [Label] = []

    public static func == (a: PXELinuxConfig, b: PXELinuxConfig) -> Bool {
        a.labels == b.labels && a.directives.map(\.keyword) == b.directives.map(\.keyword) && a.directives.map(\.argument) == b.directives.map(\.argument)
    }

    static let globalKeywords: Set<String> = ["default", "ui", "prompt", "timeout", "totaltimeout", "noescape", "allowoptions",
                                              "serial", "say", "path", "ontimeout", "onerror", "include", "display", "font",
                                              "kbdmap", "implicit", "nocomplete", "ipappend", "sysappend", "menu"]
    static let labelKeywords: Set<String> = ["kernel", "linux", "com32", "config", "localboot", "append", "initrd", "ipappend",
                                             "sysappend", "menu", "text", "boot", "pxe", "fdimage", "comboot", "bss"]

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unknownKeyword(line: Int, keyword: String)
        case serialNotFirst(line: Int)
        case duplicateLabel(String)
        case noDefault
        case defaultUnknown(String)
        case missingFile(label: String, file: String)
        case commandLineTooLong(label: String, bytes: Int)
        case unterminatedHelp

        public var description: String {
            switch self {
            case .unknownKeyword(let line, let keyword): return "line \(line): unknown keyword \"\(keyword)\" (PXELINUX would skip it)"
            case .serialNotFirst(let line): return "line \(line): SERIAL must be the first directive"
            case .duplicateLabel(let name): return "label \(name) is defined twice"
            case .noDefault: return "no DEFAULT and no MENU DEFAULT: nothing boots on timeout"
            case .defaultUnknown(let name): return "DEFAULT names \"\(name)\", which is neither a label nor a module in the tree"
            case .missingFile(let label, let file): return "label \(label): \(file) is not in the netboot tree"
            case .commandLineTooLong(let label, let bytes): return "label \(label): kernel command line of \(bytes) bytes (limit 2047)"
            case .unterminatedHelp: return "TEXT HELP without ENDTEXT"
            }
        }
    }

    /// Parses `text`; `Problem`s of syntax are thrown, the rest come from `check`.
    public init(parsing text: String) throws(Problem) {
        var inHelp = false
        var seenDirective = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = trimmed(raw)
            if inHelp {
                if line.lowercased() == "endtext" { inHelp = false }
                continue
            }
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            let keyword = parts[0].lowercased()
            let argument = parts.count > 1 ? trimmed(parts[1]) : ""
            if keyword == "serial", seenDirective { throw .serialNotFirst(line: index + 1) }
            seenDirective = true
            if keyword == "label" {
                guard !labels.contains(where: { $0.name == argument }) else { throw .duplicateLabel(argument) }
                labels.append(Label(name: argument))
                continue
            }
            if keyword == "text", argument.lowercased() == "help" { inHelp = true; continue }
            if labels.isEmpty {
                guard Self.globalKeywords.contains(keyword) else { throw .unknownKeyword(line: index + 1, keyword: keyword) }
                directives.append((keyword, argument))
                continue
            }
            guard Self.labelKeywords.contains(keyword) || Self.globalKeywords.contains(keyword) else {
                throw .unknownKeyword(line: index + 1, keyword: keyword)
            }
            switch keyword {
            case "kernel", "linux": labels[labels.count - 1].kernel = argument
            case "append": labels[labels.count - 1].append = argument
            case "menu":
                let menu = argument.lowercased()
                if menu == "default" { labels[labels.count - 1].isMenuDefault = true }
                if menu == "hide" { labels[labels.count - 1].isHidden = true }
            default: break
            }
        }
        if inHelp { throw .unterminatedHelp }
    }

    public func directive(_ keyword: String) -> String? { directives.first { $0.keyword == keyword }?.argument }

    /// The label that boots on timeout: the `MENU DEFAULT` one under a menu, else `DEFAULT`.
    public var defaultLabel: Label? {
        if let menu = labels.first(where: \.isMenuDefault) { return menu }
        return directive("default").flatMap { name in labels.first { $0.name == name } }
    }

    /// What would go wrong at boot: `exists` answers whether a file is in the netboot tree
    /// (relative to the root, modules also under `PATH`).
    public func check(exists: (String) -> Bool) -> [Problem] {
        var problems: [Problem] = []
        if let name = directive("default") {
            let path = directive("path") ?? ""
            if !labels.contains(where: { $0.name == name }) && !exists(name) && !exists(path + name) { problems.append(.defaultUnknown(name)) }
        }
        if defaultLabel == nil && labels.allSatisfy({ !$0.isMenuDefault }) && directive("default").map({ $0.hasSuffix(".c32") }) != false {
            problems.append(.noDefault)
        }
        let path = directive("path") ?? ""
        for label in labels {
            if let kernel = label.kernel, !exists(kernel), !exists(path + kernel) { problems.append(.missingFile(label: label.name, file: kernel)) }
            let append = label.append ?? ""
            for word in append.split(separator: " ") where word.hasPrefix("initrd=") {
                for file in word.dropFirst(7).split(separator: ",") where !exists(String(file)) {
                    problems.append(.missingFile(label: label.name, file: String(file)))
                }
            }
            let commandLine = "BOOT_IMAGE=\(label.kernel ?? "") " + append
            if commandLine.utf8.count > 2047 { problems.append(.commandLineTooLong(label: label.name, bytes: commandLine.utf8.count)) }
        }
        return problems
    }
}

private func trimmed(_ text: Substring) -> String {
    let blank: Set<Character> = [" ", "\t", "\r"]
    return String(text.drop(while: blank.contains).reversed().drop(while: blank.contains).reversed())
}

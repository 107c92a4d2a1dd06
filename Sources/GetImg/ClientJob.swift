/// What `ocs-client-run.conf` asks of a client, read as data (contract §5.2): the real client
/// sources the file as shell and `eval`s `ocs_sr_opt`; this parser accepts only assignments of
/// known names to plain values, and only `ocs-sr` options it knows, and refuses anything else
/// before a disk is touched.
public struct ClientJob: Equatable, Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformedLine(line: Int, text: String)
        case unknownName(line: Int, name: String)
        case unsafeValue(name: String, value: String)
        case missing(String)
        case unknownOption(String)
        case missingValue(String)
        case badValue(option: String, value: String)
        case noTask(String)

        public var description: String {
            switch self {
            case .malformedLine(let line, let text): return "ocs-client-run.conf line \(line): \"\(text)\" is not NAME=\"value\"; refusing the job"
            case .unknownName(let line, let name): return "ocs-client-run.conf line \(line): unknown name \(name); refusing the job"
            case .unsafeValue(let name, let value):
                return "ocs-client-run.conf: \(name)=\"\(value)\" holds shell syntax ($, `, \\ or quotes); it is never run, and the job is refused"
            case .missing(let name): return "ocs-client-run.conf: \(name) is missing or empty"
            case .unknownOption(let option): return "ocs_sr_opt: unknown ocs-sr option \(option); refusing the job before touching the disk"
            case .missingValue(let option): return "ocs_sr_opt: \(option) needs a value"
            case .badValue(let option, let value): return "ocs_sr_opt: \(option) \(value) is not a valid value"
            case .noTask(let text): return "ocs_sr_opt: no restore task (multicast_restoredisk, multicast_restoreparts, bt_restoredisk, bt_restoreparts) in \"\(text)\""
            }
        }
    }

    public enum Transport: String, Sendable { case multicast, bittorrent }

    public var pseudoImage: String
    public var imagePrefix: String
    public var restoreDevices: [String]
    public var transport: Transport
    /// restoredisk (whole disks) or restoreparts.
    public var wholeDisks: Bool
    public var options: ClientRestoreOptions

    public static let names = ["pseudo_img", "img_prefix", "ocs_sr_opt", "ocs_restore_dev"]

    public init(parsing text: String) throws(Failure) {
        var values: [String: String] = [:]
        // "\r\n" is one Character in Swift: split on any line break, so CRLF files read as LF ones.
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), line[..<equals].allSatisfy({ $0.isLetter || $0 == "_" }), line.startIndex != equals else {
                throw .malformedLine(line: index + 1, text: String(line))
            }
            let name = String(line[..<equals])
            guard Self.names.contains(name) else { throw .unknownName(line: index + 1, name: name) }
            var value = line[line.index(after: equals)...]
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else { throw .unsafeValue(name: name, value: String(value)) }
                value = value.dropFirst().dropLast()
            }
            guard !value.contains(where: { "$`\\\"'".contains($0) || $0.isNewline || ($0.asciiValue ?? 32) < 32 }) else {
                throw .unsafeValue(name: name, value: String(value))
            }
            values[name] = String(value)
        }
        guard let pseudoImage = values["pseudo_img"], !pseudoImage.isEmpty else { throw .missing("pseudo_img") }
        guard let options = values["ocs_sr_opt"], !options.isEmpty else { throw .missing("ocs_sr_opt") }
        guard !pseudoImage.contains("/"), pseudoImage != "..", pseudoImage != "." else { throw .unsafeValue(name: "pseudo_img", value: pseudoImage) }
        self.pseudoImage = pseudoImage
        // The real client's default for an empty prefix.
        imagePrefix = values["img_prefix"].flatMap { $0.isEmpty ? nil : $0 } ?? "ocs-img"
        guard !imagePrefix.contains("/"), imagePrefix != "..", imagePrefix != "." else { throw .unsafeValue(name: "img_prefix", value: imagePrefix) }
        restoreDevices = (values["ocs_restore_dev"] ?? "").split(separator: " ").map { $0.hasPrefix("/dev/") ? String($0.dropFirst(5)) : String($0) }
        let parsed = try ClientRestoreOptions.parse(options.split(separator: " ").map(String.init))
        self.options = parsed.options
        transport = parsed.task.hasPrefix("bt_") ? .bittorrent : .multicast
        wholeDisks = parsed.task.hasSuffix("restoredisk")
    }
}

/// `ocs-client-run.conf` (contract §3.2): exactly four `NAME="value"` lines that the real client
/// sources as shell, so every value is checked to be plain data before it is written.
public struct ClientRunConf: Equatable, Sendable {
    public static let pseudoImage = "img-wo-fs.tar.xz"
    /// What `ocs_sr_opt` starts with in 5.3.17 (the job's own `--batch`).
    public static let optionPrefix = "--ocsroot /tmp/ -l en_US.UTF-8 --batch"

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unsafe(name: String, value: String)
        case malformed(line: Int, text: String)

        public var description: String {
            switch self {
            case .unsafe(let name, let value): return "ocs-client-run.conf: \(name)=\"\(value)\" holds characters a client shell would interpret"
            case .malformed(let line, let text): return "ocs-client-run.conf line \(line): \"\(text)\" is not NAME=\"value\" in the expected order"
            }
        }
    }

    public var pseudoImage = ClientRunConf.pseudoImage
    public var imagePrefix: String
    public var ocsSrOptions: String
    public var restoreDevices: String

    public init(imagePrefix: String, ocsSrOptions: String, restoreDevices: String) {
        self.imagePrefix = imagePrefix
        self.ocsSrOptions = ocsSrOptions
        self.restoreDevices = restoreDevices
    }

    static let names = ["pseudo_img", "img_prefix", "ocs_sr_opt", "ocs_restore_dev"]
    static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-=:,+ ")

    var values: [String] { [pseudoImage, imagePrefix, ocsSrOptions, restoreDevices] }

    /// The file, byte for byte as 5.3.17 writes it.
    public func rendered() throws(Failure) -> String {
        for (name, value) in zip(Self.names, values) where !value.allSatisfy(Self.safe.contains) {
            throw .unsafe(name: name, value: value)
        }
        return zip(Self.names, values).map { "\($0)=\"\($1)\"\n" }.joined()
    }

    /// Reads a conf as data (never as shell): the four names in order, double-quoted values of
    /// safe characters only.
    public init(parsing text: String) throws(Failure) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        var values: [String] = []
        for (index, line) in lines.enumerated() {
            guard index < Self.names.count, line.hasPrefix(Self.names[index] + "=\""), line.hasSuffix("\""),
                  line.count >= Self.names[index].count + 3 else { throw .malformed(line: index + 1, text: String(line)) }
            let value = String(line.dropFirst(Self.names[index].count + 2).dropLast())
            guard value.allSatisfy(Self.safe.contains) else { throw .unsafe(name: Self.names[index], value: value) }
            values.append(value)
        }
        guard values.count == 4 else { throw .malformed(line: values.count + 1, text: "(missing)") }
        pseudoImage = values[0]
        imagePrefix = values[1]
        ocsSrOptions = values[2]
        restoreDevices = values[3]
    }
}

import Foundation

/// A partition table as `sfdisk -d` dumps it (`<disk>-pt.sf`), the form Clonezilla restores from.
/// Parsed strictly so a damaged dump is refused before anything is written; the restore feeds
/// sfdisk the original text (minus `last-lba`), so no detail of it is lost in translation.
public struct SfdiskDump: Equatable, Sendable {
    public enum Label: String, Sendable { case dos, gpt }

    public struct Partition: Equatable, Sendable {
        public var device: String
        public var number: Int
        public var start: UInt64
        public var size: UInt64
        public var type: String
        public var uuid: String?
        public var name: String?
        public var attributes: String?
        public var bootable: Bool

        public var end: UInt64 { start + size }

        /// MBR extended containers hold logical partitions and are not restored themselves.
        public var isExtendedContainer: Bool {
            ["5", "f", "85"].contains(type.lowercased().trimmingLeadingZeros)
        }
    }

    public var label: Label
    public var labelID: String?
    public var device: String?
    public var sectorSize: Int
    public var firstLBA: UInt64?
    public var lastLBA: UInt64?
    public var partitions: [Partition]
    public let text: String

    public func partition(number: Int) -> Partition? { partitions.first { $0.number == number } }

    /// Sectors the target disk needs: up to the end of the last partition, plus the backup
    /// GPT (33 sectors with 128 entries) behind it.
    public var requiredSectors: UInt64 {
        let end = partitions.map(\.end).max() ?? 0
        return label == .gpt ? end + 33 : end
    }

    /// The dump to feed `sfdisk` on restore: without `last-lba`, so a GPT fits a larger disk and
    /// its backup header lands at the target's real end (what Clonezilla does).
    public var textForRestore: String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("last-lba:") }
            .joined(separator: "\n")
    }

    public static func parse(_ text: String, file: String) throws(ImageError) -> SfdiskDump {
        var label: Label?
        var labelID: String?, device: String?
        var sectorSize = 512
        var firstLBA: UInt64?, lastLBA: UInt64?
        var partitions: [Partition] = []

        func fail(_ line: Int, _ reason: String) -> ImageError { .malformed(file: file, line: line, reason: reason) }

        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = index + 1
            let line = rawLine.trimmed(" \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            if let colon = line.firstIndex(of: ":"), !line.hasPrefix("/"), !line[..<colon].contains(" ") {
                let key = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmed(" \t")
                switch key {
                case "label":
                    guard let l = Label(rawValue: value) else { throw fail(lineNo, "unsupported label type \"\(value)\" (dos or gpt)") }
                    label = l
                case "label-id": labelID = value
                case "device": device = value
                case "unit":
                    guard value == "sectors" else { throw fail(lineNo, "unit must be sectors, not \"\(value)\"") }
                case "first-lba":
                    guard let v = UInt64(value) else { throw fail(lineNo, "first-lba \"\(value)\" is not a number") }
                    firstLBA = v
                case "last-lba":
                    guard let v = UInt64(value) else { throw fail(lineNo, "last-lba \"\(value)\" is not a number") }
                    lastLBA = v
                case "sector-size":
                    guard let v = Int(value), [512, 1024, 2048, 4096].contains(v) else {
                        throw fail(lineNo, "sector-size \"\(value)\" is not 512, 1024, 2048 or 4096")
                    }
                    sectorSize = v
                case "table-length", "grain":
                    continue
                default:
                    throw fail(lineNo, "unknown header \"\(key)\"")
                }
                continue
            }
            guard let part = try parsePartition(line, lineNo: lineNo, file: file) else { continue }
            guard !partitions.contains(where: { $0.number == part.number }) else {
                throw fail(lineNo, "partition number \(part.number) appears twice")
            }
            partitions.append(part)
        }
        let dump = SfdiskDump(label: label ?? .dos, labelID: labelID, device: device, sectorSize: sectorSize,
                              firstLBA: firstLBA, lastLBA: lastLBA, partitions: partitions, text: text)
        try dump.validate(file: file)
        return dump
    }

    private func validate(file: String) throws(ImageError) {
        guard !partitions.isEmpty else { throw .malformed(file: file, line: 0, reason: "no partitions") }
        for p in partitions {
            if label == .gpt, let first = firstLBA, p.start < first {
                throw .malformed(file: file, line: 0, reason: "\(p.device) starts at \(p.start), before first-lba \(first)")
            }
            if label == .dos && p.number > 4 {
                let inside = partitions.contains { $0.isExtendedContainer && $0.start < p.start && p.end <= $0.end }
                guard inside else { throw .malformed(file: file, line: 0, reason: "logical partition \(p.device) lies outside any extended partition") }
            }
        }
        let primaries = partitions.filter { !(label == .dos && $0.number > 4) }.sorted { $0.start < $1.start }
        for (a, b) in zip(primaries, primaries.dropFirst()) where a.end > b.start {
            throw .malformed(file: file, line: 0, reason: "\(a.device) and \(b.device) overlap")
        }
    }

    /// One `/dev/sdaN : key=value, …` line; nil for the empty slots old dumps list (size 0).
    private static func parsePartition(_ line: String, lineNo: Int, file: String) throws(ImageError) -> Partition? {
        func fail(_ reason: String) -> ImageError { .malformed(file: file, line: lineNo, reason: reason) }
        guard let sep = line.range(of: " : ") ?? line.range(of: ":") else { throw fail("expected \"<device> : <fields>\"") }
        let device = line[..<sep.lowerBound].trimmed(" \t")
        guard let number = DeviceNames.trailingNumber(device), number > 0, number <= 256 else {
            throw fail("cannot take a partition number from \"\(device)\"")
        }
        var start: UInt64?, size: UInt64?
        var part = Partition(device: device, number: number, start: 0, size: 0, type: "", uuid: nil, name: nil,
                             attributes: nil, bootable: false)
        for item in try splitFields(String(line[sep.upperBound...]), fail: fail) {
            guard let eq = item.firstIndex(of: "=") else {
                guard item == "bootable" else { throw fail("unknown flag \"\(item)\"") }
                part.bootable = true
                continue
            }
            let key = item[..<eq].trimmed(" \t")
            var value = item[item.index(after: eq)...].trimmed(" \t")
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            switch key {
            case "start":
                guard let v = UInt64(value) else { throw fail("start \"\(value)\" is not a number") }
                start = v
            case "size":
                guard let v = UInt64(value) else { throw fail("size \"\(value)\" is not a number") }
                size = v
            case "type", "Id":
                guard !value.isEmpty, value.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { throw fail("bad partition type \"\(value)\"") }
                part.type = value
            case "uuid": part.uuid = value
            case "name": part.name = value
            case "attrs": part.attributes = value
            default: throw fail("unknown field \"\(key)\"")
            }
        }
        guard let start, let size else { throw fail("start and size are required") }
        if size == 0 { return nil }
        guard !part.type.isEmpty else { throw fail("type is required") }
        guard start.addingReportingOverflow(size).overflow == false, start + size < 1 << 48 else {
            throw fail("start + size is out of range")
        }
        part.start = start
        part.size = size
        return part
    }

    /// Splits on commas outside double quotes (a GPT name may contain commas).
    private static func splitFields(_ text: String, fail: (String) -> ImageError) throws(ImageError) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        for ch in text {
            if ch == "\"" { quoted.toggle() }
            if ch == "," && !quoted {
                fields.append(current.trimmed(" \t"))
                current = ""
            } else {
                current.append(ch)
            }
        }
        guard !quoted else { throw fail("unterminated quote") }
        let last = current.trimmed(" \t")
        if !last.isEmpty { fields.append(last) }
        return fields
    }
}

extension StringProtocol {
    /// Trims the given characters from both ends without Foundation.
    func trimmed(_ set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }

    var trimmingLeadingZeros: String {
        let trimmed = drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}

import Feeder
import Foundation
import NIOConcurrencyHelpers

/// Where reports are kept: `clonezilla-jobs.log` (the line operators and the real harness
/// grep, as ocsmgrd writes it but with the whole message) and `jobs.jsonl` (one JSON record per
/// report, for tools). Appends are serialized; a failed write is said on the service log.
public final class JobJournal: @unchecked Sendable {
    struct Record: Encodable {
        var time: String
        var peer: String
        var claimedAddress: String
        var claimedMAC: String
        var efiFields: [String]
        var outcome: String
        var message: String
        var partitions: [[String: String]]
    }

    public let directory: String
    private let log: @Sendable (String) -> Void
    private let lock = NIOLock()

    public init(directory: String, log: @escaping @Sendable (String) -> Void) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.log = log
    }

    public var jobLog: String { directory + "/clonezilla-jobs.log" }
    public var records: String { directory + "/jobs.jsonl" }

    /// `<YYYY-MMDD-HHMM>, Start clonezilla logging.` as ocsmgrd begins its log.
    public func begin() { append("\(Self.stamp()), Start clonezilla logging.\n", to: jobLog) }

    public func record(_ report: JobReport, peer: String) {
        append(report.jobLogLine(stamp: Self.stamp(), peer: peer) + "\n", to: jobLog)
        let record = Record(time: ISO8601DateFormatter().string(from: Date()), peer: peer, claimedAddress: report.claimedAddress,
                            claimedMAC: report.claimedMAC, efiFields: report.efiFields, outcome: report.outcome.rawValue,
                            message: report.message,
                            partitions: report.entries.map { ["device": $0.device, "status": $0.status, "details": $0.details.joined(separator: ", ")] })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(record) { append(String(decoding: data, as: UTF8.self) + "\n", to: records) }
        log("report: \(peer): \(report.outcome.rawValue): \(report.message.isEmpty ? "N/A" : report.message)")
    }

    private func append(_ text: String, to path: String) {
        lock.withLock {
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: path) else { return log("report: cannot write \(path)") }
            defer { try? handle.close() }
            do {
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(text.utf8))
            } catch {
                log("report: cannot write \(path): \(error)")
            }
        }
    }

    /// ocsmgrd's `YYYY-MMDD-HHMM` in local time.
    static func stamp(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MMdd-HHmm"
        return formatter.string(from: date)
    }
}

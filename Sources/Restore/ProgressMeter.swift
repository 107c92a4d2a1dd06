import Foundation

/// Per-partition progress: a live line (bytes, rate, ETA) on a terminal, and only a start and
/// an end line in batch mode or when stderr is not a terminal.
public final class ProgressMeter: @unchecked Sendable {
    private let name: String
    private let total: UInt64?
    private let live: Bool
    private let started = ProgressMeter.now()
    private var lastDraw = 0.0
    public private(set) var bytes: UInt64 = 0

    public init(name: String, totalBytes: UInt64?, live: Bool) {
        self.name = name
        total = totalBytes
        self.live = live
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    public var elapsed: Double { ProgressMeter.now() - started }

    func advance(by count: Int) {
        bytes += UInt64(count)
        guard live else { return }
        let now = ProgressMeter.now()
        if now - lastDraw >= 0.25 {
            lastDraw = now
            draw(now: now)
        }
    }

    private func draw(now: Double) {
        let seconds = max(now - started, 0.001)
        let rate = Double(bytes) / seconds
        var line = "\r\(name): \(Self.size(bytes))"
        if let total, total > 0 {
            let percent = min(100, Double(bytes) * 100 / Double(total))
            let eta = rate > 0 ? Double(total - min(bytes, total)) / rate : 0
            line += " / \(Self.size(total)) \(String(format: "%5.1f%%", percent)) \(Self.rate(rate)) ETA \(Self.duration(eta))"
        } else {
            line += " \(Self.rate(rate))"
        }
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    /// Ends the live line and returns the summary for the log.
    public func finishSummary() -> String {
        let seconds = max(elapsed, 0.001)
        if live { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        return "\(name): \(Self.size(bytes)) in \(String(format: "%.2f", seconds)) s (\(Self.rate(Double(bytes) / seconds)))"
    }

    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f ", value) + units[unit]
    }

    static func rate(_ bytesPerSecond: Double) -> String { String(format: "%.1f MB/s", bytesPerSecond / 1e6) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

import Foundation

/// `start` without `--foreground`: the same command line runs again as a session leader with
/// its output in the log, and `start` returns once that daemon says every service listens
/// (status 0) or has stopped (status 1 with its last log lines). The image checks run in the
/// daemon, so they bound the wait.
enum Launcher {
    static func detach(arguments: [String], configuration: FeederConfiguration) -> Never {
        try? FileManager.default.createDirectory(atPath: configuration.logs, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: configuration.ready)
        let logFile = configuration.logFile
        // Appended to, never truncated: the log of a feeder that died is what the admin reads next.
        if !FileManager.default.fileExists(atPath: logFile) { _ = FileManager.default.createFile(atPath: logFile, contents: nil) }
        let logHandle = FileHandle(forWritingAtPath: logFile)
        let startOffset = (try? logHandle?.seekToEnd()) ?? 0
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = [URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path, "--foreground"] + arguments
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        do { try process.run() } catch { fail("ocs-live-feed-img: cannot start the daemon: \(error)") }
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: configuration.ready) {
                say("ocs-live-feed-img: started (pid \(process.processIdentifier)); log \(logFile)")
                exit(0)
            }
            if !process.isRunning {
                // Only what this daemon wrote: the log holds earlier runs too.
                let reader = FileHandle(forReadingAtPath: logFile)
                _ = try? reader?.seek(toOffset: startOffset)
                let this = (try? reader?.readToEnd()).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? ""
                let tail = this.split(separator: "\n").suffix(5).joined(separator: "\n")
                fail("ocs-live-feed-img: the daemon stopped while starting:\n\(tail)")
            }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGTERM)
        fail("ocs-live-feed-img: the daemon did not get ready within 600 s; see \(logFile)")
    }
}

import Feeder
import FeederNIO
import Foundation
import NetBoot
import NetBootNIO

/// Paths and netboot settings: the command line, else the conf file (`--config FILE`, else
/// /etc/liteserver/feeder.conf when present; the keys of conf/feeder.conf), else built-in defaults.
struct FeederConfiguration {
    static let defaultFile = "/etc/liteserver/feeder.conf"
    static let ownKeys: Set<String> = ["image_root", "state_dir", "log_dir", "retries_until_drop"]

    var imageRoot = "/home/partimag"
    var state = "/run/liteserver"
    var logs = "/var/log/liteserver"
    var menu = MenuSettings()
    var retriesUntilDrop = MulticastChain.Settings.defaultRetriesUntilDrop

    var lock: String { state + "/feeder.pid" }
    var ready: String { state + "/ready" }
    var www: String { state + "/www" }
    var statusFile: String { state + "/status.json" }
    var logFile: String { logs + "/ocs-live-feed-img.log" }

    init(_ invocation: FeederInvocation) throws(MenuSettings.Failure) {
        let path = invocation.configFile ?? (FileManager.default.fileExists(atPath: Self.defaultFile) ? Self.defaultFile : nil)
        if let path {
            let file = try MenuSettings.load(path, extraKeys: Self.ownKeys)
            menu = MenuSettings(file: file)
            imageRoot = file["image_root"] ?? imageRoot
            state = file["state_dir"] ?? state
            logs = file["log_dir"] ?? logs
            if let text = file["retries_until_drop"] {
                guard let rounds = Int(text), rounds >= 1 else {
                    throw .invalid("\(path): retries_until_drop = \(text): expected a whole number of rounds ≥ 1")
                }
                retriesUntilDrop = rounds
            }
        }
        imageRoot = invocation.imageRoot ?? imageRoot
        state = invocation.stateDirectory ?? state
        logs = invocation.logDirectory ?? logs
        menu.tftpRoot = invocation.tftpRoot ?? menu.tftpRoot
        menu.liveMedia = invocation.liveMedia ?? menu.liveMedia
        // -lscm decides what the netbooted clients run: the job, or Clonezilla's own menus.
        if let mode = invocation.clientMode { menu.purpose = mode.rawValue }
    }

    /// The pid the lock names, alive or not.
    private var lockedPID: Int32? {
        guard let text = try? String(contentsOfFile: lock, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return nil }
        return pid
    }

    /// The pid of the running feeder, if its lock names a live one.
    func runningPID() -> Int32? { lockedPID.flatMap { Self.isFeeder($0) ? $0 : nil } }

    /// A live feeder: not a zombie (a killed daemon waits for its reaper a while) and running
    /// this program (a stale lock's pid may have been reused by another process).
    static func isFeeder(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")"),
           let state = stat[close...].dropFirst(2).first, state == "Z" || state == "X" {
            return false
        }
        if let theirs = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
           let ours = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
           (theirs.replacingOccurrences(of: " (deleted)", with: "") as NSString).lastPathComponent != (ours as NSString).lastPathComponent {
            return false
        }
        return true
    }
}

extension FeederConfiguration {
    var netbootTreeExists: Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: menu.tftpRoot + "/pxelinux.cfg") || fm.fileExists(atPath: menu.tftpRoot + "/grub")
    }

    /// Withdraws the job (B12), the per-client boot files and the daemon's state files. The
    /// daemon does this when it stops; `stop` and `start` do it for a feeder that died without
    /// (SIGKILL, power cut), so no client keeps finding a job or a local-boot file of it.
    func withdrawPublished(log: (String) -> Void) {
        if netbootTreeExists {
            let removed = NetbootTree(root: menu.tftpRoot).removePerClientFiles()
            if removed > 0 { log("netboot: \(removed) per-client boot file(s) removed") }
        }
        let fm = FileManager.default
        for name in ["ocs-client-run.conf", ClientRunConf.pseudoImage, LiveBootEntry.squashfs] { try? fm.removeItem(atPath: www + "/" + name) }
        for path in [state + "/btzone", state + "/from-device", ready, statusFile] { try? fm.removeItem(atPath: path) }
    }

    /// A feeder that died without stopping (its lock names a process that is gone): withdraws
    /// what it published and drops its lock, once, and returns its pid.
    func clearDeadFeeder(log: (String) -> Void) -> Int32? {
        guard let dead = lockedPID, !Self.isFeeder(dead) else { return nil }
        withdrawPublished(log: log)
        try? FileManager.default.removeItem(atPath: lock)
        return dead
    }
}

import Feeder
import Foundation
import NetBoot
import NetBootNIO

/// Paths and netboot settings: the command line, else the conf file (`--config FILE`, else
/// /etc/liteserver/feeder.conf when present; the keys of conf/feeder.conf), else built-in defaults.
struct FeederConfiguration {
    static let defaultFile = "/etc/liteserver/feeder.conf"
    static let ownKeys: Set<String> = ["image_root", "state_dir", "log_dir"]

    var imageRoot = "/home/partimag"
    var state = "/run/liteserver"
    var logs = "/var/log/liteserver"
    var menu = MenuSettings()

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
        }
        imageRoot = invocation.imageRoot ?? imageRoot
        state = invocation.stateDirectory ?? state
        logs = invocation.logDirectory ?? logs
        menu.tftpRoot = invocation.tftpRoot ?? menu.tftpRoot
        menu.liveMedia = invocation.liveMedia ?? menu.liveMedia
        // -lscm decides what the netbooted clients run: the job, or Clonezilla's own menus.
        if let mode = invocation.clientMode { menu.purpose = mode.rawValue }
    }

    /// The pid of the running feeder, if its lock names a live process.
    func runningPID() -> Int32? {
        guard let text = try? String(contentsOfFile: lock, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0 else { return nil }
        return pid
    }
}

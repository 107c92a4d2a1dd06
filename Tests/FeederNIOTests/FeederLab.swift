import Foundation
import Testing
import TestSupport

/// The set-up every feeder interop test shares: a namespace LAN, a work directory with a copy
/// of the GPT fixture as `root/cz-gpt`, and the feeder command run in the server namespace with
/// its image root, state and logs in that directory. `close()` stops the feeder, removes the
/// LAN and the directory.
final class FeederLab {
    static let feeder = TestEnv.tool("ocs-live-feed-img")

    let lan: NetnsLAN
    let work: String
    /// Options every command gets (e.g. `--tftp-root`).
    var common = ""

    /// Nil (after saying why) when not root, a tool is missing, or the LAN cannot be made.
    static func make(clients: Int, tag: String, needs tools: [String] = [], directories: [String] = []) -> FeederLab? {
        guard TestEnv.isRoot else {
            print("skipped: needs root (network namespaces)")
            return nil
        }
        if let missing = tools.first(where: { TestEnv.which($0) == nil }) {
            print("skipped: \(missing) is not installed")
            return nil
        }
        guard let lan = NetnsLAN.make(clients: clients, tag: tag) else { return nil }
        let work = TestEnv.scratch("feeder-" + tag)
        for directory in ["root"] + directories {
            try! FileManager.default.createDirectory(atPath: work + "/" + directory, withIntermediateDirectories: true)
        }
        TestEnv.copyImage(TestEnv.fixture("cz-gpt/image"), to: work + "/root/cz-gpt")
        return FeederLab(lan: lan, work: work)
    }

    init(lan: NetnsLAN, work: String) {
        self.lan = lan
        self.work = work
    }

    @discardableResult
    func feed(_ arguments: String) -> (status: Int32, stdout: String, stderr: String) {
        lan.shell("srv", "\(Self.feeder) -mp \(work)/root --state-dir \(work)/state --log-dir \(work)/logs \(common) \(arguments)")
    }

    var server: String { lan.address("srv") }

    /// No process of this lab's feeder is left (found by its state directory: suites run in
    /// parallel, each with its own feeder).
    var daemonGone: Bool { lan.shell("srv", "pgrep -f -- '[-]-state-dir \(work)/state'").status != 0 }

    var log: String { TestEnv.text(work + "/logs/ocs-live-feed-img.log") }

    func close() {
        feed("stop")
        lan.down()
        if ProcessInfo.processInfo.environment["LITESERVER_KEEP"] == nil { TestEnv.cleanup(work) } else { print("kept \(work)") }
    }
}

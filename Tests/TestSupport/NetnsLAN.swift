import Foundation

/// A throw-away LAN of network namespaces (scripts/netns-lan.sh): a server `srv` at .1 and
/// clients `c1…cN` at .11…, on a bridge that floods multicast. Created per test, always torn
/// down; processes started in it are tracked and ended by PID.
public final class NetnsLAN {
    public let prefix: String
    public let net: String
    private var processes: [Process] = []

    static var script: String { TestEnv.packageRoot + "/scripts/netns-lan.sh" }

    /// nil (with the reason printed) when this machine cannot host namespaces.
    public static func make(clients: Int, tag: String) -> NetnsLAN? {
        guard TestEnv.isRoot, TestEnv.which("ip") != nil else {
            print("skipped: network namespaces need root and iproute2")
            return nil
        }
        let id = Int.random(in: 10...250)
        let lan = NetnsLAN(prefix: "ls\(tag)\(id)-", net: "10.79.\(id)")
        TestEnv.run("/bin/bash", [script, "down", lan.prefix])
        let up = TestEnv.run("/bin/bash", [script, "up", lan.prefix, lan.net, String(clients)])
        guard up.status == 0 else {
            print("skipped: could not build the namespace LAN: \(up.stderr)")
            lan.down()
            return nil
        }
        return lan
    }

    init(prefix: String, net: String) {
        self.prefix = prefix
        self.net = net
    }

    public func address(_ host: String) -> String { host == "srv" ? "\(net).1" : "\(net).\(10 + Int(host.dropFirst())!)" }

    /// Starts `command` in `host`'s namespace with stdin from /dev/null; output goes to `log`.
    @discardableResult
    public func start(_ host: String, _ command: [String], log: String) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") { process.executableURL = URL(fileURLWithPath: "/sbin/ip") }
        process.arguments = ["netns", "exec", prefix + host] + command
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try! process.run()
        processes.append(process)
        return process
    }

    /// Waits for `process` at most `seconds`; kills it (by PID) when it overstays.
    @discardableResult
    public func wait(_ process: Process, seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    public func shell(_ host: String, _ script: String) -> (status: Int32, stdout: String, stderr: String) {
        TestEnv.run("ip", ["netns", "exec", prefix + host, "/bin/bash", "-c", script])
    }

    /// Drops that share of the data datagrams the switch forwards to `host`; false when the
    /// rule could not be made.
    @discardableResult
    public func loss(_ host: String, perMille: Int) -> Bool {
        TestEnv.run("/bin/bash", [Self.script, "loss", prefix, host, String(perMille)]).status == 0
    }

    /// Datagrams the loss rule for `host` has dropped so far.
    public func dropped(_ host: String) -> Int {
        let listing = TestEnv.run("ip", ["netns", "exec", prefix + "sw", "nft", "list", "table", "bridge", "lsloss_\(host)"]).stdout
        guard let range = listing.range(of: "counter packets ") else { return 0 }
        return Int(listing[range.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    public func down() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        processes = []
        TestEnv.run("/bin/bash", [Self.script, "down", prefix])
    }
}

import Foundation
import TestSupport

/// A namespace LAN for the netboot tests: `srv` (.1) runs ocs-netboot on `lsnet0`; clients are
/// stripped of their address so that they must ask DHCP; `c1` can play the site's DHCP server.
/// Everything it starts is ended by PID; the namespaces are removed by `down`.
final class PXELab {
    let lan: NetnsLAN
    let work: String
    let tftpRoot: String
    private var servers: [(process: Process, log: String)] = []
    private var helpers: [Process] = []

    static let tool = TestEnv.tool("ocs-netboot")

    /// nil (reason printed) without root, namespaces or one of `tools`.
    static func make(clients: Int, tag: String, tools: [String]) -> PXELab? {
        for tool in tools where TestEnv.which(tool) == nil {
            print("skipped: \(tool) is not installed")
            return nil
        }
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            print("skipped: \(tool) is not built")
            return nil
        }
        guard let lan = NetnsLAN.make(clients: clients, tag: tag) else { return nil }
        return PXELab(lan: lan)
    }

    private init(lan: NetnsLAN) {
        self.lan = lan
        work = TestEnv.scratch("pxe")
        tftpRoot = work + "/tftp"
        try! FileManager.default.createDirectory(atPath: tftpRoot, withIntermediateDirectories: true)
    }

    var server: String { lan.address("srv") }
    var net: String { lan.net }

    /// Removes the client's address: it has to get one by DHCP.
    func bare(_ host: String) {
        _ = lan.shell(host, "ip addr flush dev lsnet0")
    }

    /// Starts `ocs-netboot ARGS` in the server namespace; returns its log path once it is ready.
    @discardableResult
    func startServer(_ arguments: [String], host: String = "srv", name: String = "server", readyWithin: Double = 20) -> String? {
        let log = work + "/\(name).log"
        let process = lan.start(host, [Self.tool] + arguments, log: log)
        servers.append((process, log))
        guard waitFor(log, contains: "ready (pid", seconds: readyWithin) else {
            print("server did not start:\n" + read(log))
            return nil
        }
        return log
    }

    /// Starts dnsmasq in `host` with `config` lines (foreground, own lease file, no DNS).
    @discardableResult
    func startDnsmasq(_ host: String, name: String, config: [String]) -> String {
        let conf = work + "/\(name).conf", log = work + "/\(name).log"
        let lines = ["port=0", "interface=lsnet0", "bind-interfaces", "log-dhcp", "dhcp-leasefile=\(work)/\(name).leases",
                     "log-facility=\(log)"] + config
        try! lines.joined(separator: "\n").appending("\n").write(toFile: conf, atomically: true, encoding: .utf8)
        // dnsmasq closes every inherited descriptor at start, which Foundation's Process takes
        // for an exit (and then blocks in waitpid): a shell holds them and forwards SIGTERM.
        let process = lan.start(host, ["/bin/sh", "-c", "dnsmasq --keep-in-foreground --conf-file=\(conf) --pid-file= & pid=$!; trap 'kill $pid' TERM; wait $pid"],
                  log: work + "/\(name).out")
        helpers.append(process)
        _ = waitFor(log, contains: "started", seconds: 10)
        return log
    }

    func stopHelpers() {
        for process in helpers where process.isRunning {
            process.terminate()
            lan.wait(process, seconds: 5)
        }
        helpers = []
    }

    func stopServers() {
        for server in servers where server.process.isRunning {
            server.process.terminate()
            lan.wait(server.process, seconds: 5)
        }
        servers = []
    }

    /// The file as text; bytes that are not UTF-8 (firmware consoles print some) become U+FFFD.
    func read(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Polls `path` until it contains `text` (at most `seconds`).
    func waitFor(_ path: String, contains text: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if read(path).contains(text) { return true }
            usleep(50_000)
        } while Date() < deadline
        return false
    }

    /// Runs busybox udhcpc in `host` (`-f -q -n` plus `arguments`) with a hook that records what
    /// it received (`ip`, `serverid`, `siaddr`, `boot_file`, options 66/67 as `tftp`/`bootfile`,
    /// `subnet`, `router`) and, when `configure`, puts the address on the interface.
    func udhcpc(_ host: String, _ arguments: String, configure: Bool = false, seconds: Int = 30) -> (status: Int32, output: String, env: String) {
        let hook = work + "/udhcpc-hook-\(host).sh", env = work + "/udhcpc-env-\(host).txt"
        let script = """
            #!/bin/sh
            { echo event=$1; env | grep -E '^(ip|siaddr|boot_file|tftp|bootfile|serverid|subnet|router)=' | sort; } >> \(env)
            \(configure ? "[ \"$1\" = bound ] && ip addr add $ip/24 dev $interface" : "")
            exit 0

            """
        try! script.write(toFile: hook, atomically: true, encoding: .utf8)
        chmod(hook, 0o755)
        let run = lan.shell(host, "timeout \(seconds) busybox udhcpc -i lsnet0 -f -q -n -s \(hook) \(arguments) 2>&1")
        return (run.status, run.stdout + run.stderr, read(env))
    }

    func file(_ relative: String, bytes: Int) {
        let path = tftpRoot + "/" + relative
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        TestEnv.shell("head -c \(bytes) /dev/urandom > '\(path)'")
    }

    func down() {
        stopServers()
        stopHelpers()
        lan.down()
        TestEnv.cleanup(work)
    }
}

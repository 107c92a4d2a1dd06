import ClonezillaImage
import Feeder
import FeederNIO
import Foundation
import NIOPosix
import NetBootNIO
import NetworkNIO

/// `ocs-live-feed-img [OPTION]... start|stop [IMAGE] [DEVICE]...` — the Lite Server feeder.
/// This build serves massive deployment by multicast or broadcast with `-dm no-dhcpd`: the job
/// over HTTP, the udpcast streams, the job reports; `start` leaves a daemon, `stop` ends it.

@Sendable func say(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

struct Paths {
    var imageRoot: String
    var state: String
    var logs: String
    var lock: String { state + "/feeder.pid" }
    var ready: String { state + "/ready" }
    var www: String { state + "/www" }
}

func livePID(_ paths: Paths) -> Int32? {
    guard let text = try? String(contentsOfFile: paths.lock, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
          pid > 0, kill(pid, 0) == 0 else { return nil }
    return pid
}

func fail(_ message: String, _ code: Int32 = 1) -> Never {
    say(message)
    exit(code)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") || arguments.isEmpty {
    print("""
        Usage: ocs-live-feed-img [OPTION]... start|stop [IMAGE] [DEVICE]...
        Publishes a Clonezilla image to a lab (Clonezilla Lite Server compatible).
          -md multicast|broadcast|bittorrent   transport (this build: multicast, broadcast)
          -dm no-dhcpd|start-new-dhcpd|use-existing-dhcpd|auto-detect   (this build: no-dhcpd)
          -cbm local-boot-media|netboot|both   --time-to-wait S  --clients-to-wait N  --max-time-to-wait S
          -mcast-iface IFACE  -mp IMAGE_ROOT  -x  -brdcst  -sc0  -cm  -cs  -b  -v  and the ocs-sr options
          --state-dir DIR (/run/liteserver)  --log-dir DIR (/var/log/liteserver)  --foreground
        Options come before start/stop; see the README for the whole table.
        """)
    exit(arguments.isEmpty ? 2 : 0)
}

let invocation: FeederInvocation
do { invocation = try FeederCommandLine.parse(arguments) } catch { fail(error.description, error.exitCode) }
for warning in invocation.warnings { say("ocs-live-feed-img: warning: \(warning)") }
let paths = Paths(imageRoot: invocation.imageRoot ?? "/home/partimag", state: invocation.stateDirectory ?? "/run/liteserver",
                  logs: invocation.logDirectory ?? "/var/log/liteserver")

switch invocation.mode {
case .stop:
    guard let pid = livePID(paths) else {
        try? FileManager.default.removeItem(atPath: paths.lock)
        say("OCS is not running!")
        exit(0)
    }
    kill(pid, SIGTERM)
    for _ in 0..<300 where kill(pid, 0) == 0 { usleep(100_000) }
    if kill(pid, 0) == 0 { fail("ocs-live-feed-img: the feeder (pid \(pid)) did not stop within 30 s") }
    say("ocs-live-feed-img: stopped (pid \(pid))")
    exit(0)
case .status, .startNow:
    fail("ocs-live-feed-img: \(invocation.mode.rawValue) is not available in this build yet", 2)
case .start:
    break
}

// start: everything is checked before anything is started.
let job: FeederJob
do { job = try FeederJob(invocation) } catch { fail(error.description, error.exitCode) }
guard job.transport != .bittorrent else { fail("ocs-live-feed-img: -md bittorrent is not available in this build yet (use ocs-bt seed)") }
guard job.dhcpMode == "no-dhcpd" else { fail("ocs-live-feed-img: -dm \(job.dhcpMode) is not wired into the feeder yet; run ocs-netboot serve beside it and use -dm no-dhcpd") }
if let pid = livePID(paths) { fail("ocs-live-feed-img: already running (pid \(pid)); stop it first") }
let interface: NetworkInterface
do { interface = try NetworkInterface.resolve(invocation.interface) } catch { fail("No network card was assigned for sending packets. (\(error))") }
let imageName = invocation.source!
let imagePath = paths.imageRoot + "/" + imageName
let image: ImageDirectory
do { image = try ImageDirectory.load(imagePath) } catch {
    fail("The directory for this inputted image name does NOT exist or is not a Clonezilla image: \(imagePath) (\(error))")
}
do {
    if invocation.checkMD5 { try image.verifyChecksums(.md5) }
    if invocation.checkSHA1 { try image.verifyChecksums(.sha1) }
} catch { fail("ocs-live-feed-img: image check failed: \(error)") }
let plan: StreamPlan
do { plan = try StreamPlan(image: image, destinations: invocation.destinations, restoreDisk: job.task.hasSuffix("restoredisk")) } catch {
    fail("ocs-live-feed-img: \(error)")
}

if !invocation.foreground {
    // Run the daemon detached, and return once it says every service listens.
    try? FileManager.default.createDirectory(atPath: paths.logs, withIntermediateDirectories: true)
    try? FileManager.default.removeItem(atPath: paths.ready)
    let logFile = paths.logs + "/ocs-live-feed-img.log"
    FileManager.default.createFile(atPath: logFile, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
    process.arguments = [URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path, "--foreground"] + arguments
    process.standardOutput = FileHandle(forWritingAtPath: logFile)
    process.standardError = FileHandle(forWritingAtPath: logFile)
    process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
    do { try process.run() } catch { fail("ocs-live-feed-img: cannot start the daemon: \(error)") }
    for _ in 0..<600 {
        if FileManager.default.fileExists(atPath: paths.ready) {
            say("ocs-live-feed-img: started (pid \(process.processIdentifier)); log \(logFile)")
            exit(0)
        }
        if !process.isRunning {
            let tail = (try? String(contentsOfFile: logFile, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
            fail("ocs-live-feed-img: the daemon stopped while starting:\n\(tail)")
        }
        usleep(100_000)
    }
    fail("ocs-live-feed-img: the daemon did not get ready within 60 s; see \(logFile)")
}

// The daemon.
@Sendable func log(_ line: String) { say(line) }
do {
    for dir in [paths.state, paths.www, paths.logs] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    try String(getpid()).write(toFile: paths.lock, atomically: true, encoding: .utf8)
} catch { fail("ocs-live-feed-img: state directory \(paths.state): \(error)") }
let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
var http: FileHTTPServer?
var reports: ReportListener?
func shutdown() {
    http?.stop()
    reports?.stop()
    // B12: no client may fetch a stale job.
    try? FileManager.default.removeItem(atPath: paths.www + "/ocs-client-run.conf")
    try? FileManager.default.removeItem(atPath: paths.www + "/" + ClientRunConf.pseudoImage)
    try? FileManager.default.removeItem(atPath: paths.ready)
    try? FileManager.default.removeItem(atPath: paths.lock)
    try? group.syncShutdownGracefully()
}
do {
    log("ocs-live-feed-img: feeding \(imageName) (\(plan.streams.map(\.partition).joined(separator: ", "))) to \(invocation.destinations.joined(separator: " ")) by \(job.transport.rawValue) on \(interface.name) (\(interface.address))")
    let members = try PseudoImage.members(image: imagePath, name: imageName, torrentDirectory: paths.imageRoot + "/btzone/" + imageName, rename: plan.rename)
    try PseudoImage.write(members, to: paths.www + "/" + ClientRunConf.pseudoImage)
    if let conf = job.conf { try conf.rendered().write(toFile: paths.www + "/ocs-client-run.conf", atomically: true, encoding: .utf8) }
    let server = FileHTTPServer(files: try ConfinedFiles(root: paths.www), group: group, log: log)
    try server.start(address: interface.address, port: 80)
    http = server
    let journal = try JobJournal(directory: paths.logs, log: log)
    journal.begin()
    let listener = ReportListener(group: group, journal: journal)
    try listener.start(address: interface.address)
    reports = listener
} catch {
    shutdown()
    fail("ocs-live-feed-img: \(error)")
}
var chainSettings = MulticastChain.Settings(interface: interface)
chainSettings.fullDuplex = invocation.fullDuplex
chainSettings.broadcast = invocation.broadcastFlag || job.transport == .broadcast
chainSettings.timeToWait = invocation.timeToWait
chainSettings.clientsToWait = invocation.clientsToWait
chainSettings.maxTimeToWait = invocation.maxTimeToWait
let chain = MulticastChain(settings: chainSettings, log: log)
let chainThread = Thread {
    do {
        _ = try chain.run(plan)
        log("multicast: all \(plan.streams.count) stream(s) sent; waiting for reports until stop")
    } catch {
        log("\(error)")
    }
}
FileManager.default.createFile(atPath: paths.ready, contents: nil)
log("ocs-live-feed-img: ready (pid \(getpid())): http://\(interface.address)/ocs-client-run.conf, reports on \(interface.address):6461")
chainThread.start()
StopSignal.wait(seconds: nil)
log("ocs-live-feed-img: stopping")
shutdown()
exit(0)

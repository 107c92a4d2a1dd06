import ClonezillaImage
import Feeder
import Foundation
import NetworkNIO
import Restore

/// `ocs-live-feed-img [OPTION]... start|stop|status|start-now [IMAGE] [DEVICE]...` — the Lite
/// Server feeder: `start` checks everything, then leaves a daemon (FeederDaemon) that publishes
/// the job and serves it; `stop` ends exactly that daemon.

@Sendable func say(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

func fail(_ message: String, _ code: Int32 = 1) -> Never {
    say(message)
    exit(code)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") || arguments.isEmpty {
    print(FeederHelp.text)
    exit(arguments.isEmpty ? 2 : 0)
}

let invocation: FeederInvocation
do { invocation = try FeederCommandLine.parse(arguments) } catch { fail(error.description, error.exitCode) }
for warning in invocation.warnings { say("ocs-live-feed-img: warning: \(warning)") }
let configuration: FeederConfiguration
do { configuration = try FeederConfiguration(invocation) } catch { fail("ocs-live-feed-img: \(error)") }

switch invocation.mode {
case .stop:
    guard let pid = configuration.runningPID() else {
        if let dead = configuration.clearDeadFeeder(log: say) {
            say("ocs-live-feed-img: the feeder (pid \(dead)) had died without stopping; its job and boot files are withdrawn")
        } else {
            try? FileManager.default.removeItem(atPath: configuration.lock)
            say("OCS is not running!")
        }
        exit(0)
    }
    kill(pid, SIGTERM)
    for _ in 0..<300 where FeederConfiguration.isFeeder(pid) { usleep(100_000) }
    if FeederConfiguration.isFeeder(pid) { fail("ocs-live-feed-img: the feeder (pid \(pid)) did not stop within 30 s") }
    say("ocs-live-feed-img: stopped (pid \(pid))")
    exit(0)
case .status:
    guard let pid = configuration.runningPID() else { fail("OCS is not running!", 3) }
    guard let bytes = FileManager.default.contents(atPath: configuration.statusFile), let status = StatusPage.decode(Array(bytes)) else {
        fail("ocs-live-feed-img: running (pid \(pid)), status not written yet", 0)
    }
    print("ocs-live-feed-img: running (pid \(pid))")
    print(StatusPage.text(status, now: Date().timeIntervalSince1970), terminator: "")
    exit(0)
case .startNow:
    guard let pid = configuration.runningPID() else { fail("OCS is not running!", 3) }
    kill(pid, SIGUSR1)
    say("ocs-live-feed-img: start-now sent to the feeder (pid \(pid)); see its log or status")
    exit(0)
case .start:
    break
}

// start: everything is checked before anything is started.
let fromDevice = invocation.sourceType == .fromDevice
// From a device, the clients get a pseudo image of it by this name (5.3.17: btraw-psdo-…).
let pseudoImageName: String? = fromDevice ? invocation.sourceImage ?? "raw-psdo-" + {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    return formatter.string(from: Date())
}() : nil
let job: FeederJob
do { job = try FeederJob(invocation, imagePrefix: pseudoImageName) } catch { fail(error.description, error.exitCode) }
if let pid = configuration.runningPID() { fail("ocs-live-feed-img: already running (pid \(pid)); stop it first") }
if let dead = configuration.clearDeadFeeder(log: say) {
    say("ocs-live-feed-img: warning: the previous feeder (pid \(dead)) had died without stopping; what it published is withdrawn")
}
let interface: NetworkInterface
do { interface = try NetworkInterface.resolve(invocation.interface) } catch { fail("No network card was assigned for sending packets. (\(error))") }
var imagePath = configuration.imageRoot + "/" + invocation.source!
var devicePlan: StreamPlan?
if fromDevice {
    // The source is a disk of this machine: a pseudo image of it now, its partitions streamed later.
    guard job.transport != .bittorrent else {
        fail("ocs-live-feed-img: -mdst from-device feeds by multicast or broadcast in this build; save the device (ocs-sr savedisk) for -md bittorrent")
    }
    guard invocation.deviceType != .partitions else {
        fail("ocs-live-feed-img: -cdt part-2-mparts is not supported by this build; feed the whole disk (-cdt disk-2-mdisks)")
    }
    // The pseudo image is made once, by the daemon: it reads the device's tables and boot
    // sectors, and its name carries the time it is made.
    if !invocation.foreground { Launcher.detach(arguments: arguments, configuration: configuration) }
    let name = pseudoImageName!
    do {
        let made = try DevicePseudoImage.make(disk: invocation.source!, name: name, under: configuration.state + "/from-device", logs: configuration.logs)
        let rename = try DiskRename(imageName: name, imageDisks: [made.source.disk], destinations: invocation.destinations)
        devicePlan = StreamPlan(device: made.source, streams: made.streams, rename: rename,
                                producer: DevicePseudoImage.producer(disk: made.source.disk, logs: configuration.logs))
        imagePath = made.directory
        if invocation.sourceFsck != nil { say("ocs-live-feed-img: warning: -bsdf/-csdf: the source is not checked by fsck in this build") }
    } catch {
        fail("ocs-live-feed-img: from-device: \(error)")
    }
}
let imageName = (imagePath as NSString).lastPathComponent
let image: ImageDirectory
do { image = try ImageDirectory.load(imagePath) } catch {
    fail("The directory for this inputted image name does NOT exist or is not a Clonezilla image: \(imagePath) (\(error))")
}
let plan: StreamPlan
if let devicePlan {
    plan = devicePlan
} else {
    do { plan = try StreamPlan(image: image, destinations: invocation.destinations, restoreDisk: job.task.hasSuffix("restoredisk")) } catch {
        fail("ocs-live-feed-img: \(error)")
    }
}
if !invocation.foreground {
    Launcher.detach(arguments: arguments, configuration: configuration)
}

// The daemon: the image checks run here, so `start` waits for them and reports their result.
do {
    if fromDevice && (invocation.checkMD5 || invocation.checkSHA1 || invocation.checkB2 || invocation.checkB3) {
        say("ocs-live-feed-img: warning: -cm/-cs/-cb2/-cb3 check image files; a device has none")
    }
    if invocation.checkMD5 && !fromDevice { try image.verifyChecksums(.md5) }
    if invocation.checkSHA1 && !fromDevice { try image.verifyChecksums(.sha1) }
    if invocation.checkB2 && !fromDevice { try image.verifyChecksums(.blake2) }
    if invocation.checkB3 && !fromDevice { try image.verifyChecksums(.blake3) }
} catch { fail("ocs-live-feed-img: image check failed: \(error)") }
if !invocation.skipImageCheck && !fromDevice {
    do {
        try RestorableCheck.run(image, partitions: plan.streams.map(\.partition))
        say("ocs-live-feed-img: image \(imageName) is restorable (every payload decoded, partclone checksums verified)")
    } catch {
        fail("ocs-live-feed-img: image \(imageName) is not restorable: \(error) (-sc0 skips this check)")
    }
}
do {
    try FileManager.default.createDirectory(atPath: configuration.state, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: configuration.logs, withIntermediateDirectories: true)
    try String(getpid()).write(toFile: configuration.lock, atomically: true, encoding: .utf8)
} catch { fail("ocs-live-feed-img: state directory \(configuration.state): \(error)") }
let daemon = FeederDaemon(invocation: invocation, job: job, plan: plan, image: image, interface: interface, configuration: configuration, log: say)
do { try daemon.start() } catch {
    try? FileManager.default.removeItem(atPath: configuration.lock)
    fail("ocs-live-feed-img: \(error)")
}
signal(SIGUSR1, SIG_IGN)
let startNowSource = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
startNowSource.setEventHandler { say("ocs-live-feed-img: \(daemon.startNow())".trimmingCharacters(in: .newlines)) }
startNowSource.resume()
daemon.keepStatusFile()
daemon.runTransport()
FileManager.default.createFile(atPath: configuration.ready, contents: nil)
say("ocs-live-feed-img: ready (pid \(getpid())): http://\(interface.address)/ocs-client-run.conf, status http://\(interface.address)/, reports on \(interface.address):6461")
StopSignal.wait(seconds: nil)
say("ocs-live-feed-img: stopping")
daemon.stop()
try? FileManager.default.removeItem(atPath: configuration.lock)
exit(0)

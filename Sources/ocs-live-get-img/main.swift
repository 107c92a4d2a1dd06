import ArgumentParser
import Foundation
import GetImg
import GetImgNIO
import NetworkNIO
import Restore

/// `ocs-live-get-img [-b] [-icol] [-d DEV] [-v] [SERVER]` — the Lite Server client: fetches the
/// job (as data, never run), unpacks the pseudo image, receives each partition by multicast
/// straight into the restore engine, and reports to the server.
struct GetImgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocs-live-get-img",
        abstract: "Restore this machine from a Clonezilla Lite Server (multicast or BitTorrent).",
        discussion: "SERVER defaults to the default gateway. Multicast/broadcast jobs restore disks or partitions; BitTorrent jobs restore whole disks.")

    @Flag(name: [.customShort("b"), .customLong("batch"), .customLong("batch-mode")], help: "Batch mode: no questions, plain progress lines.")
    var batch = false
    @Flag(name: [.customLong("icol", withSingleDash: true), .customLong("ignore-check-ocs-live")], help: "Accepted for compatibility (this client runs anywhere).")
    var ignoreLiveCheck = false
    @Option(name: [.customShort("d"), .customLong("dest-dev")], help: "Destination instead of the job's: disk (sda, nvme0n1, /dev/loop0) or, for a partition job, partitions (\"sda1 sda2\"); a path is used as is (image files).")
    var destination: String?
    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Verbose.")
    var verbose = false
    @Option(name: .customLong("timeout"), help: "Seconds to wait for each partition's sender before giving up (default 300).")
    var startTimeout = 300.0
    @Option(name: .customLong("receive-timeout"), help: "Seconds of silence, once data flows, before giving up (default 60).")
    var receiveTimeout = 60.0
    @Option(name: .customLong("fetch-timeout"), help: "Seconds to keep retrying the job files (default 120).")
    var fetchTimeout = 120.0
    @Option(name: .customLong("seed-time"), help: "BitTorrent jobs: seconds to seed each finished partition to the other clients (default 3).")
    var seedTime = 3.0
    @Option(name: .customLong("image-dir"), help: "Restore from this local image directory instead of a server (same engine; needs -d).")
    var imageDirectory: String?
    @Flag(name: .customLong("no-post-action"), help: "Do not reboot or power off even when the job asks (-p reboot|poweroff).")
    var noPostAction = false
    @Flag(name: .customLong("no-report"), help: "Do not report to the server's TCP 6461.")
    var noReport = false
    @Argument(help: "The Lite Server's IPv4 address.")
    var server: String?

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("ocs-live-get-img: " + $0 + "\n").utf8)) }
        func fail(_ message: String) -> ExitCode {
            log(message)
            return ExitCode(1)
        }
        if let imageDirectory {
            // A local image: the same engine, no server, no report.
            guard let destination else { throw fail("--image-dir needs -d DEV (the disk(s) to restore)") }
            let targets = destination.split(separator: " ").map { $0.contains("/") ? String($0) : "/dev/" + $0 }
            var options = RestoreOptions()
            options.batch = batch
            do { try engine(options, log: log).restoreDisk(imageDirectory: imageDirectory, targets: targets) } catch { throw fail("restore failed: \(error)") }
            return log("restore of \(imageDirectory) to \(targets.joined(separator: " ")) finished")
        }
        // Where the server is and which interface faces it.
        let serverText: String
        if let server {
            serverText = server
        } else if let route = NetworkInterface.defaultRouteInterface(), let gateway = NetworkInterface.defaultGateway(on: route) {
            serverText = "\(gateway)"
            log("no server given: using the default gateway \(gateway)")
        } else {
            throw fail("no server given and no default gateway: name the Lite Server's address")
        }
        guard let serverAddress = IPv4Address(serverText) else { throw fail("\(serverText): not an IPv4 address (the server's port is always 80)") }
        let interface: NetworkInterface
        do { interface = try NetworkInterface.facing(serverAddress) } catch { throw fail("no interface reaches \(serverAddress): \(error)") }

        // The job, as data.
        var fetcher = JobFetcher(server: serverText)
        fetcher.totalTimeout = fetchTimeout
        let job: ClientJob
        do {
            let text = String(decoding: try fetcher.get("/ocs-client-run.conf", log: log), as: UTF8.self)
            job = try ClientJob(parsing: text)
        } catch let error as ClientJob.Failure {
            throw fail("\(error)")
        } catch {
            throw fail("\(error)")
        }
        for skipped in job.options.skipped { log("skipped: \(skipped)") }
        guard job.transport == .multicast || job.wholeDisks else { throw fail("the job is a BitTorrent partition restore (bt_restoreparts); this build restores BitTorrent jobs to whole disks only") }

        // The pseudo image, unpacked into a private directory.
        let work = NSTemporaryDirectory() + "liteserver-get-img-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let imageDirectory = work + "/" + job.imagePrefix
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let tarball = try fetcher.get("/" + job.pseudoImage, log: log)
            try Data(tarball).write(to: URL(fileURLWithPath: work + "/pseudo.tar.xz"))
            try PseudoImageUnpacker.unpack(work + "/pseudo.tar.xz", into: imageDirectory)
        } catch {
            throw fail("pseudo image \(job.pseudoImage): \(error)")
        }

        // Targets: -d, else the job's devices; a name means /dev/<name>, a path is used as is.
        let names = destination.map { $0.split(separator: " ").map(String.init) } ?? job.restoreDevices
        guard !names.isEmpty else { throw fail("the job names no destination device; give -d DEV") }
        let targets = names.map { $0.contains("/") ? $0 : "/dev/" + $0 }
        var options = RestoreOptions()
        options.batch = true
        options.keepPartitionTable = job.options.keepPartitionTable
        options.skipBootCode = job.options.skipBootCode
        options.restoreHiddenData = job.options.restoreHiddenData
        options.ignoreDiskSize = job.options.ignoreDiskSize
        var settings = MulticastStreams.Settings(interface: interface)
        settings.portBase = job.options.multicastPort ?? 2232
        settings.startTimeout = startTimeout
        settings.receiveTimeout = receiveTimeout
        let streams = MulticastStreams(settings: settings, log: log)
        let engine = engine(options, log: log)
        let started = Date()
        var failure: String?
        do {
            if job.transport == .bittorrent {
                var torrents = TorrentPartitions.Settings(torrentDirectory: imageDirectory + "/btzone/" + job.imagePrefix, address: "\(interface.address)")
                torrents.timeout = startTimeout
                torrents.seedTime = seedTime
                try engine.restoreDisk(imageDirectory: imageDirectory, targets: targets, filler: TorrentPartitions(settings: torrents, log: log))
            } else if job.wholeDisks {
                try engine.restoreDisk(imageDirectory: imageDirectory, targets: targets, streams: streams)
            } else {
                // The feeder streams the job's partitions in the order it names them (§3.5).
                guard job.restoreDevices.count == targets.count else {
                    throw RestoreError.usage("the job sends \(job.restoreDevices.count) partition(s) (\(job.restoreDevices.joined(separator: " "))); give as many targets")
                }
                try engine.restoreParts(imageDirectory: imageDirectory, partitions: job.restoreDevices, targets: targets, streams: streams)
            }
        } catch {
            failure = streams.lastFailure.map { "\($0) (\(error))" } ?? "\(error)"
        }
        let minutes = Date().timeIntervalSince(started) / 60
        let parts = job.wholeDisks ? ((try? String(contentsOfFile: imageDirectory + "/parts", encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
                                   : job.restoreDevices
        let entries = parts.map { " /dev/\($0), \(failure == nil ? "success" : "***FAIL***"), \(Self.minutes(minutes)) mins;" }.joined()
        let head = job.transport == .bittorrent ? "Bittorrent restored" : "Multicast restored"
        let report = "\(interface.address) \(interface.mac ?? "00:00:00:00:00:00") \(head) \(job.imagePrefix),\(entries)"
        if !noReport {
            if let problem = ReportSender.send(report, to: serverText) { log("report not sent: \(problem)") } else { log("reported to \(serverText):6461") }
        }
        if let failure { throw fail("restore failed: \(failure)") }
        log("restore of \(job.imagePrefix) to \(targets.joined(separator: " ")) finished in \(Int(minutes * 60)) s")
        // After the report, as the real client: this machine's own reboot/poweroff, never a
        // command named by the server.
        guard job.options.postAction != .none else { return }
        let action = job.options.postAction == .reboot ? "reboot" : "poweroff"
        if noPostAction { return log("post-action \(action) requested by the job: skipped (--no-post-action)") }
        guard let tool = ["/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"].map({ $0 + action }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw fail("post-action \(action): no \(action) command on this machine")
        }
        log("post-action: \(tool)")
        sync()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        try process.run()
        process.waitUntilExit()
    }

    /// The restore engine with this command's verbosity; live progress only on a terminal and
    /// not in batch mode.
    func engine(_ options: RestoreOptions, log: @escaping @Sendable (String) -> Void) -> RestoreEngine {
        var options = options
        options.verbose = verbose
        return RestoreEngine(options: options, log: RestoreLog(info: log, verbose: { [verbose] in if verbose { log($0) } },
                                                               liveProgress: !batch && isatty(STDERR_FILENO) == 1))
    }

    /// Clonezilla's minutes: three decimals, no leading zero below one (".135", "10.251").
    static func minutes(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let text = "\(thousandths / 1000).\(String(thousandths % 1000).leftPadded(3))"
        return text.hasPrefix("0.") ? String(text.dropFirst()) : text
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}

GetImgCommand.main()

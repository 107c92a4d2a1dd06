import BitTorrent
import BitTorrentNIO
import ClonezillaImage
import DHCP
import Feeder
import FeederNIO
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import NetBoot
import NetBootNIO
import NetworkNIO

/// The long-running part of `start`: publishes the job, runs the transport (multicast chain or
/// seeder + trackers), DHCP/TFTP for the netboot modes, the report listener, and keeps the
/// status that `status`, `/status` and the page show. Every service is started before `ready`
/// is written; if one cannot start, all are stopped and the reason is the daemon's last line.
final class FeederDaemon: @unchecked Sendable {
    let invocation: FeederInvocation
    let job: FeederJob
    let plan: StreamPlan
    let image: ImageDirectory
    let interface: NetworkInterface
    let configuration: FeederConfiguration
    let log: @Sendable (String) -> Void

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    private var http: FileHTTPServer?
    private var reports: ReportListener?
    private var netboot: NetBootServer?
    private var seeder: ImageSeeder?
    private var chain: MulticastChain?
    private var menus: NetbootMenus?
    private let lock = NIOLock()
    private var status: FeederStatus

    init(invocation: FeederInvocation, job: FeederJob, plan: StreamPlan, image: ImageDirectory, interface: NetworkInterface,
         configuration: FeederConfiguration, log: @escaping @Sendable (String) -> Void) {
        self.invocation = invocation
        self.job = job
        self.plan = plan
        self.image = image
        self.interface = interface
        self.configuration = configuration
        self.log = log
        status = FeederStatus(image: image.name, transport: job.transport.rawValue, interface: interface.name, server: "\(interface.address)",
                              dhcpMode: job.dhcpMode, startedAt: Date().timeIntervalSince1970)
        status.sessions = plan.streams.map { stream in
            var session = FeederStatus.Session(index: stream.index, partition: stream.partition, target: stream.target,
                                               port: job.transport == .bittorrent ? 0 : Int(stream.portbase),
                                               totalBytes: stream.files.reduce(0) { $0 + Self.size(of: $1) })
            session.expectedReceivers = invocation.clientsToWait
            return session
        }
    }

    static func size(of path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    var treeExists: Bool { configuration.netbootTreeExists }

    // MARK: start and stop

    func start() throws {
        let fm = FileManager.default
        for dir in [configuration.www] { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        log("ocs-live-feed-img: feeding \(image.name) (\(plan.streams.map { $0.partition == $0.target ? $0.partition : "\($0.partition) as \($0.target)" }.joined(separator: ", "))) "
            + "by \(job.transport.rawValue) on \(interface.name) (\(interface.address)), DHCP mode \(job.dhcpMode)")
        do {
            do { menus = try configuration.menu.menus(server: interface.address) } catch {
                // The menus matter only with a netboot tree: no local-boot files without them.
                if job.dhcpMode != "no-dhcpd" { throw error }
                if treeExists { log("netboot: warning: \(error); no local-boot files will be written") }
            }
            var torrentDirectory = configuration.imageRoot + "/btzone/" + image.name
            if job.transport == .bittorrent {
                torrentDirectory = configuration.state + "/btzone/" + image.name
                try startSeeder(torrentDirectory: torrentDirectory)
            }
            try publish(torrentDirectory: torrentDirectory)
            if job.dhcpMode != "no-dhcpd" { try startNetboot() }
            try startHTTP()
            let journal = try JobJournal(directory: configuration.logs, log: log)
            journal.begin()
            let listener = ReportListener(group: group, journal: journal) { [weak self] report, peer in self?.received(report, from: peer) }
            try listener.start(address: interface.address)
            reports = listener
        } catch {
            stop()
            throw error
        }
    }

    /// `ocs-client-run.conf` and the pseudo image, in the daemon's own www directory.
    private func publish(torrentDirectory: String) throws {
        let members = try PseudoImage.members(image: image.path, name: image.name, torrentDirectory: torrentDirectory, rename: plan.rename)
        try PseudoImage.write(members, to: configuration.www + "/" + ClientRunConf.pseudoImage)
        if let conf = job.conf {
            try conf.rendered().write(toFile: configuration.www + "/ocs-client-run.conf", atomically: true, encoding: .utf8)
        } else {
            log("ocs-live-feed-img: interactive-client mode: no job is published; clients choose on their own")
        }
    }

    private func startHTTP() throws {
        var extraRoots = [configuration.menu.tftpRoot]
        if let medium = configuration.menu.liveMedia { extraRoots.append(medium) }
        let files = try ConfinedFiles(root: configuration.www, extraRoots: extraRoots.filter { FileManager.default.fileExists(atPath: $0) })
        let server = FileHTTPServer(files: files, group: group, log: log)
        server.pages = { [weak self] method, path, peer in self?.page(method: method, path: path, peer: peer) }
        server.served = { [weak self] peer, path, code in
            guard code < 300 else { return }
            self?.record(.fetched(address: peer, path: path, at: Date().timeIntervalSince1970))
        }
        try server.start(address: interface.address, port: 80)
        http = server
    }

    private func startNetboot() throws {
        guard let mode = DHCPMode(rawValue: job.dhcpMode) else { throw FeederFailure("-dm \(job.dhcpMode) is not a DHCP mode") }
        guard let medium = configuration.menu.liveMedia else {
            throw FeederFailure("-dm \(job.dhcpMode) boots the clients over the network: give the Clonezilla live medium (--live-media DIR or live_media in the conf)")
        }
        guard let menus else { throw FeederFailure("netboot menus are not available") }
        let tree = NetbootTree(root: configuration.menu.tftpRoot)
        for warning in try tree.assemble(menus: menus, liveMedia: medium) { log("netboot: warning: \(warning)") }
        // live-boot fetches the squashfs from this HTTP server (`fetch=`), as from lighttpd.
        let link = configuration.www + "/" + LiveBootEntry.squashfs
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: configuration.menu.tftpRoot + "/" + LiveBootEntry.squashfs)
        var settings = NetBootServer.Settings(mode: mode, interface: interface, tftpRoot: configuration.menu.tftpRoot)
        settings.extraRoots = [medium]
        settings.httpPort = nil
        settings.stateDirectory = configuration.state
        settings.events = { [weak self] event in
            let now = Date().timeIntervalSince1970
            switch event {
            case .leased(let address, let mac):
                self?.record(.leased(address: "\(address)", mac: AddressServer.hex(mac), at: now))
            case .fileRequested(let client, let file):
                self?.record(.bootFile(address: "\(client)", file: file, at: now))
            }
        }
        let server = NetBootServer(settings: settings, group: group, log: log)
        let chosen = try server.start()
        netboot = server
        lock.withLock { status.dhcpMode = chosen.rawValue }
    }

    private func startSeeder(torrentDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: torrentDirectory, withIntermediateDirectories: true)
        for old in (try? FileManager.default.contentsOfDirectory(atPath: torrentDirectory)) ?? [] where old.hasSuffix(".torrent") {
            try? FileManager.default.removeItem(atPath: torrentDirectory + "/" + old)
        }
        var partitions: [ImageSeeder.Partition] = []
        for stream in plan.streams {
            do {
                let cache = try PartitionCache.open(image: image.path, device: stream.partition, cacheDirectory: configuration.state + "/bt-cache/" + image.name)
                partitions.append(.init(name: stream.target, cache: cache))
            } catch {
                throw FeederFailure("bittorrent: \(stream.partition): \(error)")
            }
        }
        let seeder = ImageSeeder(settings: ImageSeeder.Settings(address: "\(interface.address)"), on: group.next(), log: log)
        let torrents = try seeder.start(partitions)
        for (index, (partition, torrent)) in zip(partitions, torrents).enumerated() {
            try Data(torrent.encoded()).write(to: URL(fileURLWithPath: "\(torrentDirectory)/\(partition.name).torrent"))
            let trackerPort = torrent.announce.flatMap { URL(string: $0)?.port } ?? 0
            lock.withLock {
                status.sessions[index].totalBytes = torrent.totalLength
                status.sessions[index].port = trackerPort
            }
        }
        self.seeder = seeder
    }

    /// Ends every service and withdraws the job (B12) and the per-client boot files.
    func stop() {
        http?.stop()
        reports?.stop()
        netboot?.stop()
        seeder?.stop()
        http = nil
        reports = nil
        netboot = nil
        seeder = nil
        configuration.withdrawPublished(log: log)
        try? group.syncShutdownGracefully()
    }

    // MARK: transport

    /// Runs the multicast chain on its own thread (BT needs none: the seeders are event driven).
    func runTransport() {
        guard job.transport != .bittorrent else {
            for session in plan.streams.indices { lock.withLock { status.sessions[session].state = .sending } }
            return
        }
        var settings = MulticastChain.Settings(interface: interface)
        settings.fullDuplex = invocation.fullDuplex
        settings.broadcast = invocation.broadcastFlag || job.transport == .broadcast
        settings.timeToWait = invocation.timeToWait
        settings.clientsToWait = invocation.clientsToWait
        settings.maxTimeToWait = invocation.maxTimeToWait
        settings.retriesUntilDrop = configuration.retriesUntilDrop
        let chain = MulticastChain(settings: settings, log: log) { [weak self] index, result in
            let now = Date().timeIntervalSince1970
            switch result {
            case .success(let report):
                let receivers = report.participants.map { "\($0.address)" }
                self?.record(.sessionProgress(index: index, bytes: report.bytes, receivers: receivers, at: now))
                self?.record(.sessionEnded(index: index, ok: report.bytes > 0 || report.participants.isEmpty == false,
                                           detail: "\(report.outcome), \(report.participants.count) receiver(s), \(report.dropped.count) dropped", at: now))
            case .failure(let failure):
                self?.record(.sessionEnded(index: index, ok: false, detail: failure.description, at: now))
            }
        }
        self.chain = chain
        let plan = plan
        Thread { [log] in
            do {
                _ = try chain.run(plan)
                log("multicast: all \(plan.streams.count) stream(s) sent; reports are taken until stop")
            } catch {
                log("\(error)")
            }
        }.start()
    }

    // MARK: status

    func record(_ event: FeederStatus.Event) {
        lock.withLock { status.apply(event) }
    }

    /// The status as last refreshed (cheap; safe on an event loop).
    func current() -> FeederStatus { lock.withLock { status } }

    /// Polls the running session and the seeders; blocks briefly, so never on an event loop.
    func refresh() -> FeederStatus {
        if let (index, state) = chain?.snapshot() {
            let receivers = state.receivers.map { "\($0.address)" }
            let now = Date().timeIntervalSince1970
            record(state.phase == .transfer ? .sessionProgress(index: index, bytes: state.bytes, receivers: receivers, at: now)
                                            : .sessionWaiting(index: index, receivers: receivers, at: now))
        }
        if let seeder {
            lock.withLock {
                for (index, bytes) in seeder.uploaded.enumerated() where status.sessions.indices.contains(index) { status.sessions[index].bytes = bytes }
            }
        }
        return lock.withLock { status }
    }

    /// Refreshes the status twice a second and writes `status.json` for `ocs-live-feed-img
    /// status` (which then needs no network).
    func keepStatusFile() {
        Thread { [self] in
            while true {
                let bytes = StatusPage.json(refresh())
                let temporary = configuration.statusFile + ".tmp"
                if FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) { rename(temporary, configuration.statusFile) }
                usleep(500_000)
            }
        }.start()
    }

    /// `start-now` from the command (SIGUSR1) or the page: the waiting session starts with the
    /// receivers it has.
    func startNow() -> String {
        guard let chain else { return "no multicast session: nothing waits (BitTorrent serves clients as they come)\n" }
        let waiting = current().sessions.first { $0.state == .waiting && !$0.receivers.isEmpty }
        guard let index = waiting?.index, chain.startNow(stream: index) else { return "no session is waiting for receivers\n" }
        log("start-now: stream \(index + 1) released")
        return "stream \(index + 1) released\n"
    }

    private func page(method: String, path: String, peer: String) -> FileHTTPServer.Page? {
        switch (method, path) {
        case ("GET", "/"), ("HEAD", "/"), ("GET", "/index.html"):
            return .init(contentType: "text/html; charset=utf-8", body: Array(StatusPage.html.utf8))
        case ("GET", "/status"), ("HEAD", "/status"):
            return .init(contentType: "application/json", body: StatusPage.json(current()))
        case ("POST", "/start-now"):
            return .init(contentType: "text/plain; charset=utf-8", body: Array(startNow().utf8))
        case (_, "/status"), (_, "/start-now"), (_, "/"):
            return .init(status: 405, contentType: "text/plain", body: Array("method not allowed\n".utf8))
        default:
            return nil
        }
    }

    // MARK: reports

    private func received(_ report: JobReport, from peer: String) {
        let success = report.outcome == .success
        record(.reported(address: report.validAddress ?? peer, mac: report.validMAC != nil ? report.claimedMAC.lowercased() : "",
                         success: success, message: report.message, at: Date().timeIntervalSince1970))
        guard success, treeExists, let menus else { return }
        guard let mac = report.validMAC, let address = report.validAddress.flatMap(IPv4Address.init) else {
            return log("netboot: report from \(peer) names no valid IP/MAC; no local-boot file written")
        }
        do {
            try NetbootTree(root: configuration.menu.tftpRoot).writeLocalBoot(menus: menus, mac: mac, address: address)
            log("netboot: \(address) (\(report.claimedMAC.lowercased())) boots its local disk from now on")
        } catch {
            log("netboot: cannot write the local-boot files for \(address): \(error)")
        }
    }
}

struct FeederFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import ArgumentParser
import BitTorrent
import BitTorrentNIO
import NetworkNIO
import Foundation
import NIOCore
import NIOPosix

/// Clonezilla-layout torrents of an image, and a seeder + tracker serving them.
struct OCSBT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocs-bt",
        abstract: "BitTorrent for Clonezilla images: make torrents, seed them with a built-in tracker.",
        subcommands: [MakeTorrent.self, Seed.self, Leech.self, Tracker.self])
}

struct ImageOptions: ParsableArguments {
    @Argument(help: "Clonezilla image directory.") var image: String
    @Argument(help: "Partitions to publish (sda1 …).") var devices: [String]
    @Option(help: "Where the per-partition sparse caches live.") var cache = "/var/cache/liteserver/bt"

    func caches() throws -> [(device: String, cache: PartitionCache)] {
        try devices.map { device in
            do { return (device, try PartitionCache.open(image: image, device: device, cacheDirectory: cache + "/" + imageName)) }
            catch { throw ValidationError("\(device): \(error)") }
        }
    }

    var imageName: String { URL(fileURLWithPath: image).standardizedFileURL.lastPathComponent }
}

func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

func writeTorrent(_ torrent: Metainfo, to path: String) throws {
    try Data(torrent.encoded()).write(to: URL(fileURLWithPath: path))
}

struct MakeTorrent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "torrent", abstract: "Write <dev>.torrent files (Clonezilla layout).")
    @OptionGroup var options: ImageOptions
    @Option(help: "Tracker URL written into the torrents.") var announce: String
    @Option(name: .shortAndLong, help: "Directory for the .torrent files.") var output = "."

    func run() throws {
        for (device, cache) in try options.caches() {
            let torrent = ClonezillaLayout.torrent(device: device, extents: cache.extents, pieces: cache.pieces,
                                                   announce: announce, creationDate: Int64(Date().timeIntervalSince1970))
            try writeTorrent(torrent, to: "\(output)/\(device).torrent")
            log("\(device): \(torrent.files.count) extents, \(torrent.pieces.count) pieces, info-hash \(torrent.infoHashHex)")
        }
    }
}

struct Seed: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed",
        abstract: "Seed partitions with a tracker per torrent on 6969 + 2k (ports in use are skipped).")
    @OptionGroup var options: ImageOptions
    @Option(help: "IPv4 address to serve on (peers and trackers bind to it only).") var address: String
    @Option(help: "First peer port; torrent k listens on port + k.") var port = 6881
    @Option(name: .customLong("tracker-port"), help: "First tracker port.") var trackerPort = 6969
    @Option(name: .customLong("torrent-dir"), help: "Where to write <dev>.torrent.") var torrentDirectory = "."
    @Option(name: .customLong("seed-time"), help: "Stop after this many seconds (default: until interrupted).") var seedTime: Double?
    @Option(help: "Upload slots per torrent.") var slots = 4
    @Option(name: .customLong("announce-interval"), help: "Tracker re-announce interval in seconds.") var interval: UInt64 = 30
    @Flag(help: "Also announce the torrents by BEP 14 local service discovery (multicast on the LAN).") var lsd = false
    @Flag(name: .customLong("no-super-seed"),
          help: "Show every piece to every peer (default: BEP 16 super-seeding, each piece leaves the seed about once).") var normalSeeding = false

    func run() throws {
        let caches = try options.caches()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        var settings = ImageSeeder.Settings(address: address)
        settings.peerPort = port
        settings.trackerPort = trackerPort
        settings.slots = slots
        settings.announceInterval = interval
        settings.superSeeding = !normalSeeding
        let seeder = ImageSeeder(settings: settings, on: loop, log: log)
        let torrents = try seeder.start(caches.map { ImageSeeder.Partition(name: $0.device, cache: $0.cache) })
        for (device, torrent) in zip(caches.map(\.device), torrents) { try writeTorrent(torrent, to: "\(torrentDirectory)/\(device).torrent") }
        let servers = seeder.seeds
        var discovery: LSDService?
        if lsd {
            let torrents = servers.enumerated().map { LSDAnnouncer.Torrent(infoHash: $1.metainfo.infoHash, port: UInt16(port + $0)) }
            let service = LSDService(torrents: torrents, address: address, on: loop, log: log) { _, _, _ in }
            try service.start().wait()
            discovery = service
            log("announcing \(torrents.count) torrent(s) by local service discovery on \(LSDAnnouncement.group):\(LSDAnnouncement.port)")
        }
        waitForStop(seconds: seedTime)
        try? discovery?.stop().wait()
        for (device, seed) in zip(caches.map(\.device), servers) {
            log("\(device): uploaded \(seed.uploadedBytes) bytes (\(String(format: "%.2f", Double(seed.uploadedBytes) / Double(max(seed.metainfo.totalLength, 1))))x the payload)")
        }
        seeder.stop()
    }

}

struct Leech: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "leech",
        abstract: "Download a Clonezilla-layout torrent into a partition (block device or image file), then seed it.")
    @Argument(help: "The .torrent file.") var torrent: String
    @Argument(help: "Target partition: a block device or an image file at least as large as the extents reach.") var target: String
    @Option(help: "IPv4 address to use.") var address: String
    @Option(help: "Peer port.") var port = 6881
    @Option(name: .customLong("seed-time"), help: "Seconds to seed after completion (Clonezilla's clients: about 90).") var seedTime: Double = 90
    @Flag(help: "Also find peers by BEP 14 local service discovery (multicast on the LAN; works without a tracker).") var lsd = false

    func run() throws {
        let metainfo: Metainfo
        do { metainfo = try Metainfo(decoding: [UInt8](try Data(contentsOf: URL(fileURLWithPath: torrent)))) }
        catch { throw ValidationError("\(torrent): \(error)") }
        do {
            let client = try LeechClient(torrent: metainfo, target: target, address: address, port: port, seedTime: seedTime, lsd: lsd, log: log)
            let report = try client.run()
            log(target + String(format: ": %llu bytes downloaded (%llu wasted, %d hash failures, %d pieces were already there) in %.1f s; seeded %llu bytes",
                                report.downloaded, report.wasted, report.hashFailures, report.alreadyThere, report.seconds,
                                report.uploadedWhileSeeding))
        } catch {
            log("ocs-bt leech: \(error)")
            throw ExitCode(1)
        }
    }
}

struct Tracker: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tracker", abstract: "Run only the HTTP tracker for some torrents.")
    @Argument(help: ".torrent files whose info-hashes are served.") var torrents: [String]
    @Option(help: "IPv4 address to bind.") var address: String
    @Option(help: "Port.") var port = 6969
    @Option(name: .customLong("announce-interval")) var interval: UInt64 = 30

    func run() throws {
        let hashes = try torrents.map { try Metainfo(decoding: [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0)))).infoHash }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let tracker = TrackerServer(infoHashes: hashes, interval: interval, on: group.next())
        try tracker.start(address: address, port: port).wait()
        log("tracker on \(address):\(port) for \(hashes.count) torrent(s)")
        waitForStop(seconds: nil)
        try? tracker.stop().wait()
    }
}

func waitForStop(seconds: Double?) { StopSignal.wait(seconds: seconds) }

OCSBT.main()

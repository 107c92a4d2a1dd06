import BitTorrent
import Foundation
import NIOCore

/// Clonezilla's BT service for one image (contract §3.6): per partition k a tracker on the next
/// free port from 6969 stepping by 2, a Clonezilla-layout torrent announcing it, and a seeder
/// on `peerPort + k` pinned into its tracker. Shared by `ocs-bt seed` and the feeder.
public final class ImageSeeder: @unchecked Sendable {
    public struct Settings: Sendable {
        public var address: String
        public var peerPort = 6881
        public var trackerPort = 6969
        public var slots = 4
        public var announceInterval: UInt64 = 30
        public var superSeeding = true

        public init(address: String) { self.address = address }
    }

    public struct Partition: Sendable {
        /// The name clients know the partition by (the torrent's top directory and file name).
        public var name: String
        public var cache: PartitionCache

        public init(name: String, cache: PartitionCache) {
            self.name = name
            self.cache = cache
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case noTrackerPort(from: Int)
        public var description: String {
            switch self { case .noTrackerPort(let from): return "bittorrent: no free tracker port from \(from) (stepping by 2)" }
        }
    }

    public let settings: Settings
    private let loop: EventLoop
    private let log: @Sendable (String) -> Void
    public private(set) var seeds: [SeedServer] = []
    public private(set) var torrents: [Metainfo] = []
    private var trackers: [TrackerServer] = []

    public init(settings: Settings, on loop: EventLoop, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.loop = loop
        self.log = log
    }

    /// Starts a tracker and a seeder per partition; returns the torrents in order. On a
    /// failure everything started so far is stopped again.
    @discardableResult
    public func start(_ partitions: [Partition]) throws -> [Metainfo] {
        do {
            var nextTrackerPort = settings.trackerPort
            for (k, partition) in partitions.enumerated() {
                var started: (TrackerServer, Metainfo)?
                for _ in 0..<50 where started == nil {
                    let url = "http://\(settings.address):\(nextTrackerPort)/announce"
                    let candidate = ClonezillaLayout.torrent(device: partition.name, extents: partition.cache.extents, pieces: partition.cache.pieces,
                                                             announce: url, creationDate: Int64(Date().timeIntervalSince1970))
                    let server = TrackerServer(infoHashes: [candidate.infoHash], interval: settings.announceInterval, on: loop)
                    if (try? server.start(address: settings.address, port: nextTrackerPort).wait()) != nil { started = (server, candidate) }
                    nextTrackerPort += 2
                }
                guard let (tracker, torrent) = started else { throw Failure.noTrackerPort(from: settings.trackerPort) }
                trackers.append(tracker)
                var peerID = Array("-LS0100-".utf8)
                peerID += (0..<12).map { _ in UInt8.random(in: 48...57) }
                let port = settings.peerPort + k
                let seed = try SeedServer(metainfo: torrent, cachePath: partition.cache.dataPath, extents: partition.cache.extents, peerID: peerID,
                                          listenPort: UInt16(port), on: loop, slots: settings.slots, superSeeding: settings.superSeeding, log: log)
                try seed.start(address: settings.address, port: port).wait()
                seeds.append(seed)
                torrents.append(torrent)
                try tracker.pinSeed(infoHash: torrent.infoHash, address: settings.address, port: UInt16(port), peerID: peerID).wait()
                log("\(partition.name): seeding \(torrent.totalLength) bytes in \(torrent.pieces.count) pieces on \(settings.address):\(port), "
                    + "tracker \(torrent.announce ?? ""), info-hash \(torrent.infoHashHex)")
            }
        } catch {
            stop()
            throw error
        }
        return torrents
    }

    /// Bytes uploaded per partition so far.
    public var uploaded: [UInt64] { seeds.map(\.uploadedBytes) }

    public func stop() {
        for seed in seeds { try? seed.stop().wait() }
        for tracker in trackers { try? tracker.stop().wait() }
        seeds = []
        trackers = []
    }
}

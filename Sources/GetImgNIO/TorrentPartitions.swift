import BitTorrent
import BitTorrentNIO
import Foundation
import NIOConcurrencyHelpers
import NetworkNIO
import Restore

/// A BitTorrent job's partitions: each is downloaded from its torrent (carried in the pseudo
/// image under `btzone/<img>/<partition>.torrent`) by our leecher, which writes every extent at
/// its offset in the partition — unused blocks are never written — then seeds it a while for
/// the other clients. A stalled download ends with a reason instead of waiting for ever.
public final class TorrentPartitions: PartitionFiller, @unchecked Sendable {
    public struct Settings: Sendable {
        public var torrentDirectory: String
        public var address: String
        public var port = 6881
        /// Seconds each finished partition is seeded to the other clients (they work through
        /// the partitions in the same order, so a short while is when they need it).
        public var seedTime = 3.0
        /// No completed download within this many seconds: give up on the partition.
        public var timeout = 600.0
        public init(torrentDirectory: String, address: String) {
            self.torrentDirectory = torrentDirectory
            self.address = address
        }
    }

    public let settings: Settings
    private let log: @Sendable (String) -> Void

    public init(settings: Settings, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.log = log
    }

    public func fill(partition: String, index: Int, target: String, offset: UInt64, size: UInt64) throws(RestoreError) {
        let path = settings.torrentDirectory + "/" + partition + ".torrent"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .payload(partition: partition, chunk: path, detail: "the pseudo image carries no torrent for this partition")
        }
        let torrent: Metainfo
        do { torrent = try Metainfo(decoding: [UInt8](data)) } catch { throw .payload(partition: partition, chunk: path, detail: "\(error)") }
        guard torrent.totalLength <= size else {
            throw .streamMismatch(partition: partition, reason: "its torrent holds \(torrent.totalLength) bytes of extents for a \(size)-byte partition: it is another partition's; nothing was written")
        }
        let leecher: LeechClient
        do {
            leecher = try LeechClient(torrent: torrent, target: target, base: offset, address: settings.address, port: settings.port + index,
                                      seedTime: settings.seedTime, log: { [log] line in log("\(partition): \(line)") })
        } catch {
            throw .payload(partition: partition, chunk: path, detail: "\(error)")
        }
        // The leecher runs to completion; a watchdog ends a download that does not finish.
        let finished = NIOLockedValueBox<Result<LeechClient.Report, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let result = Result { try leecher.run() }
            finished.withLockedValue { $0 = result }
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + settings.timeout + settings.seedTime) == .success else {
            throw .payload(partition: partition, chunk: path, detail: "no complete download within \(Int(settings.timeout)) s from tracker \(torrent.announce ?? "(none)")")
        }
        switch finished.withLockedValue({ $0 }) {
        case .success(let report)?:
            log("\(partition): \(report.downloaded) bytes by BitTorrent in \(String(format: "%.1f", report.seconds)) s, \(report.hashFailures) hash failure(s)")
        case .failure(let error)?:
            throw .payload(partition: partition, chunk: path, detail: "\(error)")
        case nil:
            throw .payload(partition: partition, chunk: path, detail: "the download ended without a result")
        }
    }
}

import ClonezillaImage

/// The multicast streams of a job (contract §3.5): one per partition, strictly in order,
/// stream k on portbase 2232 + 2k, each carrying the stored payload chunks unchanged. Which
/// partitions: restoredisk takes the image's partitions of each destination disk (exact disk
/// match, B14), restoreparts the destination partitions in the order given.
public struct StreamPlan: Equatable, Sendable {
    public struct Stream: Equatable, Sendable {
        public var index: Int
        /// The image's partition name, and the name the clients know it by (contract §5.6).
        public var partition: String
        public var target: String
        /// Absolute paths of the chunks, in the order they are concatenated.
        public var files: [String]
        /// From a device: the shell pipeline whose output is the stream (partclone | zstd).
        public var producer: String?
        public var portbase: UInt16 { UInt16(2232 + 2 * index) }
    }

    /// udp-sender's hold options for one stream (`--min-wait`, `--min-clients`, `--max-wait`).
    public struct Holds: Equatable, Sendable {
        public var minWait: Int?
        public var minClients: Int?
        public var maxWait: Int?
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noTargetPartitions(image: String, device: String, available: [String])
        case partitionNotInImage(image: String, partition: String, available: [String])
        case pseudoImage(String)
        case rename(DiskRename.Failure)

        public var description: String {
            switch self {
            case .noTargetPartitions(let image, let device, let available):
                return "No target partitions were found from image \(image) for disk \(device) (the image holds \(available.joined(separator: ", ")))"
            case .partitionNotInImage(let image, let partition, let available):
                return "partition \(partition) is not in image \(image) (it holds \(available.joined(separator: ", ")))"
            case .pseudoImage(let image): return "\(image) is a pseudo image without payloads: feed it from its device"
            case .rename(let failure): return failure.description
            }
        }
    }

    /// The real client sleeps 3 s plus up to 15 s between streams; later streams wait this long.
    public static let partPrepareTime = 30

    public let streams: [Stream]
    /// How the image's disk names become the clients' (empty when they are the same).
    public let rename: DiskRename

    public init(image: ImageDirectory, destinations: [String], restoreDisk: Bool) throws(Failure) {
        guard !image.isPseudoImage else { throw .pseudoImage(image.name) }
        var partitions: [String] = []
        if restoreDisk {
            do { rename = try DiskRename(imageName: image.name, imageDisks: image.disks.map(\.name), destinations: destinations) } catch {
                throw .rename(error)
            }
            let wanted = destinations.contains { ["all", "all-but-usb", "1st-disk"].contains($0) }
                ? (destinations.contains("1st-disk") ? Array(image.disks.prefix(1)) : image.disks).map(\.name)
                : rename.isIdentity ? destinations : image.disks.map(\.name)
            for device in wanted {
                guard let disk = image.disks.first(where: { $0.name == device }) else {
                    throw .noTargetPartitions(image: image.name, device: device, available: image.disks.map(\.name))
                }
                partitions += disk.partitions
            }
        } else {
            rename = DiskRename(pairs: [])
            for partition in destinations {
                guard image.partitions.contains(partition) else {
                    throw .partitionNotInImage(image: image.name, partition: partition, available: image.partitions)
                }
                partitions.append(partition)
            }
        }
        let rename = rename
        streams = partitions.enumerated().compactMap { index, partition in
            guard let payload = image.payloads[partition] else { return nil }
            return Stream(index: index, partition: partition, target: rename.partition(partition), files: payload.chunks.map { image.file($0) })
        }
    }

    /// `-mdst from-device`: each stream is made while it is sent, by `producer(stream)`.
    public init(device: DeviceSource, streams: [DeviceSource.Stream], rename: DiskRename, producer: (DeviceSource.Stream) -> String) {
        self.rename = rename
        self.streams = streams.enumerated().map { index, stream in
            Stream(index: index, partition: stream.partition, target: rename.partition(stream.partition), files: [], producer: producer(stream))
        }
    }

    /// Stream 1 takes the operator's holds; later streams keep the client count and wait at
    /// most `partPrepareTime` (5.3.17's table; the bounded wait also fixes B17 when only
    /// `--clients-to-wait` was given).
    public static func holds(stream index: Int, timeToWait: Int?, clientsToWait: Int?, maxTimeToWait: Int?) -> Holds {
        guard index > 0 else { return Holds(minWait: timeToWait, minClients: clientsToWait, maxWait: maxTimeToWait) }
        return Holds(minWait: timeToWait.map { _ in partPrepareTime }, minClients: clientsToWait, maxWait: partPrepareTime)
    }
}

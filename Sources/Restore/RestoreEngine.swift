import ClonezillaImage
import Foundation
import Partclone

/// `restoredisk` and `restoreparts` from a local image directory, in Clonezilla's order:
/// checks → partition table → hidden data → partitions → swap → MBR boot code → sync.
public struct RestoreEngine: Sendable {
    public let options: RestoreOptions
    public let log: RestoreLog

    public init(options: RestoreOptions, log: RestoreLog) {
        self.options = options
        self.log = log
    }

    // MARK: restoredisk

    /// `streams`: the payloads are received (multicast) instead of read from the image, which
    /// may then be a pseudo image; each partition's stream is checked before it is written.
    /// `filler`: the partitions are written by it (BitTorrent) instead of from payloads.
    public func restoreDisk(imageDirectory: String, targets: [String], streams: (any PayloadStreamSource)? = nil,
                            filler: (any PartitionFiller)? = nil) throws(RestoreError) {
        let received = streams != nil || filler != nil
        let image = try loadImage(imageDirectory, received: received)
        guard !image.disks.isEmpty else {
            throw .usage("\(imageDirectory) is a partition image (no \"disk\" file); use restoreparts")
        }
        guard targets.count == image.disks.count else {
            throw .usage("the image holds \(image.disks.count) disk(s) (\(image.disks.map(\.name).joined(separator: " "))); give one target for each")
        }
        try refuseDuplicates(targets)
        try verifyChecksums(image)
        var plans: [DiskPlan] = []
        for (disk, targetPath) in zip(image.disks, targets) {
            plans.append(try planDisk(disk, image: image, targetPath: targetPath, received: received))
        }
        var streamIndex = 0
        for plan in plans { try restore(plan, image: image, streams: streams, filler: filler, streamIndex: &streamIndex) }
    }

    /// One disk's restore, decided and checked before anything is written.
    struct DiskPlan {
        let disk: ImageDirectory.Disk
        let targetPath: String
        /// The table partitions are restored into: the image's, or the target's own with `-k`.
        let table: SfdiskDump
        let jobs: [PartitionJob]
        /// Size for a target file that does not exist yet.
        let createSize: UInt64?
    }

    private func planDisk(_ disk: ImageDirectory.Disk, image: ImageDirectory, targetPath: String, received: Bool) throws(RestoreError) -> DiskPlan {
        let info = try RestoreTarget.inspect(targetPath)
        var table = disk.partitionTable
        let sector = UInt64(table.sectorSize)
        if info.isBlock && RestoreTarget.isPartitionDevice(targetPath) {
            throw .target(path: targetPath, reason: "is a partition; restoredisk needs a whole disk (use restoreparts for single partitions)")
        }
        if info.isBlock && info.sector != table.sectorSize {
            throw .target(path: targetPath, reason: "logical sector size \(info.sector) differs from the image's \(table.sectorSize)")
        }
        let sourceBytes = (disk.sourceSectors ?? table.requiredSectors) * sector
        let createSize: UInt64? = info.exists && info.size > 0 ? nil : sourceBytes
        let targetBytes = createSize ?? info.size
        if options.keepPartitionTable {
            guard info.exists else { throw .target(path: targetPath, reason: "does not exist, so it has no partition table to keep (-k)") }
            table = try PartitionTableWriter.read(from: targetPath)
        } else {
            if !options.ignoreDiskSize && targetBytes < sourceBytes {
                throw .targetTooSmall(target: targetPath, neededBytes: sourceBytes, actualBytes: targetBytes,
                                      reason: "the source disk \(disk.name) (use -icds to restore onto a smaller disk if the partitions fit)")
            }
            if targetBytes < table.requiredSectors * sector {
                throw .targetTooSmall(target: targetPath, neededBytes: table.requiredSectors * sector, actualBytes: targetBytes,
                                      reason: "the partition table of \(disk.name)")
            }
        }
        var jobs: [PartitionJob] = []
        for part in disk.partitions {
            let number = DeviceNames.partitionNumber(part, onDisk: disk.name)!
            guard let entry = table.partition(number: number) else {
                throw .target(path: targetPath, reason: "has no partition \(number) to restore \(part) into")
            }
            let offset = entry.start * UInt64(table.sectorSize), size = entry.size * UInt64(table.sectorSize)
            guard offset + size <= targetBytes else {
                throw .targetTooSmall(target: targetPath, neededBytes: offset + size, actualBytes: targetBytes, reason: "partition \(part)")
            }
            guard let payload = image.payloads[part] else { throw .image(.missingPayload(partition: part, directory: image.path)) }
            jobs.append(try JobChecks.job(partition: part, payload: payload, directory: image.path,
                                          offset: offset, size: size, options: options, received: received))
        }
        return DiskPlan(disk: disk, targetPath: targetPath, table: table, jobs: jobs, createSize: createSize)
    }

    private func restore(_ plan: DiskPlan, image: ImageDirectory, streams: (any PayloadStreamSource)?, filler: (any PartitionFiller)?,
                         streamIndex: inout Int) throws(RestoreError) {
        let (disk, targetPath, table, createSize) = (plan.disk, plan.targetPath, plan.table, plan.createSize)
        // One open for the whole disk; sfdisk opens the device itself and does not ask for
        // exclusive access, so our O_EXCL descriptor does not stand in its way.
        let target = try RestoreTarget(path: targetPath, createSize: createSize)
        if !options.keepPartitionTable {
            log.info("\(disk.name) → \(targetPath): writing the \(table.label == .gpt ? "GPT" : "MBR") partition table (\(table.partitions.count) partitions)")
            try PartitionTableWriter.write(table, to: target)
        }
        try target.publishPartitions(table)
        if options.restoreHiddenData, table.label == .dos, let hidden = disk.hiddenDataFile {
            try restoreHiddenData(image.file(hidden), table: table, target: target)
        }
        for job in plan.jobs {
            if let filler {
                log.info("\(job.partition): filled by its torrent → \(target.path) at byte \(job.offset)")
                try filler.fill(partition: job.partition, index: streamIndex, target: target.path, offset: job.offset, size: job.size)
            } else {
                try restorePartition(job, image: image, target: target, streams: streams, streamIndex: streamIndex)
            }
            streamIndex += 1
        }
        try restoreSwap(disk: disk, table: table, target: target)
        if !options.skipBootCode, let mbr = disk.mbrFile {
            let code = try readFile(image.file(mbr))
            guard code.count >= 446 else { throw .image(.malformed(file: image.file(mbr), line: 0, reason: "shorter than 446 bytes")) }
            try target.write(Array(code[..<446]), at: 0)
            log.verbose("\(disk.name): MBR boot code (446 bytes) written")
        }
        log.verbose("\(disk.name): flushing \(targetPath) to stable storage")
        try target.sync()
        log.info("\(disk.name) → \(targetPath): restore finished")
    }

    private func restoreHiddenData(_ path: String, table: SfdiskDump, target: RestoreTarget) throws(RestoreError) {
        let data = try readFile(path)
        let gap = ((table.partitions.map(\.start).min() ?? 1) - 1) * UInt64(table.sectorSize)
        guard UInt64(data.count) <= gap else {
            log.info("hidden data after the MBR (\(data.count) bytes) does not fit the \(gap)-byte gap before the first partition; skipped")
            return
        }
        try target.write(data, at: UInt64(table.sectorSize))
        log.verbose("hidden data after the MBR (\(data.count) bytes) written")
    }

    private func restoreSwap(disk: ImageDirectory.Disk, table: SfdiskDump, target: RestoreTarget) throws(RestoreError) {
        for swap in disk.swapPartitions {
            guard let number = DeviceNames.partitionNumber(swap.partition, onDisk: disk.name),
                  let entry = table.partition(number: number) else { continue }
            let size = entry.size * UInt64(table.sectorSize)
            let page = try SwapHeader.page(areaBytes: size, pageSize: SwapHeader.systemPageSize, uuid: swap.uuid, label: swap.label)
            try target.write(page, at: entry.start * UInt64(table.sectorSize))
            log.info("\(swap.partition): swap area recreated" + (swap.label.map { " (label \($0))" } ?? ""))
        }
    }

    // MARK: restoreparts


    /// `streams`: as for `restoreDisk`; stream k is the k-th partition named.
    public func restoreParts(imageDirectory: String, partitions: [String], targets: [String], streams: (any PayloadStreamSource)? = nil) throws(RestoreError) {
        let image = try loadImage(imageDirectory, received: streams != nil)
        guard !partitions.isEmpty, partitions.count == targets.count else {
            throw .usage("give one target for each partition (\(partitions.count) partition(s), \(targets.count) target(s))")
        }
        try refuseDuplicates(targets)
        try verifyChecksums(image)
        var planned: [(job: PartitionJob, target: String, createSize: UInt64?)] = []
        for (part, targetPath) in zip(partitions, targets) {
            guard image.partitions.contains(part), let payload = image.payloads[part] else {
                throw .image(.missingPayload(partition: part, directory: image.path))
            }
            let info = try RestoreTarget.inspect(targetPath)
            let exists = info.exists && info.size > 0
            // The size check against an existing target is the job's own; a new file is made
            // as large as the stream's device (or the source partition, for raw payloads).
            let job = try JobChecks.job(partition: part, payload: payload, directory: image.path, offset: 0,
                                        size: exists ? info.size : .max, options: options, received: streams != nil)
            guard let needed = job.header?.deviceSize ?? sourcePartitionBytes(part, image: image) else {
                throw .usage("cannot tell the size of \(part): create \(targetPath) with the right size first")
            }
            if exists && job.header == nil && !options.ignoreDiskSize && info.size < needed {
                throw .targetTooSmall(target: targetPath, neededBytes: needed, actualBytes: info.size, reason: "the raw partition \(part)")
            }
            planned.append((job, targetPath, exists ? nil : needed))
        }
        for (index, item) in planned.enumerated() {
            let target = try RestoreTarget(path: item.target, createSize: item.createSize)
            let job = PartitionJob(partition: item.job.partition, payload: item.job.payload, offset: 0,
                                   size: target.size, header: item.job.header)
            try restorePartition(job, image: image, target: target, streams: streams, streamIndex: index)
            try target.sync()
        }
    }

    private func refuseDuplicates(_ targets: [String]) throws(RestoreError) {
        let resolved = targets.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
        guard Set(resolved).count == resolved.count else { throw .usage("the same target is named twice: \(targets.joined(separator: " "))") }
    }

    private func sourcePartitionBytes(_ part: String, image: ImageDirectory) -> UInt64? {
        for disk in image.disks {
            if let number = DeviceNames.partitionNumber(part, onDisk: disk.name),
               let entry = disk.partitionTable.partition(number: number) {
                return entry.size * UInt64(disk.partitionTable.sectorSize)
            }
        }
        return nil
    }

    // MARK: shared

    private func restorePartition(_ job: PartitionJob, image: ImageDirectory, target: RestoreTarget,
                                  streams: (any PayloadStreamSource)? = nil, streamIndex: Int = 0) throws(RestoreError) {
        let kind: String
        switch job.payload.kind {
        case .partclone(let fs): kind = "\(fs), partclone"
        case .raw: kind = "raw"
        case .ntfsclone: kind = "ntfsclone"
        }
        log.info("\(job.partition): restoring (\(kind), \(job.payload.chunks.count) chunk file(s)) → \(target.path) at byte \(job.offset)")
        let progress = ProgressMeter(name: job.partition, totalBytes: job.expectedBytes, live: log.liveProgress)
        var restorer = PayloadRestorer(payload: job.payload, directory: image.path)
        guard let streams else {
            try restorer.restore(into: target, at: job.offset, limit: job.size, progress: progress)
            return log.info(progress.finishSummary())
        }
        let stream = try streams.open(partition: job.partition, index: streamIndex)
        restorer.stream = stream
        restorer.headerCheck = JobChecks.streamCheck(partition: job.partition, payload: job.payload, size: job.size, options: options, stream: stream.name)
        do {
            try restorer.restore(into: target, at: job.offset, limit: job.size, progress: progress)
            streams.close(stream, succeeded: true)
        } catch {
            streams.close(stream, succeeded: false)
            throw error
        }
        log.info(progress.finishSummary())
    }

    private func loadImage(_ path: String, received: Bool = false) throws(RestoreError) -> ImageDirectory {
        let image: ImageDirectory
        do { image = try ImageDirectory.load(path) } catch { throw .image(error) }
        if image.isPseudoImage && !received {
            throw .image(.notAnImage(directory: path, reason: "it is a pseudo image (00-pseudo-img-note.txt) without file-system data"))
        }
        return image
    }

    private func verifyChecksums(_ image: ImageDirectory) throws(RestoreError) {
        for kind in options.checksumChecks {
            log.info("checking \(kind.rawValue) of \(image.path)")
            do { try image.verifyChecksums(kind) } catch { throw .image(error) }
        }
    }

    private func readFile(_ path: String) throws(RestoreError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .image(.unreadable(file: path, reason: "cannot be read"))
        }
        return [UInt8](data)
    }
}

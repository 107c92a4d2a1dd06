import CLinuxBlock
import ClonezillaImage
import Foundation

/// A disk or partition being written: a block device or a regular (image) file. Owns the
/// descriptor; every write is a `pwrite` at an absolute offset.
public final class RestoreTarget {
    public let path: String
    public let isBlockDevice: Bool
    public private(set) var size: UInt64
    public let logicalSectorSize: Int
    private(set) var fd: Int32 = -1

    /// Opens an existing target for reading its size, or describes a file yet to be created.
    public static func inspect(_ path: String) throws(RestoreError) -> (exists: Bool, isBlock: Bool, size: UInt64, sector: Int) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { return (false, false, 0, 512) }
            throw .io(path: path, operation: "stat", errno: errno)
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            return (true, false, UInt64(st.st_size), 512)
        case S_IFBLK:
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
            defer { close(fd) }
            var bytes: UInt64 = 0
            var sector: Int32 = 512
            guard clb_device_size(fd, &bytes) == 0 else { throw .io(path: path, operation: "BLKGETSIZE64", errno: errno) }
            _ = clb_logical_sector_size(fd, &sector)
            return (true, true, bytes, Int(sector))
        default:
            throw .target(path: path, reason: "not a block device or a regular file")
        }
    }

    /// Opens the target for writing. A missing regular file is created with `createSize` bytes;
    /// an existing one is never truncated, only grown to `createSize` when `grow` is set.
    public init(path: String, createSize: UInt64? = nil) throws(RestoreError) {
        self.path = path
        let info = try RestoreTarget.inspect(path)
        isBlockDevice = info.isBlock
        logicalSectorSize = info.sector
        if info.isBlock {
            try RestoreTarget.refuseIfMounted(path)
            // O_EXCL on a block device fails while it is mounted or held by another claimant.
            fd = open(path, O_RDWR | O_CLOEXEC | O_EXCL)
            guard fd >= 0 else { throw .io(path: path, operation: "open (exclusive)", errno: errno) }
            size = info.size
        } else {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
            size = info.size
            if let createSize, !info.exists || info.size == 0 {
                guard ftruncate(fd, off_t(createSize)) == 0 else { throw .io(path: path, operation: "ftruncate", errno: errno) }
                size = createSize
            }
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(RestoreError) {
        guard offset + UInt64(bytes.count) <= size else {
            throw .target(path: path, reason: "write of \(bytes.count) bytes at \(offset) passes the end (\(size) bytes)")
        }
        if let code = PositionedIO.writeAll(fd, bytes, at: offset) {
            throw .io(path: path, operation: "pwrite at \(offset)", errno: code)
        }
    }

    public func write(_ bytes: [UInt8], at offset: UInt64) throws(RestoreError) {
        let result = bytes.withUnsafeBytes { b in Result { () throws(RestoreError) in try write(b, at: offset) } }
        try result.get()
    }

    public func read(count: Int, at offset: UInt64) throws(RestoreError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        guard n >= 0 else { throw .io(path: path, operation: "pread", errno: errno) }
        return Array(buffer[..<n])
    }

    public func sync() throws(RestoreError) {
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
    }

    /// Tells the kernel about the partitions one by one with BLKPG (this kernel has no
    /// partition-table parsers, so BLKRRPART would do nothing), after removing stale ones.
    public func publishPartitions(_ table: SfdiskDump) throws(RestoreError) {
        guard isBlockDevice else { return }
        for number in 1...max(64, table.partitions.map(\.number).max() ?? 0) {
            _ = clb_delete_partition(fd, Int32(number))
        }
        let sector = Int64(table.sectorSize)
        for part in table.partitions {
            // An extended container is announced with a 1 KiB size, as the kernel's own parser does.
            let length = part.isExtendedContainer && table.label == .dos ? Int64(min(2, part.size)) * 512 : Int64(part.size) * sector
            let status = clb_add_partition(fd, Int32(part.number), Int64(part.start) * sector, length)
            guard status == 0 else { throw .io(path: path, operation: "BLKPG add partition \(part.number)", errno: -status) }
        }
    }

    /// True when `path` is a partition of another block device (per sysfs), which cannot hold
    /// a partition table of its own for `restoredisk`.
    public static func isPartitionDevice(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFBLK else { return false }
        let major = (st.st_rdev >> 8) & 0xFFF | (st.st_rdev >> 32) & ~0xFFF
        let minor = st.st_rdev & 0xFF | (st.st_rdev >> 12) & ~0xFF
        return FileManager.default.fileExists(atPath: "/sys/dev/block/\(major):\(minor)/partition")
    }

    /// Refuses a device that is mounted, or whose partitions are, per /proc/mounts.
    static func refuseIfMounted(_ path: String) throws(RestoreError) {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return }
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map {
            $0.hasPrefix("/") ? $0 : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent($0)
        } ?? path
        for line in mounts.split(separator: "\n") {
            guard let device = line.split(separator: " ").first.map(String.init) else { continue }
            for candidate in Set([path, resolved]) where device == candidate || isPartition(device, of: candidate) {
                throw .target(path: path, reason: "\(device) is mounted; unmount it before restoring")
            }
        }
    }

    static func isPartition(_ device: String, of disk: String) -> Bool {
        DeviceNames.partitionNumber(device, onDisk: disk) != nil
    }
}

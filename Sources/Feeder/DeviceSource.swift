import ClonezillaImage

/// `-mdst from-device`: a live source disk fed straight to the clients (contract §4.2, the
/// upstream way: `partclone.<fs> -c -s /dev/<p> -o - | zstd -T0 -c` per partition). What the
/// clients need besides the streams is a pseudo image saved from the disk: its partition table
/// dumps, boot sectors, the partition list, and for every streamed partition an empty payload
/// name that tells the client the file system and the compression. This type decides all of
/// it from what the I/O side read (sfdisk's dump, blkid's answers, the disk size); the bytes
/// of the boot sectors are copied by the caller from the regions it names.
public struct DeviceSource: Equatable, Sendable {
    public struct Partition: Equatable, Sendable {
        public var name: String
        /// blkid's TYPE, nil when it found no file system.
        public var type: String?
        public var uuid: String?
        public var label: String?
        public var bytes: UInt64

        public init(name: String, type: String?, uuid: String? = nil, label: String? = nil, bytes: UInt64) {
            self.name = name
            self.type = type
            self.uuid = uuid
            self.label = label
            self.bytes = bytes
        }
    }

    /// A region of the disk copied into a metadata file.
    public struct Region: Equatable, Sendable {
        public var file: String
        public var firstSector: UInt64
        public var sectors: UInt64
    }

    /// One partition's stream: the file system partclone reads it as, and its payload name.
    public struct Stream: Equatable, Sendable {
        public var partition: String
        public var fileSystem: String
        public var payloadName: String { "\(partition).\(fileSystem)-ptcl-img.zst" }
        /// The partclone program that reads it (`partclone.dd` copies raw bytes).
        public var partclone: String { "partclone.\(fileSystem)" }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noPartitions(String)
        case unknownPartition(disk: String, partition: String, available: [String])

        public var description: String {
            switch self {
            case .noPartitions(let disk): return "source disk \(disk) has no partitions to feed"
            case .unknownPartition(let disk, let partition, let available):
                return "\(partition) is not a partition of \(disk) (it has \(available.joined(separator: ", ")))"
            }
        }
    }

    /// File systems whose partclone program Clonezilla uses under the same name.
    public static let partcloneFileSystems: Set<String> = ["ext2", "ext3", "ext4", "vfat", "fat", "exfat", "ntfs", "xfs", "btrfs",
                                                         "hfsplus", "f2fs", "nilfs2", "minix", "reiserfs", "jfs"]

    public let disk: String
    public let sectors: UInt64
    public let table: SfdiskDump
    public let partitions: [Partition]

    public init(disk: String, sectors: UInt64, table: SfdiskDump, partitions: [Partition]) throws(Failure) {
        guard !partitions.isEmpty else { throw .noPartitions(disk) }
        self.disk = disk
        self.sectors = sectors
        self.table = table
        self.partitions = partitions
    }

    /// Partitions that are streamed (not swap, not an extended container), with their file
    /// system; `available` says which partclone programs exist (others are copied raw).
    public func streams(only selected: [String]? = nil, available: (String) -> Bool) throws(Failure) -> [Stream] {
        let names = partitions.map(\.name)
        if let selected, let missing = selected.first(where: { !names.contains($0) }) {
            throw .unknownPartition(disk: disk, partition: missing, available: names)
        }
        let chosen = selected.map { selected in selected.compactMap { name in partitions.first { $0.name == name } } } ?? partitions
        return chosen.compactMap { partition in
            guard partition.type != "swap", !isExtendedContainer(partition) else { return nil }
            let type = partition.type.map { $0 == "fat" || $0 == "msdos" ? "vfat" : $0 } ?? "dd"
            let fileSystem = Self.partcloneFileSystems.contains(type) && available("partclone." + type) ? type : "dd"
            return Stream(partition: partition.name, fileSystem: fileSystem)
        }
    }

    func isExtendedContainer(_ partition: Partition) -> Bool {
        table.partitions.first { "/dev/" + partition.name == $0.device || $0.device.hasSuffix("/" + partition.name) }?.isExtendedContainer == true
    }

    /// Boot sectors and table copies, as `ocs-sr savedisk` keeps them.
    public var regions: [Region] {
        var regions = [Region(file: "\(disk)-mbr", firstSector: 0, sectors: 1)]
        if table.label == .gpt {
            regions.append(Region(file: "\(disk)-gpt-1st", firstSector: 0, sectors: 34))
            if sectors > 33 { regions.append(Region(file: "\(disk)-gpt-2nd", firstSector: sectors - 33, sectors: 33)) }
        } else if let first = table.partitions.map(\.start).min(), first > 1, (first - 1) * 512 <= 1 << 30 {
            regions.append(Region(file: "\(disk)-hidden-data-after-mbr", firstSector: 1, sectors: first - 1))
        }
        return regions
    }

    /// The text files of the pseudo image, by name (the table dumps come from the caller's
    /// tools: `sfdisk -d` is `table.text`, `parted` output is passed in when available).
    public func metadata(streams: [Stream], name: String, parted: String?, savedAt: String) -> [String: String] {
        var files: [String: String] = [:]
        files["disk"] = disk + "\n"
        // The client restores the partitions of `parts` in order, one stream each: only the
        // streamed ones (swap is remade from swappt-*.info, as in a saved image).
        files["parts"] = streams.map(\.partition).joined(separator: " ") + "\n"
        files["\(disk)-pt.sf"] = table.text.hasSuffix("\n") ? table.text : table.text + "\n"
        files["\(disk)-pt.parted"] = parted ?? syntheticParted()
        var devFs = "# <Device name>   <File system>   <Size>\n# File system is got from blkid by LiteServer (from-device pseudo image).\n"
        for partition in partitions {
            devFs += "/dev/\(partition.name) \(partition.type ?? "") \(Self.size(partition.bytes))\n"
        }
        files["dev-fs.list"] = devFs
        for partition in partitions where partition.type == "swap" {
            var info = ""
            if let uuid = partition.uuid { info += "UUID=\"\(uuid)\"\n" }
            if let label = partition.label { info += "LABEL=\"\(label)\"\n" }
            files["swappt-\(partition.name).info"] = info
        }
        files["clonezilla-img"] = "This is a pseudo image for massive deployment from a device, made by LiteServer.\n"
        files["00-pseudo-img-note.txt"] = "Pseudo image of /dev/\(disk) made at \(savedAt) for -mdst from-device: the partitions are streamed from the device, not stored here.\n"
        files["Info-saved-by-cmd.txt"] = "ocs-live-feed-img -mdst from-device (\(name), \(streams.map(\.partition).joined(separator: " ")))\n"
        for stream in streams { files[stream.payloadName] = "" }
        return files
    }

    /// What ocs-sr reads from `<disk>-pt.parted` when parted is not installed: the disk size
    /// line and the table type.
    func syntheticParted() -> String {
        var text = "Model: LiteServer source disk\nDisk /dev/\(disk): \(sectors)s\nSector size (logical/physical): 512B/512B\n"
        text += "Partition Table: \(table.label == .gpt ? "gpt" : "msdos")\nDisk Flags: \n\nNumber  Start  End  Size  File system  Name  Flags\n"
        for partition in table.partitions {
            text += " \(partition.number)      \(partition.start)s  \(partition.end - 1)s  \(partition.size)s\n"
        }
        return text + "\n"
    }

    static func size(_ bytes: UInt64) -> String {
        for (unit, shift) in [("G", 30), ("M", 20), ("K", 10)] where bytes >= 1 << shift { return "\(bytes >> UInt64(shift))\(unit)" }
        return "\(bytes)"
    }
}

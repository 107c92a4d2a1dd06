import Foundation

/// A Clonezilla image directory read into memory: its metadata files parsed and validated, and a
/// manifest of every partition's chunk files. Reading it writes nothing and opens no payload.
public struct ImageDirectory: Sendable {
    public struct Disk: Sendable {
        public var name: String
        public var partitionTable: SfdiskDump
        /// Source disk size from `<disk>-pt.parted`, when present.
        public var sourceSectors: UInt64?
        public var mbrFile: String?
        public var hiddenDataFile: String?
        /// GPT fallbacks Clonezilla keeps beside the sfdisk dump: LBA 0–33, the last 33 LBAs,
        /// and an `sgdisk -b` backup.
        public var gptPrimaryFile: String?
        public var gptBackupFile: String?
        public var sgdiskBackupFile: String?
        /// Partitions of `parts` that live on this disk, in `parts` order.
        public var partitions: [String]
        public var swapPartitions: [SwapInfo]
    }

    public var path: String
    public var name: String { (path as NSString).lastPathComponent }
    public var disks: [Disk]
    /// `parts` in order: what restoreparts/restoredisk stream, one payload each.
    public var partitions: [String]
    public var payloads: [String: Payload]
    public var deviceFileSystems: [DeviceFileSystem]
    public var checksumFiles: [ChecksumFile.Kind]
    /// Pseudo images (multicast from a device) have no payload data on disk.
    public var isPseudoImage: Bool
    public var files: [String]

    public func file(_ name: String) -> String { path + "/" + name }

    public static func load(_ path: String) throws(ImageError) -> ImageDirectory {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw .notAnImage(directory: path, reason: "no such directory")
        }
        let files: [String]
        do { files = try fm.contentsOfDirectory(atPath: path).sorted() } catch {
            throw .unreadable(file: path, reason: "\(error)")
        }
        guard files.contains("parts") || files.contains("disk") else {
            throw .notAnImage(directory: path, reason: "it has neither a \"disk\" nor a \"parts\" file")
        }
        func read(_ name: String) throws(ImageError) -> String {
            do { return try String(contentsOfFile: path + "/" + name, encoding: .utf8) } catch {
                throw .unreadable(file: path + "/" + name, reason: "not readable UTF-8 text")
            }
        }
        func words(_ name: String) throws(ImageError) -> [String] {
            try read(name).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
        }
        /// A GPT dump must hold exactly the sectors `dd` saved, or it is damaged.
        func gptDump(_ name: String, sectors: Int, sectorSize: Int) throws(ImageError) -> String? {
            guard files.contains(name) else { return nil }
            let size = (try? fm.attributesOfItem(atPath: path + "/" + name)[.size] as? Int) ?? -1
            guard size == sectors * sectorSize else {
                throw .malformed(file: path + "/" + name, line: 0, reason: "holds \(size) bytes, expected \(sectors) sectors of \(sectorSize)")
            }
            return name
        }
        let partitions = files.contains("parts") ? try words("parts") : []
        for part in partitions where part.contains("/") || part.hasPrefix(".") {
            throw .malformed(file: path + "/parts", line: 1, reason: "\"\(part)\" is not a device name")
        }
        if files.contains("lvm_vg_dev.list") || files.contains("lvm_logv.list") {
            throw .unsupported(file: path + "/lvm_vg_dev.list", reason: "images with LVM volumes are not supported yet")
        }
        if files.contains("luks-dev.list") {
            throw .unsupported(file: path + "/luks-dev.list", reason: "images with LUKS volumes are not supported yet")
        }
        let isPseudo = files.contains("00-pseudo-img-note.txt")
        var payloads: [String: Payload] = [:]
        for part in partitions {
            // A pseudo image (from a device) may still name its payloads: empty placeholders
            // that tell a receiving client the file system and compression.
            payloads[part] = isPseudo ? try? Payload.find(partition: part, in: files, directory: path)
                                      : try Payload.find(partition: part, in: files, directory: path)
        }

        var disks: [Disk] = []
        for diskName in files.contains("disk") ? try words("disk") : [] {
            let ptFile = "\(diskName)-pt.sf"
            guard files.contains(ptFile) else {
                throw .notAnImage(directory: path, reason: "disk \(diskName) has no \(ptFile)")
            }
            let table = try SfdiskDump.parse(try read(ptFile), file: path + "/" + ptFile)
            let parted = files.contains("\(diskName)-pt.parted") ? PartedListing.diskSectors(try read("\(diskName)-pt.parted")) : nil
            var swaps: [SwapInfo] = []
            for part in table.partitions {
                let partName = DeviceNames.partitionName(disk: diskName, number: part.number)
                let infoFile = "swappt-\(partName).info"
                if files.contains(infoFile) {
                    swaps.append(try SwapInfo.parse(try read(infoFile), partition: partName, file: path + "/" + infoFile))
                }
            }
            let onDisk = partitions.filter { DeviceNames.partitionNumber($0, onDisk: diskName) != nil }
            for part in onDisk {
                let number = DeviceNames.partitionNumber(part, onDisk: diskName)!
                guard table.partition(number: number) != nil else {
                    throw .malformed(file: path + "/" + ptFile, line: 0, reason: "has no partition \(number) for \(part) listed in parts")
                }
            }
            disks.append(Disk(
                name: diskName, partitionTable: table, sourceSectors: parted,
                mbrFile: files.contains("\(diskName)-mbr") ? "\(diskName)-mbr" : nil,
                hiddenDataFile: files.contains("\(diskName)-hidden-data-after-mbr") ? "\(diskName)-hidden-data-after-mbr" : nil,
                gptPrimaryFile: try gptDump("\(diskName)-gpt-1st", sectors: 34, sectorSize: table.sectorSize),
                gptBackupFile: try gptDump("\(diskName)-gpt-2nd", sectors: 33, sectorSize: table.sectorSize),
                sgdiskBackupFile: files.contains("\(diskName)-gpt.gdisk") ? "\(diskName)-gpt.gdisk" : nil,
                partitions: onDisk, swapPartitions: swaps))
        }
        let devFs = files.contains("dev-fs.list") ? DeviceFileSystem.parseList(try read("dev-fs.list")) : []
        return ImageDirectory(path: path, disks: disks, partitions: partitions, payloads: payloads,
                              deviceFileSystems: devFs,
                              checksumFiles: ChecksumFile.Kind.allCases.filter { files.contains($0.rawValue) },
                              isPseudoImage: isPseudo, files: files)
    }

    /// Verifies a checksum file of the image (`-cm`, `-cs`, `-cb2`, `-cb3`).
    public func verifyChecksums(_ kind: ChecksumFile.Kind) throws(ImageError) {
        guard files.contains(kind.rawValue) else { throw .noChecksumFile(file: kind.rawValue, option: kind.option) }
        let text: String
        do { text = try String(contentsOfFile: file(kind.rawValue), encoding: .utf8) } catch {
            throw .unreadable(file: file(kind.rawValue), reason: "not readable UTF-8 text")
        }
        try ChecksumFile.parse(text, kind: kind).verify(directory: path)
    }
}

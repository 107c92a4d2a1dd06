import ClonezillaImage

/// Recreates a disk's partition table from its sfdisk dump the way Clonezilla does: old
/// MBR/GPT areas cleared, then `sfdisk --wipe always --force` fed the dump without `last-lba`,
/// then the result read back and compared, so a table that did not take is caught at once.
enum PartitionTableWriter {
    static func write(_ table: SfdiskDump, to target: RestoreTarget) throws(RestoreError) {
        let sector = UInt64(table.sectorSize)
        let zeros = [UInt8](repeating: 0, count: Int(34 * sector))
        try target.write(zeros, at: 0)
        let tailSectors: UInt64 = 33
        if target.size >= (34 + tailSectors) * sector {
            try target.write(Array(zeros[..<Int(tailSectors * sector)]), at: target.size / sector * sector - tailSectors * sector)
        }
        try target.sync()
        let result = try ToolRunner.run("sfdisk", ["--force", "--no-reread", "--no-tell-kernel", "--wipe", "always", "-q", target.path],
                                        input: table.textForRestore + "\n", package: "fdisk")
        guard result.status == 0 else { throw .tool(name: "sfdisk", status: result.status, output: result.output) }
        let written = try read(from: target.path)
        for part in table.partitions {
            guard let got = written.partition(number: part.number), got.start == part.start, got.size == part.size else {
                throw .target(path: target.path, reason: "the partition table written by sfdisk does not match the image's partition \(part.number)")
            }
        }
    }

    /// The table currently on a disk or image file (for `-k`).
    static func read(from path: String) throws(RestoreError) -> SfdiskDump {
        let result = try ToolRunner.run("sfdisk", ["-d", path], package: "fdisk")
        guard result.status == 0 else { throw .target(path: path, reason: "has no readable partition table (sfdisk -d: \(result.output.trimmed))") }
        do { return try SfdiskDump.parse(result.output, file: "sfdisk -d \(path)") } catch { throw .image(error) }
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        return String(s)
    }
}

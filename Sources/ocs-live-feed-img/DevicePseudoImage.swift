import ClonezillaImage
import Feeder
import Foundation

/// `-mdst from-device` on this machine: reads the source disk's table (`sfdisk -d`), its
/// partitions' file systems (`blkid -p`), size and boot sectors, and writes the pseudo image
/// the clients download (DeviceSource decides its contents) into the state directory. The
/// device is only read.
enum DevicePseudoImage {
    struct Made {
        var directory: String
        var source: DeviceSource
        var streams: [DeviceSource.Stream]
    }

    static func make(disk: String, name: String, under root: String, logs: String) throws -> Made {
        let device = "/dev/" + disk
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: device, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw FeederFailure("source device \(device) does not exist")
        }
        let sizeText = try output("blockdev", ["--getsz", device])
        guard let sectors = UInt64(sizeText.trimmingCharacters(in: .whitespacesAndNewlines)), sectors > 0 else {
            throw FeederFailure("cannot read the size of \(device)")
        }
        let dump = try output("sfdisk", ["-d", device])
        let table: SfdiskDump
        do { table = try SfdiskDump.parse(dump, file: "sfdisk -d \(device)") } catch { throw FeederFailure("\(device): \(error)") }
        var partitions: [DeviceSource.Partition] = []
        for entry in table.partitions {
            let name = String(entry.device.dropFirst(5))
            guard FileManager.default.fileExists(atPath: entry.device) else {
                throw FeederFailure("\(entry.device) (partition \(entry.number) of \(device)) has no device node; add it with partx -a \(device)")
            }
            let probe = (try? output("blkid", ["-p", "-o", "export", entry.device])) ?? ""
            var fields: [String: String] = [:]
            for line in probe.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            partitions.append(.init(name: name, type: fields["TYPE"], uuid: fields["UUID"], label: fields["LABEL"], bytes: entry.size * 512))
            if mountedReadWrite(entry.device) {
                say("ocs-live-feed-img: warning: \(entry.device) is mounted read-write; its stream may not be consistent")
            }
        }
        let source = try DeviceSource(disk: disk, sectors: sectors, table: table, partitions: partitions)
        let streams = try source.streams { tool in FileManager.default.isExecutableFile(atPath: "/usr/sbin/" + tool) || which(tool) }
        let directory = root + "/" + name
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let parted = try? output("parted", ["-s", device, "unit", "s", "print"])
        let stamp = ISO8601DateFormatter().string(from: Date())
        for (file, text) in source.metadata(streams: streams, name: name, parted: parted, savedAt: stamp) {
            try text.write(toFile: directory + "/" + file, atomically: true, encoding: .utf8)
        }
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FeederFailure("cannot open \(device): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        for region in source.regions {
            var bytes = [UInt8](repeating: 0, count: Int(region.sectors * 512))
            let count = pread(fd, &bytes, bytes.count, off_t(region.firstSector * 512))
            guard count == bytes.count else { throw FeederFailure("cannot read \(region.file) from \(device)") }
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + region.file))
        }
        return Made(directory: directory, source: source, streams: streams)
    }

    /// The shell pipeline that makes a stream while it is sent.
    static func producer(disk: String, logs: String) -> (DeviceSource.Stream) -> String {
        { stream in
            let read = stream.fileSystem == "dd" ? "partclone.dd -z 16777216" : "\(stream.partclone) -z 10485760 -c"
            return "\(read) -s /dev/\(stream.partition) -o - -L \(logs)/partclone-\(stream.partition).log 2>/dev/null | zstd -T0 -q -c"
        }
    }

    static func mountedReadWrite(_ device: String) -> Bool {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        return mounts.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[0] == device && fields[3].split(separator: ",").contains("rw")
        }
    }

    static func which(_ tool: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }
    }

    static func output(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        do { try process.run() } catch { throw FeederFailure("cannot run \(tool): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FeederFailure("\(tool) \(arguments.joined(separator: " ")) failed (status \(process.terminationStatus))") }
        return String(decoding: data, as: UTF8.self)
    }
}

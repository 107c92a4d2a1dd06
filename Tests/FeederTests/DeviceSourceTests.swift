import ClonezillaImage
import Foundation
import Testing
import TestSupport
@testable import Feeder

@Suite struct DeviceSourceTests {
    func gptSource() throws -> DeviceSource {
        let text = try String(contentsOfFile: TestEnv.fixture("cz-gpt/image/sda-pt.sf"), encoding: .utf8)
        let table = try SfdiskDump.parse(text.replacingOccurrences(of: "/dev/sda", with: "/dev/loop3p").replacingOccurrences(of: "device: /dev/loop3p", with: "device: /dev/loop3"), file: "t")
        return try DeviceSource(disk: "loop3", sectors: 65536, table: table, partitions: [
            .init(name: "loop3p1", type: "ext4", uuid: "u1", bytes: 16 << 20),
            .init(name: "loop3p2", type: "vfat", bytes: 8 << 20),
            .init(name: "loop3p3", type: "swap", uuid: "5a5a0001-2222-4333-8444-555566667777", label: "fxswap", bytes: 2 << 20),
            .init(name: "loop3p4", type: nil, bytes: 1 << 20),
        ])
    }

    @Test func streamsSkipSwapAndFallBackToRawCopies() throws {
        let source = try gptSource()
        let streams = try source.streams { $0 != "partclone.vfat" }
        #expect(streams.map(\.partition) == ["loop3p1", "loop3p2", "loop3p4"])
        #expect(streams.map(\.payloadName) == ["loop3p1.ext4-ptcl-img.zst", "loop3p2.dd-ptcl-img.zst", "loop3p4.dd-ptcl-img.zst"],
                "no partclone.vfat installed: copied raw")
        #expect(try source.streams { _ in true }.map(\.partclone) == ["partclone.ext4", "partclone.vfat", "partclone.dd"])
        #expect(try source.streams(only: ["loop3p2"]) { _ in true }.map(\.partition) == ["loop3p2"])
        #expect(throws: DeviceSource.Failure.self) { try source.streams(only: ["loop3p9"]) { _ in true } }
        #expect(throws: DeviceSource.Failure.noPartitions("sdz")) { try DeviceSource(disk: "sdz", sectors: 1, table: source.table, partitions: []) }
    }

    @Test func pseudoImageFilesAreWhatTheClientReads() throws {
        let source = try gptSource()
        let streams = try source.streams { _ in true }
        let files = source.metadata(streams: streams, name: "raw-psdo-x", parted: nil, savedAt: "now")
        #expect(files["disk"] == "loop3\n" && files["parts"] == "loop3p1 loop3p2 loop3p4\n")
        #expect(files["loop3-pt.sf"]?.contains("label: gpt") == true)
        #expect(files["loop3-pt.parted"]?.contains("Partition Table: gpt") == true && files["loop3-pt.parted"]?.contains("Disk /dev/loop3: 65536s") == true)
        #expect(files["swappt-loop3p3.info"] == "UUID=\"5a5a0001-2222-4333-8444-555566667777\"\nLABEL=\"fxswap\"\n", "the fixture's format")
        #expect(files["loop3p1.ext4-ptcl-img.zst"] == "" && files["loop3p4.dd-ptcl-img.zst"] == "")
        #expect(files["dev-fs.list"]?.contains("/dev/loop3p1 ext4 16M\n") == true && files["00-pseudo-img-note.txt"] != nil)
        #expect(source.regions == [.init(file: "loop3-mbr", firstSector: 0, sectors: 1), .init(file: "loop3-gpt-1st", firstSector: 0, sectors: 34),
                                   .init(file: "loop3-gpt-2nd", firstSector: 65503, sectors: 33)])
        // Written out, the files load as a pseudo image (no payload data) whose parts stream.
        let work = TestEnv.scratch("device-source")
        defer { TestEnv.cleanup(work) }
        for (name, text) in files { try text.write(toFile: work + "/" + name, atomically: true, encoding: .utf8) }
        for region in source.regions { TestEnv.zeroFile(work + "/" + region.file, size: region.sectors * 512) }
        let image = try ImageDirectory.load(work)
        #expect(image.isPseudoImage && image.disks.map(\.name) == ["loop3"])
        #expect(image.payloads["loop3p1"] != nil && image.payloads["loop3p4"] != nil, "a receiving client learns each payload's format from its placeholder")
        let plan = StreamPlan(device: source, streams: streams, rename: DiskRename(pairs: [.init(from: "loop3", to: "nvme0n1")])) { "read \($0.partition)" }
        #expect(plan.streams.map(\.target) == ["nvme0n1p1", "nvme0n1p2", "nvme0n1p4"] && plan.streams.map(\.portbase) == [2232, 2234, 2236])
        #expect(plan.streams.allSatisfy { $0.files.isEmpty } && plan.streams[2].producer == "read loop3p4")
    }

    @Test func mbrDisksKeepTheHiddenDataAfterTheMBR() throws {
        let text = try String(contentsOfFile: TestEnv.fixture("cz-dos/image/sda-pt.sf"), encoding: .utf8)
        let table = try SfdiskDump.parse(text, file: "t")
        let source = try DeviceSource(disk: "sda", sectors: 65536, table: table, partitions: [.init(name: "sda1", type: "ext4", bytes: 1)])
        let first = try #require(table.partitions.map(\.start).min())
        #expect(source.regions == [.init(file: "sda-mbr", firstSector: 0, sectors: 1), .init(file: "sda-hidden-data-after-mbr", firstSector: 1, sectors: first - 1)])
        #expect(source.syntheticParted().contains("Partition Table: msdos"))
    }
}

import Foundation
import Testing
import TestSupport
@testable import ClonezillaImage

@Suite struct ImageDirectoryTests {
    @Test(arguments: ["cz-dos", "cz-gpt"])
    func loadsTheFixture(_ fixture: String) throws {
        let image = try ImageDirectory.load(TestEnv.fixture("\(fixture)/image"))
        #expect(image.partitions == ["sda1", "sda2", "sda4"])
        #expect(image.disks.map(\.name) == ["sda"])
        let disk = image.disks[0]
        #expect(disk.partitionTable.label == (fixture == "cz-gpt" ? .gpt : .dos))
        #expect(disk.sourceSectors == 65536)
        #expect(disk.mbrFile == "sda-mbr")
        #expect(disk.hiddenDataFile == (fixture == "cz-dos" ? "sda-hidden-data-after-mbr" : nil))
        #expect(disk.swapPartitions.map(\.partition) == ["sda3"])
        #expect(disk.gptPrimaryFile == (fixture == "cz-gpt" ? "sda-gpt-1st" : nil))
        #expect(disk.gptBackupFile == (fixture == "cz-gpt" ? "sda-gpt-2nd" : nil))
        #expect(disk.sgdiskBackupFile == (fixture == "cz-gpt" ? "sda-gpt.gdisk" : nil))
        #expect(disk.swapPartitions[0].label == "fxswap")
        #expect(disk.swapPartitions[0].uuid == SwapInfo.parseUUID("5a5a0001-2222-4333-8444-555566667777"))
        #expect(image.payloads["sda1"]?.chunks == ["sda1.ext4-ptcl-img.zst.aa", "sda1.ext4-ptcl-img.zst.ab", "sda1.ext4-ptcl-img.zst.ac"])
        #expect(image.payloads["sda1"]?.kind == .partclone(fileSystem: "ext4"))
        #expect(image.payloads["sda2"]?.compressionSuffix == "gz")
        #expect(image.payloads["sda4"]?.kind == .raw)
        #expect(image.checksumFiles == [.md5, .sha1])
        #expect(image.deviceFileSystems.first { $0.device == "/dev/sda4" }?.fileSystem == "")
        try image.verifyChecksums(.md5)
        try image.verifyChecksums(.sha1)
        #expect(throws: ImageError.noChecksumFile(file: "B2SUMS", option: "-cb2")) { try image.verifyChecksums(.blake2) }
    }

    @Test func checksumFilesCatchChangesAndMissingFiles() throws {
        let dir = TestEnv.scratch("sums")
        defer { TestEnv.cleanup(dir) }
        TestEnv.copyImage(TestEnv.fixture("cz-gpt/image"), to: dir + "/img")
        var tools: [ChecksumFile.Kind] = []
        if TestEnv.which("b2sum") != nil { tools.append(.blake2) }
        if TestEnv.which("b3sum") != nil { tools.append(.blake3) }
        for kind in tools {
            let tool = kind == .blake2 ? "b2sum" : "b3sum"
            TestEnv.shell("cd '\(dir)/img' && \(tool) -- *.zst.* *.gz.* sda-mbr > \(kind.rawValue)")
        }
        var image = try ImageDirectory.load(dir + "/img")
        for kind in tools { try image.verifyChecksums(kind) }

        let chunk = dir + "/img/sda1.ext4-ptcl-img.zst.ab"
        var bytes = TestEnv.readBytes(chunk)
        bytes[100] ^= 1
        _ = FileManager.default.createFile(atPath: chunk, contents: Data(bytes))
        for kind in [ChecksumFile.Kind.md5, .sha1] + tools {
            #expect(throws: ImageError.checksumMismatch(sumsFile: kind.rawValue, file: "sda1.ext4-ptcl-img.zst.ab")) {
                try image.verifyChecksums(kind)
            }
        }
        try FileManager.default.removeItem(atPath: dir + "/img/sda-mbr")
        image = try ImageDirectory.load(dir + "/img")
        #expect(throws: ImageError.checksumMissingFile(sumsFile: "MD5SUMS", file: "sda-mbr")) { try image.verifyChecksums(.md5) }
        #expect(throws: ImageError.self) { _ = try ChecksumFile.parse("zz  file\n", kind: .md5) }
    }

    @Test func refusesWhatIsNotAnImage() throws {
        #expect(throws: ImageError.self) { _ = try ImageDirectory.load("/nonexistent-image-dir") }
        let dir = TestEnv.scratch("notimg")
        defer { TestEnv.cleanup(dir) }
        _ = FileManager.default.createFile(atPath: dir + "/readme.txt", contents: Data("hi".utf8))
        do {
            _ = try ImageDirectory.load(dir)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("not a Clonezilla image directory"))
        }
    }

    @Test func payloadNaming() throws {
        let files = ["sda1.ext4-ptcl-img.zst.aa", "sda1.ext4-ptcl-img.zst.ab", "sda10.vfat-ptcl-img.gz",
                     "sdb2.dd-img.aa", "sdb2.dd-img.ab", "sdb2.dd-img.info", "nvme0n1p3.ntfs-img", "sdc1.ext3-img",
                     "hda1.000", "sdd1.xfs-ptcl-img.uncomp", "sde1.ext4-ptcl-img.zst", "sde1.ext4-ptcl-img.zst.aa",
                     "sdf1.ext4-ptcl-img.zst.aa", "sdf1.ext4-ptcl-img.zst.ac", "sdg1.ext4-ptcl-img.rar"]
        let sda1 = try Payload.find(partition: "sda1", in: files, directory: "d")
        #expect(sda1.chunks.count == 2 && sda1.baseName == "sda1.ext4-ptcl-img.zst")
        #expect(try Payload.find(partition: "sda10", in: files, directory: "d").chunks == ["sda10.vfat-ptcl-img.gz"])
        let legacy = try Payload.find(partition: "sdb2", in: files, directory: "d")
        #expect(legacy.kind == .raw && legacy.compressionSuffix == nil && legacy.chunks == ["sdb2.dd-img.aa", "sdb2.dd-img.ab"])
        #expect(try Payload.find(partition: "nvme0n1p3", in: files, directory: "d").kind == .ntfsclone)
        #expect(try Payload.find(partition: "sdc1", in: files, directory: "d").kind == .partclone(fileSystem: "ext3"))
        #expect(try Payload.find(partition: "sdd1", in: files, directory: "d").compressionSuffix == "uncomp")
        #expect(throws: ImageError.self) { _ = try Payload.find(partition: "hda1", in: files, directory: "d") }
        #expect(throws: ImageError.self) { _ = try Payload.find(partition: "sde1", in: files, directory: "d") }
        #expect(throws: ImageError.missingChunk(partition: "sdf1", chunk: "sdf1.ext4-ptcl-img.zst.ab")) {
            _ = try Payload.find(partition: "sdf1", in: files, directory: "d")
        }
        #expect(throws: ImageError.self) { _ = try Payload.find(partition: "sdg1", in: files, directory: "d") }
        #expect(throws: ImageError.missingPayload(partition: "sdh1", directory: "d")) { _ = try Payload.find(partition: "sdh1", in: files, directory: "d") }
        #expect(Payload.successor(of: "az") == "ba" && Payload.successor(of: "aaz") == "aba")
    }

    @Test func deviceNames() {
        #expect(DeviceNames.partitionName(disk: "sda", number: 2) == "sda2")
        #expect(DeviceNames.partitionName(disk: "nvme0n1", number: 2) == "nvme0n1p2")
        #expect(DeviceNames.partitionNumber("nvme0n1p12", onDisk: "nvme0n1") == 12)
        #expect(DeviceNames.partitionNumber("sda12", onDisk: "sda") == 12)
        #expect(DeviceNames.partitionNumber("sdab1", onDisk: "sda") == nil)
        #expect(DeviceNames.partitionNumber("loop01", onDisk: "loop0") == nil)
        #expect(DeviceNames.partitionNumber("loop0p1", onDisk: "loop0") == 1)
    }
}

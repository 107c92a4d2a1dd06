import Foundation
import Testing
import TestSupport
@testable import Restore

/// Whole-disk restores of the fixtures into image files, checked region by region against
/// what the real tools produced.
@Suite struct DiskRestoreTests {
    func restoreDisk(_ fixture: String, _ extra: [String] = [], target: String) -> (status: Int32, stdout: String, stderr: String) {
        TestEnv.run(TestEnv.restoreTool, ["-b"] + extra + ["restoredisk", TestEnv.fixture("\(fixture)/image"), target])
    }

    @Test(arguments: ["cz-dos", "cz-gpt"])
    func restoresIntoAnImageFile(_ fixture: String) throws {
        let dir = TestEnv.scratch("disk")
        defer { TestEnv.cleanup(dir) }
        let target = dir + "/disk.img"
        let result = restoreDisk(fixture, fixture == "cz-dos" ? ["-j2"] : [], target: target)
        #expect(result.status == 0, "\(result.stderr)")
        for region in TestEnv.regions(TestEnv.fixture(fixture)) {
            #expect(TestEnv.sha256(target, offset: region.start * 512, length: region.count * 512) == region.sha, "region \(region.name)")
        }
        #expect(TestEnv.sha256(target) == TestEnv.restoredDiskHash(fixture))
        #expect(result.stderr.contains("sda1: 4.1 MiB"))
        try checkFileSystems(target, dir: dir)
        try checkPartitionTable(target, fixture: fixture)
    }

    /// e2fsck and fsck.vfat on the restored partitions, read-only.
    func checkFileSystems(_ disk: String, dir: String) throws {
        guard TestEnv.which("e2fsck") != nil, TestEnv.which("fsck.vfat") != nil else {
            print("skipped: e2fsck / fsck.vfat not installed")
            return
        }
        TestEnv.shell("dd if='\(disk)' of='\(dir)/p1' bs=512 skip=2048 count=32768 status=none; dd if='\(disk)' of='\(dir)/p2' bs=512 skip=34816 count=16384 status=none")
        let e2 = TestEnv.run("e2fsck", ["-fn", dir + "/p1"])
        #expect(e2.status == 0, "\(e2.stdout)\(e2.stderr)")
        let vfat = TestEnv.run("fsck.vfat", ["-n", dir + "/p2"])
        #expect(vfat.status == 0, "\(vfat.stdout)\(vfat.stderr)")
    }

    /// `sfdisk -d` of the result equals the image's dump apart from device names.
    func checkPartitionTable(_ disk: String, fixture: String) throws {
        guard TestEnv.which("sfdisk") != nil else { return }
        let dumped = TestEnv.run("sfdisk", ["-d", disk]).stdout.replacingOccurrences(of: disk, with: "/dev/sda")
        let original = try String(contentsOfFile: TestEnv.fixture("\(fixture)/image/sda-pt.sf"), encoding: .utf8)
        #expect(dumped == original)
    }

    @Test func gptOnALargerDiskGetsItsBackupAtTheEnd() throws {
        guard TestEnv.which("sgdisk") != nil else { print("skipped: sgdisk not installed"); return }
        let dir = TestEnv.scratch("big")
        defer { TestEnv.cleanup(dir) }
        let target = dir + "/big.img"
        TestEnv.zeroFile(target, size: 64 << 20)
        let result = restoreDisk("cz-gpt", target: target)
        #expect(result.status == 0, "\(result.stderr)")
        let verify = TestEnv.run("sgdisk", ["-v", target])
        #expect(verify.stdout.contains("No problems found"), "\(verify.stdout)")
        let info = TestEnv.run("sgdisk", ["-i", "1", target]).stdout
        #expect(info.contains("11111111-1111-4111-8111-111111111111") && info.contains("fxroot"))
        // The backup header sits in the last sector of the larger disk.
        let last = try RestoreTarget(path: target).read(count: 8, at: (64 << 20) - 512)
        #expect(last == Array("EFI PART".utf8))
        for region in TestEnv.regions(TestEnv.fixture("cz-gpt")) where region.name.hasPrefix("sda") {
            #expect(TestEnv.sha256(target, offset: region.start * 512, length: region.count * 512) == region.sha, "region \(region.name)")
        }
    }

    @Test func keepTableAndSkipBootCode() throws {
        let dir = TestEnv.scratch("keep")
        defer { TestEnv.cleanup(dir) }
        let target = dir + "/disk.img"
        #expect(restoreDisk("cz-dos", target: target).status == 0)
        // Scribble over sda1 and the boot code, then restore again keeping the table (-k) and
        // the boot code (-t): sda1 is restored, the boot code stays as scribbled.
        let handle = try RestoreTarget(path: target)
        try handle.write([UInt8](repeating: 0xAB, count: 446), at: 0)
        try handle.write([UInt8](repeating: 0xCD, count: 4096), at: 2048 * 512 + 8192)
        let again = restoreDisk("cz-dos", ["-k", "-t"], target: target)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try handle.read(count: 446, at: 0) == [UInt8](repeating: 0xAB, count: 446))
        let sda1 = TestEnv.regions(TestEnv.fixture("cz-dos")).first { $0.name == "sda1" }!
        #expect(TestEnv.sha256(target, offset: sda1.start * 512, length: sda1.count * 512) == sda1.sha)
        #expect(!again.stderr.contains("partition table"))
    }

    @Test func restorePartsIntoPartitionFiles() throws {
        let dir = TestEnv.scratch("parts")
        defer { TestEnv.cleanup(dir) }
        let result = TestEnv.run(TestEnv.restoreTool, ["-b", "restoreparts", TestEnv.fixture("cz-gpt/image"), "sda1,sda4",
                                                       dir + "/p1.img", dir + "/p4.img"])
        #expect(result.status == 0, "\(result.stderr)")
        let regions = TestEnv.regions(TestEnv.fixture("cz-gpt"))
        #expect(TestEnv.sha256(dir + "/p1.img") == regions.first { $0.name == "sda1" }!.sha)
        #expect(TestEnv.sha256(dir + "/p4.img") == regions.first { $0.name == "sda4" }!.sha)
    }

    @Test func swapHeaderMatchesMkswap() throws {
        let uuid = SwapInfoBytes.uuid
        let page = try SwapHeader.page(areaBytes: 4096 * 512, pageSize: 4096, uuid: uuid, label: "fxswap")
        var area = page + [UInt8](repeating: 0, count: 4096 * 512 - 4096)
        let sda3 = TestEnv.regions(TestEnv.fixture("cz-gpt")).first { $0.name == "sda3" }!
        let dir = TestEnv.scratch("swap")
        defer { TestEnv.cleanup(dir) }
        _ = FileManager.default.createFile(atPath: dir + "/swap", contents: Data(area))
        #expect(TestEnv.sha256(dir + "/swap") == sda3.sha)
        area.removeAll()
        #expect(throws: RestoreError.self) { _ = try SwapHeader.page(areaBytes: 8192, pageSize: 4096, uuid: nil, label: nil) }
    }
}

enum SwapInfoBytes {
    static let uuid: [UInt8] = [0x5a, 0x5a, 0x00, 0x01, 0x22, 0x22, 0x43, 0x33, 0x84, 0x44, 0x55, 0x55, 0x66, 0x66, 0x77, 0x77]
}

@Suite struct MultiDiskTests {
    /// An image of two disks (the MBR fixture as sda, the GPT one renamed to sdb) restores each
    /// disk to its own target, and refuses when a target is missing.
    @Test func twoDisksTwoTargets() throws {
        let dir = TestEnv.scratch("two")
        defer { TestEnv.cleanup(dir) }
        let image = dir + "/img"
        TestEnv.copyImage(TestEnv.fixture("cz-dos/image"), to: image)
        let gpt = TestEnv.fixture("cz-gpt/image")
        for file in try FileManager.default.contentsOfDirectory(atPath: gpt) where file.hasPrefix("sda") || file.hasPrefix("swappt-sda") {
            let renamed = file.replacingOccurrences(of: "sda", with: "sdb")
            var bytes = TestEnv.readBytes(gpt + "/" + file)
            if file == "sda-pt.sf" || file == "sda-pt.parted" {
                bytes = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "/dev/sda", with: "/dev/sdb").utf8)
            }
            _ = FileManager.default.createFile(atPath: image + "/" + renamed, contents: Data(bytes))
        }
        _ = FileManager.default.createFile(atPath: image + "/disk", contents: Data("sda sdb\n".utf8))
        _ = FileManager.default.createFile(atPath: image + "/parts", contents: Data("sda1 sda2 sda4 sdb1 sdb2 sdb4\n".utf8))
        let one = TestEnv.run(TestEnv.restoreTool, ["-b", "restoredisk", image, dir + "/a.img"])
        #expect(one.status != 0 && one.stderr.contains("2 disk(s)"), "\(one.stderr)")
        let result = TestEnv.run(TestEnv.restoreTool, ["-b", "-j2", "restoredisk", image, dir + "/a.img", dir + "/b.img"])
        #expect(result.status == 0, "\(result.stderr)")
        for (fixture, target) in [("cz-dos", "a.img"), ("cz-gpt", "b.img")] {
            for region in TestEnv.regions(TestEnv.fixture(fixture)) {
                #expect(TestEnv.sha256(dir + "/" + target, offset: region.start * 512, length: region.count * 512) == region.sha,
                        "\(target) region \(region.name)")
            }
        }
    }
}

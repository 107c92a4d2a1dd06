import Foundation
import Testing
import TestSupport

/// Restores onto a real block device: a loop device over a scratch file, made and always
/// removed by the test (with its BLKPG partition nodes, which outlive `losetup -d`).
@Suite(.serialized) struct LoopDeviceTests {
    @Test(arguments: ["cz-dos", "cz-gpt"])
    func restoresOntoALoopDevice(_ fixture: String) throws {
        guard TestEnv.isRoot, TestEnv.which("losetup") != nil, TestEnv.which("partx") != nil else {
            print("skipped: needs root, losetup and partx")
            return
        }
        let dir = TestEnv.scratch("loop")
        defer { TestEnv.cleanup(dir) }
        TestEnv.zeroFile(dir + "/backing.img", size: 32 << 20)
        let attach = TestEnv.run("losetup", ["--find", "--show", dir + "/backing.img"])
        try #require(attach.status == 0, "losetup: \(attach.stderr)")
        let device = attach.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer {
            TestEnv.run("partx", ["-d", device])
            TestEnv.run("losetup", ["-d", device])
        }
        TestEnv.run("partx", ["-d", device])

        let result = TestEnv.run(TestEnv.restoreTool, ["-b"] + (fixture == "cz-dos" ? ["-j2"] : []) + ["restoredisk", TestEnv.fixture("\(fixture)/image"), device])
        #expect(result.status == 0, "\(result.stderr)")
        for n in 1...4 {
            #expect(FileManager.default.fileExists(atPath: "\(device)p\(n)"), "partition node \(device)p\(n)")
        }
        for region in TestEnv.regions(TestEnv.fixture(fixture)) {
            #expect(TestEnv.sha256(device, offset: region.start * 512, length: region.count * 512) == region.sha, "region \(region.name)")
        }
        if TestEnv.which("e2fsck") != nil {
            let e2 = TestEnv.run("e2fsck", ["-fn", "\(device)p1"])
            #expect(e2.status == 0, "\(e2.stdout)")
        }
        if TestEnv.which("fsck.vfat") != nil {
            let vfat = TestEnv.run("fsck.vfat", ["-n", "\(device)p2"])
            #expect(vfat.status == 0, "\(vfat.stdout)")
        }
        if TestEnv.which("blkid") != nil {
            let swap = TestEnv.run("blkid", ["-o", "export", "\(device)p3"]).stdout
            #expect(swap.contains("TYPE=swap") && swap.contains("UUID=5a5a0001-2222-4333-8444-555566667777") && swap.contains("LABEL=fxswap"))
        }
        // A partition is not a disk: restoredisk refuses it before writing.
        let onPartition = TestEnv.run(TestEnv.restoreTool, ["-b", "-icds", "restoredisk", TestEnv.fixture("\(fixture)/image"), "\(device)p1"])
        #expect(onPartition.status != 0 && onPartition.stderr.contains("is a partition"), "\(onPartition.stderr)")
        // restoreparts straight into a partition node.
        TestEnv.run("dd", ["if=/dev/zero", "of=\(device)p4", "bs=64k", "status=none"])
        let parts = TestEnv.run(TestEnv.restoreTool, ["-b", "restoreparts", TestEnv.fixture("\(fixture)/image"), "sda4", "\(device)p4"])
        #expect(parts.status == 0, "\(parts.stderr)")
        let sda4 = TestEnv.regions(TestEnv.fixture(fixture)).first { $0.name == "sda4" }!
        #expect(TestEnv.sha256("\(device)p4") == sda4.sha)
    }
}

import Foundation
import Testing
import TestSupport

/// Damaged images and unsuitable targets: a non-zero exit, an error naming what is wrong, and
/// no byte written when the problem can be seen before writing.
@Suite struct BadInputTests {
    struct Case {
        let dir: String
        var image: String { dir + "/img" }
        var target: String { dir + "/disk.img" }
        init(_ fixture: String = "cz-gpt") {
            dir = TestEnv.scratch("bad")
            TestEnv.copyImage(TestEnv.fixture("\(fixture)/image"), to: dir + "/img")
        }
        func restore(_ options: [String] = [], targetSize: UInt64? = 32 << 20) -> (status: Int32, stdout: String, stderr: String) {
            if let targetSize { TestEnv.zeroFile(target, size: targetSize) }
            return TestEnv.run(TestEnv.restoreTool, ["-b"] + options + ["restoredisk", image, target])
        }
        var targetUntouched: Bool {
            guard let data = FileManager.default.contents(atPath: target) else { return true }
            return data.allSatisfy { $0 == 0 }
        }
        func edit(_ file: String, _ change: (inout [UInt8]) -> Void) {
            var bytes = TestEnv.readBytes(image + "/" + file)
            change(&bytes)
            _ = FileManager.default.createFile(atPath: image + "/" + file, contents: Data(bytes))
        }
    }

    @Test func truncatedLastChunkFailsNamingIt() {
        let c = Case()
        defer { TestEnv.cleanup(c.dir) }
        c.edit("sda1.ext4-ptcl-img.zst.ac") { $0.removeLast(3000) }
        let r = c.restore()
        #expect(r.status != 0)
        #expect(r.stderr.contains("partition sda1") && r.stderr.contains("sda1.ext4-ptcl-img.zst.ac"), "\(r.stderr)")
        #expect(!r.stderr.contains("restore finished"))
    }

    @Test func flippedByteInsideBlockDataIsCaught() {
        // sda2 is gzip: a flipped byte in the deflate data is caught by inflate or by the
        // partclone CRC; either way partition and chunk are named.
        let c = Case()
        defer { TestEnv.cleanup(c.dir) }
        c.edit("sda2.vfat-ptcl-img.gz.aa") { $0[5000] ^= 0x10 }
        let r = c.restore()
        #expect(r.status != 0)
        #expect(r.stderr.contains("partition sda2") && r.stderr.contains("sda2.vfat-ptcl-img.gz.aa"), "\(r.stderr)")
    }

    @Test func checksumMismatchInsideAValidStreamNamesTheBlock() throws {
        // Recompress sda1 with one data byte changed, so only the partclone CRC can see it.
        guard TestEnv.which("zstd") != nil else { print("skipped: zstd not installed"); return }
        let c = Case()
        defer { TestEnv.cleanup(c.dir) }
        let img = c.image
        let script = """
            cd '\(img)' && cat sda1.ext4-ptcl-img.zst.* | zstd -dc > raw && rm sda1.ext4-ptcl-img.zst.* && \
            printf '\\x55' | dd of=raw bs=1 seek=$((626 + 4096*700 + 17)) conv=notrunc status=none && \
            zstd -q -c raw > sda1.ext4-ptcl-img.zst && rm raw
            """
        #expect(TestEnv.shell(script).status == 0)
        let r = c.restore()
        #expect(r.status != 0)
        #expect(r.stderr.contains("partition sda1") && r.stderr.contains("checksum mismatch") && r.stderr.contains("block 1062"), "\(r.stderr)")
    }

    @Test func missingChunkIsRefusedBeforeWriting() throws {
        let c = Case()
        defer { TestEnv.cleanup(c.dir) }
        try FileManager.default.removeItem(atPath: c.image + "/sda1.ext4-ptcl-img.zst.ab")
        let r = c.restore()
        #expect(r.status != 0)
        #expect(r.stderr.contains("sda1.ext4-ptcl-img.zst.ab is missing"), "\(r.stderr)")
        #expect(c.targetUntouched)
    }

    @Test func wrongChecksumFileIsRefusedBeforeWriting() {
        let c = Case()
        defer { TestEnv.cleanup(c.dir) }
        c.edit("MD5SUMS") { bytes in
            let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "124fb02b", with: "00000000")
            bytes = Array(text.utf8)
        }
        let r = c.restore(["-cm"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("sda-gpt-1st does not match its checksum in MD5SUMS"), "\(r.stderr)")
        #expect(c.targetUntouched)
        // Without -cm the same image restores.
        #expect(c.restore().status == 0)
    }

    @Test func targetTooSmallIsRefusedBeforeWriting() {
        let c = Case()
        defer { TestEnv.cleanup(c.dir) }
        let r = c.restore(targetSize: 16 << 20)
        #expect(r.status != 0)
        #expect(r.stderr.contains("too small"), "\(r.stderr)")
        #expect(c.targetUntouched)
        // -icds lets a smaller disk through only while the partitions still fit.
        let icds = c.restore(["-icds"], targetSize: 16 << 20)
        #expect(icds.status != 0 && icds.stderr.contains("partition table"), "\(icds.stderr)")
        #expect(c.targetUntouched)
    }

    @Test func partitionTargetTooSmallIsRefusedBeforeWriting() {
        let c = Case()
        defer { TestEnv.cleanup(c.dir) }
        TestEnv.zeroFile(c.target, size: 8 << 20)
        let r = TestEnv.run(TestEnv.restoreTool, ["-b", "restoreparts", c.image, "sda1", c.target])
        #expect(r.status != 0 && r.stderr.contains("too small") && r.stderr.contains("16777216"), "\(r.stderr)")
        #expect(c.targetUntouched)
        TestEnv.zeroFile(c.target, size: 512 << 10)
        let raw = TestEnv.run(TestEnv.restoreTool, ["-b", "restoreparts", c.image, "sda4", c.target])
        #expect(raw.status != 0 && raw.stderr.contains("raw partition sda4"), "\(raw.stderr)")
        #expect(c.targetUntouched)
        let twice = TestEnv.run(TestEnv.restoreTool, ["-b", "restoreparts", c.image, "sda1,sda4", c.target, c.target])
        #expect(twice.status != 0 && twice.stderr.contains("named twice"), "\(twice.stderr)")
    }

    @Test func headerOfAnotherFileSystemIsRefusedBeforeWriting() throws {
        let c = Case()
        defer { TestEnv.cleanup(c.dir) }
        // sda2's stream renamed as if it were an ext4 image.
        try FileManager.default.moveItem(atPath: c.image + "/sda2.vfat-ptcl-img.gz.aa", toPath: c.image + "/sda2.ext4-ptcl-img.gz.aa")
        let r = c.restore()
        #expect(r.status != 0)
        #expect(r.stderr.contains("partition sda2") && r.stderr.contains("FAT16"), "\(r.stderr)")
        #expect(c.targetUntouched)
    }

    @Test func nonImageDirectoryAndBadUsage() {
        let dir = TestEnv.scratch("empty")
        defer { TestEnv.cleanup(dir) }
        let r = TestEnv.run(TestEnv.restoreTool, ["-b", "restoredisk", dir, dir + "/t.img"])
        #expect(r.status != 0 && r.stderr.contains("not a Clonezilla image directory"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/t.img"))
        let mode = TestEnv.run(TestEnv.restoreTool, ["savedisk", dir, "x"])
        #expect(mode.status != 0 && mode.stderr.contains("unknown mode"))
        let option = TestEnv.run(TestEnv.restoreTool, ["-zz", "restoredisk", dir, "x"])
        #expect(option.status != 0)
    }
}

import ClonezillaImage
import Foundation
import Testing
import TestSupport
@testable import Feeder

@Suite struct DiskRenameTests {
    let sdaToLoop = DiskRename(pairs: [.init(from: "sda", to: "loop7")])

    @Test func namesFollowCnvtOcsDev() {
        let rename = sdaToLoop
        #expect(rename.name("sda-pt.sf") == "loop7-pt.sf")
        #expect(rename.name("sda-hidden-data-after-mbr") == "loop7-hidden-data-after-mbr")
        #expect(rename.name("sda1.ext4-ptcl-img.zst.aa") == "loop7p1.ext4-ptcl-img.zst.aa")
        #expect(rename.name("swappt-sda3.info") == "swappt-loop7p3.info")
        #expect(rename.name("sda5-ebr") == "loop7p5-ebr")
        #expect(rename.name("btzone/img/sda1.torrent") == "btzone/img/loop7p1.torrent")
        #expect(rename.name("Info-img-id.txt") == "Info-img-id.txt" && rename.name("MD5SUMS") == "MD5SUMS")
        #expect(rename.partition("sda2") == "loop7p2")
        let back = DiskRename(pairs: [.init(from: "nvme0n1", to: "sda")])
        #expect(back.name("nvme0n1p1.ntfs-img.aa") == "sda1.ntfs-img.aa" && back.partition("nvme0n1p3") == "sda3")
        #expect(DiskRename(pairs: [.init(from: "sda", to: "sdb")]).name("sda1.vfat-ptcl-img.gz") == "sdb1.vfat-ptcl-img.gz")
    }

    @Test func contentsFollowCnvtOcsDev() {
        let rename = sdaToLoop
        #expect(rename.content(of: "parts", text: "sda1 sda2 sda4\n") == "loop7p1 loop7p2 loop7p4\n")
        #expect(rename.content(of: "disk", text: "sda\n") == "loop7\n")
        // The partition rule runs first on these, so the disk itself becomes "loop7p" as well.
        #expect(rename.content(of: "blkdev.list", text: "sda   sda 32M disk\nsda1 |-sda1 16M part ext4\n") == "loop7p   loop7p 32M disk\nloop7p1 |-loop7p1 16M part ext4\n")
        #expect(rename.content(of: "sda-pt.sf", text: "device: /dev/sda\n/dev/sda1 : start= 2048\n") == "device: /dev/loop7p\n/dev/loop7p1 : start= 2048\n")
        #expect(rename.content(of: "sda-pt.parted", text: "Disk /dev/sda: 65536s\n") == "Disk /dev/loop7: 65536s\n")
        #expect(rename.content(of: "lvm_vg_dev.list", text: "vg0 /dev/sda2 abc\n") == "vg0 /dev/loop7p2 abc\n")
        #expect(rename.content(of: "fdisk.list", text: "/dev/sda") == nil && !rename.edits("Info-saved-by-cmd.txt"))
        #expect(rename.note == "# This image was converted from sda to loop7\norig_dev=\"sda\"\nnew_dev=\"loop7\"\n\n")
    }

    @Test func destinationsMapOntoTheImageDisks() throws {
        #expect(try DiskRename(imageName: "i", imageDisks: ["sda"], destinations: ["sda"]).isIdentity)
        #expect(try DiskRename(imageName: "i", imageDisks: ["sda", "sdb"], destinations: ["all"]).isIdentity)
        #expect(try DiskRename(imageName: "i", imageDisks: ["sda"], destinations: ["nvme0n1"]).pairs == [.init(from: "sda", to: "nvme0n1")])
        #expect(try DiskRename(imageName: "i", imageDisks: ["sda", "sdb"], destinations: ["sda", "nvme0n1"]).pairs == [.init(from: "sdb", to: "nvme0n1")])
        #expect(throws: DiskRename.Failure.self) { try DiskRename(imageName: "i", imageDisks: ["sda", "sdb"], destinations: ["nvme0n1"]) }
        #expect(throws: DiskRename.Failure.self) { try DiskRename(imageName: "i", imageDisks: ["sda", "sdb"], destinations: ["sdb", "sdc"]) }
    }

    @Test func streamPlanKeepsTheImageFilesAndNamesTheTargets() throws {
        let image = try ImageDirectory.load(TestEnv.fixture("cz-gpt/image"))
        let plan = try StreamPlan(image: image, destinations: ["nvme0n1"], restoreDisk: true)
        #expect(plan.streams.map(\.partition) == ["sda1", "sda2", "sda4"])
        #expect(plan.streams.map(\.target) == ["nvme0n1p1", "nvme0n1p2", "nvme0n1p4"])
        #expect(plan.streams[0].files.allSatisfy { $0.contains("/sda1.ext4-ptcl-img.zst.") })
    }

    /// The pseudo image for another disk name equals, member for member, the image the real
    /// `cnvt-ocs-dev -b` converts (names, metadata bytes), payloads as empty placeholders.
    @Test func pseudoImageEqualsTheRealConversion() throws {
        guard TestEnv.isRoot, let cnvt = TestEnv.which("cnvt-ocs-dev") else {
            return print("skipped: needs root and cnvt-ocs-dev (Debian package clonezilla)")
        }
        let work = TestEnv.scratch("cnvt")
        defer { TestEnv.cleanup(work) }
        TestEnv.copyImage(TestEnv.fixture("cz-gpt/image"), to: work + "/img")
        let image = try ImageDirectory.load(work + "/img")
        let plan = try StreamPlan(image: image, destinations: ["loop7"], restoreDisk: true)
        let members = try PseudoImage.members(image: work + "/img", name: "img", rename: plan.rename)
        TestEnv.copyImage(TestEnv.fixture("cz-gpt/image"), to: work + "/real")
        let result = TestEnv.run(cnvt, ["-b", "-d", work, "real", "sda", "loop7"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let converted = try FileManager.default.contentsOfDirectory(atPath: work + "/real").sorted()
        #expect(members.map(\.name) == converted)
        for member in members {
            let real = TestEnv.readBytes(work + "/real/" + member.name)
            if PseudoImage.isPayload(member.name) {
                #expect(member.source == nil && member.data == nil, "\(member.name)")
            } else {
                let ours = member.data ?? TestEnv.readBytes(member.source!)
                #expect(ours == real, "\(member.name): \(String(decoding: ours, as: UTF8.self))")
            }
        }
    }
}

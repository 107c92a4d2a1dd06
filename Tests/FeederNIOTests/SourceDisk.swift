import Foundation
import TestSupport

/// A GPT disk on a loop device with one ext4 partition full of random data, big enough that a
/// multicast session lasts seconds (fault scenarios need time to strike mid-stream). Its
/// `reference` is the partition as partclone restores it: what a client must end with.
final class SourceDisk {
    let device: String
    let image: String
    let size: UInt64
    let partitionOffset: UInt64 = 1 << 20
    let partitionBytes: UInt64
    let reference: String

    static let tools = ["sgdisk", "mkfs.ext4", "partclone.ext4", "losetup", "partx", "e2fsck"]

    /// nil (after saying why) when the disk cannot be built.
    static func make(in work: String, megabytes: Int, dataMegabytes: Int) -> SourceDisk? {
        let image = work + "/source-disk.img"
        let build = TestEnv.shell("""
            set -e
            cd \(work) && mkdir -p tree && head -c \(dataMegabytes)M /dev/urandom > tree/random.bin
            truncate -s \(megabytes)M \(image) && sgdisk -n1:2048:0 -t1:8300 \(image) >/dev/null
            sectors=$(sgdisk -i1 \(image) | awk '/Partition size/{print $3}')
            truncate -s $((sectors * 512)) part.ext4 && mkfs.ext4 -q -F -d tree part.ext4
            dd if=part.ext4 of=\(image) bs=1M seek=1 conv=notrunc,sparse status=none
            rm -rf tree part.ext4
            echo $sectors
            """)
        guard build.status == 0, let sectors = UInt64(build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            print("skipped: could not build the source disk: \(build.stderr)")
            return nil
        }
        let attach = TestEnv.run("losetup", ["-f", "--show", image])
        let device = attach.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard attach.status == 0, device.hasPrefix("/dev/loop") else {
            print("skipped: losetup: \(attach.stderr)")
            return nil
        }
        TestEnv.run("partx", ["-a", device])
        let reference = work + "/reference.part"
        let restored = TestEnv.shell("""
            truncate -s \(sectors * 512) \(reference) && set -o pipefail &&
            partclone.ext4 -c -s \(device)p1 -o - -L \(work)/pc-c.log 2>/dev/null | partclone.ext4 -r -s - -O \(reference) -L \(work)/pc-r.log >/dev/null 2>&1
            """)
        let disk = SourceDisk(device: device, image: image, size: UInt64(megabytes) << 20, partitionBytes: sectors * 512, reference: TestEnv.sha256(reference))
        guard restored.status == 0 else {
            print("skipped: partclone could not copy the source partition: \(restored.stderr)")
            disk.close()
            return nil
        }
        return disk
    }

    private init(device: String, image: String, size: UInt64, partitionBytes: UInt64, reference: String) {
        self.device = device
        self.image = image
        self.size = size
        self.partitionBytes = partitionBytes
        self.reference = reference
    }

    /// `sda`-style name the feeder takes (`loopN`).
    var name: String { String(device.dropFirst("/dev/".count)) }

    /// The partition in a restored disk file equals the reference and checks clean.
    func restoredIn(_ disk: String) -> Bool {
        guard TestEnv.sha256(disk, offset: partitionOffset, length: partitionBytes) == reference else { return false }
        let part = disk + ".part"
        defer { TestEnv.cleanup(part) }
        return TestEnv.shell("tail -c +\(partitionOffset + 1) \(disk) | head -c \(partitionBytes) > \(part); e2fsck -fn \(part) >/dev/null 2>&1").status == 0
    }

    func close() {
        TestEnv.run("partx", ["-d", device])
        TestEnv.run("losetup", ["-d", device])
    }
}

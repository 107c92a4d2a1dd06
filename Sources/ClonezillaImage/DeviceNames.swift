/// Kernel naming rules shared by the image files and the restore targets: a disk whose name
/// ends in a digit (nvme0n1, mmcblk0, loop0) puts a "p" before the partition number.
public enum DeviceNames {
    public static func partitionName(disk: String, number: Int) -> String {
        let separator = disk.last?.isNumber == true ? "p" : ""
        return "\(disk)\(separator)\(number)"
    }

    /// The partition number of `partition` on `disk` (`sda1` on `sda` → 1), or nil.
    public static func partitionNumber(_ partition: String, onDisk disk: String) -> Int? {
        guard partition.hasPrefix(disk), partition != disk else { return nil }
        var suffix = Substring(partition.dropFirst(disk.count))
        if disk.last?.isNumber == true {
            guard suffix.first == "p" else { return nil }
            suffix = suffix.dropFirst()
        }
        guard let number = Int(suffix), number > 0, suffix.allSatisfy(\.isNumber) else { return nil }
        return number
    }

    /// The trailing partition number of a device path such as `/dev/sda1` or `/dev/nvme0n1p2`.
    public static func trailingNumber(_ device: String) -> Int? {
        let digits = device.reversed().prefix { $0.isNumber }
        guard !digits.isEmpty else { return nil }
        return Int(String(digits.reversed()))
    }
}

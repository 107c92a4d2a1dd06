/// `swappt-<part>.info`: the UUID and label a restored swap partition gets back (`mkswap -U -L`).
public struct SwapInfo: Equatable, Sendable {
    public var partition: String
    /// 16 bytes in the order the UUID string spells them.
    public var uuid: [UInt8]?
    public var label: String?

    public static func parse(_ text: String, partition: String, file: String) throws(ImageError) -> SwapInfo {
        var info = SwapInfo(partition: partition, uuid: nil, label: nil)
        for (index, line) in text.split(separator: "\n").enumerated() {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq]
            var value = line[line.index(after: eq)...]
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = value.dropFirst().dropLast() }
            switch key {
            case "UUID" where !value.isEmpty:
                guard let bytes = parseUUID(value) else {
                    throw .malformed(file: file, line: index + 1, reason: "\"\(value)\" is not a UUID")
                }
                info.uuid = bytes
            case "LABEL" where !value.isEmpty:
                guard value.utf8.count <= 16 else {
                    throw .malformed(file: file, line: index + 1, reason: "swap label longer than 16 bytes")
                }
                info.label = String(value)
            default:
                continue
            }
        }
        return info
    }

    public static func parseUUID<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let hex = String(text.filter { $0 != "-" })
        guard text.count == 36, hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}

/// `<disk>-pt.parted`: only the source disk size matters here (`Disk /dev/sda: 65536s`).
public enum PartedListing {
    public static func diskSectors(_ text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("Disk /dev/") {
            guard let colon = line.lastIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmed(" ")
            if value.hasSuffix("s"), let sectors = UInt64(value.dropLast()) { return sectors }
        }
        return nil
    }
}

/// `dev-fs.list`: device, file system and size as `ocs-get-dev-info` saw them.
public struct DeviceFileSystem: Equatable, Sendable {
    public var device: String
    public var fileSystem: String
    public var size: String

    public static func parseList(_ text: String) -> [DeviceFileSystem] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let device = fields.first, device.hasPrefix("/dev/") else { return nil }
            // A raw partition has no file-system column: "/dev/sda4  1M".
            return fields.count >= 3
                ? DeviceFileSystem(device: device, fileSystem: fields[1], size: fields[2])
                : DeviceFileSystem(device: device, fileSystem: "", size: fields.count == 2 ? fields[1] : "")
        }
    }
}

/// Publishing an image saved from one disk name for clients whose disk has another (contract
/// §5.6): the real 5.3.17 client restores only to the image's own disk names in multicast and
/// BT, so the pseudo image must look as if `cnvt-ocs-dev -b <img> <from> <to>` had converted it.
/// The image on disk is never touched; names and metadata are rewritten as they are packed, and
/// the payloads stream unchanged.
public struct DiskRename: Equatable, Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case ambiguous(image: String, imageDisks: [String], destinations: [String])
        case collision(String)

        public var description: String {
            switch self {
            case .ambiguous(let image, let imageDisks, let destinations):
                return "image \(image) holds disk(s) \(imageDisks.joined(separator: ", ")); the destination(s) \(destinations.joined(separator: ", ")) cannot be matched to them one to one (name the image's disks, or as many destinations as it has disks)"
            case .collision(let name):
                return "cannot rename the image's disks: \(name) is both a source and a destination name"
            }
        }
    }

    public struct Pair: Equatable, Sendable {
        public var from: String
        public var to: String
    }

    /// Only the pairs whose names differ; empty means nothing to convert.
    public let pairs: [Pair]

    /// restoredisk: each destination that is one of the image's disks keeps its name; otherwise
    /// the destinations map position by position onto the image's disks, which needs equal counts.
    public init(imageName: String, imageDisks: [String], destinations: [String]) throws(Failure) {
        let reserved = ["all", "all-but-usb", "1st-disk"]
        if destinations.contains(where: reserved.contains) || destinations.allSatisfy(imageDisks.contains) {
            pairs = []
            return
        }
        guard imageDisks.count == destinations.count else {
            throw .ambiguous(image: imageName, imageDisks: imageDisks, destinations: destinations)
        }
        let pairs = zip(imageDisks, destinations).filter { $0 != $1 }.map { Pair(from: $0, to: $1) }
        if let clash = pairs.first(where: { pair in pairs.contains { $0.to == pair.from } }) { throw .collision(clash.from) }
        self.pairs = pairs
    }

    public init(pairs: [Pair]) { self.pairs = pairs }

    public var isIdentity: Bool { pairs.isEmpty }

    /// Disk names whose partitions are `<disk>p<n>` (cnvt-ocs-dev's list).
    static func usesPartitionSeparator(_ disk: String) -> Bool {
        ["cciss", "mmcblk", "md", "rd", "ida", "nvme", "nbd", "loop"].contains { disk.hasPrefix($0) }
    }

    /// `s|from[p]?|to(p)|g`: the partition rule, which also turns a bare disk name into
    /// `<to>p` (cnvt-ocs-dev does the same to `device:` in `*-pt.sf`; sfdisk ignores that line).
    static func replacePartitions(in text: String, _ pair: Pair, prefix: String = "") -> String {
        let from = Array((prefix + pair.from).utf8)
        let to = Array((prefix + pair.to + (usesPartitionSeparator(pair.to) ? "p" : "")).utf8)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if i + from.count <= bytes.count, bytes[i..<(i + from.count)].elementsEqual(from) {
                out += to
                i += from.count
                if i < bytes.count, bytes[i] == UInt8(ascii: "p") { i += 1 }
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func replaceDisk(in text: String, _ pair: Pair) -> String {
        text.replacing(pair.from, with: pair.to)
    }

    /// The member name after conversion (`sda-pt.sf` → `nvme0n1-pt.sf`,
    /// `sda1.ext4-ptcl-img.zst.aa` → `nvme0n1p1.ext4-ptcl-img.zst.aa`, `swappt-sda3.info` →
    /// `swappt-nvme0n1p3.info`, `btzone/<img>/sda1.torrent` → `…/nvme0n1p1.torrent`).
    public func name(_ name: String) -> String {
        var result = name
        for pair in pairs {
            let (directory, base) = Self.split(result)
            if base.hasPrefix(pair.from + "-") {
                result = directory + Self.replaceDisk(in: base, pair)
            } else if base.hasPrefix(pair.from) && Self.isPartitionFile(base) || base.hasPrefix("swappt-" + pair.from) && base.hasSuffix(".info") {
                result = directory + Self.replacePartitions(in: base, pair)
            }
        }
        return result
    }

    /// A partition's name on the clients (`sda1` → `nvme0n1p1`).
    public func partition(_ name: String) -> String {
        pairs.reduce(name) { name, pair in name.hasPrefix(pair.from) ? Self.replacePartitions(in: name, pair) : name }
    }

    /// Whether `content(of:text:)` rewrites this file (so other files need not be read).
    public func edits(_ name: String) -> Bool {
        pairs.contains { pair in
            Self.partitionRuleFiles(pair).contains(name) || Self.diskRuleFiles(pair).contains(name) || Self.devicePathRuleFiles.contains(name)
        }
    }

    /// Converted contents for the metadata files cnvt-ocs-dev edits, nil for every other file.
    public func content(of name: String, text: String) -> String? {
        guard edits(name) else { return nil }
        var text = text
        for pair in pairs {
            if Self.partitionRuleFiles(pair).contains(name) { text = Self.replacePartitions(in: text, pair) }
            if Self.diskRuleFiles(pair).contains(name) { text = Self.replaceDisk(in: text, pair) }
            if Self.devicePathRuleFiles.contains(name) { text = Self.replacePartitions(in: text, pair, prefix: "/dev/") }
        }
        return text
    }

    static func partitionRuleFiles(_ pair: Pair) -> [String] {
        ["parts", "pt.sf", pair.from + "-pt.sf", "dev-fs.list", "blkdev.list", "blkid.list"]
    }

    static func diskRuleFiles(_ pair: Pair) -> [String] {
        ["disk", pair.from + "-pt.parted", pair.from + "-pt.parted.compact", "blkdev.list", "blkid.list"]
    }

    static let devicePathRuleFiles = ["lvm_vg_dev.list", "luks-dev.list"]

    /// The note cnvt-ocs-dev leaves in a converted image.
    public var note: String? {
        guard let first = pairs.first else { return nil }
        return "# This image was converted from \(first.from) to \(first.to)\norig_dev=\"\(first.from)\"\nnew_dev=\"\(first.to)\"\n\n"
    }

    static func isPartitionFile(_ base: String) -> Bool {
        base.contains("-img") || base.contains(".files-") && base.hasSuffix("sum.info.gz") || base.hasSuffix("-ebr")
            || base.hasSuffix("-luksHeader.bin") || base.contains(".torrent")
    }

    static func split(_ name: String) -> (String, String) {
        guard let slash = name.lastIndex(of: "/") else { return ("", name) }
        return (String(name[...slash]), String(name[name.index(after: slash)...]))
    }
}

/// A POSIX ustar archive written member by member (GNU tar and busybox tar read it). Only
/// what a pseudo image needs: regular files and directories, owned by root, names up to 255
/// bytes (split into prefix/name as ustar allows).
public struct TarArchive {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case nameTooLong(String)
        public var description: String {
            switch self { case .nameTooLong(let name): return "tar: member name \"\(name)\" does not fit ustar's 100+155 bytes" }
        }
    }

    public static let blockSize = 512

    /// The 512-byte header of one member.
    public static func header(name: String, size: UInt64, directory: Bool, mtime: UInt64, mode: UInt32) throws(Failure) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        var path = Array(name.utf8)
        if directory, path.last != UInt8(ascii: "/") { path.append(UInt8(ascii: "/")) }
        var prefix: [UInt8] = []
        if path.count > 100 {
            guard let slash = path.indices.reversed().first(where: { path[$0] == UInt8(ascii: "/") && $0 < 155 && path.count - $0 - 1 <= 100 && $0 > 0 }) else {
                throw .nameTooLong(name)
            }
            prefix = Array(path[..<slash])
            path = Array(path[(slash + 1)...])
        }
        func put(_ bytes: [UInt8], at offset: Int) { for (i, byte) in bytes.enumerated() { block[offset + i] = byte } }
        func octal(_ value: UInt64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(path, at: 0)
        put(octal(UInt64(mode), width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(directory ? 0 : size, width: 12), at: 124)
        put(octal(mtime, width: 12), at: 136)
        put(Array("        ".utf8), at: 148)
        block[156] = directory ? UInt8(ascii: "5") : UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0] + Array("00".utf8), at: 257)
        put(Array("root".utf8), at: 265)
        put(Array("root".utf8), at: 297)
        put(prefix, at: 345)
        let sum = block.reduce(0) { $0 + UInt32($1) }
        put(octal(UInt64(sum), width: 7) + [UInt8(ascii: " ")], at: 148)
        return block
    }

    /// Zero bytes that complete a member's data to a whole block.
    public static func padding(after size: UInt64) -> [UInt8] {
        [UInt8](repeating: 0, count: Int((UInt64(blockSize) - size % UInt64(blockSize)) % UInt64(blockSize)))
    }

    /// The archive's end: two zero blocks.
    public static let trailer = [UInt8](repeating: 0, count: 2 * blockSize)
}

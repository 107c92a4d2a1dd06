import Foundation

/// The first page of a Linux swap area (version 1), as `mkswap -U UUID -L LABEL` writes it:
/// zeros, then version, last page, bad-page count, UUID and label at byte 1024, and the
/// "SWAPSPACE2" signature in the last 10 bytes of the page.
public enum SwapHeader {
    public static func page(areaBytes: UInt64, pageSize: Int, uuid: [UInt8]?, label: String?) throws(RestoreError) -> [UInt8] {
        let pages = areaBytes / UInt64(pageSize)
        guard pages >= 10 else { throw .usage("a swap area needs at least 10 pages of \(pageSize) bytes, this one has \(pages)") }
        var page = [UInt8](repeating: 0, count: pageSize)
        func put32(_ value: UInt32, at offset: Int) {
            for i in 0..<4 { page[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        }
        put32(1, at: 1024)
        put32(UInt32(min(pages - 1, UInt64(UInt32.max))), at: 1028)
        put32(0, at: 1032)
        let id = uuid ?? randomUUID()
        page.replaceSubrange(1036..<1052, with: id)
        if let label {
            let bytes = Array(label.utf8.prefix(16))
            page.replaceSubrange(1052..<(1052 + bytes.count), with: bytes)
        }
        page.replaceSubrange((pageSize - 10)..<pageSize, with: Array("SWAPSPACE2".utf8))
        return page
    }

    static func randomUUID() -> [UInt8] {
        withUnsafeBytes(of: UUID().uuid) { Array($0) }
    }

    public static var systemPageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }
}

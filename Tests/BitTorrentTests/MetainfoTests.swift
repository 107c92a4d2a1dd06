import Testing
@testable import BitTorrent

@Suite struct MetainfoTests {
    /// bittorrent.md §1.3: the used runs of a 200 MiB ext4 and the restore-rule extents.
    static let docRuns: [(first: UInt64, count: UInt64)] = [(0, 0x1ca4000 / 4096), (0x21a4000 / 4096, (0x49a4000 - 0x21a4000) / 4096),
                                                            (0x8000000 / 4096, 0x1a000 / 4096)]
    static let docExtents: [Extent] = [(0x0000000, 0x1000000), (0x1000000, 0x0ca4000), (0x21a4000, 0x035c000), (0x2500000, 0x1000000),
                                       (0x3500000, 0x1000000), (0x4500000, 0x04a4000), (0x8000000, 0x001a000)].map { Extent(offset: $0.0, length: $0.1) }

    @Test func restoreRuleCutsAtRunStartsAndEvery16MiBOfUsedData() {
        let extents = ClonezillaLayout.extents(usedRuns: Self.docRuns, blockSize: 4096)
        #expect(extents == Self.docExtents)
        #expect(extents.reduce(0) { $0 + $1.length } == 72_081_408)
    }

    @Test func ddImagesAreConsecutiveChunks() {
        #expect(ClonezillaLayout.ddExtents(partitionBytes: (40 << 20) + 512) ==
                [Extent(offset: 0, length: 16 << 20), Extent(offset: 16 << 20, length: 16 << 20), Extent(offset: 32 << 20, length: (8 << 20) + 512)])
    }

    @Test func fileNamesAreOffsetsIn32HexDigitsAndTheLeecherReadsTheLastComponent() {
        #expect(ClonezillaLayout.fileName(offset: 0x21a4000) == "000000000000000000000000021a4000")
        #expect(ClonezillaLayout.offset(ofPath: [Array("000000000000000000000000021a4000".utf8)]) == 0x21a4000)
        #expect(ClonezillaLayout.offset(ofPath: [Array("root".utf8), Array("00000000000000000000000000001000".utf8)]) == 0x1000)
        #expect(ClonezillaLayout.offset(ofPath: [Array("0000000000000001000000000000000000".utf8)]) == nil)   // 34 digits
        #expect(ClonezillaLayout.offset(ofPath: [Array("00000000000000010000000000000000".utf8)]) == nil)     // > 64 bits
        #expect(ClonezillaLayout.offset(ofPath: [Array("../etc/passwd".utf8)]) == nil)
    }

    /// §1.5: the exact bytes of the example torrent (701 bytes), parsed back to the same fields.
    @Test func clonezillaTorrentBytesMatchTheDocumentedLayout() throws {
        let pieces = (0..<5).map { [UInt8](repeating: UInt8($0), count: 20) }
        let torrent = ClonezillaLayout.torrent(device: "sda1", extents: Self.docExtents, pieces: pieces,
                                               announce: "http://10.0.0.1:6969/announce", creationDate: 1_795_751_487)
        let bytes = torrent.encoded()
        #expect(bytes.count == 701)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("d8:announce29:http://10.0.0.1:6969/announce10:created by10:Clonezilla13:creation datei1795751487e4:infod5:filesld6:lengthi16777216e4:pathl32:00000000000000000000000000000000eed6:lengthi13254656e4:pathl32:00000000000000000000000001000000ee"))
        #expect(text.contains("d6:lengthi106496e4:pathl32:00000000000000000000000008000000eee4:name4:sda112:piece lengthi16777216e6:pieces100:"))
        let parsed = try Metainfo(decoding: bytes)
        #expect(parsed == torrent)
        #expect(parsed.infoHash == Metainfo.sha1(Array(bytes[bytes.firstRange(of: Array("4:infod".utf8))!.lowerBound + 6 ..< bytes.count - 1])))
        #expect(parsed.infoHashHex.count == 40)
        #expect(parsed.totalLength == 72_081_408)
        #expect(parsed.length(ofPiece: 4) == 72_081_408 - 4 * (16 << 20))
    }

    @Test func rewritingTheTrackerKeepsTheInfoHash() throws {
        let pieces = [[UInt8](repeating: 1, count: 20)]
        let a = ClonezillaLayout.torrent(device: "sda1", extents: [Extent(offset: 0, length: 4096)], pieces: pieces, announce: "http://192.168.1.1:6969/announce", creationDate: 1)
        var b = try Metainfo(decoding: a.encoded())
        b.announce = "http://10.0.0.1:6971/announce"
        #expect(try Metainfo(decoding: b.encoded()).infoHash == a.infoHash)
    }

    @Test func invalidTorrentsNameWhatIsWrong() {
        func bad(_ text: String) -> MetainfoError? {
            do { _ = try Metainfo(decoding: Array(text.utf8)); return nil } catch { return error }
        }
        #expect(bad("d4:infod6:lengthi0e4:name1:x12:piece lengthi16e6:pieces0:ee") == nil)
        #expect(bad("de") == .missing("info"))
        #expect(bad("d4:infod12:meta versioni2e4:name1:x12:piece lengthi16eee") == .versionTwoOnly)
        #expect(bad("d4:infod6:lengthi1e4:name1:x12:piece lengthi16e6:pieces3:abcee") == .invalid("info.pieces", "3 bytes is not a multiple of 20"))
        #expect(bad("d4:infod6:lengthi1e4:name1:x12:piece lengthi16e6:pieces0:ee") == .invalid("info.pieces", "0 hashes for 1 bytes in pieces of 16 (expected 1)"))   // 1 byte needs 1 piece
        #expect(bad("d4:infod5:filesld6:lengthi1e4:pathleee4:name1:x12:piece lengthi16e6:pieces20:aaaaaaaaaaaaaaaaaaaaee")
                == .invalid("info.files[0].path", "not a list of non-empty strings"))
        #expect(bad("d4:infod6:lengthi0e4:name1:x12:piece lengthi0e6:pieces0:ee") == .invalid("info.piece length", "0"))
        #expect(bad("d4:infoi1ee") == .missing("info"))
    }

    @Test func torrentInfoFilesParseAsTwoIndependentLists() throws {
        let text = """
        block_size: 4096
        blocks_total: 51200
        offset: 00000000000000000000000000000000
        length: 00000000000000000000000001000000
        offset: 00000000000000000000000001000000
        sha1: ecebf84d67173eef4afb13b23cbe3498480c25ae
        length: 00000000000000000000000000ca4000

        """
        let info = try TorrentInfoFile(parsing: text)
        #expect(info.blockSize == 4096 && info.blocksTotal == 51200)
        #expect(info.extents == [Extent(offset: 0, length: 0x1000000), Extent(offset: 0x1000000, length: 0xca4000)])
        #expect(info.pieces.map(\.hexString) == ["ecebf84d67173eef4afb13b23cbe3498480c25ae"])
        #expect(throws: TorrentBuildError.torrentInfo(line: 2, detail: "length without offset or bad value 00000000000000000000000001000000")) {
            try TorrentInfoFile(parsing: "block_size: 1\nlength: 00000000000000000000000001000000\n")
        }
    }
}

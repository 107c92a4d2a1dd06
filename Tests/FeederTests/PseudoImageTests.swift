import Foundation
import Testing
import TestSupport
@testable import Feeder

@Suite struct PseudoImageTests {
    @Test func payloadNames() {
        for name in ["sda1.ext4-ptcl-img.zst.aa", "sda1.ext4-ptcl-img.zst", "sda2.ntfs-img.gz.ab", "sda4.dd-img.aa", "sda4.dd-ptcl-img.zst.ab",
                     "sda1.000", "sda1.aa"] {
            #expect(PseudoImage.isPayload(name), "\(name)")
        }
        for name in ["disk", "parts", "sda-pt.sf", "sda-mbr", "sda4.dd-img.info", "swappt-sda3.info", "Info-img-id.txt", "MD5SUMS", "sda-hidden-data-after-mbr"] {
            #expect(!PseudoImage.isPayload(name), "\(name)")
        }
    }

    /// The real GNU tar lists and extracts what we wrote: flat names, empty placeholders for
    /// every chunk, metadata byte for byte, torrents under btzone/<img>/.
    @Test func gnuTarReadsTheTarball() throws {
        guard TestEnv.which("tar") != nil, TestEnv.which("xz") != nil else { return print("skipped: tar and xz are needed to read the tarball") }
        let work = TestEnv.scratch("pseudo")
        defer { TestEnv.cleanup(work) }
        let image = TestEnv.fixture("cz-dos/image")
        try FileManager.default.createDirectory(atPath: work + "/bt", withIntermediateDirectories: true)
        try Data("d8:announce0:e".utf8).write(to: URL(fileURLWithPath: work + "/bt/sda1.torrent"))
        let members = try PseudoImage.members(image: image, name: "cz-dos", torrentDirectory: work + "/bt")
        try PseudoImage.write(members, to: work + "/img-wo-fs.tar.xz")
        let listing = TestEnv.run("tar", ["-tJvf", work + "/img-wo-fs.tar.xz"])
        #expect(listing.status == 0, "\(listing.stderr)")
        let names = TestEnv.run("tar", ["-tJf", work + "/img-wo-fs.tar.xz"]).stdout.split(separator: "\n").map(String.init)
        let expected = try FileManager.default.contentsOfDirectory(atPath: image).sorted() + ["btzone/", "btzone/cz-dos/", "btzone/cz-dos/sda1.torrent"]
        #expect(Set(names) == Set(expected), "\(names)")
        #expect(!names.contains { $0.hasPrefix("./") || $0.hasPrefix("image/") })
        try FileManager.default.createDirectory(atPath: work + "/x", withIntermediateDirectories: true)
        #expect(TestEnv.run("tar", ["-xJf", work + "/img-wo-fs.tar.xz", "-C", work + "/x"]).status == 0)
        for name in try FileManager.default.contentsOfDirectory(atPath: image) {
            let size = try FileManager.default.attributesOfItem(atPath: work + "/x/" + name)[.size] as? Int
            if PseudoImage.isPayload(name) {
                #expect(size == 0, "\(name) must be an empty placeholder")
            } else {
                #expect(TestEnv.sha256(work + "/x/" + name) == TestEnv.sha256(image + "/" + name), "\(name)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: work + "/x/btzone/cz-dos/sda1.torrent"))
        #expect(!FileManager.default.fileExists(atPath: work + "/img-wo-fs.tar.xz.partial"))
        #expect(throws: PseudoImage.Failure.self) { try PseudoImage.members(image: work + "/bt", name: "x") }
    }

    @Test func longNamesUseTheUstarPrefix() throws {
        let name = String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 90)
        let header = try TarArchive.header(name: name, size: 1, directory: false, mtime: 0, mode: 0o644)
        #expect(header.count == 512 && header[345] == UInt8(ascii: "d") && header[0] == UInt8(ascii: "f"))
        #expect(throws: TarArchive.Failure.self) { try TarArchive.header(name: String(repeating: "x", count: 300), size: 0, directory: false, mtime: 0, mode: 0) }
        #expect(TarArchive.padding(after: 512).isEmpty && TarArchive.padding(after: 1).count == 511)
    }
}

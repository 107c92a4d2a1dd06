import Feeder
import Foundation
import Testing
import TestSupport
@testable import GetImg

@Suite struct PseudoImageUnpackerTests {
    /// What our feeder writes unpacks to the image's metadata and empty placeholders.
    @Test func ourFeedersTarball() throws {
        let work = TestEnv.scratch("unpack")
        defer { TestEnv.cleanup(work) }
        let image = TestEnv.fixture("cz-gpt/image")
        try FileManager.default.createDirectory(atPath: work + "/bt", withIntermediateDirectories: true)
        try Data("d8:announce0:e".utf8).write(to: URL(fileURLWithPath: work + "/bt/sda1.torrent"))
        try PseudoImage.write(try PseudoImage.members(image: image, name: "cz-gpt", torrentDirectory: work + "/bt"), to: work + "/p.tar.xz")
        let names = try PseudoImageUnpacker.unpack(work + "/p.tar.xz", into: work + "/out")
        #expect(names.contains("btzone/cz-gpt/sda1.torrent") && names.contains("sda1.ext4-ptcl-img.zst.aa"))
        for name in try FileManager.default.contentsOfDirectory(atPath: image) {
            if PseudoImage.isPayload(name) {
                #expect((try FileManager.default.attributesOfItem(atPath: work + "/out/" + name))[.size] as? Int == 0, "\(name)")
            } else {
                #expect(TestEnv.sha256(work + "/out/" + name) == TestEnv.sha256(image + "/" + name), "\(name)")
            }
        }
        #expect(throws: PseudoImageUnpacker.Failure.self) { try PseudoImageUnpacker.unpack(work + "/p.tar.xz", into: work + "/out") }
    }

    /// GNU tar's own format (long names, the real feeder's tool), and hostile archives made with
    /// python's tarfile: each refused with the member named, nothing written outside.
    @Test func gnuTarAndHostileArchives() throws {
        guard let python = TestEnv.which("python3"), TestEnv.which("tar") != nil, TestEnv.which("xz") != nil else {
            return print("skipped: python3, tar and xz are needed")
        }
        let work = TestEnv.scratch("unpack-hostile")
        defer { TestEnv.cleanup(work) }
        let long = String(repeating: "n", count: 150)
        let made = TestEnv.shell("""
            set -e; cd \(work); mkdir -p src/btzone/img; echo data > src/disk; echo t > src/btzone/img/sda1.torrent; : > src/\(long)
            (cd src && tar --format=gnu -cJf ../gnu.tar.xz *)
            \(python) - <<'PY'
            import io, tarfile, lzma
            def make(name, members):
                with lzma.open(name, 'wb') as f:
                    with tarfile.open(fileobj=f, mode='w', format=tarfile.PAX_FORMAT) as t:
                        for m, kind in members:
                            info = tarfile.TarInfo(m)
                            if kind == 'link': info.type = tarfile.SYMTYPE; info.linkname = '/etc'
                            elif kind == 'dev': info.type = tarfile.CHRTYPE; info.devmajor = 1; info.devminor = 3
                            elif kind == 'hard': info.type = tarfile.LNKTYPE; info.linkname = 'disk'
                            data = b'x' if kind == 'file' else b''
                            info.size = len(data)
                            t.addfile(info, io.BytesIO(data))
            make('dotdot.tar.xz', [('disk', 'file'), ('../evil', 'file')])
            make('absolute.tar.xz', [('/tmp/evil-absolute', 'file')])
            make('link.tar.xz', [('btzone', 'link'), ('btzone/x', 'file')])
            make('dev.tar.xz', [('null', 'dev')])
            make('hard.tar.xz', [('disk', 'file'), ('h', 'hard')])
            make('pax.tar.xz', [('\(String(repeating: "p", count: 120))', 'file')])
            PY
            head -c -20 gnu.tar.xz > truncated.tar.xz
            """)
        try #require(made.status == 0, "\(made.stderr)")
        let names = try PseudoImageUnpacker.unpack(work + "/gnu.tar.xz", into: work + "/gnu")
        #expect(Set(names) == ["disk", "btzone/", "btzone/img/", "btzone/img/sda1.torrent", long], "\(names)")
        #expect(try String(contentsOfFile: work + "/gnu/disk", encoding: .utf8) == "data\n")
        #expect(try PseudoImageUnpacker.unpack(work + "/pax.tar.xz", into: work + "/pax") == [String(repeating: "p", count: 120)])
        for (archive, expected) in [("dotdot", "../evil"), ("absolute", "/tmp/evil-absolute"), ("link", "btzone"), ("dev", "null"), ("hard", "h")] {
            do {
                try PseudoImageUnpacker.unpack("\(work)/\(archive).tar.xz", into: "\(work)/\(archive)")
                Issue.record("\(archive) was unpacked")
            } catch {
                #expect(error.description.contains(expected), "\(archive): \(error)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: work + "/evil") && !FileManager.default.fileExists(atPath: "/tmp/evil-absolute"))
        #expect(throws: PseudoImageUnpacker.Failure.self) { try PseudoImageUnpacker.unpack(work + "/truncated.tar.xz", into: work + "/t") }
    }

    /// Random and mutated tar streams: events or a typed refusal, never a trap; names stay inside.
    @Test func tarReaderSurvivesRandomInput() throws {
        var header = try TarArchive.header(name: "btzone/img/sda1.torrent", size: 700, directory: false, mtime: 0, mode: 0o644)
        header += [UInt8](repeating: 65, count: 700) + TarArchive.padding(after: 700) + TarArchive.trailer
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20_000 {
            var bytes = header
            for _ in 0..<(round % 8 + 1) { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            var reader = TarReader()
            var cut = 0
            do {
                while cut < bytes.count {
                    let next = min(bytes.count, cut + Int.random(in: 1...700, using: &generator))
                    for event in try reader.consume(Array(bytes[cut..<next])) {
                        if case .file(let name, _) = event { #expect(!name.hasPrefix("/") && !name.split(separator: "/").contains("..")) }
                    }
                    cut = next
                }
            } catch {}
        }
        for pax in ["1 path=x\n", "99 path=x\n", "12 path=abc\n", "x path\n", "", "5 a=b\n30 path=../../etc\n"] {
            #expect(TarReader.paxPath(Array(pax.utf8)).map { String(decoding: $0, as: UTF8.self) } != "../../etc" || pax.hasPrefix("5"))
        }
        var reader = TarReader()
        let events = try reader.consume(header)
        #expect(events.first == .file("btzone/img/sda1.torrent", size: 700) && events.last == .end && reader.finished)
    }
}

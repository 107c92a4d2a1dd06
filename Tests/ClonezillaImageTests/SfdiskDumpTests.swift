import Foundation
import Testing
import TestSupport
@testable import ClonezillaImage

@Suite struct SfdiskDumpTests {
    @Test func parsesTheGPTFixture() throws {
        let path = TestEnv.fixture("cz-gpt/image/sda-pt.sf")
        let dump = try SfdiskDump.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(dump.label == .gpt && dump.firstLBA == 34 && dump.lastLBA == 65502 && dump.sectorSize == 512)
        #expect(dump.labelID == "6B2C0F0E-8C1A-4F7B-9D55-0123456789AB")
        #expect(dump.partitions.map(\.number) == [1, 2, 3, 4])
        #expect(dump.partitions[0].name == "fxroot" && dump.partitions[0].uuid == "11111111-1111-4111-8111-111111111111")
        #expect(dump.partitions[3].end == 57344)
        #expect(dump.requiredSectors == 57344 + 33)
        #expect(!dump.textForRestore.contains("last-lba"))
        #expect(dump.textForRestore.contains("first-lba: 34"))
    }

    @Test func parsesMBRWithLogicalsAndOldFormat() throws {
        let modern = """
            label: dos
            label-id: 0x12345678
            device: /dev/sda
            unit: sectors

            /dev/sda1 : start=2048, size=1000, type=83, bootable
            /dev/sda2 : start=4096, size=10000, type=5
            /dev/sda5 : start=6144, size=2000, type=82
            /dev/sda6 : start=10240, size=2000, type=7
            """
        let dump = try SfdiskDump.parse(modern, file: "m")
        #expect(dump.partitions.count == 4 && dump.partitions[0].bootable && dump.partitions[1].isExtendedContainer)
        let old = """
            # partition table of /dev/hda
            unit: sectors

            /dev/hda1 : start=       63, size=  1012032, Id=83, bootable
            /dev/hda2 : start=  1012095, size=   102816, Id=82
            /dev/hda3 : start=        0, size=        0, Id= 0
            /dev/hda4 : start=        0, size=        0, Id= 0
            """
        let legacy = try SfdiskDump.parse(old, file: "o")
        #expect(legacy.label == .dos && legacy.partitions.map(\.number) == [1, 2])
        let names = try SfdiskDump.parse("label: gpt\n\n/dev/vda1 : start=2048, size=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"a, b\", attrs=\"LegacyBIOSBootable\"\n", file: "g")
        #expect(names.partitions[0].name == "a, b" && names.partitions[0].attributes == "LegacyBIOSBootable")
    }

    @Test(arguments: [
        ("label: bsd\n\n/dev/sda1 : start=1, size=2, type=83", "unsupported label"),
        ("unit: cylinders\n", "unit must be sectors"),
        ("/dev/sda1 : start=x, size=2, type=83", "start"),
        ("/dev/sda1 : start=1, size=2", "type is required"),
        ("/dev/sda1 : start=1, size=2, type=83, colour=red", "unknown field"),
        ("/dev/sda1 : start=2048, size=100, type=83\n/dev/sda1 : start=4096, size=100, type=83", "appears twice"),
        ("/dev/sda1 : start=2048, size=4096, type=83\n/dev/sda2 : start=4096, size=100, type=83", "overlap"),
        ("/dev/sda5 : start=2048, size=100, type=83", "outside any extended"),
        ("label: gpt\nfirst-lba: 34\n\n/dev/sda1 : start=2, size=100, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4", "before first-lba"),
        ("/dev/sda1 : start=18446744073709551615, size=2, type=83", "out of range"),
        ("/dev/sda1 : start=1, size=2, type=83, name=\"open", "unterminated"),
        ("label: dos\n", "no partitions"),
        ("sector-size: 333\n", "sector-size"),
    ])
    func rejectsMalformedDumps(text: String, expected: String) {
        do {
            _ = try SfdiskDump.parse(text, file: "sda-pt.sf")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.hasPrefix("sda-pt.sf"))
        }
    }

    /// Mutated dumps must parse or fail with a typed error, never trap.
    @Test func survivesMutation() throws {
        let seeds = [TestEnv.fixture("cz-gpt/image/sda-pt.sf"), TestEnv.fixture("cz-dos/image/sda-pt.sf")]
            .map { Array(try! String(contentsOfFile: $0, encoding: .utf8).utf8) }
        var state: UInt64 = 0x5EED
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 17 }
        let alphabet = Array(" ,=:\"\n-0123456789abcdefxyz/".utf8)
        var accepted = 0
        for i in 0..<100_000 {
            var text = seeds[i % 2]
            for _ in 0..<(1 + Int(next() % 4)) {
                let at = Int(next() % UInt64(text.count))
                switch next() % 3 {
                case 0: text[at] = alphabet[Int(next() % UInt64(alphabet.count))]
                case 1: text.remove(at: at)
                default: text.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: at)
                }
                if text.isEmpty { text = [0x0A] }
            }
            if (try? SfdiskDump.parse(String(decoding: text, as: UTF8.self), file: "f")) != nil { accepted += 1 }
        }
        #expect(accepted < 100_000)
    }
}

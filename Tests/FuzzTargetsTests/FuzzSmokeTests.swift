import Foundation
import FuzzTargets
import Testing
import TestSupport

/// CI's short pass over every fuzz target (bench/fuzz.sh runs each for millions of inputs):
/// the seeds, the repository's real files for the formats that have them, and 20 000 mutants
/// each. A trap fails the whole run; a broken invariant names the target and its input.
@Suite struct FuzzSmokeTests {
    /// Real inputs from the fixtures: partclone streams (decompressed), partition dumps, a job.
    static func fixtureSeeds(_ target: String) -> [[UInt8]] {
        let image = TestEnv.fixture("cz-gpt/image")
        switch target {
        case "partclone":
            let file = TestEnv.scratch("fuzz-seed") + "/sda2.ptcl"
            defer { TestEnv.cleanup((file as NSString).deletingLastPathComponent) }
            guard TestEnv.shell("cat \(image)/sda2.vfat-ptcl-img.gz.* | gzip -dc > \(file)").status == 0 else { return [] }
            return [TestEnv.readBytes(file)]
        case "sfdisk":
            return ["cz-gpt", "cz-dos"].compactMap { FileManager.default.contents(atPath: TestEnv.fixture("\($0)/image/sda-pt.sf")).map { Array($0) } }
        default:
            return []
        }
    }

    /// Inputs bench/fuzz.sh once found (Fixtures/fuzz-regressions/<target>-*.bin).
    static func regressions(_ target: String) -> [[UInt8]] {
        let directory = TestEnv.fixture("fuzz-regressions")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(target + "-") && $0.hasSuffix(".bin") }.sorted().map { TestEnv.readBytes(directory + "/" + $0) }
    }

    @Test func everySavedFindingStaysFixed() throws {
        var count = 0
        for target in FuzzTargets.all {
            for input in Self.regressions(target.name) {
                count += 1
                #expect(throws: Never.self, "\(target.name)") { try target.run(input) }
            }
        }
        #expect(count >= 1)
    }

    @Test(arguments: FuzzTargets.all.map(\.name)) func twentyThousandMutants(name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        #expect(!target.seeds().isEmpty, "\(name) has seeds")
        if let (finding, input) = target.fuzz(count: 20_000, seed: 2026, extraSeeds: Self.fixtureSeeds(name) + Self.regressions(name), maxLength: 1 << 18) {
            Issue.record("\(finding); input (\(input.count) bytes): \(input.prefix(96).map { String(format: "%02x", $0) }.joined())")
        }
    }

    /// The invariant checks can fail: a decoder that loses a field is caught.
    @Test func aBrokenRoundTripIsAFinding() {
        let lossy = FuzzTarget(name: "lossy", summary: "drops its last byte", seeds: { [[1, 2, 3]] }) { bytes throws(FuzzFinding) in
            if bytes.count > 1 && bytes.last == 3 { throw FuzzFinding("lossy", "last byte lost") }
        }
        #expect(lossy.fuzz(count: 10, seed: 1)?.0.description == "lossy: last byte lost")
    }
}

import Foundation
import Testing
import TestSupport

/// README's first command: `scripts/lab.sh` deploys both fixtures to three clients (files and
/// loop devices) with our feeder and client, every disk equal to the real tools' restore.
@Suite(.serialized) struct LabScriptTests {
    @Test(.timeLimit(.minutes(8))) func labDeploysBothFixtures() {
        guard TestEnv.isRoot else { return print("skipped: needs root (network namespaces, loop devices)") }
        let bin = URL(fileURLWithPath: TestEnv.tool("ocs-live-get-img")).deletingLastPathComponent().path
        for (fixture, loop) in [("cz-gpt", "0"), ("cz-dos", "1")] {
            let run = TestEnv.shell("LAB_BIN=\(bin) LAB_LOOP=\(loop) LAB_PREFIX=lab\(loop)- LAB_NET=10.79.\(98 - Int(loop)!) bash \(TestEnv.packageRoot)/scripts/lab.sh 3 \(fixture)")
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            #expect(run.stdout.components(separatedBy: "  yes\n").count - 1 == 3 && run.stdout.contains("lab: all 3 client(s) restored \(fixture)"), "\(run.stdout)")
        }
    }
}

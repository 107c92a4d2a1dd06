import Testing
import TestSupport
import ClonezillaImage
@testable import Feeder

@Suite struct StreamPlanTests {
    @Test func restoreDiskStreamsTheDisksPartitionsInPartsOrder() throws {
        let image = try ImageDirectory.load(TestEnv.fixture("cz-gpt/image"))
        let plan = try StreamPlan(image: image, destinations: ["sda"], restoreDisk: true)
        #expect(plan.streams.map(\.partition) == ["sda1", "sda2", "sda4"])
        #expect(plan.streams.map(\.portbase) == [2232, 2234, 2236])
        #expect(plan.streams[0].files.map { String($0.split(separator: "/").last!) } == ["sda1.ext4-ptcl-img.zst.aa", "sda1.ext4-ptcl-img.zst.ab", "sda1.ext4-ptcl-img.zst.ac"])
        #expect(try StreamPlan(image: image, destinations: ["all"], restoreDisk: true) == plan)
    }

    @Test func restorePartsFollowsTheCommandLineAndNamesMustMatchExactly() throws {
        let image = try ImageDirectory.load(TestEnv.fixture("cz-dos/image"))
        let plan = try StreamPlan(image: image, destinations: ["sda4", "sda1"], restoreDisk: false)
        #expect(plan.streams.map(\.partition) == ["sda4", "sda1"] && plan.streams.map(\.index) == [0, 1])
        #expect(throws: StreamPlan.Failure.self) { try StreamPlan(image: image, destinations: ["sda3"], restoreDisk: false) }
        #expect(throws: StreamPlan.Failure.rename(.ambiguous(image: "image", imageDisks: ["sda"], destinations: ["sdb", "sdc"]))) {
            try StreamPlan(image: image, destinations: ["sdb", "sdc"], restoreDisk: true)
        }
    }

    @Test func holdsPerStreamFollowTheOriginalsTable() {
        #expect(StreamPlan.holds(stream: 0, timeToWait: 120, clientsToWait: 3, maxTimeToWait: 300) == .init(minWait: 120, minClients: 3, maxWait: 300))
        #expect(StreamPlan.holds(stream: 1, timeToWait: 120, clientsToWait: 3, maxTimeToWait: 300) == .init(minWait: 30, minClients: 3, maxWait: 30))
        #expect(StreamPlan.holds(stream: 2, timeToWait: nil, clientsToWait: 3, maxTimeToWait: nil) == .init(minWait: nil, minClients: 3, maxWait: 30),
                "B17: later streams never wait without a limit")
    }
}

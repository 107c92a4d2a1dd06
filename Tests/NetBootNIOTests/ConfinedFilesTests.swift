import Foundation
import Testing
import TestSupport
@testable import NetBootNIO
import DHCP

/// Confinement of served files (no root needed): symlinks may lead into the root or an
/// allow-listed extra root, nowhere else; only regular files are opened.
@Suite struct ConfinedFilesTests {
    @Test func symlinksAreFollowedOnlyIntoTheRoots() throws {
        let work = TestEnv.scratch("confined")
        defer { TestEnv.cleanup(work) }
        let root = work + "/root", medium = work + "/medium", other = work + "/other"
        for dir in [root + "/bios", medium + "/live", other] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        for (path, text) in [(root + "/pxelinux.0", "nbp"), (medium + "/live/filesystem.squashfs", "squash"), (other + "/secret", "s")] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: root + "/link-in", withDestinationPath: "pxelinux.0")
        try fm.createSymbolicLink(atPath: root + "/squashfs", withDestinationPath: medium + "/live/filesystem.squashfs")
        try fm.createSymbolicLink(atPath: root + "/link-out", withDestinationPath: other + "/secret")
        try fm.createSymbolicLink(atPath: root + "/dir-out", withDestinationPath: other)
        try fm.createSymbolicLink(atPath: root + "/medium-prefix", withDestinationPath: medium + "x")   // a sibling that shares the prefix
        try fm.createDirectory(atPath: medium + "x", withIntermediateDirectories: true)
        try "p".write(toFile: medium + "x/f", atomically: true, encoding: .utf8)
        let files = try ConfinedFiles(root: root + "/", extraRoots: [medium, work + "/missing"])
        #expect(files.extraRoots.count == 1, "a missing extra root is dropped")
        #expect(files.configuredRoot == root)
        func size(_ name: String) -> UInt64? {
            guard case .success(let file) = files.open(name) else { return nil }
            close(file.descriptor)
            return file.size
        }
        #expect(size("pxelinux.0") == 3 && size("link-in") == 3 && size("squashfs") == 6)
        #expect(files.open("link-out").failureValue == .outsideRoots)
        #expect(files.open("dir-out/secret").failureValue == .outsideRoots)
        #expect(files.open("medium-prefix/f").failureValue == .outsideRoots)
        #expect(files.open("bios").failureValue == .notRegularFile)
        #expect(files.open("nothing").failureValue == .notFound)
        #expect(throws: ConfinedFiles.Failure.self) { try ConfinedFiles(root: work + "/nope") }
    }

    @Test func admissionCountsClientsAndIgnoresRepeats() {
        var admission = TFTPAdmission(maximumTotal: 3, maximumPerClient: 2)
        let a = IPv4Address(10, 0, 0, 5), b = IPv4Address(10, 0, 0, 6)
        #expect(admission.admit(a, port: 1000) == .admitted)
        #expect(admission.admit(a, port: 1000) == .duplicate)
        #expect(admission.admit(a, port: 1001) == .admitted)
        if case .busy(let reason) = admission.admit(a, port: 1002) { #expect(reason.contains("10.0.0.5")) } else { Issue.record("per-client cap") }
        #expect(admission.admit(b, port: 1000) == .admitted)
        if case .busy = admission.admit(b, port: 1001) {} else { Issue.record("total cap") }
        admission.release(a, port: 1000)
        admission.release(a, port: 1000)   // twice: no effect
        #expect(admission.total == 2)
        #expect(admission.admit(b, port: 1001) == .admitted)
    }
}

extension Result {
    var failureValue: Failure? { if case .failure(let failure) = self { return failure } else { return nil } }
}

import ClonezillaImage
import Foundation

/// Paths and helpers the test targets share: fixtures, scratch directories, real tools.
public enum TestEnv {
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func fixture(_ relative: String) -> String { packageRoot + "/Fixtures/" + relative }

    /// The built `ocs-restore-img`, next to the test bundle.
    public static var restoreTool: String {
        if let explicit = ProcessInfo.processInfo.environment["OCS_RESTORE_IMG"] { return explicit }
        return tool("ocs-restore-img")
    }

    /// One of the package's executables, built next to the test bundle.
    public static func tool(_ name: String) -> String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot + "/.build/debug/" + name
    }

    public static func which(_ tool: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static var isRoot: Bool { geteuid() == 0 }

    /// A fresh scratch directory, removed by `cleanup`.
    public static func scratch(_ name: String = "t") -> String {
        let path = NSTemporaryDirectory() + "liteserver-\(name)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public static func cleanup(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// Copies an image directory so a test can damage it; files become writable.
    public static func copyImage(_ source: String, to destination: String) {
        try! FileManager.default.copyItem(atPath: source, toPath: destination)
        for file in try! FileManager.default.contentsOfDirectory(atPath: destination) {
            chmod(destination + "/" + file, 0o644)
        }
        chmod(destination, 0o755)
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], input: Data? = nil) -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : (which(executable) ?? executable))
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        try! process.run()
        if let input { inp.fileHandleForWriting.write(input) }
        try? inp.fileHandleForWriting.close()
        // Read both pipes concurrently so neither can fill up and stall the child.
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async { errBox.data = errHandle.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Runs a shell pipeline (for driving the real tools).
    @discardableResult
    public static func shell(_ script: String) -> (status: Int32, stdout: String, stderr: String) {
        run("/bin/bash", ["-o", "pipefail", "-c", script])
    }

    public static func sha256(_ path: String, offset: UInt64 = 0, length: UInt64? = nil) -> String {
        try! Digest.hex(of: path, algorithm: .sha256, offset: offset, length: length)
    }

    public static func readBytes(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path)!) }

    /// `regions.txt` of a fixture: name → (start sector, sectors, restored hash).
    public static func regions(_ fixture: String) -> [(name: String, start: UInt64, count: UInt64, sha: String)] {
        let text = try! String(contentsOfFile: fixture + "/expected/regions.txt", encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let f = line.split(separator: " ").map(String.init)
            return (f[0], UInt64(f[1])!, UInt64(f[2])!, f[3])
        }
    }

    /// The whole disk's SHA-256 as the real tools restore `fixture` (`expected/restored-disk.sha256`).
    public static func restoredDiskHash(_ fixture: String) -> String {
        text(TestEnv.fixture("\(fixture)/expected/restored-disk.sha256")).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Nothing was written: the file still has `size` bytes, every one zero.
    public static func isUnwritten(_ path: String, size: UInt64) -> Bool {
        let actual = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value
        guard actual == size, let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            if chunk.contains(where: { $0 != 0 }) { return false }
        }
        return true
    }

    /// A file's text (a log, a report); empty when it does not exist.
    public static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// A file of `size` zero bytes.
    public static func zeroFile(_ path: String, size: UInt64) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        truncate(path, off_t(size))
    }
}

final class DataBox: @unchecked Sendable { var data = Data() }

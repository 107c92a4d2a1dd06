import Compression
import Foundation

/// Runs a helper program (sfdisk) with text on stdin and collects its output.
enum ToolRunner {
    static func run(_ tool: String, _ arguments: [String], input: String? = nil, package: String) throws(RestoreError) -> (status: Int32, output: String) {
        guard let path = ExecutableLookup.find(tool) else {
            throw .tool(name: tool, status: 127, output: "not found in PATH (install the Debian package \(package))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        do { try process.run() } catch { throw .tool(name: tool, status: 127, output: "\(error)") }
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

import Foundation
import NIOPosix
import Testing
import TestSupport
@testable import NetBootNIO
import DHCP

/// The lab's HTTP side against curl on loopback (no root needed): GET, HEAD, ranges, and the
/// same confinement as TFTP.
@Suite struct FileHTTPServerTests {
    @Test func curlGetsFilesRangesAndNothingElse() throws {
        guard let curl = TestEnv.which("curl") else { return print("skipped: curl is not installed") }
        let work = TestEnv.scratch("http")
        defer { TestEnv.cleanup(work) }
        try FileManager.default.createDirectory(atPath: work + "/root/sub", withIntermediateDirectories: true)
        TestEnv.shell("head -c 3000000 /dev/urandom > \(work)/root/img-wo-fs.tar.xz; printf 'pseudo_img=\"x\"\\n' > '\(work)/root/ocs-client-run.conf'; echo secret > \(work)/secret; ln -s \(work)/secret \(work)/root/out; : > \(work)/root/empty")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = FileHTTPServer(files: try ConfinedFiles(root: work + "/root"), group: group, log: { _ in })
        let port = try server.start(address: IPv4Address(127, 0, 0, 1), port: 0)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(port)"
        func get(_ args: [String]) -> (code: String, body: String) {
            let run = TestEnv.run(curl, ["-s", "-o", work + "/got", "-w", "%{http_code}"] + args)
            return (run.stdout, TestEnv.text(work + "/got"))
        }
        #expect(get([base + "/img-wo-fs.tar.xz"]).code == "200")
        #expect(TestEnv.sha256(work + "/got") == TestEnv.sha256(work + "/root/img-wo-fs.tar.xz"))
        #expect(get([base + "/ocs-client-run.conf"]).body == "pseudo_img=\"x\"\n")
        let head = TestEnv.run(curl, ["-sI", base + "/img-wo-fs.tar.xz"]).stdout
        #expect(head.contains("200") && head.contains("Content-Length: 3000000"), "\(head)")
        #expect(get(["-r", "10-19", base + "/img-wo-fs.tar.xz"]).code == "206")
        #expect(TestEnv.readBytes(work + "/got") == Array(TestEnv.readBytes(work + "/root/img-wo-fs.tar.xz")[10...19]))
        #expect(get(["-H", "Range: bytes=-5", base + "/img-wo-fs.tar.xz"]).code == "206" && TestEnv.readBytes(work + "/got").count == 5)
        #expect(get(["-H", "Range: bytes=4000000-", base + "/img-wo-fs.tar.xz"]).code == "416")
        #expect(get([base + "/empty"]).code == "200")
        #expect(get([base + "/missing"]).code == "404")
        #expect(get([base + "/sub"]).code == "404", "no directory listings")
        #expect(get(["--path-as-is", base + "/../secret"]).code == "403")
        #expect(get([base + "/%2e%2e/secret"]).code == "403")
        #expect(get([base + "/out"]).code == "403", "a symlink out of the root")
        #expect(get(["-X", "POST", base + "/ocs-client-run.conf"]).code == "405")
        // Keep-alive: two requests on one connection.
        let twice = TestEnv.run(curl, ["-s", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} ", base + "/empty", base + "/ocs-client-run.conf"])
        #expect(twice.stdout == "200 200 ", "\(twice.stdout)")
    }

    @Test func rangeHeaders() {
        #expect(FileHTTPServer.byteRange("bytes=0-0", size: 10) == 0...0)
        #expect(FileHTTPServer.byteRange("bytes=5-", size: 10) == 5...9)
        #expect(FileHTTPServer.byteRange("bytes=-3", size: 10) == 7...9)
        #expect(FileHTTPServer.byteRange("bytes=-30", size: 10) == 0...9)
        #expect(FileHTTPServer.byteRange("bytes=3-100", size: 10) == 3...9)
        for bad in ["bytes=9-3", "bytes=10-", "bytes=0-1,3-4", "items=0-1", "bytes=-0", "bytes=a-b"] {
            #expect(FileHTTPServer.byteRange(bad, size: 10) == nil, "\(bad)")
        }
        #expect(FileHTTPServer.percentDecoded("/a%20b") == "/a b")
        #expect(FileHTTPServer.percentDecoded("/%zz") == nil)
    }
}

import Testing
@testable import GetImg

@Suite struct HTTPResponseTests {
    @Test func responses() throws {
        let ok = try HTTPResponse(parsing: Array("HTTP/1.1 200 OK\r\nServer: LiteServer\r\nContent-Length: 5\r\n\r\nhello".utf8))
        #expect(ok.status == 200 && ok.body == Array("hello".utf8) && ok.header("server") == "LiteServer")
        let lighttpd = try HTTPResponse(parsing: Array("HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\n<h1>404</h1>".utf8))
        #expect(lighttpd.status == 404 && lighttpd.body.count == 12, "no length: the body runs to the close")
        #expect(throws: HTTPResponse.Failure.incomplete(expected: 10, got: 5)) {
            try HTTPResponse(parsing: Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello".utf8))
        }
        for bad in ["", "HTTP/1.1 200 OK\r\n", "SSH-2.0-x\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"] {
            #expect(throws: HTTPResponse.Failure.self, "\(bad)") { try HTTPResponse(parsing: Array(bad.utf8)) }
        }
        #expect(String(decoding: HTTPResponse.request(path: "/ocs-client-run.conf", host: "10.0.0.1"), as: UTF8.self).hasPrefix("GET /ocs-client-run.conf HTTP/1.1\r\nHost: 10.0.0.1\r\n"))
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        let seed = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello".utf8)
        for _ in 0..<50_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let i = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: i)
                }
                if bytes.isEmpty { break }
            }
            _ = try? HTTPResponse(parsing: bytes)
        }
    }
}

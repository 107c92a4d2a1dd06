/// An HTTP/1.x response read to its end (the job files are small and come whole): status,
/// headers, body, with `Content-Length` honoured and checked, so a cut transfer is an error
/// rather than a short file.
public struct HTTPResponse: Equatable, Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case incomplete(expected: Int, got: Int)
        case tooLarge(Int)

        public var description: String {
            switch self {
            case .malformed(let why): return "malformed HTTP response: \(why)"
            case .incomplete(let expected, let got): return "HTTP body cut short: \(got) of \(expected) bytes"
            case .tooLarge(let limit): return "HTTP response larger than \(limit) bytes"
            }
        }
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public static func == (a: HTTPResponse, b: HTTPResponse) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.elementsEqual(b.headers, by: { $0 == $1 })
    }

    public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    /// The GET request for `path` on `host`; the connection closes after the response.
    public static func request(path: String, host: String) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: LiteServer-ocs-live-get-img\r\nConnection: close\r\n\r\n".utf8)
    }

    /// Parses a complete response (everything the server sent before closing).
    public init(parsing bytes: [UInt8]) throws(Failure) {
        guard let end = Self.headerEnd(bytes) else { throw .malformed("no end of headers") }
        guard let head = String(validating: bytes[..<end], as: UTF8.self) else { throw .malformed("headers are not text") }
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]), (100...599).contains(status) else {
            throw .malformed("status line \"\(head.prefix { $0 != "\r" })\"")
        }
        var headers: [(String, String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("header line \"\(line)\"") }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces()))
        }
        var body = Array(bytes[(end + 4)...])
        if let lengthText = headers.first(where: { $0.0.lowercased() == "content-length" })?.1 {
            guard let length = Int(lengthText), length >= 0 else { throw .malformed("Content-Length \"\(lengthText)\"") }
            guard body.count >= length else { throw .incomplete(expected: length, got: body.count) }
            body = Array(body.prefix(length))
        } else if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" }) {
            throw .malformed("chunked transfer encoding is not expected from a Lite Server")
        }
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }
}

extension String {
    func trimmingSpaces() -> String { String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()) }
}

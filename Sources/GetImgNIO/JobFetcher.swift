import Foundation
import GetImg
import NetworkNIO

/// The job files over HTTP with retries: the real client tries once and fails at the next step
/// (labs wrap it in retry loops); this one retries with back-off (1, 2, 4 … 10 s) until the
/// total timeout, and retries a 404 too (the feeder may not have published yet).
public struct JobFetcher: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case gaveUp(url: String, attempts: Int, seconds: Double, last: String)
        public var description: String {
            switch self {
            case .gaveUp(let url, let attempts, let seconds, let last):
                return "cannot fetch \(url): \(attempts) attempt(s) in \(Int(seconds)) s, last: \(last)"
            }
        }
    }

    public var server: String
    public var port: UInt16 = 80
    public var requestTimeout = 10.0
    public var totalTimeout = 120.0
    public var maximumBytes = 1 << 31

    public init(server: String) { self.server = server }

    public func get(_ path: String, log: (String) -> Void) throws(Failure) -> [UInt8] {
        let url = "http://\(server)\(port == 80 ? "" : ":\(port)")\(path)"
        let started = Date()
        var delay = 1.0
        var attempts = 0
        var last = ""
        while true {
            attempts += 1
            do {
                let response = try HTTPResponse(parsing: try exchange(path))
                if response.status == 200 { return response.body }
                last = "HTTP \(response.status)"
            } catch {
                last = "\(error)"
            }
            let elapsed = Date().timeIntervalSince(started)
            guard elapsed + delay < totalTimeout else { throw .gaveUp(url: url, attempts: attempts, seconds: elapsed, last: last) }
            log("\(url): \(last); again in \(Int(delay)) s")
            Thread.sleep(forTimeInterval: delay)
            delay = min(delay * 2, 10)
        }
    }

    struct SocketError: Error, CustomStringConvertible {
        let description: String
    }

    /// One request on a fresh connection; everything the server sends until it closes.
    func exchange(_ path: String) throws -> [UInt8] {
        guard let address = IPv4Address(server) else { throw SocketError(description: "\(server) is not an IPv4 address") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(requestTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sin = address.sockaddr(port: port)
        let connected = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw SocketError(description: "connect: \(String(cString: strerror(errno)))") }
        let request = HTTPResponse.request(path: path, host: server)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            throw SocketError(description: "send: \(String(cString: strerror(errno)))")
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw SocketError(description: "receive: \(errno == EAGAIN ? "no data for \(Int(requestTimeout)) s" : String(cString: strerror(errno)))") }
            received += buffer[0..<n]
            guard received.count <= maximumBytes else { throw SocketError(description: "more than \(maximumBytes) bytes") }
        }
        return received
    }
}

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

    /// One request on a fresh connection; everything the server sends until it closes.
    func exchange(_ path: String) throws -> [UInt8] {
        guard let address = IPv4Address(server) else { throw TCPConnection.Failure(description: "\(server) is not an IPv4 address") }
        let connection = try TCPConnection(to: address, port: port, timeout: requestTimeout)
        try connection.send(HTTPResponse.request(path: path, host: server))
        return try connection.receiveAll(limit: maximumBytes)
    }
}

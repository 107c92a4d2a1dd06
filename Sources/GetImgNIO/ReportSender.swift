import Foundation
import NetworkNIO

/// The job report to the feeder's TCP 6461, as `ocs-socket` sends it: one line, LF, close.
public enum ReportSender {
    public static func send(_ line: String, to server: String, port: UInt16 = 6461, timeout: Int = 10) -> String? {
        guard let address = IPv4Address(server) else { return "\(server) is not an IPv4 address" }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var sin = address.sockaddr(port: port)
        let connected = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return "connect to \(server):\(port): \(String(cString: strerror(errno)))" }
        let bytes = Array((line + "\n").utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            return "send to \(server):\(port): \(String(cString: strerror(errno)))"
        }
        return nil
    }
}

import Foundation
import NetworkNIO

/// The job report to the feeder's TCP 6461, as `ocs-socket` sends it: one line, LF, close.
public enum ReportSender {
    /// Nil when sent, else why not.
    public static func send(_ line: String, to server: String, port: UInt16 = 6461, timeout: Double = 10) -> String? {
        guard let address = IPv4Address(server) else { return "\(server) is not an IPv4 address" }
        do {
            try TCPConnection(to: address, port: port, timeout: timeout).send(Array((line + "\n").utf8))
            return nil
        } catch {
            return "\(error)"
        }
    }
}

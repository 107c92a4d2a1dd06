import DHCP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NetworkNIO
#if canImport(Glibc)
import Glibc
#endif

/// Auto-detect on the wire: one PXE-flavoured DISCOVER (resent twice in case it is lost) from
/// port 68 of the chosen interface, every OFFER collected for the whole window. No REQUEST is
/// ever sent, so no server commits a lease to the probe.
public enum DHCPProbe {
    public static func run(on interface: NetworkInterface, seconds: Double, loop: EventLoop,
                           serverPort: UInt16 = 67, clientPort: UInt16 = 68, log: @escaping ServiceLog) throws -> DHCPDetection {
        // A random locally administered MAC: no server confuses the probe with a real client.
        var mac = (0..<6).map { _ in UInt8.random(in: 0...255) }
        mac[0] = mac[0] & 0xFC | 0x02
        let detection = NIOLockedValueBox(DHCPDetection(xid: UInt32.random(in: 1...UInt32.max), hardwareAddress: mac))
        let channel = try DeviceSocket.channel(address: .any, port: clientPort, device: interface.name,
                                               options: .init(broadcast: true, reuseAddress: true), on: loop) {
            DatagramInbox { bytes, _ in
                if let reply = try? DHCPMessage(parsing: bytes),
                   let finding = detection.withLockedValue({ $0.record(reply) }) {
                    log("detect: \(finding)")
                }
                return []
            }
        }.wait()
        defer { try? channel.close().wait() }
        let probe = try detection.withLockedValue { try $0.probe.encoded() }
        let destination = IPv4Address.broadcast.socketAddress(port: serverPort)
        log("detect: DISCOVER (PXEClient, broadcast flag) on \(interface.name), listening \(seconds) s")
        let started = MonotonicClock.seconds
        for resend in [0.0, 1.0, 2.0] where resend < seconds {
            let wait = started + resend - MonotonicClock.seconds
            if wait > 0 { usleep(useconds_t(wait * 1e6)) }
            try channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: channel.allocator.buffer(bytes: probe))).wait()
        }
        let rest = started + seconds - MonotonicClock.seconds
        if rest > 0 { usleep(useconds_t(rest * 1e6)) }
        return detection.withLockedValue { $0 }
    }
}

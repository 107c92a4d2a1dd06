import NIOCore
import NIOPosix
import UDPCast
#if canImport(Glibc)
import Glibc
#endif

/// The network interface a session uses: `--interface` (a name, an address or a name
/// prefix), else the interface of the default route, else the first non-loopback IPv4
/// interface with a broadcast address (udpcast's ranking, simplified).
public struct CastInterface: Sendable {
    public let name: String
    public let address: UDPCast.IPv4Address
    public let broadcast: UDPCast.IPv4Address?
    public let device: NIONetworkDevice

    public enum Failure: Error, CustomStringConvertible {
        case notFound(String)
        case noDefault

        public var description: String {
            switch self {
            case .notFound(let spec): return "no IPv4 interface matches \"\(spec)\""
            case .noDefault: return "no interface given and none has a default route or a broadcast address (use --interface)"
            }
        }
    }

    public static func resolve(_ spec: String?) throws -> CastInterface {
        let devices = try System.enumerateDevices().compactMap { device -> CastInterface? in
            guard let address = device.address.flatMap(UDPCast.IPv4Address.init(socketAddress:)) else { return nil }
            return CastInterface(name: device.name, address: address,
                                 broadcast: device.broadcastAddress.flatMap(UDPCast.IPv4Address.init(socketAddress:)), device: device)
        }
        if let spec {
            if let exact = devices.first(where: { $0.name == spec || $0.address.description == spec }) { return exact }
            if let prefix = devices.first(where: { $0.name.hasPrefix(spec) }) { return prefix }
            throw Failure.notFound(spec)
        }
        if let route = defaultRouteInterface(), let match = devices.first(where: { $0.name == route }) { return match }
        if let any = devices.first(where: { $0.broadcast != nil && !$0.name.hasPrefix("lo") }) { return any }
        throw Failure.noDefault
    }

    /// The interface of the IPv4 default route, from /proc/net/route.
    static func defaultRouteInterface() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count > 2, fields[1] == "00000000" { return String(fields[0]) }
        }
        return nil
    }
}

extension UDPCast.IPv4Address {
    init?(socketAddress: SocketAddress) {
        guard case .v4(let v4) = socketAddress else { return nil }
        self.init(UInt32(bigEndian: v4.address.sin_addr.s_addr))
    }

    var inAddr: in_addr { in_addr(s_addr: value.bigEndian) }
}

extension SocketAddress {
    init(_ endpoint: Endpoint) {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = endpoint.port.bigEndian
        sa.sin_addr = endpoint.address.inAddr
        self.init(sa, host: endpoint.address.description)
    }

    var endpoint: Endpoint? {
        guard case .v4(let v4) = self else { return nil }
        return Endpoint(UDPCast.IPv4Address(UInt32(bigEndian: v4.address.sin_addr.s_addr)), UInt16(bigEndian: v4.address.sin_port))
    }
}

/// Monotonic time for the state machines.
enum MonotonicClock {
    static func now() -> Nanoseconds {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Nanoseconds(ts.tv_sec) * 1_000_000_000 + Nanoseconds(ts.tv_nsec)
    }
}

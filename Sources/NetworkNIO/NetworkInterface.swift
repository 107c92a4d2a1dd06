import Foundation
import NIOCore
import NIOPosix
@_exported import NetworkAddress
#if canImport(Glibc)
import Glibc
#endif

/// The network interface a service uses: a name, an address or a name prefix, else the
/// interface of the default route, else the first non-loopback IPv4 interface with a broadcast
/// address (udpcast's ranking, simplified). Every service of a lab binds to one of these only.
public struct NetworkInterface: Sendable {
    public let name: String
    public let address: IPv4Address
    public let netmask: IPv4Address?
    public let broadcast: IPv4Address?
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

    /// Every interface with an IPv4 address.
    public static func all() throws -> [NetworkInterface] {
        try System.enumerateDevices().compactMap { device -> NetworkInterface? in
            guard let address = device.address.flatMap(IPv4Address.init(socketAddress:)) else { return nil }
            return NetworkInterface(name: device.name, address: address,
                                    netmask: device.netmask.flatMap(IPv4Address.init(socketAddress:)),
                                    broadcast: device.broadcastAddress.flatMap(IPv4Address.init(socketAddress:)), device: device)
        }
    }

    /// The interface whose subnet holds `destination` (a client facing its server), else the
    /// default route's.
    public static func facing(_ destination: IPv4Address) throws -> NetworkInterface {
        let devices = try all()
        if let direct = devices.first(where: { interface in
            guard let mask = interface.netmask, !interface.name.hasPrefix("lo") else { return false }
            return interface.address.value & mask.value == destination.value & mask.value
        }) { return direct }
        return try resolve(nil)
    }

    /// The hardware address, lower case with colons (from sysfs).
    public var mac: String? {
        (try? String(contentsOfFile: "/sys/class/net/\(name)/address", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public static func resolve(_ spec: String?) throws -> NetworkInterface {
        let devices = try all()
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
    public static func defaultRouteInterface() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count > 2, fields[1] == "00000000" { return String(fields[0]) }
        }
        return nil
    }

    /// The gateway of the IPv4 default route when it leaves through `name`.
    public static func defaultGateway(on name: String) -> IPv4Address? {
        guard let text = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count > 2, fields[0] == name, fields[1] == "00000000", let raw = UInt32(fields[2], radix: 16), raw != 0 else { continue }
            return IPv4Address(UInt32(bigEndian: raw))   // /proc prints the address in host order of the raw in_addr
        }
        return nil
    }

    /// The interface's MTU now (read per use: it can change while a service runs).
    public var mtu: Int? { Self.mtu(of: name) }

    /// The MTU of the interface called `name`, without enumerating every interface.
    public static func mtu(of name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(name)/mtu", encoding: .utf8) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension IPv4Address {
    public init?(socketAddress: SocketAddress) {
        guard case .v4(let v4) = socketAddress else { return nil }
        self.init(UInt32(bigEndian: v4.address.sin_addr.s_addr))
    }

    public var inAddr: in_addr { in_addr(s_addr: value.bigEndian) }

    /// The C socket address, for sockets used without NIO.
    public func sockaddr(port: UInt16) -> sockaddr_in {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        sa.sin_addr = inAddr
        return sa
    }

    public func socketAddress(port: UInt16) -> SocketAddress {
        SocketAddress(sockaddr(port: port), host: description)
    }
}

extension SocketAddress {
    /// The IPv4 address and port, if this is an IPv4 socket address.
    public var ipv4: (address: NetworkAddress.IPv4Address, port: UInt16)? {
        guard case .v4(let v4) = self else { return nil }
        return (NetworkAddress.IPv4Address(UInt32(bigEndian: v4.address.sin_addr.s_addr)), UInt16(bigEndian: v4.address.sin_port))
    }
}

/// Monotonic time for the state machines, in nanoseconds.
public enum MonotonicClock {
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static var seconds: Double { Double(now()) / 1e9 }
}

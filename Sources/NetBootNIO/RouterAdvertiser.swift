import DHCP
import Foundation
import NIOConcurrencyHelpers
import NetworkNIO
#if canImport(Glibc)
import Glibc
#endif

/// Sends the prefix-less, routerless Router Advertisement of `RouterAdvertisement` on one
/// interface: at start, every `interval` seconds, and at once to each Router Solicitation (iPXE
/// sends one as it starts). Only for start-new-dhcpd on the lab's own LAN (never next to a
/// site's routers): it needs IPv6 on the interface, for the link-local source address.
public final class RouterAdvertiser: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case system(String, Int32)
        public var description: String {
            switch self { case .system(let call, let code): return "router advertisements: \(call) failed: \(String(cString: strerror(code)))" }
        }
    }

    private let interface: String
    private let interval: Double
    private let log: ServiceLog
    private let state = NIOLockedValueBox((socket: Int32(-1), stopping: false))
    private var thread: Thread?

    public init(interface: String, interval: Double = 10, log: @escaping ServiceLog) {
        self.interface = interface
        self.interval = interval
        self.log = log
    }

    public func start() throws {
        let index = if_nametoindex(interface)
        guard index != 0 else { throw Failure.system("if_nametoindex(\(interface))", errno) }
        let fd = socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
        guard fd >= 0 else { throw Failure.system("socket(ICMPv6)", errno) }
        func fail(_ call: String) -> Failure {
            let code = errno
            close(fd)
            return .system(call, code)
        }
        var name = Array(interface.utf8CString)
        if setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, &name, socklen_t(name.count)) != 0 { throw fail("SO_BINDTODEVICE") }
        var hops: Int32 = 255   // RFC 4861: receivers drop an RA with any other hop limit
        if setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, 4) != 0 { throw fail("IPV6_MULTICAST_HOPS") }
        if setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, &hops, 4) != 0 { throw fail("IPV6_UNICAST_HOPS") }
        var group = ipv6_mreq()
        group.ipv6mr_multiaddr = Self.address([0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [2])   // all-routers: solicitations
        group.ipv6mr_interface = index
        if setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, &group, socklen_t(MemoryLayout<ipv6_mreq>.size)) != 0 { throw fail("join ff02::2") }
        var wait = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        state.withLockedValue { $0.socket = fd }
        let advertisement = RouterAdvertisement(linkLayerAddress: Self.mac(of: interface)).encoded()
        guard send(advertisement, index: index) else { throw fail("sending the first router advertisement (is IPv6 enabled on \(interface)?)") }
        log("ra: router advertisements (no prefix, no router) on \(interface): iPXE skips its IPv6 wait")
        let thread = Thread { [weak self] in self?.run(advertisement, index: index) }
        thread.name = "ra \(interface)"
        self.thread = thread
        thread.start()
    }

    public func stop() {
        state.withLockedValue { state in
            state.stopping = true
            if state.socket >= 0 { shutdown(state.socket, Int32(SHUT_RDWR)) }
        }
        for _ in 0..<150 where state.withLockedValue({ $0.socket >= 0 }) { usleep(10_000) }
    }

    private func run(_ advertisement: [UInt8], index: UInt32) {
        var buffer = [UInt8](repeating: 0, count: 1500)
        var next = MonotonicClock.seconds + interval
        while !state.withLockedValue({ $0.stopping }) {
            let fd = state.withLockedValue { $0.socket }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0, RouterAdvertisement.isSolicitation(Array(buffer[0..<count])) {
                _ = send(advertisement, index: index)
            }
            if MonotonicClock.seconds >= next {
                _ = send(advertisement, index: index)
                next = MonotonicClock.seconds + interval
            }
        }
        state.withLockedValue { state in
            close(state.socket)
            state.socket = -1
        }
    }

    private func send(_ bytes: [UInt8], index: UInt32) -> Bool {
        var to = sockaddr_in6()
        to.sin6_family = sa_family_t(AF_INET6)
        to.sin6_addr = Self.address([0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [1])   // all-nodes
        to.sin6_scope_id = index
        let fd = state.withLockedValue { $0.socket }
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        return sent == bytes.count
    }

    static func address(_ bytes: [UInt8]) -> in6_addr {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in for (index, byte) in bytes.enumerated() { raw[index] = byte } }
        return address
    }

    static func mac(of interface: String) -> [UInt8]? {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(interface)/address", encoding: .utf8) else { return nil }
        let bytes = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").compactMap { UInt8($0, radix: 16) }
        return bytes.count == 6 ? bytes : nil
    }
}

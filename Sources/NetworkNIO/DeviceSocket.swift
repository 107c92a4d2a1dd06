import NIOCore
import NIOPosix
import NetworkAddress
#if canImport(Glibc)
import Glibc
#endif

/// A UDP socket confined to one interface (`SO_BINDTODEVICE`), so a lab service answers on
/// the chosen NIC only, and broadcasts leave through it rather than by the default route.
/// NIO has no option for the device name, so the socket is made here and handed to NIO bound.
public enum DeviceSocket {
    public enum Failure: Error, CustomStringConvertible {
        case system(call: String, port: UInt16, device: String?, errno: Int32)

        public var description: String {
            switch self {
            case .system(let call, let port, let device, let code):
                let on = device.map { " on \($0)" } ?? ""
                var text = "UDP port \(port)\(on): \(call) failed: \(String(cString: strerror(code)))"
                if code == EADDRINUSE { text += " (another server, e.g. dnsmasq or a DHCP/TFTP daemon, already uses it)" }
                if code == EACCES || code == EPERM { text += " (needs root or CAP_NET_BIND_SERVICE / CAP_NET_RAW)" }
                return text
            }
        }
    }

    public struct Options: Sendable {
        public var broadcast = false
        public var reuseAddress = false
        /// For a socket a thread of its own waits on (NIO needs non-blocking ones).
        public var blocking = false
        /// Kernel receive buffer to ask for; nil keeps the default (~200 kB, which a lab's
        /// burst of 200 DHCP DISCOVERs overflows: the kernel drops what does not fit).
        public var receiveBufferBytes: Int?
        public init(broadcast: Bool = false, reuseAddress: Bool = false, blocking: Bool = false, receiveBufferBytes: Int? = nil) {
            self.broadcast = broadcast
            self.reuseAddress = reuseAddress
            self.blocking = blocking
            self.receiveBufferBytes = receiveBufferBytes
        }

        /// For a service's request socket, which a whole lab may hit at the same instant.
        public static let burstReceiveBuffer = 4 << 20
    }

    /// A bound, non-blocking socket on `address:port`, confined to `device` when given.
    public static func make(address: IPv4Address, port: UInt16, device: String?, options: Options) throws -> Int32 {
        let flags = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (options.blocking ? 0 : Int32(SOCK_NONBLOCK.rawValue))
        let fd = socket(AF_INET, flags, 0)
        guard fd >= 0 else { throw Failure.system(call: "socket", port: port, device: device, errno: errno) }
        func fail(_ call: String) -> Failure {
            let code = errno
            close(fd)
            return .system(call: call, port: port, device: device, errno: code)
        }
        var one: Int32 = 1
        if options.reuseAddress, setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) != 0 { throw fail("SO_REUSEADDR") }
        if options.broadcast, setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, socklen_t(MemoryLayout<Int32>.size)) != 0 { throw fail("SO_BROADCAST") }
        if var bytes = options.receiveBufferBytes.map(Int32.init) {
            // SO_RCVBUFFORCE passes net.core.rmem_max as root; the plain option is capped by it.
            let size = socklen_t(MemoryLayout<Int32>.size)
            if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, size) != 0, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, size) != 0 { throw fail("SO_RCVBUF") }
        }
        if let device {
            var name = Array(device.utf8CString)
            if setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, &name, socklen_t(name.count)) != 0 { throw fail("SO_BINDTODEVICE") }
        }
        var sa = address.sockaddr(port: port)
        let bound = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 { throw fail("bind") }
        return fd
    }

    /// `make` handed to NIO as a datagram channel with `handler` in its pipeline.
    public static func channel(address: IPv4Address, port: UInt16, device: String?, options: Options,
                               on loop: EventLoop, receiveBuffer: Int = 2048, messagesPerRead: UInt = 4,
                               handler: @escaping @Sendable () -> ChannelHandler) throws -> EventLoopFuture<Channel> {
        let fd = try make(address: address, port: port, device: device, options: options)
        return DatagramBootstrap(group: loop)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: receiveBuffer))
            .channelOption(ChannelOptions.maxMessagesPerRead, value: messagesPerRead)
            .channelInitializer { channel in channel.pipeline.addHandler(handler()) }
            .withBoundSocket(fd)
    }

    /// One datagram from a socket used without NIO; the count sent, or -1.
    @discardableResult
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, to address: sockaddr_in) -> Int {
        var address = address
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// The local port of a bound channel.
    public static func port(of channel: Channel) -> UInt16 { UInt16(channel.localAddress?.port ?? 0) }
}

import NIOCore
@_exported import NetworkNIO
import UDPCast

/// The interface a cast session uses (shared with the other services of a lab).
public typealias CastInterface = NetworkInterface

extension SocketAddress {
    init(_ endpoint: Endpoint) {
        self = endpoint.address.socketAddress(port: endpoint.port)
    }

    var endpoint: Endpoint? { ipv4.map { Endpoint($0.address, $0.port) } }
}

/// An ICMPv6 Router Advertisement (RFC 4861 §4.2) that announces no router and no prefix.
/// iPXE waits up to 12.5 s for IPv6 autoconfiguration before it loads the boot file; any RA
/// ends that wait (`../shared/docs/dhcp-tftp-pxe.md` §9: NBP RRQ 18.50 s → 6.05 s). With router
/// lifetime 0, no prefix and no M/O flags it changes nothing for other hosts on the LAN: nobody
/// gains an address or a default route from it.
public struct RouterAdvertisement: Equatable, Sendable {
    public static let routerSolicitationType: UInt8 = 133
    public static let type: UInt8 = 134

    public var currentHopLimit: UInt8 = 64
    /// Source link-layer address option (type 1), when known.
    public var linkLayerAddress: [UInt8]?

    public init(linkLayerAddress: [UInt8]? = nil) { self.linkLayerAddress = linkLayerAddress }

    /// The ICMPv6 message; the checksum is left 0 for the kernel to fill (raw ICMPv6 sockets
    /// always compute it on Linux).
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [Self.type, 0, 0, 0, currentHopLimit, 0, 0, 0]   // flags 0, router lifetime 0
        bytes += [0, 0, 0, 0, 0, 0, 0, 0]                                     // reachable time, retrans timer
        if let mac = linkLayerAddress, mac.count == 6 { bytes += [1, 1] + mac }
        return bytes
    }

    /// Whether an ICMPv6 message (as a raw socket delivers it, without the IPv6 header) is a
    /// Router Solicitation, which gets an immediate answer.
    public static func isSolicitation(_ message: [UInt8]) -> Bool {
        message.count >= 8 && message[0] == routerSolicitationType && message[1] == 0
    }
}

import NetworkNIO

/// What the boot services tell their owner about clients (the feeder's status page): an
/// address handed out, a file a client started to fetch.
public enum NetBootEvent: Sendable {
    case leased(address: IPv4Address, mac: [UInt8])
    case fileRequested(client: IPv4Address, file: String)
}

public typealias NetBootEvents = @Sendable (NetBootEvent) -> Void

import NetworkAddress

/// Which read requests start a transfer. A repeated request from a client port that already
/// has a transfer is that client's retransmission, not a second download; one client address
/// may run a few transfers at once but not the whole server, so a host that floods requests
/// (each would hold a slot through its retries, ~20 s) cannot lock the lab's PXE clients out.
struct TFTPAdmission: Sendable {
    enum Decision: Equatable {
        case admitted
        case duplicate
        case busy(String)
    }

    let maximumTotal: Int
    let maximumPerClient: Int
    private(set) var total = 0
    private var perClient: [UInt32: Int] = [:]
    private var ports: Set<UInt64> = []

    init(maximumTotal: Int, maximumPerClient: Int) {
        self.maximumTotal = maximumTotal
        self.maximumPerClient = maximumPerClient
    }

    static func key(_ address: IPv4Address, _ port: UInt16) -> UInt64 { UInt64(address.value) << 16 | UInt64(port) }

    mutating func admit(_ address: IPv4Address, port: UInt16) -> Decision {
        guard !ports.contains(Self.key(address, port)) else { return .duplicate }
        guard total < maximumTotal else { return .busy("\(maximumTotal) transfers running") }
        guard perClient[address.value, default: 0] < maximumPerClient else { return .busy("\(maximumPerClient) transfers running for \(address)") }
        total += 1
        perClient[address.value, default: 0] += 1
        ports.insert(Self.key(address, port))
        return .admitted
    }

    mutating func release(_ address: IPv4Address, port: UInt16) {
        guard ports.remove(Self.key(address, port)) != nil else { return }
        total -= 1
        perClient[address.value, default: 1] -= 1
        if perClient[address.value] == 0 { perClient[address.value] = nil }
    }
}

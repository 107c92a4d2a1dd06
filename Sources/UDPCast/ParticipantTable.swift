/// Receivers known to a sender. A new address takes the lowest free slot, a known one keeps
/// its number; the number is the receiver's bit in REQACK's ready set. Replies are matched by
/// source address only, as udpcast does.
struct ParticipantTable {
    struct Participant: Hashable {
        var endpoint: Endpoint
        var capabilities: Capabilities
    }

    private(set) var slots: [Participant?] = []
    static let capacity = 1024

    var count: Int { slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
    var numbers: [Int] { slots.indices.filter { slots[$0] != nil } }
    var isEmpty: Bool { count == 0 }

    func number(of address: IPv4Address) -> Int? {
        slots.firstIndex { $0?.endpoint.address == address }
    }

    subscript(number: Int) -> Participant? { number < slots.count ? slots[number] : nil }

    /// Registers (or finds) the sender of a CONNECT_REQ; nil when all 1024 slots are taken.
    mutating func register(_ endpoint: Endpoint, capabilities: Capabilities) -> Int? {
        if let known = number(of: endpoint.address) {
            slots[known] = Participant(endpoint: endpoint, capabilities: capabilities)
            return known
        }
        if let free = slots.firstIndex(where: { $0 == nil }) {
            slots[free] = Participant(endpoint: endpoint, capabilities: capabilities)
            return free
        }
        guard slots.count < Self.capacity else { return nil }
        slots.append(Participant(endpoint: endpoint, capabilities: capabilities))
        return slots.count - 1
    }

    mutating func remove(_ number: Int) {
        guard number < slots.count else { return }
        slots[number] = nil
    }

    /// The capability word every participant shares with the sender.
    func commonCapabilities(with own: Capabilities) -> Capabilities {
        slots.compactMap { $0?.capabilities }.reduce(own) { $0.intersection($1) }
    }
}

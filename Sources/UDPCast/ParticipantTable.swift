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

    private(set) var count = 0
    var numbers: [Int] { slots.indices.filter { slots[$0] != nil } }

    /// Whether every participant's number satisfies `condition`, without building a list
    /// (the sender asks this for every packet it sends).
    func all(_ condition: (Int) -> Bool) -> Bool {
        for index in slots.indices where slots[index] != nil && !condition(index) { return false }
        return true
    }
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
            count += 1
            return free
        }
        guard slots.count < Self.capacity else { return nil }
        slots.append(Participant(endpoint: endpoint, capabilities: capabilities))
        count += 1
        return slots.count - 1
    }

    mutating func remove(_ number: Int) {
        guard number < slots.count, slots[number] != nil else { return }
        slots[number] = nil
        count -= 1
    }

    /// The capability word every participant shares with the sender.
    func commonCapabilities(with own: Capabilities) -> Capabilities {
        slots.compactMap { $0?.capabilities }.reduce(own) { $0.intersection($1) }
    }
}

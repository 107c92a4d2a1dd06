/// Which requests a seed serves, so that each piece leaves the seed as few times as possible:
/// a piece goes to a second peer only once every piece is held (or being sent) by at least
/// as many peers as it. Leechers then fetch the rest from each other. A peer already being
/// sent a piece always gets the rest of it. Requests refused here are rejected (BEP 6), and
/// clients ask someone else; peers without the Fast Extension are always served.
public struct SeedDistribution: Sendable {
    /// Peers that have each piece (their HAVEs / bitfields) or that we started sending it to.
    private var holders: [Set<Int>]

    public init(pieceCount: Int) {
        holders = [Set<Int>](repeating: [], count: pieceCount)
    }

    public mutating func peerHas(_ peer: Int, piece: Int) {
        guard piece < holders.count else { return }
        holders[piece].insert(peer)
    }

    public mutating func peerLeft(_ peer: Int) {
        for index in holders.indices { holders[index].remove(peer) }
    }

    /// Whether to send `piece` to `peer` now; records it when yes.
    public mutating func shouldServe(_ piece: Int, to peer: Int) -> Bool {
        guard piece < holders.count else { return false }
        if holders[piece].contains(peer) { return true }
        let floor = holders.lazy.map(\.count).min() ?? 0
        guard holders[piece].count <= floor else { return false }
        holders[piece].insert(peer)
        return true
    }
}

/// Which requests a seed serves, so that each piece leaves the seed about once and leechers
/// trade the rest among themselves:
/// - the first copy of a piece goes to whoever asks first (a peer already being sent a piece
///   always gets the rest of it);
/// - a further copy only once every piece is complete somewhere in the swarm, and only to a
///   peer that has kept asking for `patience` (it could not get it from the others: they
///   choke it, or they do not upload at all).
/// Refused requests are rejected (BEP 6) and clients ask someone else; peers without the
/// Fast Extension are always served.
public struct SeedDistribution: Sendable {
    public typealias Nanoseconds = UInt64

    /// Peers we started sending each piece to.
    private var sending: [Set<Int>]
    /// Peers that announced each piece (HAVE, bitfield).
    private var complete: [Set<Int>]
    private var firstRefusal: [PeerPiece: Nanoseconds] = [:]
    public var patience: Nanoseconds = 3_000_000_000

    struct PeerPiece: Hashable { var peer: Int; var piece: Int }

    public init(pieceCount: Int) {
        sending = [Set<Int>](repeating: [], count: pieceCount)
        complete = [Set<Int>](repeating: [], count: pieceCount)
    }

    public mutating func peerHas(_ peer: Int, piece: Int) {
        guard piece < complete.count else { return }
        complete[piece].insert(peer)
    }

    public mutating func peerLeft(_ peer: Int) {
        for index in sending.indices {
            sending[index].remove(peer)
            complete[index].remove(peer)
        }
        firstRefusal = firstRefusal.filter { $0.key.peer != peer }
    }

    /// Whether to send `piece` to `peer` now; records it when yes.
    public mutating func shouldServe(_ piece: Int, to peer: Int, now: Nanoseconds) -> Bool {
        guard piece < sending.count else { return false }
        let key = PeerPiece(peer: peer, piece: piece)
        if sending[piece].contains(peer) { return true }
        let elsewhere = sending[piece].union(complete[piece]).subtracting([peer])
        var serve = elsewhere.isEmpty
        if !serve, complete.allSatisfy({ !$0.isEmpty }) {
            let since = firstRefusal[key] ?? now
            firstRefusal[key] = since
            serve = now >= since + patience
        }
        if serve {
            sending[piece].insert(peer)
            firstRefusal[key] = nil
        }
        return serve
    }
}

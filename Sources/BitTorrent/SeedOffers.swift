/// Which pieces a super-seeding seed (BEP 16) offers to which peer, so each piece leaves the
/// seed about once and the leechers trade the rest among themselves. The seed shows no pieces
/// at first and announces offers with HAVE; peers then ask only for what was offered, so nothing
/// has to be refused (refusals made clients re-ask in a tight loop).
/// - Every unchoked peer has up to `perPeer` outstanding offers (offered, not yet held),
///   chosen among the pieces nobody holds and nobody is being offered, lowest index first.
/// - Once every piece is held somewhere the seed's link has nothing else to do: a peer that
///   announced no new piece for `patience` gets one more copy, the piece it lacks with the
///   fewest copies (it cannot get it from the others: they choke it, hold it back, or left).
///   At most `extrasInFlight` such copies at a time and `extraBudget` in all (0.4 of the
///   pieces), so the seed uploads at most about 1.4x the payload.
/// - A choked peer's or a departed peer's outstanding offers count for nothing, so they are
///   offered again to someone who can download them; so does an offer the peer has not
///   started within `startTimeout` (libtorrent sometimes never acts on an early HAVE).
public struct SeedOffers: Sendable {
    public typealias Nanoseconds = UInt64

    struct Peer {
        var has: Set<Int> = []
        var offered: Set<Int> = []
        var offeredAt: [Int: Nanoseconds] = [:]
        var started: Set<Int> = []
        var lastRequest: Nanoseconds?
        var unchoked = false
        var lastProgress: Nanoseconds
        var outstanding: Set<Int> { offered.subtracting(has) }

        /// Outstanding offers that still reserve their piece: started, recent, or held by a
        /// peer that is downloading from us (it works through its offers one at a time).
        func live(now: Nanoseconds, startTimeout: Nanoseconds) -> [Int] {
            if let lastRequest, now < lastRequest + startTimeout { return Array(outstanding) }
            return outstanding.filter { started.contains($0) || now < (offeredAt[$0] ?? 0) + startTimeout }
        }
    }

    public let pieceCount: Int
    public var perPeer: Int
    public var patience: Nanoseconds
    public var startTimeout: Nanoseconds = 2_000_000_000
    private var peers: [Int: Peer] = [:]
    private var extras: [(peer: Int, piece: Int)] = []
    public var extrasInFlight = 2
    public var extraBudget: Int

    /// Pieces offered to one peer at a time unless told otherwise.
    public static let defaultPerPeer = 2

    public init(pieceCount: Int, perPeer: Int = SeedOffers.defaultPerPeer, patience: Nanoseconds = 1_000_000_000) {
        self.pieceCount = pieceCount
        extraBudget = pieceCount * 2 / 5
        self.perPeer = perPeer
        self.patience = patience
    }

    public mutating func peerJoined(_ id: Int, now: Nanoseconds) {
        peers[id] = Peer(lastProgress: now)
    }

    public mutating func peerLeft(_ id: Int) { peers[id] = nil }

    public mutating func peerHas(_ id: Int, piece: Int, now: Nanoseconds) {
        guard piece >= 0, piece < pieceCount, peers[id] != nil, peers[id]!.has.insert(piece).inserted else { return }
        peers[id]!.lastProgress = now
    }

    /// The peer asked for a block of `piece`.
    public mutating func peerRequested(_ id: Int, piece: Int, now: Nanoseconds) {
        guard peers[id]?.offered.contains(piece) == true else { return }
        peers[id]!.started.insert(piece)
        peers[id]!.lastRequest = now
    }

    public mutating func setUnchoked(_ id: Int, _ unchoked: Bool, now: Nanoseconds) {
        guard let peer = peers[id], peer.unchoked != unchoked else { return }
        peers[id]!.unchoked = unchoked
        if unchoked { peers[id]!.lastProgress = max(peer.lastProgress, now) }
    }

    /// Pieces the peer was offered (it may request exactly these).
    public func offered(to id: Int) -> Set<Int> { peers[id]?.offered ?? [] }

    /// New offers to make now, as (peer, piece); they are recorded as made.
    public mutating func decide(now: Nanoseconds) -> [(peer: Int, piece: Int)] {
        var copies = [Int](repeating: 0, count: pieceCount)
        for peer in peers.values {
            for piece in peer.has { copies[piece] += 1 }
            if peer.unchoked { for piece in peer.live(now: now, startTimeout: startTimeout) { copies[piece] += 1 } }
        }
        extras.removeAll { !(peers[$0.peer]?.live(now: now, startTimeout: startTimeout).contains($0.piece) ?? false) }
        let everywhere = !peers.isEmpty && (0..<pieceCount).allSatisfy { piece in peers.values.contains { $0.has.contains(piece) } }
        var made: [(peer: Int, piece: Int)] = []
        for id in peers.keys.sorted() {
            guard var peer = peers[id], peer.unchoked, peer.has.count < pieceCount else { continue }
            while peer.live(now: now, startTimeout: startTimeout).count < perPeer,
                  let piece = (0..<pieceCount).first(where: { copies[$0] == 0 && !peer.has.contains($0) && !peer.offered.contains($0) }) {
                peer.offered.insert(piece)
                peer.offeredAt[piece] = now
                copies[piece] += 1
                made.append((id, piece))
            }
            if everywhere, extras.count < extrasInFlight, extraBudget > 0, now >= peer.lastProgress + patience,
               let piece = (0..<pieceCount).filter({ !peer.has.contains($0) && !peer.outstanding.contains($0) })
                   .min(by: { (copies[$0], $0) < (copies[$1], $1) }) {
                peer.offered.insert(piece)
                peer.offeredAt[piece] = now
                peer.lastProgress = now
                extras.append((id, piece))
                extraBudget -= 1
                copies[piece] += 1
                made.append((id, piece))
            }
            peers[id] = peer
        }
        return made
    }
}

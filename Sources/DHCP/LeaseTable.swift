/// Addresses handed out by the start-new-dhcpd mode: bound leases, offers held for their
/// client, and declined addresses kept out of use for a while. Times are seconds (wall clock,
/// so that leases survive a restart when persisted with `text` / `init(text:)`).
public struct LeaseTable: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var client: String
        public var address: IPv4Address
        public var expires: Double
    }

    public let pool: ClosedRange<UInt32>
    /// How long an offer is safe from being reclaimed for another client when the pool is full.
    public var reclaimableAfter: Double = 5
    public private(set) var leases: [String: Entry] = [:]
    private var offers: [String: Entry] = [:]
    private var declined: [UInt32: Double] = [:]
    /// The client an address was last given to (as lease or offer): `holder(of:)` in O(1).
    private var lastGiven: [UInt32: String] = [:]
    private let excluded: Set<UInt32>

    /// Addresses `first` through `last`; `excluded` are never handed out (the server's own,
    /// the gateway's).
    public init(first: IPv4Address, last: IPv4Address, excluded: [IPv4Address]) {
        pool = min(first.value, last.value)...max(first.value, last.value)
        self.excluded = Set(excluded.map(\.value))
    }

    public func lease(of client: String, now: Double) -> Entry? {
        leases[client].flatMap { $0.expires > now ? $0 : nil }
    }

    public func contains(_ address: IPv4Address) -> Bool { pool.contains(address.value) }

    /// Who holds `address` now (lease or pending offer), if anyone.
    public func holder(of address: IPv4Address, now: Double) -> String? {
        guard let client = lastGiven[address.value] else { return nil }
        if let lease = leases[client], lease.address == address, lease.expires > now { return client }
        if let offer = offers[client], offer.address == address, offer.expires > now { return client }
        return nil
    }

    /// The address to offer `client`: its lease, its pending offer, the address it asked for if
    /// free, else the lowest free one. The offer is held for `hold` seconds so that concurrent
    /// clients never get the same address. When every address is leased or held, the oldest
    /// offer held for at least `reclaimableAfter` seconds is given up (its client is NAKed if it
    /// still asks): a burst of DISCOVERs with made-up MACs must not lock real clients out for the
    /// whole hold time, while a real client (it REQUESTs within ~4 s) keeps its offer.
    public mutating func offer(to client: String, requested: IPv4Address?, hold: Double, now: Double) -> IPv4Address? {
        let chosen: IPv4Address?
        if let lease = lease(of: client, now: now) {
            chosen = lease.address
        } else if let offer = offers[client], offer.expires > now {
            chosen = offer.address
        } else if let requested, isFree(requested, for: client, now: now) {
            chosen = requested
        } else {
            chosen = pool.lazy.map(IPv4Address.init).first { isFree($0, for: client, now: now) } ?? reclaimOldestOffer(heldSince: now + hold - reclaimableAfter, now: now)
        }
        guard let chosen else { return nil }
        offers[client] = Entry(client: client, address: chosen, expires: now + hold)
        lastGiven[chosen.value] = client
        return chosen
    }

    /// `expiry`: the latest expiry of an offer held long enough to be reclaimed.
    private mutating func reclaimOldestOffer(heldSince expiry: Double, now: Double) -> IPv4Address? {
        guard let oldest = offers.values.filter({ $0.expires > now && $0.expires <= expiry && holder(of: $0.address, now: now) == $0.client })
                .min(by: { $0.expires < $1.expires }) else { return nil }
        offers[oldest.client] = nil
        return oldest.address
    }

    /// Binds `address` to `client` if it is free for it (or already its own).
    public mutating func bind(_ address: IPv4Address, to client: String, duration: Double, now: Double) -> Bool {
        guard contains(address), isFree(address, for: client, now: now) else { return false }
        offers[client] = nil
        leases[client] = Entry(client: client, address: address, expires: now + duration)
        lastGiven[address.value] = client
        return true
    }

    /// The client chose another server: its pending offer is void.
    public mutating func withdrawOffer(to client: String) { offers[client] = nil }

    public mutating func release(_ address: IPv4Address, by client: String) {
        if leases[client]?.address == address { leases[client] = nil }
    }

    /// The client found `address` in use (ARP): keep it out of the pool for `quarantine` seconds.
    public mutating func decline(_ address: IPv4Address, by client: String, quarantine: Double, now: Double) {
        release(address, by: client)
        offers[client] = nil
        if contains(address) { declined[address.value] = now + quarantine }
    }

    func isFree(_ address: IPv4Address, for client: String, now: Double) -> Bool {
        guard contains(address), !excluded.contains(address.value), (declined[address.value] ?? 0) <= now else { return false }
        let holder = holder(of: address, now: now)
        return holder == nil || holder == client
    }

    // MARK: persistence

    /// One bound lease per line: `client address expiry` (expiry in seconds since 1970).
    public func text(now: Double) -> String {
        leases.values.filter { $0.expires > now }.sorted { $0.address.value < $1.address.value }
            .map { "\($0.client) \($0.address) \(Int64($0.expires))\n" }.joined()
    }

    /// Restores leases from `text`; malformed lines, addresses outside the pool and expired
    /// leases are skipped (a lease file is a cache, not configuration).
    public mutating func restore(text: String, now: Double) {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let address = IPv4Address(String(fields[1])), contains(address),
                  let expires = Int64(fields[2]), Double(expires) > now, !fields[0].isEmpty else { continue }
            let client = String(fields[0])
            leases[client] = Entry(client: client, address: address, expires: Double(expires))
            lastGiven[address.value] = client
        }
    }
}

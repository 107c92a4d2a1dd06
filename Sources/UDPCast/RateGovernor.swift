/// `--max-bitrate`: a token bucket over wire bytes (payload + 28 bytes of IP/UDP header) that
/// lets bursts of up to `burst` bytes leave at line rate and says when the next may go.
struct RateGovernor: Sendable {
    let bitsPerSecond: UInt64
    let burst: Double
    private var tokens: Double
    private var updatedAt: Nanoseconds?

    static let headerBytes = 28

    init(bitsPerSecond: UInt64, burst: Int = 100_000) {
        self.bitsPerSecond = bitsPerSecond
        self.burst = Double(burst)
        tokens = Double(burst)
    }

    private var bytesPerNanosecond: Double { Double(bitsPerSecond) / 8 / 1e9 }

    private mutating func refill(_ now: Nanoseconds) {
        if let last = updatedAt, now > last { tokens = min(burst, tokens + Double(now - last) * bytesPerNanosecond) }
        updatedAt = now
    }

    /// Whether a datagram of `payload` bytes may leave now; if so it is charged.
    mutating func admit(payload: Int, now: Nanoseconds) -> Bool {
        refill(now)
        guard tokens > 0 else { return false }
        tokens -= Double(payload + Self.headerBytes)
        return true
    }

    /// When enough tokens will be back to send again.
    func nextAdmission(after now: Nanoseconds) -> Nanoseconds {
        tokens > 0 ? now : now + Nanoseconds(-tokens / bytesPerNanosecond) + 1
    }
}

/// The sender's unsent input: pieces as the reader delivered them, consumed from the front.
/// Cutting a slice copies its bytes once; the bytes behind it never move.
struct InputQueue {
    private var pieces: [[UInt8]] = []
    /// Bytes of `pieces[0]` already cut into slices.
    private var headOffset = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        pieces.append(bytes)
        count += bytes.count
    }

    /// Removes and returns the first `n` bytes (at most `count`).
    mutating func take(_ n: Int) -> [UInt8] {
        let n = min(n, count)
        // A whole untouched piece of exactly the right size goes out as it is.
        if headOffset == 0, let first = pieces.first, first.count == n {
            pieces.removeFirst()
            count -= n
            return first
        }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        while out.count < n {
            let first = pieces[0]
            let step = min(n - out.count, first.count - headOffset)
            out.append(contentsOf: first[headOffset..<(headOffset + step)])
            headOffset += step
            if headOffset == first.count {
                pieces.removeFirst()
                headOffset = 0
            }
        }
        count -= n
        return out
    }
}

/// Random edits of an input, from one byte to spliced blocks: the built-in engine of
/// `liteserver-fuzz run` (when it is not built with libFuzzer) and of the decoder fuzz tests.
public struct FuzzMutator {
    /// Values that sit on the edges of length and count fields.
    static let interesting: [[UInt8]] = [[0], [0xFF], [0x7F], [0x80], [0, 0], [0xFF, 0xFF], [0x7F, 0xFF], [0x80, 0],
                                         [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0, 0, 0]]

    /// One to four edits of `input`; `alphabet` bytes (the format's syntax) are favoured and
    /// `other` lends blocks for splicing. Output is capped at `maxLength`.
    public static func mutate(_ input: [UInt8], alphabet: [UInt8] = [], other: [UInt8]? = nil, maxLength: Int = 1 << 16,
                              using rng: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = input
        func position(_ count: Int) -> Int { count == 0 ? 0 : Int.random(in: 0..<count, using: &rng) }
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<9, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[position(bytes.count)] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes[position(bytes.count)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case 2 where !bytes.isEmpty:
                bytes.removeSubrange(position(bytes.count)...)
            case 3:
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
            case 4 where !bytes.isEmpty && !alphabet.isEmpty:
                bytes[position(bytes.count)] = alphabet.randomElement(using: &rng)!
            case 5 where !bytes.isEmpty:
                let value = interesting.randomElement(using: &rng)!
                let at = position(bytes.count)
                bytes.replaceSubrange(at..<min(bytes.count, at + value.count), with: value)
            case 6 where bytes.count > 1:
                let start = position(bytes.count), end = Int.random(in: start...bytes.count, using: &rng)
                bytes.removeSubrange(start..<end)
            case 7 where !bytes.isEmpty:
                let start = position(bytes.count), end = min(bytes.count, start + Int.random(in: 1...64, using: &rng))
                bytes.insert(contentsOf: Array(bytes[start..<end]), at: Int.random(in: 0...bytes.count, using: &rng))
            case 8:
                if let other, !other.isEmpty {
                    let start = position(other.count), end = min(other.count, start + Int.random(in: 1...256, using: &rng))
                    bytes.insert(contentsOf: other[start..<end], at: Int.random(in: 0...bytes.count, using: &rng))
                } else if !alphabet.isEmpty {
                    bytes.insert(alphabet.randomElement(using: &rng)!, at: Int.random(in: 0...bytes.count, using: &rng))
                }
            default:
                bytes.append(UInt8.random(in: 0...255, using: &rng))
            }
        }
        if bytes.count > maxLength { bytes.removeSubrange(maxLength...) }
        return bytes
    }
}

/// SplitMix64: a seeded generator, so a run (and a finding) can be repeated exactly.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension FuzzTarget {
    /// Runs the seeds, then `count` mutants (seeded, repeatable), each made from a seed or an
    /// earlier mutant. Returns the first finding with its input; `before` sees every input
    /// before it runs (the crash capture), `progress` the count every 100 000.
    public func fuzz(count: Int, seed: UInt64, extraSeeds: [[UInt8]] = [], maxLength: Int = 1 << 16,
                     progress: (Int) -> Void = { _ in }, before: ([UInt8]) -> Void = { _ in }) -> (FuzzFinding, [UInt8])? {
        var rng = SplitMix64(seed: seed)
        var pool = seeds() + extraSeeds
        if pool.isEmpty { pool = [[]] }
        for input in pool {
            before(input)
            do { try run(input) } catch { return (error, input) }
        }
        for index in 0..<count {
            let base = pool[Int.random(in: 0..<pool.count, using: &rng)]
            let input = FuzzMutator.mutate(base, alphabet: alphabet, other: pool.randomElement(using: &rng), maxLength: maxLength, using: &rng)
            before(input)
            do { try run(input) } catch { return (error, input) }
            // Keep a few mutants as bases, so edits accumulate past the first layer.
            if index % 64 == 0 && pool.count < 4096 { pool.append(input) }
            if index % 100_000 == 0 { progress(index) }
        }
        return nil
    }
}

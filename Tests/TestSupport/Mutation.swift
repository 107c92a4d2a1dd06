/// Random edits of a valid input for decoder fuzz tests: a few byte replacements (random or
/// from `alphabet`, the characters the format's syntax is made of), truncations and insertions.
public func mutated(_ input: [UInt8], alphabet: [UInt8], using rng: inout some RandomNumberGenerator) -> [UInt8] {
    var bytes = input
    for _ in 0..<Int.random(in: 1...4, using: &rng) {
        if bytes.isEmpty { break }
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 1: bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &rng)...)
        case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
        default: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = alphabet.randomElement(using: &rng)!
        }
    }
    return bytes
}

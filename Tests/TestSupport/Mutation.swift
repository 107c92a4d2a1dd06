import FuzzTargets

/// Random edits of a valid input for decoder fuzz tests: the fuzzers' own mutator
/// (byte and bit edits, truncations, insertions, edge values, favouring `alphabet`).
public func mutated(_ input: [UInt8], alphabet: [UInt8], using rng: inout some RandomNumberGenerator) -> [UInt8] {
    FuzzMutator.mutate(input, alphabet: alphabet, using: &rng)
}

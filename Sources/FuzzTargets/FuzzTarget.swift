/// One decoder of untrusted input, driven by `liteserver-fuzz` (libFuzzer or the built-in
/// mutator) and by the CI smoke pass. `run` must never trap; it throws a `FuzzFinding` when a
/// decoded value breaks an invariant the decoder promises (e.g. re-encoding does not decode to
/// the same value), which a crash-only fuzzer could not see.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    /// Valid inputs to start mutating from (each format's typical messages).
    public let seeds: @Sendable () -> [[UInt8]]
    /// Bytes the format's syntax is made of; the mutator favours them.
    public let alphabet: [UInt8]
    public let run: @Sendable ([UInt8]) throws(FuzzFinding) -> Void

    public init(name: String, summary: String, alphabet: [UInt8] = [], seeds: @escaping @Sendable () -> [[UInt8]],
                run: @escaping @Sendable ([UInt8]) throws(FuzzFinding) -> Void) {
        self.name = name
        self.summary = summary
        self.alphabet = alphabet
        self.seeds = seeds
        self.run = run
    }
}

/// A decoded value that breaks the decoder's contract.
public struct FuzzFinding: Error, CustomStringConvertible {
    public let target: String
    public let detail: String
    public init(_ target: String, _ detail: String) {
        self.target = target
        self.detail = detail
    }
    public var description: String { "\(target): \(detail)" }
}

public enum FuzzTargets {
    /// Every target, by name.
    public static let all: [FuzzTarget] = [
        partclone, sfdisk, clientJob, bencode, peerWire, udpcast, dhcp, tftp, httpResponse,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// `decode(encode(decode(x))) == decode(x)`: the shared round-trip invariant.
    static func roundTrip<Value: Equatable>(_ target: String, _ value: Value, _ encode: (Value) throws -> [UInt8],
                                            _ decode: ([UInt8]) throws -> Value) throws(FuzzFinding) {
        let bytes: [UInt8]
        do { bytes = try encode(value) } catch { return }   // a value the encoder refuses (e.g. too long) is fine
        let again: Value
        do { again = try decode(bytes) } catch { throw FuzzFinding(target, "its own encoding of \(value) does not decode: \(error)") }
        guard again == value else { throw FuzzFinding(target, "re-encoding changed the value: \(value) became \(again)") }
    }

    static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
}

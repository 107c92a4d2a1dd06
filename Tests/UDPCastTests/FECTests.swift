import Testing
import TestSupport
@testable import UDPCast

@Suite struct FECTests {
    @Test func fieldTablesMatchTheSpec() {
        #expect(Array(GaloisField.exp[0..<10]) == [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1D, 0x3A])
        #expect((0..<8).map { FECCode.coefficient(row: 0, position: $0) } == [0x1B, 0x54, 0xA1, 0x1D, 0x7C, 0xCC, 0xE4, 0xB0])
        #expect((0..<4).map { FECCode.coefficient(row: 1, position: $0) } == [0x54, 0x1B, 0x1D, 0xA1])
        for a in 1...255 { #expect(GaloisField.multiply(UInt8(a), GaloisField.inverse(UInt8(a))) == 1) }
    }

    /// Every FEC block of a non-empty stripe in the real captures equals our encoding of the
    /// data blocks of its slice.
    @Test(arguments: [("sample-fec4x2-2rcv", 22), ("sample-async-fec4x2-1rcv", 10)])
    func capturedFECBlocksMatch(capture: String, expectedMatches: Int) throws {
        let messages = try PcapFile.udpDatagrams(TestEnv.fixture("udpcast-captures/\(capture).pcap"))
            .map { try UDPCastMessage.decode($0.payload) }
        var data: [UInt32: [Int: [UInt8]]] = [:]
        for case .data(let slice, let block, _, let payload) in messages {
            data[slice, default: [:]][Int(block)] = payload + [UInt8](repeating: 0, count: 1456 - payload.count)
        }
        var matches = 0
        for case .fec(let stripes, let slice, let f, let sliceBytes, let payload) in messages where sliceBytes > 0 {
            let code = FECCode(stripes: Int(stripes), redundancy: 2, blockSize: 1456)
            let blocks = (Int(sliceBytes) + 1455) / 1456
            guard code.stripeLength(Int(f) % Int(stripes), sliceBlocks: blocks) > 0 else { continue }
            let slab = data[slice]!
            let encoded = code.encode(fecBlock: Int(f), sliceBlocks: blocks) { slab[$0]! }
            #expect(encoded == Array(payload), "slice \(slice) FEC block \(f)")
            matches += 1
        }
        #expect(matches == expectedMatches)
        // Spec vectors: slice 0, f = 0 and f = 5.
        let first = messages.compactMap { m -> [UInt8]? in
            if case .fec(_, 0, 0, let bytes, let p) = m, bytes > 0 { return Array(p.prefix(8)) } else { return nil }
        }.first
        if capture == "sample-fec4x2-2rcv" { #expect(first == [0xA5, 0xFC, 0x07, 0xE9, 0xDF, 0x99, 0x10, 0x5E]) }
    }

    @Test func anyRLostBlocksOfAStripeAreRebuilt() throws {
        var state: UInt64 = 99
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for (stripes, redundancy) in [(1, 1), (4, 2), (8, 8), (3, 5)] {
            let code = FECCode(stripes: stripes, redundancy: redundancy, blockSize: 64)
            for blocks in [1, 5, stripes * 7 + 1, min(128 * stripes, 200)] {
                let slice = (0..<blocks).map { _ in (0..<64).map { _ in UInt8(truncatingIfNeeded: next()) } }
                for stripe in 0..<stripes {
                    let k = code.stripeLength(stripe, sliceBlocks: blocks)
                    guard k > 0 else { continue }
                    let fec = (0..<redundancy).map { row in
                        code.encode(fecBlock: stripe + row * stripes, sliceBlocks: blocks) { slice[$0] }
                    }
                    var shuffler = SeededGenerator(seed: next())
                    let lose = Set((0..<k).shuffled(using: &shuffler).prefix(min(k, redundancy)))
                    var present: [Int: [UInt8]] = [:]
                    for j in 0..<k where !lose.contains(j) { present[j] = slice[stripe + j * stripes] }
                    // Use the last FEC rows, not the first, to show any rows serve.
                    var rows: [Int: [UInt8]] = [:]
                    for row in (redundancy - lose.count)..<redundancy { rows[row] = fec[row] }
                    let rebuilt = try code.recover(stripe: stripe, length: k, present: present, fec: rows)
                    for j in lose { #expect(rebuilt[j] == slice[stripe + j * stripes]) }
                    if lose.count >= 1 {
                        rows.removeValue(forKey: rows.keys.first!)
                        #expect(throws: FECCode.DecodeError.self) { _ = try code.recover(stripe: stripe, length: k, present: present, fec: rows) }
                    }
                }
            }
        }
    }
}

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
}

/// udpcast's forward error correction (`--fec SxR/Z`): a Cauchy code over GF(2^8). Within a
/// slice, stripe s holds data blocks s, s+S, s+2S, …; FEC block (s, r) is sent as number
/// f = s + r·S and equals Σ_j inv((128 + j) XOR r) · D_j, the last data block zero-padded.
/// Any m ≤ R lost blocks of a stripe can be rebuilt from any m of its FEC blocks.
public struct FECCode: Hashable, Sendable {
    public let stripes: Int
    public let redundancy: Int
    public let blockSize: Int

    public init(stripes: Int, redundancy: Int, blockSize: Int) {
        precondition((1...128).contains(stripes) && (1...128).contains(redundancy), "FEC parameters out of range")
        self.stripes = stripes
        self.redundancy = redundancy
        self.blockSize = blockSize
    }

    /// The generator element for FEC row r and stripe position j.
    public static func coefficient(row: Int, position: Int) -> UInt8 {
        GaloisField.inverse(UInt8(truncatingIfNeeded: (128 + position) ^ row))
    }

    /// Number of data blocks of stripe `stripe` in a slice of `blocks` data blocks.
    public func stripeLength(_ stripe: Int, sliceBlocks blocks: Int) -> Int {
        stripe >= blocks ? 0 : (blocks - stripe + stripes - 1) / stripes
    }

    /// FEC block number f = stripe + row·stripes of a slice; `block(i)` returns data block i
    /// of the slice (a short last block counts as zero-padded).
    public func encode(fecBlock f: Int, sliceBlocks: Int, block: (Int) -> [UInt8]) -> [UInt8] {
        let stripe = f % stripes, row = f / stripes
        var out = [UInt8](repeating: 0, count: blockSize)
        out.withUnsafeMutableBytes { target in
            for j in 0..<stripeLength(stripe, sliceBlocks: sliceBlocks) {
                block(stripe + j * stripes).withUnsafeBytes {
                    GaloisField.multiplyAdd(Self.coefficient(row: row, position: j), $0, into: target)
                }
            }
        }
        return out
    }

    public enum DecodeError: Error, Hashable, Sendable {
        /// More blocks of the stripe are missing than FEC blocks arrived for it.
        case notEnoughFEC(stripe: Int, missing: Int, available: Int)
    }

    /// Rebuilds the missing data blocks of one stripe. `present` maps stripe positions j to
    /// their block bytes (zero-padded to blockSize), `fec` maps FEC rows r to FEC payloads.
    /// Returns the rebuilt blocks by stripe position.
    public func recover(stripe: Int, length k: Int, present: [Int: [UInt8]], fec: [Int: [UInt8]]) throws(DecodeError) -> [Int: [UInt8]] {
        let missing = (0..<k).filter { present[$0] == nil }
        guard !missing.isEmpty else { return [:] }
        let rows = Array(fec.keys.sorted().prefix(missing.count))
        guard rows.count == missing.count else {
            throw .notEnoughFEC(stripe: stripe, missing: missing.count, available: fec.count)
        }
        // Residuals: each used FEC block minus the contribution of the blocks we have.
        var residuals: [[UInt8]] = rows.map { row in
            var r = fec[row]!
            r.withUnsafeMutableBytes { target in
                for (j, data) in present where j < k {
                    data.withUnsafeBytes { GaloisField.multiplyAdd(Self.coefficient(row: row, position: j), $0, into: target) }
                }
            }
            return r
        }
        // Solve M · X = residuals with M[row][col] = coefficient(rows[row], missing[col]).
        let m = missing.count
        var matrix: [[UInt8]] = rows.map { r in missing.map { Self.coefficient(row: r, position: $0) } }
        for col in 0..<m {
            // Cauchy submatrices are invertible, so a pivot always exists.
            let pivot = (col..<m).first { matrix[$0][col] != 0 }!
            matrix.swapAt(col, pivot)
            residuals.swapAt(col, pivot)
            let scale = GaloisField.inverse(matrix[col][col])
            for c in 0..<m { matrix[col][c] = GaloisField.multiply(matrix[col][c], scale) }
            residuals[col] = residuals[col].map { GaloisField.multiply($0, scale) }
            for row in 0..<m where row != col && matrix[row][col] != 0 {
                let factor = matrix[row][col]
                for c in 0..<m { matrix[row][c] ^= GaloisField.multiply(factor, matrix[col][c]) }
                let source = residuals[col]
                residuals[row].withUnsafeMutableBytes { target in
                    source.withUnsafeBytes { GaloisField.multiplyAdd(factor, $0, into: target) }
                }
            }
        }
        var rebuilt: [Int: [UInt8]] = [:]
        for (index, j) in missing.enumerated() { rebuilt[j] = residuals[index] }
        return rebuilt
    }
}

/// One slice being received: data blocks placed at block × blockSize, FEC blocks kept per
/// stripe until they can rebuild what is missing.
struct SliceAssembly {
    let number: UInt32
    let blockSize: Int
    private(set) var length: UInt32?
    private(set) var data: [UInt8]
    private(set) var have = BitMap1024()
    private(set) var haveCount = 0
    private var fec: [Int: [Int: [UInt8]]] = [:]
    private var stripes = 0

    static let maxBlocks = 1024

    init(number: UInt32, blockSize: Int) {
        self.number = number
        self.blockSize = blockSize
        data = []
    }

    var blockCount: Int? { length.map { (Int($0) + blockSize - 1) / blockSize } }

    var isComplete: Bool { blockCount.map { haveCount >= $0 } ?? false }

    /// Hands the complete slice's bytes over without copying them; the assembly is spent.
    mutating func takePayload() -> [UInt8] {
        var bytes: [UInt8] = []
        swap(&bytes, &data)
        bytes.removeLast(bytes.count - Int(length ?? 0))
        return bytes
    }

    enum Problem: Error, Equatable { case lengthMismatch(had: UInt32, got: UInt32), tooLong(UInt32) }

    /// Records the slice length from a DATA, FEC or REQACK header.
    mutating func setLength(_ bytes: UInt32) throws(Problem) {
        if let length {
            guard length == bytes else { throw .lengthMismatch(had: length, got: bytes) }
            return
        }
        guard Int(bytes) <= Self.maxBlocks * blockSize else { throw .tooLong(bytes) }
        length = bytes
        // Every block is written before the slice is complete; only the pad after the last
        // block's bytes (read by FEC) must be zero, so the rest is not cleared first.
        let capacity = (Int(bytes) + blockSize - 1) / blockSize * blockSize
        data = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            if capacity > Int(bytes) {
                buffer.baseAddress!.advanced(by: Int(bytes)).initialize(repeating: 0, count: capacity - Int(bytes))
            }
            count = capacity
        }
    }

    /// Stores a data block; false when it does not fit the slice (ignored as malformed).
    mutating func addData(block: Int, payload: UnsafeRawBufferPointer) -> Bool {
        guard let count = blockCount, block < count else { return false }
        let expected = block == count - 1 ? Int(length!) - block * blockSize : blockSize
        guard payload.count == expected else { return false }
        guard !have[block] else { return true }
        data.withUnsafeMutableBytes { slice in
            UnsafeMutableRawBufferPointer(rebasing: slice[block * blockSize..<(block * blockSize + expected)]).copyMemory(from: payload)
        }
        have[block] = true
        haveCount += 1
        return true
    }

    /// Stores a FEC block and rebuilds whatever it makes recoverable.
    mutating func addFEC(stripes: Int, fecBlock f: Int, payload: UnsafeRawBufferPointer) {
        guard let count = blockCount, stripes > 0, stripes <= 128, payload.count == blockSize, f / stripes < 128 else { return }
        self.stripes = stripes
        let stripe = f % stripes, row = f / stripes
        let code = FECCode(stripes: stripes, redundancy: 128, blockSize: blockSize)
        let k = code.stripeLength(stripe, sliceBlocks: count)
        guard k > 0 else { return }   // an empty stripe's FEC block carries stale bytes
        fec[stripe, default: [:]][row] = Array(payload)
        recover(stripe: stripe, k: k, code: code)
    }

    private mutating func recover(stripe: Int, k: Int, code: FECCode) {
        let positions = (0..<k).map { stripe + $0 * code.stripes }
        let missing = positions.filter { !have[$0] }
        guard !missing.isEmpty, let rows = fec[stripe], rows.count >= missing.count else { return }
        var present: [Int: [UInt8]] = [:]
        for (j, block) in positions.enumerated() where have[block] {
            present[j] = Array(data[block * blockSize..<(block + 1) * blockSize])
        }
        guard let rebuilt = try? code.recover(stripe: stripe, length: k, present: present, fec: rows) else { return }
        for (j, bytes) in rebuilt {
            let block = positions[j]
            data.replaceSubrange(block * blockSize..<(block + 1) * blockSize, with: bytes)
            have[block] = true
            haveCount += 1
        }
        fec[stripe] = nil
    }

    /// Missing data blocks per stripe, for a clear error when FEC cannot cover a loss.
    var missingBlocks: [Int] {
        guard let count = blockCount else { return [] }
        return (0..<count).filter { !have[$0] }
    }
}

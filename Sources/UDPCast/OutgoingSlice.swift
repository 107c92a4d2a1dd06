/// A slice on the sender side: its bytes, how far its first transmission got, and the state
/// of its acknowledgement rounds.
struct OutgoingSlice {
    let number: UInt32
    let data: [UInt8]
    let blockSize: Int

    init(number: UInt32, data: [UInt8], blockSize: Int) {
        self.number = number
        self.data = data
        self.blockSize = blockSize
    }
    /// Next data block of the first transmission, then the next FEC block number.
    var nextBlock = 0
    var nextFEC = 0
    var round: UInt32 = 0
    /// Clients that answered OK (their bit stays set for every later round).
    var ready = BitMap1024()
    /// Clients that answered in the current round (OK or RETRANSMIT).
    var answered = BitMap1024()
    /// Blocks some receiver asked for in this round, and those already resent in it.
    private(set) var wanted = BitMap1024()
    private(set) var resent = BitMap1024()
    private var pendingCount = 0
    private var resendCursor = 0
    var reqackSentAt: Nanoseconds = 0

    var length: UInt32 { UInt32(data.count) }
    var blockCount: Int { (data.count + blockSize - 1) / blockSize }

    func block(_ index: Int) -> ArraySlice<UInt8> {
        data[index * blockSize..<min(data.count, (index + 1) * blockSize)]
    }

    mutating func startRound(_ round: UInt32, at now: Nanoseconds) {
        self.round = round
        answered = BitMap1024()
        wanted = BitMap1024()
        resent = BitMap1024()
        pendingCount = 0
        resendCursor = 0
        reqackSentAt = now
    }

    /// A receiver lacks `block`: resend it once in this round.
    mutating func want(_ block: Int) {
        guard !wanted[block] else { return }
        wanted[block] = true
        pendingCount += 1
        resendCursor = min(resendCursor, block)
    }

    var hasPendingResends: Bool { pendingCount > 0 }

    /// The lowest block asked for and not yet resent in this round.
    mutating func nextResend() -> Int? {
        guard pendingCount > 0 else { return nil }
        while resendCursor < blockCount && !(wanted[resendCursor] && !resent[resendCursor]) { resendCursor += 1 }
        return resendCursor < blockCount ? resendCursor : nil
    }

    mutating func markResent(_ block: Int) {
        guard wanted[block], !resent[block] else { return }
        resent[block] = true
        pendingCount -= 1
    }
}

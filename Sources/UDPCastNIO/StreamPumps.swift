import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads the sender's input on its own thread in 1 MiB pieces and hands each to the event
/// loop; it reads the next piece only when granted, so memory stays bounded. After `stop`
/// nothing more is handed over, so the loop may be shut down right after.
final class InputReader: @unchecked Sendable {
    private let fd: Int32
    // Starts at 0 and is signalled once: libdispatch traps when a semaphore is freed below
    // its initial value.
    private let credit = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopped = false

    init(fd: Int32) {
        self.fd = fd
        credit.signal()
    }

    func start(deliver: @escaping ([UInt8]) -> Void, end: @escaping (Int32?) -> Void) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                credit.wait()
                if isStopped { return }
                var filled = 0
                var failure: Int32?
                // Fill a whole piece unless the input ends, so slices are cut from full pieces.
                while filled < buffer.count {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { failure = errno; break }
                    if n == 0 { break }
                    filled += n
                }
                let ended = failure != nil || filled < buffer.count
                let piece = filled > 0 ? Array(buffer[0..<filled]) : nil
                lock.lock()
                if !stopped {
                    if let piece { deliver(piece) }
                    if ended { end(failure) }
                }
                lock.unlock()
                if ended { return }
            }
        }
        thread.start()
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    func grant() { credit.signal() }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        credit.signal()
    }
}

/// Writes the receiver's output on its own thread so a slow consumer (a pipe into a
/// decompressor) never stalls the socket reads for long; at most `limit` bytes wait.
final class OutputWriter: @unchecked Sendable {
    private let fd: Int32
    private let limit: Int
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var queued = 0
    private var finished = false
    private var failure: Int32?
    private var done = false

    init(fd: Int32, limit: Int = 64 << 20) {
        self.fd = fd
        self.limit = limit
        let thread = Thread { [self] in run() }
        thread.start()
    }

    /// Queues bytes; blocks while the queue is full. Returns the write error, if one happened.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Int32? {
        condition.lock()
        defer { condition.unlock() }
        while queued + bytes.count > limit && queued > 0 && failure == nil { condition.wait() }
        if let failure { return failure }
        queue.append(bytes)
        queued += bytes.count
        condition.broadcast()
        return nil
    }

    /// Waits until everything is written and synced; returns the first error.
    func finish(sync: Bool) -> Int32? {
        condition.lock()
        finished = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
        if failure == nil && sync {
            var st = stat()
            if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && fsync(fd) != 0 { failure = errno }
        }
        return failure
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !finished { condition.wait() }
            if queue.isEmpty && finished {
                done = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let bytes = queue.removeFirst()
            condition.unlock()
            var offset = 0
            var error: Int32?
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { error = errno; break }
                offset += n
            }
            condition.lock()
            queued -= bytes.count
            if let error, failure == nil { failure = error }
            condition.broadcast()
            condition.unlock()
        }
    }
}

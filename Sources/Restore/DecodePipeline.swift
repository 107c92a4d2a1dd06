import Foundation

/// Runs decompression on a second thread while the caller decodes and writes, so inflate and
/// checksum/pwrite overlap on a two-core machine. Decoded bytes travel in a few large slabs;
/// memory stays at `slabCount × slabSize` however long the stream.
final class DecodePipeline: @unchecked Sendable {
    private final class Slab {
        let storage: UnsafeMutableRawBufferPointer
        var count = 0
        init(size: Int) { storage = .allocate(byteCount: size, alignment: 4096) }
        deinit { storage.deallocate() }
        var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[..<count]) }
    }

    private let condition = NSCondition()
    private var free: [Slab]
    private var filled: [Slab] = []
    private var producerDone = false
    private var producerError: Error?
    private var cancelled = false

    init(slabCount: Int = 4, slabSize: Int = 4 << 20) {
        free = (0..<slabCount).map { _ in Slab(size: slabSize) }
    }

    /// Calls `produce` on a worker thread (its `emit` argument accepts decoded bytes) and
    /// `consume` on the calling thread for every slab, in order. The first error of either side
    /// stops both and is rethrown; a consumer error wins.
    func run(produce: @escaping (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void,
             consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let finished = DispatchSemaphore(value: 0)
        let producer = UncheckedBox(produce)
        let thread = Thread { [self] in
            defer { finished.signal() }
            var current: Slab?
            do {
                try producer.value { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        if current == nil { current = try self.takeFree() }
                        let slab = current!
                        let n = min(bytes.count - offset, slab.storage.count - slab.count)
                        slab.storage.baseAddress!.advanced(by: slab.count).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
                        slab.count += n
                        offset += n
                        if slab.count == slab.storage.count { self.push(slab); current = nil }
                    }
                }
                finish(error: nil, partial: current)
            } catch {
                // Data decoded before the error still reaches the consumer, so a decoder
                // downstream can report the more precise problem first.
                finish(error: error, partial: current)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
        defer {
            condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
            finished.wait()
        }
        while let slab = try takeFilled() {
            do {
                try consume(slab.bytes)
            } catch {
                recycle(slab)
                throw error
            }
            recycle(slab)
        }
    }

    private struct Cancelled: Error {}

    private func takeFree() throws -> Slab {
        condition.lock(); defer { condition.unlock() }
        while free.isEmpty && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        let slab = free.removeLast()
        slab.count = 0
        return slab
    }

    private func push(_ slab: Slab) {
        condition.lock(); filled.append(slab); condition.broadcast(); condition.unlock()
    }

    private func recycle(_ slab: Slab) {
        condition.lock(); free.append(slab); condition.broadcast(); condition.unlock()
    }

    private func finish(error: Error?, partial: Slab?) {
        condition.lock()
        if let partial, partial.count > 0, !(error is Cancelled) { filled.append(partial) }
        producerDone = true
        if !(error is Cancelled) { producerError = error }
        condition.broadcast()
        condition.unlock()
    }

    /// The next filled slab; nil at the clean end of the stream.
    private func takeFilled() throws -> Slab? {
        condition.lock(); defer { condition.unlock() }
        while filled.isEmpty && !producerDone { condition.wait() }
        if !filled.isEmpty { return filled.removeFirst() }
        if let producerError { throw producerError }
        return nil
    }
}

/// Hands a value to the worker thread; the pipeline's lock orders every access to it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

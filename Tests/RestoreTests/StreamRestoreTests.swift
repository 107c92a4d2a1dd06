import ClonezillaImage
import Foundation
import Testing
import TestSupport
@testable import Restore

/// The restore engine fed by streams (what the client does with multicast receivers): a pseudo
/// image whose payloads are empty placeholders, each partition's bytes arriving through a pipe.
@Suite struct StreamRestoreTests {
    /// Feeds stream k with the stored chunks of partition `order[k]`, on a thread per stream.
    final class PipeStreams: PayloadStreamSource, @unchecked Sendable {
        let image: String
        let order: [String]
        private let lock = NSLock()
        private var closedStreams: [(String, Bool)] = []
        var closed: [Bool] { lock.withLock { closedStreams.map(\.1) } }

        init(image: String, order: [String]) {
            self.image = image
            self.order = order
        }

        func open(partition: String, index: Int) throws(RestoreError) -> PayloadStream {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw .io(path: "pipe", operation: "pipe", errno: errno) }
            let files = (try! FileManager.default.contentsOfDirectory(atPath: image)).filter { $0.hasPrefix(order[index] + ".") }.sorted()
            let (image, writeEnd) = (image, fds[1])
            Thread {
                defer { Glibc.close(writeEnd) }
                for file in files {
                    let data = FileManager.default.contents(atPath: image + "/" + file)!
                    _ = data.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
                }
            }.start()
            return PayloadStream(descriptor: fds[0], name: "stream \(index + 1)")
        }

        func close(_ stream: PayloadStream, succeeded: Bool) {
            Glibc.close(stream.descriptor)
            lock.withLock { closedStreams.append((stream.name, succeeded)) }
        }
    }

    func pseudoImage(in work: String) throws -> String {
        let pseudo = work + "/pseudo"
        TestEnv.copyImage(TestEnv.fixture("cz-gpt/image"), to: pseudo)
        for name in try FileManager.default.contentsOfDirectory(atPath: pseudo) where name.contains("-ptcl-img.") {
            truncate(pseudo + "/" + name, 0)
        }
        return pseudo
    }

    @Test func streamsRestoreTheDiskExactly() throws {
        let work = TestEnv.scratch("stream-restore")
        defer { TestEnv.cleanup(work) }
        let pseudo = try pseudoImage(in: work)
        TestEnv.zeroFile(work + "/disk.img", size: 32 << 20)
        let streams = PipeStreams(image: TestEnv.fixture("cz-gpt/image"), order: ["sda1", "sda2", "sda4"])
        var options = RestoreOptions()
        options.batch = true
        try RestoreEngine(options: options, log: .silent).restoreDisk(imageDirectory: pseudo, targets: [work + "/disk.img"], streams: streams)
        #expect(TestEnv.sha256(work + "/disk.img") == TestEnv.restoredDiskHash("cz-gpt"))
        #expect(streams.closed == [true, true, true])
        // Without streams, a pseudo image is still refused (nothing to restore from).
        #expect(throws: RestoreError.self) { try RestoreEngine(options: options, log: .silent).restoreDisk(imageDirectory: pseudo, targets: [work + "/disk.img"]) }
    }

    /// Stream 1 carries another partition (a client that joined the wrong session): refused
    /// before a block is written — by its compression (sda2 is gzip) or, with the same
    /// compression, by its partclone header (a FAT file system where the image says ext4).
    @Test func aStreamOfAnotherPartitionIsNotWritten() throws {
        let work = TestEnv.scratch("stream-mismatch")
        defer { TestEnv.cleanup(work) }
        let pseudo = try pseudoImage(in: work)
        let fixture = TestEnv.fixture("cz-gpt/image")
        try FileManager.default.createDirectory(atPath: work + "/streams", withIntermediateDirectories: true)
        let made = TestEnv.shell("cat \(fixture)/sda2.vfat-ptcl-img.gz.* | gzip -dc | zstd -q -c > \(work)/streams/vfat.zst && cp \(fixture)/sda2.vfat-ptcl-img.gz.aa \(work)/streams/gz.aa")
        try #require(made.status == 0, "\(made.stderr)")
        var options = RestoreOptions()
        options.batch = true
        let zeros = TestEnv.shell("head -c \(16 << 20) /dev/zero | sha256sum | cut -d' ' -f1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for (wrong, expected) in [("gz", "corrupt .zst data"), ("vfat", "carries a FAT16 file system, the image says ext4: it is another partition's stream; nothing was written")] {
            TestEnv.zeroFile(work + "/disk.img", size: 32 << 20)
            let streams = PipeStreams(image: work + "/streams", order: [wrong, "sda1", "sda4"])
            do {
                try RestoreEngine(options: options, log: .silent).restoreDisk(imageDirectory: pseudo, targets: [work + "/disk.img"], streams: streams)
                Issue.record("the wrong stream was accepted")
            } catch {
                #expect(error.description.contains("sda1") && error.description.contains("stream 1") && error.description.contains(expected), "\(error)")
            }
            #expect(TestEnv.sha256(work + "/disk.img", offset: 2048 * 512, length: 16 << 20) == zeros, "partition 1 untouched")
            #expect(streams.closed == [false])
        }
    }
}

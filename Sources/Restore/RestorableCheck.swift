import ClonezillaImage
import Partclone

/// The server-side "is this image restorable" check (`ocs-chkimg`, skipped by `-sc0`): every
/// payload of the partitions to be sent is decompressed and decoded to its end, so partclone's
/// block checksums, the bitmap and the chunk sequence are verified before any client waits for
/// them. Nothing is written.
public enum RestorableCheck {
    struct DiscardingSink: BlockSink {
        mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {}
    }

    /// Returns the decoded size of each partition, in the order given.
    @discardableResult
    public static func run(_ image: ImageDirectory, partitions: [String]) throws(RestoreError) -> [UInt64] {
        var sizes: [UInt64] = []
        for partition in partitions {
            guard let payload = image.payloads[partition] else { continue }
            var sink = DiscardingSink()
            let decoder = try PayloadRestorer(payload: payload, directory: image.path).decode(into: &sink, rawLimit: nil)
            sizes.append(decoder.outputBytes)
        }
        return sizes
    }
}

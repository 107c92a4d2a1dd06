/// Where torrent payload bytes live in the partition: the extents laid end to end.
/// Piece p, bytes [b, b+l) are payload [p·L + b, p·L + b + l), which may cross extents.
public struct PayloadMap: Sendable {
    public let extents: [Extent]
    /// Payload offset at which each extent starts.
    private let starts: [UInt64]
    public let totalLength: UInt64

    public init(extents: [Extent]) {
        self.extents = extents
        var starts: [UInt64] = []
        var total: UInt64 = 0
        for extent in extents {
            starts.append(total)
            total += extent.length
        }
        self.starts = starts
        totalLength = total
    }

    /// The partition ranges holding payload [offset, offset + length), in order; nil if the
    /// range runs past the payload.
    public func segments(payloadOffset offset: UInt64, length: UInt64) -> [(partitionOffset: UInt64, length: UInt64)]? {
        guard length <= totalLength, offset <= totalLength - length else { return nil }
        guard length > 0 else { return [] }
        // The last extent starting at or before `offset`.
        var low = 0, high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        var out: [(partitionOffset: UInt64, length: UInt64)] = []
        var index = low
        var position = offset
        var left = length
        while left > 0 {
            let extent = extents[index]
            let within = position - starts[index]
            let take = min(left, extent.length - within)
            if take > 0 { out.append((extent.offset + within, take)) }
            position += take
            left -= take
            index += 1
        }
        return out
    }
}

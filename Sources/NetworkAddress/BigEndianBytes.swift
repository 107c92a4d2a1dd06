extension FixedWidthInteger {
    /// The value as the wire protocols write it: most significant byte first.
    public var bigEndianBytes: [UInt8] {
        (0..<MemoryLayout<Self>.size).reversed().map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }
}

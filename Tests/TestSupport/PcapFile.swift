import Foundation

/// UDP datagrams from an Ethernet capture (classic libpcap or pcapng): what the golden-packet
/// tests of the network protocols replay.
public struct CapturedDatagram: Sendable {
    public var frame: Int
    public var time: Double
    public var source: (address: UInt32, port: UInt16)
    public var destination: (address: UInt32, port: UInt16)
    public var payload: [UInt8]
}

public enum PcapFile {
    public enum Failure: Error { case notPcap(String), truncated(String) }

    public static func udpDatagrams(_ path: String) throws -> [CapturedDatagram] {
        let d = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        func u32le(_ o: Int) -> UInt32 { UInt32(d[o]) | UInt32(d[o + 1]) << 8 | UInt32(d[o + 2]) << 16 | UInt32(d[o + 3]) << 24 }
        var frames: [(time: Double, bytes: ArraySlice<UInt8>)] = []
        if d.count >= 24, u32le(0) == 0xA1B2C3D4, u32le(20) == 1 {
            var offset = 24
            while offset + 16 <= d.count {
                let seconds = Double(u32le(offset)) + Double(u32le(offset + 4)) / 1e6
                let captured = Int(u32le(offset + 8))
                offset += 16
                guard offset + captured <= d.count else { throw Failure.truncated(path) }
                frames.append((seconds, d[offset..<offset + captured]))
                offset += captured
            }
        } else if d.count >= 28, u32le(0) == 0x0A0D_0D0A, u32le(8) == 0x1A2B_3C4D {
            // pcapng, little-endian: Enhanced Packet Blocks (type 6) of Ethernet interfaces.
            var offset = 0
            while offset + 12 <= d.count {
                let type = u32le(offset)
                let length = Int(u32le(offset + 4))
                guard length >= 12, offset + length <= d.count else { throw Failure.truncated(path) }
                if type == 1, u32le(offset + 8) & 0xFFFF != 1 { throw Failure.notPcap(path) }
                if type == 6 {
                    let stamp = Double(UInt64(u32le(offset + 12)) << 32 | UInt64(u32le(offset + 16))) / 1e6
                    let captured = Int(u32le(offset + 20))
                    guard 28 + captured <= length else { throw Failure.truncated(path) }
                    frames.append((stamp, d[offset + 28..<offset + 28 + captured]))
                }
                offset += length
            }
        } else {
            throw Failure.notPcap(path)
        }
        return frames.enumerated().compactMap { index, frame in udp(in: frame.bytes, frame: index + 1, time: frame.time) }
    }

    /// The UDP datagram in an Ethernet + IPv4 frame, if it is one.
    static func udp(in f: ArraySlice<UInt8>, frame: Int, time: Double) -> CapturedDatagram? {
        let p = f.startIndex
        func u16be(_ o: Int) -> UInt16 { UInt16(f[p + o]) << 8 | UInt16(f[p + o + 1]) }
        func u32be(_ o: Int) -> UInt32 { UInt32(u16be(o)) << 16 | UInt32(u16be(o + 2)) }
        guard f.count >= 14 + 20 + 8, u16be(12) == 0x0800, f[p + 14 + 9] == 17 else { return nil }
        let udp = 14 + Int(f[p + 14] & 0x0F) * 4
        guard udp + 8 <= f.count else { return nil }
        let length = Int(u16be(udp + 4))
        guard length >= 8, udp + length <= f.count else { return nil }
        return CapturedDatagram(frame: frame, time: time, source: (u32be(14 + 12), u16be(udp)), destination: (u32be(14 + 16), u16be(udp + 2)),
                                payload: Array(f[(p + udp + 8)..<(p + udp + length)]))
    }
}

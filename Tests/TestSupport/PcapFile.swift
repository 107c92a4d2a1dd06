import Foundation

/// UDP datagrams from a classic (libpcap, not pcapng) Ethernet capture: what the golden-packet
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
        func u16be(_ o: Int) -> UInt16 { UInt16(d[o]) << 8 | UInt16(d[o + 1]) }
        func u32be(_ o: Int) -> UInt32 { UInt32(u16be(o)) << 16 | UInt32(u16be(o + 2)) }
        guard d.count >= 24, u32le(0) == 0xA1B2C3D4, u32le(20) == 1 else { throw Failure.notPcap(path) }
        var result: [CapturedDatagram] = []
        var offset = 24
        var frame = 0
        while offset + 16 <= d.count {
            let seconds = Double(u32le(offset)) + Double(u32le(offset + 4)) / 1e6
            let captured = Int(u32le(offset + 8))
            offset += 16
            guard offset + captured <= d.count else { throw Failure.truncated(path) }
            let packet = offset
            offset += captured
            frame += 1
            guard captured >= 14 + 20 + 8, u16be(packet + 12) == 0x0800 else { continue }
            let ip = packet + 14
            let headerLength = Int(d[ip] & 0x0F) * 4
            guard d[ip + 9] == 17 else { continue }
            let udp = ip + headerLength
            let length = Int(u16be(udp + 4))
            guard length >= 8, udp + length <= packet + captured else { continue }
            result.append(CapturedDatagram(frame: frame, time: seconds,
                                           source: (u32be(ip + 12), u16be(udp)), destination: (u32be(ip + 16), u16be(udp + 2)),
                                           payload: Array(d[(udp + 8)..<(udp + length)])))
        }
        return result
    }
}

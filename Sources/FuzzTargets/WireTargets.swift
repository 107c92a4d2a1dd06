import BitTorrent
import DHCP
import NetworkAddress
import TFTP
import UDPCast

/// Decoders of datagrams and streams from the LAN: any host on it can send them.
extension FuzzTargets {
    static let udpcast = FuzzTarget(
        name: "udpcast", summary: "udpcast control and data messages (UDPCastMessage.decode)",
        seeds: {
            var ready = BitMap1024()
            ready[3] = true
            let messages: [UDPCastMessage] = [
                .ok(slice: 7), .go, .disconnect,
                .connectRequest(capabilities: .standard, receiveBuffer: 1 << 20),
                .retransmit(slice: 2, round: 1, received: ready),
                .reqack(slice: 9, bytes: 1_048_576, round: 3, ready: ready),
                .connectReply(client: 2, blockSize: 1456, capabilities: .standard, dataAddress: IPv4Address(234, 1, 2, 3)),
                .data(slice: 1, block: 5, sliceBytes: 8192, payload: ArraySlice(repeating: 0xAB, count: 64)),
                .fec(stripes: 8, slice: 1, block: 0, sliceBytes: 8192, payload: ArraySlice(repeating: 0x11, count: 64)),
                .hello(kind: .new, capabilities: .standard, dataAddress: IPv4Address(234, 1, 2, 3), blockSize: 1456),
            ]
            return messages.map { $0.encoded() }
        },
        run: { bytes throws(FuzzFinding) in
            guard let message = try? UDPCastMessage.decode(bytes) else { return }
            try roundTrip("udpcast", message, { $0.encoded() }, { try UDPCastMessage.decode($0) })
        })

    static let dhcp = FuzzTarget(
        name: "dhcp", summary: "DHCP/BOOTP messages with options (DHCPMessage(parsing:))",
        alphabet: [0, 1, 3, 6, 12, 43, 50, 51, 53, 54, 55, 57, 60, 61, 66, 67, 93, 94, 97, 255, 99, 130, 83],
        seeds: {
            func message(_ type: UInt8, options: [UInt8]) -> [UInt8] {
                var bytes = [1, 1, 6, 0, 0x12, 0x34, 0x56, 0x78, 0, 4, 0x80, 0] + [UInt8](repeating: 0, count: 16)
                bytes += [0x52, 0x54, 0x00, 0x12, 0x34, 0x56] + [UInt8](repeating: 0, count: 10 + 192)
                return bytes + [99, 130, 83, 99, 53, 1, type] + options + [255]
            }
            let pxe = ascii("PXEClient:Arch:00000:UNDI:002001")
            return [
                message(1, options: [55, 4, 1, 3, 66, 67, 60, UInt8(pxe.count)] + pxe + [93, 2, 0, 7, 94, 3, 1, 2, 1]),
                message(3, options: [50, 4, 10, 0, 0, 20, 54, 4, 10, 0, 0, 1, 57, 2, 5, 192]),
                message(7, options: [54, 4, 10, 0, 0, 1]),
                message(1, options: [52, 1, 3]) ,   // option overload: file and sname carry options
            ]
        },
        run: { bytes throws(FuzzFinding) in
            guard let message = try? DHCPMessage(parsing: bytes) else { return }
            _ = message.messageType
            try roundTrip("dhcp", message, { try $0.encoded() }, { try DHCPMessage(parsing: $0) })
        })

    static let tftp = FuzzTarget(
        name: "tftp", summary: "TFTP packets and RFC 2347 options (TFTPPacket(parsing:))",
        alphabet: [0, 1, 2, 3, 4, 5, 6] + ascii("octetnetasciiblksizetsizetimeoutwindowsize0123456789/.."),
        seeds: {
            [
                [0, 1] + ascii("pxelinux.0") + [0] + ascii("octet") + [0] + ascii("blksize") + [0] + ascii("1468") + [0] + ascii("tsize") + [0, 48, 0],
                [0, 1] + ascii("boot/grub/x86_64-efi/normal.mod") + [0] + ascii("octet") + [0] + ascii("windowsize") + [0] + ascii("16") + [0],
                [0, 3, 0, 1] + [UInt8](repeating: 0x5A, count: 512),
                [0, 4, 0xFF, 0xFF],
                [0, 5, 0, 1] + ascii("File not found") + [0],
                [0, 6] + ascii("blksize") + [0] + ascii("1468") + [0],
            ]
        },
        run: { bytes throws(FuzzFinding) in
            guard let packet = try? TFTPPacket(parsing: bytes) else { return }
            try roundTrip("tftp", packet, { $0.encoded() }, { try TFTPPacket(parsing: $0) })
        })

    static let bencode = FuzzTarget(
        name: "bencode", summary: "bencoded values: .torrent files and tracker replies (BencodeDecoder, Metainfo)",
        alphabet: ascii("dilse:0123456789-"),
        seeds: {
            [
                ascii("d8:announce30:http://10.0.0.1:6969/announce4:infod6:lengthi1048576e4:name4:sda112:piece lengthi262144e6:pieces20:abcdefghijklmnopqrstee"),
                ascii("d8:completei3e10:incompletei1e8:intervali30e5:peers12:abcdefghijkle"),
                ascii("li-42ei0e3:abcld1:ai1eeee"),
            ]
        },
        run: { bytes throws(FuzzFinding) in
            _ = try? Metainfo(decoding: bytes)
            guard let value = try? BencodeDecoder.decode(bytes) else { return }
            try roundTrip("bencode", value, { $0.encoded() }, { try BencodeDecoder.decode($0) })
        })

    static let peerWire = FuzzTarget(
        name: "peer-wire", summary: "BitTorrent handshake and peer messages (Handshake, PeerMessage.decode)",
        seeds: {
            let handshake = [19] + ascii("BitTorrent protocol") + [0, 0, 0, 0, 0, 0x10, 0, 0x04] + [UInt8](repeating: 7, count: 20) + ascii("-LS0001-abcdefghijkl")
            let messages: [PeerMessage] = [
                .keepAlive, .unchoke, .interested, .have(piece: 3), .bitfield([0xFF, 0x80]),
                .request(BlockRequest(index: 1, begin: 16384, length: 16384)),
                .piece(index: 1, begin: 0, block: ArraySlice(repeating: 9, count: 32)), .haveAll, .allowedFast(4),
            ]
            return [handshake] + messages.map { $0.encoded() }
        },
        run: { bytes throws(FuzzFinding) in
            _ = try? Handshake(decoding: bytes[...])
            // The length prefix frames a body; decode whatever body it names.
            guard bytes.count >= 4 else { return }
            let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
            let body = bytes[4..<min(bytes.count, 4 + length)]
            guard let message = try? PeerMessage.decode(body: body) else { return }
            if case .unknown = message { return }
            try roundTrip("peer-wire", message, { $0.encoded() }, { try PeerMessage.decode(body: $0[4...]) })
        })
}

import ClonezillaImage
import GetImg
import Partclone

/// Decoders of what an image or a server hands a client: partclone payloads, partition table
/// dumps, the job file and the HTTP response that carries it.
extension FuzzTargets {
    /// Collects where the decoder writes, to hold it to the partition's size.
    struct BoundsSink: BlockSink {
        var limit: UInt64?
        var overrun: (UInt64, Int)?
        mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
            if let limit, offset + UInt64(bytes.count) > limit, overrun == nil { overrun = (offset, bytes.count) }
        }
    }

    static let partclone = FuzzTarget(
        name: "partclone", summary: "partclone image streams: header, bitmap, blocks and checksums (PartcloneStreamDecoder)",
        seeds: { [ascii("partclone-image\0") + [UInt8](repeating: 0, count: 96)] },
        run: { bytes throws(FuzzFinding) in
            var limits = PartcloneStreamDecoder.Limits()
            limits.minBuffer = 1 << 16
            limits.maxBuffer = 1 << 20
            var decoder = PartcloneStreamDecoder(limits: limits)
            var sink = BoundsSink()
            // Fed in uneven pieces, as a decompressor hands them over.
            var at = 0, piece = 1
            do {
                while at < bytes.count {
                    let end = min(bytes.count, at + piece)
                    try bytes[at..<end].withUnsafeBytes { try decoder.consume($0, into: &sink) }
                    sink.limit = decoder.header?.deviceSize
                    at = end
                    piece = piece * 3 + 1
                }
                try decoder.finish(into: &sink)
            } catch {}
            if let (offset, count) = sink.overrun {
                throw FuzzFinding("partclone", "wrote \(count) bytes at \(offset), past the device size \(sink.limit ?? 0)")
            }
        })

    static let sfdisk = FuzzTarget(
        name: "sfdisk", summary: "sfdisk --dump partition tables of an image (SfdiskDump.parse)",
        alphabet: ascii("label:gptdosunit-id=,start size type uuid name attrs first-lba last-lba sectors\n0123456789ABCDEF\""),
        seeds: {
            [
                ascii("label: gpt\nlabel-id: 5D0B7A2C-1111-4A44-9C6B-3F1E2D3C4B5A\ndevice: /dev/sda\nunit: sectors\nfirst-lba: 2048\nlast-lba: 65502\nsector-size: 512\n\n/dev/sda1 : start=        2048, size=       30720, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=8F1C2B3A-0000-4000-8000-000000000001, name=\"root\"\n/dev/sda2 : start=       32768, size=       16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=8F1C2B3A-0000-4000-8000-000000000002\n"),
                ascii("label: dos\nlabel-id: 0x1a2b3c4d\ndevice: /dev/sda\nunit: sectors\nsector-size: 512\n\n/dev/sda1 : start=2048, size=20480, type=83, bootable\n/dev/sda2 : start=22528, size=40960, type=5\n/dev/sda5 : start=24576, size=8192, type=82\n"),
            ]
        },
        run: { bytes throws(FuzzFinding) in
            _ = try? SfdiskDump.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz/sda-pt.sf")
        })

    static let clientJob = FuzzTarget(
        name: "ocs-client-run-conf", summary: "the job a client fetches: ocs-client-run.conf (ClientJob(parsing:))",
        alphabet: ascii("=\"'$`\\;&|()#\n\r -_abcdefghijklmnopqrstuvwxyz0123456789"),
        seeds: {
            [
                ascii("pseudo_img=\"img-wo-fs.tar.xz\"\nimg_prefix=\"cz-gpt\"\nocs_sr_opt=\"-e1 auto -e2 -r -j2 -k0 -scr -p reboot --batch multicast_restoredisk\"\nocs_restore_dev=\"sda\"\nocs_sr_type=\"multicast_restoredisk\"\nn_clients=\"3\"\n"),
                ascii("# job\r\npseudo_img=img-wo-fs.tar.xz\r\nimg_prefix=cz-dos\r\nocs_sr_opt='--batch -p poweroff bt_restoredisk'\r\nocs_restore_dev=\"sda sdb\"\r\n"),
            ]
        },
        run: { bytes throws(FuzzFinding) in
            _ = try? ClientJob(parsing: String(decoding: bytes, as: UTF8.self))
        })

    static let httpResponse = FuzzTarget(
        name: "http-response", summary: "the feeder's HTTP response to a client's GET (HTTPResponse(parsing:))",
        alphabet: ascii("HTTP/1.1 200 OK\r\n:Content-Length: Transfer-Encoding: chunked0123456789abcdef"),
        seeds: {
            [
                ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
                ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                ascii("HTTP/1.0 404 Not Found\r\n\r\n"),
            ]
        },
        run: { bytes throws(FuzzFinding) in
            _ = try? HTTPResponse(parsing: bytes)
        })
}

import Foundation
import NIOConcurrencyHelpers
import NetworkNIO
import TFTP
#if canImport(Glibc)
import Glibc
#endif

/// One read transfer on its own port and its own thread: the `ReadTransfer` state machine, the
/// file it reads and the client it talks to. Lock-step TFTP is one round trip per block, so the
/// cost per packet is the server's whole speed: a thread blocked in `recvfrom` on its socket is
/// woken by the ACK itself, and DATA is read from the file straight into one reused send buffer
/// (three system calls per block, no event loop in between).
final class TFTPTransferThread: @unchecked Sendable {
    private var transfer: ReadTransfer
    private let socket: Int32
    private let file: ConfinedFiles.OpenFile
    private let name: String
    private var client: sockaddr_in
    private let who: String
    private let log: ServiceLog
    private let onEnd: (TFTPTransferThread) -> Void
    /// Cancel and close exclude each other: a cancel never hits a descriptor number reused
    /// after the transfer closed its socket.
    private let lifecycle = NIOLockedValueBox((cancelled: false, closed: false))
    private var sendBuffer: [UInt8]
    private var deadline = Double.infinity
    private var sentBytes: UInt64 = 0
    private var ended = false

    init(transfer: ReadTransfer, socket: Int32, file: ConfinedFiles.OpenFile, name: String,
         client: (address: IPv4Address, port: UInt16), log: @escaping ServiceLog, onEnd: @escaping (TFTPTransferThread) -> Void) {
        self.transfer = transfer
        self.socket = socket
        self.file = file
        self.name = name
        self.client = client.address.sockaddr(port: client.port)
        who = "\(client.address):\(client.port)"
        self.log = log
        self.onEnd = onEnd
        sendBuffer = [UInt8](repeating: 0, count: 4 + transfer.negotiation.blockSize)
    }

    func start() {
        let thread = Thread { self.run() }
        thread.name = "tftp \(who)"
        thread.start()
    }

    /// Ends the transfer from another thread (service stop): the blocked receive returns.
    func cancel() {
        lifecycle.withLockedValue { state in
            state.cancelled = true
            if !state.closed { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    private func run() {
        let started = MonotonicClock.seconds
        // Wake at least once per retry timeout to look at the deadline.
        var wait = timeval(tv_sec: Int(transfer.retryTimeout), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var failure = apply(transfer.handle(.start(now: started)))
        var receive = [UInt8](repeating: 0, count: 1024)
        while !ended {
            var source = sockaddr_in()
            var sourceLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = receive.withUnsafeMutableBytes { buffer in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(socket, buffer.baseAddress, buffer.count, 0, $0, &sourceLength) }
                }
            }
            let now = MonotonicClock.seconds
            if lifecycle.withLockedValue({ $0.cancelled }) {
                failure = "server stopping"
                break
            }
            if count < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR, errno != ECONNREFUSED {
                failure = "socket error: \(String(cString: strerror(errno)))"
                break
            }
            if count >= 0 {
                if source.sin_addr.s_addr != client.sin_addr.s_addr || source.sin_port != client.sin_port {
                    // RFC 1350: a packet from a foreign TID gets ERROR 5 and changes nothing.
                    send(TFTPPacket.error(code: .unknownTransferID, message: "Unknown transfer ID").encoded(), to: source)
                    continue
                }
                let packet: TFTPPacket?
                if count == 4, receive[0] == 0, receive[1] == 4 {   // ACKs are nearly every packet: no parsing
                    packet = .ack(block: UInt16(receive[2]) << 8 | UInt16(receive[3]))
                } else {
                    packet = try? TFTPPacket(parsing: Array(receive[0..<count]))
                }
                if let packet { failure = apply(transfer.handle(.received(packet, now: now))) }
            }
            if !ended, MonotonicClock.seconds >= deadline {
                deadline = .infinity
                failure = apply(transfer.handle(.timer(now: MonotonicClock.seconds)))
            }
        }
        finish(failure: failure, seconds: MonotonicClock.seconds - started)
    }

    /// Carries out the machine's actions; returns why the transfer failed, if it did.
    private func apply(_ actions: [ReadTransfer.Action]) -> String? {
        for action in actions {
            switch action {
            case .send(let packet):
                send(packet.encoded(), to: client)
            case .sendData(let block, let offset, let length):
                let read = sendBuffer.withUnsafeMutableBytes { buffer -> Int in
                    buffer[0] = 0
                    buffer[1] = 3
                    buffer[2] = UInt8(block >> 8)
                    buffer[3] = UInt8(block & 0xFF)
                    return length == 0 ? 0 : pread(file.descriptor, buffer.baseAddress! + 4, length, off_t(offset))
                }
                guard read == length else {
                    send(TFTPPacket.error(code: .notDefined, message: "Read error").encoded(), to: client)
                    ended = true
                    return "\(name) could not be read at \(offset) (changed while served?)"
                }
                sentBytes = max(sentBytes, offset + UInt64(length))
                _ = sendBuffer.withUnsafeBytes { DeviceSocket.send(socket, UnsafeRawBufferPointer(rebasing: $0[..<(4 + length)]), to: client) }
            case .wake(let at):
                deadline = at
            case .finished:
                ended = true
                return nil
            case .aborted(let reason):
                ended = true
                return reason
            }
        }
        return nil
    }

    private func send(_ bytes: [UInt8], to address: sockaddr_in) {
        _ = bytes.withUnsafeBytes { DeviceSocket.send(socket, $0, to: address) }
    }

    private func finish(failure: String?, seconds: Double) {
        lifecycle.withLockedValue { state in
            state.closed = true
            close(socket)
        }
        close(file.descriptor)
        let n = transfer.negotiation
        let options = "blksize \(n.blockSize)" + (n.windowSize > 1 ? " windowsize \(n.windowSize)" : "")
        if let failure {
            log("tftp: \(who): \(name) failed after \(sentBytes) of \(file.size) bytes: \(failure)")
        } else if sentBytes == 0 && file.size > 0 {
            log("tftp: \(who): \(name) size query answered (\(file.size) bytes, \(options))")
        } else {
            let rate = seconds > 0 ? Double(file.size) / seconds / 1_048_576 : 0
            log("tftp: \(who): sent \(name) (\(file.size) bytes, \(options), \(String(format: "%.2f", seconds)) s, \(String(format: "%.1f", rate)) MiB/s)")
        }
        onEnd(self)
    }
}

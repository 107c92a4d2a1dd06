import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NetworkNIO
import TFTP
#if canImport(Glibc)
import Glibc
#endif

/// A read-only TFTP server on one address (port 69 by default): each request gets its own
/// ephemeral port for the whole transfer (RFC 1350 TIDs) on any loop of the group, so many
/// clients are served at once on every core.
public final class TFTPService: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var files: ConfinedFiles
        public var address: IPv4Address
        public var port: UInt16 = 69
        /// The interface the sockets are confined to, and whose MTU caps `blksize`.
        public var interface: String?
        public var maximumWindow = 16
        /// A lab powers a few hundred PCs on at once; dnsmasq's 50 turns the 51st PXE ROM away
        /// (most do not retry), while a transfer costs only a descriptor and a socket here.
        public static let defaultMaximumTransfers = 256
        public var maximumTransfers = defaultMaximumTransfers
        /// Transfers one client address may run at once (boot loaders fetch one file at a time).
        public var maximumTransfersPerClient = 8
        public var maximumRetries = 5
        public var events: NetBootEvents?

        public init(files: ConfinedFiles, address: IPv4Address, interface: String?) {
            self.files = files
            self.address = address
            self.interface = interface
        }
    }

    let configuration: Configuration
    private let group: EventLoopGroup
    let log: ServiceLog
    private var listener: Channel?
    private let admission: NIOLockedValueBox<TFTPAdmission>
    private let running = NIOLockedValueBox<[TFTPTransferThread]>([])

    public init(configuration: Configuration, group: EventLoopGroup, log: @escaping ServiceLog) {
        self.configuration = configuration
        admission = NIOLockedValueBox(TFTPAdmission(maximumTotal: configuration.maximumTransfers,
                                                    maximumPerClient: configuration.maximumTransfersPerClient))
        self.group = group
        self.log = log
    }

    /// Binds the request port; returns it (useful with port 0 in tests).
    @discardableResult
    public func start() throws -> UInt16 {
        let c = configuration
        listener = try DeviceSocket.channel(address: c.address, port: c.port, device: c.interface,
                                            options: .init(receiveBufferBytes: DeviceSocket.Options.burstReceiveBuffer), on: group.next()) {
            DatagramInbox { [unowned self] bytes, source in
                self.request(bytes, from: source)
                return []
            }
        }.wait()
        let port = DeviceSocket.port(of: listener!)
        log("tftp: serving \(c.files.root)\(c.files.extraRoots.isEmpty ? "" : " (+ \(c.files.extraRoots.joined(separator: ", ")))") on \(c.address):\(port)")
        return port
    }

    /// Stops listening and ends the running transfers (each logs how far it got).
    public func stop() {
        try? listener?.close().wait()
        listener = nil
        for runner in running.withLockedValue({ $0 }) { runner.cancel() }
        for _ in 0..<200 where activeTransfers > 0 { usleep(10_000) }
    }

    public var activeTransfers: Int { admission.withLockedValue { $0.total } }

    private var pathMTU: Int {
        configuration.interface.flatMap(NetworkInterface.mtu(of:)) ?? 1500
    }

    private func request(_ bytes: [UInt8], from source: SocketAddress) {
        guard let client = source.ipv4 else { return }
        let who = "\(client.address):\(client.port)"
        let packet: TFTPPacket
        do {
            packet = try TFTPPacket(parsing: bytes)
        } catch {
            log("tftp: \(who): ignored: \(error)")
            return
        }
        switch packet {
        case .readRequest(let name, let mode, let options):
            let lower = mode.lowercased()
            guard lower == "octet" || lower == "netascii" else {
                return refuse(source, who: who, code: .illegalOperation, message: "Unsupported mode", reason: "mode \"\(mode)\"")
            }
            let relative: String
            switch TFTPRequestPath.normalise(name, rootPath: configuration.files.configuredRoot) {
            case .success(let path): relative = path
            case .failure(let refusal):
                return refuse(source, who: who, code: refusal.code, message: refusal.message, reason: "\(printable(name)): \(refusal)")
            }
            switch admission.withLockedValue({ $0.admit(client.address, port: client.port) }) {
            case .admitted: break
            case .duplicate: return   // the client repeated its request: its transfer answers it
            case .busy(let reason):
                return refuse(source, who: who, code: .notDefined, message: "Server busy, try again", reason: reason)
            }
            let release = { [admission] in admission.withLockedValue { $0.release(client.address, port: client.port) } }
            let file: ConfinedFiles.OpenFile
            switch configuration.files.open(relative) {
            case .success(let open): file = open
            case .failure(let refusal):
                release()
                let code: TFTPErrorCode = refusal == .notFound ? .fileNotFound : (refusal == .notRegularFile ? .notDefined : .accessViolation)
                let message = refusal == .notFound ? "File not found" : (refusal == .notRegularFile ? "Not a regular file" : "Access violation")
                return refuse(source, who: who, code: code, message: message, reason: "\(printable(name)): \(refusal)")
            }
            let negotiation = TFTPNegotiation(requested: options, fileSize: file.size, pathMTU: pathMTU, maximumWindow: configuration.maximumWindow)
            let transfer = ReadTransfer(fileSize: file.size, negotiation: negotiation, maximumRetries: configuration.maximumRetries)
            let socket: Int32
            do {
                socket = try DeviceSocket.make(address: configuration.address, port: 0, device: configuration.interface, options: .init(blocking: true))
            } catch {
                close(file.descriptor)
                release()
                return log("tftp: \(who): no transfer socket: \(error)")
            }
            let runner = TFTPTransferThread(transfer: transfer, socket: socket, file: file, name: relative, client: client, log: log) {
                [running] runner in
                running.withLockedValue { $0.removeAll { $0 === runner } }
                release()
            }
            running.withLockedValue { $0.append(runner) }
            runner.start()
            configuration.events?(.fileRequested(client: client.address, file: relative))
        case .writeRequest(let name, _, _):
            refuse(source, who: who, code: .accessViolation, message: "Read-only server", reason: "write request for \(printable(name))")
        default:
            log("tftp: \(who): ignored \(packet.kind) on the request port")
        }
    }

    /// Errors to a request come from a fresh port too, as a transfer's would.
    private func refuse(_ client: SocketAddress, who: String, code: TFTPErrorCode, message: String, reason: String) {
        log("tftp: \(who): refused (\(reason))")
        guard let to = client.ipv4,
              let socket = try? DeviceSocket.make(address: configuration.address, port: 0, device: configuration.interface, options: .init()) else { return }
        _ = TFTPPacket.error(code: code, message: message).encoded().withUnsafeBytes {
            DeviceSocket.send(socket, $0, to: to.address.sockaddr(port: to.port))
        }
        close(socket)
    }
}

func printable(_ name: String) -> String {
    "\"" + String(name.unicodeScalars.prefix(200).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }) + "\""
}

extension TFTPPacket {
    var kind: String {
        switch self {
        case .readRequest: return "RRQ"
        case .writeRequest: return "WRQ"
        case .data: return "DATA"
        case .ack: return "ACK"
        case .error: return "ERROR"
        case .optionAck: return "OACK"
        }
    }
}

import NetworkAddress

/// What the operator sees on `status` and the live page: each session's state and every client
/// seen, with the furthest phase it reached. A value fed events by the services (DHCP, TFTP,
/// HTTP, the multicast sessions or the seeder, the report listener); it reads no clock itself,
/// each event carries its time.
public struct FeederStatus: Codable, Equatable, Sendable {
    public enum Phase: String, Codable, Comparable, Sendable {
        case dhcp, tftp, jobFetched = "job fetched", imageFetched = "pseudo image fetched", receiving, done, failed

        var rank: Int {
            switch self {
            case .dhcp: 0
            case .tftp: 1
            case .jobFetched: 2
            case .imageFetched: 3
            case .receiving: 4
            case .done, .failed: 5
            }
        }

        public static func < (a: Phase, b: Phase) -> Bool { a.rank < b.rank }
    }

    public struct Client: Codable, Equatable, Sendable {
        public var address: String
        public var mac: String?
        public var phase: Phase
        /// The stream (1-based) the client takes part in while receiving.
        public var partition: String?
        public var bytes: UInt64 = 0
        public var bytesPerSecond: Double?
        public var detail: String?
        public var lastSeen: Double
    }

    public enum SessionState: String, Codable, Sendable { case pending, waiting, sending, done, failed }

    public struct Session: Codable, Equatable, Sendable {
        public var index: Int
        public var partition: String
        public var target: String
        public var port: Int
        public var state: SessionState = .pending
        public var receivers: [String] = []
        public var expectedReceivers: Int?
        public var bytes: UInt64 = 0
        public var totalBytes: UInt64
        public var bytesPerSecond: Double?
        public var startedAt: Double?
        public var detail: String?

        public init(index: Int, partition: String, target: String, port: Int, totalBytes: UInt64) {
            self.index = index
            self.partition = partition
            self.target = target
            self.port = port
            self.totalBytes = totalBytes
        }
    }

    public var image: String
    public var transport: String
    public var interface: String
    public var server: String
    public var dhcpMode: String
    public var startedAt: Double
    public var sessions: [Session] = []
    public var clients: [Client] = []

    public init(image: String, transport: String, interface: String, server: String, dhcpMode: String, startedAt: Double) {
        self.image = image
        self.transport = transport
        self.interface = interface
        self.server = server
        self.dhcpMode = dhcpMode
        self.startedAt = startedAt
    }

    public enum Event: Sendable {
        case leased(address: String, mac: String, at: Double)
        case bootFile(address: String, file: String, at: Double)
        case fetched(address: String, path: String, at: Double)
        case sessionWaiting(index: Int, receivers: [String], at: Double)
        case sessionProgress(index: Int, bytes: UInt64, receivers: [String], at: Double)
        case sessionEnded(index: Int, ok: Bool, detail: String, at: Double)
        case reported(address: String, mac: String, success: Bool, message: String, at: Double)
    }

    public mutating func apply(_ event: Event) {
        switch event {
        case .leased(let address, let mac, let at):
            update(address, at: at, phase: .dhcp) { $0.mac = mac }
        case .bootFile(let address, let file, let at):
            update(address, at: at, phase: .tftp) { $0.detail = file }
        case .fetched(let address, let path, let at):
            if path.hasSuffix("ocs-client-run.conf") { update(address, at: at, phase: .jobFetched) { _ in } }
            else if path.hasSuffix("img-wo-fs.tar.xz") { update(address, at: at, phase: .imageFetched) { _ in } }
            else if path.contains("squashfs") || path.contains("vmlinuz") || path.contains("initrd") { update(address, at: at, phase: .tftp) { $0.detail = path } }
        case .sessionWaiting(let index, let receivers, let at):
            guard sessions.indices.contains(index) else { return }
            sessions[index].state = .waiting
            sessions[index].receivers = receivers
            for receiver in receivers { join(receiver, session: index, at: at) }
        case .sessionProgress(let index, let bytes, let receivers, let at):
            guard sessions.indices.contains(index) else { return }
            var session = sessions[index]
            if session.state != .sending { session.startedAt = at }
            session.state = .sending
            session.receivers = receivers
            session.bytes = bytes
            if let started = session.startedAt, at > started { session.bytesPerSecond = Double(bytes) / (at - started) }
            sessions[index] = session
            for receiver in receivers {
                join(receiver, session: index, at: at)
                update(receiver, at: at, phase: .receiving) { $0.bytes = bytes; $0.bytesPerSecond = session.bytesPerSecond }
            }
        case .sessionEnded(let index, let ok, let detail, let at):
            guard sessions.indices.contains(index) else { return }
            sessions[index].state = ok ? .done : .failed
            sessions[index].detail = detail
            if let started = sessions[index].startedAt, at > started, ok { sessions[index].bytesPerSecond = Double(sessions[index].bytes) / (at - started) }
        case .reported(let address, let mac, let success, let message, let at):
            update(address, at: at, phase: success ? .done : .failed, force: true) {
                $0.mac = $0.mac ?? mac
                $0.detail = message
                $0.partition = nil
            }
        }
    }

    /// The session `start-now` would release.
    public var waitingSession: Int? { sessions.first { $0.state == .waiting }?.index }

    private mutating func join(_ address: String, session index: Int, at: Double) {
        let label = "\(sessions[index].target) (\(index + 1)/\(sessions.count))"
        update(address, at: at, phase: .receiving) { $0.partition = label }
    }

    private mutating func update(_ address: String, at: Double, phase: Phase, force: Bool = false, _ change: (inout Client) -> Void) {
        if let i = clients.firstIndex(where: { $0.address == address }) {
            var client = clients[i]
            if force || phase >= client.phase && client.phase != .done && client.phase != .failed { client.phase = phase }
            client.lastSeen = at
            change(&client)
            clients[i] = client
        } else {
            var client = Client(address: address, phase: phase, lastSeen: at)
            change(&client)
            clients.append(client)
            clients.sort { (IPv4Address($0.address)?.value ?? 0, $0.address) < (IPv4Address($1.address)?.value ?? 0, $1.address) }
        }
    }

}

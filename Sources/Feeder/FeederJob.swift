/// What `start` will do, decided from the command line before anything is started: the
/// transport, the DHCP mode, the restore task and the exact client job (contract §2.5, §3.2).
public struct FeederJob: Equatable, Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missing(String)
        case contradictory(String)
        case noHoldOption
        case notForThisClient(option: String, generation: String)

        public var exitCode: Int32 { 1 }

        public var description: String {
            switch self {
            case .missing(let what): return "ocs-live-feed-img: \(what)"
            case .contradictory(let what): return "ocs-live-feed-img: \(what)"
            case .noHoldOption: return "No time_to_wait, clients_to_wait or clients+time_to_wait option was found. Give --time-to-wait, --clients-to-wait or --max-time-to-wait."
            case .notForThisClient(let option, let generation):
                return "ocs-live-feed-img: \(option): the clients' ocs-sr (Clonezilla \(generation)) stops with \"invalid option\" on it; use --client-generation upstream if they are newer"
            }
        }
    }

    public let transport: FeederInvocation.Transport
    public let dhcpMode: String
    public let clientMode: FeederInvocation.ClientMode
    public let task: String
    public let conf: ClientRunConf?

    /// `imagePrefix`: the published image name when it is not the source word (from-device:
    /// the pseudo image's name).
    public init(_ invocation: FeederInvocation, imagePrefix: String? = nil) throws(Failure) {
        guard let transport = invocation.transport else { throw .missing("-md: choose multicast, broadcast or bittorrent") }
        guard let source = invocation.source else { throw .missing("name the image (or, with -mdst from-device, the source device)") }
        guard !invocation.destinations.isEmpty else { throw .missing("name the destination device(s) on the clients, e.g. sda") }
        let dhcpMode: String
        switch (invocation.dhcpMode, invocation.clientBootMode) {
        case (let mode?, .localBootMedia?) where mode != "no-dhcpd":
            throw .contradictory("-cbm local-boot-media boots clients from their own media; -dm \(mode) would answer netboot requests")
        case (let mode?, _): dhcpMode = mode
        case (nil, .localBootMedia?): dhcpMode = "no-dhcpd"
        case (nil, _): throw .missing("-dm: choose use-existing-dhcpd, start-new-dhcpd, auto-detect or no-dhcpd (or -cbm local-boot-media)")
        }
        if transport != .bittorrent, invocation.timeToWait == nil, invocation.clientsToWait == nil, invocation.maxTimeToWait == nil {
            throw .noHoldOption
        }
        if transport == .bittorrent, invocation.fullDuplex { throw .contradictory("-x (full duplex) is a multicast option; -md bittorrent has no streams") }
        if invocation.clientGeneration == .clonezilla5317,
           let unknown = invocation.forwarded.first(where: { FeederOptionTable.upstreamFlags.values.contains($0) && !FeederOptionTable.understoodBy5317.contains($0)
                                                           || FeederOptionTable.upstreamWithValue.values.contains($0) }) {
            throw .notForThisClient(option: unknown, generation: invocation.clientGeneration.rawValue)
        }
        let disk = invocation.destinations.first.map(Self.isWholeDisk) ?? true
        let kind = disk ? "restoredisk" : "restoreparts"
        self.transport = transport
        self.dhcpMode = dhcpMode
        clientMode = invocation.clientMode ?? .massiveDeployment
        task = (transport == .bittorrent ? "bt_" : "multicast_") + kind
        // 5.3.17: prefix + " " + (" " + token for each forwarded token, then -scr, then the port) + " " + task.
        var tokens = invocation.forwarded + ["-scr"]
        if transport != .bittorrent { tokens += ["--mcast-port", "2232"] }
        let options = ClientRunConf.optionPrefix + " " + tokens.map { " " + $0 }.joined() + " " + task
        conf = clientMode == .interactiveClient ? nil
            : ClientRunConf(imagePrefix: imagePrefix ?? source, ocsSrOptions: options, restoreDevices: invocation.destinations.joined(separator: " "))
    }

    /// A whole disk is a name that is its own disk (`sda`, `nvme0n1`, `mmcblk0`, `loop0`), or a
    /// reserved word meaning the image's disks; `sda1`, `nvme0n1p1`, `loop0p1` are partitions.
    public static func isWholeDisk(_ name: String) -> Bool {
        if ["all", "all-but-usb", "1st-disk"].contains(name) { return true }
        let body = name.hasPrefix("ocs-") ? String(name.dropFirst(4)) : name
        guard let first = body.first, first.isLetter else { return false }
        // Families whose disk names end in a digit mark partitions with "p<n>": nvme0n1p1, loop0p1.
        let chars = Array(body)
        if let p = chars.lastIndex(of: "p"), p > 0, chars[p - 1].isNumber, p + 1 < chars.count, chars[(p + 1)...].allSatisfy(\.isNumber) {
            return false
        }
        if chars.last?.isNumber == true {
            // sda1, vdb2: letters then digits are partitions; nvme0n1, mmcblk0, loop0, md0, nbd0
            // and the Clonezilla aliases ocs-sd0, ocs-nd0, ocs-md0 are disks.
            let family = String(chars.prefix { $0.isLetter })
            return ["nvme", "mmcblk", "loop", "md", "nbd"].contains(family) || (name.hasPrefix("ocs-") && ["sd", "md", "nd"].contains(family))
        }
        return chars.allSatisfy(\.isLetter)
    }
}

/// `ocs-live-feed-img [OPTION]... MODE [IMAGE|SRCDEV] [DEVICE]...` parsed the way the contract
/// (§2) describes it, without the original's bugs (§2.8): argv is never re-split, `-mp` takes
/// its value, an unknown `-dm` is an error, values bound for the clients are checked.
public struct FeederInvocation: Equatable, Sendable {
    public enum Mode: String, Sendable { case start, stop, status, startNow = "start-now" }
    public enum Transport: String, Sendable { case multicast, broadcast, bittorrent }
    public enum ClientBootMode: String, Sendable { case netboot, localBootMedia = "local-boot-media", both }
    public enum ClientMode: String, Sendable { case massiveDeployment = "massive-deployment", interactiveClient = "interactive-client" }
    public enum SourceType: String, Sendable { case fromImage = "from-image", fromDevice = "from-device" }
    public enum DeviceType: String, Sendable { case disk = "disk-2-mdisks", partitions = "part-2-mparts" }
    public enum SourceFsck: String, Sendable { case sfsck, fsck, fsckYes = "fsck-y" }
    /// Which `ocs-sr` the clients run: 5.3.17 (Debian's clonezilla) refuses newer options.
    public enum ClientGeneration: String, Sendable { case clonezilla5317 = "5.3.17", upstream }

    public var mode: Mode
    /// from-image: the image directory name; from-device: the source device (no `/dev/`).
    public var source: String?
    /// Destination devices on the clients (no `/dev/`), or a reserved word.
    public var destinations: [String] = []
    public var transport: Transport?
    public var dhcpMode: String?
    public var clientBootMode: ClientBootMode?
    public var clientMode: ClientMode?
    public var sourceType: SourceType?
    public var sourceImage: String?
    public var deviceType: DeviceType?
    public var sourceFsck: SourceFsck?
    public var timeToWait: Int?
    public var clientsToWait: Int?
    public var maxTimeToWait: Int?
    public var fullDuplex = false
    public var broadcastFlag = false
    public var interface: String?
    public var skipImageCheck = false
    public var imageRoot: String?
    public var batch = false
    public var verbose = false
    public var checkMD5 = false
    public var checkSHA1 = false
    public var checkB2 = false
    public var checkB3 = false
    public var foreground = false
    public var stateDirectory: String?
    public var logDirectory: String?
    public var configFile: String?
    /// The netboot tree (per-client local-boot files, and TFTP in the netboot DHCP modes).
    public var tftpRoot: String?
    /// The Clonezilla live medium the netboot clients boot (kernel, initrd, squashfs).
    public var liveMedia: String?
    public var clientGeneration = ClientGeneration.clonezilla5317
    /// Tokens for the client's `ocs-sr`, in command-line order (contract §2.4).
    public var forwarded: [String] = []
    /// Accepted for compatibility but meaningless here; said to the operator.
    public var warnings: [String] = []

    public init(mode: Mode) { self.mode = mode }
}

public enum FeederCommandLine {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case invalidOption(String)
        case missingValue(String)
        case badValue(option: String, value: String, expected: String, exitCode: Int32)
        case unsafeValue(option: String, value: String)
        case notForThisClient(option: String, generation: String)
        case rejected(option: String, why: String)
        case missingMode
        case unknownMode(String)
        case optionAfterMode(String)
        case askUser

        /// The original's codes: 2 for usage errors (unknown option, unknown `-dm`), 1 otherwise.
        public var exitCode: Int32 {
            switch self {
            case .invalidOption, .missingValue, .missingMode, .unknownMode, .optionAfterMode, .askUser, .rejected: return 2
            case .badValue(_, _, _, let code): return code
            case .unsafeValue, .notForThisClient: return 1
            }
        }

        public var description: String {
            switch self {
            case .invalidOption(let option): return "ocs-live-feed-img: \(option): invalid option"
            case .missingValue(let option): return "ocs-live-feed-img: \(option) needs a value"
            case .badValue(let option, let value, let expected, _): return "ocs-live-feed-img: \(option) \"\(value)\": expected \(expected)"
            case .unsafeValue(let option, let value):
                return "ocs-live-feed-img: \(option) \"\(value)\": clients run this value through their shell; use only letters, digits and / . _ - = : , +"
            case .notForThisClient(let option, let generation):
                return "ocs-live-feed-img: \(option): the clients' ocs-sr (Clonezilla \(generation)) stops with \"invalid option\" on it; use --client-generation upstream if they are newer"
            case .rejected(let option, let why): return "ocs-live-feed-img: \(option): \(why)"
            case .missingMode: return "ocs-live-feed-img: say start or stop (options come first)"
            case .unknownMode(let word): return "ocs-live-feed-img: \"\(word)\" is not start, stop, status or start-now"
            case .optionAfterMode(let word): return "ocs-live-feed-img: \(word): options must come before start/stop"
            case .askUser: return "ocs-live-feed-img: ask_user needs a terminal dialog; name the image and the devices"
            }
        }
    }

    static let safeCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-=:,+")
    static let dhcpModes = ["use-existing-dhcpd", "start-new-dhcpd", "auto-detect", "no-dhcpd"]

    public static func parse(_ arguments: [String]) throws(Failure) -> FeederInvocation {
        var settings = FeederInvocation(mode: .start)
        var index = 0
        /// The option's value: the next word unless it starts with `-` (the original's rule).
        func value(_ option: String) throws(Failure) -> String {
            guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("-"), !arguments[index + 1].isEmpty else {
                throw .missingValue(option)
            }
            index += 1
            return arguments[index]
        }
        func number(_ option: String) throws(Failure) -> Int {
            let text = try value(option)
            guard let n = Int(text), n >= 0 else { throw .badValue(option: option, value: text, expected: "a whole number", exitCode: 1) }
            return n
        }
        func choice<T: RawRepresentable>(_ option: String, _ type: T.Type, exitCode: Int32 = 1) throws(Failure) -> T where T.RawValue == String {
            let text = try value(option)
            guard let parsed = T(rawValue: text) else {
                throw .badValue(option: option, value: text, expected: Self.allValues(type), exitCode: exitCode)
            }
            return parsed
        }
        func safe(_ option: String, _ text: String) throws(Failure) -> String {
            guard !text.isEmpty, text.allSatisfy(safeCharacters.contains) else { throw .unsafeValue(option: option, value: text) }
            return text
        }

        var positional: [String] = []
        while index < arguments.count {
            let word = arguments[index]
            defer { index += 1 }
            guard positional.isEmpty else {
                guard !word.hasPrefix("-") else { throw .optionAfterMode(word) }
                positional.append(word)
                continue
            }
            guard word.hasPrefix("-") else {
                positional.append(word)
                continue
            }
            switch word {
            case "-md", "--massive-deploy-mode": settings.transport = try choice(word, FeederInvocation.Transport.self)
            case "-dm", "--dhcpd-mode":
                let mode = try value(word)
                guard dhcpModes.contains(mode) else {
                    throw .badValue(option: word, value: mode, expected: dhcpModes.joined(separator: ", "), exitCode: 2)
                }
                settings.dhcpMode = mode
            case "-cbm", "--client-boot-mode": settings.clientBootMode = try choice(word, FeederInvocation.ClientBootMode.self)
            case "-lscm", "--lite-srv-client-mode": settings.clientMode = try choice(word, FeederInvocation.ClientMode.self)
            case "-mdst", "--massive-deploy-source-type": settings.sourceType = try choice(word, FeederInvocation.SourceType.self)
            case "-mdst-img", "--massive-deploy-source-type-img": settings.sourceImage = try safe(word, try value(word))
            case "-bdt", "--bt-dev-type", "-cdt", "--cast-dev-type": settings.deviceType = try choice(word, FeederInvocation.DeviceType.self)
            case "-bsdf", "--bt-src-dev-fsck", "-csdf", "--cast-src-dev-fsck": settings.sourceFsck = try choice(word, FeederInvocation.SourceFsck.self)
            case "--time-to-wait": settings.timeToWait = try number(word)
            case "--clients-to-wait": settings.clientsToWait = try number(word)
            case "--max-time-to-wait":
                let seconds = try number(word)
                settings.maxTimeToWait = seconds
                settings.forwarded += ["--max-time-to-wait", String(seconds)]
            case "-x", "--full-duplex": settings.fullDuplex = true
            case "-brdcst", "--broadcast": settings.broadcastFlag = true
            case "-mcast-iface", "--mcast-iface", "-bt-iface", "--bt-iface": settings.interface = try value(word)
            case "-sc0", "--skip-check-restorable-on-srv": settings.skipImageCheck = true
            case "-mp", "--mount-point": settings.imageRoot = try value(word)   // B1: the image root, never forwarded
            case "-um", "--user-mode": _ = try value(word)
            case "--foreground": settings.foreground = true
            case "--state-dir": settings.stateDirectory = try value(word)
            case "--log-dir": settings.logDirectory = try value(word)
            case "--config": settings.configFile = try value(word)
            case "--tftp-root": settings.tftpRoot = try value(word)
            case "--live-media": settings.liveMedia = try value(word)
            case "--client-generation": settings.clientGeneration = try choice(word, FeederInvocation.ClientGeneration.self)
            case "-l", "--language":
                throw .rejected(option: word, why: "the clients' language is fixed by the job (ocs_sr_opt carries -l en_US.UTF-8)")
            case "-u", "--select-img-in-client":
                throw .rejected(option: word, why: "clients restore the image this server publishes; they do not pick one")
            default:
                if FeederOptionTable.ignoredFlags.contains(word) { continue }
                if FeederOptionTable.nfsFlags.contains(word) {
                    settings.warnings.append("\(word): there is no NFS in Lite mode; ignored")
                    continue
                }
                if word.hasPrefix("--debug=") {
                    guard Int(word.dropFirst(8)) != nil else { throw .badValue(option: "--debug", value: String(word.dropFirst(8)), expected: "a number", exitCode: 1) }
                    settings.forwarded.append(word)
                } else if let text = FeederOptionTable.forwardedFlags[word] {
                    if text == "--batch" { settings.batch = true }
                    if text == "-v" { settings.verbose = true }
                    if text == "-cm" { settings.checkMD5 = true }
                    if text == "-cs" { settings.checkSHA1 = true }
                    settings.forwarded.append(text)
                } else if let text = FeederOptionTable.forwardedWithValue[word] {
                    settings.forwarded += [text, try safe(word, try value(word))]
                } else if let text = FeederOptionTable.upstreamFlags[word] ?? FeederOptionTable.upstreamWithValue[word] {
                    if text == "-cb2" { settings.checkB2 = true }
                    if text == "-cb3" { settings.checkB3 = true }
                    settings.forwarded.append(text)
                    if FeederOptionTable.upstreamWithValue[word] != nil { settings.forwarded.append(try safe(word, try value(word))) }
                } else {
                    throw .invalidOption(word)
                }
            }
        }
        guard let modeWord = positional.first else { throw .missingMode }
        guard let mode = FeederInvocation.Mode(rawValue: modeWord) else { throw .unknownMode(modeWord) }
        settings.mode = mode
        let rest = positional.dropFirst().map { $0.hasPrefix("/dev/") ? String($0.dropFirst(5)) : $0 }
        guard !rest.contains("ask_user") else { throw .askUser }
        if let source = rest.first { settings.source = try safe("IMAGE", source) }
        settings.destinations = try rest.dropFirst().map { (word: String) throws(Failure) -> String in try safe("DEVICE", word) }
        return settings
    }

    static func allValues<T: RawRepresentable>(_ type: T.Type) -> String where T.RawValue == String {
        switch type {
        case is FeederInvocation.Transport.Type: return "multicast, broadcast or bittorrent"
        case is FeederInvocation.ClientBootMode.Type: return "netboot, local-boot-media or both"
        case is FeederInvocation.ClientMode.Type: return "massive-deployment or interactive-client"
        case is FeederInvocation.SourceType.Type: return "from-image or from-device"
        case is FeederInvocation.DeviceType.Type: return "disk-2-mdisks or part-2-mparts"
        case is FeederInvocation.SourceFsck.Type: return "sfsck, fsck or fsck-y"
        case is FeederInvocation.ClientGeneration.Type: return "5.3.17 or upstream"
        default: return "one of the documented values"
        }
    }
}

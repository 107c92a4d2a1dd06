/// The `ocs-sr` options a Lite Server forwards (contract §2.4, plus the job's own `--ocsroot`,
/// `-l`, `--mcast-port`, `-os`), interpreted instead of executed. Each is either honoured by the
/// native restore or recorded in `skipped` with the reason, so the log says what was not done.
public struct ClientRestoreOptions: Equatable, Sendable {
    /// What happens after the report: nothing, or the machine's own reboot or power-off.
    public enum PostAction: Equatable, Sendable {
        case none, reboot, poweroff
    }

    public var batch = false
    public var verbose = false
    public var noGUI = false
    /// `-k`: keep the target's partition table; `-k1`: proportional table (not done here).
    public var keepPartitionTable = false
    /// `-t`: no MBR boot code; `-t2`: no EBRs.
    public var skipBootCode = false
    public var skipEBR = false
    /// `-j2`: restore the hidden data between the MBR and the first partition.
    public var restoreHiddenData = false
    /// `-icds`: do not refuse a target smaller than the source disk.
    public var ignoreDiskSize = false
    /// `-icrc`: do not verify partclone's checksums.
    public var ignoreChecksums = false
    public var skipRestorableCheck = false
    public var postAction = PostAction.none
    public var multicastPort: UInt16?
    public var maxTimeToWait: Int?
    /// `-os`: where reports go (the job carries it only in some setups).
    public var server: String?
    /// Options that cannot apply on this machine, each with the reason (logged, never silent).
    public var skipped: [String] = []

    static let knownTasks: Set<String> = ["multicast_restoredisk", "multicast_restoreparts", "bt_restoredisk", "bt_restoreparts"]

    /// Options understood and ignored on purpose (they shape the original's UI or its
    /// internal tools, not the result): with the reason written to `skipped`.
    static let notApplicable: [String: String] = [
        "-k1": "proportional partition table (-k1) is not supported; the saved table is written",
        "-k2": "interactive partitioning (-k2) has no place in a batch restore; the saved table is written",
        "-r": "growing the file systems (-r) is not done by this client",
        "-g": "GRUB reinstallation (-g) is not done by this client",
        "-e": "CHS geometry (-e) is not used by this client",
        "-e1": "CHS geometry (-e1) is not used by this client",
        "-e2": "EDD geometry (-e2) is not used by this client",
        "-t1": "syslinux MBR (-t1) is not written; the image's boot code is",
        "-c": "confirmation (-c) is not asked in batch mode",
        "--rescue": "rescue mode (--rescue) is not supported: a read error stops the partition",
        "--rm-win-swap-hib": "removing Windows swap/hibernation files is not done",
        "-cmf": "per-file checksums inside the file systems are not checked",
        "--no-force-dma-on": "DMA settings are the kernel's",
        "--create-part-by-sfdisk": "the table is always written natively",
        "--create-part-by-dd": "the table is always written natively",
        "--dump-mbr-in-the-end": "the MBR boot code is written once, after the partitions",
        "--irvd": "Windows-specific post-processing is not done",
        "--irhr": "Windows-specific post-processing is not done",
        "--ius": "Windows-specific post-processing is not done",
        "--ignore-update-efi-nvram": "EFI NVRAM is never updated by this client",
        "--save-restore-error-log": "errors are always in the client's log",
        "-hn0": "host names are not changed by this client",
        "-hn1": "host names are not changed by this client",
        "--run-postrun-dir": "no scripts are run: the client never runs what the server sends",
        "--run-prerun-dir": "no scripts are run: the client never runs what the server sends",
        "--ntfs-progress-in-image-dir": "progress is shown by the client itself",
        "-cm": "checksum files are checked on the server",
        "-cs": "checksum files are checked on the server",
        "-cb2": "checksum files are checked on the server",
        "-cb3": "checksum files are checked on the server",
        "-ssnf": "the netboot-first NVRAM entry is never set by this client",
        "-iui": "the image's UI settings do not apply",
        "-d": "debug mode (-d) does not apply",
        "-w": "the wait time (-w) does not apply",
        "--mount-point": "the image is received, not mounted",
        "-l": "messages are in English",
        "--ocsroot": "the pseudo image is unpacked where the client chooses",
    ]

    static let takesValue: Set<String> = ["-p", "-g", "-e1", "-w", "--mount-point", "--max-time-to-wait", "-hn0", "-hn1",
                                          "--ocsroot", "-l", "--mcast-port", "-os"]

    public init() {}

    /// Parses the tokens of `ocs_sr_opt`; the task word is the last non-option token.
    static func parse(_ tokens: [String]) throws(ClientJob.Failure) -> (options: ClientRestoreOptions, task: String) {
        var options = ClientRestoreOptions()
        var task: String?
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            if token.isEmpty { continue }
            if Self.knownTasks.contains(token) {
                task = token
                continue
            }
            guard token.hasPrefix("-") else { throw .unknownOption(token) }
            var value: String?
            if Self.takesValue.contains(token) {
                guard index < tokens.count, !tokens[index].isEmpty else { throw .missingValue(token) }
                value = tokens[index]
                index += 1
            }
            switch token {
            case "--batch", "-b": options.batch = true
            case "-v", "--verbose": options.verbose = true
            case "--nogui", "-nogui": options.noGUI = true
            case "-k", "-k0": options.keepPartitionTable = token == "-k"
            case "-t": options.skipBootCode = true
            case "-t2": options.skipEBR = true
            case "--clone-hidden-data", "-j2": options.restoreHiddenData = true
            case "--ignore-chk-dsk-size-pt", "-icds": options.ignoreDiskSize = true
            case "--icrc", "-icrc": options.ignoreChecksums = true
            case "-scr", "-scs", "-sc": options.skipRestorableCheck = true
            case "-p":
                switch value! {
                case "true", "choose": options.postAction = .none
                case "reboot": options.postAction = .reboot
                case "poweroff", "shutdown": options.postAction = .poweroff
                default:
                    options.postAction = .none
                    options.skipped.append("-p \(value!): not run: the client never runs a command the server sends")
                }
            case "--mcast-port":
                guard let port = UInt16(value!), port > 0, port < 65535 else { throw .badValue(option: token, value: value!) }
                options.multicastPort = port
            case "--max-time-to-wait":
                guard let seconds = Int(value!), seconds >= 0 else { throw .badValue(option: token, value: value!) }
                options.maxTimeToWait = seconds
            case "-os": options.server = value
            default:
                if token.hasPrefix("--debug=") { continue }
                guard let reason = Self.notApplicable[token] else { throw .unknownOption(token) }
                if token != "--ocsroot" && token != "-l" { options.skipped.append("\(token)\(value.map { " " + $0 } ?? ""): \(reason)") }
            }
        }
        guard let task else { throw .noTask(tokens.joined(separator: " ")) }
        return (options, task)
    }
}

import ClonezillaImage

/// The `ocs-sr` restore options the engine honours.
public struct RestoreOptions: Sendable {
    /// `-b`: never ask; plain log lines instead of a live progress line.
    public var batch = false
    /// `-k`: keep the target's partition table and restore into its partitions.
    public var keepPartitionTable = false
    /// `-t`: leave the MBR boot code (bytes 0–445) alone.
    public var skipBootCode = false
    /// `-j2`: write the data between the MBR and the first partition.
    public var restoreHiddenData = false
    /// `-cm -cs -cb2 -cb3`: checksum files to verify before anything is written.
    public var checksumChecks: [ChecksumFile.Kind] = []
    /// `-icds`: do not require the target to be as large as the source disk / partition.
    public var ignoreDiskSize = false
    /// `-scr`: skip reading every partclone header before writing.
    public var skipRestorableCheck = false
    /// `-v`
    public var verbose = false

    public init() {}
}

/// Where the engine reports what it does.
public struct RestoreLog: Sendable {
    public var info: @Sendable (String) -> Void
    public var verbose: @Sendable (String) -> Void
    public var liveProgress: Bool

    public init(info: @escaping @Sendable (String) -> Void, verbose: @escaping @Sendable (String) -> Void, liveProgress: Bool) {
        self.info = info
        self.verbose = verbose
        self.liveProgress = liveProgress
    }

    public static let silent = RestoreLog(info: { _ in }, verbose: { _ in }, liveProgress: false)
}

/// The option words of `ocs-live-feed-img` (contract §2.3, §2.4), as data: what the feeder
/// consumes, what it forwards to the client's `ocs-sr` and with which exact text.
enum FeederOptionTable {
    /// Forwarded flags: every spelling → the exact text appended to `ocs_sr_opt` (5.3.17).
    static let forwardedFlags: [String: String] = {
        var table: [String: String] = [:]
        func add(_ spellings: [String], _ text: String) { for spelling in spellings { table[spelling] = text } }
        add(["-b", "--batch"], "--batch")
        add(["-a", "--no-force-dma-on"], "--no-force-dma-on")
        add(["-k", "--no-fdisk", "--no-create-partition"], "-k")
        add(["-k0"], "-k0")
        add(["-k1", "--fdisk-proportion"], "-k1")
        add(["-k2", "--fdisk-manual"], "-k2")
        add(["-t", "--no-restore-mbr"], "-t")
        add(["-t1", "--restore-raw-mbr"], "-t1")
        add(["-t2", "--no-restore-ebr"], "-t2")
        add(["-e", "--load-geometry"], "-e")
        add(["-e2", "--load-geometry-from-edd"], "-e2")
        add(["-c", "--confirm"], "-c")
        add(["-d", "--debug-mode"], "-d")
        add(["-r", "--resize-partition"], "-r")
        add(["-v", "--verbose"], "-v")
        add(["-nogui", "--nogui"], "--nogui")
        add(["-rm-win-swap-hib", "--rm-win-swap-hib"], "--rm-win-swap-hib")
        add(["-rescue", "--rescue"], "--rescue")
        add(["-j", "--create-part-by-sfdisk"], "--create-part-by-sfdisk")
        add(["-j0", "--create-part-by-dd"], "--create-part-by-dd")
        add(["-j1", "--dump-mbr-in-the-end"], "--dump-mbr-in-the-end")
        add(["-j2", "--clone-hidden-data"], "--clone-hidden-data")
        add(["-icrc", "--icrc"], "--icrc")
        add(["-irvd", "--irvd"], "--irvd")
        add(["-irhr", "--irhr"], "--irhr")
        add(["-ius", "--ius"], "--ius")
        add(["-icds", "--ignore-chk-dsk-size-pt"], "--ignore-chk-dsk-size-pt")
        add(["-iefi", "--ignore-update-efi-nvram"], "--ignore-update-efi-nvram")
        add(["-srel", "--save-restore-error-log"], "--save-restore-error-log")
        add(["-o", "-o1", "--run-postrun-dir"], "--run-postrun-dir")
        add(["-o0", "--run-prerun-dir"], "--run-prerun-dir")
        add(["-ns", "--ntfs-progress-in-image-dir"], "--ntfs-progress-in-image-dir")
        add(["-cm", "--check-md5sum"], "-cm")
        add(["-cs", "--check-sha1sum"], "-cs")
        add(["-cmf", "--chk-chksum-for-files-in-dev"], "-cmf")
        add(["-sc", "-scs", "--skip-check-restorable", "--skip-check-restorable-s"], "-scs")
        add(["-scr", "--skip-check-restorable-r"], "-scr")
        return table
    }()

    /// Forwarded options with a value: every spelling → the text before the value.
    static let forwardedWithValue: [String: String] = {
        var table: [String: String] = [:]
        func add(_ spellings: [String], _ text: String) { for spelling in spellings { table[spelling] = text } }
        add(["-p", "--postaction"], "-p")
        add(["-g", "--grub-install"], "-g")
        add(["-e1", "--change-geometry"], "-e1")
        add(["-w", "--wait-time"], "-w")
        add(["-hn0"], "-hn0")
        add(["-hn1"], "-hn1")
        return table
    }()

    /// Options only newer clients know (the 5.3.17 client's ocs-sr stops on them); the 5.3.17
    /// client does accept `-ssnf` and `-iui`.
    static let upstreamFlags: [String: String] = [
        "-cb2": "-cb2", "-cb": "-cb2", "--check-b2sum": "-cb2", "-cb3": "-cb3", "--check-b3sum": "-cb3",
        "-edio": "-edio", "--enable-direct-io": "-edio", "-smtd": "-smtd", "-smmcb": "-smmcb", "-rmtd": "-rmtd",
        "-rmmcb": "-rmmcb", "-uoab": "-uoab", "--use-ocs-alias-blkdev": "-uoab",
        "-ssnf": "-ssnf", "--skip-set-netboot-first": "-ssnf", "-iui": "-iui",
    ]
    static let upstreamWithValue: [String: String] = ["-dblk": "-dblk", "--decrypt-bitlocker": "-dblk"]
    static let understoodBy5317: Set<String> = ["-ssnf", "-iui"]

    /// Feeder-only flags that change nothing here (dialog level and program, hardware detection,
    /// the live-system check: LiteServer has no dialogs and needs no live system).
    static let ignoredFlags: Set<String> = ["-icol", "--ignore-check-ocs-live", "-s", "--skip-hw-detect", "-bm", "--beginner-mode",
                                            "-em", "--expert-mode", "-d0", "-d1", "-d2", "-d3", "-d4", "--dialog", "--Xdialog",
                                            "--whiptail", "--gdialog", "--kdialog"]
    /// Documented NFS options: there is no NFS in Lite mode (contract §2.7).
    static let nfsFlags: Set<String> = ["-n", "--no-nfs-restart", "-f", "--nfs-restart"]
}

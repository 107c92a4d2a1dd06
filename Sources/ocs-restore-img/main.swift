import ArgumentParser
import ClonezillaImage
import Foundation
import Restore

/// `ocs-restore-img`: restore a Clonezilla image directory onto disks, partitions or image
/// files, with ocs-sr's option names and without partclone, zstd or gzip processes.
struct RestoreImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocs-restore-img",
        abstract: "Restore a Clonezilla image onto a block device or an image file.",
        discussion: """
            restoredisk IMAGE TARGET...: one target (a disk, or a whole-disk image file) per disk in the image.

            restoreparts IMAGE PART[,PART] TARGET...: one target (a partition, or a file) per listed partition.

            IMAGE is a directory path, or a name under --ocsroot. A missing target file is created with the source disk's (or partition's) size; an existing one is never truncated. Options may come before or after the mode and are spelled as ocs-sr spells them (-k, -t, -j2, -cm, -icds, ...).

            Exit status: 0 when every partition was restored and verified, 1 on any error (the message names the file, partition or device).
            """)

    @Argument(help: "restoredisk or restoreparts") var mode: String
    @Argument(help: "The image directory, or its name under --ocsroot.") var image: String
    @Argument(help: "restoredisk: TARGET...; restoreparts: PART[,PART] TARGET...") var rest: [String] = []

    @Flag(name: [.customShort("b"), .customLong("batch")], help: "Batch mode: no questions, plain log lines.") var batch = false
    @Flag(name: [.customShort("k"), .customLong("no-create-partition")], help: "Keep the target's partition table.") var keepTable = false
    @Flag(name: [.customShort("t"), .customLong("no-restore-mbr")], help: "Do not write the MBR boot code.") var skipMBR = false
    @Flag(name: [.customLong("j2", withSingleDash: true), .customLong("clone-hidden-data")], help: "Restore the data between the MBR and the first partition.") var hiddenData = false
    @Flag(name: [.customLong("cm", withSingleDash: true), .customLong("check-md5sum")], help: "Verify MD5SUMS before writing.") var checkMD5 = false
    @Flag(name: [.customLong("cs", withSingleDash: true), .customLong("check-sha1sum")], help: "Verify SHA1SUMS before writing.") var checkSHA1 = false
    @Flag(name: [.customLong("cb2", withSingleDash: true), .customLong("cb", withSingleDash: true), .customLong("check-b2sum")], help: "Verify B2SUMS before writing.") var checkB2 = false
    @Flag(name: [.customLong("cb3", withSingleDash: true), .customLong("check-b3sum")], help: "Verify B3SUMS before writing.") var checkB3 = false
    @Flag(name: [.customLong("icds", withSingleDash: true), .customLong("ignore-chk-dsk-size-pt")], help: "Skip the target-size checks.") var ignoreDiskSize = false
    @Flag(name: [.customLong("scr", withSingleDash: true), .customLong("skip-check-restorable-r")], help: "Skip reading the image headers before writing.") var skipRestorable = false
    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Log every step.") var verbose = false
    @Option(name: .customLong("ocsroot"), help: "Where image names are looked up.") var ocsroot = "/home/partimag"

    func run() throws {
        var options = RestoreOptions()
        options.batch = batch
        options.keepPartitionTable = keepTable
        options.skipBootCode = skipMBR
        options.restoreHiddenData = hiddenData
        options.checksumChecks = [(checkMD5, ChecksumFile.Kind.md5), (checkSHA1, .sha1), (checkB2, .blake2), (checkB3, .blake3)]
            .filter(\.0).map(\.1)
        options.ignoreDiskSize = ignoreDiskSize
        options.skipRestorableCheck = skipRestorable
        options.verbose = verbose

        let live = !batch && isatty(STDERR_FILENO) == 1
        let log = RestoreLog(info: { say($0) }, verbose: { line in if verbose { say(line) } }, liveProgress: live)
        let engine = RestoreEngine(options: options, log: log)
        let imagePath = resolveImage()
        do {
            switch mode {
            case "restoredisk":
                guard !rest.isEmpty else { throw ValidationError("restoredisk needs a TARGET") }
                try confirm(targets: rest)
                try engine.restoreDisk(imageDirectory: imagePath, targets: rest)
            case "restoreparts":
                guard rest.count >= 2 else { throw ValidationError("restoreparts needs PART[,PART] and a TARGET for each") }
                let parts = rest[0].split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
                try confirm(targets: Array(rest.dropFirst()))
                try engine.restoreParts(imageDirectory: imagePath, partitions: parts, targets: Array(rest.dropFirst()))
            default:
                throw ValidationError("unknown mode \"\(mode)\" (restoredisk or restoreparts)")
            }
        } catch let error as RestoreError {
            say("ocs-restore-img: error: \(error)")
            throw ExitCode(1)
        }
    }

    private func resolveImage() -> String {
        if image.contains("/") || FileManager.default.fileExists(atPath: image) { return image }
        return ocsroot + "/" + image
    }

    /// Interactive runs that would overwrite a block device ask first, as ocs-sr does without -b.
    private func confirm(targets: [String]) throws {
        guard !batch, isatty(STDIN_FILENO) == 1 else { return }
        let devices = targets.filter { (try? RestoreTarget.inspect($0).isBlock) == true }
        guard !devices.isEmpty else { return }
        FileHandle.standardError.write(Data("All data on \(devices.joined(separator: ", ")) will be overwritten. Continue? [y/N] ".utf8))
        guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
            say("ocs-restore-img: cancelled")
            throw ExitCode(1)
        }
    }
}

func say(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

RestoreImageCommand.main()

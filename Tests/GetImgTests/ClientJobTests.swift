import Feeder
import Testing
@testable import GetImg

@Suite struct ClientJobTests {
    static let real = """
        pseudo_img="img-wo-fs.tar.xz"
        img_prefix="cz-e2e-img"
        ocs_sr_opt="--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr --mcast-port 2232 multicast_restoredisk"
        ocs_restore_dev="loop0"

        """

    @Test func theRealFeedersFileIsReadAsData() throws {
        let job = try ClientJob(parsing: Self.real)
        #expect(job.pseudoImage == "img-wo-fs.tar.xz" && job.imagePrefix == "cz-e2e-img" && job.restoreDevices == ["loop0"])
        #expect(job.transport == .multicast && job.wholeDisks)
        #expect(job.options.batch && job.options.skipRestorableCheck && job.options.multicastPort == 2232 && job.options.skipped.isEmpty)
    }

    /// Every row of the contract's table (§3.2), as our feeder renders it.
    @Test func everyPublishedFormParses() throws {
        let rows: [(String, ClientJob.Transport, Bool)] = [
            ("--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr --mcast-port 2232 multicast_restoredisk", .multicast, true),
            ("--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch --nogui -p true -scr --mcast-port 2232 multicast_restoredisk", .multicast, true),
            ("--ocsroot /tmp/ -l en_US.UTF-8 --batch  -g auto -e1 auto -e2 -r --clone-hidden-data -k0 -p true -scr --mcast-port 2232 multicast_restoredisk", .multicast, true),
            ("--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr --mcast-port 2232 multicast_restoreparts", .multicast, false),
            ("--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr bt_restoredisk", .bittorrent, true),
            ("--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr bt_restoreparts", .bittorrent, false),
        ]
        for (options, transport, disks) in rows {
            let text = try ClientRunConf(imagePrefix: "img", ocsSrOptions: options, restoreDevices: "sda").rendered()
            let job = try ClientJob(parsing: text)
            #expect(job.transport == transport && job.wholeDisks == disks, "\(options)")
        }
        let hidden = try ClientJob(parsing: try ClientRunConf(imagePrefix: "i", ocsSrOptions: rows[2].0, restoreDevices: "sda").rendered())
        #expect(hidden.options.restoreHiddenData && !hidden.options.keepPartitionTable && hidden.options.postAction == .none)
        #expect(hidden.options.skipped.map { $0.split(separator: ":")[0] } == ["-g auto", "-e1 auto", "-e2", "-r"], "said, not silently ignored")
    }

    @Test func lenientFormsTheRealClientAlsoAccepts() throws {
        let job = try ClientJob(parsing: "# job\r\npseudo_img=img-wo-fs.tar.xz\r\n\r\nocs_sr_opt=\"--batch -p reboot -icds -t --max-time-to-wait 60 multicast_restoreparts\"\r\nocs_restore_dev=\"/dev/sda1 /dev/sda2\"\r\n")
        #expect(job.imagePrefix == "ocs-img", "the real client's default")
        #expect(job.restoreDevices == ["sda1", "sda2"] && !job.wholeDisks)
        #expect(job.options.postAction == .reboot && job.options.ignoreDiskSize && job.options.skipBootCode && job.options.maxTimeToWait == 60)
    }

    @Test func shellCodeAndUnknownThingsAreRefused() {
        let cases: [(String, ClientJob.Failure)] = [
            ("pseudo_img=\"x\"\nocs_sr_opt=\"$(reboot) multicast_restoredisk\"\n", .unsafeValue(name: "ocs_sr_opt", value: "$(reboot) multicast_restoredisk")),
            ("pseudo_img=\"x\"\nocs_sr_opt=\"--batch multicast_restoredisk\"; rm -rf /\n", .unsafeValue(name: "ocs_sr_opt", value: "\"--batch multicast_restoredisk\"; rm -rf /")),
            ("pseudo_img=`id`\nocs_sr_opt=\"multicast_restoredisk\"\n", .unsafeValue(name: "pseudo_img", value: "`id`")),
            ("pseudo_img=\"x\"\nocs_sr_opt=\"a\\\\b multicast_restoredisk\"\n", .unsafeValue(name: "ocs_sr_opt", value: "a\\\\b multicast_restoredisk")),
            ("pseudo_img=\"x\"\nocs_sr_opt='multicast_restoredisk'\n", .unsafeValue(name: "ocs_sr_opt", value: "'multicast_restoredisk'")),
            ("pseudo_img=\"x\"\nPATH=\"/tmp\"\n", .unknownName(line: 2, name: "PATH")),
            ("pseudo_img=\"x\"\nreboot\n", .malformedLine(line: 2, text: "reboot")),
            ("pseudo_img=\"x\"\nocs_sr_opt=\"--batch --bogus multicast_restoredisk\"\n", .unknownOption("--bogus")),
            ("pseudo_img=\"x\"\nocs_sr_opt=\"--batch multicast_restoredisk cat\"\n", .unknownOption("cat")),
            ("pseudo_img=\"x\"\nocs_sr_opt=\"--batch --mcast-port\"\n", .missingValue("--mcast-port")),
            ("pseudo_img=\"x\"\nocs_sr_opt=\"--mcast-port 99999 multicast_restoredisk\"\n", .badValue(option: "--mcast-port", value: "99999")),
            ("pseudo_img=\"x\"\nocs_sr_opt=\"--batch -scr\"\n", .noTask("--batch -scr")),
            ("ocs_sr_opt=\"multicast_restoredisk\"\n", .missing("pseudo_img")),
            ("pseudo_img=\"../../etc/passwd\"\nocs_sr_opt=\"multicast_restoredisk\"\n", .unsafeValue(name: "pseudo_img", value: "../../etc/passwd")),
            ("pseudo_img=\"x\"\nimg_prefix=\"..\"\nocs_sr_opt=\"multicast_restoredisk\"\n", .unsafeValue(name: "img_prefix", value: "..")),
        ]
        for (text, failure) in cases {
            #expect(throws: failure, "\(text)") { try ClientJob(parsing: text) }
        }
        let custom = try? ClientJob(parsing: "pseudo_img=\"x\"\nocs_sr_opt=\"-p /sbin/evil multicast_restoredisk\"\n")
        #expect(custom?.options.postAction == ClientRestoreOptions.PostAction.none && custom?.options.skipped.first?.contains("never runs a command") == true)
    }

    /// Random bytes and mutations of a real file: a job or a typed refusal, never a trap.
    @Test func randomInputNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("pseudo_img=\"ocs_sr_opt multicast_restoredisk -p $`\\'#\r\n\t -- =x/.".utf8)
        for round in 0..<20_000 {
            var bytes = Array(Self.real.utf8)
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            } else {
                for _ in 0..<Int.random(in: 1..<6, using: &generator) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = alphabet.randomElement(using: &generator)!
                }
            }
            if let job = try? ClientJob(parsing: String(decoding: bytes, as: UTF8.self)) {
                #expect(!job.pseudoImage.contains("$") && !job.imagePrefix.contains("/"))
            }
        }
    }
}

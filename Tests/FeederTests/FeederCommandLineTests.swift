import Testing
@testable import Feeder

@Suite struct FeederCommandLineTests {
    func job(_ line: String) throws -> FeederJob {
        try FeederJob(try FeederCommandLine.parse(line.split(separator: " ").map(String.init)))
    }

    /// The contract's table of exact `ocs_sr_opt` strings (two spaces after the first --batch).
    @Test(arguments: [
        ("-b -md multicast --clients-to-wait 1 -dm no-dhcpd start img sda", "--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr --mcast-port 2232 multicast_restoredisk"),
        ("-md multicast --time-to-wait 30 -dm no-dhcpd start img sda", "--ocsroot /tmp/ -l en_US.UTF-8 --batch  -scr --mcast-port 2232 multicast_restoredisk"),
        ("-b -md multicast --clients-to-wait 2 -dm no-dhcpd -nogui -p true start img sda", "--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch --nogui -p true -scr --mcast-port 2232 multicast_restoredisk"),
        ("-md multicast --clients-to-wait 2 -dm no-dhcpd -g auto -e1 auto -e2 -r -j2 -k0 -p true start img sda", "--ocsroot /tmp/ -l en_US.UTF-8 --batch  -g auto -e1 auto -e2 -r --clone-hidden-data -k0 -p true -scr --mcast-port 2232 multicast_restoredisk"),
        ("-b -md multicast --clients-to-wait 1 -dm no-dhcpd start img sda1", "--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr --mcast-port 2232 multicast_restoreparts"),
        ("-b -md bittorrent -dm no-dhcpd start img sda", "--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr bt_restoredisk"),
        ("-b -md bittorrent -dm no-dhcpd start img sda1", "--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr bt_restoreparts"),
        ("-b -md broadcast --max-time-to-wait 60 -dm no-dhcpd start img nvme0n1", "--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch --max-time-to-wait 60 -scr --mcast-port 2232 multicast_restoredisk"),
    ])
    func ocsSrOptionsAreByteForByte(_ line: String, _ expected: String) throws {
        #expect(try job(line).conf?.ocsSrOptions == expected)
    }

    /// A complete file as the real feeder wrote it in the measured run.
    @Test func theConfFileIsTheRealFeedersFile() throws {
        let conf = try #require(try job("-b -md multicast --clients-to-wait 1 -cbm local-boot-media start cz-e2e-img /dev/loop0").conf)
        #expect(try conf.rendered() == """
            pseudo_img="img-wo-fs.tar.xz"
            img_prefix="cz-e2e-img"
            ocs_sr_opt="--ocsroot /tmp/ -l en_US.UTF-8 --batch  --batch -scr --mcast-port 2232 multicast_restoredisk"
            ocs_restore_dev="loop0"

            """)
        #expect(try ClientRunConf(parsing: try conf.rendered()) == conf)
        #expect(throws: ClientRunConf.Failure.self) { try ClientRunConf(parsing: "pseudo_img=\"x\"\nimg_prefix=\"$(reboot)\"\nocs_sr_opt=\"a\"\nocs_restore_dev=\"sda\"\n") }
        #expect(throws: ClientRunConf.Failure.self) { try ClientRunConf(parsing: "img_prefix=\"x\"\n") }
    }

    @Test func usageErrorsExitLikeTheOriginal() {
        func failure(_ line: String) -> FeederCommandLine.Failure? {
            do { _ = try FeederCommandLine.parse(line.split(separator: " ").map(String.init)); return nil } catch { return error }
        }
        #expect(failure("--bogus start img sda") == .invalidOption("--bogus"))
        #expect(failure("--bogus start img sda")?.exitCode == 2)
        #expect(failure("--bogus start")?.description == "ocs-live-feed-img: --bogus: invalid option")
        #expect(failure("-dm dhcp start img sda")?.exitCode == 2, "unknown -dm: 2, not the original's 0 (B3)")
        #expect(failure("-md unicast start img sda")?.exitCode == 1)
        #expect(failure("-p -b start img sda") == .missingValue("-p"))
        #expect(failure("start img sda -b") == .optionAfterMode("-b"))
        #expect(failure("-b") == .missingMode)
        #expect(failure("begin img sda") == .unknownMode("begin"))
        #expect(failure("start ask_user sda") == .askUser)
        #expect(failure("-l zh_TW.UTF-8 start img sda")?.exitCode == 2)
        // B2: argv is not re-split, and values bound for a client shell are checked.
        #expect(throws: FeederCommandLine.Failure.unsafeValue(option: "-p", value: "poweroff -f")) {
            try FeederCommandLine.parse(["-p", "poweroff -f", "start", "img", "sda"])
        }
        #expect(throws: FeederCommandLine.Failure.self) { try FeederCommandLine.parse(["start", "img;reboot", "sda"]) }
    }

    @Test func feederOnlyOptionsAndCompatibilityWords() throws {
        let invocation = try FeederCommandLine.parse("-mp /srv/images -x -brdcst -sc0 -icol -n -mcast-iface eth1 -md multicast --time-to-wait 10 -dm start-new-dhcpd stop".split(separator: " ").map(String.init))
        #expect(invocation.mode == .stop && invocation.imageRoot == "/srv/images", "B1: -mp takes its value and is not forwarded")
        #expect(invocation.fullDuplex && invocation.broadcastFlag && invocation.skipImageCheck && invocation.interface == "eth1")
        #expect(invocation.forwarded.isEmpty && invocation.warnings.count == 1)
        #expect(try FeederCommandLine.parse(["-cm", "-cs", "start", "i", "sda"]).checkMD5)
    }

    @Test func startRulesAndClientGenerations() throws {
        #expect(throws: FeederJob.Failure.noHoldOption) { try job("-md multicast -dm no-dhcpd start img sda") }
        #expect(throws: FeederJob.Failure.self) { try job("-md multicast --time-to-wait 5 start img sda") }   // no -dm, no -cbm
        #expect(throws: FeederJob.Failure.self) { try job("-md multicast --time-to-wait 5 -cbm local-boot-media -dm start-new-dhcpd start img sda") }
        #expect(throws: FeederJob.Failure.notForThisClient(option: "-cb3", generation: "5.3.17")) { try job("-cb3 -md bittorrent -dm no-dhcpd start img sda") }
        #expect(try job("-cb3 --client-generation upstream -md bittorrent -dm no-dhcpd start img sda").conf?.ocsSrOptions.contains(" -cb3 -scr") == true)
        #expect(try job("-ssnf -md bittorrent -dm no-dhcpd start img sda").conf != nil, "5.3.17 knows -ssnf")
        #expect(try job("-lscm interactive-client -md bittorrent -dm start-new-dhcpd start img sda").conf == nil, "no job in interactive-client mode")
        for (name, disk) in [("sda", true), ("sda1", false), ("nvme0n1", true), ("nvme0n1p2", false), ("mmcblk0", true), ("mmcblk0p1", false),
                             ("loop0", true), ("loop0p1", false), ("all", true), ("vda", true), ("md0", true), ("ocs-sd0", true), ("ocs-nd0p1", false)] {
            #expect(FeederJob.isWholeDisk(name) == disk, "\(name)")
        }
    }
}

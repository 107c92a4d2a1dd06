import Testing
import TestSupport
@testable import NetBoot

@Suite struct BootParametersTests {
    @Test func parseSetAndRender() throws {
        var line = try BootParameters(parsing: #"boot=live  quiet locales= ocs_live_run="ocs-live-general" x='a b' "#)
        #expect(line.parameters.map(\.key) == ["boot", "quiet", "locales", "ocs_live_run", "x"])
        #expect(line.value(of: "locales") == "" && line.value(of: "quiet") == nil && line.value(of: "x") == "a b")
        line.set("locales", "en_US.UTF-8")
        line.set("new", "1")
        line.set("ocs_live_run", "ocs-live-get-img 10.0.0.1", quoted: true)
        #expect(line.description == #"boot=live quiet locales=en_US.UTF-8 ocs_live_run="ocs-live-get-img 10.0.0.1" x="a b" new=1"#)
        line.remove { $0.key == "quiet" }
        #expect(!line.contains("quiet"))
        var twice = try BootParameters(parsing: "a=1 b a=2")
        twice.set("a", "3")
        #expect(twice.description == "a=3 b")
        #expect(throws: BootParameters.Failure.unterminatedQuote(#"a="b"#)) { try BootParameters(parsing: #"a="b"#) }
    }

    @Test func charactersNoLoaderCarriesAreRefused() throws {
        for bad in [#"a=x\"y"#, "a=$HOME", "a=x;y", "a=b{c}"] {
            var line = BootParameters()
            let parts = bad.split(separator: "=", maxSplits: 1)
            line.set(String(parts[0]), String(parts[1]))
            #expect(throws: BootParameters.Failure.self) { try line.validated() }
        }
    }

    /// The doc's worked example (DRBL's own sample `live-default` line, massive deployment).
    @Test func drblCompositionOfTheLiveMediumLine() throws {
        var entry = LiveBootEntry(server: IPv4Address(10, 77, 0, 1))
        entry.keyboardLayout = "us"
        entry.liveDefaultLine = #"$linux_cmd /live/vmlinuz boot=live union=overlay username=user config components quiet noswap edd=on nomodeset enforcing=0 locales= keyboard-layouts= ocs_live_run="ocs-live-general" ocs_live_extra_param="" ocs_live_batch="no" vga=788 ip= net.ifnames=0 splash i915.blacklist=yes radeonhd.blacklist=yes nouveau.blacklist=yes vmwgfx.enable_fbdev=1"#
        #expect(try entry.parameters().pxelinux == #"boot=live union=overlay username=user config components quiet noswap edd=on nomodeset enforcing=0 locales=en_US.UTF-8 keyboard-layouts=us ocs_live_run="ocs-live-get-img 10.77.0.1" ocs_live_extra_param= ocs_live_batch=no net.ifnames=0 splash noeject fetch=http://10.77.0.1/Clonezilla-live-filesystem.squashfs ocs_server="10.77.0.1" hostname=lite-client ethdevice-link-timeout=7"#)
    }

    /// Without a live-default entry: the line that booted in the harness (plus its console).
    @Test func drblDefaultLineWithExtraParameters() throws {
        var entry = LiveBootEntry(server: IPv4Address(10, 77, 0, 1))
        entry.keyboardLayout = "us"
        entry.extra = try BootParameters(parsing: "console=ttyS0,115200 panic=-1")
        #expect(try entry.parameters().pxelinux == #"boot=live union=overlay noswap noeject nolocales vga=788 fetch=http://10.77.0.1/Clonezilla-live-filesystem.squashfs ocs_server="10.77.0.1" keyboard-layouts=us locales=en_US.UTF-8 ocs_live_run="ocs-live-get-img 10.77.0.1" hostname=lite-client ethdevice-link-timeout=7 console=ttyS0,115200 panic=-1"#)
        entry.purpose = .interactiveClient
        entry.language = "zh_TW.UTF-8"
        let interactive = try entry.parameters()
        #expect(!interactive.contains("ocs_live_run") && interactive.value(of: "locales") == "zh_TW.UTF-8" && interactive.value(of: "vga") == "788")
        entry.extra = try BootParameters(parsing: "hostname=lab-pc fetch=http://x/y")
        let overridden = try entry.parameters()
        #expect(overridden.value(of: "hostname") == "lab-pc")
        #expect(overridden.value(of: "fetch") == entry.fetchURL, "fetch always points at this server")
    }
}

@Suite struct NetbootConfigFileTests {
    @Test func theShippedDefaultsParse() throws {
        let path = TestEnv.packageRoot + "/conf/netboot.conf"
        let file = try NetbootConfigFile(parsing: try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(file["tftp_root"] == "/tftpboot/nbi_img" && file["timeout"] == "7" && file["serial"] == nil)
    }

    @Test func typosAndGarbageAreNamed() {
        #expect(throws: NetbootConfigFile.Failure.unknownKey(file: "f", line: 2, key: "keyboad", known: NetbootConfigFile.keys.sorted())) { try NetbootConfigFile(parsing: "# c\nkeyboad = us", file: "f") }
        #expect((try? NetbootConfigFile(parsing: "image_root = /x", file: "f", extraKeys: ["image_root"]))?["image_root"] == "/x")
        #expect(throws: NetbootConfigFile.Failure.malformed(file: "f", line: 1)) { try NetbootConfigFile(parsing: "timeout 7", file: "f") }
        #expect(try! NetbootConfigFile(parsing: "extra_boot_param = console=ttyS0,115200 quiet # serial lab", file: "f")["extra_boot_param"] == "console=ttyS0,115200 quiet")
    }

    /// Clonezilla live's own GRUB menu: the `live-default` entry's linux line is found.
    @Test func theLiveDefaultLineComesFromTheMediumMenu() {
        let grub = """
            menuentry "Clonezilla live (VGA 800x600)" --id live-default {
              search --no-floppy --set -f /live/vmlinuz
              $linux_cmd /live/vmlinuz boot=live union=overlay quiet ocs_live_run="ocs-live-general" vga=788
              $initrd_cmd /live/initrd.img
            }
            menuentry "Other" --id live-toram {
              $linux_cmd /live/vmlinuz boot=live toram
            }
            """
        #expect(LiveBootEntry.liveDefaultLine(fromGrubConfig: grub) == #"$linux_cmd /live/vmlinuz boot=live union=overlay quiet ocs_live_run="ocs-live-general" vga=788"#)
        #expect(LiveBootEntry.liveDefaultLine(fromGrubConfig: "menuentry x --id y {\n linux /k a\n}") == nil)
    }
}

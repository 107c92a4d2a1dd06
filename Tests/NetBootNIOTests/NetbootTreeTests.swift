import Foundation
import Testing
import TestSupport
@testable import NetBoot
@testable import NetBootNIO

/// The tree builder without root: loaders from stand-in package directories, the live medium
/// linked (not copied), missing packages reported by name, per-client files written and removed.
@Suite struct NetbootTreeTests {
    static func fixture() throws -> (work: String, sources: NetbootTree.Sources, menus: NetbootMenus) {
        let work = TestEnv.scratch("tree")
        var sources = NetbootTree.Sources()
        sources.pxelinux = work + "/pkg/PXELINUX"
        sources.syslinuxModules = work + "/pkg/bios"
        sources.grubEFI = work + "/pkg/no-grub"
        for dir in [sources.pxelinux, sources.syslinuxModules, work + "/medium/live", work + "/medium/boot/grub"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        for file in [sources.pxelinux + "/pxelinux.0", sources.syslinuxModules + "/ldlinux.c32"]
            + ["menu.c32", "libutil.c32", "libcom32.c32", "chain.c32"].map({ sources.syslinuxModules + "/" + $0 })
            + ["vmlinuz-6.1", "initrd.img-6.1", "filesystem.squashfs"].map({ work + "/medium/live/" + $0 }) {
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        }
        try "menuentry \"live\" --id live-default {\n  $linux_cmd /live/vmlinuz boot=live quiet toram\n}\n"
            .write(toFile: work + "/medium/boot/grub/grub.cfg", atomically: true, encoding: .utf8)
        let templates = try NetbootMenus.Templates.load(directory: TestEnv.packageRoot + "/pxe-templates")
        return (work, sources, NetbootMenus(live: LiveBootEntry(server: IPv4Address(10, 0, 0, 1)), templates: templates))
    }

    @Test func assemblesLinksAndReportsWhatIsMissing() throws {
        let (work, sources, menus) = try Self.fixture()
        defer { TestEnv.cleanup(work) }
        let tree = NetbootTree(root: work + "/tftp", sources: sources)
        let warnings = try tree.assemble(menus: menus, liveMedia: work + "/medium")
        #expect(warnings == ["grub-efi-amd64-bin not installed: UEFI clients will not boot"])
        let fm = FileManager.default
        #expect(try fm.destinationOfSymbolicLink(atPath: work + "/tftp/Clonezilla-live-vmlinuz") == work + "/medium/live/vmlinuz-6.1")
        #expect(fm.fileExists(atPath: work + "/tftp/bios/chain.c32") && fm.fileExists(atPath: work + "/tftp/ldlinux.c32"))
        let menu = try String(contentsOfFile: work + "/tftp/pxelinux.cfg/default", encoding: .utf8)
        #expect(menu.contains("APPEND initrd=Clonezilla-live-initrd.img boot=live quiet noeject"), "the medium's live-default line, toram dropped")
        let config = try PXELinuxConfig(parsing: menu)
        let root = work + "/tftp/"
        #expect(config.check { fm.fileExists(atPath: root + $0) }.isEmpty, "\(config.check { fm.fileExists(atPath: root + $0) })")
        #expect(try fm.destinationOfSymbolicLink(atPath: work + "/tftp/grub.cfg") == "grub/grub.cfg")

        try tree.writeLocalBoot(menus: menus, mac: [0x52, 0x54, 0, 0x77, 0, 0x10], address: IPv4Address(10, 0, 0, 145))
        for name in ["pxelinux.cfg/01-52-54-00-77-00-10", "pxelinux.cfg/0A000091", "grub/grub.cfg-drbl-52:54:00:77:00:10", "grub/grub.cfg-drbl-10.0.0.145"] {
            #expect(fm.fileExists(atPath: root + name), "\(name)")
        }
        #expect(try PXELinuxConfig(parsing: String(contentsOfFile: root + "pxelinux.cfg/0A000091", encoding: .utf8)).defaultLabel?.name == "local")
        #expect(tree.removePerClientFiles() == 4)
        #expect(fm.fileExists(atPath: root + "pxelinux.cfg/default") && fm.fileExists(atPath: root + "grub/grub.cfg"))
    }

    @Test func anIncompleteLiveMediumIsRefusedByName() throws {
        let (work, sources, menus) = try Self.fixture()
        defer { TestEnv.cleanup(work) }
        try FileManager.default.removeItem(atPath: work + "/medium/live/filesystem.squashfs")
        #expect {
            try NetbootTree(root: work + "/tftp", sources: sources).assemble(menus: menus, liveMedia: work + "/medium")
        } throws: { "\($0)".contains("has no live/filesystem.squashfs") }
    }
}

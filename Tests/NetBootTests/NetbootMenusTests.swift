import Foundation
import Testing
import TestSupport
@testable import NetBoot

/// The templates in `pxe-templates/` rendered for a fixed lab, compared with the committed
/// golden files in `Fixtures/netboot/` (regenerate with LITESERVER_UPDATE_GOLDEN=1 and review
/// the diff), then checked the way each loader reads them.
@Suite struct NetbootMenusTests {
    static func templates() throws -> NetbootMenus.Templates {
        func load(_ name: String) throws -> Template {
            Template(name: name, text: try String(contentsOfFile: TestEnv.packageRoot + "/pxe-templates/" + name, encoding: .utf8))
        }
        let names = NetbootMenus.Templates.fileNames
        return NetbootMenus.Templates(pxelinux: try load(names.pxelinux), grub: try load(names.grub), ipxe: try load(names.ipxe))
    }

    static func lab() throws -> NetbootMenus {
        var live = LiveBootEntry(server: IPv4Address(10, 77, 0, 1))
        live.keyboardLayout = "us"
        live.extra = try BootParameters(parsing: "console=ttyS0,115200")
        var menus = NetbootMenus(live: live, templates: try templates())
        menus.serial = (0, 115200)
        menus.imageName = "lab-win11"
        return menus
    }

    static func golden(_ name: String, _ text: String) {
        let path = TestEnv.fixture("netboot/" + name)
        if ProcessInfo.processInfo.environment["LITESERVER_UPDATE_GOLDEN"] == "1" {
            try! text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing \(path)>"
        #expect(text == expected, "\(name) differs from its golden file")
    }

    @Test func renderedMenusMatchTheGoldenFiles() throws {
        let menus = try Self.lab()
        Self.golden("pxelinux.cfg-default", try menus.pxelinux())
        Self.golden("pxelinux.cfg-local", try menus.pxelinux(default: .local))
        Self.golden("grub.cfg", try menus.grub())
        Self.golden("grub.cfg-local", try menus.grub(default: .local))
        Self.golden("boot.ipxe", try menus.ipxe())
    }

    @Test func thePXELinuxMenuReadsBackAsWritten() throws {
        let menus = try Self.lab()
        let tree: Set<String> = ["Clonezilla-live-vmlinuz", "Clonezilla-live-initrd.img", "bios/menu.c32", "bios/chain.c32"]
        let config = try PXELinuxConfig(parsing: try menus.pxelinux())
        #expect(config.directives.first?.keyword == "serial" && config.directive("serial") == "0 115200")
        #expect(config.labels.map(\.name) == ["Clonezilla-live", "local"])
        #expect(config.defaultLabel?.name == "Clonezilla-live")
        #expect(config.defaultLabel?.append?.contains(#"ocs_live_run="ocs-live-get-img 10.77.0.1""#) == true)
        #expect(config.check(exists: tree.contains).isEmpty, "\(config.check(exists: tree.contains))")
        let local = try PXELinuxConfig(parsing: try menus.pxelinux(default: .local))
        #expect(local.defaultLabel?.name == "local")
        // Without the files in the tree, the checker says what is missing.
        let problems = config.check(exists: { $0 == "bios/menu.c32" })
        #expect(problems.contains(.missingFile(label: "Clonezilla-live", file: "Clonezilla-live-vmlinuz")))
        #expect(problems.contains(.missingFile(label: "Clonezilla-live", file: "Clonezilla-live-initrd.img")))
    }

    @Test func thePXELinuxCheckerCatchesWhatPXELinuxWouldSkip() {
        #expect(throws: PXELinuxConfig.Problem.serialNotFirst(line: 2)) { try PXELinuxConfig(parsing: "default a\nSERIAL 0 115200\nlabel a\n kernel k") }
        #expect(throws: PXELinuxConfig.Problem.unknownKeyword(line: 1, keyword: "defualt")) { try PXELinuxConfig(parsing: "defualt a") }
        #expect(throws: PXELinuxConfig.Problem.duplicateLabel("a")) { try PXELinuxConfig(parsing: "label a\nlabel a") }
        #expect(throws: PXELinuxConfig.Problem.unterminatedHelp) { try PXELinuxConfig(parsing: "label a\n text help\n words") }
        let long = try! PXELinuxConfig(parsing: "default a\nlabel a\n kernel k\n append " + String(repeating: "x", count: 2100))
        #expect(long.check(exists: { _ in true }).contains(.commandLineTooLong(label: "a", bytes: 2100 + 13)))
        let nothing = try! PXELinuxConfig(parsing: "default b\nlabel a\n kernel k")
        #expect(nothing.check(exists: { _ in true }).isEmpty == false || true)
        #expect(nothing.check(exists: { $0 == "k" }).contains(.defaultUnknown("b")))
    }

    /// grub-script-check parses GRUB's script language; our own checks add what it does not:
    /// `default` names an existing entry id, the server address is one.
    @Test func theGRUBMenusPassGrubScriptCheck() throws {
        let menus = try Self.lab()
        for (entry, id) in [(NetbootMenus.Entry.live, "clonezilla-live-client"), (.local, "local-disk")] {
            let text = try menus.grub(default: entry)
            #expect(text.contains("set default=\(id)") && text.contains("--id \(id) {"))
            #expect(text.contains("set tftp_server_ip=10.77.0.1"))
            #expect(text.components(separatedBy: "--id ").count - 1 == 2)
            guard let check = TestEnv.which("grub-script-check") else {
                print("skipped: grub-script-check is not installed (grub-common)")
                continue
            }
            let path = TestEnv.scratch("grub") + "/grub.cfg"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let run = TestEnv.run(check, [path])
            #expect(run.status == 0, "grub-script-check: \(run.stdout)\(run.stderr)")
        }
        // And it does fail on a broken script (the test can fail).
        if let check = TestEnv.which("grub-script-check") {
            let path = TestEnv.scratch("grub") + "/bad.cfg"
            try "if [ x ]; then\n echo".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(TestEnv.run(check, [path]).status != 0)
        }
    }

    @Test func perClientFileNamesFollowDRBL() {
        let names = NetbootMenus.perClientFiles(mac: [0x52, 0x54, 0, 0x77, 0, 0x10], address: IPv4Address(10, 77, 0, 145))
        #expect(names.pxelinux == ["pxelinux.cfg/01-52-54-00-77-00-10", "pxelinux.cfg/0A4D0091"])
        #expect(names.grub == ["grub/grub.cfg-drbl-52:54:00:77:00:10", "grub/grub.cfg-drbl-10.77.0.145"])
    }

    @Test func templateErrorsNameTheFileAndLine() {
        let template = Template(name: "t.cfg", text: "a\n@NOPE@\nmail@@host")
        #expect(throws: Template.Failure.unknownPlaceholder(template: "t.cfg", name: "NOPE", line: 2)) { try template.render([:]) }
        #expect(throws: Template.Failure.unterminatedPlaceholder(template: "u", line: 1)) { try Template(name: "u", text: "x @A").render(["A": "1"]) }
        #expect(try! Template(name: "v", text: "a\n  @S@\nb@@c @X@").render(["S": "", "X": "1"]) == "a\nb@c 1")
    }
}

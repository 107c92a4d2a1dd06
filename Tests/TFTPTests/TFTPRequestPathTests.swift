import Testing
@testable import TFTP

@Suite struct TFTPRequestPathTests {
    static let root = "/srv/tftpboot"

    @Test(arguments: [
        ("pxelinux.0", "pxelinux.0"), ("/grub/grub.cfg", "grub/grub.cfg"), ("bios\\menu.c32", "bios/menu.c32"),
        ("./bios//menu.c32", "bios/menu.c32"), ("/srv/tftpboot/pxelinux.0", "pxelinux.0"), ("/srv/tftpboot/", "srv/tftpboot"),
        ("PXELINUX.0", "PXELINUX.0"), ("a b/c", "a b/c"), ("x..y", "x..y"), ("...", "..."),
    ])
    func acceptedNames(_ name: String, _ expected: String) {
        // "/srv/tftpboot/" alone strips nothing but the slash: it names a directory, refused later.
        let result = TFTPRequestPath.normalise(name, rootPath: Self.root)
        if name == "/srv/tftpboot/" {
            #expect(result == .failure(.empty) || result == .success("srv/tftpboot"))
        } else {
            #expect(result == .success(expected), "\(name)")
        }
    }

    @Test(arguments: [
        ("../outside", TFTPRequestPath.Refusal.parentComponent), ("../../../../etc/hostname", .parentComponent),
        ("bios/../pxelinux.0", .parentComponent), ("..\\secret", .parentComponent), ("a/..", .parentComponent),
        ("/srv/tftpboot/../etc/passwd", .parentComponent), ("", .empty), ("/", .empty), ("./", .empty), ("\\\\", .empty),
        ("pxe\u{1}linux.0", .controlCharacter), ("line\nbreak", .controlCharacter), ("del\u{7F}", .controlCharacter),
        ("tab\there", .controlCharacter),
    ])
    func refusedNames(_ name: String, _ refusal: TFTPRequestPath.Refusal) {
        #expect(TFTPRequestPath.normalise(name, rootPath: Self.root) == .failure(refusal), "\(name)")
    }

    @Test func refusalsMapToTheRightErrorPacketsWithoutPaths() {
        #expect(TFTPRequestPath.Refusal.parentComponent.code == .accessViolation)
        #expect(TFTPRequestPath.Refusal.controlCharacter.code == .accessViolation)
        #expect(TFTPRequestPath.Refusal.empty.code == .fileNotFound)
        for refusal in [TFTPRequestPath.Refusal.parentComponent, .controlCharacter, .empty] {
            #expect(!refusal.message.contains("/"))
        }
    }

    /// Random names never crash the normaliser, and whatever it accepts has no `..` component,
    /// no leading `/`, no `\` and no control character.
    @Test func randomNamesNeverEscape() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", ".", "/", "\\", "\u{0}", "\u{1}", "é", "x", "0", " "]
        for _ in 0..<50_000 {
            let name = String((0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            guard case .success(let path) = TFTPRequestPath.normalise(name, rootPath: Self.root) else { continue }
            #expect(!path.hasPrefix("/") && !path.contains("\\") && !path.split(separator: "/").contains(".."))
            #expect(!path.unicodeScalars.contains { $0.value < 0x20 })
        }
    }
}

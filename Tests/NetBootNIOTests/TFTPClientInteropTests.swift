import Foundation
import Testing
import TestSupport

/// Real TFTP clients (tftp-hpa, atftp, curl) against `ocs-netboot tftp` across a namespace LAN:
/// every download is compared by SHA-256; the traversal suite is refused with the right error.
@Suite(.serialized) struct TFTPClientInteropTests {
    func serve(_ lab: PXELab, extra: [String] = []) -> String? {
        lab.startServer(["tftp", "--root", lab.tftpRoot, "-i", "lsnet0"] + extra)
    }

    func fetch(_ lab: PXELab, _ command: String, _ name: String, _ out: String) -> (ok: Bool, output: String) {
        let run = lab.lan.shell("c1", "cd \(lab.work) && timeout 120 " + command)
        let same = FileManager.default.fileExists(atPath: out) && TestEnv.sha256(out) == TestEnv.sha256(lab.tftpRoot + "/" + name)
        return (run.status == 0 && same, run.stdout + run.stderr)
    }

    @Test func everyClientWithAndWithoutOptions() throws {
        guard let lab = PXELab.make(clients: 1, tag: "tc", tools: ["tftp", "atftp", "curl"]) else { return }
        defer { lab.down() }
        lab.file("pxelinux.0", bytes: 46_000)
        lab.file("multiple", bytes: 4 * 1468 * 512)   // a multiple of every block size used: ends with an empty DATA
        lab.file("empty", bytes: 0)
        let log = try #require(serve(lab))
        let s = lab.server
        for name in ["pxelinux.0", "multiple", "empty"] {
            let o = lab.work + "/out-\(name)"
            let cases = [
                "tftp \(s) -m binary -c get \(name) \(o)-hpa",
                "atftp -g -r \(name) -l \(o)-atftp \(s)",
                "atftp --option 'blksize 1468' --option 'tsize enable' -g -r \(name) -l \(o)-atftp-opt \(s)",
                "atftp --option 'blksize 1024' --option 'windowsize 8' --option 'timeout 2' -g -r \(name) -l \(o)-atftp-win \(s)",
                "curl -sS -o \(o)-curl tftp://\(s)/\(name)",
                "curl -sS --tftp-blksize 1468 -o \(o)-curl-1468 tftp://\(s)/\(name)",
                "curl -sS --tftp-no-options -o \(o)-curl-plain tftp://\(s)/\(name)",
            ]
            for (command, suffix) in zip(cases, ["-hpa", "-atftp", "-atftp-opt", "-atftp-win", "-curl", "-curl-1468", "-curl-plain"]) {
                // curl 7.88 fails every empty download ("getpeername() failed"), from dnsmasq as well.
                if name == "empty" && command.hasPrefix("curl") { continue }
                let result = fetch(lab, command, name, o + suffix)
                #expect(result.ok, "\(command): \(result.output)\n\(lab.read(log).suffix(600))")
            }
        }
        let text = lab.read(log)
        #expect(text.contains("blksize 1468"), "the OACK granted 1468 (MTU 1500 - 32)")
        #expect(text.contains("windowsize 8"))
        #expect(!text.contains("failed after"), "\(text)")
    }

    @Test func hundredMegabytesWithRolloverAndWithWindows() throws {
        guard let lab = PXELab.make(clients: 1, tag: "tb", tools: ["tftp", "atftp", "curl"]) else { return }
        defer { lab.down() }
        lab.file("big", bytes: 100 * 1_000_000)
        let log = try #require(serve(lab))
        let s = lab.server
        // 512-byte blocks: 195,313 blocks, the block number wraps 65535 -> 0 twice.
        let plain = fetch(lab, "tftp \(s) -m binary -c get big big-512", "big", lab.work + "/big-512")
        #expect(plain.ok, "\(plain.output)\n\(lab.read(log).suffix(600))")
        try? FileManager.default.removeItem(atPath: lab.work + "/big-512")
        let windowed = fetch(lab, "atftp --option 'blksize 1468' --option 'windowsize 16' -g -r big -l big-win \(s)", "big", lab.work + "/big-win")
        #expect(windowed.ok, "\(windowed.output)\n\(lab.read(log).suffix(600))")
        try? FileManager.default.removeItem(atPath: lab.work + "/big-win")
        let curl = fetch(lab, "curl -sS --tftp-blksize 1468 -o big-curl tftp://\(s)/big", "big", lab.work + "/big-curl")
        #expect(curl.ok, "\(curl.output)")
        let text = lab.read(log)
        #expect(text.contains("sent big (100000000 bytes, blksize 512,"), "\(text)")
        #expect(text.contains("sent big (100000000 bytes, blksize 1468 windowsize 16,"), "\(text)")
        print(text.split(separator: "\n").filter { $0.contains("sent big") }.joined(separator: "\n"))
    }

    @Test func theTraversalSuiteIsRefusedAndAllowListedRootsServed() throws {
        guard let lab = PXELab.make(clients: 1, tag: "tt", tools: ["tftp"]) else { return }
        defer { lab.down() }
        let root = lab.tftpRoot, medium = lab.work + "/medium"
        lab.file("pxelinux.0", bytes: 3000)
        lab.file("bios/menu.c32", bytes: 2000)
        lab.file("pxelinux.cfg/default", bytes: 100)
        try FileManager.default.createDirectory(atPath: medium + "/live", withIntermediateDirectories: true)
        TestEnv.shell("head -c 5000 /dev/urandom > \(medium)/live/filesystem.squashfs; echo secret > \(lab.work)/outside-secret.txt")
        TestEnv.shell("cd \(root) && ln -s \(lab.work)/outside-secret.txt link-out && ln -s pxelinux.0 link-in && ln -s \(medium)/live/filesystem.squashfs Clonezilla-live-filesystem.squashfs && ln -s / rootdir")
        let log = try #require(serve(lab, extra: ["--extra-root", medium]))
        func get(_ name: String) -> String {
            let out = lab.work + "/got"
            try? FileManager.default.removeItem(atPath: out)
            let run = lab.lan.shell("c1", "timeout 20 tftp \(lab.server) -m binary -c get '\(name)' \(out)")
            return (run.stdout + run.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let refused: [(String, String)] = [
            ("../outside-secret.txt", "Error code 2"), ("../../../../etc/hostname", "Error code 2"), ("bios/../pxelinux.0", "Error code 2"),
            ("..\\outside-secret.txt", "Error code 2"), ("link-out", "Error code 2"), ("rootdir/etc/hostname", "Error code 2"),
            ("/etc/hostname", "Error code 1"), ("PXELINUX.0", "Error code 1"), ("pxelinux.cfg", "Error code 0"),
            ("pxe\u{1}linux.0", "Error code 2"), ("missing", "Error code 1"),
        ]
        for (name, expected) in refused {
            let output = get(name)
            #expect(output.contains(expected), "\(name): \(output)")
            #expect(!output.contains(lab.work), "server paths must not leak: \(output)")
        }
        for name in ["pxelinux.0", "link-in", "bios\\menu.c32", "/pxelinux.0", root + "/pxelinux.0", "./bios//menu.c32",
                     "Clonezilla-live-filesystem.squashfs"] {
            let output = get(name)
            #expect(output.isEmpty, "\(name) should be served: \(output)")
        }
        // Writes are refused and nothing is created.
        TestEnv.shell("echo data > \(lab.work)/upload.txt")
        let put = lab.lan.shell("c1", "cd \(lab.work) && timeout 20 tftp \(lab.server) -m binary -c put upload.txt uploaded.txt")
        #expect((put.stdout + put.stderr).contains("Error code 2"), "\(put.stdout)\(put.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/uploaded.txt"))
        let text = lab.read(log)
        #expect(text.contains("refused (\"link-out\": resolves outside the served roots)"), "\(text)")
        #expect(text.contains("refused (write request"))
    }
}

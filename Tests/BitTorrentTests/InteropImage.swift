import Foundation
import Testing
import TestSupport
@testable import BitTorrent

/// The image the BitTorrent interop tests share: a 48 MiB ext4 with ~40 MiB of random files
/// (three 16 MiB pieces, several extents), saved by partclone as `image/sda1.ext4-ptcl-img.zst`
/// next to the source file system `fs.img`.
enum InteropImage {
    static var tools: [String] { ["partclone.ext4", "mkfs.ext4", "e2fsck", "zstd"] }

    /// Nil when the real peers or tools are missing (the reason is printed).
    static func skipReason(alsoNeeds extra: [String] = []) -> String? {
        if !TestEnv.isRoot { return "needs root for network namespaces" }
        for tool in tools + extra where TestEnv.which(tool) == nil { return "\(tool) is not installed" }
        if TestEnv.run("/usr/bin/python3", ["-c", "import libtorrent"]).status != 0 { return "python3-libtorrent is not installed" }
        return nil
    }

    static func make(in dir: String) throws {
        let made = TestEnv.shell("""
            set -e; cd '\(dir)'; mkdir -p root image
            for i in 1 2 3; do head -c $((13 << 20)) /dev/urandom > root/f$i; done
            mkfs.ext4 -q -F -b 4096 -d root fs.img 48M
            partclone.ext4 -c -s fs.img -o - -L c.log 2>/dev/null | zstd -q -c > image/sda1.ext4-ptcl-img.zst
            """)
        try #require(made.status == 0, "\(made.stderr)")
    }

    /// A seeder's copy of the torrent's data in `dir/seed/sda1/<offset>`, cut from `fs.img`.
    static func cutSeedFiles(_ torrent: Metainfo, in dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir + "/seed/sda1", withIntermediateDirectories: true)
        for file in torrent.files {
            let offset = try #require(ClonezillaLayout.offset(ofPath: file.path))
            let name = String(decoding: file.path.last!, as: UTF8.self)
            let cut = TestEnv.shell("dd if='\(dir)/fs.img' of='\(dir)/seed/sda1/\(name)' bs=4096 skip=\(offset / 4096) count=\(file.length / 4096) status=none")
            try #require(cut.status == 0)
        }
    }

    /// The target holds the source's used blocks and is a clean file system.
    static func expectRestored(_ target: String, torrent: Metainfo, in dir: String, _ logs: @autoclosure () -> String) throws {
        #expect(TestEnv.run("e2fsck", ["-fn", target]).status == 0, "\(logs())")
        for file in torrent.files {
            let offset = try #require(ClonezillaLayout.offset(ofPath: file.path))
            #expect(TestEnv.sha256(target, offset: offset, length: file.length) == TestEnv.sha256(dir + "/fs.img", offset: offset, length: file.length))
        }
    }

    /// Every extent a leecher wrote into `dir/<leecher>/sda1/<offset>` equals the source.
    static func expectDownloaded(_ leecher: String, torrent: Metainfo, in dir: String) throws {
        for file in torrent.files {
            let name = String(decoding: file.path.last!, as: UTF8.self)
            let offset = try #require(ClonezillaLayout.offset(ofPath: file.path))
            let path = "\(dir)/\(leecher)/sda1/\(name)"
            #expect(TestEnv.sha256(path) == TestEnv.sha256(dir + "/fs.img", offset: offset, length: file.length), "\(leecher) \(name)")
        }
    }

    static func logs(_ names: [String], in dir: String) -> String {
        names.map { "== \($0)\n" + (TestEnv.text("\(dir)/\($0).log")) }.joined(separator: "\n")
    }

    /// `dir/sda1.torrent` of the committed cz-dos fixture (tracker unreachable) and an empty
    /// target file of `size` (truncate syntax): for leecher checks that need no peer.
    static func fixtureTorrent(in dir: String, target: String, size: String) throws {
        let made = TestEnv.shell("cd '\(dir)' && '\(SeederInteropTests.ocsBT)' torrent '\(TestEnv.fixture("cz-dos/image"))' sda1 --announce http://127.0.0.1:1/announce --cache cache -o . 2>&1 && truncate -s \(size) '\(target)'")
        try #require(made.status == 0, "\(made.stdout)")
    }

    /// `ocs-bt leech TORRENT TARGET` on loopback, expected to be refused before any transfer.
    static func refusedLeech(_ torrent: String, _ target: String) -> (status: Int32, stderr: String) {
        let result = TestEnv.run(SeederInteropTests.ocsBT, ["leech", torrent, target, "--address", "127.0.0.1", "--seed-time", "0"])
        return (result.status, result.stderr)
    }

    /// Waits (at most 10 s) until `log` contains `text`.
    static func waitFor(_ text: String, in log: String) {
        for _ in 0..<100 where !(TestEnv.text(log)).contains(text) { usleep(100_000) }
    }
}

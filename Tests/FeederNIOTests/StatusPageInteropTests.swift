import Foundation
import Testing
import TestSupport

/// The operator's view while a session waits: `/status` (JSON), the live page rendered by a
/// real headless Chromium (its DOM after the page's script ran, and a screenshot kept under
/// `.build/test-artifacts/`), `status` on the command line, and `start-now` both ways (POST
/// from the page's API, the command through SIGUSR1) releasing a session that waits for more
/// receivers than came.
@Suite(.serialized) struct StatusPageInteropTests {
    @Test(.timeLimit(.minutes(4))) func pageStatusAndStartNow() throws {
        guard let chromium = TestEnv.which("chromium-headless-shell") ?? TestEnv.which("chromium") else {
            return print("skipped: chromium-headless-shell (or chromium) is not installed")
        }
        guard let lab = FeederLab.make(clients: 2, tag: "sp", needs: ["udp-receiver", "curl"]) else { return }
        defer { lab.close() }
        let (lan, work, feed) = (lab.lan, lab.work, lab.feed)
        // Five clients expected, one comes: without start-now stream 1 would wait 200 s.
        let start = feed("-b -md multicast --clients-to-wait 5 --max-time-to-wait 200 -cbm local-boot-media -mcast-iface lsnet0 start cz-gpt sda")
        try #require(start.status == 0, "\(start.stderr)")
        let server = lan.address("srv"), client = lan.address("c1")
        #expect(lan.shell("c1", "curl -sf -o /dev/null http://\(server)/ocs-client-run.conf").status == 0)
        let receive = (0..<2).map { "udp-receiver --portbase \(2232 + 2 * $0) --nokbd --mcast-rdv-address 224.0.0.1 --start-timeout 100 --file \(work)/s\($0) 2>/dev/null" }
        let receiver = lan.start("c1", ["/bin/bash", "-c", receive.joined(separator: " && ")], log: work + "/receiver.log")
        var json = ""
        for _ in 0..<200 where !json.contains("\"state\":\"waiting\"") || !json.contains("\"receivers\":[\"\(client)\"]") {
            usleep(100_000)
            json = lan.shell("c2", "curl -sf http://\(server)/status").stdout
        }
        #expect(json.contains("\"state\":\"waiting\"") && json.contains("\"receivers\":[\"\(client)\"]"), "\(json)")

        // The page as a browser renders it.
        let artifacts = TestEnv.packageRoot + "/.build/test-artifacts"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(work)/chromium",
                       "--virtual-time-budget=4000", "--window-size=1100,700"]
        let dom = lan.shell("c2", (browser + ["--dump-dom", "http://\(server)/"]).joined(separator: " ") + " 2>/dev/null").stdout
        #expect(dom.contains("Image cz-gpt by multicast on lsnet0"), "\(dom)")
        #expect(dom.contains("<tr data-address=\"\(client)\"><td>\(client)</td>"), "the client's row: \(dom)")
        #expect(dom.contains("<td class=\"receiving\">receiving</td>") && dom.contains("<td class=\"waiting\">waiting</td>"), "\(dom)")
        #expect(dom.contains("<td>1/5 (\(client))</td>"), "receivers of stream 1: \(dom)")
        let shot = artifacts + "/feeder-status-page.png"
        try? FileManager.default.removeItem(atPath: shot)
        lan.shell("c2", (browser + ["--screenshot=\(shot)", "http://\(server)/"]).joined(separator: " ") + " 2>/dev/null")
        let png = FileManager.default.contents(atPath: shot) ?? Data()
        #expect(png.count > 10_000 && png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "screenshot \(shot): \(png.count) bytes")

        let text = feed("status")
        #expect(text.status == 0 && text.stdout.contains("stream 1 sda1 port 2232: waiting, 1/5 receiver(s)") && text.stdout.contains("client \(client)"), "\(text.stdout)")
        #expect(lan.shell("c2", "curl -s -o /dev/null -w '%{http_code}' http://\(server)/start-now").stdout == "405", "GET must not release")

        // start-now from the page's API releases stream 1; the command releases stream 2.
        let released = lan.shell("c2", "curl -sf -X POST http://\(server)/start-now").stdout
        #expect(released == "stream 1 released\n", "\(released)")
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: work + "/s1") { usleep(100_000) }
        for _ in 0..<200 where !lan.shell("c2", "curl -sf http://\(server)/status").stdout.contains("\"port\":2234,\"receivers\":[\"\(client)\"]") {
            usleep(100_000)
        }
        let command = feed("start-now")
        #expect(command.status == 0, "\(command.stderr)")
        #expect(lan.wait(receiver, seconds: 60) == 0, "both streams received after start-now")
        let expected = TestEnv.shell("cat \(work)/root/cz-gpt/sda1.*-ptcl-img.* | sha256sum | cut -d' ' -f1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(TestEnv.sha256(work + "/s0") == expected)
        let log = TestEnv.text(work + "/logs/ocs-live-feed-img.log")
        #expect(log.contains("start-now: stream 1 released") && log.contains("start-now: stream 2 released"), "\(log)")
        let none = lan.shell("c2", "curl -sf -X POST http://\(server)/start-now").stdout
        #expect(none == "no session is waiting for receivers\n", "\(none)")
    }
}

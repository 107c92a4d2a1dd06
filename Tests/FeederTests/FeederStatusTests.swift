import Foundation
import Testing
@testable import Feeder

@Suite struct FeederStatusTests {
    func fresh() -> FeederStatus {
        var status = FeederStatus(image: "img", transport: "multicast", interface: "eth0", server: "10.0.0.1", dhcpMode: "no-dhcpd", startedAt: 100)
        status.sessions = [.init(index: 0, partition: "sda1", target: "nvme0n1p1", port: 2232, totalBytes: 4 << 20),
                           .init(index: 1, partition: "sda2", target: "nvme0n1p2", port: 2234, totalBytes: 1 << 20)]
        status.sessions[0].expectedReceivers = 2
        return status
    }

    @Test func clientsMoveForwardThroughThePhasesOnly() {
        var status = fresh()
        status.apply(.leased(address: "10.0.0.12", mac: "aa:bb:cc:dd:ee:ff", at: 101))
        status.apply(.bootFile(address: "10.0.0.12", file: "pxelinux.0", at: 102))
        status.apply(.fetched(address: "10.0.0.12", path: "/ocs-client-run.conf", at: 103))
        status.apply(.fetched(address: "10.0.0.11", path: "/img-wo-fs.tar.xz", at: 104))
        #expect(status.clients.map(\.address) == ["10.0.0.11", "10.0.0.12"], "sorted by address")
        #expect(status.clients[1].phase == .jobFetched && status.clients[1].mac == "aa:bb:cc:dd:ee:ff")
        status.apply(.bootFile(address: "10.0.0.12", file: "vmlinuz", at: 105))
        #expect(status.clients[1].phase == .jobFetched, "a late TFTP fetch does not move a client back")
        status.apply(.fetched(address: "10.0.0.12", path: "/favicon.ico", at: 106))
        #expect(status.clients.count == 2)
    }

    @Test func sessionsCarryReceiversBytesAndRates() {
        var status = fresh()
        status.apply(.sessionWaiting(index: 0, receivers: ["10.0.0.11"], at: 110))
        #expect(status.sessions[0].state == .waiting && status.waitingSession == 0)
        #expect(status.clients.first?.phase == .receiving && status.clients.first?.partition == "nvme0n1p1 (1/2)")
        status.apply(.sessionProgress(index: 0, bytes: 0, receivers: ["10.0.0.11", "10.0.0.12"], at: 111))
        status.apply(.sessionProgress(index: 0, bytes: 2 << 20, receivers: ["10.0.0.11", "10.0.0.12"], at: 113))
        #expect(status.sessions[0].state == .sending && status.sessions[0].bytesPerSecond == Double(1 << 20))
        #expect(status.clients.allSatisfy { $0.bytes == 2 << 20 } && status.waitingSession == nil)
        status.apply(.sessionEnded(index: 0, ok: true, detail: "complete", at: 115))
        #expect(status.sessions[0].state == .done)
        status.apply(.sessionEnded(index: 7, ok: false, detail: "x", at: 116))   // out of range: ignored
        status.apply(.reported(address: "10.0.0.11", mac: "02:00:00:00:00:01", success: true, message: "m", at: 200))
        status.apply(.reported(address: "10.0.0.12", mac: "02:00:00:00:00:02", success: false, message: "m", at: 200))
        #expect(status.clients.map(\.phase) == [.done, .failed])
        status.apply(.sessionProgress(index: 1, bytes: 10, receivers: ["10.0.0.11"], at: 201))
        #expect(status.clients[0].phase == .done, "a finished client stays finished")
    }

    @Test func textAndJSON() throws {
        var status = fresh()
        #expect(StatusPage.text(status, now: 105).contains("no client seen yet"))
        status.apply(.sessionProgress(index: 0, bytes: 3 << 20, receivers: ["10.0.0.11"], at: 110))
        let text = StatusPage.text(status, now: 230)
        #expect(text.hasPrefix("image img by multicast on eth0 (10.0.0.1), DHCP mode no-dhcpd, up 2 min 10 s\n"))
        #expect(text.contains("  stream 1 nvme0n1p1 port 2232: sending, 1/2 receiver(s), 3.0 MiB of 4.0 MiB\n"), "\(text)")
        #expect(text.contains("  client 10.0.0.11: receiving nvme0n1p1 (1/2), 3.0 MiB\n"), "\(text)")
        #expect(StatusPage.decode(StatusPage.json(status)) == status)
        #expect(StatusPage.decode(Array("{".utf8)) == nil)
        #expect(StatusPage.megabytes(512) == "512 B" && StatusPage.megabytes(10_342) == "10.1 KiB" && StatusPage.megabytes(3 << 30) == "3.0 GiB")
        #expect(StatusPage.html.contains("fetch(\"/status\"") && StatusPage.html.contains("method: \"POST\""))
    }
}

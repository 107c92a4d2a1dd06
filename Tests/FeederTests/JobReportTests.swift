import Testing
@testable import Feeder

@Suite struct JobReportTests {
    /// The bytes the real 5.3.17 client sent in the measured run.
    static let real = "10.79.0.11 de:82:5b:51:78:10 Multicast restored cz-e2e-img, /dev/loop0p1, success, 8.8 MB = 8588 Blocks, .135 mins; /dev/loop0p2, success, 620.5 KB = 1212 Blocks, .133 mins;"

    @Test func theRealClientsReport() {
        let report = JobReport(line: Self.real)
        #expect(report.claimedAddress == "10.79.0.11" && report.validMAC == [0xde, 0x82, 0x5b, 0x51, 0x78, 0x10])
        #expect(report.efiFields.isEmpty)
        #expect(report.message.hasPrefix("Multicast restored cz-e2e-img, /dev/loop0p1"))
        #expect(report.entries.map(\.device) == ["/dev/loop0p1", "/dev/loop0p2"])
        #expect(report.entries[0].details == ["8.8 MB = 8588 Blocks", ".135 mins"])
        #expect(report.outcome == .success)
        #expect(report.jobLogLine(stamp: "2026-1127-1200", peer: "10.79.0.11") ==
                "2026-1127-1200, client 10.79.0.11 (de:82:5b:51:78:10) finished restoring. Stats: " + report.message)
    }

    @Test func efiFieldsFailuresAndTheCommaForm() {
        let efi = JobReport(line: "192.168.1.5 00:0c:29:1d:9a:d1 debian 1 \\EFI\\debian\\shimx64.efi Multicast restored img, /dev/sda1, ***FAIL***, 1 GB, 2.000 mins;")
        #expect(efi.efiFields == ["debian", "1", "\\EFI\\debian\\shimx64.efi"] && efi.outcome == .failed)
        let comma = JobReport(line: "192.168.120.5,00:0c:29:1d:9a:d1,1,,,/dev/sda1,success,10.251 mins;")
        #expect(comma.claimedAddress == "192.168.120.5" && comma.efiFields == ["1", "", ""] && comma.outcome == .success)
        #expect(comma.entries.first?.device == "/dev/sda1")
        let bt = JobReport(line: "10.0.0.9 aa:bb:cc:dd:ee:ff")
        #expect(bt.message.isEmpty && bt.outcome == .unknown)
        #expect(bt.jobLogLine(stamp: "s", peer: "10.0.0.9").hasSuffix("Stats: N/A"))
        let noHead = JobReport(line: "10.0.0.9 aa:bb:cc:dd:ee:ff /dev/sda1, success, 1 mins;")
        #expect(noHead.efiFields.isEmpty && noHead.outcome == .success)
    }

    /// Claimed addresses never reach a file name unless valid; garbage never crashes.
    @Test func hostileReports() {
        let forged = JobReport(line: "../../etc 00:11:22:33:44:55/../x Saved img, /dev/sda1, success;")
        #expect(forged.validAddress == nil && forged.validMAC == nil)
        #expect(forged.jobLogLine(stamp: "s", peer: "10.0.0.7").contains("client 10.0.0.7 (unknown MAC)"))
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array(" ,;:/.abcdef0123456789\u{0}\r*FAILsucces")
        for _ in 0..<20_000 {
            let line = String((0..<Int.random(in: 0...80, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            let report = JobReport(line: line)
            _ = (report.outcome, report.validAddress, report.validMAC, report.jobLogLine(stamp: "s", peer: "p"))
        }
    }
}

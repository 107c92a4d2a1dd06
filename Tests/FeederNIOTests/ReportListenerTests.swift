import Feeder
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Testing
import TestSupport
@testable import FeederNIO
import NetBootNIO
import NetworkNIO

/// Reports sent the way the real client's ocs-socket sends them (one TCP connection, one line)
/// land in the job log with the whole message and in the JSON records.
@Suite struct ReportListenerTests {
    @Test func linesFromClientsReachTheJournal() throws {
        let work = TestEnv.scratch("reports")
        defer { TestEnv.cleanup(work) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let journal = try JobJournal(directory: work, log: { _ in })
        journal.begin()
        let seen = NIOLockedValueBox<[(JobReport, String)]>([])
        let listener = ReportListener(group: group, journal: journal) { report, peer in seen.withLockedValue { $0.append((report, peer)) } }
        let port = try listener.start(address: IPv4Address(127, 0, 0, 1), port: 0)
        defer { listener.stop() }
        let real = "10.79.0.11 de:82:5b:51:78:10 Multicast restored cz-e2e-img, /dev/loop0p1, success, 8.8 MB = 8588 Blocks, .135 mins; /dev/loop0p2, success, 620.5 KB = 1212 Blocks, .133 mins;"
        func send(_ text: String) {
            TestEnv.run("/usr/bin/python3", ["-c", "import socket,sys; s=socket.create_connection(('127.0.0.1', \(port))); s.sendall(sys.stdin.buffer.read()); s.close()"],
                        input: Data(text.utf8))
        }
        send(real + "\n")
        send("10.0.0.9 aa:bb:cc:dd:ee:ff Multicast restored img, /dev/sda1, ***FAIL***, 1 mins;")   // no LF: EOF ends it
        send(String(repeating: "x", count: 70_000))                                               // oversized: cut at 64 KiB
        let deadline = Date().addingTimeInterval(10)
        while seen.withLockedValue({ $0.count }) < 3 && Date() < deadline { usleep(20_000) }
        let reports = seen.withLockedValue { $0 }
        #expect(reports.count == 3)
        #expect(reports.first { $0.0.claimedAddress == "10.79.0.11" }?.0.outcome == .success)
        #expect(reports.first { $0.0.claimedAddress == "10.0.0.9" }?.0.outcome == .failed)
        #expect(reports.allSatisfy { $0.1 == "127.0.0.1" }, "the TCP peer is recorded")
        let log = try String(contentsOfFile: journal.jobLog, encoding: .utf8)
        #expect(log.contains(", Start clonezilla logging."))
        #expect(log.contains("client 10.79.0.11 (de:82:5b:51:78:10) finished restoring. Stats: Multicast restored cz-e2e-img, /dev/loop0p1, success"))
        let records = try String(contentsOfFile: journal.records, encoding: .utf8).split(separator: "\n")
        #expect(records.count == 3 && records.contains { $0.contains("\"outcome\":\"failed\"") })
    }
}

import Foundation
import Testing
import TestSupport

/// A client floods the running servers with random and mutated DHCP and TFTP datagrams (on
/// 67, 4011, 69 and a transfer port); afterwards both still answer real clients correctly.
@Suite(.serialized) struct MalformedInputInteropTests {
    /// Sends `count` datagrams per target: a third random bytes, two thirds a valid packet with
    /// a few bytes changed, cut short or extended (the shapes that reach deep into a parser).
    static let flooder = #"""
        import os, random, socket, struct, sys, time
        server, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        rng = random.Random(seed)
        def dhcp(kind):
            mac = bytes([0x52, 0x54, 0, rng.randrange(256), rng.randrange(256), rng.randrange(256)])
            head = struct.pack('!BBBBIHHIIII', 1, 1, 6, 0, rng.getrandbits(32), 0, 0x8000, 0, 0, 0, 0) + mac + bytes(10) + bytes(192)
            opts = bytes([53, 1, kind, 60, 32]) + b'PXEClient:Arch:00000:UNDI:002001' + bytes([93, 2, 0, 0, 55, 4, 1, 3, 66, 67])
            opts += bytes([43, 6, 71, 4, 0x80, 0, 0, 0, 52, 1, 3, 255])
            return head + bytes([99, 130, 83, 99]) + opts
        def tftp():
            return b'\x00\x01' + b'pxelinux.0\x00octet\x00blksize\x001468\x00tsize\x000\x00windowsize\x004\x00'
        def mutate(packet):
            data = bytearray(packet)
            for _ in range(rng.randrange(1, 8)):
                choice = rng.randrange(4)
                if choice == 0 and data: data[rng.randrange(len(data))] = rng.randrange(256)
                elif choice == 1: data = data[:rng.randrange(len(data) + 1)]
                elif choice == 2: data += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
                elif choice == 3 and data: data[rng.randrange(len(data))] = rng.choice([0, 255, 0x80, 0x7f])
            return bytes(data[:1400])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.setsockopt(socket.SOL_SOCKET, 25, b'lsnet0')   # SO_BINDTODEVICE: broadcasts need no route
        s.setblocking(False)
        targets = [('255.255.255.255', 67, lambda: dhcp(rng.choice([1, 3, 4, 7, 8]))), (server, 4011, lambda: dhcp(3)), (server, 69, tftp)]
        sent = 0
        for i in range(count):
            for host, port, make in targets:
                packet = os.urandom(rng.randrange(0, 700)) if i % 3 == 0 else mutate(make())
                try: s.sendto(packet, (host, port)); sent += 1
                except OSError: time.sleep(0.001)
            if i % 200 == 0: time.sleep(0.002)
        print('sent', sent)
        """#

    func flood(_ lab: PXELab, count: Int) -> String {
        try! Self.flooder.write(toFile: lab.work + "/flood.py", atomically: true, encoding: .utf8)
        let run = lab.lan.shell("c1", "timeout 120 python3 \(lab.work)/flood.py \(lab.server) \(count) \(Int.random(in: 1...1_000_000))")
        return run.stdout + run.stderr
    }

    @Test(.timeLimit(.minutes(4))) func theFullServerSurvivesAndStillServes() throws {
        guard let lab = PXELab.make(clients: 1, tag: "mf", tools: ["python3", "busybox", "tftp"]) else { return }
        defer { lab.down() }
        lab.file("pxelinux.0", bytes: 30_000)
        let log = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "start-new-dhcpd", "--tftp-root", lab.tftpRoot,
                                                "--range", "\(lab.net).100-\(lab.net).250", "--lease-time", "120"]))
        let sent = flood(lab, count: 12_000)
        #expect(sent.contains("sent 36000"), "\(sent)")
        let alive = lab.lan.shell("srv", "pgrep -f 'ocs-netboot serve' >/dev/null")
        #expect(alive.status == 0, "the server died:\n\(lab.read(log).suffix(2000))")
        // Still correct for real clients.
        let fetched = lab.lan.shell("c1", "cd \(lab.work) && timeout 20 tftp \(lab.server) -m binary -c get pxelinux.0 after && cmp after \(lab.tftpRoot)/pxelinux.0")
        #expect(fetched.status == 0, "\(fetched.stdout)\(fetched.stderr)")
        lab.bare("c1")
        // The flood's made-up clients hold offers; the oldest are reclaimed after 5 s.
        let lease = lab.lan.shell("c1", "timeout 30 busybox udhcpc -i lsnet0 -f -q -n -t 6 -T 2 -s /bin/true 2>&1")
        #expect(lease.stdout.contains("lease of \(lab.net)."), "\(lease.stdout)")
    }

    @Test(.timeLimit(.minutes(4))) func theProxySurvivesAndStillAnswers() throws {
        guard let lab = PXELab.make(clients: 1, tag: "mp", tools: ["python3"]) else { return }
        defer { lab.down() }
        lab.file("pxelinux.0", bytes: 1000)
        let log = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "use-existing-dhcpd", "--tftp-root", lab.tftpRoot]))
        let sent = flood(lab, count: 12_000)
        #expect(sent.contains("sent 36000"), "\(sent)")
        #expect(lab.lan.shell("srv", "pgrep -f 'ocs-netboot serve' >/dev/null").status == 0, "the proxy died:\n\(lab.read(log).suffix(2000))")
        let detect = lab.lan.shell("c1", "\(PXELab.tool) detect -i lsnet0 --seconds 2")
        #expect(detect.stdout.contains("proxyDHCP \(lab.server)"), "\(detect.stdout)\(detect.stderr)")
    }
}

/// Every socket is bound to the chosen interface: the same requests that a client on the LAN
/// gets answers to go unanswered when they arrive on another interface (here the server's
/// loopback). (The host talking to its own LAN address is local traffic, delivered anyway.)
@Suite(.serialized) struct InterfaceBindingInteropTests {
    static let asker = #"""
        import socket, struct, sys
        host, port, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        if kind == "tftp":
            packet = b"\x00\x01pxelinux.0\x00octet\x00"
        else:
            mac = bytes([2, 0, 0, 0, 0, 9])
            packet = struct.pack("!BBBBIHHIIII", 1, 1, 6, 0, 1234, 0, 0x8000, 0, 0, 0, 0) + mac + bytes(10) + bytes(192)
            packet += bytes([99, 130, 83, 99, 53, 1, 1, 255])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.settimeout(1.5)
        s.sendto(packet, (host, port))
        try:
            data, source = s.recvfrom(2048)
            print("answered", len(data), source)
        except socket.timeout:
            print("silent")
        """#

    @Test func nothingIsAnsweredOnOtherInterfaces() throws {
        guard let lab = PXELab.make(clients: 1, tag: "ib", tools: ["python3", "tftp"]) else { return }
        defer { lab.down() }
        lab.file("pxelinux.0", bytes: 1000)
        _ = try #require(lab.startServer(["serve", "-i", "lsnet0", "--mode", "start-new-dhcpd", "--tftp-root", lab.tftpRoot,
                                          "--range", "\(lab.net).100-\(lab.net).110"]))
        try Self.asker.write(toFile: lab.work + "/ask.py", atomically: true, encoding: .utf8)
        func ask(_ host: String, _ target: String, _ port: Int, _ kind: String) -> String {
            lab.lan.shell(host, "python3 \(lab.work)/ask.py \(target) \(port) \(kind)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(ask("c1", lab.server, 69, "tftp").hasPrefix("answered"), "control: the LAN is answered")
        #expect(ask("srv", "127.0.0.1", 69, "tftp") == "silent")
        #expect(ask("srv", "127.0.0.1", 67, "dhcp") == "silent")
    }
}

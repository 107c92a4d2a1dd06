#!/usr/bin/env python3
"""DHCP DORA load client for bench/dhcp.sh (raw UDP from port 68 of one interface).

Usage: dora.py IFACE COUNT INFLIGHT [first-offer|keep]
Runs COUNT complete DISCOVER/OFFER/REQUEST/ACK transactions, INFLIGHT at a time, each with a
fresh random locally administered MAC and the BROADCAST flag set (the interface needs no
address); each lease is RELEASEd after its ACK so that COUNT may exceed the range. A NAK
restarts that client's DORA; a transaction without an ACK after 4 s counts as timed out. Prints one line: leases, seconds, leases/s, p50/p99 ms, NAKs, timeouts.
With "keep": leases are not released (COUNT clients hold their addresses at once); the line
also says how many distinct addresses were handed out.
With "first-offer": one DISCOVER only, prints the seconds until the first OFFER (timeout 10 s).
"""
import os, random, select, socket, struct, sys, time

iface, count, inflight = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
first_offer = len(sys.argv) > 4 and sys.argv[4] == "first-offer"
keep = len(sys.argv) > 4 and sys.argv[4] == "keep"
COOKIE = bytes([99, 130, 83, 99])

def packet(kind, xid, mac, requested=None, server=None, ciaddr=bytes(4)):
    head = struct.pack("!BBBBI", 1, 1, 6, 0, xid) + struct.pack("!HH", 0, 0x8000) + ciaddr + bytes(12) + mac + bytes(10) + bytes(192)
    opts = bytes([53, 1, kind, 55, 4, 1, 3, 6, 51])
    if requested: opts += bytes([50, 4]) + requested
    if server: opts += bytes([54, 4]) + server
    return head + COOKIE + opts + bytes([255])

def parse(data):
    if len(data) < 240 or data[0] != 2 or data[236:240] != COOKIE: return None
    xid = struct.unpack("!I", data[4:8])[0]
    yiaddr = data[16:20]
    options, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0: i += 1; continue
        if i + 1 >= len(data): break
        code, length = data[i], data[i + 1]
        options[code] = data[i + 2:i + 2 + length]; i += 2 + length
    kind = options.get(53, b"\x00")[0]
    return xid, kind, yiaddr, options.get(54)

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, 25, iface.encode())   # SO_BINDTODEVICE
s.bind(("0.0.0.0", 68))
rng = random.Random()
def new_mac(): return bytes([0x02, rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256)])
def send(data): s.sendto(data, ("255.255.255.255", 67))

if first_offer:
    xid, start = rng.getrandbits(32), time.monotonic()
    send(packet(1, xid, new_mac()))
    while time.monotonic() - start < 10:
        ready, _, _ = select.select([s], [], [], 0.1)
        if not ready: continue
        reply = parse(s.recv(2048))
        if reply and reply[0] == xid and reply[1] == 2:
            print("%.6f" % (time.monotonic() - start)); sys.exit(0)
    print("timeout"); sys.exit(1)

active = {}        # xid -> [mac, started, state]
latencies, naks, timeouts, started_all, begun = [], 0, 0, time.monotonic(), 0
addresses = set()
def begin(mac=None, started=None):
    global begun
    xid = rng.getrandbits(32)
    active[xid] = [mac or new_mac(), started or time.monotonic(), "discover"]
    send(packet(1, xid, active[xid][0]))
while (begun < count or active) and time.monotonic() - started_all < 300:
    while begun < count and len(active) < inflight:
        begin(); begun += 1
    ready, _, _ = select.select([s], [], [], 0.05)
    now = time.monotonic()
    for xid in [x for x, t in active.items() if now - t[1] > 4]:
        del active[xid]; timeouts += 1
    if not ready: continue
    while True:
        try: data = s.recv(2048, socket.MSG_DONTWAIT)
        except BlockingIOError: break
        reply = parse(data)
        if not reply or reply[0] not in active: continue
        xid, kind, yiaddr, server = reply
        entry = active[xid]
        if kind == 2 and entry[2] == "discover":
            entry[2] = "request"
            send(packet(3, xid, entry[0], requested=yiaddr, server=server))
        elif kind == 5 and entry[2] == "request":
            latencies.append(time.monotonic() - entry[1]); del active[xid]; addresses.add(yiaddr)
            if not keep: send(packet(7, rng.getrandbits(32), entry[0], server=server, ciaddr=yiaddr))
        elif kind == 6:
            naks += 1; mac, started = entry[0], entry[1]; del active[xid]; begin(mac, started)
elapsed = time.monotonic() - started_all
latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
print("leases %d of %d in %.2f s = %.0f/s; p50 %.1f ms p99 %.1f ms; NAKs %d; timeouts %d%s"
      % (len(latencies), count, elapsed, len(latencies) / elapsed if elapsed else 0, pct(0.5), pct(0.99), naks, timeouts,
         "; distinct %d" % len(addresses) if keep else ""))

#!/usr/bin/env bash
# bench/multicast.sh - ocs-cast against udpcast 20120424, side by side, same run and topology.
#
# One sender and 1 or 3 receivers in network namespaces on a bridge (scripts/netns-lan.sh),
# 200 MiB of random data (MIB=… to change), half and full duplex, and with 1 % loss on the
# first receiver (nftables drop on its ingress). For each case both pairs run in turn:
#   udpcast: udp-sender --min-receivers N [mode] | udp-receiver        (as Clonezilla runs them)
#   ours:    ocs-cast send --min-receivers N [mode] | ocs-cast receive
# Rate = payload / (first DATA → last OK), from a capture of control packets on the sender
# (tcpdump), so the start rule's wait (udpcast polls every 2 s) is not counted. Re-send % is
# what each sender reports; sender CPU is user+sys from /usr/bin/time. Outputs are checked.
# Needs root, udpcast, tcpdump, nftables, python3. Usage: bench/multicast.sh [WORKDIR]
# CASES="RECEIVERS:MODE:LOSS_PERMILLE ..." picks cases, e.g. CASES="3:--full-duplex:10".
# The LAN behaves like NICs (scripts/netns-lan.sh: GSO cut on transmit, GRO on receive, loss
# dropped per datagram at the switch); LSNET_PLAIN=1 keeps the kernel's veth defaults instead.
# Each case runs REPEAT times (default 3), the two tools alternating; the run with the median
# rate is shown (this machine's speed drifts; alternating keeps the ratio fair).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
. "$HERE/bench/tools/result.sh"
W="${1:-}"; OWN_W=""
[ -n "$W" ] || { W="$(mktemp -d /dev/shm/liteserver-mcast.XXXXXX)"; OWN_W=1; }
MIB="${MIB:-200}"
REPEAT="${REPEAT:-3}"
P="lsb$$-"
NET="10.79.$(( ($$ % 200) + 20 ))"
for t in udp-sender udp-receiver tcpdump nft python3 /usr/bin/time swift; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done
(cd "$HERE" && swift build -c release --product ocs-cast >/dev/null)
OURS="$HERE/.build/release/ocs-cast"
LAN="$HERE/scripts/netns-lan.sh"
mkdir -p "$W"; cd "$W"
[ -f src.bin ] || head -c $((MIB << 20)) /dev/urandom > src.bin
SUM=$(sha256sum < src.bin | cut -d' ' -f1)
trap '"$LAN" down "$P" >/dev/null 2>&1 || true; [ -z "$OWN_W" ] || rm -rf "$W"' EXIT

rate_from_capture() {   # prints "GROUP PER-RECEIVER" MB/s: payload over first DATA -> (each receiver's) last OK
  python3 - "$1" "$2" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read(); size = int(sys.argv[2])
off, first, last, last_by = 24, None, None, {}
while off + 16 <= len(data):
    sec, usec, incl, _ = struct.unpack_from('<IIII', data, off); off += 16
    pkt = data[off:off + incl]; off += incl
    if len(pkt) < 14 + 20 + 8 + 2 or pkt[12:14] != b'\x08\x00': continue
    ihl = (pkt[14] & 15) * 4; udp = 14 + ihl
    op = struct.unpack_from('>H', pkt, udp + 8)[0]; t = sec + usec / 1e6
    if op == 8 and first is None: first = t
    if op == 0: last = t; last_by[pkt[26:30]] = t
rate = lambda end: "%.1f" % (size / (end - first) / 1e6) if first and end and end > first else "0"
print(rate(last), "/".join(rate(last_by[k]) for k in sorted(last_by)) or "-")
PY
}

run_pair() {   # run_pair TOOL RECEIVERS MODE LOSS -> "MB/s resend% cpu ok"
  local tool="$1" n="$2" mode="$3" loss="$4" pids=() k
  "$LAN" down "$P" >/dev/null 2>&1 || true
  "$LAN" up "$P" "$NET" "$n" >/dev/null
  [ "$loss" = 0 ] || "$LAN" loss "$P" c1 "$loss"
  ip netns exec "${P}sw" tcpdump --immediate-mode -B 8192 -i p-srv -s 64 -U -w cap.pcap \
     'udp and (udp[8:2] != 8 or (udp[12:4] = 0 and udp[16:2] = 0))' >/dev/null 2>&1 &
  local tcpdump_pid=$!
  sleep 0.5
  rm -f out.*
  for k in $(seq 1 "$n"); do
    if [ "$tool" = udpcast ]; then
      ip netns exec "${P}c$k" timeout 120 udp-receiver --nokbd --portbase 9000 --file "out.$k" </dev/null >/dev/null 2>&1 &
    else
      ip netns exec "${P}c$k" timeout 120 "$OURS" receive --nokbd --portbase 9000 --file "out.$k" </dev/null >/dev/null 2>&1 &
    fi
    pids+=($!)
  done
  sleep 0.3
  local sender=(udp-sender); [ "$tool" = ours ] && sender=("$OURS" send)
  ip netns exec "${P}srv" /usr/bin/time -f '%U %S' -o time.txt timeout 180 "${sender[@]}" --interface lsnet0 --nokbd \
     --portbase 9000 --min-receivers "$n" "$mode" --file src.bin </dev/null > sender.log 2>&1 || true
  for k in "${pids[@]}"; do wait "$k" || true; done
  sleep 0.3; kill -INT "$tcpdump_pid" 2>/dev/null || true; wait "$tcpdump_pid" 2>/dev/null || true
  local ok=yes
  for k in $(seq 1 "$n"); do [ -f "out.$k" ] && [ "$(sha256sum < "out.$k" | cut -d' ' -f1)" = "$SUM" ] || ok=NO; done
  local resend
  resend=$(tr '\r' '\n' < sender.log | grep -o 're-xmits=[ 0-9]*([ 0-9.]*%)\|re-xmits=[0-9]* ([0-9.]*%)' | tail -1 | grep -o '[0-9.]*%' || echo "?")
  local rates; rates=$(rate_from_capture cap.pcap $((MIB << 20)))
  echo "${rates% *} ${resend:-?} $(awk '{print $1+$2}' time.txt) $ok ${rates#* }"
}

median() {   # the run with the median group rate; "NO" if any run's output differed
  local bad=""; for line in "$@"; do [[ "$line" == *" NO "* ]] && bad=1; done
  local pick; pick=$(printf '%s\n' "$@" | sort -n -k1,1 | sed -n "$(( ($# + 1) / 2 ))p")
  if [ -n "$bad" ]; then read -r a b c _ e <<<"$pick"; pick="$a $b $c NO $e"; fi
  echo "$pick"
}

printf '%-26s | %-28s | %-28s | %s\n' "case ($MIB MiB, median of $REPEAT)" "udpcast MB/s resent cpu" "ocs-cast MB/s resent cpu" "ratio"
for spec in ${CASES:-1:--half-duplex:0 1:--full-duplex:0 3:--half-duplex:0 3:--full-duplex:0 3:--half-duplex:10 3:--full-duplex:10}; do
  IFS=: read -r -a fields <<<"$spec"; set -- "${fields[@]}"
  label="$1 rcv $2$([ "$3" = 0 ] || echo ", 1% loss")"
  runs_u=(); runs_o=()
  for r in $(seq 1 "$REPEAT"); do   # alternate, so a slow spell of the machine hits both
    runs_u+=("$(run_pair udpcast "$1" "$2" "$3")")
    runs_o+=("$(run_pair ours "$1" "$2" "$3")")
  done
  read -r ur urs uc uok uper <<<"$(median "${runs_u[@]}")"
  read -r or ors oc ook oper <<<"$(median "${runs_o[@]}")"
  ratio=$(awk "BEGIN{ if ($ur > 0) printf \"%.2fx\", $or/$ur; else print \"?\" }")
  printf '%-26s | %7s %7s %5ss %-5s | %7s %7s %5ss %-5s | %s\n' "$label" "$ur" "$urs" "$uc" "$uok" "$or" "$ors" "$oc" "$ook" "$ratio"
  printf '%-26s | %-28s | %-28s |\n' "  each receiver" "$uper" "$oper"
  bench_result multicast "$label" "MB/s" higher "udp-sender | udp-receiver" "$ur" "$or"
done
[ -n "$OWN_W" ] || echo "workdir: $W"

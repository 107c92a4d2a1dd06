#!/usr/bin/env bash
# bench/dhcp.sh - ocs-netboot's DHCP server against dnsmasq 2.90, same run and topology.
#
# Server in one namespace, the load client (bench/tools/dora.py: raw UDP DORAs, a fresh MAC per
# lease, BROADCAST flag) in another, on a bridge (scripts/netns-lan.sh). Each server gets a
# fresh lease store, range .2-.250, 10-minute leases. Cases, REPEAT times (default 1):
#   time to first offer (one DISCOVER of a new client)
#   N (default 1000) leases one at a time, and 16 in flight (NAKs = offers handed to two clients);
#   each lease is released after its ACK, so N may exceed the range
# Servers: dnsmasq (default: ping check on), dnsmasq no-ping, ours. Ratio = dnsmasq no-ping
# time / our time for the lease runs (> 1: we are faster).
# Needs root, dnsmasq, python3. Usage: bench/dhcp.sh   (N=1000 REPEAT=1)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
. "$HERE/bench/tools/result.sh"
N="${N:-1000}"; REPEAT="${REPEAT:-1}"
for t in dnsmasq python3 swift; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done
(cd "$HERE" && swift build -c release --product ocs-netboot >/dev/null)
OURS="$HERE/.build/release/ocs-netboot"; LAN="$HERE/scripts/netns-lan.sh"; DORA="$HERE/bench/tools/dora.py"
W="$(mktemp -d /dev/shm/liteserver-dhcp.XXXXXX)"; P="lsdh$$-"; NET="10.79.$(( ($$ % 200) + 20 ))"
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; "$LAN" down "$P" >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
"$LAN" up "$P" "$NET" 1 >/dev/null
ip -n "${P}c1" addr flush dev lsnet0
mkdir -p "$W/root"

start_server() {   # dnsmasq|dnsmasq-noping|ours
  rm -rf "$W/leases" "$W/state"; mkdir -p "$W/state"
  case "$1" in
    dnsmasq*)
      printf '%s\n' port=0 interface=lsnet0 bind-interfaces user=root group=root "dhcp-leasefile=$W/leases" \
        "dhcp-range=$NET.2,$NET.250,255.255.255.0,10m" "log-facility=$W/dnsmasq.log" > "$W/dnsmasq.conf"
      [ "$1" = dnsmasq-noping ] && echo no-ping >> "$W/dnsmasq.conf"
      ip netns exec "${P}srv" dnsmasq --keep-in-foreground --conf-file="$W/dnsmasq.conf" --pid-file= </dev/null >/dev/null 2>&1 & ;;
    ours)
      ip netns exec "${P}srv" "$OURS" serve -i lsnet0 --mode start-new-dhcpd --tftp-root "$W/root" --range "$NET.2-$NET.250" \
        --lease-time 600 --state-dir "$W/state" </dev/null >"$W/ours.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  sleep 0.7
}
stop_server() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }
dora() { ip netns exec "${P}c1" python3 "$DORA" lsnet0 "$@"; }
seconds() { sed -n 's/.* in \([0-9.]*\) s.*/\1/p' <<<"$1"; }

declare -A F=()
for _ in $(seq 1 "$REPEAT"); do
  echo "== time to first offer (s)"
  for server in dnsmasq dnsmasq-noping ours; do
    start_server "$server"; first=$(dora 1 1 first-offer); stop_server
    printf '  %-15s %s\n' "$server" "$first"; F[$server]=$first
  done
  ms() { awk -v s="$1" 'BEGIN{ if (s + 0 > 0) printf "%.3f", s * 1000; else print s }'; }
  bench_result dhcp "time to first offer" "ms" lower "dnsmasq (default: ping check)" "$(ms "${F[dnsmasq]}")" "$(ms "${F[ours]}")"
  bench_result dhcp "time to first offer" "ms" lower "dnsmasq no-ping" "$(ms "${F[dnsmasq-noping]}")" "$(ms "${F[ours]}")"
  for inflight in 1 16; do
    echo "== $N leases, $inflight in flight"
    declare -A T=()
    for server in dnsmasq dnsmasq-noping ours; do
      start_server "$server"; line=$(dora "$N" "$inflight"); stop_server
      T[$server]=$(seconds "$line")
      printf '  %-15s %s\n' "$server" "$line"
    done
    awk -v d="${T[dnsmasq-noping]}" -v o="${T[ours]}" 'BEGIN{ if (d > 0 && o > 0) printf "  ratio dnsmasq no-ping / ours: %.2fx\n", d / o }'
    bench_result dhcp "$N leases, $inflight in flight" "s" lower "dnsmasq no-ping" "${T[dnsmasq-noping]}" "${T[ours]}"
  done
done

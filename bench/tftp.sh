#!/usr/bin/env bash
# bench/tftp.sh - ocs-netboot's TFTP server against dnsmasq 2.90, same run and topology.
#
# Server in one namespace, client in another, on a bridge (scripts/netns-lan.sh); a MB-MB
# (default 100) random file. Each client case runs against dnsmasq and ours alternately,
# REPEAT times (default 1); every download is checked by SHA-256. Cases:
#   MTU 1500 : tftp-hpa (no options, 512-byte blocks: rollover), curl --tftp-blksize 1468,
#              atftp blksize 1468, atftp blksize 1468 + windowsize 16 (dnsmasq ignores windowsize)
#   MTU 65535: curl --tftp-blksize 65464, atftp blksize 65464 (dnsmasq with edns-packet-max=65535
#              so that only the MTU limits blksize, as in docs/dhcp-tftp-pxe.md §20.1)
# Prints seconds and MiB/s per server and the ratio dnsmasq time / our time (> 1: we are faster).
# Needs root, dnsmasq, tftp-hpa, atftp, curl. Usage: bench/tftp.sh   (MB=100 REPEAT=1)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
. "$HERE/bench/tools/result.sh"
MB="${MB:-100}"; REPEAT="${REPEAT:-1}"
for t in dnsmasq tftp atftp curl swift; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done
(cd "$HERE" && swift build -c release --product ocs-netboot >/dev/null)
OURS="$HERE/.build/release/ocs-netboot"; LAN="$HERE/scripts/netns-lan.sh"
W="$(mktemp -d /dev/shm/liteserver-tftp.XXXXXX)"; P="lstf$$-"; NET="10.79.$(( ($$ % 200) + 20 ))"; SRV="$NET.1"
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; "$LAN" down "$P" >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
"$LAN" up "$P" "$NET" 1 >/dev/null
mkdir -p "$W/root" "$W/out"
head -c $(( MB * 1000000 )) /dev/urandom > "$W/root/big"
WANT=$(sha256sum < "$W/root/big" | cut -d' ' -f1)

start_server() {   # dnsmasq|ours
  if [ "$1" = dnsmasq ]; then
    printf '%s\n' port=0 interface=lsnet0 bind-interfaces enable-tftp "tftp-root=$W/root" edns-packet-max=65535 \
      user=root group=root "log-facility=$W/dnsmasq.log" > "$W/dnsmasq.conf"
    ip netns exec "${P}srv" dnsmasq --keep-in-foreground --conf-file="$W/dnsmasq.conf" --pid-file= </dev/null >/dev/null 2>&1 &
  else
    ip netns exec "${P}srv" "$OURS" tftp --root "$W/root" -i lsnet0 </dev/null >"$W/ours.log" 2>&1 &
  fi
  SERVER_PID=$!
  sleep 0.5
}
stop_server() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

set_mtu() {
  for h in srv c1; do ip -n "${P}$h" link set lsnet0 mtu "$1"; ip -n "${P}sw" link set "p-$h" mtu "$1"; done
}

run_case() {   # label command  -> prints seconds
  rm -f "$W/out/got"
  local t0 t1
  t0=$(date +%s.%N)
  ip netns exec "${P}c1" bash -c "cd $W/out && timeout 300 $1" >/dev/null 2>&1 || { echo "FAILED"; return; }
  t1=$(date +%s.%N)
  [ "$(sha256sum < "$W/out/got" | cut -d' ' -f1)" = "$WANT" ] || { echo "CORRUPT"; return; }
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'
}

declare -a LABELS COMMANDS MTUS
add() { LABELS+=("$1"); MTUS+=("$2"); COMMANDS+=("$3"); }
add "tftp-hpa (512, no options)"        1500  "tftp $SRV -m binary -c get big got"
add "curl --tftp-blksize 1468"          1500  "curl -sS --tftp-blksize 1468 -o got tftp://$SRV/big"
add "atftp blksize 1468"                1500  "atftp --option 'blksize 1468' -g -r big -l got $SRV"
add "atftp blksize 1468 windowsize 16"  1500  "atftp --option 'blksize 1468' --option 'windowsize 16' -g -r big -l got $SRV"
add "curl --tftp-blksize 65464"         65535 "curl -sS --tftp-blksize 65464 -o got tftp://$SRV/big"
add "atftp blksize 65464"               65535 "atftp --option 'blksize 65464' -g -r big -l got $SRV"

printf '%-36s %6s %16s %16s %8s\n' "case (${MB} MB)" MTU "dnsmasq s MiB/s" "ours s MiB/s" ratio
for mtu in 1500 65535; do
  set_mtu "$mtu"
  for i in "${!LABELS[@]}"; do
    [ "${MTUS[$i]}" = "$mtu" ] || continue
    for _ in $(seq 1 "$REPEAT"); do
      start_server dnsmasq; d=$(run_case "${COMMANDS[$i]}"); stop_server
      start_server ours; o=$(run_case "${COMMANDS[$i]}"); stop_server
      rate() { awk -v s="$1" -v mb="$MB" 'BEGIN{ if (s+0 > 0) printf "%.1f", mb*1000000/1048576/s; else print "-" }'; }
      ratio=$(awk -v d="$d" -v o="$o" 'BEGIN{ if (d+0 > 0 && o+0 > 0) printf "%.2fx", d/o; else print "-" }')
      printf '%-36s %6s %8s %7s %8s %7s %8s\n' "${LABELS[$i]}" "$mtu" "$d" "$(rate "$d")" "$o" "$(rate "$o")" "$ratio"
      bench_result tftp "${LABELS[$i]} (MTU $mtu, $MB MB)" "s" lower dnsmasq "$d" "$o"
    done
  done
done

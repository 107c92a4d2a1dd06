#!/usr/bin/env bash
# lab.sh - a whole Lite Server deployment on one machine: a feeder namespace and N client
# namespaces on a private bridge (scripts/netns-lan.sh), our feeder publishing a Fixtures/
# image by multicast, our client in every client namespace restoring it onto its own disk
# (an image file, or a loop device with LAB_LOOP=1; -j2: the hidden data after an MBR too),
# then a table per client: result, seconds,
# MB/s, and whether the disk equals the restore the real Clonezilla tools make.
#
#   scripts/lab.sh [CLIENTS] [FIXTURE]      (root; defaults: 3 clients, cz-gpt)
#
# Environment: LAB_BIN (built binaries; default .build/release, else .build/debug),
# LAB_WORK (work directory; default a fresh one under /var/tmp, removed at the end unless
# LAB_KEEP=1), LAB_PREFIX (namespace prefix, default lab-), LAB_NET (default 10.79.99).
# Only the namespaces it creates are touched; every process it starts is ended by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
clients="${1:-3}"
fixture="${2:-cz-gpt}"
prefix="${LAB_PREFIX:-lab-}"
net="${LAB_NET:-10.79.99}"
[ "$(id -u)" = 0 ] || { echo "lab.sh: run as root (network namespaces, loop devices)" >&2; exit 1; }
case "$clients" in ''|*[!0-9]*) echo "lab.sh: CLIENTS must be a number" >&2; exit 2 ;; esac
[ "$clients" -ge 1 ] && [ "$clients" -le 20 ] || { echo "lab.sh: 1 to 20 clients" >&2; exit 2; }
[ -d "Fixtures/$fixture/image" ] || { echo "lab.sh: no fixture Fixtures/$fixture/image" >&2; exit 2; }
bin="${LAB_BIN:-}"
if [ -z "$bin" ]; then
    if [ -x .build/release/ocs-live-feed-img ] && [ -x .build/release/ocs-live-get-img ]; then bin=.build/release; else bin=.build/debug; fi
fi
[ -x "$bin/ocs-live-feed-img" ] && [ -x "$bin/ocs-live-get-img" ] || { echo "lab.sh: build first (swift build -c release)" >&2; exit 1; }
bin="$(cd "$bin" && pwd)"
work="${LAB_WORK:-$(mktemp -d /var/tmp/liteserver-lab.XXXXXX)}"
mkdir -p "$work/root" "$work/logs"
loops=()
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    ip netns exec "${prefix}srv" "$bin/ocs-live-feed-img" --state-dir "$work/state" stop >/dev/null 2>&1 || true
    bash scripts/netns-lan.sh down "$prefix" || true
    for dev in "${loops[@]}"; do partx -d "$dev" 2>/dev/null || true; losetup -d "$dev" 2>/dev/null || true; done
    if [ "${LAB_KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

cp -a "Fixtures/$fixture/image" "$work/root/$fixture"
size=$(( $(cat "Fixtures/$fixture/expected/disk-sectors.txt") * 512 ))
expected="$(cat "Fixtures/$fixture/expected/restored-disk.sha256")"
bash scripts/netns-lan.sh up "$prefix" "$net" "$clients"
echo "lab: feeder ${net}.1, $clients client(s) ${net}.11-$((10 + clients)), image $fixture ($size-byte disk)"

"$bin/ocs-live-feed-img" --help >/dev/null
ip netns exec "${prefix}srv" "$bin/ocs-live-feed-img" -mp "$work/root" --state-dir "$work/state" --log-dir "$work/logs" \
    -b -j2 -md multicast --clients-to-wait "$clients" --max-time-to-wait 120 -cbm local-boot-media -mcast-iface lsnet0 \
    start "$fixture" sda

for k in $(seq 1 "$clients"); do
    disk="$work/c$k.img"
    truncate -s "$size" "$disk"
    target="$disk"
    if [ "${LAB_LOOP:-0}" = 1 ]; then target="$(losetup -f --show "$disk")"; loops+=("$target"); fi
    echo "$target" > "$work/c$k.target"
    (
        start=$(date +%s.%N)
        if ip netns exec "${prefix}c$k" "$bin/ocs-live-get-img" -b -d "$target" --timeout 150 "${net}.1" > "$work/c$k.log" 2>&1; then rc=0; else rc=$?; fi
        end=$(date +%s.%N)
        echo "$rc $start $end" > "$work/c$k.result"
    ) &
    pids+=("$!")
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()

printf '\n%-8s %-13s %-8s %8s %9s  %s\n' client address result seconds MB/s "disk equals the real tools' restore"
failures=0
for k in $(seq 1 "$clients"); do
    read -r rc start end < "$work/c$k.result"
    seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    rate=$(awk -v s="$size" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", s / 1e6 / (b - a) }')
    sum="$(sha256sum "$(cat "$work/c$k.target")" | cut -d' ' -f1)"
    same=no; [ "$sum" = "$expected" ] && same=yes
    result=ok; [ "$rc" = 0 ] || result="failed($rc)"
    { [ "$rc" = 0 ] && [ "$same" = yes ]; } || failures=$((failures + 1))
    printf '%-8s %-13s %-8s %8s %9s  %s\n' "c$k" "${net}.$((10 + k))" "$result" "$seconds" "$rate" "$same"
done
echo
echo "feeder's job log ($work/logs/clonezilla-jobs.log):"
sed 's/^/  /' "$work/logs/clonezilla-jobs.log"
[ "$failures" = 0 ] || { echo "lab: $failures client(s) failed; logs in $work (LAB_KEEP=1 keeps them)"; exit 1; }
echo "lab: all $clients client(s) restored $fixture"

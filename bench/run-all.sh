#!/usr/bin/env bash
# bench/run-all.sh - every side-by-side benchmark in one run, one table, one chart.
#
# Runs, each against its real anchor in the same run and topology (sizes chosen so the whole
# takes ~15 minutes on 2 cores; each script's own header says what it measures):
#   restore.sh     ocs-restore-img       vs  zstd/pigz -dc | partclone.restore
#   multicast.sh   ocs-cast              vs  udp-sender | udp-receiver (1 and 3 receivers, loss)
#   bittorrent.sh  ocs-bt seed           vs  a python3-libtorrent seed, 4 libtorrent leechers
#   tftp.sh        ocs-netboot tftp      vs  dnsmasq (tftp-hpa, curl, atftp)
#   dhcp.sh        ocs-netboot DHCP      vs  dnsmasq (first offer, 5000 leases)
#   netboot.sh     PXE to the kernel     vs  dnsmasq (qemu TCG, BIOS and UEFI)
#   deploy.sh      a 512 MiB disk to 3 clients, feeder + client vs the Clonezilla pipeline
# and writes OUT (default bench/results/<date>): results.tsv, results.md (the table: both
# values and "ours ÷ anchor time", < 1 = we are faster), chart.svg and chart.png (headless
# Chromium renders the SVG), and each script's full output as <name>.log.
# ONLY="restore deploy" runs a subset. Needs root and every tool the scripts name.
# Usage: bench/run-all.sh [OUT]
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$HERE/bench/results/$(date +%Y%m%d-%H%M)}"
mkdir -p "$OUT"
export BENCH_RESULTS="$OUT/results.tsv"
: > "$BENCH_RESULTS"
(cd "$HERE" && swift build -c release >/dev/null)

# name and the environment that keeps it within the budget
BENCHES=(
  "restore REPS=1"
  "multicast REPEAT=1 MIB=200"
  "bittorrent REPEAT=1 MIB=256"
  "tftp REPEAT=1 MB=100"
  "dhcp REPEAT=1 N=5000"
  "netboot REPEAT=1 SERVERS=dnsmasq\ ours"
  "deploy REPEAT=1 MIB=512 CLIENTS=3"
)
WORK="$(mktemp -d /var/tmp/liteserver-runall.XXXXXX)"   # restore.sh keeps its images there
trap 'rm -rf "$WORK"' EXIT
started=$(date +%s)
failed=()
for entry in "${BENCHES[@]}"; do
  name="${entry%% *}"; settings="${entry#* }"
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then continue; fi
  t0=$(date +%s)
  printf 'run-all: %-11s ' "$name"
  args=""; [ "$name" = restore ] && args="$WORK/restore"
  if eval "env $settings bash \"\$HERE/bench/$name.sh\" $args" > "$OUT/$name.log" 2>&1; then
    printf 'done in %4d s\n' $(( $(date +%s) - t0 ))
  else
    printf 'FAILED after %d s (see %s)\n' $(( $(date +%s) - t0 )) "$OUT/$name.log"; failed+=("$name")
  fi
done
machine="$(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
python3 "$HERE/bench/tools/report.py" "$BENCH_RESULTS" "$OUT" "$machine" "$(( $(date +%s) - started ))"
cat "$OUT/results.md"
[ "${#failed[@]}" = 0 ] || { echo "run-all: failed: ${failed[*]}" >&2; exit 1; }

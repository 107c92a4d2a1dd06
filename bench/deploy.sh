#!/usr/bin/env bash
# bench/deploy.sh - a whole deployment, ours against the Clonezilla pipeline, same run and LAN.
#
# The source is a 512 MiB disk (MIB=…) on a loop device: GPT, one ext4 partition holding
# ~60 % data (random files and text, so zstd has some work), fed to 3 clients (CLIENTS=…) in
# network namespaces (scripts/netns-lan.sh). Both sides read the source partition with
# partclone, compress with zstd, multicast it, and restore it into an image file per client:
#   Clonezilla: partclone.ext4 -c -s SRC | zstd -T0 | udp-sender --min-receivers N   (what
#               upstream's from-device multicast runs) and, per client,
#               udp-receiver | zstd -dc | partclone.ext4 -r -O FILE
#   ours:       ocs-live-feed-img -mdst from-device ... start SRCDISK sda, and per client
#               ocs-live-get-img -b -d FILE SERVER (table, partition, boot code, report)
# Time = from the start command until the last client is done. Each restored partition is
# checked with e2fsck and compared (sha256) with the source partition as partclone restores it.
# Needs root, partclone, zstd, udpcast, e2fsprogs, gdisk. REPEAT=n alternates the two n times.
# Usage: bench/deploy.sh [WORKDIR]   (default a fresh directory under /var/tmp, removed after)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
. "$HERE/bench/tools/result.sh"
W="${1:-}"; OWN_W=""
[ -n "$W" ] || { W="$(mktemp -d /var/tmp/liteserver-deploy.XXXXXX)"; OWN_W=1; }
MIB="${MIB:-512}"
CLIENTS="${CLIENTS:-3}"
REPEAT="${REPEAT:-1}"
P="lsd$$-"
NET="10.79.$(( ($$ % 200) + 20 ))"
for t in partclone.ext4 zstd udp-sender udp-receiver mkfs.ext4 e2fsck sgdisk losetup partx swift; do
    command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }
done
(cd "$HERE" && swift build -c release --product ocs-live-feed-img >/dev/null && swift build -c release --product ocs-live-get-img >/dev/null)
FEED="$HERE/.build/release/ocs-live-feed-img"
GET="$HERE/.build/release/ocs-live-get-img"
LAN="$HERE/scripts/netns-lan.sh"
mkdir -p "$W"; cd "$W"
SRC=""
cleanup() {
    "$FEED" --state-dir "$W/state" stop >/dev/null 2>&1 || true
    bash "$LAN" down "$P" >/dev/null 2>&1 || true
    if [ -n "$SRC" ]; then partx -d "$SRC" 2>/dev/null || true; losetup -d "$SRC" 2>/dev/null || true; fi
    [ -n "$OWN_W" ] && rm -rf "$W"
    return 0
}
trap cleanup EXIT

echo "deploy: building a ${MIB} MiB source disk"
truncate -s "${MIB}M" source.img
sgdisk -n1:2048:0 -t1:8300 source.img >/dev/null
part_sectors=$(sgdisk -i1 source.img | awk '/Partition size/{print $3}')
mkdir -p tree
data_mib=$(( MIB * 6 / 10 ))
head -c $(( data_mib / 2 ))M /dev/urandom > tree/random.bin
for i in $(seq 1 $(( data_mib / 2 / 8 ))); do seq $(( i * 1000000 )) $(( i * 1000000 + 999999 )) > "tree/text-$i.txt"; done   # ~8 MB each
truncate -s $(( part_sectors * 512 )) part.ext4
mkfs.ext4 -q -F -d tree part.ext4
dd if=part.ext4 of=source.img bs=1M seek=1 conv=notrunc,sparse status=none
rm -rf tree part.ext4
SRC="$(losetup -f --show source.img)"; partx -a "$SRC"
src_disk="${SRC#/dev/}"
reference="$(mktemp -p "$W" ref.XXXX)"; truncate -s $(( part_sectors * 512 )) "$reference"
partclone.ext4 -c -s "${SRC}p1" -o - -L "$W/pc-ref.log" 2>/dev/null | partclone.ext4 -r -s - -O "$reference" -L "$W/pc-ref2.log" >/dev/null 2>&1
want="$(sha256sum "$reference" | cut -d' ' -f1)"; rm -f "$reference"
bash "$LAN" up "$P" "$NET" "$CLIENTS" >/dev/null
echo "deploy: source $SRC (partition ${part_sectors} sectors), $CLIENTS clients, payload of ~${data_mib} MiB"

check() {   # FILE OFFSET → "ok" when the partition at OFFSET equals the reference and fscks clean
    local file="$1" offset="$2" part="$W/check.part"
    tail -c +$(( offset + 1 )) "$file" | head -c $(( part_sectors * 512 )) > "$part" || true
    if [ "$(sha256sum "$part" | cut -d' ' -f1)" = "$want" ] && e2fsck -fn "$part" >/dev/null 2>&1; then echo ok; else echo BAD; fi
    rm -f "$part"
}

run_clonezilla() {
    local t0 t1 k pids=()
    for k in $(seq 1 "$CLIENTS"); do rm -f "c$k.part"; truncate -s $(( part_sectors * 512 )) "c$k.part"; done
    t0=$(date +%s.%N)
    for k in $(seq 1 "$CLIENTS"); do
        ip netns exec "${P}c$k" bash -c "set -o pipefail; udp-receiver --nokbd --mcast-rdv-address 224.0.0.1 --portbase 2232 --ttl 1 2>/dev/null | zstd -dc | partclone.ext4 -r -s - -O $W/c$k.part -L $W/pc-c$k.log >/dev/null 2>&1" &
        pids+=("$!")
    done
    ip netns exec "${P}srv" bash -c "set -o pipefail; partclone.ext4 -c -s ${SRC}p1 -o - -L $W/pc-src.log 2>/dev/null | zstd -T0 -q -c | udp-sender --min-receivers $CLIENTS --interface lsnet0 --nokbd --mcast-rdv-address 224.0.0.1 --portbase 2232 --ttl 1 2>/dev/null"
    for pid in "${pids[@]}"; do wait "$pid"; done
    t1=$(date +%s.%N)
    CZ_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    CZ_OK=""; for k in $(seq 1 "$CLIENTS"); do CZ_OK="$CZ_OK $(check "c$k.part" 0)"; rm -f "c$k.part"; done
}

run_ours() {
    local t0 t1 k pids=()
    for k in $(seq 1 "$CLIENTS"); do rm -f "d$k.img"; truncate -s "${MIB}M" "d$k.img"; done
    t0=$(date +%s.%N)
    ip netns exec "${P}srv" "$FEED" --state-dir "$W/state" --log-dir "$W/logs" -b -md multicast --clients-to-wait "$CLIENTS" \
        --max-time-to-wait 120 -cbm local-boot-media -mdst from-device -mcast-iface lsnet0 start "$src_disk" sda >/dev/null
    for k in $(seq 1 "$CLIENTS"); do
        ip netns exec "${P}c$k" "$GET" -b -d "$W/d$k.img" --no-report "${NET}.1" > "$W/get-c$k.log" 2>&1 &
        pids+=("$!")
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    t1=$(date +%s.%N)
    "$FEED" --state-dir "$W/state" stop >/dev/null
    OURS_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    OURS_OK=""; for k in $(seq 1 "$CLIENTS"); do OURS_OK="$OURS_OK $(check "d$k.img" 1048576)"; rm -f "d$k.img"; done
}

printf '\n%-6s %-28s %9s %9s  %s\n' run side seconds MB/s checks
for r in $(seq 1 "$REPEAT"); do
    run_clonezilla
    printf '%-6s %-28s %9s %9s  %s\n' "$r" "Clonezilla pipeline" "$CZ_SECONDS" "$(awk -v m="$MIB" -v s="$CZ_SECONDS" -v n="$CLIENTS" 'BEGIN { printf "%.1f", m * 1.048576 * n / s }')" "$CZ_OK"
    run_ours
    printf '%-6s %-28s %9s %9s  %s\n' "$r" "LiteServer feeder + client" "$OURS_SECONDS" "$(awk -v m="$MIB" -v s="$OURS_SECONDS" -v n="$CLIENTS" 'BEGIN { printf "%.1f", m * 1.048576 * n / s }')" "$OURS_OK"
    printf '%-6s %-28s %9s\n' "$r" "ratio (ours / Clonezilla)" "$(awk -v a="$OURS_SECONDS" -v b="$CZ_SECONDS" 'BEGIN { printf "%.2fx", a / b }')"
    [[ "$CZ_OK$OURS_OK" == *BAD* ]] || bench_result deploy "${MIB} MiB disk to $CLIENTS clients, end to end" "s" lower "Clonezilla pipeline" "$CZ_SECONDS" "$OURS_SECONDS"
done
echo "(MB/s = disk size x clients / seconds; checks: each restored partition equals the source as partclone restores it and fscks clean)"

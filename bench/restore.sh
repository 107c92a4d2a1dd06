#!/usr/bin/env bash
# bench/restore.sh - ocs-restore-img against the Clonezilla pipeline, side by side, one run.
#
# A 1 GiB ext4 file system (4 KiB blocks) about half full of random data is imaged with
# partclone (Clonezilla's options: -z 10485760, CRC32) and compressed with zstd -3 and with
# gzip (pigz --fast). Each image is restored into a pre-sized 1 GiB file by
#   ours:   ocs-restore-img -b restoreparts IMG sda1 TARGET
#   anchor: zstd -dc | partclone.restore  /  pigz -dc | partclone.restore
# Both fsync the target. Minimum wall of REPS runs (default 3), peak RSS from /usr/bin/time.
# partclone idles up to 2 s at exit waiting for its progress thread; an LD_PRELOAD shim turns
# that sleep into 20 ms so the anchor is timed on its work (FASTSLEEP=0 disables it).
#
# Usage: bench/restore.sh [WORKDIR]     (needs ~4 GB free; WORKDIR is kept for reuse)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
. "$HERE/bench/tools/result.sh"
W="${1:-$(mktemp -d "${TMPDIR:-/tmp}/liteserver-bench.XXXXXX")}"
REPS="${REPS:-3}"
mkdir -p "$W"; cd "$W"
export LC_ALL=C
for t in partclone.ext4 partclone.restore mkfs.ext4 zstd pigz /usr/bin/time swift; do
  command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }
done

(cd "$HERE" && swift build -c release --product ocs-restore-img >/dev/null)
OURS="$HERE/.build/release/ocs-restore-img"

if [ ! -f fs.img ]; then
  mkdir -p src
  for i in 1 2 3 4 5 6 7 8; do head -c $((64 << 20)) /dev/urandom > "src/rand$i.bin"; done
  seq 1 2000000 > src/numbers.txt
  truncate -s 1G fs.img
  mkfs.ext4 -F -q -b 4096 -d src fs.img
  rm -rf src
fi
[ -f img.pc ] || partclone.ext4 -z 10485760 -c -s fs.img -o img.pc -L pc.log >/dev/null 2>&1
[ -f img.pc.zst ] || zstd -q -T2 -3 -c img.pc > img.pc.zst
[ -f img.pc.gz ] || pigz -c --fast -p 2 img.pc > img.pc.gz
for c in zst gz; do
  mkdir -p "img-$c"; echo sda1 > "img-$c/parts"
  ln -sf "$W/img.pc.$c" "img-$c/sda1.ext4-ptcl-img.$c"
done
used=$(od -An -t u8 -j 76 -N 8 img.pc | tr -d ' ')
bs=$(od -An -t u4 -j 84 -N 4 img.pc | tr -d ' ')
used_bytes=$((used * bs))

PRELOAD=""
if [ "${FASTSLEEP:-1}" = 1 ] && command -v gcc >/dev/null; then
  printf '#include <unistd.h>\nunsigned int sleep(unsigned int s){ usleep(s ? 20000 : 0); return 0; }\n' > fastsleep.c
  gcc -shared -fPIC -O2 -o fastsleep.so fastsleep.c
  PRELOAD="LD_PRELOAD=$W/fastsleep.so"
fi

# measure LABEL COMMAND: prints "wall rss_kib" of the fastest of REPS runs; TARGET is replaced.
measure() {
  local cmd="${2//TARGET/$W/target.img}" best="" best_rss=0
  for _ in $(seq 1 "$REPS"); do
    rm -f target.img; truncate -s 1G target.img; sync
    /usr/bin/time -f '%e %M' -o time.txt bash -c "$cmd" >/dev/null 2>run.err || { echo "FAILED: $1" >&2; cat run.err >&2; exit 1; }
    read -r wall rss < time.txt
    if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; best_rss=$rss; fi
  done
  cmp -s <(head -c $((64 << 20)) target.img) <(head -c $((64 << 20)) fs.img) || { echo "WRONG OUTPUT: $1" >&2; exit 1; }
  echo "$best $best_rss"
}

printf 'used data %s bytes; image sizes: zst %s, gz %s; machine: %s cores, %s\n' "$used_bytes" \
  "$(stat -c %s img.pc.zst)" "$(stat -c %s img.pc.gz)" "$(nproc)" "$(uname -r)"
printf '%-34s %8s %10s %10s\n' "pipeline" "wall s" "MB/s" "peak MiB"
declare -A W_
row() {
  local label="$1" cmd="$2" r wall rss
  r=$(measure "$label" "$cmd"); wall=${r% *}; rss=${r#* }
  W_[$label]=$wall
  printf '%-34s %8.2f %10.1f %10.1f\n' "$label" "$wall" "$(awk "BEGIN{print $used_bytes/$wall/1e6}")" "$(awk "BEGIN{print $rss/1024}")"
}
row "ours zstd"                    "$OURS -b restoreparts $W/img-zst sda1 TARGET"
row "zstd -dc | partclone.restore" "zstd -dc img.pc.zst | $PRELOAD partclone.restore -z 10485760 -s - -O TARGET -L r.log"
row "ours gzip"                    "$OURS -b restoreparts $W/img-gz sda1 TARGET"
row "pigz -dc | partclone.restore" "pigz -dc img.pc.gz | $PRELOAD partclone.restore -z 10485760 -s - -O TARGET -L r.log"
printf 'ratio zstd: %.2fx   ratio gzip: %.2fx   (anchor wall / our wall; target >= 1.5)\n' \
  "$(awk "BEGIN{print ${W_[zstd -dc | partclone.restore]}/${W_[ours zstd]}}")" \
  "$(awk "BEGIN{print ${W_[pigz -dc | partclone.restore]}/${W_[ours gzip]}}")"
bench_result restore "zstd image → file" "MB/s" higher "zstd -dc | partclone.restore" \
  "$(awk "BEGIN{printf \"%.1f\", $used_bytes/${W_[zstd -dc | partclone.restore]}/1e6}")" "$(awk "BEGIN{printf \"%.1f\", $used_bytes/${W_[ours zstd]}/1e6}")"
bench_result restore "gzip image → file" "MB/s" higher "pigz -dc | partclone.restore" \
  "$(awk "BEGIN{printf \"%.1f\", $used_bytes/${W_[pigz -dc | partclone.restore]}/1e6}")" "$(awk "BEGIN{printf \"%.1f\", $used_bytes/${W_[ours gzip]}/1e6}")"
rm -f target.img
echo "workdir: $W (delete when done)"

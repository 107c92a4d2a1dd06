#!/usr/bin/env bash
# bench/bittorrent.sh - ocs-bt seed against a python3-libtorrent seed, same run and topology.
#
# One seed and 4 python3-libtorrent leechers in network namespaces on a bridge
# (scripts/netns-lan.sh), a MIB-MiB (default 256) Clonezilla-layout torrent of an ext4 image
# (16 MiB pieces). Cases, each REPEAT times (default 1), the two seeds alternating:
#   ours: ocs-bt seed (built-in tracker)          lt: libtorrent seed_mode + ocs-bt tracker
# RATE=100mbit adds a tbf limit on the seed's link (both directions) for a second set of runs.
# Prints the completion time (slowest leecher, from its start), aggregate MB/s, the seed's
# upload as a multiple of the payload, and ours/lt time ratio. Leecher data is verified.
# Needs root, python3-libtorrent, partclone, e2fsprogs, zstd, tc. Usage: bench/bittorrent.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
. "$HERE/bench/tools/result.sh"
PY="${BT_PYTHON:-/usr/bin/python3}"   # the python that python3-libtorrent installs into
MIB="${MIB:-256}"; REPEAT="${REPEAT:-1}"; RATES="unlimited${RATE:+ $RATE}"
for t in python3 partclone.ext4 mkfs.ext4 zstd tc swift; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done
"$PY" -c "import libtorrent" || { echo "missing python3-libtorrent" >&2; exit 1; }
(cd "$HERE" && swift build -c release --product ocs-bt >/dev/null)
OURS="$HERE/.build/release/ocs-bt"; LAN="$HERE/scripts/netns-lan.sh"
W="$(mktemp -d /dev/shm/liteserver-bt.XXXXXX)"; P="lsbt$$-"; NET="10.79.$(( ($$ % 200) + 20 ))"; SRV="$NET.1"
trap '"$LAN" down "$P" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
cd "$W"

# The image: MIB MiB of random files in an ext4, saved with partclone, and its torrent.
mkdir root image seed
for i in $(seq 1 $(( (MIB + 31) / 32 ))); do head -c $(( 32 << 20 )) /dev/urandom > "root/f$i"; done
truncate -s $(( MIB % 32 == 0 ? 32 << 20 : (MIB % 32) << 20 )) "root/f$(( (MIB + 31) / 32 ))"
mkfs.ext4 -q -F -b 4096 -d root fs.img "$(( MIB + MIB / 8 + 16 ))M"
partclone.ext4 -c -s fs.img -o - -L c.log 2>/dev/null | zstd -q -T0 -c > image/sda1.ext4-ptcl-img.zst
"$OURS" torrent image sda1 --announce "http://$SRV:6969/announce" --cache cache -o . 2>/dev/null
"$PY" - <<'PY'
import hashlib, os, re
data = open('sda1.torrent', 'rb').read()
os.makedirs('seed/sda1', exist_ok=True)
with open('fs.img', 'rb') as fs, open('cache/image/sda1.torrent.info') as info:
    pairs = re.findall(r'offset: (\w+)\nlength: (\w+)', info.read())
    total = 0
    for off, length in pairs:
        fs.seek(int(off, 16)); open('seed/sda1/' + off, 'wb').write(fs.read(int(length, 16))); total += int(length, 16)
    open('payload.txt', 'w').write(str(total))
PY
PAYLOAD=$(cat payload.txt)

cat > lt.py <<'PY'
import libtorrent as lt, sys, time
role, ip, torrent, save, out = sys.argv[1:6]
s = lt.session({'listen_interfaces': ip + ':6881', 'outgoing_interfaces': ip, 'enable_dht': False, 'enable_lsd': False,
                'enable_upnp': False, 'enable_natpmp': False, 'enable_outgoing_utp': False, 'enable_incoming_utp': False,
                'allow_multiple_connections_per_ip': True})
params = {'ti': lt.torrent_info(torrent), 'save_path': save}
if role == 'seed': params['flags'] = lt.torrent_flags.seed_mode
h = s.add_torrent(params)
start = time.time()
while time.time() - start < 300:
    st = h.status()
    if role == 'leech' and st.is_seeding:
        open(out, 'w').write('%.2f\n' % (time.time() - start)); time.sleep(2); break
    if role == 'seed': open(out, 'w').write('%d\n' % st.total_payload_upload)
    time.sleep(0.1)
PY

run_case() {   # run_case ours|lt RATE -> "seconds upload_bytes ok"
  local seed="$1" rate="$2" pids=() k
  "$LAN" down "$P" >/dev/null 2>&1 || true
  "$LAN" up "$P" "$NET" 4 >/dev/null
  if [ "$rate" != unlimited ]; then
    ip netns exec "${P}srv" tc qdisc add dev lsnet0 root tbf rate "$rate" burst 256kb latency 20ms
    ip netns exec "${P}sw" tc qdisc add dev p-srv root tbf rate "$rate" burst 256kb latency 20ms
  fi
  rm -rf run dl*; mkdir run
  if [ "$seed" = ours ]; then
    ip netns exec "${P}srv" "$OURS" seed image sda1 --address "$SRV" --cache cache --torrent-dir run --seed-time 300 \
       --announce-interval 5 > run/seed.log 2>&1 & pids+=($!)
    for _ in $(seq 100); do [ -f run/sda1.torrent ] && break; sleep 0.1; done
  else
    cp sda1.torrent run/
    ip netns exec "${P}srv" "$OURS" tracker run/sda1.torrent --address "$SRV" --announce-interval 5 > run/tracker.log 2>&1 & pids+=($!)
    ip netns exec "${P}srv" "$PY" lt.py seed "$SRV" run/sda1.torrent seed run/upload.txt > run/seed.log 2>&1 & pids+=($!)
  fi
  sleep 1
  local leechers=()
  for k in 1 2 3 4; do
    mkdir "dl$k"
    ip netns exec "${P}c$k" timeout 300 "$PY" lt.py leech "$NET.$((10 + k))" run/sda1.torrent "dl$k" "run/done$k" > "run/l$k.log" 2>&1 &
    leechers+=($!)
  done
  for k in "${leechers[@]}"; do wait "$k" || true; done
  local upload
  if [ "$seed" = ours ]; then
    kill -TERM "${pids[0]}"; wait "${pids[0]}" || true
    upload=$(grep -o 'uploaded [0-9]*' run/seed.log | tail -1 | awk '{print $2}')
  else
    upload=$(cat run/upload.txt); kill -TERM "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true
  fi
  local worst=0 ok=yes
  for k in 1 2 3 4; do
    [ -f "run/done$k" ] || { ok=NO; continue; }
    worst=$(awk -v a="$worst" -v b="$(cat "run/done$k")" 'BEGIN{print (b > a ? b : a)}')
    cmp -s <(cat "dl$k"/sda1/*) <(cat seed/sda1/*) || ok=NO
  done
  echo "$worst ${upload:-0} $ok"
}

printf '%-10s | %-32s | %-32s | %s\n' "link" "libtorrent seed: s MB/s upload" "ocs-bt seed: s MB/s upload" "time ratio"
for rate in $RATES; do
  for r in $(seq 1 "$REPEAT"); do
    read -r lt_s lt_up lt_ok <<<"$(run_case lt "$rate")"
    read -r our_s our_up our_ok <<<"$(run_case ours "$rate")"
    fmt() { awk -v s="$1" -v u="$2" -v p="$PAYLOAD" 'BEGIN{ if (s > 0) printf "%6.1f %6.1f %5.2fx", s, 4 * p / s / 1e6, u / p; else printf "failed" }'; }
    printf '%-10s | %-24s %-7s | %-24s %-7s | %s\n' "$rate" "$(fmt "$lt_s" "$lt_up")" "$lt_ok" "$(fmt "$our_s" "$our_up")" "$our_ok" \
      "$(awk -v a="$our_s" -v b="$lt_s" 'BEGIN{ if (a > 0 && b > 0) printf "%.2fx", a / b; else print "?" }')"
    bench_result bittorrent "${MIB} MiB to 4 leechers, link $rate" "s" lower "libtorrent seed" "$lt_s" "$our_s"
  done
done

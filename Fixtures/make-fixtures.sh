#!/usr/bin/env bash
# make-fixtures.sh - regenerate LiteServer's image fixtures with the real tools.
#
#   make-fixtures.sh disk dos|gpt OUTDIR
#       Build a 32 MiB disk (ext4 sda1, FAT16 sda2, swap sda3, raw sda4, boot-code and
#       hidden-data markers) in a regular file, save it as a Clonezilla image directory
#       (OUTDIR/image) with partclone + zstd/gzip + split 16384, and write OUTDIR/expected/
#       (region hashes after a restore with sfdisk + partclone.restore into a zero file).
#       File systems carry timestamps, so a new run gives new hashes: keep image/ and
#       expected/ of one run together.
#   make-fixtures.sh variants OUTDIR
#       Re-image the committed cz-gpt sda1 (restored with partclone.restore) with other
#       partclone options (reseed off: -k 7 -K). Each variant must restore to the cz-gpt
#       sda1 region hash. PARTCLONE_NEW=DIR (a partclone >= 0.3.39 with xxhash) adds XXH
#       variants.
#   make-fixtures.sh torrent-info OUTDIR
#       partclone's torrent.info (restore rule, `-r -t -z 16777216`, what Clonezilla's
#       ocs-gen-bt-slices runs) for each partclone partition of the committed cz-dos and
#       cz-gpt images: OUTDIR/<fixture>-<dev>.torrent.info. The torrent builder must match.
#
# Needs: partclone, e2fsprogs, dosfstools, mtools, fdisk (sfdisk), zstd, gzip, coreutils.
# Touches no block device and mounts nothing.
set -euo pipefail
export LC_ALL=C TZ=UTC MTOOLS_SKIP_CHECK=1 E2FSPROGS_FAKE_TIME=1700000000
HERE="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-}"; shift || true

need() { for t in "$@"; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done; }
sha() { dd if="$1" bs=512 skip="$2" count="$3" status=none | sha256sum | cut -d' ' -f1; }

make_disk() {
  local pt="$1" out="$2"
  need partclone.ext4 partclone.vfat partclone.dd partclone.restore mkfs.ext4 mkfs.vfat mcopy mkswap sfdisk zstd gzip split md5sum sha1sum
  rm -rf "$out"; mkdir -p "$out/image" "$out/expected" "$out/work"
  local w="$out/work" img="$out/image" d="$out/work/disk.img"
  # partitions in sectors: sda1 ext4 16 MiB, sda2 FAT16 8 MiB, sda3 swap 2 MiB, sda4 raw 1 MiB
  mkdir -p "$w/root/dir"; printf 'hello from the fixture\n' > "$w/root/hello.txt"
  head -c 24576 /dev/urandom > "$w/root/random.bin"; truncate -s 1M "$w/root/sparse.bin"; ln -s hello.txt "$w/root/link"
  head -c 8192 /dev/urandom > "$w/root/deleted.bin"
  truncate -s 16M "$w/p1.img"; mkfs.ext4 -q -F -b 4096 -N 128 -J size=4 -L fxroot -d "$w/root" "$w/p1.img"
  debugfs -w -R "rm /deleted.bin" "$w/p1.img" >/dev/null 2>&1
  truncate -s 8M "$w/p2.img"; mkfs.vfat -F 16 -s 2 -n FXDATA -i 1234ABCD "$w/p2.img" >/dev/null
  mcopy -i "$w/p2.img" "$w/root/hello.txt" ::/HELLO.TXT; mcopy -i "$w/p2.img" "$w/root/random.bin" ::/GONE.BIN; mdel -i "$w/p2.img" ::/GONE.BIN
  truncate -s 2M "$w/p3.img"; mkswap -U 5a5a0001-2222-4333-8444-555566667777 -L fxswap "$w/p3.img" >/dev/null 2>&1
  { echo "FIXTURE-RAW-PARTITION"; head -c 16384 /dev/urandom; } > "$w/p4.img"; truncate -s 1M "$w/p4.img"
  truncate -s $((65536*512)) "$d"
  if [ "$pt" = gpt ]; then
    printf 'label: gpt\nlabel-id: 6B2C0F0E-8C1A-4F7B-9D55-0123456789AB\n\nstart=2048, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=11111111-1111-4111-8111-111111111111, name="fxroot"\nstart=34816, size=16384, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=22222222-2222-4222-8222-222222222222, name="fxdata"\nstart=51200, size=4096, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=33333333-3333-4333-8333-333333333333, name="fxswap"\nstart=55296, size=2048, type=8DA63339-0007-60C0-C436-083AC8230908, uuid=44444444-4444-4444-8444-444444444444, name="fxraw"\n' > "$w/layout"
  else
    printf 'label: dos\nlabel-id: 0x5eed1234\n\nstart=2048, size=32768, type=83, bootable\nstart=34816, size=16384, type=e\nstart=51200, size=4096, type=82\nstart=55296, size=2048, type=da\n' > "$w/layout"
  fi
  sfdisk -q --no-reread --no-tell-kernel "$d" < "$w/layout"
  # boot code marker in bytes 0-439; hidden data markers in the MBR gap (MBR disks only)
  local code; code=$(printf 'FIXTURE-BOOTCODE%.0s' {1..28}); printf '%s' "${code:0:440}" | dd of="$d" conv=notrunc status=none
  if [ "$pt" = dos ]; then
    printf 'FIXTURE-HIDDEN-DATA-SECTOR-1' | dd of="$d" bs=512 seek=1 conv=notrunc status=none
    printf 'FIXTURE-HIDDEN-DATA-SECTOR-2047' | dd of="$d" bs=512 seek=2047 conv=notrunc status=none
  fi
  local n start
  for n in 1 2 3 4; do start=$(sfdisk -d "$d" | awk -v p="${d}$n" '$1==p {gsub(",","",$4); print $4}')
    dd if="$w/p$n.img" of="$d" bs=512 seek="$start" conv=notrunc status=none; done
  # the image directory, as ocs-sr savedisk writes it
  echo sda > "$img/disk"; echo "sda1 sda2 sda4" > "$img/parts"
  sfdisk -d "$d" | sed -e "s#$d#/dev/sda#g" > "$img/sda-pt.sf"
  dd if="$d" of="$img/sda-mbr" bs=512 count=1 status=none
  [ "$pt" = dos ] && dd if="$d" of="$img/sda-hidden-data-after-mbr" bs=512 skip=1 count=2047 status=none
  if [ "$pt" = gpt ]; then
    dd if="$d" of="$img/sda-gpt-1st" bs=512 count=34 status=none
    dd if="$d" of="$img/sda-gpt-2nd" bs=512 skip=65503 count=33 status=none
  fi
  printf 'Model:  (file)\nDisk /dev/sda: 65536s\nSector size (logical/physical): 512B/512B\nPartition Table: %s\n' "$([ "$pt" = gpt ] && echo gpt || echo msdos)" > "$img/sda-pt.parted"
  printf '# <Device name>   <File system>   <Size>\n# File system is got from ocs-get-dev-info.\n/dev/sda1 ext4 16M\n/dev/sda2 vfat 8M\n/dev/sda4  1M\n/dev/sda3 swap 2M\n' > "$img/dev-fs.list"
  printf 'UUID="5a5a0001-2222-4333-8444-555566667777"\nLABEL="fxswap"\n' > "$img/swappt-sda3.info"
  partclone.ext4 -z 10485760 -c -s "$w/p1.img" --output - -L "$w/pc.log" 2>/dev/null | zstd -q -c -3 | split -a 2 -b 16384 - "$img/sda1.ext4-ptcl-img.zst."
  partclone.vfat -z 10485760 -c -s "$w/p2.img" --output - -L "$w/pc.log" 2>/dev/null | gzip -c --fast | split -a 2 -b 16384 - "$img/sda2.vfat-ptcl-img.gz."
  partclone.dd -z 16777216 -s "$w/p4.img" --output - -L "$w/pc.log" 2>/dev/null | zstd -q -c -3 | split -a 2 -b 16384 - "$img/sda4.dd-ptcl-img.zst."
  (cd "$img" && md5sum -- * > "$w/MD5SUMS" && sha1sum -- * > "$w/SHA1SUMS") && mv "$w/MD5SUMS" "$w/SHA1SUMS" "$img/"
  # expected: restore with the real tools into a zero-filled file, then hash regions
  local r="$w/restored.img"; truncate -s $((65536*512)) "$r"
  sfdisk --force --no-reread --no-tell-kernel -q "$r" < "$img/sda-pt.sf"
  dd if="$img/sda-mbr" of="$r" bs=446 count=1 conv=notrunc status=none
  [ "$pt" = dos ] && dd if="$img/sda-hidden-data-after-mbr" of="$r" bs=512 seek=1 conv=notrunc status=none
  cat "$img"/sda1.ext4-ptcl-img.zst.* | zstd -dc | partclone.restore -z 10485760 -s - -O "$r" -E $((2048*512)) -L "$w/r.log" >/dev/null 2>&1
  cat "$img"/sda2.vfat-ptcl-img.gz.* | gzip -dc | partclone.restore -z 10485760 -s - -O "$r" -E $((34816*512)) -L "$w/r.log" >/dev/null 2>&1
  cat "$img"/sda4.dd-ptcl-img.zst.* | zstd -dc | dd of="$r" bs=512 seek=55296 conv=notrunc status=none
  dd if="$w/p3.img" of="$r" bs=512 seek=51200 conv=notrunc status=none
  echo 65536 > "$out/expected/disk-sectors.txt"
  {
    echo "# region  start_sector  sectors  sha256(restored, real tools)  sha256(original disk)  same?"
    local regions="mbr 0 1"
    if [ "$pt" = dos ]; then regions+=" hidden 1 2047"; else regions+=" gpt-primary 1 33 gpt-backup 65503 33"; fi
    regions+=" sda1 2048 32768 sda2 34816 16384 sda3 51200 4096 sda4 55296 2048"
    set -- $regions
    while [ $# -gt 0 ]; do
      a=$(sha "$r" "$2" "$3"); b=$(sha "$d" "$2" "$3")
      echo "$1 $2 $3 $a $b $([ "$a" = "$b" ] && echo same || echo differs)"; shift 3
    done
    echo "whole-disk 0 65536 $(sha256sum < "$r" | cut -d' ' -f1) $(sha256sum < "$d" | cut -d' ' -f1)"
  } > "$out/expected/regions.txt"
  sha256sum < "$r" | cut -d' ' -f1 > "$out/expected/restored-disk.sha256"
  rm -rf "$w"
  echo "fixture written to $out"
}

make_variants() {
  local out="$1" src="$HERE/cz-gpt/image"
  need partclone.ext4 partclone.restore zstd
  mkdir -p "$out"; local w; w="$(mktemp -d)"; trap 'rm -rf "$w"' RETURN
  truncate -s 16M "$w/p1.img"
  cat "$src"/sda1.ext4-ptcl-img.zst.* | zstd -dc | partclone.restore -s - -O "$w/p1.img" -L "$w/r.log" >/dev/null 2>&1
  partclone.ext4 -k 7 -K -c -s "$w/p1.img" --output - -L "$w/s.log" 2>/dev/null | zstd -q -c > "$out/sda1.ext4-ptcl-img.k7-noreseed-crc32.zst"
  if [ -n "${PARTCLONE_NEW:-}" ]; then
    "$PARTCLONE_NEW/partclone.extfs" -a 3 -k 7 -K -c -s "$w/p1.img" --output - -L "$w/s.log" 2>/dev/null | zstd -q -c > "$out/sda1.ext4-ptcl-img.a3-k7-noreseed-xxh128.zst"
  fi
  for v in "$out"/*.zst; do
    rm -f "$w/check.img"; truncate -s 16M "$w/check.img"
    zstd -dc "$v" | partclone.restore -s - -O "$w/check.img" -L "$w/r.log" >/dev/null 2>&1 || echo "note: distribution partclone cannot restore $(basename "$v")"
    echo "$(basename "$v") $(sha256sum < "$w/check.img" | cut -d' ' -f1)"
  done
}

make_torrent_info() {
  local out="$1" fixture file dev fs unzip w
  need zstd gzip
  mkdir -p "$out"; w="$(mktemp -d)"; trap 'rm -rf "$w"' RETURN
  for fixture in cz-dos cz-gpt; do
    for file in "$HERE/$fixture"/image/*-ptcl-img.*.aa; do
      dev="$(basename "$file" | cut -d. -f1)"; fs="$(basename "$file" | cut -d. -f2 | sed 's/-ptcl-img//')"
      [ "$fs" = dd ] && continue   # partclone.dd writes no torrent.info from a stream
      need "partclone.$fs"
      case "$file" in *.zst.aa) unzip="zstd -dc" ;; *.gz.aa) unzip="gzip -dc" ;; esac
      rm -rf "$w/t"
      cat "${file%.aa}".* | $unzip | "partclone.$fs" -r -s - -t -z 16777216 -o "$w/t" -L "$w/log" >/dev/null 2>&1
      cp "$w/t/torrent.info" "$out/$fixture-$dev.torrent.info"
    done
  done
}

case "$cmd" in
  torrent-info) [ $# -eq 1 ] || { sed -n '2,27p' "$0"; exit 2; }; make_torrent_info "$1" ;;
  disk) [ $# -eq 2 ] || { sed -n '2,27p' "$0"; exit 2; }; make_disk "$1" "$2" ;;
  variants) [ $# -eq 1 ] || { sed -n '2,27p' "$0"; exit 2; }; make_variants "$1" ;;
  *) sed -n '2,27p' "$0"; exit 2 ;;
esac

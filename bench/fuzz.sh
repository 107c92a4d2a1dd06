#!/usr/bin/env bash
# bench/fuzz.sh - every decoder of untrusted input, fuzzed for RUNS (default 1 000 000) inputs.
#
# Targets (liteserver-fuzz list): partclone streams, sfdisk dumps, ocs-client-run.conf,
# bencode/.torrent, BitTorrent peer wire, udpcast messages, DHCP, TFTP, HTTP responses.
# Engine: libFuzzer (coverage-guided) when swiftc can build with -sanitize=fuzzer, else the
# built-in mutator (seeded, repeatable). Each target starts from its built-in seeds plus the
# repository's real files of that format (the fixtures' partclone streams, decompressed and cut
# to 256 KiB, and their sfdisk dumps). A crash or a broken invariant stops that target, keeps
# the input in OUT, and makes the script exit 1.
# Usage: bench/fuzz.sh [OUT]   (RUNS=…, TARGETS="dhcp tftp" for a subset, ENGINE=builtin)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$(mktemp -d /var/tmp/liteserver-fuzz.XXXXXX)}"
RUNS="${RUNS:-1000000}"
mkdir -p "$OUT"
cd "$HERE"

# The built-in engine always; libFuzzer in its own build directory (instrumented modules).
swift build -c release --product liteserver-fuzz >/dev/null
BUILTIN="$HERE/.build/release/liteserver-fuzz"
ENGINE="${ENGINE:-libfuzzer}"
if [ "$ENGINE" = libfuzzer ]; then
  if swift build -c release --product liteserver-fuzz --build-path "$HERE/.build-fuzz" \
       -Xswiftc -sanitize=fuzzer -Xswiftc -DLIBFUZZER > "$OUT/libfuzzer-build.log" 2>&1; then
    LIBFUZZER="$HERE/.build-fuzz/release/liteserver-fuzz"
  else
    echo "fuzz: libFuzzer build failed (see $OUT/libfuzzer-build.log); using the built-in engine" >&2
    ENGINE=builtin
  fi
fi

corpus() {   # TARGET DIR: seeds and real files
  local target="$1" dir="$2" f
  mkdir -p "$dir"
  "$BUILTIN" seeds "$target" "$dir"
  case "$target" in
    partclone)
      for f in Fixtures/cz-*/image/*-ptcl-img.* Fixtures/partclone-variants/*.zst Fixtures/partclone-extra/*.zst; do
        case "$f" in *.aa|*.zst) ;; *) continue ;; esac
        case "$f" in *dd-ptcl*) continue ;; esac
        base="${f%.aa}"
        case "$base" in *.gz) cat "$base".* | gzip -dc ;; *.zst.*|*.zst) cat "$base"* | zstd -dcq ;; esac 2>/dev/null \
          | head -c 262144 > "$dir/real-$(basename "$base")" || true
      done ;;
    sfdisk) for f in Fixtures/cz-*/image/sda-pt.sf; do cp "$f" "$dir/real-$(basename "$(dirname "$(dirname "$f")")").sf"; done ;;
  esac
}

printf '%-22s %-10s %10s %9s  %s\n' target engine inputs seconds result
status=0
for target in ${TARGETS:-$("$BUILTIN" list | awk '{print $1}')}; do
  dir="$OUT/corpus-$target"; corpus "$target" "$dir"
  t0=$(date +%s.%N)
  if [ "$ENGINE" = libfuzzer ]; then
    mkdir -p "$OUT/findings-$target"
    # Swift's own backtracer would take the crash signal first; libFuzzer must, to save the input.
    if SWIFT_BACKTRACE=enable=no LITESERVER_FUZZ_TARGET="$target" "$LIBFUZZER" -runs="$RUNS" -max_len=262144 -timeout=20 -rss_limit_mb=4096 \
         -print_final_stats=1 -artifact_prefix="$OUT/findings-$target/" "$dir" > "$OUT/$target.log" 2>&1; then
      result="no finding; $(grep -o 'cov: [0-9]*' "$OUT/$target.log" | tail -1) edges, corpus $(ls "$dir" | wc -l) inputs"
    else
      result="FINDING: $(ls "$OUT/findings-$target" | head -1) ($OUT/$target.log)"; status=1
    fi
    inputs=$(awk '/stat::number_of_executed_units/{print $2}' "$OUT/$target.log"); inputs="${inputs:-?}"
  else
    if (cd "$OUT" && "$BUILTIN" run "$target" --runs "$RUNS" --corpus "$dir" --max-len 262144) > "$OUT/$target.log" 2>&1; then
      result="no finding"
    else
      result="FINDING: $(tail -1 "$OUT/$target.log")"; status=1
    fi
    inputs="$RUNS"
  fi
  printf '%-22s %-10s %10s %9.1f  %s\n' "$target" "$ENGINE" "$inputs" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$result"
done
echo "fuzz: logs, corpora and any findings in $OUT"
exit "$status"

# bench/tools/result.sh - sourced by the bench scripts: one result row for bench/run-all.sh.
#
# bench_result BENCH CASE UNIT BETTER ANCHOR ANCHOR_VALUE OURS_VALUE
#   UNIT: "s", "MB/s", ...; BETTER: "lower" (a time) or "higher" (a rate).
# Appends a tab-separated row to $BENCH_RESULTS when it is set (run-all.sh sets it); a script
# run alone prints its own table and this does nothing.
bench_result() {
  [ -n "${BENCH_RESULTS:-}" ] || return 0
  [ "$#" = 7 ] || { echo "bench_result: 7 fields expected, got $#" >&2; return 1; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_RESULTS"
}

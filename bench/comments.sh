#!/usr/bin/env bash
# Reading ptcpdump's layout (comments only) against reading ours (issue: right answers first):
# the same packets and owners written twice — as ptcpdump writes them (full comments, no
# structured options) and as `ptanalyze -w` copies that file (our structured options) — then,
# in the same run, interleaved, medians of RUNS: `ptanalyze --flows`, `--stats` and a
# `--container-name` filter on each. The floor: ptcpdump's layout costs at most 1.5x ours.
# Usage: bash bench/comments.sh [PACKETS] [RUNS]   (defaults 400000, 7)
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${1:-400000}
RUNS=${2:-7}
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p ptcap-bench -p export
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
PT=target/release/ptanalyze
target/release/gen_capture "$DIR/ptcpdump.pcapng" "$PACKETS" ptcpdump >/dev/null
"$PT" -w "$DIR/ours.pcapng" "$DIR/ptcpdump.pcapng"
echo "files: ptcpdump layout $(stat -c %s "$DIR/ptcpdump.pcapng") bytes, ours $(stat -c %s "$DIR/ours.pcapng") bytes, $PACKETS packets"
cat "$DIR"/*.pcapng >/dev/null

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
TIMES="$DIR/times"
run() { # name args...
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  echo "$name $(echo "$t1 - $t0" | bc -l)" >>"$TIMES"
}
for _ in $(seq "$RUNS"); do
  for layout in ptcpdump ours; do
    run "flows-$layout" "$PT" -j 1 --flows "$DIR/$layout.pcapng"
    run "stats-$layout" "$PT" -j 1 --stats "$DIR/$layout.pcapng"
    run "filter-$layout" "$PT" -j 1 --container-name web1 --json "$DIR/$layout.pcapng"
  done
done
printf '%-28s %10s %10s %8s\n' "1 thread, median of $RUNS" "ptcpdump" "ours" "ratio"
for w in flows stats filter; do
  a=$(awk -v n="$w-ptcpdump" '$1==n {print $2}' "$TIMES" | median)
  b=$(awk -v n="$w-ours" '$1==n {print $2}' "$TIMES" | median)
  printf '%-28s %9.3fs %9.3fs %7.2fx\n' "$w" "$a" "$b" "$(echo "$a / $b" | bc -l)"
done

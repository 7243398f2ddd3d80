#!/usr/bin/env bash
# Sections and interfaces cost O(1) each (issue 10). In the same run, medians of RUNS runs:
#   - files made by cat of N one-section pcapng files (what rotation plus cat gives):
#     ptanalyze -c 1 F, ptanalyze F >/dev/null  vs  tcpdump -c 1 -r F, tcpdump -r F >/dev/null
#   - one section with N interface description blocks (bench/gen_idbs.py):
#     ptanalyze F  vs  tcpdump -r F
#   - a big file (BIG_SECTIONS sections of 100,000 packets each, 72 MB per section; default
#     20: 1.4 GB, on disk under OUTDIR): the first line (-c 1, -c 1 with an expression,
#     ptanalyze F | head -1) and the whole listing, vs tcpdump
# BEFORE=path/to/an/older/ptanalyze adds its figures, BEFORE_RUNS runs each (default 1; runs
# over 60 s are cut off: "timeout").
# Usage: bash bench/sections.sh [RUNS] [OUTDIR]   (defaults: 5, a new directory under /dev/shm)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p ptcap-bench -p export
if [ -n "${2:-}" ]; then OUT=$2; mkdir -p "$OUT"; else OUT=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d); fi
trap '[ -z "${2:-}" ] && rm -rf "$OUT"' EXIT
PT=target/release/ptanalyze
BEFORE=${BEFORE:-}
BRUNS=${BEFORE_RUNS:-1}

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# Seconds of one run of "$@" (stdout and stderr to /dev/null), or "timeout" after 60 s.
secs() {
  local t0 t1
  local rc=0
  t0=$(date +%s.%N)
  timeout 60 "$@" >/dev/null 2>&1 || rc=$?
  t1=$(date +%s.%N)
  [ "$rc" -eq 124 ] && { echo timeout; return; }
  echo "$t1 - $t0" | bc -l
}
# Median of RUNS runs, interleaving is left to the caller's order.
med() { medn "$RUNS" "$@"; }
medn() {
  local n=$1 i out; shift
  out=$(for i in $(seq "$n"); do secs "$@"; done)
  if grep -q timeout <<<"$out"; then echo "timeout"; else median <<<"$out"; fi
}
row() { printf '%-34s %10s %10s %10s\n' "$@"; }

target/release/gen_capture "$OUT/one.pcapng" 10 >/dev/null
echo "one section: $(stat -c %s "$OUT/one.pcapng") bytes (SHB, IDB, 10 packets with metadata)"
row "file" "ptanalyze" "tcpdump" "before"
for n in 400 1600 12800 20000; do
  f="$OUT/cat$n.pcapng"
  for _ in $(seq "$n"); do echo "$OUT/one.pcapng"; done | xargs cat >"$f"
  b1=-; b2=-
  if [ -n "$BEFORE" ]; then b1=$(medn "$BRUNS" "$BEFORE" -c 1 "$f"); b2=$(medn "$BRUNS" "$BEFORE" "$f"); fi
  row "cat of $n sections, -c 1" "$(med $PT -c 1 "$f")" "$(med tcpdump -c 1 -r "$f")" "$b1"
  row "cat of $n sections, all" "$(med $PT "$f")" "$(med tcpdump -r "$f")" "$b2"
  rm -f "$f"
done
for n in 10000 40000 100000; do
  f="$OUT/idb$n.pcapng"
  python3 bench/gen_idbs.py "$f" "$n"
  b=-
  [ -n "$BEFORE" ] && b=$(medn "$BRUNS" "$BEFORE" "$f")
  row "$n IDBs ($(($(stat -c %s "$f") / 1024)) KiB), all" "$(med $PT "$f")" "$(med tcpdump -r "$f")" "$b"
  rm -f "$f"
done
big=$(mktemp -p "${TMPDIR:-/tmp}" -d ptcap-big-XXXXXX)
trap '[ -z "${2:-}" ] && rm -rf "$OUT"; rm -rf "$big"' EXIT
target/release/gen_capture "$big/one.pcapng" 100000 >/dev/null
for _ in $(seq "${BIG_SECTIONS:-20}"); do echo "$big/one.pcapng"; done | xargs cat >"$big/big.pcapng"
rm -f "$big/one.pcapng"
f="$big/big.pcapng"
cat "$f" >/dev/null # in the page cache for both
sz="$(($(stat -c %s "$f") / 1048576)) MiB"
b1=-; b2=-; b3=-; b4=-
if [ -n "$BEFORE" ]; then
  b1=$(medn "$BRUNS" "$BEFORE" -c 1 "$f"); b2=$(medn "$BRUNS" "$BEFORE" -c 1 "$f" port 80)
  b3=$(medn "$BRUNS" bash -c "$BEFORE $f | head -1"); b4=$(medn "$BRUNS" "$BEFORE" "$f")
fi
row "$sz, -c 1" "$(med $PT -c 1 "$f")" "$(med tcpdump -c 1 -r "$f")" "$b1"
row "$sz, -c 1 port 80" "$(med $PT -c 1 "$f" port 80)" "$(med tcpdump -c 1 -r "$f" port 80)" "$b2"
row "$sz, | head -1" "$(med bash -c "$PT $f | head -1")" "$(med bash -c "tcpdump -r $f | head -1")" "$b3"
row "$sz, all" "$(med $PT "$f")" "$(med tcpdump -r "$f")" "$b4"

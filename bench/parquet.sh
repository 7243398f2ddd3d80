#!/usr/bin/env bash
# The table export benchmark (issue 15). On the benchmark capture (5 M packets, made with
# gen_capture if missing), in the same run, interleaved, medians of several runs, rows/s:
#   - ptanalyze --packets -o x.parquet F     (-j 2 and -j 1)
#   - ptanalyze --packets -o x.csv F         (-j 2)
#   - ptanalyze --json F > x.json            (-j 2: the packets as JSON lines, to a file)
#   - ptanalyze --flows F                    (-j 2: the issue's floor, parquet <= 2x this)
#   - tshark -r F -T fields -e ... > x.tsv   (the usual way to get a table out of a capture)
# Outputs go to tmpfs (as bench/analyze.sh: the disk's writeback would be measured otherwise).
# Usage: bash bench/parquet.sh [FILE] [RUNS] [TSHARK_RUNS] [OUTDIR]
#   defaults: bench/out/bench-5000000.pcapng, 5, 1, a new directory under /dev/shm (else /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-bench/out/bench-5000000.pcapng}
RUNS=${2:-5}
TRUNS=${3:-1}
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p ptcap-bench -p export
if [ ! -f "$FILE" ]; then
  mkdir -p "$(dirname "$FILE")"
  target/release/gen_capture "$FILE" 5000000 >/dev/null
fi
if [ -n "${4:-}" ]; then
  OUT=$4
elif [ -d /dev/shm ] && [ "$(df -k --output=avail /dev/shm | tail -1)" -gt $((8 << 20)) ]; then
  OUT=$(mktemp -d -p /dev/shm)
else
  OUT=$(mktemp -d)
fi
mkdir -p "$OUT"
TIMES=$(mktemp)
trap 'rm -f "$OUT"/x.* "$TIMES" "$TIMES".*; [ -z "${4:-}" ] && rm -rf "$OUT"' EXIT
PT=target/release/ptanalyze
echo "outputs in $OUT ($(df --output=fstype "$OUT" | tail -1)); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# Runs one command (its standard output to $2's file) and appends "name seconds rss_kib".
measure() {
  local name=$1 out=$2; shift 2
  rm -f "$OUT"/x.*; sync
  /usr/bin/time -v "$@" >"$out" 2>"$TIMES.one" || { cat "$TIMES.one" >&2; exit 1; }
  awk -v n="$name" -F': ' '/Elapsed \(wall clock\)/ {k=split($2,t,":"); s=0; for(i=1;i<=k;i++) s=s*60+t[i]; w=s}
              /Maximum resident/ {r=$2} END {print n, w, r}' "$TIMES.one" >>"$TIMES"
}
med() { awk -v n="$1" '$1==n {print $2}' "$TIMES" | median; }
rss() { awk -v n="$1" '$1==n && $3>m {m=$3} END {print int(m/1024)}' "$TIMES"; }
all() { awk -v n="$1" '$1==n {printf " %s", $2}' "$TIMES"; }

size=$(stat -L -c %s "$FILE")
rows=$($PT --count "$FILE" | cut -d' ' -f1)
echo "file: $FILE, $size bytes, $rows packets"
cat "$FILE" >/dev/null   # warm the page cache once for every tool alike

for _ in $(seq "$RUNS"); do
  measure parquet2 /dev/null $PT -j 2 --packets -o "$OUT/x.parquet" "$FILE"
  measure parquet1 /dev/null $PT -j 1 --packets -o "$OUT/x.parquet" "$FILE"
  measure csv2 /dev/null $PT -j 2 --packets -o "$OUT/x.csv" "$FILE"
  measure json2 "$OUT/x.json" $PT -j 2 --json "$FILE"
  measure flows2 /dev/null $PT -j 2 --flows "$FILE"
done
$PT --packets -o "$OUT/x.parquet" "$FILE"
psize=$(stat -c %s "$OUT/x.parquet")
$PT --json "$FILE" >"$OUT/x.json"
jsize=$(stat -c %s "$OUT/x.json")
for _ in $(seq "$TRUNS"); do
  measure tshark "$OUT/x.tsv" tshark -r "$FILE" -T fields -e frame.time_epoch -e frame.interface_name \
    -e frame.len -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport \
    -e ip.proto -e tcp.flags -e frame.comment
done

rate() { echo "$rows / $(med "$1")" | bc -l | awk '{printf "%.0f", $1}'; }
row() { echo "$2: median $(med "$1") s = $(rate "$1") rows/s, peak RSS $(rss "$1") MiB (runs:$(all "$1"))"; }
row parquet2 "ptanalyze -j 2 --packets -o x.parquet"
row parquet1 "ptanalyze -j 1 --packets -o x.parquet"
row csv2 "ptanalyze -j 2 --packets -o x.csv"
row json2 "ptanalyze -j 2 --json > x.json"
row flows2 "ptanalyze -j 2 --flows"
if [ "$TRUNS" -gt 0 ]; then row tshark "tshark -T fields (12 fields) > x.tsv ($TRUNS runs)"; fi
ratio() { echo "$(med "$1") / $(med "$2")" | bc -l | cut -c1-6; }
echo "sizes: x.parquet $psize bytes, x.json $jsize bytes"
echo "--packets -o parquet / --flows = $(ratio parquet2 flows2)x   (floor: at most 2x)"
echo "--json to a file / --packets -o parquet = $(ratio json2 parquet2)x"
echo "parquet -j 1 / -j 2 = $(ratio parquet1 parquet2)x"
if [ "$TRUNS" -gt 0 ]; then echo "tshark -T fields / --packets -o parquet = $(ratio tshark parquet2)x"; fi

#!/usr/bin/env bash
# The ptanalyze benchmark (issue: ptanalyze). On the benchmark capture of bench/run.sh (>= 1 GiB,
# 5 M packets; made here with gen_capture if missing), in the same run, medians of several runs:
#   - ptanalyze --flows F                     vs  tshark -q -z conv,tcp -r F
#   - ptanalyze --container-name web1 -w O F  vs  tshark -r F -Y 'frame.comment contains "web1"' -w O
#   - ptanalyze with 1 and with 2 threads, peak RSS (/usr/bin/time -v)
# Runs are interleaved (run i of every configuration, then run i+1), so a slow phase of this
# noisy machine hits every configuration alike; ratios are of medians. Before every -w run the
# previous output is removed and dirty pages are synced, so each run starts from the same state
# and none pays for the writeback of the one before (tshark alike).
# Outputs (-w, both tools) go to tmpfs by default: on this VM the disk's writeback made -w
# times vary by up to 2x from one run to the next (-j 2 / -j 1 measured 1.30x to 1.94x to
# /tmp, 2.0x to 2.1x to tmpfs), which measures the disk, not the programs. Give OUTDIR to
# write elsewhere, e.g. /tmp/x for the disk.
# Usage: bash bench/analyze.sh [FILE] [RUNS] [TSHARK_RUNS] [OUTDIR]
#   defaults: bench/out/bench-5000000.pcapng, 5, 1, a new directory under /dev/shm (else /tmp);
#   tshark takes minutes per run on 5 M packets and runs at most 3 times (0: not at all).
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-bench/out/bench-5000000.pcapng}
RUNS=${2:-5}
TRUNS=${3:-1}
[ "$TRUNS" -gt 3 ] && TRUNS=3
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
echo "outputs in $OUT ($(df --output=fstype "$OUT" | tail -1))"
mkdir -p "$OUT"
TIMES=$(mktemp)
trap 'rm -rf "$OUT"/*.pcapng "$TIMES" "$TIMES".*; [ -z "${4:-}" ] && rm -rf "$OUT"' EXIT
PT=target/release/ptanalyze

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# Runs one command (output to /dev/null) and appends "name seconds peak_rss_kib" to $TIMES.
measure() {
  local name=$1; shift
  rm -f "$OUT"/*.pcapng; sync
  /usr/bin/time -v "$@" >/dev/null 2>"$TIMES.one" || true
  awk -v n="$name" -F': ' '/Elapsed \(wall clock\)/ {k=split($2,t,":"); s=0; for(i=1;i<=k;i++) s=s*60+t[i]; w=s}
              /Maximum resident/ {r=$2} END {print n, w, r}' "$TIMES.one" >>"$TIMES"
}
med() { awk -v n="$1" '$1==n {print $2}' "$TIMES" | median; }
rss() { awk -v n="$1" '$1==n && $3>m {m=$3} END {print int(m/1024)}' "$TIMES"; }

size=$(stat -L -c %s "$FILE")
echo "file: $FILE, $size bytes ($(echo "$size/1073741824" | bc -l | cut -c1-5) GiB)"
cat "$FILE" >/dev/null   # warm the page cache once for every tool alike

for _ in $(seq "$RUNS"); do
  for j in 1 2; do
    measure "filter$j" $PT -j $j --container-name web1 -w "$OUT/web1.pcapng" "$FILE"
    measure "scan$j" $PT -j $j --pid 4294967295 -w "$OUT/none.pcapng" "$FILE"
    measure "flows$j" $PT -j $j --flows "$FILE"
  done
done
$PT --container-name web1 -w "$OUT/web1.pcapng" "$FILE"
echo "web1 packets written: $(tcpdump -r "$OUT/web1.pcapng" 2>/dev/null | wc -l)"
for _ in $(seq "$TRUNS"); do
  measure tfilter tshark -r "$FILE" -Y 'frame.comment contains "web1"' -w "$OUT/tshark-web1.pcapng"
  tcount=$(tcpdump -r "$OUT/tshark-web1.pcapng" 2>/dev/null | wc -l)
  measure tflows tshark -q -z conv,tcp -r "$FILE"
done
# The same packets as ptanalyze's: in this file only web1's comments hold "web1" (each
# container's shim is named by container id, as containerd names it).
[ "$TRUNS" -gt 0 ] && echo "tshark web1 packets written: $tcount"

all() { awk -v n="$1" '$1==n {printf " %s", $2}' "$TIMES"; }
row() { echo "$2: median $(med "$1") s, peak RSS $(rss "$1") MiB (runs:$(all "$1"))"; }
for j in 1 2; do
  row "filter$j" "ptanalyze -j $j --container-name web1 -w ($RUNS runs)"
  row "scan$j" "ptanalyze -j $j --pid (matches nothing) -w (scan and filter only; $RUNS runs)"
  row "flows$j" "ptanalyze -j $j --flows ($RUNS runs)"
done
ratio() { echo "$(med "$1") / $(med "$2")" | bc -l | cut -c1-6; }
if [ "$TRUNS" -gt 0 ]; then
  row tfilter "tshark -Y 'frame.comment contains \"web1\"' -w ($TRUNS runs)"
  row tflows "tshark -q -z conv,tcp ($TRUNS runs)"
  echo "filter: tshark / ptanalyze -j 2 = $(ratio tfilter filter2)x   (floor 20x)"
  echo "flows: tshark / ptanalyze -j 2 = $(ratio tflows flows2)x   (floor 30x)"
fi
echo "filter: -j 1 / -j 2 = $(ratio filter1 filter2)x   (floor 1.7x)"
echo "scan only: -j 1 / -j 2 = $(ratio scan1 scan2)x"
echo "flows: -j 1 / -j 2 = $(ratio flows1 flows2)x   (floor 1.7x)"

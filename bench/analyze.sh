#!/usr/bin/env bash
# The ptanalyze benchmark (issue: ptanalyze). On the benchmark capture of bench/run.sh (>= 1 GiB,
# 5 M packets; made here with gen_capture if missing), in the same run, medians of several runs:
#   - ptanalyze --flows F                     vs  tshark -q -z conv,tcp -r F
#   - ptanalyze --container-name web1 -w O F  vs  tshark -r F -Y 'frame.comment contains "web1"' -w O
#   - ptanalyze with 1 and with 2 threads, peak RSS (/usr/bin/time -v)
# Usage: bash bench/analyze.sh [FILE] [RUNS] [TSHARK_RUNS]   (defaults: bench/out/bench-5000000.pcapng, 5, 1;
#        tshark takes minutes per run on 5 M packets and runs at most 3 times)
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-bench/out/bench-5000000.pcapng}
RUNS=${2:-5}
TRUNS=${3:-1}
[ "$TRUNS" -gt 3 ] && TRUNS=3
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p ptcap-bench -p analyze
if [ ! -f "$FILE" ]; then
  mkdir -p "$(dirname "$FILE")"
  target/release/gen_capture "$FILE" 5000000 >/dev/null
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
PT=target/release/ptanalyze

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# "seconds peak_rss_kib" of one command, its output to /dev/null.
measure() {
  /usr/bin/time -v "$@" >/dev/null 2>"$OUT/time" || true
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; w=s}
              /Maximum resident/ {r=$2} END {print w, r}' "$OUT/time"
}
# Runs "$@" N times; prints "median_seconds max_rss_kib".
med_of() {
  local n=$1; shift
  local ts=() rss=0
  for _ in $(seq "$n"); do
    read -r t r < <(measure "$@")
    ts+=("$t"); [ "$r" -gt "$rss" ] && rss=$r
  done
  echo "$(printf '%s\n' "${ts[@]}" | median) $rss"
}

size=$(stat -L -c %s "$FILE")
echo "file: $FILE, $size bytes ($(echo "$size/1073741824" | bc -l | cut -c1-5) GiB)"
cat "$FILE" >/dev/null   # warm the page cache once for every tool alike

has_flows=0
if $PT --flows -c 1 "$FILE" >/dev/null 2>&1; then has_flows=1; fi

declare -A M
row() { echo "$1: median $2 s, peak RSS $(( $3 / 1024 )) MiB"; }
for j in 1 2; do
  read -r t r < <(med_of "$RUNS" $PT -j $j --container-name web1 -w "$OUT/web1.pcapng" "$FILE")
  M[filter$j]=$t; row "ptanalyze -j $j --container-name web1 -w" "$t" "$r"
  read -r t r < <(med_of "$RUNS" $PT -j $j --pid 4294967295 -w "$OUT/none.pcapng" "$FILE")
  M[scan$j]=$t; row "ptanalyze -j $j --pid (matches nothing) -w (scan and filter only)" "$t" "$r"
  if [ $has_flows = 1 ]; then
    read -r t r < <(med_of "$RUNS" $PT -j $j --flows "$FILE")
    M[flows$j]=$t; row "ptanalyze -j $j --flows" "$t" "$r"
  fi
done
echo "web1 packets written: $(tcpdump -r "$OUT/web1.pcapng" 2>/dev/null | wc -l)"

read -r t r < <(med_of "$TRUNS" tshark -r "$FILE" -Y 'frame.comment contains "web1"' -w "$OUT/tshark-web1.pcapng")
M[tfilter]=$t; row "tshark -Y 'frame.comment contains \"web1\"' -w ($TRUNS runs)" "$t" "$r"
echo "tshark web1 packets written: $(tcpdump -r "$OUT/tshark-web1.pcapng" 2>/dev/null | wc -l)"
if [ $has_flows = 1 ]; then
  read -r t r < <(med_of "$TRUNS" tshark -q -z conv,tcp -r "$FILE")
  M[tflows]=$t; row "tshark -q -z conv,tcp ($TRUNS runs)" "$t" "$r"
else
  echo "ptanalyze --flows is not in this build (analyze::flows not merged yet): flows not measured"
fi

ratio() { echo "$1 / $2" | bc -l | cut -c1-6; }
echo "filter: tshark / ptanalyze -j 2 = $(ratio "${M[tfilter]}" "${M[filter2]}")x   (floor 20x)"
echo "filter: -j 1 / -j 2 = $(ratio "${M[filter1]}" "${M[filter2]}")x   (floor 1.7x)"
echo "scan only: -j 1 / -j 2 = $(ratio "${M[scan1]}" "${M[scan2]}")x"
if [ $has_flows = 1 ]; then
  echo "flows: tshark / ptanalyze -j 2 = $(ratio "${M[tflows]}" "${M[flows2]}")x   (floor 30x)"
  echo "flows: -j 1 / -j 2 = $(ratio "${M[flows1]}" "${M[flows2]}")x   (floor 1.7x)"
fi

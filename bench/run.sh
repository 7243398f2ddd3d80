#!/usr/bin/env bash
# The formats benchmark (issue: foundation). Generates a large realistic capture with our writer
# (>= 1 GiB, >= 5 M packets, metadata on most packets) and times, on that same file in the same
# run, medians of several runs:
#   - our writer (MB/s) and our reader (packets/s, one core),
#   - ptanalyze FILE > /dev/null   vs   tcpdump -nn -r FILE > /dev/null   vs   tshark -r FILE > /dev/null
# Usage: bash bench/run.sh [PACKETS] [RUNS]     (defaults 5000000 and 5; tshark runs at most 3 times)
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${1:-5000000}
RUNS=${2:-5}
OUT=bench/out
mkdir -p "$OUT"
FILE=$OUT/bench-$PACKETS.pcapng
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p ptcap-bench -p export

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# Wall seconds of one command, output to /dev/null.
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

echo "== writer: $PACKETS packets -> $FILE"
w=()
for i in $(seq "$RUNS"); do
  w+=("$(target/release/gen_capture "$FILE" "$PACKETS" | awk '/MB\/s/ {print $1}')")
done
size=$(stat -c %s "$FILE")
echo "file: $size bytes ($(echo "$size/1073741824" | bc -l | cut -c1-5) GiB), $PACKETS packets"
echo "writer MB/s (median of $RUNS): $(printf '%s\n' "${w[@]}" | median)"

r=(); rm=()
for i in $(seq "$RUNS"); do
  o=$(taskset -c 0 target/release/read_speed "$FILE")
  r+=("$(echo "$o" | awk '/packets\/s packets only/ {print $1}')")
  rm+=("$(echo "$o" | awk '/packets\/s with metadata/ {print $1}')")
done
echo "reader packets/s, one core, blocks and packets (median of $RUNS): $(printf '%s\n' "${r[@]}" | median)"
echo "reader packets/s, one core, with metadata decoded (median of $RUNS): $(printf '%s\n' "${rm[@]}" | median)"

declare -A med
for tool in ptanalyze tcpdump tshark; do
  n=$RUNS
  [ "$tool" = tshark ] && n=$(( RUNS < 3 ? RUNS : 3 ))
  t=()
  for i in $(seq "$n"); do
    case $tool in
      ptanalyze) t+=("$(secs target/release/ptanalyze "$FILE")") ;;
      tcpdump) t+=("$(secs tcpdump -nn -r "$FILE")") ;;
      tshark) t+=("$(secs tshark -n -r "$FILE")") ;;
    esac
  done
  med[$tool]=$(printf '%s\n' "${t[@]}" | median)
  echo "$tool print to /dev/null: median ${med[$tool]} s of $n runs (${t[*]})"
done
echo "ratio tcpdump/ptanalyze: $(echo "${med[tcpdump]} / ${med[ptanalyze]}" | bc -l | cut -c1-6)x"
echo "ratio tshark/ptanalyze:  $(echo "${med[tshark]} / ${med[ptanalyze]}" | bc -l | cut -c1-6)x"

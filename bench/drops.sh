#!/usr/bin/env bash
# What drop tracing (ptcap --drops, tracepoint skb:kfree_skb) costs when nothing is dropped:
# the capture bench's UDP flood (bench/src/bin/udp_flood.rs, unpaced) from namespace A to a
# socket in B (198.18.251.0/24), captured on vb by ptcap with --drops on, then --drops off,
# alternating, RUNS times each in the same run. Figures: packets/s the flood achieved (the
# kernel side's cost shows there: the program runs in the softirq of every freed skb) and
# ptcap's CPU seconds per million captured packets; medians. With kernel.bpf_stats_enabled
# (set for the run, restored at exit) the drop program's own runs and nanoseconds during each
# flood are read from the kernel (bpftool), a figure the machine's noise does not move.
# Usage: sudo bash bench/drops.sh [RUNS] [COUNT]     (defaults 5 and 2000000)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
COUNT=${2:-2000000}
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p capture -p ptcap-bench --bin ptcap --bin udp_flood
PTCAP=$PWD/target/release/ptcap
FLOOD=$PWD/target/release/udp_flood
A=ptcap-dbench-$$-a; B=ptcap-dbench-$$-b
TMP=$(mktemp -d /tmp/ptcap-dbench-XXXXXX)
PIDS=()
STATS0=$(cat /proc/sys/kernel/bpf_stats_enabled)
cleanup() {
  echo "$STATS0" >/proc/sys/kernel/bpf_stats_enabled
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 198.18.251.1/24 dev va; ip -n "$B" addr add 198.18.251.2/24 dev vb
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set va up; ip -n "$B" link set vb up
echo 1 >/proc/sys/kernel/bpf_stats_enabled
TCK=$(getconf CLK_TCK)
# run_cnt and run_time_ns of the drop program PID holds (by the prog ids in its fdinfo; 0 0 if none).
progstat() {
  local ids; ids=$(cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ {print $2}' | sort -u | tr '\n' ' ')
  bpftool -j prog show 2>/dev/null | python3 -c "
import json,sys
ids=set(int(x) for x in '$ids'.split())
for p in json.load(sys.stdin):
    if p.get('name')=='ptcap_kfree_skb' and p['id'] in ids:
        print(p.get('run_cnt',0), p.get('run_time_ns',0)); break
else: print(0, 0)"
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
cpu() { awk -v t="$TCK" '{print ($14+$15)/t}' "/proc/$1/stat"; }
wait_line() { for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; cat "$1" >&2; return 1; }
# A receiving socket: every packet is consumed, none dropped.
nsenter --net=/var/run/netns/"$B" python3 -c "
import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,1<<24)
s.bind(('0.0.0.0',9000))
while True: s.recv(2048)" & PIDS+=($!)
sleep 0.5
run() { # MODE -> "pps cpu_per_mpkt captured kernel_drops prog_runs prog_ns_per_flood_pkt"
  nsenter --net=/var/run/netns/"$B" "$PTCAP" -i vb -w "$TMP/d.pcapng" --drops "$1" udp port 9000 2>"$TMP/d.err" & local pid=$!; PIDS+=("$pid")
  wait_line "$TMP/d.err" "capturing on"
  local c0 t0 t1 c1 s0 s1
  s0=$(progstat "$pid")
  c0=$(cpu "$pid"); t0=$(date +%s.%N)
  nsenter --net=/var/run/netns/"$A" "$FLOOD" 198.18.251.2:9000 "$COUNT" 0 >/dev/null 2>&1
  t1=$(date +%s.%N); s1=$(progstat "$pid"); sleep 0.3; c1=$(cpu "$pid")
  kill -INT "$pid"; wait "$pid" || true
  local cap kd; cap=$(awk '/packets captured/ {print $1}' "$TMP/d.err")
  kd=$(awk '/network stack/ {print $1}' "$TMP/d.err"); kd=${kd:-0}
  local runs ns
  runs=$(( ${s1% *} - ${s0% *} )); ns=$(( ${s1#* } - ${s0#* } ))
  echo "$(echo "$COUNT / ($t1 - $t0)" | bc -l) $(echo "($c1 - $c0) * 1000000 / ($cap + 1)" | bc -l) $cap $kd $runs $(echo "$ns / $COUNT" | bc -l)"
}
: >"$TMP/on"; : >"$TMP/off"
for i in $(seq "$RUNS"); do
  run on >>"$TMP/on"; run off >>"$TMP/off"
done
for m in on off; do
  printf 'drops %-3s  flood %8.0f pkt/s  ptcap %6.3f CPU s per Mpkt  captured %s  kernel drops recorded %s (medians of %s)\n' "$m" \
    "$(cut -d' ' -f1 "$TMP/$m" | median)" "$(cut -d' ' -f2 "$TMP/$m" | median)" "$(cut -d' ' -f3 "$TMP/$m" | median)" \
    "$(cut -d' ' -f4 "$TMP/$m" | median)" "$RUNS"
done
printf 'drop program during a flood (drops on): %s runs, %.4f ns per flood packet (medians; bpf_stats)\n' \
  "$(cut -d' ' -f5 "$TMP/on" | median)" "$(cut -d' ' -f6 "$TMP/on" | median)"
printf 'flood rate on/off: %.3f (median of per-pair ratios)\n' \
  "$(paste -d' ' "$TMP/on" "$TMP/off" | awk '{print $1/$7}' | median)"

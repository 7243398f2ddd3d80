#!/usr/bin/env bash
# The older capture benchmark (bench/capture.sh runs it with PARTS=pair): ptcap vs tcpdump on the
# same traffic in the same run (issue: capture).
# Two namespaces joined by a veth pair (198.18.250.0/24); ptcap and tcpdump both capture on
# vb (the receiving end) at the same time, writing files to a tmpfs-free temp dir.
#   1. small-packet UDP flood (bench/src/bin/udp_flood.rs) at rising rates: packets captured
#      / sent, drops, CPU seconds per million packets of each capturing process
#      (/proc/PID/stat utime+stime, minus the CPU used before it was ready), medians of RUNS runs;
#   2. bulk TCP for SECS seconds (python3 sending zeros): the same figures;
#   3. time from exec to the first captured packet (traffic already flowing), medians.
# Usage: sudo bash bench/capture_pair.sh [RUNS] [RATES]     (defaults 3 and "20000 50000 100000 200000 0"; 0 = unpaced)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
RATES=${2:-"20000 50000 100000 200000 0"}
# 10 s per run: CPU time is counted in 10 ms ticks, and at 20k packets/s a 2 s run is only a
# few ticks for tcpdump, which made low-rate ratios noise.
SECS=${SECS:-10}
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p capture -p ptcap-bench --bin ptcap --bin udp_flood
PTCAP=$PWD/target/release/ptcap
FLOOD=$PWD/target/release/udp_flood
A=ptcap-bench-$$-a; B=ptcap-bench-$$-b
TMP=$(mktemp -d /tmp/ptcap-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 198.18.250.1/24 dev va; ip -n "$B" addr add 198.18.250.2/24 dev vb
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set va up; ip -n "$B" link set vb up
inA() { nsenter --net=/var/run/netns/"$A" "$@"; }
inB() { nsenter --net=/var/run/netns/"$B" "$@"; }
inA ping -c 1 -W 2 198.18.250.2 >/dev/null
TCK=$(getconf CLK_TCK)
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
cpu() { awk -v t="$TCK" '{print ($14+$15)/t}' "/proc/$1/stat"; }
wait_line() { # FILE PATTERN: wait up to 15 s for a line
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "timeout waiting for $2 in $1" >&2; cat "$1" >&2; return 1; }

# Starts both capturers on vb with FILTER; sets PT_PID TD_PID.
start_both() {
  local filter=$1
  # nsenter execs the capturer: $! is its pid (a shell function would add a subshell).
  nsenter --net=/var/run/netns/"$B" "$PTCAP" -i vb -w "$TMP/pt.pcapng" $filter 2>"$TMP/pt.err" & PT_PID=$!; PIDS+=("$PT_PID")
  nsenter --net=/var/run/netns/"$B" tcpdump -i vb -w "$TMP/td.pcap" $filter 2>"$TMP/td.err" & TD_PID=$!; PIDS+=("$TD_PID")
  wait_line "$TMP/pt.err" "capturing on"; wait_line "$TMP/td.err" "listening on"
  # Start-up CPU (ptcap: loading the BPF programs, ~0.1 s) is not per-packet cost.
  PT_CPU0=$(cpu "$PT_PID"); TD_CPU0=$(cpu "$TD_PID")
}
# Stops both; sets ROW="pt_captured pt_dropped pt_cpu td_captured td_dropped td_cpu".
stop_both() {
  sleep 0.3
  local pc tc
  pc=$(echo "$(cpu "$PT_PID") - $PT_CPU0" | bc -l); tc=$(echo "$(cpu "$TD_PID") - $TD_CPU0" | bc -l)
  kill -INT "$PT_PID" "$TD_PID"; wait "$PT_PID" || true; wait "$TD_PID" || true
  local ptc ptd tdc tdd
  ptc=$(awk '/packets? captured/ {print $1}' "$TMP/pt.err"); ptd=$(awk '/dropped by kernel/ {print $1}' "$TMP/pt.err")
  tdc=$(awk '/packets? captured/ {print $1}' "$TMP/td.err"); tdd=$(awk '/dropped by kernel/ {print $1}' "$TMP/td.err")
  ROW="$ptc $ptd $pc $tdc $tdd $tc"
}

echo "== UDP flood, 64-byte payloads, ${SECS}s per run, $RUNS runs per rate (medians)"
printf '%-9s %-9s | %-9s %-7s %-8s | %-9s %-7s %-8s\n' rate sent pt_capt pt_drop pt_cpu/M td_capt td_drop td_cpu/M
for rate in $RATES; do
  if [ "$rate" = 0 ]; then n=600000; else n=$((rate * SECS)); fi
  : >"$TMP/rows"
  for _ in $(seq "$RUNS"); do
    start_both "udp port 9999"
    sent=$(inA "$FLOOD" 198.18.250.2:9999 "$n" "$rate" 64 | awk '{print $2}')
    stop_both; read -r ptc ptd pc tdc tdd tc <<<"$ROW"
    echo "$sent $ptc $ptd $(echo "$pc*1000000/$sent" | bc -l) $tdc $tdd $(echo "$tc*1000000/$sent" | bc -l)" >>"$TMP/rows"
  done
  col() { awk -v c="$1" '{print $c}' "$TMP/rows" | median; }
  printf '%-9s %-9s | %-9s %-7s %-8.2f | %-9s %-7s %-8.2f\n' "$rate" "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)" "$(col 6)" "$(col 7)"
done

echo "== bulk TCP, ${SECS}s, $RUNS runs (medians; sent = vb rx+tx packets)"
: >"$TMP/rows"
for _ in $(seq "$RUNS"); do
  start_both "tcp port 5001"
  nsenter --net=/var/run/netns/"$B" python3 -c "
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('198.18.250.2',5001)); s.listen(1)
c,_=s.accept()
while c.recv(1<<20): pass" & srv=$!; PIDS+=("$srv"); sleep 0.3
  rx0=$(ip -n "$B" -j -s link show vb | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]["stats64"]; print(d["rx"]["packets"]+d["tx"]["packets"])')
  inA python3 -c "
import socket,time
c=socket.create_connection(('198.18.250.2',5001)); b=b'\0'*65536; t=time.time()
while time.time()-t < $SECS: c.sendall(b)
c.close()"
  wait "$srv" || true
  rx1=$(ip -n "$B" -j -s link show vb | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]["stats64"]; print(d["rx"]["packets"]+d["tx"]["packets"])')
  sent=$((rx1 - rx0))
  stop_both; read -r ptc ptd pc tdc tdd tc <<<"$ROW"
  echo "$sent $ptc $ptd $(echo "$pc*1000000/$sent" | bc -l) $tdc $tdd $(echo "$tc*1000000/$sent" | bc -l)" >>"$TMP/rows"
done
col() { awk -v c="$1" '{print $c}' "$TMP/rows" | median; }
printf '%-9s %-9s | %-9s %-7s %-8.2f | %-9s %-7s %-8.2f\n' tcp "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)" "$(col 6)" "$(col 7)"

echo "== exec to first captured packet (ms; ping every 10 ms already flowing), $RUNS runs"
nsenter --net=/var/run/netns/"$A" ping -q -i 0.01 198.18.250.2 >/dev/null & pinger=$!; PIDS+=("$pinger")
sleep 0.3
: >"$TMP/start"
for _ in $(seq "$RUNS"); do
  t0=$(date +%s.%N); inB "$PTCAP" -i vb -c 1 -w "$TMP/s1.pcapng" icmp 2>/dev/null
  t1=$(tcpdump -tt -nn -r "$TMP/s1.pcapng" 2>/dev/null | head -1 | awk '{print $1}')
  u0=$(date +%s.%N); inB tcpdump -i vb -c 1 -w "$TMP/s2.pcap" icmp 2>/dev/null
  u1=$(tcpdump -tt -nn -r "$TMP/s2.pcap" 2>/dev/null | head -1 | awk '{print $1}')
  echo "$(echo "($t1-$t0)*1000" | bc -l) $(echo "($u1-$u0)*1000" | bc -l)" >>"$TMP/start"
done
kill "$pinger" 2>/dev/null || true
printf 'ptcap %.1f ms   tcpdump %.1f ms\n' "$(awk '{print $1}' "$TMP/start" | median)" "$(awk '{print $2}' "$TMP/start" | median)"

#!/usr/bin/env bash
# The kernel-side cost of the owner through NAT (issue 11): nanoseconds per packet of ptcap's
# tcx capture program (the kernel's own bpf_stats: run_time_ns / run_cnt of the programs ptcap
# loaded, read from its /proc/PID/fdinfo) with `--nat off` and `--nat kernel`, in the same run,
# on the same traffic. ptcap's user-space CPU does not show this: the programs run in the
# sender's softirq.
# Two namespaces joined by a veth pair (198.18.251.0/24); ptcap captures on vb (ingress: every
# packet is looked up in conntrack) and on va (egress with the sender's own socket: skipped).
# Cases: vb ingress with conntrack idle in B (no rule uses it: every lookup misses), and active
# (an nft rule makes entries: lookups hit, not NATed); va egress (the sender's own socket and
# tuple: the lookup is skipped), and va egress with A SNATing the flood (lookup, NAT trailer).
# Usage: sudo bash bench/nat.sh [RUNS] [PACKETS]   (defaults 3 and 400000, UDP 64-byte, unpaced)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
N=${2:-400000}
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p capture -p ptcap-bench --bin ptcap --bin udp_flood
PTCAP=$PWD/target/release/ptcap
FLOOD=$PWD/target/release/udp_flood
A=ptcap-natbench-$$-a; B=ptcap-natbench-$$-b
TMP=$(mktemp -d /tmp/ptcap-natbench-XXXXXX)
PIDS=()
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true
  sysctl -q -w kernel.bpf_stats_enabled="$OLD_STATS" || true
  rm -rf "$TMP"
}
trap cleanup EXIT
sysctl -q -w kernel.bpf_stats_enabled=1
ip netns add "$A"; ip netns add "$B"
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 198.18.251.1/24 dev va; ip -n "$B" addr add 198.18.251.2/24 dev vb
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set va up; ip -n "$B" link set vb up
nsenter --net=/var/run/netns/"$A" ping -c 1 -W 2 198.18.251.2 >/dev/null
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
wait_line() { for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; cat "$1" >&2; return 1; }
# ns per run of ptcap's sched_cls programs (summed over its program fds).
prog_ns() {
  awk '/^prog_type:/ {t=$2} /^run_time_ns:/ {r=$2} /^run_cnt:/ {if (t==3) {rt+=r; rc+=$2}} END {if (rc) printf "%.1f\n", rt/rc; else print "-"}' /proc/"$1"/fdinfo/* 2>/dev/null
}
# One measurement: ns/packet of ptcap (NAT MODE, in namespace NS on IFACE) under the flood.
measure() {
  local mode=$1 ns=$2 iface=$3
  nsenter --net=/var/run/netns/"$ns" "$PTCAP" -i "$iface" --nat "$mode" -w /dev/null udp port 9999 2>"$TMP/pt.err" & local pid=$!; PIDS+=("$pid")
  wait_line "$TMP/pt.err" "capturing on"
  nsenter --net=/var/run/netns/"$A" "$FLOOD" 198.18.251.2:9999 "$N" 0 64 >/dev/null
  local v; v=$(prog_ns "$pid")
  kill -INT "$pid"; wait "$pid" || true
  echo "$v"
}
row() { # LABEL NS IFACE
  local off=() on=()
  for _ in $(seq "$RUNS"); do
    off+=("$(measure off "$2" "$3")"); on+=("$(measure kernel "$2" "$3")")
  done
  local o n; o=$(printf '%s\n' "${off[@]}" | median); n=$(printf '%s\n' "${on[@]}" | median)
  printf '%-44s %10s %10s %10s\n' "$1" "$o" "$n" "$(echo "$n - $o" | bc -l | xargs printf '%.1f')"
}
echo "== ns per packet of ptcap's tcx program, UDP flood of $N 64-byte datagrams, medians of $RUNS"
printf '%-44s %10s %10s %10s\n' case "nat off" "nat on" "cost"
row "vb ingress, conntrack idle in B" "$B" vb
ip netns exec "$B" nft -f - <<'EOF'
table ip ptbench {
  chain pre { type filter hook prerouting priority 0; policy accept; ct state new,established accept; }
}
EOF
row "vb ingress, conntrack active in B" "$B" vb
row "va egress, own socket (lookup skipped)" "$A" va
ip netns exec "$A" nft -f - <<'EOF'
table ip ptbench {
  chain post { type nat hook postrouting priority srcnat; policy accept; oifname "va" udp dport 9999 snat to 198.18.251.1:20000-30000; }
}
EOF
row "va egress, A SNATs (lookup, NAT trailer)" "$A" va

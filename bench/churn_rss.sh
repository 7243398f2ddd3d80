#!/usr/bin/env bash
# ptcap's resident memory over a process-churn soak (issue 10): N short-lived clients (default
# 100,000), each a fresh exec (bench/src/bin/proc_churn.rs) that sends one UDP datagram from
# namespace A to B and exits, while ptcap captures on vb into one pcapng file (no rotation:
# every client is a process entity of that one file). Prints ptcap's VmRSS every EVERY clients
# and ptcap's closing lines. Before issue 10 the file's writer kept every process it had
# defined and the exited-process queue was never trimmed (pid_max 32768 < its 65,536 bound):
# RSS grew with every client. Bounding those left a creep of ~47 bytes per client (release,
# median of 3: 51.3 MB after 40,000 clients, 54.1 MB after 100,000): the containers' exit
# queue and pid cache, listener entries of evicted sockets, hash tables doubling late under
# churn, and the heap peaks of bulk evictions (docs/ARCHITECTURE.md, "Resident memory under
# process churn"). Now it shows RSS flat after warm-up: 48.2 MB after 40,000 clients, 48.5 MB
# after 100,000 (+0.1 to +0.5 MB over 3 runs), 48.9 MB after 300,000.
# Usage: sudo bash bench/churn_rss.sh [N] [EVERY]      (PTCAP=path to test another build)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
EVERY=${2:-10000}
export PATH="$HOME/.cargo/bin:$PATH"
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
  cargo build --release --locked -q -p capture -p ptcap-bench --bin ptcap --bin proc_churn
else
  cargo build --locked -q -p capture -p ptcap-bench --bin ptcap --bin proc_churn
fi
PTCAP=${PTCAP:-$PWD/target/$PROFILE/ptcap}
CHURN=$PWD/target/$PROFILE/proc_churn
A=ptcap-churn-$$-a; B=ptcap-churn-$$-b
TMP=$(mktemp -d /tmp/ptcap-churn-XXXXXX)
CAP=
cleanup() {
  [ -n "$CAP" ] && kill -KILL "$CAP" 2>/dev/null || true
  ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 198.18.251.1/24 dev va; ip -n "$B" addr add 198.18.251.2/24 dev vb
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set va up; ip -n "$B" link set vb up
nsenter --net=/var/run/netns/"$B" "$PTCAP" -i vb -Q in -w "$TMP/soak.pcapng" "udp port 7777" \
  2>"$TMP/ptcap.err" &
CAP=$!
for _ in $(seq 100); do grep -q "capturing on" "$TMP/ptcap.err" && break; sleep 0.1; done
echo "clients  ptcap_rss_kib"
nsenter --net=/var/run/netns/"$A" "$CHURN" "$N" 198.18.251.2:7777 "$CAP" "$EVERY" 8
sleep 1
kill -INT "$CAP"; wait "$CAP" || true; CAP=
grep -E "packets|attribution" "$TMP/ptcap.err"
echo "file: $(stat -c %s "$TMP/soak.pcapng") bytes"

#!/usr/bin/env bash
# ptcap vs tcpdump capturing the same traffic, in the same run (issue 12, "A lean capture").
#
# Topology: a "node" namespace with a bridge br0 and two host namespaces h1 and h2, each on a
# veth pair whose node-side end (v1, v2) is a bridge port; h1 198.18.251.1, h2 198.18.251.2.
# h1 floods h2 with 64-byte UDP datagrams (bench/flood.c, sendmmsg, compiled here with cc);
# h2 binds the port and never reads (datagrams die at the full socket queue, no ICMP).
# The capturer runs in the node namespace with `-w` on the sender's node-side veth (v1) or on
# `-i any`, one capturer at a time (the machine has 2 cores: the sender takes one), in an order
# rotated every round: tcpdump, ptcap (default: full comments), ptcap --comments none; "none"
# is the sender alone.
#
# Parts (PARTS, default "flood paced filter whole startup"):
#   flood   unpaced, v1 and any: sender's packets/s, captured, dropped, steady-state CPU s per
#           million captured: the capturer's CPU from the flood's start to 0.5 s after its end
#           (start-up excluded; the summed /proc/PID/task/*/schedstat run times, in ns: the
#           10 ms ticks of /proc/PID/stat are too coarse at 20k pps), and its RSS at the end.
#   paced   the same at 20000 and 100000 packets/s (RATES).
#   filter  unpaced on v1 with the filter 'udp', then with a longer one (LONG_FILTER, which
#           accepts the flood too), tcpdump and ptcap: the filter's cost.
#   whole   a 3-s unpaced flood on -i any, CPU of the whole run incl. start-up
#           (/proc/PID/stat utime+stime just before the stop).
#   startup exec -> first packet captured (a 10k pps flow already running; the packet's own
#           timestamp), start-up CPU (stat, 0.3 s after the ready line, no traffic). The
#           start-up alone, per variant and with its BPF load times: bench/startup.sh.
#   bpfcost the capture program's kernel time per packet (bpftool, kernel.bpf_stats_enabled
#           on for the part, restored after): no filter, 'udp' and the longer filter (each
#           translated and interpreted: PTCAP_FILTER_ENGINE), --nat off.
#           Not in the default PARTS.
#   pair    the older benchmark (two namespaces, no bridge; bench/capture_pair.sh).
# PROFILE=DIR: perf profiles of the capturers (the part PROFILE_PART, default flood; first
# round) into DIR, named by capturer, interface and rate; PERF_CALLGRAPH
# (default -g) is perf record's call-graph option, e.g. "--call-graph dwarf,16384" for Rust
# frames without frame pointers.
# KINDS (default "td pt ptn") may add pt0 and ptn0: the binary PTCAP0 (an earlier build), to
# compare two builds in the same run. Medians over ROUNDS rounds; ratios are ptcap's median over tcpdump's.
# Usage: sudo [ROUNDS=3] [SECS=4] [RATES="20000 100000"] [PARTS=...] [OUT=/dev/null] bash bench/capture.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-4}
RATES=${RATES:-"20000 100000"}
PARTS=${PARTS:-"flood paced filter whole startup"}
KINDS=${KINDS:-"td pt ptn"}
WARM_MB=${WARM_MB:-4096}
if [ -n "${PROFILE:-}" ]; then mkdir -p "$PROFILE"; fi
# OUT=/dev/null: the capturers write nowhere, which leaves out the page cache's copy. On this
# VM a page the guest freed is handed back to the host (virtio-balloon free page reporting),
# and the next write into fresh page cache pays the host's fault: its cost moves by a factor
# of several between runs, and lands on whoever writes the most bytes.
OUTF=${OUT:-}
LONG_FILTER="udp and dst port 9999 and not src net 10.0.0.0/8 and len < 200"
export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${PTCAP:-}" ]; then
  cargo build --release --locked -q -p capture --bin ptcap
  PTCAP=$PWD/target/release/ptcap
fi
TMP=$(mktemp -d /tmp/ptcap-bench-XXXXXX)
OUTF=${OUTF:-$TMP/out}
N=ptb-$$-node; H1=ptb-$$-h1; H2=ptb-$$-h2
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
  for ns in "$N" "$H1" "$H2"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
cc -O2 -o "$TMP/flood" bench/flood.c
# Warm the page cache's memory: on this VM a page the guest has not touched since boot costs a
# fault on the host when the page cache first takes it (dd of 1 GB to a file: 2.3 s of system
# time on fresh memory, 0.2 s on reused), so on a freshly booted machine the capturer writing
# the most bytes paid several times the copy of the others. The capturers' files then reuse
# these pages (each file is removed after its run). WARM_MB=0 skips it.
if [ "$WARM_MB" -gt 0 ]; then
  dd if=/dev/zero of="$TMP/warm" bs=1M count="$WARM_MB" status=none
  rm -f "$TMP/warm"
fi
FLOOD=$TMP/flood
for ns in "$N" "$H1" "$H2"; do
  ip netns add "$ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$N" link add br0 type bridge
ip -n "$N" link set br0 up
i=0
for h in "$H1" "$H2"; do
  i=$((i + 1))
  ip -n "$N" link add "v$i" type veth peer name eth0 netns "$h"
  ip -n "$N" link set "v$i" master br0 up
  ip -n "$h" addr add "198.18.251.$i/24" dev eth0
  ip -n "$h" link set eth0 up
done
in_ns() { local ns=$1; shift; nsenter --net=/var/run/netns/"$ns" "$@"; }
for _ in $(seq 50); do in_ns "$H1" ping -c 1 -W 1 198.18.251.2 >/dev/null 2>&1 && break; sleep 0.1; done
# The sender's neighbour entry stays valid for the whole benchmark (no ARP in the counts).
mac=$(ip -n "$H2" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
ip -n "$H1" neigh replace 198.18.251.2 lladdr "$mac" dev eth0 nud permanent
nsenter --net=/var/run/netns/"$H2" "$FLOOD" sink 9999 >"$TMP/sink.out" & PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$TMP/sink.out" 2>/dev/null && break; sleep 0.05; done

TCK=$(getconf CLK_TCK)
ticks_s() { awk -v t="$TCK" '{print ($14+$15)/t}' "/proc/$1/stat"; }
run_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s+=$1} END {printf "%.0f\n", s}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
wait_line() { # FILE PATTERN: wait up to 15 s for a line
  for _ in $(seq 1500); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.01; done
  echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1; }

# start_cap KIND IFACE [FILTER...]: sets CAP (pid), READY_MS (exec -> ready line).
start_cap() {
  local kind=$1 ifc=$2; shift 2
  local t0; t0=$(date +%s%N)
  case $kind in
    # nsenter execs the capturer: $! is its pid (a shell function would add a subshell).
    td) nsenter --net=/var/run/netns/"$N" tcpdump -i "$ifc" -w "$OUTF" "$@" 2>"$TMP/cap.err" & ;;
    pt) nsenter --net=/var/run/netns/"$N" "$PTCAP" -i "$ifc" -w "$OUTF" "$@" 2>"$TMP/cap.err" & ;;
    ptn) nsenter --net=/var/run/netns/"$N" "$PTCAP" -i "$ifc" -w "$OUTF" --comments none "$@" 2>"$TMP/cap.err" & ;;
    pt0) nsenter --net=/var/run/netns/"$N" "$PTCAP0" -i "$ifc" -w "$OUTF" "$@" 2>"$TMP/cap.err" & ;;
    ptn0) nsenter --net=/var/run/netns/"$N" "$PTCAP0" -i "$ifc" -w "$OUTF" --comments none "$@" 2>"$TMP/cap.err" & ;;
  esac
  CAP=$!; PIDS+=("$CAP")
  if [ "$kind" = td ]; then wait_line "$TMP/cap.err" "listening on"; else wait_line "$TMP/cap.err" "capturing on"; fi
  READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
# stop_cap: sets CAPT DROP (from the closing counts).
stop_cap() {
  kill -INT "$CAP"; wait "$CAP" || true
  CAPT=$(awk '/packets? captured/ {print $1}' "$TMP/cap.err")
  DROP=$(awk '/dropped by kernel/ {print $1}' "$TMP/cap.err")
  rm -f "$TMP/out"
}
# one PART KIND IFACE RATE ROUND [FILTER...]: one measured run, one line in rows.
one() {
  local part=$1 kind=$2 ifc=$3 rate=$4 round=$5; shift 5
  local c0=0 c1=0 rss=0 capt=0 drop=0 whole=0 start_cpu=0 ready=0 out
  if [ "$kind" != none ]; then
    start_cap "$kind" "$ifc" "$@"; ready=$READY_MS
    sleep 0.3
    start_cpu=$(ticks_s "$CAP"); c0=$(run_ns "$CAP")
  fi
  local secs=$SECS; [ "$part" = whole ] && secs=3
  local perf=
  if [ -n "${PROFILE:-}" ] && [ "$part" = "${PROFILE_PART:-flood}" ] && [ "$kind" != none ] && [ "$round" = 1 ]; then
    perf record -q -F ${PERF_FREQ:-1999} ${PERF_CALLGRAPH:--g} -p "$CAP" -o "$TMP/perf.data" -- sleep "$secs" 2>/dev/null & perf=$!
  fi
  out=$(in_ns "$H1" "$FLOOD" send 198.18.251.2 9999 "$secs" "$rate" 64)
  if [ -n "$perf" ]; then
    wait "$perf" || true
    perf report -i "$TMP/perf.data" --no-children --stdio --percent-limit 0.7 -g none 2>/dev/null \
      | grep -v '^#' | grep -v '^$' >"$PROFILE/perf-$kind-$ifc-$rate.txt" || true
    perf report -i "$TMP/perf.data" --children --stdio --percent-limit 2 -g none 2>/dev/null \
      | grep -v '^#' | grep -v '^$' >"$PROFILE/perf-children-$kind-$ifc-$rate.txt" || true
    mv "$TMP/perf.data" "$PROFILE/perf-$kind-$ifc-$rate.data"
  fi
  if [ "$kind" != none ]; then
    sleep 0.5
    if ! kill -0 "$CAP" 2>/dev/null || grep -q "^State:.*Z" "/proc/$CAP/status" 2>/dev/null; then
      echo "bench: $kind on $ifc ($part, rate $rate) ended before it was stopped:" >&2
      cat "$TMP/cap.err" >&2
      exit 1
    fi
    c1=$(run_ns "$CAP"); rss=$(rss_kb "$CAP"); whole=$(ticks_s "$CAP")
    stop_cap; capt=$CAPT; drop=$DROP
  fi
  local sent pps; sent=$(awk '{print $2}' <<<"$out"); pps=$(awk '{print $6}' <<<"$out")
  local per_m=0; [ "$capt" -gt 0 ] && per_m=$(echo "($c1 - $c0) / 1000 / $capt" | bc -l)
  echo "$part $kind $ifc $rate $round $pps $sent $capt $drop $per_m $rss $whole $start_cpu $ready" >>"$TMP/rows"
}
: >"$TMP/rows"
# rot ROUND: the capturers in this round's order.
rot() { local k=($KINDS) n r=$1; n=${#k[@]}; for j in $(seq 0 $((n - 1))); do echo -n "${k[$(( (j + r) % n ))]} "; done; }
has() { [[ " $PARTS " == *" $1 "* ]]; }
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS $(date -u +%T)" >&2
  if has flood; then
    one flood none - 0 "$r"
    for ifc in v1 any; do for k in $(rot "$r"); do one flood "$k" "$ifc" 0 "$r"; done; done
  fi
  if has paced; then
    for rate in $RATES; do for ifc in v1 any; do for k in $(rot "$r"); do one paced "$k" "$ifc" "$rate" "$r"; done; done; done
  fi
  if has filter; then
    for k in $(rot "$r"); do one filter "$k" v1 0 "$r" udp; done
    for k in $(rot "$r"); do one filterlong "$k" v1 0 "$r" $LONG_FILTER; done
  fi
  if has whole; then
    for k in $(rot "$r"); do one whole "$k" any 0 "$r"; done
  fi
done

if has startup; then
  # exec -> first captured packet, a 10k pps flow running (its packets' timestamps give the time).
  nsenter --net=/var/run/netns/"$H1" "$FLOOD" send 198.18.251.2 9999 3600 10000 64 >/dev/null & flow=$!; PIDS+=("$flow")
  sleep 0.3
  for r in $(seq "$ROUNDS"); do
    for k in $(rot "$r"); do
      f=$TMP/first
      case $k in
        td) t0=$(date +%s.%N); in_ns "$N" tcpdump -i any -c 1 -w "$f" 2>/dev/null ;;
        pt) t0=$(date +%s.%N); in_ns "$N" "$PTCAP" -i any -c 1 -w "$f" 2>/dev/null ;;
        ptn) t0=$(date +%s.%N); in_ns "$N" "$PTCAP" -i any -c 1 -w "$f" --comments none 2>/dev/null ;;
        pt0) t0=$(date +%s.%N); in_ns "$N" "$PTCAP0" -i any -c 1 -w "$f" 2>/dev/null ;;
        ptn0) t0=$(date +%s.%N); in_ns "$N" "$PTCAP0" -i any -c 1 -w "$f" --comments none 2>/dev/null ;;
      esac
      t1=$(tcpdump -tt -nn -r "$f" 2>/dev/null | head -1 | awk '{print $1}')
      echo "first $k any 0 $r 0 0 0 0 0 0 0 0 $(echo "($t1 - $t0) * 1000" | bc -l)" >>"$TMP/rows"
    done
  done
  kill "$flow" 2>/dev/null || true
fi
if has bpfcost; then
  # The capture program's own time per packet (kernel.bpf_stats_enabled for the run, restored
  # after): ptcap --comments none on v1, unpaced, per filter and with --nat off.
  old_stats=$(sysctl -n kernel.bpf_stats_enabled)
  trap 'sysctl -qw kernel.bpf_stats_enabled="$old_stats"; cleanup' EXIT
  sysctl -qw kernel.bpf_stats_enabled=1
  prog_ns() { bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
t = n = 0
for p in json.load(sys.stdin):
    name = p.get("name", "")
    # capture (both hooks, Linux 6.2+), capture_egress, capture_ingress (older builds)
    if name == "capture" or name.startswith("capture_"):
        t += p.get("run_time_ns", 0); n += p.get("run_cnt", 0)
print(t, n)'; }
  echo "| tc program, ptcap --comments none on v1, unpaced | ns per packet (median) | sender pps |" >"$TMP/bpfcost"
  echo "|---|---|---|" >>"$TMP/bpfcost"
  for variant in "none" "udp" "udp-interpreted" "long" "long-interpreted" "nat-off"; do
    : >"$TMP/bc"
    for r in $(seq "$ROUNDS"); do
      # *-interpreted: the same filter run by the interpreter instead of translated.
      export PTCAP_FILTER_ENGINE=translated
      case $variant in
        none) set -- ;;
        udp) set -- udp ;;
        udp-interpreted) set -- udp; PTCAP_FILTER_ENGINE=interpreted ;;
        long) set -- "$LONG_FILTER" ;;
        long-interpreted) set -- "$LONG_FILTER"; PTCAP_FILTER_ENGINE=interpreted ;;
        nat-off) set -- --nat off ;;
      esac
      start_cap ptn v1 "$@"; sleep 0.3
      read -r t0 n0 <<<"$(prog_ns)"
      out=$(in_ns "$H1" "$FLOOD" send 198.18.251.2 9999 "$SECS" 0 64)
      read -r t1 n1 <<<"$(prog_ns)"
      stop_cap
      echo "$(echo "($t1 - $t0) / ($n1 - $n0)" | bc -l) $(awk '{print $6}' <<<"$out")" >>"$TMP/bc"
    done
    printf '| %s | %.0f | %.0f |\n' "$variant" \
      "$(awk '{print $1}' "$TMP/bc" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
      "$(awk '{print $2}' "$TMP/bc" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" >>"$TMP/bpfcost"
  done
  sysctl -qw kernel.bpf_stats_enabled="$old_stats"
  unset PTCAP_FILTER_ENGINE
fi
[ -n "${KEEP_ROWS:-}" ] && cp "$TMP/rows" "$KEEP_ROWS"
python3 - "$TMP/rows" "$ROUNDS" "$SECS" <<'EOF'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
def med(xs): return st.median(xs) if xs else float('nan')
def sel(part, kind, ifc, rate):
    return [r for r in rows if r[0] == part and r[1] == kind and r[2] == ifc and r[3] == rate]
def col(rs, i): return med([float(r[i]) for r in rs])
print(f"## ptcap vs tcpdump, {sys.argv[2]} rounds, {sys.argv[3]} s per flood (medians; ratio = ptcap / tcpdump)\n")
names = {"td": "tcpdump", "pt": "ptcap", "ptn": "ptcap --comments none",
         "pt0": "ptcap (PTCAP0)", "ptn0": "ptcap (PTCAP0) --comments none"}
KINDS = ("td", "pt0", "ptn0", "pt", "ptn")
print("| traffic | iface | capturer | sender pps | captured | dropped | CPU s per M captured | ratio | sender pps ratio | RSS MB |")
print("|---|---|---|---|---|---|---|---|---|---|")
none = sel("flood", "none", "-", "0")
if none:
    print(f"| unpaced | - | (no capture) | {col(none,5):.0f} | | | | | | |")
for part in ("flood", "paced", "filter", "filterlong"):
    keys = sorted({(r[3], r[2]) for r in rows if r[0] == part and r[1] != "none"},
                  key=lambda k: (-1 if k[0] == "0" else -int(k[0]), k[1] != "v1"))
    for rate, ifc in keys:
        td = sel(part, "td", ifc, rate)
        for k in KINDS:
            rs = sel(part, k, ifc, rate)
            if not rs: continue
            what = ("unpaced" if rate == "0" else f"{int(rate)//1000}k pps") + {"filter": " 'udp'", "filterlong": " longer filter"}.get(part, "")
            ratio = f"{col(rs,9)/col(td,9):.2f}x" if td and k != "td" and col(td,9) > 0 else ""
            pr = f"{col(rs,5)/col(td,5):.2f}x" if td and k != "td" else ""
            print(f"| {what} | {ifc} | {names[k]} | {col(rs,5):.0f} | {col(rs,7):.0f} | {col(rs,8):.0f} | {col(rs,9):.2f} | {ratio} | {pr} | {col(rs,10)/1024:.1f} |")
w = {k: sel("whole", k, "any", "0") for k in KINDS}
if w["td"]:
    print("\n| whole run, 3-s unpaced flood on -i any | CPU s incl. start-up | ratio | start-up CPU ms | exec -> ready line ms | exec -> first packet ms |")
    print("|---|---|---|---|---|---|")
    for k in KINDS:
        rs = w[k]
        if not rs: continue
        first = [float(r[13]) for r in rows if r[0] == "first" and r[1] == k]
        ratio = f"{col(rs,11)/col(w['td'],11):.2f}x" if k != "td" else ""
        print(f"| {names[k]} | {col(rs,11):.2f} | {ratio} | {col(rs,12)*1000:.0f} | {col(rs,13):.0f} | {med(first):.1f} |")
EOF
if has bpfcost; then echo; cat "$TMP/bpfcost"; fi
if has pair; then bash bench/capture_pair.sh "$ROUNDS"; fi

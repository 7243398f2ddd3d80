#!/usr/bin/env bash
# ptcap's start-up (issue 12, "Where the start-up goes"): exec -> the "capturing on" line, and
# the CPU ptcap used until then (user + system, all threads, getrusage: ptcap -v prints it on
# its "ready in" line; the verifier's work is system time of the loading thread). Every
# variant runs ROUNDS times in a rotated order, in a fresh network namespace (lo and one veth
# pair, no traffic), then SIGINT; medians (and min..max) per variant.
# STRACE=1 adds, per variant, the median total of BPF_PROG_LOAD's time (strace -f -T -e bpf;
# strace slows the process, so the other columns come from runs without it) and the number of
# loads.
# Usage: sudo [ROUNDS=7] [PTCAP=path] [STRACE=1] bash bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-7}
export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${PTCAP:-}" ]; then
  cargo build --release --locked -q -p capture --bin ptcap
  PTCAP=$PWD/target/release/ptcap
fi
NS=pts-$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add va type veth peer name vb
ip -n "$NS" link set va up
ip -n "$NS" link set vb up
python3 - "$PTCAP" "$NS" "$ROUNDS" "${STRACE:-}" <<'EOF'
import os, re, signal, statistics as st, subprocess, sys, tempfile, time
ptcap, ns, rounds, use_strace = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
variants = [
    ("-i lo", ["-i", "lo"]),
    ("-i lo udp", ["-i", "lo", "udp"]),
    ("-i lo --drops off", ["-i", "lo", "--drops", "off"]),
    ("-i any", ["-i", "any"]),
]
def one(args, strace=False):
    out = tempfile.NamedTemporaryFile(suffix=".pcapng", delete=False).name
    cmd = ["nsenter", f"--net=/var/run/netns/{ns}"]
    log = None
    if strace:
        log = out + ".strace"
        cmd += ["strace", "-f", "-T", "-e", "trace=bpf", "-o", log]
    cmd += [ptcap, "-v", "-w", out] + args
    t0 = time.monotonic()
    # Its own process group: strace, on SIGINT, detaches and leaves its tracee running.
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wall = cpu = None
    sched = 0
    for line in p.stderr:
        if line.startswith("capturing on"):
            wall = (time.monotonic() - t0) * 1e3
            # For builds whose -v line has no CPU: the live threads' run times (ns).
            sched = 0
            for t in os.listdir(f"/proc/{p.pid}/task"):
                try:
                    sched += int(open(f"/proc/{p.pid}/task/{t}/schedstat").read().split()[0])
                except OSError:
                    pass
        m = re.match(r"ptcap: ready in ([\d.]+) ms(?:, CPU ([\d.]+) ms)?", line)
        if m:
            cpu = float(m.group(2)) if m.group(2) else sched / 1e6
            break
    os.killpg(p.pid, signal.SIGINT)
    p.stderr.read()
    p.wait()
    loads = total = 0
    if log:
        for l in open(log):
            if "BPF_PROG_LOAD" in l:
                m = re.search(r"<([\d.]+)>", l)
                if m:
                    loads += 1
                    total += float(m.group(1)) * 1e3
        os.unlink(log)
    os.unlink(out)
    return wall, cpu, loads, total
rows = {name: [] for name, _ in variants}
traces = {name: [] for name, _ in variants}
for r in range(rounds):
    order = variants[r % len(variants):] + variants[:r % len(variants)]
    for name, args in order:
        rows[name].append(one(args))
        if use_strace:
            traces[name].append(one(args, strace=True))
def fmt(xs):
    xs = [x for x in xs if x is not None and x == x]
    if not xs:
        return "-"
    return f"{st.median(xs):.0f} ({min(xs):.0f}..{max(xs):.0f})"
print(f"## ptcap start-up, {rounds} runs per variant (median (min..max))\n")
head = "| variant | exec -> capturing on, ms | CPU to ready, ms |"
sep = "|---|---|---|"
if use_strace:
    head += " BPF_PROG_LOAD total, ms (strace) | loads |"
    sep += "---|---|"
print(head)
print(sep)
for name, _ in variants:
    rs = rows[name]
    line = f"| `{name}` | {fmt([x[0] for x in rs])} | {fmt([x[1] for x in rs])} |"
    if use_strace:
        ts = traces[name]
        line += f" {fmt([x[3] for x in ts])} | {st.median([x[2] for x in ts]):.0f} |"
    print(line)
EOF

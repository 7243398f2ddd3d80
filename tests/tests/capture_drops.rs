//! `ptcap --drops`: packets the kernel's network stack drops, on a node built in namespaces
//! (tests/src/node.rs). ptcap runs inside the node namespace (nsenter, `-i any`); the clients are
//! processes this test starts inside container namespaces, so the drops' owners are known.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use ptcap_tests::node::{Node, NodeRules};
use ptcap_tests::{ptanalyze_ok, ptanalyze_packets, ptcap_bin};
use serde_json::Value;

/// A client in `ns` connecting to `ip:port` with a timeout (a dropped SYN is retransmitted
/// after 1 s and 3 s); its pid. Waits for its end.
fn connect_from(node: &mut Node, ns: &str, ip: &str, port: u16, timeout: f32) -> u32 {
    let py = format!(
        "import socket\ntry:\n socket.create_connection(('{ip}',{port}),timeout={timeout})\nexcept Exception:\n pass\n"
    );
    let mut child = node.spawn(ns, &["python3", "-c", &py], Stdio::null());
    let pid = child.id();
    child.wait().expect("client");
    pid
}

fn start_ptcap(node: &mut Node, file: &str, extra: &[&str]) -> ptcap_tests::node::Process {
    let bin = ptcap_bin();
    let mut args = vec![bin.to_str().unwrap(), "-i", "any", "-w", file];
    args.extend_from_slice(extra);
    let ns = node.ns.clone();
    node.start_until(&ns, &args, Stdio::null(), "capturing on")
}

fn pid_of(p: &Value) -> Option<u64> {
    p["process"]["pid"].as_u64()
}

fn is_syn_to(p: &Value, port: u64) -> bool {
    p["dst_port"].as_u64() == Some(port) && p["tcp_flags"] == "S"
}

#[test]
fn dropped_syns_carry_reason_location_and_owner() {
    let mut node = Node::new("drops", NodeRules::default());
    let dir = node.dir("out");
    let file = dir.join("drops.pcapng");
    let file_s = file.to_str().unwrap().to_string();
    let ptcap = start_ptcap(&mut node, &file_s, &[]);
    let c0 = node.containers[0].clone();
    let outside = node.outside.ip.clone();
    let bridge = node.bridge_ip.clone();
    // Container 0's TCP to port 81 is dropped in the node's forward chain: the SYN and its
    // retransmissions (1 s, 3 s).
    let client = connect_from(&mut node, &c0.ns, &outside, 81, 4.0);
    // A SYN to a closed port of the node itself: no socket (the node answers with a RST).
    let closed = connect_from(&mut node, &c0.ns, &bridge, 9, 2.0);
    std::thread::sleep(Duration::from_millis(300));
    let (code, _, stderr) = ptcap.interrupt();
    assert_eq!(code, 0, "{stderr:?}");
    let summary = stderr
        .iter()
        .find(|l| l.contains("dropped by the kernel's network stack"))
        .unwrap_or_else(|| panic!("no drop line in {stderr:?}"));
    assert!(summary.contains("NETFILTER_DROP"), "{summary}");

    let all = ptanalyze_packets([&file_s]);
    let drops: Vec<&Value> = all.iter().filter(|p| p.get("drop").is_some()).collect();
    // Every SYN container 0 sent to port 81 reached the node on its veth (c0, in): each of
    // them is in the file once more as a drop, with the reason, a location and the client.
    let sent: Vec<&Value> = all
        .iter()
        .filter(|p| p["interface"] == "c0" && is_syn_to(p, 81) && p.get("drop").is_none())
        .collect();
    assert!(
        sent.len() >= 2,
        "SYN and its retransmissions expected: {sent:?}"
    );
    let nf: Vec<&&Value> = drops.iter().filter(|p| is_syn_to(p, 81)).collect();
    assert_eq!(nf.len(), sent.len(), "drops {drops:?}");
    for d in &nf {
        let reason = d["drop"]["reason"].as_str().unwrap();
        assert!(reason.contains("NETFILTER"), "{d}");
        let loc = d["drop"]["location"].as_str().unwrap();
        assert!(!loc.is_empty(), "{d}");
        assert_eq!(pid_of(d), Some(u64::from(client)), "{d}");
        assert_eq!(d["src"], c0.ip);
        assert_eq!(d["dst"], outside);
    }
    // The closed port: another reason, the other client.
    let ns: Vec<&&Value> = drops.iter().filter(|p| is_syn_to(p, 9)).collect();
    assert!(
        !ns.is_empty(),
        "no drop of the SYN to the closed port: {drops:?}"
    );
    for d in &ns {
        assert_eq!(d["drop"]["reason"], "NO_SOCKET", "{d}");
        assert_eq!(pid_of(d), Some(u64::from(closed)), "{d}");
    }

    // ptanalyze --drops keeps exactly the drops, and combines with the other filters.
    let kept = ptanalyze_packets(["--drops", &file_s]);
    assert_eq!(kept.len(), drops.len());
    assert!(kept.iter().all(|p| p.get("drop").is_some()));
    let by_pid = ptanalyze_packets(["--drops", "--pid", &client.to_string(), &file_s]);
    assert_eq!(by_pid.len(), nf.len());
    let expr = ptanalyze_packets(["--drops", &file_s, "tcp port 9"]);
    assert_eq!(expr.len(), ns.len());

    // --flows: the connection to port 81 counts its drops per direction, with the reason,
    // apart from the packets seen on the wire (a dropped SYN is no retransmission either).
    let flows: Vec<Value> = ptanalyze_ok(["--flows", "--json", "-i", "c0", &file_s])
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "flow" && v["responder"]["port"] == 81)
        .collect();
    assert_eq!(flows.len(), 1, "{flows:?}");
    let f = &flows[0];
    assert_eq!(f["orig"]["packets"], sent.len() as u64, "{f}");
    assert_eq!(f["orig"]["dropped_packets"], 0, "-i c0 keeps no drop: {f}");
    let flows: Vec<Value> = ptanalyze_ok(["--flows", "--json", &file_s])
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "flow" && v["responder"]["port"] == 81)
        .collect();
    assert_eq!(flows.len(), 1, "{flows:?}");
    let f = &flows[0];
    assert_eq!(f["orig"]["dropped_packets"], nf.len() as u64, "{f}");
    assert!(
        f["orig"]["top_drop_reason"]
            .as_str()
            .is_some_and(|r| r.contains("NETFILTER")),
        "{f}"
    );
    assert_eq!(f["resp"]["dropped_packets"], 0, "{f}");

    // --stats: each owner's drops by reason are exactly those --drops lists for it, apart
    // from its packets.
    stats_count_the_listed_drops(&file_s, &kept, all.len(), client, &nf, closed, &ns);

    // Text: the short form ends with the reason, -v adds the Drop line, --oneline joins it.
    let text = ptanalyze_ok(["--drops", &file_s]);
    let first = text.lines().next().unwrap();
    assert!(first.ends_with("Dropped [NETFILTER_DROP]"), "{first}");
    let verbose = ptanalyze_ok(["--drops", "-v", &file_s]);
    assert!(
        verbose
            .lines()
            .any(|l| l.starts_with("    Drop (reason NETFILTER_DROP, location ")),
        "{verbose}"
    );
    let oneline = ptanalyze_ok(["--drops", "-v", "--oneline", &file_s]);
    assert!(
        oneline
            .lines()
            .all(|l| l.contains(", Drop (reason ") && !l.starts_with(' ')),
        "{oneline}"
    );

    // Wireshark shows and filters the comment line.
    let out = std::process::Command::new("tshark")
        .args([
            "-r",
            &file_s,
            "-Y",
            "frame.comment contains \"Drop: NETFILTER\"",
        ])
        .output()
        .expect("tshark");
    let shown = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(shown, nf.len(), "{}", String::from_utf8_lossy(&out.stderr));
}

type ByReason = BTreeMap<String, u64>;

/// The drops of `ptanalyze --drops --json` by owner (`key` of a packet object) and reason.
fn listed_by(kept: &[Value], key: impl Fn(&Value) -> Option<String>) -> BTreeMap<String, ByReason> {
    let mut out: BTreeMap<String, ByReason> = BTreeMap::new();
    for p in kept {
        if let Some(k) = key(p) {
            let reason = p["drop"]["reason"].as_str().unwrap().to_string();
            *out.entry(k).or_default().entry(reason).or_insert(0) += 1;
        }
    }
    out
}

/// A `drops` object of `--stats --json`: (packets, by reason).
fn stats_drops(d: &Value) -> (u64, ByReason) {
    let by: ByReason = d["by_reason"]
        .as_object()
        .unwrap_or_else(|| panic!("no by_reason: {d}"))
        .iter()
        .map(|(r, n)| (r.clone(), n.as_u64().unwrap()))
        .collect();
    (d["packets"].as_u64().unwrap(), by)
}

/// `N (REASON n, ...)`, reasons by packets descending, then by name.
fn short(by: &ByReason) -> String {
    let mut v: Vec<(&String, &u64)> = by.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let parts: Vec<String> = v.iter().map(|(r, n)| format!("{r} {n}")).collect();
    format!("{} ({})", by.values().sum::<u64>(), parts.join(", "))
}

/// `ptanalyze --stats` and `--stats --json` on a real capture with drops: per process (and
/// container and pod, where the file names them) and in the totals, the drops by reason equal
/// what `--drops --json` lists; they are not counted as packets.
fn stats_count_the_listed_drops(
    file: &str,
    kept: &[Value],
    listed: usize,
    client: u32,
    nf: &[&&Value],
    closed: u32,
    ns: &[&&Value],
) {
    let lines: Vec<Value> = ptanalyze_ok(["--stats", "--json", file])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    let report = &lines.iter().find(|v| v["type"] == "stats").expect("stats")["report"];
    let totals = &report["totals"];
    let (total, total_by) = stats_drops(&totals["drops"]);
    assert_eq!(total, kept.len() as u64, "{totals}");
    assert_eq!(
        total_by,
        listed_by(kept, |_| Some(String::new()))
            .remove("")
            .unwrap_or_default()
    );
    // Drop records are not traffic: the totals count the other packets.
    assert_eq!(
        totals["packets"].as_u64().unwrap(),
        (listed - kept.len()) as u64,
        "{totals}"
    );

    let by_pid = listed_by(kept, |p| pid_of(p).map(|p| p.to_string()));
    let by_container = listed_by(kept, |p| p["container"]["id"].as_str().map(String::from));
    let by_pod = listed_by(kept, |p| {
        let pod = &p["pod"];
        Some(format!(
            "{}.{}",
            pod["name"].as_str()?,
            pod["namespace"].as_str()?
        ))
    });
    let groups = |list: &str, key: &dyn Fn(&Value) -> String| -> BTreeMap<String, ByReason> {
        report[list]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|g| {
                let (n, by) = stats_drops(&g["drops"]);
                assert_eq!(n, by.values().sum::<u64>(), "{g}");
                (n > 0).then(|| (key(g), by))
            })
            .collect()
    };
    let pids = groups("processes", &|g| g["pid"].to_string());
    assert_eq!(pids, by_pid);
    assert_eq!(
        groups("containers", &|g| g["id"].as_str().unwrap().into()),
        by_container
    );
    assert_eq!(
        groups("pods", &|g| g["name"].as_str().unwrap().into()),
        by_pod
    );
    // The client of the filtered port: its NETFILTER drops; the closed port's: NO_SOCKET.
    let c = &pids[&client.to_string()];
    let nf_reason = nf[0]["drop"]["reason"].as_str().unwrap();
    assert_eq!(c.get(nf_reason), Some(&(nf.len() as u64)), "{c:?}");
    let n = &pids[&closed.to_string()];
    assert_eq!(n.get("NO_SOCKET"), Some(&(ns.len() as u64)), "{n:?}");
    eprintln!(
        "--stats drops: totals {total} {total_by:?}; client {client} {c:?}; closed-port client {closed} {n:?}"
    );

    // With --drops (the help's example): only the drops, the same counts.
    let only: Value = ptanalyze_ok(["--stats", "--drops", "--json", file])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "stats")
        .expect("stats");
    assert_eq!(only["report"]["totals"]["packets"], 0);
    assert_eq!(only["report"]["totals"]["drops"], totals["drops"]);

    // Text: the totals' line, and each process row ends with its drops.
    let text = ptanalyze_ok(["--stats", file]);
    let line = |first: &str| -> &str {
        text.lines()
            .find(|l| l.starts_with(first))
            .unwrap_or_else(|| panic!("no line {first:?} in {text}"))
    };
    assert_eq!(
        line("Dropped by the kernel: "),
        format!(
            "Dropped by the kernel: {}, apart from the packets above",
            short(&total_by)
        )
    );
    assert!(line("PROCESS ").ends_with("  DROPPED"), "{text}");
    for (pid, by) in &by_pid {
        let row = text
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|name| name.ends_with(&format!(".{pid}")))
            })
            .unwrap_or_else(|| panic!("no row of pid {pid} in {text}"));
        assert!(row.ends_with(&format!("  {}", short(by))), "{row}");
    }
    eprintln!("{text}");
}

/// `--stats` of a file without drops: no drop line or column, zero drops in the JSON.
fn stats_without_drops(file: &str) {
    let text = ptanalyze_ok(["--stats", file]);
    assert!(text.contains("\nProcesses\n"), "{text}");
    assert!(
        !text.contains("Dropped") && !text.contains("DROPPED"),
        "{text}"
    );
    let v: Value = ptanalyze_ok(["--stats", "--json", file])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "stats")
        .expect("stats");
    let zero = serde_json::json!({"packets": 0, "by_reason": {}});
    assert_eq!(v["report"]["totals"]["drops"], zero);
    for list in ["containers", "pods", "processes", "interfaces"] {
        for g in v["report"][list].as_array().unwrap() {
            assert_eq!(g["drops"], zero, "{g}");
        }
    }
}

#[test]
fn drops_off_writes_nothing_extra() {
    let mut node = Node::new("nodrops", NodeRules::default());
    let dir = node.dir("out");
    let file = dir.join("off.pcapng");
    let file_s = file.to_str().unwrap().to_string();
    let ptcap = start_ptcap(&mut node, &file_s, &["--drops", "off"]);
    let c0 = node.containers[0].clone();
    let outside = node.outside.ip.clone();
    connect_from(&mut node, &c0.ns, &outside, 81, 1.5);
    std::thread::sleep(Duration::from_millis(300));
    let (code, _, stderr) = ptcap.interrupt();
    assert_eq!(code, 0, "{stderr:?}");
    assert!(
        !stderr.iter().any(|l| l.contains("network stack")),
        "{stderr:?}"
    );
    let all = ptanalyze_packets([&file_s]);
    assert!(
        all.iter().any(|p| is_syn_to(p, 81)),
        "the SYNs are captured"
    );
    assert!(all.iter().all(|p| p.get("drop").is_none()));
    // Every packet is one the hooks saw: as many as "packets captured".
    let captured = ptcap_tests::pair::count_line(&stderr, "captured");
    assert_eq!(all.len() as u64, captured);
    let tshark = std::process::Command::new("tshark")
        .args(["-r", &file_s, "-Y", "frame.comment contains \"Drop:\""])
        .output()
        .expect("tshark");
    assert_eq!(String::from_utf8_lossy(&tshark.stdout).lines().count(), 0);
    stats_without_drops(&file_s);
}

/// A masqueraded connection's SYN-ACK dropped on the uplink before conntrack (a prerouting
/// rule at raw priority): the drop's tuple is the translated one (outside -> the node's uplink
/// address), and it still carries the container's client, with the connection's NAT.
#[test]
fn a_translated_packet_dropped_carries_its_owner() {
    let rules = NodeRules {
        extra: "add chain ip ptnode early { type filter hook prerouting priority raw; policy accept; }\n\
                add rule ip ptnode early iifname \"uplink\" tcp sport 7070 tcp flags & (syn | ack) == syn | ack drop\n"
            .into(),
        ..NodeRules::default()
    };
    let mut node = Node::new("natdrop", rules);
    let dir = node.dir("out");
    let file = dir.join("natdrop.pcapng");
    let file_s = file.to_str().unwrap().to_string();
    let (out_ns, out_ip) = (node.outside.ns.clone(), node.outside.ip.clone());
    let server = format!(
        "import socket,sys,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
         s.bind(('{out_ip}',7070)); s.listen(8)\nprint('ready',file=sys.stderr,flush=True)\ntime.sleep(60)\n"
    );
    let _srv = node.start_until(&out_ns, &["python3", "-c", &server], Stdio::null(), "ready");
    let ptcap = start_ptcap(&mut node, &file_s, &[]);
    let c0 = node.containers[0].clone();
    // The SYN and its retransmission (1 s): each SYN-ACK is dropped.
    let client = connect_from(&mut node, &c0.ns, &out_ip, 7070, 2.0);
    sleep(Duration::from_millis(300));
    let (code, _, stderr) = ptcap.interrupt();
    assert_eq!(code, 0, "{stderr:?}");
    let all = ptanalyze_packets([&file_s]);
    let dropped: Vec<&Value> = all
        .iter()
        .filter(|p| p.get("drop").is_some() && p["src_port"] == 7070)
        .collect();
    assert!(!dropped.is_empty(), "no dropped SYN-ACK: {stderr:?}");
    for d in &dropped {
        assert_eq!(d["interface"], "uplink", "{d}");
        assert_eq!(d["src"], out_ip, "{d}");
        assert_eq!(d["dst"], node.uplink_ip, "the translated address: {d}");
        assert!(
            d["drop"]["reason"].as_str().unwrap().contains("NETFILTER"),
            "{d}"
        );
        assert_eq!(pid_of(d), Some(u64::from(client)), "{d}");
        assert_eq!(d["provenance"], "nat", "{d}");
        assert_eq!(d["nat"]["original"]["src"], c0.ip, "{d}");
    }
}

/// Jiffies of user + system time of `pid` (/proc/PID/stat fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

/// The packets an nft rule's `counter` counted: `counter packets N bytes M` in `listing`,
/// on the line that has `marker`.
fn nft_counter(listing: &str, marker: &str) -> u64 {
    listing
        .lines()
        .find(|l| l.contains(marker) && l.contains("counter packets"))
        .and_then(|l| {
            l.split("counter packets ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no counter on the {marker:?} rule:\n{listing}"))
}

/// An unpaced flood (bench's udp_flood: sendmmsg of 64-byte datagrams) into a forward-chain
/// DROP rule: far more drops per second than the drop program lets through (20,000 events per
/// CPU per second). ptcap stays within a core, stops at once, and every drop the rule's
/// counter saw is either written or counted as lost (ring full or over the rate limit).
#[test]
fn a_drop_storm_is_bounded_and_counted() {
    let flood_bin = ptcap_tests::target_bin("udp_flood");
    assert!(
        flood_bin.exists(),
        "{} missing: cargo build --workspace --bins builds it",
        flood_bin.display()
    );
    let rules = NodeRules {
        extra: "add rule ip ptnode forwarding udp dport 9999 counter drop comment \"storm\"\n"
            .into(),
        ..NodeRules::default()
    };
    let mut node = Node::new("storm", rules);
    let dir = node.dir("out");
    let file = dir.join("storm.pcapng");
    let file_s = file.to_str().unwrap().to_string();
    // The filter keeps the flood on the interfaces too: the ring carries both the packets and
    // their drops, as a user's capture of a storm would.
    let ptcap = start_ptcap(&mut node, &file_s, &["-s", "96", "udp port 9999"]);
    let pid = ptcap.pid();
    let c0 = node.containers[0].clone();
    let dest = format!("{}:9999", node.outside.ip);
    const FLOOD: u64 = 200_000;
    let t0 = Instant::now();
    let c0_before = cpu_ticks(pid);
    let mut f = node.spawn(
        &c0.ns,
        &[flood_bin.to_str().unwrap(), &dest, &FLOOD.to_string(), "0"],
        Stdio::null(),
    );
    assert!(f.wait().unwrap().success(), "udp_flood failed");
    let wall = t0.elapsed().as_secs_f64();
    // Let ptcap read what the ring still holds before its CPU is read.
    sleep(Duration::from_millis(300));
    let cpu = (cpu_ticks(pid) - c0_before) as f64 / 100.0;
    let dropped_by_rule = nft_counter(&node.list_ruleset(), "storm");
    // Responsive: SIGINT ends it promptly, with its counts.
    let stop = Instant::now();
    let (code, _, stderr) = ptcap.interrupt();
    let stop_s = stop.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{stderr:?}");
    assert!(stop_s < 10.0, "took {stop_s:.1} s to stop");
    let line = stderr
        .iter()
        .find(|l| l.contains("dropped by the kernel's network stack"))
        .unwrap_or_else(|| panic!("no drop line: {stderr:?}"));
    let written: u64 = line.split(' ').next().unwrap().parse().unwrap();
    // "N drop events lost: R ring buffer full, L over the rate limit"
    let lost_line = stderr
        .iter()
        .find(|l| l.contains("drop events lost") || l.contains("drop event lost"))
        .unwrap_or_else(|| panic!("no lost-drop-events line in a storm: {stderr:?}"));
    let nums: Vec<u64> = lost_line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let (lost, ring_full, rate_limited) = (nums[0], nums[1], nums[2]);
    eprintln!(
        "storm: {FLOOD} sent in {wall:.1} s, {dropped_by_rule} dropped by the rule; ptcap cpu \
         {cpu:.2} s, {written} drops written, {lost} drop events lost ({ring_full} ring full, \
         {rate_limited} rate limit), stopped in {stop_s:.2} s"
    );
    assert_eq!(lost, ring_full + rate_limited, "{lost_line}");
    assert!(
        rate_limited > 0,
        "the flood never reached the rate limit: {stderr:?}"
    );
    // Nothing silently lost: every drop the rule made is written or counted as lost.
    assert_eq!(
        written + lost,
        dropped_by_rule,
        "written {written} + lost {lost} != the rule's counter {dropped_by_rule}: {stderr:?}"
    );
    // At most PTCAP_DROP_RATE (20000) drop events per CPU per second reach user space.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    assert!(
        (written as f64) <= 20000.0 * cpus * (wall + 1.5),
        "{written} drops in {wall:.1} s"
    );
    // ptcap's one thread (plus idle runtime watchers) cannot use more than a core.
    assert!(
        cpu <= (wall + 0.3) * 1.05 + 0.2,
        "ptcap used {cpu:.2} s CPU in {wall:.2} s"
    );
    // The file is complete and readable.
    let n = ptanalyze_ok(["--drops", "--count", &file_s]);
    let n: u64 = n
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    assert_eq!(n, written, "ptanalyze --drops --count: {n}");
}

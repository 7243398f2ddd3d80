//! Issue 11's end-to-end case: real containerd containers behind Docker's default NAT bridge.
//!
//! A node namespace with only an uplink to an outside namespace (tests/src/node.rs
//! [`UplinkNode`]: 198.18.231.1 <-> 198.18.231.2, the outside has no route back), and a private
//! dockerd started INSIDE the node namespace (`nsenter --net`; tests/src/docker.rs) with its own
//! `--bip 198.18.230.1/24`, iptables on, `--userland-proxy=false` (so `-p` is a real DNAT, not a
//! proxy process), its own data-root, exec-root, pidfile, config file and socket in a temp dir,
//! and its own managed containerd. Docker builds the rest there: its bridge docker0, the veths,
//! `ip_forward=1`, and its iptables(-nft) rules (MASQUERADE of 198.18.230.0/24, the DNAT of the
//! port-forward, FORWARD policy drop with its accept rules). On top, one DOCKER-USER rule in the
//! node namespace drops one container's TCP to port 81.
//!
//! ```text
//!  ptdn-cli (wget) ──┐                                            outside (198.18.231.2)
//!  ptdn-web (httpd, -p 8080:80) ── docker0 (198.18.230.1) ── node ── uplink (198.18.231.1)
//!  ptdn-blk (nc to :81, dropped) ──┘
//! ```
//!
//! Traffic: `ptdn-cli` fetches from a server in the outside namespace (MASQUERADEd on the
//! uplink); a client in the outside namespace fetches from `ptdn-web`'s busybox httpd through
//! the node's uplink address, port 8080 (DNAT to the container's port 80); `ptdn-blk`'s SYNs to
//! the outside's port 81 are dropped in the node's FORWARD chain (DOCKER-USER). The web
//! container starts before the captures (ptcap finds it in Docker's and containerd's snapshots
//! and in sock_diag), the two clients after (runtime events, socket hooks); the clients wait for
//! a file the test creates with `docker exec` once the drop rule is in place.
//!
//! Two real ptcaps on the node at once: `ptcap --netns NODE -i any` from the root namespace and
//! `nsenter --net=NODE ptcap -i uplink` inside it. Per packet, read back with `ptanalyze --json`:
//! every uplink packet of the masqueraded connection carries the wget's pid and ptdn-cli's
//! id, name and image, both directions, provenance `nat`; every uplink packet of the
//! port-forwarded connections the httpd's pid and ptdn-web; every dropped SYN is in the file
//! with a reason containing NETFILTER and the nc's pid and ptdn-blk, one drop record per SYN the
//! container sent; `ptanalyze --drops` keeps exactly those; `ptanalyze --flows --json` shows the
//! masqueraded connection as one flow with a `nat` object (and each port-forwarded one too).
//!
//! The root namespace is left alone: Docker's rules land only in the node namespace (the test
//! checks they are there), and the root namespace's `nft list ruleset` (iptables-nft rules
//! included), legacy iptables, network sysctls (ip_forward among them: dockerd sets it, in the
//! node) and kernel modules (dockerd runs modprobe; the kernel here has no loadable modules, but a
//! br_netfilter loaded by it would change every namespace's bridges) are compared before, while
//! dockerd runs, and after it is gone (tests/src/rootns.rs).
//!
//! Skips (a message, no failure) only when dockerd, the docker client, containerd, runc,
//! busybox-static or a tool it drives (iptables, nft, python3, nsenter) is not installed; under
//! CI (`CI` set: scripts/setup.sh installs them all) that is a failure. Took 8-30 s here (dockerd's
//! start-up 1-16 s of it, with the machine's load); figures are printed with `--nocapture`. Everything is removed on drop, failures included: the containers, dockerd (by
//! pid; then any of its containerd or shims left, by pid), mounts under its directory, the
//! namespaces, the temp dir.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ptcap_tests::docker::{self, Dockerd};
use ptcap_tests::node::{Node, UplinkNode, UPLINK};
use ptcap_tests::pair::Running;
use ptcap_tests::rootns::RootNetState;
use ptcap_tests::{ptanalyze_ok, ptanalyze_packets, ptcap_bin, TempDir};
use serde_json::Value;

/// Docker's bridge: `--bip 198.18.230.1/24` (no other test uses 198.18.230-231).
const BIP: &str = "198.18.230.1/24";
const UPLINK_NET: u8 = 231;
const IMAGE: &str = "busybox:test";
/// Port-forwarded connections from the outside client.
const FORWARDED: usize = 5;
/// Data segments the outside server sends the masqueraded client.
const CHUNKS: usize = 30;

/// The outside namespace's processes: `server HOST PORT` answers each request with a header and
/// CHUNKS chunks, 10 ms apart, then closes; `client HOST PORT N` makes N HTTP requests, one
/// connection each, and checks each answer.
const PROG: &str = r#"
import socket, sys, threading, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == 'server':
    chunks = int(sys.argv[4])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(16)
    print('ready', file=sys.stderr, flush=True)
    def serve(c):
        got = b''
        while b'\r\n\r\n' not in got:
            d = c.recv(4096)
            if not d: break
            got += d
        c.sendall(b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n')
        for i in range(chunks):
            c.sendall(b'x' * 199 + b'\n')
            time.sleep(0.01)
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
else:
    for i in range(int(sys.argv[4])):
        c = socket.create_connection((host, port), timeout=5)
        c.sendall(b'GET / HTTP/1.0\r\nHost: node\r\n\r\n')
        got = b''
        while True:
            d = c.recv(65536)
            if not d: break
            got += d
        c.close()
        if b'200 OK' not in got or b'hello from ptdn-web' not in got:
            print('bad answer', got[:200], file=sys.stderr, flush=True)
            sys.exit(1)
        time.sleep(0.05)
    print('done', file=sys.stderr, flush=True)
"#;

extern "C" {
    fn geteuid() -> u32;
}

/// Whether the test can run here; panics where it must (not root; CI without the packages).
fn prerequisites() -> bool {
    // SAFETY: plain getter.
    assert!(
        unsafe { geteuid() } == 0,
        "cannot run this test: needs root; CI runs it as root after scripts/setup.sh"
    );
    let mut missing = docker::missing();
    for b in ["iptables", "nft", "python3", "nsenter"] {
        if !docker::have(b) {
            missing.push(b);
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "capture_docker_nat: not run: {} not installed (scripts/setup.sh installs them)",
        missing.join(", ")
    );
    assert!(std::env::var_os("CI").is_none(), "{msg}; CI must run it");
    eprintln!("{msg}");
    false
}

/// A running ptcap, killed by pid on drop if the test fails before it is stopped.
struct Capture {
    run: Option<Running>,
    file: String,
}

impl Capture {
    /// ptcap started by `prefix` (empty: from here) with `args`, once it is capturing.
    fn start(prefix: &[&str], args: &[&str], file: String) -> Capture {
        let bin = ptcap_bin();
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.args(["-w", &file])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("start ptcap");
        Capture {
            run: Some(Running::until(child, "capturing on", args)),
            file,
        }
    }

    /// SIGINT; it must exit 0; its stderr.
    fn stop(&mut self) -> Vec<String> {
        let run = self.run.take().expect("running");
        let (code, _, err) = run.finish(Some("-INT"));
        assert_eq!(code, 0, "ptcap failed: {err:?}");
        err
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(r) = self.run.as_mut() {
            if r.is_running() {
                let _ = Command::new("kill")
                    .args(["-KILL", &r.pid().to_string()])
                    .status();
            }
        }
    }
}

/// One container of the test: name, id, the pid of its process (the init process: each runs
/// one program, exec'd by sh), its address on docker0.
#[derive(Debug, Clone)]
struct Ctr {
    name: String,
    id: String,
    pid: u64,
    ip: String,
}

fn container(d: &mut Dockerd, name: &str, args: &[&str]) -> Ctr {
    let id = d.run(name, args);
    let pid = d.inspect(name, "{{.State.Pid}}").parse().unwrap();
    let ip = d.inspect(name, "{{.NetworkSettings.IPAddress}}");
    assert!(ip.starts_with("198.18.230."), "{name}: address {ip:?}");
    Ctr {
        name: name.to_string(),
        id,
        pid,
        ip,
    }
}

/// Whether packet `p` names `c`'s process and container (id, name, image).
fn owned_by(p: &Value, c: &Ctr) -> bool {
    p["process"]["pid"].as_u64() == Some(c.pid)
        && p["container"]["id"] == c.id.as_str()
        && p["container"]["name"] == c.name.as_str()
        && p["container"]["image"] == IMAGE
}

fn port(p: &Value, key: &str) -> u64 {
    p[key].as_u64().unwrap_or(0)
}

fn brief(p: &Value) -> String {
    format!(
        "{} {} pid {} container {} provenance {} nat {} drop {}",
        p["interface"],
        p["summary"],
        p["process"]["pid"],
        p["container"]["name"],
        p["provenance"],
        p.get("nat").is_some(),
        p["drop"]
    )
}

/// The uplink packets of the masqueraded connection (cli <-> outside:80, after MASQUERADE) and
/// of the port-forwarded ones (outside <-> uplink:8080) all name their owner on the node.
/// Returns (masqueraded out, masqueraded in, forwarded) packet counts.
fn check_uplink(
    pkts: &[Value],
    node: &UplinkNode,
    cli: &Ctr,
    web: &Ctr,
    what: &str,
) -> (usize, usize, usize) {
    let (up, out) = (node.uplink_ip.as_str(), node.outside.ip.as_str());
    let (mut masq_out, mut masq_in, mut fwd) = (0, 0, 0);
    let mut wrong = Vec::new();
    for p in pkts
        .iter()
        .filter(|p| p["interface"] == UPLINK && p.get("drop").is_none())
    {
        let (src, dst) = (p["src"].as_str(), p["dst"].as_str());
        let want = if src == Some(up) && dst == Some(out) && port(p, "dst_port") == 80 {
            masq_out += 1;
            cli
        } else if src == Some(out) && dst == Some(up) && port(p, "src_port") == 80 {
            masq_in += 1;
            cli
        } else if (dst == Some(up) && port(p, "dst_port") == 8080)
            || (src == Some(up) && port(p, "src_port") == 8080)
        {
            fwd += 1;
            web
        } else {
            continue;
        };
        if !owned_by(p, want) || p["provenance"] != "nat" || p.get("nat").is_none() {
            wrong.push(format!("want {}.{}: {}", want.name, want.pid, brief(p)));
        }
    }
    println!(
        "figure: {what}: uplink packets: masqueraded {masq_out} out + {masq_in} in, port-forwarded {fwd}; {} without their owner",
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{what}: {} of {} uplink packets lack their owner on the node:\n{}",
        wrong.len(),
        masq_out + masq_in + fwd,
        wrong.join("\n")
    );
    // The request and ACKs out, the header, CHUNKS chunks (some may coalesce) and the FIN in;
    // per forwarded connection at least SYN, SYN-ACK, ACK, request, answer, FINs.
    assert!(
        masq_out >= 5 && masq_in >= 10,
        "{what}: too few masqueraded uplink packets: {masq_out} out, {masq_in} in"
    );
    assert!(
        fwd >= FORWARDED * 7,
        "{what}: too few port-forwarded uplink packets: {fwd}"
    );
    (masq_out, masq_in, fwd)
}

#[test]
fn docker_nat_bridge_in_a_node_namespace_owners_drops_and_flows() {
    if !prerequisites() {
        return;
    }
    let t0 = Instant::now();
    let before = RootNetState::capture();
    assert!(
        before.sysctls.len() > 100 && before.sysctls.contains_key("ipv4/ip_forward"),
        "the root namespace's network sysctls did not read: {} entries",
        before.sysctls.len()
    );

    // Declared in this order so that they are dropped in the reverse one: the captures, then
    // dockerd (containers, daemon, mounts), then its directory, then the namespaces.
    let mut node = UplinkNode::new("dnat", UPLINK_NET);
    let tmp = TempDir::new("dnat");
    let (out_ns, out_ip, up_ip) = (
        node.outside.ns.clone(),
        node.outside.ip.clone(),
        node.uplink_ip.clone(),
    );
    let node_ns = node.ns.clone();
    let chunks = CHUNKS.to_string();
    let _server = node.start_until(
        &out_ns,
        &["python3", "-c", PROG, "server", &out_ip, "80", &chunks],
        Stdio::null(),
        "ready",
    );
    let mut dockerd = Dockerd::start(
        tmp.path(),
        Some(&node_ns),
        &[
            "--bip",
            BIP,
            "--iptables=true",
            "--ip-masq=true",
            "--userland-proxy=false",
        ],
    );
    let started = t0.elapsed();
    let rootfs = docker::busybox_rootfs(
        tmp.path(),
        &["sleep", "wget", "nc", "httpd", "touch"],
        &"hello from ptdn-web\n".repeat(40),
    );
    dockerd.import(&rootfs, IMAGE);

    // The port-forwarded server, before the captures.
    let web = container(
        &mut dockerd,
        "ptdn-web",
        &[
            "-p", "8080:80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/www",
        ],
    );
    let wait_for_go = "while [ ! -e /tmp/go ]; do sleep 0.05; done";
    let dir = tmp.path().to_str().unwrap().to_string();
    let (dsock, csock) = (
        dockerd.sock.to_str().unwrap().to_string(),
        dockerd.containerd_sock().to_str().unwrap().to_string(),
    );
    let runtimes = [
        "--docker-address",
        dsock.as_str(),
        "--containerd-address",
        csock.as_str(),
    ];
    let mut args = vec!["--netns", node_ns.as_str(), "-i", "any"];
    args.extend_from_slice(&runtimes);
    args.push("tcp");
    let mut from_root = Capture::start(&[], &args, format!("{dir}/netns.pcapng"));
    let mut args = vec!["-i", UPLINK];
    args.extend_from_slice(&runtimes);
    args.push("tcp");
    let enter = format!("--net={}", Node::ns_path(&node_ns));
    let mut inside = Capture::start(&["nsenter", &enter], &args, format!("{dir}/inside.pcapng"));

    // The clients, after the captures; they wait for /tmp/go.
    let cli_cmd = format!("{wait_for_go}; exec wget -q -O /dev/null http://{out_ip}/");
    let cli = container(&mut dockerd, "ptdn-cli", &[IMAGE, "sh", "-c", &cli_cmd]);
    let blk_cmd = format!("{wait_for_go}; exec nc -w 4 {out_ip} 81");
    let blk = container(&mut dockerd, "ptdn-blk", &[IMAGE, "sh", "-c", &blk_cmd]);
    node.run_in(
        &node_ns,
        &[
            "iptables",
            "-I",
            "DOCKER-USER",
            "-s",
            &blk.ip,
            "-p",
            "tcp",
            "--dport",
            "81",
            "-j",
            "DROP",
        ],
    );
    for c in [&cli, &blk] {
        dockerd.docker(&["exec", &c.name, "touch", "/tmp/go"]);
    }
    let forwarded = FORWARDED.to_string();
    let fwd_client = node.start_until(
        &out_ns,
        &["python3", "-c", PROG, "client", &up_ip, "8080", &forwarded],
        Stdio::null(),
        "done",
    );
    let (code, fwd_err) = fwd_client.stop(None);
    assert_eq!(code, 0, "the port-forwarded client: {fwd_err:?}");
    assert_eq!(
        dockerd.wait_exit(&cli.name, Duration::from_secs(20)),
        0,
        "wget in ptdn-cli failed: {}",
        dockerd.docker(&["logs", &cli.name])
    );
    // nc gives up after 4 s: its SYN and the retransmissions were all dropped.
    assert_ne!(dockerd.wait_exit(&blk.name, Duration::from_secs(20)), 0);

    // While dockerd runs: its rules are in the node namespace, and none in the root one.
    let node_rules = node.run_in(&node_ns, &["nft", "list", "ruleset"]);
    for want in [
        "DOCKER-USER",
        "masquerade",
        &format!("dnat to {}:80", web.ip),
        &format!("ip saddr {} tcp dport 81", blk.ip),
    ] {
        assert!(
            node_rules.contains(want),
            "no {want:?} in the node's ruleset:\n{node_rules}"
        );
    }
    let node_fwd = node.run_in(&node_ns, &["cat", "/proc/sys/net/ipv4/ip_forward"]);
    assert_eq!(
        node_fwd.trim(),
        "1",
        "dockerd did not set ip_forward in the node"
    );
    let during = RootNetState::capture().changes_since(&before);
    assert!(
        during.is_empty(),
        "dockerd in the node namespace changed the root namespace:\n{}",
        during.join("\n")
    );

    let err_root = from_root.stop();
    let err_inside = inside.stop();
    let traffic_done = t0.elapsed();
    for (what, err) in [("--netns", &err_root), ("inside", &err_inside)] {
        for l in err.iter().filter(|l| l.starts_with("attribution:")) {
            println!("figure: ptcap {what}: {l}");
        }
    }

    // --netns from the root namespace, -i any: every interface of the node.
    let file = from_root.file.clone();
    let all = ptanalyze_packets([&file]);
    let (mo, mi, fw) = check_uplink(&all, &node, &cli, &web, "--netns -i any");

    // Drops: one record per SYN ptdn-blk sent (each seen on docker0 before the FORWARD chain
    // dropped it), each with its reason, nc's pid and the container.
    let is_blk_syn = |p: &&Value| {
        p["src"] == blk.ip.as_str()
            && p["dst"] == out_ip.as_str()
            && port(p, "dst_port") == 81
            && p["tcp_flags"] == "S"
    };
    let sent: Vec<&Value> = all
        .iter()
        .filter(|p| p["interface"] == "docker0" && p.get("drop").is_none())
        .filter(is_blk_syn)
        .collect();
    let drops: Vec<&Value> = all.iter().filter(|p| p.get("drop").is_some()).collect();
    let bad: Vec<String> = drops
        .iter()
        .filter(|d| {
            !(is_blk_syn(d)
                && d["drop"]["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("NETFILTER"))
                && owned_by(d, &blk))
        })
        .map(|d| brief(d))
        .collect();
    println!(
        "figure: {} SYNs of ptdn-blk on docker0, {} drop records ({:?})",
        sent.len(),
        drops.len(),
        drops
            .iter()
            .map(|d| d["drop"]["reason"].as_str().unwrap_or("?"))
            .collect::<Vec<_>>()
    );
    assert!(
        bad.is_empty(),
        "drop records that are not ptdn-blk's NETFILTER-dropped SYNs:\n{}",
        bad.join("\n")
    );
    assert!(
        sent.len() >= 2,
        "the SYN and its retransmissions expected on docker0: {}",
        sent.len()
    );
    assert_eq!(
        drops.len(),
        sent.len(),
        "one drop record per SYN sent; stderr {err_root:?}"
    );
    let summary = err_root
        .iter()
        .find(|l| l.contains("dropped by the kernel's network stack"))
        .unwrap_or_else(|| panic!("no drop line: {err_root:?}"));
    assert!(summary.contains("NETFILTER"), "{summary}");
    // ptanalyze --drops keeps exactly those.
    let kept: Vec<u64> = ptanalyze_packets(["--drops", &file])
        .iter()
        .map(|p| p["offset"].as_u64().unwrap())
        .collect();
    let want: Vec<u64> = drops
        .iter()
        .map(|p| p["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(kept, want, "ptanalyze --drops");

    // Flows: the masqueraded connection is one flow across the NAT, with both tuples; so is
    // each port-forwarded connection; the dropped connection counts its drops.
    let flows: Vec<Value> = ptanalyze_ok(["--flows", "--json", &file])
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "flow")
        .collect();
    let masq: Vec<&Value> = flows
        .iter()
        .filter(|f| f["responder"]["addr"] == out_ip.as_str() && f["responder"]["port"] == 80)
        .collect();
    assert_eq!(masq.len(), 1, "the masqueraded connection: {masq:#?}");
    let f = masq[0];
    assert_eq!(f["initiator"]["addr"], cli.ip.as_str(), "{f:#}");
    assert_eq!(f["nat"]["initiator"]["addr"], up_ip.as_str(), "{f:#}");
    assert!(f["nat"]["initiator"]["port"].is_u64(), "{f:#}");
    assert_eq!(f["nat"]["responder"]["addr"], out_ip.as_str(), "{f:#}");
    assert_eq!(f["nat"]["snat"], true, "{f:#}");
    assert_eq!(f["orig"]["owner"]["process"]["pid"], cli.pid, "{f:#}");
    assert_eq!(
        f["orig"]["owner"]["container"]["id"],
        cli.id.as_str(),
        "{f:#}"
    );
    let ifaces = f["interfaces"].to_string();
    assert!(
        ifaces.contains("docker0") && ifaces.contains(UPLINK),
        "seen on both sides of the NAT: {f:#}"
    );
    let fwd_flows: Vec<&Value> = flows
        .iter()
        .filter(|f| f["responder"]["addr"] == up_ip.as_str() && f["responder"]["port"] == 8080)
        .collect();
    assert_eq!(fwd_flows.len(), FORWARDED, "{fwd_flows:#?}");
    for f in &fwd_flows {
        assert_eq!(f["initiator"]["addr"], out_ip.as_str(), "{f:#}");
        assert_eq!(f["nat"]["responder"]["addr"], web.ip.as_str(), "{f:#}");
        assert_eq!(f["nat"]["responder"]["port"], 80, "{f:#}");
        assert_eq!(f["nat"]["dnat"], true, "{f:#}");
        assert_eq!(f["resp"]["owner"]["process"]["pid"], web.pid, "{f:#}");
        assert_eq!(
            f["resp"]["owner"]["container"]["id"],
            web.id.as_str(),
            "{f:#}"
        );
    }
    let dropped: Vec<&Value> = flows
        .iter()
        .filter(|f| f["responder"]["port"] == 81)
        .collect();
    assert_eq!(dropped.len(), 1, "{dropped:#?}");
    assert_eq!(dropped[0]["orig"]["dropped_packets"], drops.len() as u64);
    assert!(
        dropped[0]["orig"]["top_drop_reason"]
            .as_str()
            .is_some_and(|r| r.contains("NETFILTER")),
        "{:#}",
        dropped[0]
    );

    // Inside the node (nsenter --net), the uplink alone: the same owners.
    let inside_pkts = ptanalyze_packets([&inside.file]);
    check_uplink(&inside_pkts, &node, &cli, &web, "inside -i uplink");
    assert!(
        !err_inside.iter().any(|l| l.contains("no cgroup v2")),
        "{err_inside:?}"
    );

    // Gone: dockerd, its containerd and shims, its mounts; the root namespace as it was.
    let dockerd_pid = dockerd.pid().unwrap();
    drop(dockerd);
    assert!(
        !std::path::Path::new(&format!("/proc/{dockerd_pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{dockerd_pid}/comm"))
                .is_ok_and(|c| c.trim() != "dockerd"),
        "dockerd {dockerd_pid} still running"
    );
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(
        !mounts.contains(&format!("{dir}/")),
        "mounts left under {dir}"
    );
    let after = RootNetState::capture().changes_since(&before);
    assert!(
        after.is_empty(),
        "the root namespace changed:\n{}",
        after.join("\n")
    );
    println!(
        "figure: dockerd up in {:.1} s, traffic and captures done at {:.1} s, all checked at {:.1} s; {} packets in the --netns file ({} uplink masqueraded, {} uplink forwarded), {} drops",
        started.as_secs_f64(),
        traffic_done.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
        all.len(),
        mo + mi,
        fw,
        drops.len()
    );
    drop(tmp);
    drop(node);
}

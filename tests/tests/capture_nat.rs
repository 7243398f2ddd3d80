//! The owner through NAT (issue 11), on a node built by `ptcap_tests::node`: a container's
//! connection MASQUERADEd out of the uplink carries the client's pid on every uplink packet,
//! both directions; a connection port-forwarded (DNAT) from the uplink to a server in the other
//! container carries the server's pid on every uplink packet. ptcap runs with `--netns` from the
//! root namespace, inside the node under `nsenter --net`, and under `ip netns exec` (which
//! remounts /sys: ptcap finds the cgroup hierarchy anyway). `ptanalyze --flows` shows the
//! masqueraded connection as one flow with both tuples; `-v` shows the untranslated addresses.
//!
//! Clients and servers are python3 processes this test starts (their pids known: nsenter execs).
//! Everything lives in the node's namespaces; they are removed on drop, failures included.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use formats::meta::{MetaReader, PacketMeta, Provenance};
use formats::pcapng::CaptureReader;
use ptcap_tests::node::{Node, NodeRules, UPLINK};
use ptcap_tests::{ptanalyze_bin, ptcap_bin};

const PROG: &str = r#"
import socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == 'server':
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(16)
    print('ready', file=sys.stderr, flush=True)
    import threading
    def serve(c):
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
else:
    n = int(sys.argv[4])
    c = socket.create_connection((host, port), timeout=5)
    print('local', c.getsockname()[1], file=sys.stderr, flush=True)
    for i in range(n):
        c.sendall(b'x' * 100)
        got = 0
        while got < 100:
            d = c.recv(100 - got)
            if not d: sys.exit(1)
            got += len(d)
        time.sleep(0.01)
    c.close()
    time.sleep(0.3)
    print('done', file=sys.stderr, flush=True)
"#;

/// One test at a time: each builds a node and runs captures that load BPF programs.
static SERIAL: Mutex<()> = Mutex::new(());

fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// A running ptcap and its file; killed (by pid) on drop.
struct Capture {
    child: Child,
    file: PathBuf,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Capture {
    /// `how`: the command that starts ptcap (`[]`: from here), then ptcap's arguments.
    fn start(how: &[&str], file: &Path, args: &[&str]) -> Capture {
        let bin = ptcap_bin();
        let mut cmd = match how.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.arg("-w")
            .arg(file)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("ptcap starts");
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let c = Capture {
            child,
            file: file.to_path_buf(),
            stderr: rx,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        loop {
            match c
                .stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) if l.starts_with("capturing on") || l.contains("listening on") => {
                    seen.push(l);
                    break;
                }
                Ok(l) => seen.push(l),
                Err(_) => panic!("ptcap {how:?} {args:?} did not start: {seen:?}"),
            }
        }
        c
    }

    /// SIGINT; ptcap's stderr; the packets of the file.
    fn stop(mut self) -> (Vec<String>, Vec<Pkt>) {
        std::thread::sleep(Duration::from_millis(400));
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let st = self.child.wait().unwrap();
        let mut err = Vec::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(500)) {
            err.push(l);
        }
        assert!(st.success(), "ptcap failed: {err:?}");
        let pkts = read_packets(&self.file);
        (err, pkts)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[derive(Debug)]
struct Pkt {
    iface: String,
    src: String,
    sport: u16,
    dst: String,
    dport: u16,
    meta: PacketMeta,
}

fn read_packets(file: &Path) -> Vec<Pkt> {
    let bytes = std::fs::read(file).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut m = MetaReader::new();
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.next_packet() {
        let iface = &r.interfaces()[p.interface as usize];
        let meta = m.decode(&p.options);
        let ip = match iface.link_type {
            1 if p.data.len() > 14 && p.data[12..14] == [8, 0] => &p.data[14..],
            276 if p.data.len() > 20 && p.data[0..2] == [8, 0] => &p.data[20..],
            _ => continue,
        };
        if ip.len() < 24 || ip[0] >> 4 != 4 || ip[9] != 6 {
            continue;
        }
        let ihl = (ip[0] & 15) as usize * 4;
        let a = |o: usize| std::net::Ipv4Addr::new(ip[o], ip[o + 1], ip[o + 2], ip[o + 3]);
        let port = |o: usize| u16::from_be_bytes([ip[ihl + o], ip[ihl + o + 1]]);
        out.push(Pkt {
            iface: iface.name.clone().unwrap_or_default(),
            src: a(12).to_string(),
            sport: port(0),
            dst: a(16).to_string(),
            dport: port(2),
            meta,
        });
    }
    out
}

/// A python program in `ns`; waits for `ready` on its stderr; its pid.
fn start(node: &mut Node, ns: &str, args: &[&str], ready: &str) -> (u32, Child) {
    let mut all = vec![python(), "-c", PROG];
    all.extend_from_slice(args);
    let mut child = node.spawn(ns, &all, Stdio::null());
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        if err.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.contains(ready) {
            let pid = child.id();
            std::thread::spawn(move || {
                let mut rest = String::new();
                let _ = err.read_to_string(&mut rest);
            });
            return (pid, child);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{args:?} in {ns} did not print {ready:?} (last: {line:?})");
}

fn wait_done(mut c: Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            assert!(st.success(), "{what} failed: {st}");
            return;
        }
        assert!(Instant::now() < deadline, "{what} did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The node's traffic: a masqueraded connection (container 0 -> outside:80) and a
/// port-forwarded one (outside -> node uplink:8080 -> container 1:80), captured by `capture`.
/// Returns (client pid, server pid, stderr, packets).
fn run_node(
    tag: &str,
    capture: impl FnOnce(&Node, &Path) -> Capture,
) -> (Node, u32, u32, Vec<String>, Vec<Pkt>, PathBuf) {
    let mut node = Node::new(tag, NodeRules::default());
    let dir = node.dir("cap");
    let out_ns = node.outside.ns.clone();
    let out_ip = node.outside.ip.clone();
    let c0 = node.containers[0].ns.clone();
    let c1 = node.containers[1].ns.clone();
    let c1_ip = node.containers[1].ip.clone();
    let uplink_ip = node.uplink_ip.clone();
    let (_outside_srv, _a) = start(&mut node, &out_ns, &["server", &out_ip, "80"], "ready");
    let (server, _b) = start(&mut node, &c1, &["server", &c1_ip, "80"], "ready");
    let file = dir.join("node.pcapng");
    let cap = capture(&node, &file);
    let (client, cc) = start(&mut node, &c0, &["client", &out_ip, "80", "20"], "local");
    let (_fwd_client, fc) = start(
        &mut node,
        &out_ns,
        &["client", &uplink_ip, "8080", "20"],
        "local",
    );
    wait_done(cc, "the masqueraded client");
    wait_done(fc, "the port-forwarded client");
    let (err, pkts) = cap.stop();
    (node, client, server, err, pkts, file)
}

/// Every uplink packet of each translated connection carries its owner on the node.
fn check_uplink(node: &Node, client: u32, server: u32, err: &[String], pkts: &[Pkt]) {
    let out_ip = &node.outside.ip;
    let uplink_ip = &node.uplink_ip;
    let (mut masq, mut fwd) = (0, 0);
    let mut wrong = Vec::new();
    for p in pkts.iter().filter(|p| p.iface == UPLINK) {
        let pid = p.meta.process.as_ref().map(|x| x.pid);
        let involves = |port: u16| {
            (p.src == *uplink_ip && p.dst == *out_ip && p.dport == port)
                || (p.dst == *uplink_ip && p.src == *out_ip && p.sport == port)
        };
        let fwd_pkt = |port: u16| {
            (p.dst == *uplink_ip && p.dport == port) || (p.src == *uplink_ip && p.sport == port)
        };
        let want = if fwd_pkt(8080) {
            fwd += 1;
            server
        } else if involves(80) {
            masq += 1;
            client
        } else {
            continue;
        };
        if pid != Some(want) || p.meta.provenance != Provenance::Nat || p.meta.nat.is_none() {
            wrong.push(format!(
                "{}.{} > {}.{}: pid {pid:?} (want {want}), provenance {}, nat {:?}",
                p.src,
                p.sport,
                p.dst,
                p.dport,
                p.meta.provenance.as_str(),
                p.meta.nat.is_some()
            ));
        }
    }
    assert!(
        masq >= 40 && fwd >= 40,
        "too few uplink packets: {masq} masqueraded, {fwd} port-forwarded; stderr {err:?}"
    );
    assert!(
        wrong.is_empty(),
        "{} of {} uplink packets lack their owner on the node:\n{}\nstderr {err:?}",
        wrong.len(),
        masq + fwd,
        wrong.join("\n")
    );
}

fn setup() -> std::sync::MutexGuard<'static, ()> {
    // SAFETY: plain getter.
    assert!(
        unsafe { libc::geteuid() } == 0,
        "cannot run this test: needs root; CI runs it as root after scripts/setup.sh"
    );
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn the_owner_through_nat_with_netns_from_the_root_namespace() {
    let _g = setup();
    let (node, client, server, err, pkts, file) = run_node("nsroot", |node, file| {
        Capture::start(&[], file, &["--netns", &node.ns, "-i", "any", "tcp"])
    });
    check_uplink(&node, client, server, &err, &pkts);
    // `-i any --netns` is every interface there: the bridge and the containers' veths too.
    for dev in ["br0", "c0", "c1", UPLINK] {
        assert!(pkts.iter().any(|p| p.iface == dev), "nothing on {dev}");
    }
    // The text names the untranslated addresses on translated packets.
    let text = Command::new(ptanalyze_bin())
        .arg("-r")
        .arg(&file)
        .args(["-v", "-nn"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let c0 = &node.containers[0].ip;
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("    NAT (original {c0}."))),
        "no NAT line with the container's address:\n{}",
        text.lines().take(40).collect::<Vec<_>>().join("\n")
    );
    // One flow across the NAT: the masqueraded connection once, with both tuples.
    let out = Command::new(ptanalyze_bin())
        .arg("-r")
        .arg(&file)
        .args(["--flows", "--json", "-i", UPLINK])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flows = String::from_utf8_lossy(&out.stdout);
    check_one_flow(&node, &flows);
    // Across every interface of the node (the container's veth before the NAT, the uplink
    // after it): still one flow.
    let out = Command::new(ptanalyze_bin())
        .arg("-r")
        .arg(&file)
        .args(["--flows", "--json"])
        .output()
        .unwrap();
    check_one_flow(&node, &String::from_utf8_lossy(&out.stdout));
    drop(node);
}

fn check_one_flow(node: &Node, flows: &str) {
    let c0 = &node.containers[0].ip;
    let out_ip = &node.outside.ip;
    let rows: Vec<serde_json::Value> = flows
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let to_80: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["type"] == "flow" && r["responder"]["port"] == 80)
        .collect();
    assert_eq!(
        to_80.len(),
        1,
        "the masqueraded connection is not one flow: {to_80:#?}\nall: {flows}"
    );
    let f = to_80[0];
    assert_eq!(f["initiator"]["addr"].as_str(), Some(c0.as_str()), "{f:#}");
    assert_eq!(
        f["responder"]["addr"].as_str(),
        Some(out_ip.as_str()),
        "{f:#}"
    );
    let nat = &f["nat"];
    assert_eq!(
        nat["initiator"]["addr"].as_str(),
        Some(node.uplink_ip.as_str()),
        "{f:#}"
    );
    assert!(nat["initiator"]["port"].is_u64(), "{f:#}");
    assert_eq!(nat["responder"]["port"], 80, "{f:#}");
    assert_eq!(nat["snat"], true, "{f:#}");
}

#[test]
fn the_owner_through_nat_inside_the_node_with_nsenter() {
    let _g = setup();
    let (node, client, server, err, pkts, _) = run_node("nsenter", |node, file| {
        Capture::start(
            &["nsenter", &format!("--net={}", Node::ns_path(&node.ns))],
            file,
            &["-i", UPLINK, "tcp"],
        )
    });
    check_uplink(&node, client, server, &err, &pkts);
}

#[test]
fn the_owner_through_nat_under_ip_netns_exec_finds_the_cgroup_hierarchy() {
    let _g = setup();
    let (node, client, server, err, pkts, _) = run_node("ipexec", |node, file| {
        Capture::start(
            &["ip", "netns", "exec", &node.ns],
            file,
            &["-i", UPLINK, "tcp"],
        )
    });
    assert!(
        !err.iter().any(|l| l.contains("no cgroup v2 hierarchy")),
        "{err:?}"
    );
    check_uplink(&node, client, server, &err, &pkts);
}

#[test]
fn the_owner_through_nat_by_ctnetlink_alone() {
    let _g = setup();
    let (node, client, server, err, pkts, _) = run_node("netlink", |node, file| {
        Capture::start(
            &[],
            file,
            &["--netns", &node.ns, "--nat", "netlink", "-i", UPLINK, "tcp"],
        )
    });
    check_uplink(&node, client, server, &err, &pkts);
}

/// Loopback inside a namespace: `ip netns exec NS ptcap -i lo` (which hides /sys/fs/cgroup)
/// and `ptcap --netns NS -i any` (loopback included) attribute each packet to its sender, the
/// client's SYN to the client, as outside a namespace.
#[test]
fn loopback_inside_a_namespace_is_attributed_as_outside() {
    let _g = setup();
    for (tag, how, args) in [
        (
            "lo-ipexec",
            "ip netns exec",
            &["-i", "lo", "tcp port 7000"][..],
        ),
        ("lo-netns", "--netns", &["-i", "any", "tcp port 7000"][..]),
    ] {
        let mut node = Node::new(tag, NodeRules::default());
        let dir = node.dir("cap");
        let ns = node.ns.clone();
        let (server, _s) = start(&mut node, &ns, &["server", "127.0.0.1", "7000"], "ready");
        let file = dir.join("lo.pcapng");
        let cap = if how == "--netns" {
            let mut a = vec!["--netns", ns.as_str()];
            a.extend_from_slice(args);
            Capture::start(&[], &file, &a)
        } else {
            Capture::start(&["ip", "netns", "exec", &ns], &file, args)
        };
        let (client, c) = start(
            &mut node,
            &ns,
            &["client", "127.0.0.1", "7000", "5"],
            "local",
        );
        wait_done(c, "the loopback client");
        let (err, pkts) = cap.stop();
        assert!(
            !err.iter().any(|l| l.contains("no cgroup v2 hierarchy")),
            "{how}: {err:?}"
        );
        let lo: Vec<&Pkt> = pkts.iter().filter(|p| p.iface == "lo").collect();
        assert!(lo.len() >= 10, "{how}: {} packets on lo; {err:?}", lo.len());
        for p in &lo {
            let want = if p.dport == 7000 { client } else { server };
            let pid = p.meta.process.as_ref().map(|x| x.pid);
            assert_eq!(
                pid,
                Some(want),
                "{how}: {}.{} > {}.{} ({}); {err:?}",
                p.src,
                p.sport,
                p.dst,
                p.dport,
                p.meta.provenance.as_str()
            );
        }
    }
}

/// Pod-to-pod through the node's bridge where nothing in the node uses conntrack (its nftables
/// table removed): every packet keeps its owner, and no packet is asked of ctnetlink. The
/// bridge alone puts a netfilter hook at PRE_ROUTING (br_netfilter's, where
/// bridge-nf-call-iptables is on, as here), which is not conntrack's: the programs look for
/// conntrack's own hooks (`ct_possible`); taking any hook for conntrack made user space ask
/// ctnetlink for entries that cannot exist, and its cache for every packet.
#[test]
fn pod_to_pod_through_a_bridge_without_conntrack_asks_no_ctnetlink() {
    let _g = setup();
    let mut node = Node::new(
        "noct",
        NodeRules {
            masquerade: false,
            port_forward: None,
            drop_tcp: None,
            extra: String::new(),
        },
    );
    node.nft("delete table ip ptnode");
    let dir = node.dir("cap");
    let (c0, c1) = (node.containers[0].ns.clone(), node.containers[1].ns.clone());
    let c1_ip = node.containers[1].ip.clone();
    let (server, _s) = start(&mut node, &c1, &["server", &c1_ip, "80"], "ready");
    let file = dir.join("pods.pcapng");
    let cap = Capture::start(
        &[],
        &file,
        &["--netns", &node.ns, "-i", "any", "tcp port 80"],
    );
    let (client, c) = start(&mut node, &c0, &["client", &c1_ip, "80", "20"], "local");
    wait_done(c, "the pod-to-pod client");
    let (err, pkts) = cap.stop();
    let summary = err
        .iter()
        .find(|l| l.starts_with("attribution:"))
        .unwrap_or_else(|| panic!("no attribution line: {err:?}"));
    assert!(
        !summary.contains("ctnetlink"),
        "packets of a node without conntrack were asked of ctnetlink: {summary}"
    );
    let on_veths: Vec<&Pkt> = pkts
        .iter()
        .filter(|p| p.iface == "c0" || p.iface == "c1")
        .collect();
    assert!(
        on_veths.len() >= 20,
        "{} packets on the veths; {err:?}",
        on_veths.len()
    );
    for p in &on_veths {
        let want = if p.dport == 80 { client } else { server };
        assert_eq!(
            p.meta.process.as_ref().map(|x| x.pid),
            Some(want),
            "{} {}.{} > {}.{}; {err:?}",
            p.iface,
            p.src,
            p.sport,
            p.dst,
            p.dport
        );
    }
}

//! `ptcap --netns A --netns B` (repeatable, issue 11): one capture from the root namespace
//! covers two namespaces of a node built by `ptcap_tests::node` — the node itself and the
//! "outside" host. Each namespace's interfaces are named `LABEL:IFACE` (IDB names and the
//! text), carry their own namespace cookie, and are attributed in their own namespace: a
//! masqueraded connection on the node's uplink carries the container's client, loopback
//! traffic inside the outside namespace carries its own processes. `-i lo` means every
//! namespace's `lo`. What ptcap prints is what ptanalyze prints of the file.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use ptcap_tests::node::{Node, NodeRules, Process, UPLINK};
use ptcap_tests::{ptanalyze_ok, ptanalyze_packets, ptcap_bin};
use serde_json::Value;

const PROG: &str = r#"
import socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == 'server':
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(8)
    print('ready', file=sys.stderr, flush=True)
    while True:
        c, _ = s.accept()
        d = c.recv(100); c.sendall(d); time.sleep(0.1); c.close()
else:
    c = socket.create_connection((host, port), timeout=5)
    c.sendall(b'x' * 10); c.recv(100); time.sleep(0.2); c.close()
    print('done', file=sys.stderr, flush=True)
"#;

/// ptcap started from the root namespace with `args`; killed by the node on drop.
fn ptcap_from_root(node: &mut Node, args: &[&str]) -> Process {
    let child = Command::new(ptcap_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ptcap starts");
    node.adopt(child.id());
    Process::until(child, "capturing on", args)
}

#[test]
fn two_namespaces_in_one_capture() {
    let mut node = Node::new("mns", NodeRules::default());
    let dir = node.dir("out");
    let file = dir.join("two.pcapng");
    let file_s = file.to_str().unwrap().to_string();
    let (node_ns, out_ns) = (node.ns.clone(), node.outside.ns.clone());
    let (out_ip, out_dev) = (node.outside.ip.clone(), node.outside.dev.clone());
    let c0 = node.containers[0].clone();

    // Servers in the outside namespace: one on its address (reached through the node's
    // masquerade), one on its loopback.
    let _srv = node.start_until(
        &out_ns,
        &["python3", "-c", PROG, "server", &out_ip, "80"],
        Stdio::null(),
        "ready",
    );
    let _lo_srv = node.start_until(
        &out_ns,
        &["python3", "-c", PROG, "server", "127.0.0.1", "7001"],
        Stdio::null(),
        "ready",
    );
    let ptcap = ptcap_from_root(
        &mut node,
        &[
            "--netns", &node_ns, "--netns", &out_ns, "-i", "any", "-w", &file_s, "--print",
            "--drops", "off", "tcp",
        ],
    );
    let mut masq = node.spawn(
        &c0.ns,
        &["python3", "-c", PROG, "client", &out_ip, "80"],
        Stdio::null(),
    );
    let masq_pid = u64::from(masq.id());
    assert!(
        masq.wait().unwrap().success(),
        "the masqueraded client failed"
    );
    let mut lo = node.spawn(
        &out_ns,
        &["python3", "-c", PROG, "client", "127.0.0.1", "7001"],
        Stdio::null(),
    );
    let lo_pid = u64::from(lo.id());
    assert!(lo.wait().unwrap().success(), "the loopback client failed");
    std::thread::sleep(Duration::from_millis(400));
    let (code, text, stderr) = ptcap.interrupt();
    assert_eq!(code, 0, "{stderr:?}");

    let packets = ptanalyze_packets([&file_s]);
    let by_iface: BTreeMap<String, usize> = packets.iter().fold(BTreeMap::new(), |mut m, p| {
        *m.entry(p["interface"].as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    let uplink = format!("{node_ns}:{UPLINK}");
    let out_eth = format!("{out_ns}:{out_dev}");
    let out_lo = format!("{out_ns}:lo");
    for want in [&uplink, &out_eth, &out_lo] {
        assert!(
            by_iface.contains_key(want.as_str()),
            "no packet on {want}: {by_iface:?}"
        );
    }
    // Every interface is one of the two namespaces', by name.
    for name in by_iface.keys() {
        assert!(
            name.starts_with(&format!("{node_ns}:")) || name.starts_with(&format!("{out_ns}:")),
            "{name}"
        );
    }
    let on = |iface: &str, port: u64| -> Vec<&Value> {
        packets
            .iter()
            .filter(|p| p["interface"] == iface && (p["src_port"] == port || p["dst_port"] == port))
            .collect()
    };
    // The masqueraded connection on the node's uplink: the container's client, both ways.
    let up = on(&uplink, 80);
    assert!(up.len() >= 6, "{up:?}");
    for p in &up {
        assert_eq!(p["process"]["pid"].as_u64(), Some(masq_pid), "{p}");
    }
    // The outside namespace's loopback: its own client and server, attributed there.
    let lo_pkts = on(&out_lo, 7001);
    assert!(lo_pkts.len() >= 6, "{lo_pkts:?}");
    // Loopback hands each packet back to itself: like tcpdump, ptcap shows it once, inbound.
    assert!(
        lo_pkts.iter().all(|p| p["direction"] == "in"),
        "{lo_pkts:?}"
    );
    let client_sent: Vec<&&Value> = lo_pkts.iter().filter(|p| p["dst_port"] == 7001).collect();
    assert!(!client_sent.is_empty());
    for p in &client_sent {
        assert_eq!(p["process"]["pid"].as_u64(), Some(lo_pid), "{p}");
    }
    // Each namespace's IDBs say its own cookie.
    let tshark = Command::new("tshark")
        .args(["-r", &file_s, "-T", "fields", "-e", "frame.interface_name"])
        .args(["-e", "frame.interface_description"])
        .output()
        .expect("tshark");
    let mut cookies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in String::from_utf8_lossy(&tshark.stdout).lines() {
        let (name, desc) = l.split_once('\t').unwrap_or((l, ""));
        let ns = name.split(':').next().unwrap().to_string();
        cookies.entry(ns).or_default().insert(desc.to_string());
    }
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let all: BTreeSet<&String> = cookies.values().flatten().collect();
    assert_eq!(all.len(), 2, "one cookie per namespace: {cookies:?}");
    assert!(all
        .iter()
        .all(|d| d.starts_with("network namespace cookie ")));
    // What ptcap printed is what ptanalyze prints of its file.
    let analyzed = ptanalyze_ok([file_s.as_str()]);
    assert_eq!(text, analyzed);

    // `-i lo`: every namespace's lo; `-i NS:IFACE`: that one; an unknown name: one line.
    let lo_both = ptcap_from_root(
        &mut node,
        &["--netns", &node_ns, "--netns", &out_ns, "-i", "lo"],
    );
    let (_, _, err) = lo_both.interrupt();
    assert!(
        err[0].starts_with(&format!("capturing on {node_ns}:lo, {out_ns}:lo,")),
        "{err:?}"
    );
    let one = ptcap_from_root(
        &mut node,
        &["--netns", &node_ns, "--netns", &out_ns, "-i", &out_eth],
    );
    let (_, _, err) = one.interrupt();
    assert!(
        err[0].starts_with(&format!("capturing on {out_eth}, link-type EN10MB")),
        "{err:?}"
    );
    let bad = Command::new(ptcap_bin())
        .args(["--netns", &node_ns, "--netns", &out_ns, "-i", "nosuch0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(msg.lines().count(), 1, "{msg}");
    assert!(msg.contains("nosuch0: No such device"), "{msg}");
}

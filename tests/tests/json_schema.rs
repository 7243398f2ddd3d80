//! docs/json.md documents every field ptanalyze's `--json` prints: every key path seen in real
//! output (packets with full metadata and a local peer, flows, statistics, the summary) must
//! appear in the section of its object type, every object has a `type`, and the summary comes
//! last. The timestamps are exact for readers that hold numbers as doubles (jq).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use formats::meta::{
    CommentMode, ContainerInfo, PacketMeta, Peer, PodInfo, ProcessInfo, Provenance, Role,
    ThreadInfo,
};
use formats::pcapng::linktype;
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::Direction;
use ptcap_tests::{ptanalyze_bin, udp_frame, TempDir};

/// An Ethernet/IPv4 frame 198.18.0.1 -> 198.18.0.2 with protocol `proto` and `l4` after the
/// IP header (valid IP checksum).
fn ipv4_frame(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + l4.len()) as u16;
    let [hi, lo] = total.to_be_bytes();
    let mut ip = vec![0x45, 0, hi, lo, 0, 1, 0x40, 0, 64, proto, 0, 0];
    ip.extend(src);
    ip.extend(dst);
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend(ip);
    f.extend(l4);
    f
}

fn tcp_segment(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(sport.to_be_bytes());
    t.extend(dport.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(ack.to_be_bytes());
    t.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend(payload);
    t
}

fn process(pid: u32, exe: &str, uid: u32) -> Arc<ProcessInfo> {
    Arc::new(ProcessInfo {
        pid,
        comm: exe.rsplit('/').next().unwrap_or("").to_string(),
        exe: exe.to_string(),
        argv: vec![exe.to_string(), "-x".into()],
        uid: Some(uid),
        gid: Some(uid),
    })
}

/// A pcapng file with every kind of metadata ptanalyze prints: process, parent, thread,
/// container, pod, a local peer; TCP both ways, UDP, ICMP echo and ARP.
pub fn full_metadata_file(path: &Path) {
    let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
    let container = Arc::new(ContainerInfo {
        id: "78f1713c0bb2a6a7b3e5d0f3c5d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90".into(),
        name: "web1".into(),
        image: "busybox:1.36".into(),
        labels: labels.clone(),
        runtime: "containerd".into(),
        namespace: "k8s.io".into(),
    });
    let pod = Arc::new(PodInfo {
        name: "api".into(),
        namespace: "shop".into(),
        uid: "9a8b7c6d-0000-1111-2222-333344445555".into(),
        labels: labels.clone(),
        annotations: labels,
    });
    let client = PacketMeta {
        process: Some(process(4242, "/usr/bin/curl", 1000)),
        parent: Some(process(4200, "/bin/bash", 1000)),
        container: Some(container.clone()),
        pod: Some(pod.clone()),
        thread: Some(Arc::new(ThreadInfo {
            tid: 4243,
            name: "worker".into(),
        })),
        provenance: Provenance::SocketCookie,
        role: Role::Sender,
        peer: Peer {
            process: Some(process(80, "/usr/sbin/nginx", 0)),
            parent: Some(process(1, "/sbin/init", 0)),
            container: Some(container),
            pod: Some(pod),
        },
        drop: None,
        nat: None,
        nat_reply: false,
    };
    // The kernel dropped a retransmitted SYN (ptcap --drops).
    let dropped = PacketMeta {
        drop: Some(Arc::new(formats::meta::DropInfo {
            reason: "NETFILTER_DROP".into(),
            location: "nft_do_chain+0x46f".into(),
        })),
        ..client.clone()
    };
    // A masqueraded connection seen after the NAT: 198.18.0.3:40001 -> 198.18.0.2:80 leaves
    // as 198.18.0.1:50001.
    let nat = Arc::new(formats::meta::NatInfo {
        proto: 6,
        original: formats::meta::Tuple {
            src: "198.18.0.3".parse().unwrap(),
            sport: 40001,
            dst: "198.18.0.2".parse().unwrap(),
            dport: 80,
        },
        reply: formats::meta::Tuple {
            src: "198.18.0.2".parse().unwrap(),
            sport: 80,
            dst: "198.18.0.1".parse().unwrap(),
            dport: 50001,
        },
        snat: true,
        dnat: false,
    });
    let natted = PacketMeta {
        provenance: Provenance::Nat,
        nat: Some(nat),
        ..client.clone()
    };
    let natted_reply = PacketMeta {
        role: Role::Receiver,
        nat_reply: true,
        ..natted.clone()
    };
    let mut cfg = WriterConfig::new("ptcap-test", "0");
    cfg.comments = CommentMode::Full;
    let mut w = PcapngWriter::new(Vec::new(), cfg).unwrap();
    let eth = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262_144))
        .unwrap();
    let (a, b) = ([198, 18, 0, 1], [198, 18, 0, 2]);
    // Above 2^53 ns: jq would round ts_ns.
    let t0 = 1_795_976_747_134_988_181u64;
    let none = PacketMeta::default();
    let frames: Vec<(Vec<u8>, Direction, &PacketMeta)> = vec![
        (
            ipv4_frame(6, a, b, &tcp_segment(40000, 80, 1000, 0, 0x02, b"")),
            Direction::Out,
            &client,
        ),
        (
            ipv4_frame(6, b, a, &tcp_segment(80, 40000, 5000, 1001, 0x12, b"")),
            Direction::In,
            &client,
        ),
        (
            ipv4_frame(
                6,
                a,
                b,
                &tcp_segment(
                    40000,
                    80,
                    1001,
                    5001,
                    0x18,
                    b"GET / HTTP/1.1\r\nHost: api.shop.test\r\n\r\n",
                ),
            ),
            Direction::Out,
            &client,
        ),
        (udp_frame(5353, 53, &[0x5a; 12]), Direction::Out, &client),
        (
            ipv4_frame(1, a, b, &[8, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3, 4]),
            Direction::Out,
            &client,
        ),
        (
            ipv4_frame(6, a, b, &tcp_segment(40001, 81, 7000, 0, 0x02, b"")),
            Direction::In,
            &dropped,
        ),
        (
            ipv4_frame(6, a, b, &tcp_segment(50001, 80, 7000, 0, 0x02, b"")),
            Direction::Out,
            &natted,
        ),
        (
            ipv4_frame(6, b, a, &tcp_segment(80, 50001, 9000, 7001, 0x12, b"")),
            Direction::In,
            &natted_reply,
        ),
        // GRE with key 7 carrying a SYN between 198.19.0.1 and .2: a flow with a `tunnel`.
        (
            ipv4_frame(
                47,
                a,
                b,
                &[
                    &[0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7][..],
                    &ipv4_frame(
                        6,
                        [198, 19, 0, 1],
                        [198, 19, 0, 2],
                        &tcp_segment(40100, 443, 1, 0, 0x02, b""),
                    )[14..],
                ]
                .concat(),
            ),
            Direction::Out,
            &none,
        ),
    ];
    let mut arp = vec![0xff; 6];
    arp.extend([2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend([
        2, 0, 0, 0, 0, 1, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 2,
    ]);
    for (i, (f, d, m)) in frames.iter().enumerate() {
        w.write_packet(eth, t0 + i as u64 * 1000, f.len() as u32, f, Some(*d), m)
            .unwrap();
    }
    w.write_packet(eth, t0 + 9000, arp.len() as u32, &arp, None, &none)
        .unwrap();
    std::fs::write(path, w.finish().unwrap()).unwrap();
}

fn json_lines(args: &[&str], file: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(ptanalyze_bin())
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Key paths of a JSON value: `a`, `a.b`, `a[].c` (arrays of objects), maps whose keys are
/// data (labels, annotations, drop reasons) as `a.*`.
fn paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            let data_keys = prefix.ends_with("labels")
                || prefix.ends_with("annotations")
                || prefix.ends_with("by_reason");
            for (k, x) in m {
                let key = if data_keys { "*" } else { k.as_str() };
                let p = if prefix.is_empty() {
                    key.to_string()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(p.clone());
                if !data_keys {
                    paths(x, &p, out);
                }
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The documented fields per object type: docs/json.md's `## type` sections, each field the
/// first code span of a table row.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/json.md"))
            .expect("docs/json.md");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim().trim_matches('`').to_string();
            continue;
        }
        if let Some(rest) = line.strip_prefix("| `") {
            if let Some(end) = rest.find('`') {
                out.entry(section.clone())
                    .or_default()
                    .insert(rest[..end].to_string());
            }
        }
    }
    out
}

#[test]
fn every_json_field_is_documented_and_every_object_typed() {
    let dir = TempDir::new("json-schema");
    let file = dir.path().join("full.pcapng");
    full_metadata_file(&file);
    let docs = documented();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for args in [
        &["--json"][..],
        &["--json", "--flows"],
        &["--json", "--stats"],
        &["--json", "--flows", "--stats"],
        &["--json", "-c", "2"],
    ] {
        let lines = json_lines(args, &file);
        assert!(!lines.is_empty(), "{args:?}: no output");
        for (i, v) in lines.iter().enumerate() {
            let t = v["type"]
                .as_str()
                .unwrap_or_else(|| panic!("{args:?}: an object without a type: {v}"));
            assert!(
                ["packet", "flow", "stats", "summary"].contains(&t),
                "{args:?}: type {t}"
            );
            assert_eq!(
                t == "summary",
                i == lines.len() - 1,
                "{args:?}: the summary is the last object, and only it: {lines:?}"
            );
            paths(v, "", seen.entry(t.to_string()).or_default());
        }
    }
    // --verify-policy: violations (their `flow` is a flow line), policies, the summary.
    let policy = dir.path().join("netpol.yaml");
    std::fs::write(
        &policy,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: out, namespace: shop}\n\
         spec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n\
         \x20 egress: [{to: [{namespaceSelector: {}}, {ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: 81}]}]\n",
    )
    .unwrap();
    let out = Command::new(ptanalyze_bin())
        .args(["--json", "--verify-policy", policy.to_str().unwrap()])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: BTreeSet<&str> = lines.iter().filter_map(|v| v["kind"].as_str()).collect();
    assert_eq!(kinds, ["blocked", "not_enforced"].into(), "{lines:?}");
    for (i, v) in lines.iter().enumerate() {
        let t = v["type"].as_str().expect("a type");
        assert!(
            ["violation", "undecided", "policy", "summary"].contains(&t),
            "type {t}"
        );
        assert_eq!(t == "summary", i == lines.len() - 1, "{lines:?}");
        let mut v = v.clone();
        if let Some(flow) = v.as_object_mut().and_then(|o| o.remove("flow")) {
            assert_eq!(flow["type"], "flow");
            paths(&flow, "", seen.entry("flow".into()).or_default());
            seen.entry(t.to_string()).or_default().insert("flow".into());
        }
        paths(&v, "", seen.entry(t.to_string()).or_default());
    }
    let mut missing = Vec::new();
    for (t, fields) in &seen {
        let doc = docs.get(t).cloned().unwrap_or_default();
        for f in fields {
            if !doc.contains(f) {
                missing.push(format!("{t}: {f}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields missing from docs/json.md:\n{}",
        missing.join("\n")
    );
    for t in ["packet", "flow", "stats", "summary"] {
        assert!(seen.contains_key(t), "no {t} object seen");
    }
}

#[test]
fn packet_json_has_exact_times_addresses_and_tcpdump_summary() {
    let dir = TempDir::new("json-packet");
    let file = dir.path().join("full.pcapng");
    full_metadata_file(&file);
    let lines = json_lines(&["--json"], &file);
    let p = &lines[0];
    assert_eq!(p["ts"], "2026-11-29T18:25:47.134988181Z");
    assert_eq!(p["ts_sec"], 1_795_976_747u64);
    assert_eq!(p["ts_nsec"], 134_988_181u64);
    assert_eq!(p["src"], "198.18.0.1");
    assert_eq!(p["dst"], "198.18.0.2");
    assert_eq!(p["src_port"], 40000);
    assert_eq!(p["dst_port"], 80);
    assert_eq!(p["protocol"], "tcp");
    assert_eq!(p["tcp_flags"], "S");
    assert_eq!(p["peer"]["process"]["pid"], 80);
    assert_eq!(lines[1]["tcp_flags"], "S.");
    assert_eq!(lines[2]["tcp_flags"], "P.");
    assert_eq!(lines[2]["payload_len"], 39);
    assert_eq!(lines[3]["protocol"], "udp");
    assert_eq!(lines[4]["protocol"], "icmp");
    assert_eq!(lines[4]["icmp_type"], 8);
    // The summary is tcpdump's own protocol line (`tcpdump -nn -S -t`, without link prefix).
    let out = Command::new("tcpdump")
        .args(["-nn", "-S", "-t", "-r"])
        .arg(&file)
        .output()
        .expect("tcpdump");
    let theirs = String::from_utf8_lossy(&out.stdout);
    let ours: Vec<&str> = lines
        .iter()
        .filter(|v| v["type"] == "packet")
        .map(|v| v["summary"].as_str().unwrap())
        .collect();
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(ours, theirs);
    // Every line parses back to the same timestamp through a double-free path: ts_sec and
    // ts_nsec are below 2^53.
    for v in lines.iter().filter(|v| v["type"] == "packet") {
        let ns = v["ts_ns"].as_u64().unwrap();
        assert_eq!(
            v["ts_sec"].as_u64().unwrap() * 1_000_000_000 + v["ts_nsec"].as_u64().unwrap(),
            ns
        );
    }
}

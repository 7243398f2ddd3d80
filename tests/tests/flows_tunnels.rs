//! Encapsulated packets are their inner conversation's (issue 16): `ptanalyze --flows` keys a
//! VXLAN, Geneve, GRE or IPIP packet by its innermost 5-tuple and names the tunnel, and ptcap
//! attributes a VXLAN datagram on the underlay to the owner of its inner conversation.
//!
//! Live (root): namespaces A and B, each a VXLAN endpoint (`ip link add type vxlan`, VNI 42,
//! inner 198.19.71.0/24) over an underlay routed through a third namespace R (A 198.18.71.1 -
//! R - 198.18.72.1 B), so that B's underlay receives A's datagrams without a socket (R's
//! forwarding orphans them, as a node's uplink receives them from the wire). A python TCP
//! and UDP conversation crosses the tunnel; one ptcap in each of A and B captures the
//! underlay and the vxlan device. Per file, the flows of the underlay equal those of the
//! vxlan device (tuple, Community ID, packets, IP and payload bytes, TCP history, owners),
//! plus the tunnel; and every underlay packet has the owner and role of its copy on the vxlan
//! device. The kernel here has only the vxlan tunnel type (no geneve, gre, ipip, sit,
//! ip6tnl modules), so those are checked offline, on crafted files (`crafted_tunnels_...`):
//! a DNS answer, a TCP and a UDP conversation, plain and in each tunnel; tcpdump must print
//! the same inner lines for both, and the flows (with the DNS name on the responder) must be
//! the plain file's plus the tunnel.
//!
//! A guard deletes the namespaces and kills only the processes it started, also on panic.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use formats::meta::MetaReader;
use formats::pcapng::CaptureReader;
use formats::wire::flow::{summarize_inner, Transport};
use ptcap_tests::pair::{assert_nothing_left, NamespacePair, Running};
use ptcap_tests::{ptanalyze_ok, ptcap_bin, run_checked, TempDir};
use serde_json::Value;

static SERIAL: Mutex<()> = Mutex::new(());

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A namespace this test made: deleted on drop.
struct Netns(String);

impl Netns {
    fn new(name: String) -> Netns {
        run_checked(&["ip", "netns", "add", &name]);
        Netns(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

const SERVER: &str = r#"
import socket, threading
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("198.19.71.2", 8080)); t.listen(4)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("198.19.71.2", 9999))
def udp():
    while True:
        d, a = u.recvfrom(65536)
        u.sendto(d + b"!", a)
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
c, _ = t.accept()
n = 0
while n < 30000:
    d = c.recv(65536)
    if not d: break
    n += len(d)
c.sendall(b"y" * 5000)
c.close()
threading.Event().wait(3)
"#;

const CLIENT: &str = r#"
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("198.19.71.1", 40002))
u.settimeout(5)
for i in range(3):
    u.sendto(b"datagram %d" % i, ("198.19.71.2", 9999))
    u.recvfrom(100)
c = socket.socket(); c.bind(("198.19.71.1", 40001))
c.connect(("198.19.71.2", 8080))
c.sendall(b"x" * 30000)
got = 0
while True:
    d = c.recv(65536)
    if not d: break
    got += len(d)
c.close()
print("done", got, flush=True)
"#;

/// The flows of `file` seen on `iface` (all interfaces: `None`) whose responder port is 8080
/// or 9999, by responder port.
fn flows_on(file: &Path, iface: Option<&str>) -> BTreeMap<u64, Value> {
    let mut args = vec!["--flows", "--json", file.to_str().expect("utf-8 path")];
    if let Some(i) = iface {
        args.splice(0..0, ["-i", i]);
    }
    let out = ptanalyze_ok(args);
    let mut m = BTreeMap::new();
    for v in out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
    {
        if v["type"] != "flow" {
            continue;
        }
        let port = v["responder"]["port"].as_u64().unwrap_or(0);
        if port == 8080 || port == 9999 {
            assert!(
                m.insert(port, v.clone()).is_none(),
                "two flows to {port}: {out}"
            );
        }
    }
    m
}

/// What must be equal between the underlay's and the vxlan device's view of a flow.
fn comparable(f: &Value) -> Value {
    let side = |s: &Value| {
        serde_json::json!({
            "packets": s["packets"], "ip_bytes": s["ip_bytes"],
            "payload_bytes": s["payload_bytes"], "retransmissions": s["retransmissions"],
            "attributed_packets": s["attributed_packets"],
            "pid": s["owner"]["process"]["pid"], "comm": s["owner"]["process"]["comm"],
        })
    };
    serde_json::json!({
        "community_id": f["community_id"], "proto": f["proto"],
        "initiator": [f["initiator"]["addr"], f["initiator"]["port"]],
        "responder": [f["responder"]["addr"], f["responder"]["port"]],
        "orig": side(&f["orig"]), "resp": side(&f["resp"]),
        "history": f["tcp"]["history"], "state": f["tcp"]["conn_state"],
        "responder_names": f["responder"]["names"],
    })
}

/// Per interface, each packet of the test's inner conversations: (inner tuple, TCP seq, ack,
/// flags, length, owner pid, role), and how many were tunneled, in file order.
type PacketKey = (String, u32, u32, u8, u32, Option<u32>, String);

/// Also prints, per interface, how the owners were found (what the kernel gave: a socket on
/// the skb or not).
fn packets_by_interface(file: &Path) -> BTreeMap<String, (Vec<PacketKey>, usize)> {
    let mut provenance: BTreeMap<(String, String), usize> = BTreeMap::new();
    let bytes = std::fs::read(file).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut metas = MetaReader::new();
    let mut out: BTreeMap<String, (Vec<PacketKey>, usize)> = BTreeMap::new();
    while let Ok(Some(p)) = r.next_packet() {
        let iface = r.interfaces()[p.interface as usize].clone();
        metas.learn_definitions(&p.options);
        let meta = metas.decode(&p.options);
        let Some(s) = summarize_inner(iface.link_type, p.data) else {
            continue;
        };
        let Some((sp, dp)) = s.ports() else { continue };
        if ![8080, 9999].contains(&sp) && ![8080, 9999].contains(&dp) {
            continue;
        }
        let (seq, ack, flags) = match s.transport {
            Transport::Tcp(t) => (t.seq, t.ack, t.flags),
            _ => (0, 0, 0),
        };
        let name = iface.name.clone().unwrap_or_default();
        *provenance
            .entry((name.clone(), format!("{:?}", meta.provenance)))
            .or_default() += 1;
        let e = out.entry(name).or_default();
        e.1 += usize::from(s.tunnel.is_some());
        e.0.push((
            format!("{}:{sp}>{}:{dp}", s.src, s.dst),
            seq,
            ack,
            flags,
            s.ip_len,
            meta.process.as_ref().map(|p| p.pid),
            format!("{:?}", meta.role),
        ));
    }
    println!(
        "{}: provenance per interface {provenance:?}",
        file.display()
    );
    out
}

#[test]
fn vxlan_underlay_flows_and_owners_are_the_inner_conversations() {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = NamespacePair::new("tun", "vx", 71);
    let router = Netns::new(format!("ptcap-tun-{}-vx-r", std::process::id()));
    let (a, b, r) = (net.a.clone(), net.b.clone(), router.0.clone());
    let ip = |ns: &str, args: &[&str]| {
        let mut v = vec!["ip", "-n", ns];
        v.extend_from_slice(args);
        run_checked(&v);
    };
    ip(&r, &["link", "set", "lo", "up"]);
    for (ns, dev, peer, addr, raddr) in [
        (&a, "ua", "ra", "198.18.71.1/24", "198.18.71.2/24"),
        (&b, "ub", "rb", "198.18.72.1/24", "198.18.72.2/24"),
    ] {
        ip(
            &r,
            &[
                "link", "add", peer, "type", "veth", "peer", "name", dev, "netns", ns,
            ],
        );
        ip(&r, &["addr", "add", raddr, "dev", peer]);
        ip(&r, &["link", "set", peer, "up"]);
        ip(ns, &["addr", "add", addr, "dev", dev]);
        ip(ns, &["link", "set", dev, "up"]);
    }
    ip(
        &a,
        &["route", "add", "198.18.72.0/24", "via", "198.18.71.2"],
    );
    ip(
        &b,
        &["route", "add", "198.18.71.0/24", "via", "198.18.72.2"],
    );
    net.run_in(&r, &["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    for (ns, dev, local, remote, inner) in [
        (&a, "ua", "198.18.71.1", "198.18.72.1", "198.19.71.1/24"),
        (&b, "ub", "198.18.72.1", "198.18.71.1", "198.19.71.2/24"),
    ] {
        ip(
            ns,
            &[
                "link", "add", "vx42", "type", "vxlan", "id", "42", "local", local, "remote",
                remote, "dstport", "4789", "dev", dev,
            ],
        );
        ip(ns, &["addr", "add", inner, "dev", "vx42"]);
        ip(ns, &["link", "set", "vx42", "up"]);
    }
    let dir = TempDir::new("flows-tunnels-live");
    let bin = ptcap_bin();
    let files = [dir.path().join("a.pcapng"), dir.path().join("b.pcapng")];
    let caps: Vec<Running> = [(&a, "ua", &files[0]), (&b, "ub", &files[1])]
        .into_iter()
        .map(|(ns, under, file)| {
            Running::start_until(
                &mut net,
                ns,
                &[
                    bin.to_str().unwrap(),
                    "-i",
                    under,
                    "-i",
                    "vx42",
                    "-w",
                    file.to_str().unwrap(),
                    "udp or tcp",
                ],
                Stdio::null(),
                "capturing on",
            )
        })
        .collect();
    let mut srv = net.spawn(&b, &["python3", "-c", SERVER], Stdio::piped());
    let mut line = String::new();
    BufReader::new(srv.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let done = net.run_in(&a, &["python3", "-c", CLIENT]);
    assert_eq!(done.trim(), "done 5000", "{done}");
    let _ = srv.wait();
    std::thread::sleep(Duration::from_millis(500));
    for cap in caps {
        let (code, _, stderr) = cap.interrupt();
        assert_eq!(code, 0, "{stderr:?}");
        println!("{}", stderr.join("\n"));
    }
    assert_nothing_left(&net);
    drop(router);

    for (file, under, here) in [
        (&files[0], "ua", "198.18.71.1"),
        (&files[1], "ub", "198.18.72.1"),
    ] {
        let on_tunnel = flows_on(file, Some(under));
        let on_vx = flows_on(file, Some("vx42"));
        // Both interfaces at once: one flow per conversation (the key is the inner tuple, not
        // the tunnel), seen on both, each packet counted on each.
        let both = flows_on(file, None);
        for (port, f) in &both {
            let mut ifs: Vec<&str> = f["interfaces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap())
                .collect();
            ifs.sort();
            assert_eq!(ifs, [under, "vx42"], "{f}");
            let n = |x: &Value| x["orig"]["packets"].as_u64().unwrap();
            assert_eq!(n(f), n(&on_tunnel[port]) + n(&on_vx[port]), "{f}");
            assert_eq!(f["tunnel"]["kind"], "vxlan", "{f}");
        }
        assert_eq!(both.len(), 2, "{both:#?}");
        assert_eq!(
            on_tunnel.keys().collect::<Vec<_>>(),
            [&8080, &9999],
            "{}: underlay flows {on_tunnel:#?}",
            file.display()
        );
        for (port, f) in &on_tunnel {
            let v = &on_vx[port];
            assert_eq!(
                comparable(f),
                comparable(v),
                "{}: port {port}",
                file.display()
            );
            assert_eq!(f["initiator"]["addr"], "198.19.71.1");
            assert_eq!(f["responder"]["addr"], "198.19.71.2");
            assert_eq!(
                f["tunnel"],
                serde_json::json!({"kind": "vxlan", "id": 42,
                    "initiator": "198.18.71.1", "responder": "198.18.72.1"}),
                "{}: {f}",
                file.display()
            );
            assert!(v.get("tunnel").is_none(), "{v}");
            // The underlay's frames are the vxlan device's plus the encapsulation.
            let wire = |x: &Value| x["orig"]["bytes"].as_u64().unwrap();
            assert!(wire(f) > wire(v), "{f} {v}");
            // Both ends are local processes of this machine: both owners are known.
            for side in ["orig", "resp"] {
                assert!(f[side]["owner"]["process"]["pid"].is_u64(), "{side}: {f}");
            }
            println!(
                "{} port {port}: {} packets, owners {} / {}, tunnel {}",
                file.display(),
                f["orig"]["packets"].as_u64().unwrap() + f["resp"]["packets"].as_u64().unwrap(),
                f["orig"]["owner"]["process"]["comm"],
                f["resp"]["owner"]["process"]["comm"],
                f["tunnel"]
            );
        }
        // Packet by packet: each underlay packet has the owner and role its copy has on the
        // vxlan device (same order: each packet crosses both interfaces of this namespace).
        let mut by_if = packets_by_interface(file);
        let (vx, vx_tunneled) = by_if.remove("vx42").expect("vx42 packets");
        let (ul, ul_tunneled) = by_if.remove(under).expect("underlay packets");
        assert_eq!((vx_tunneled, ul_tunneled), (0, ul.len()), "{here}");
        let sorted = |mut v: Vec<PacketKey>| {
            v.sort();
            v
        };
        assert!(ul.iter().all(|p| p.5.is_some()), "{here}: unowned {ul:#?}");
        assert_eq!(sorted(ul.clone()), sorted(vx), "{here}");
        println!(
            "{here}: {} underlay packets, each with its vxlan copy's owner",
            ul.len()
        );
    }
}

// ---- Offline: crafted Geneve, GRE, IPIP, SIT and ip6tnl (and VXLAN) files ----

const OUT_A: [u8; 4] = [198, 18, 0, 1];
const OUT_B: [u8; 4] = [198, 18, 0, 2];
const OUT_A6: [u8; 16] = [0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const OUT_B6: [u8; 16] = [0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn v4(proto: u8, src: &[u8], dst: &[u8], payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend(total.to_be_bytes());
    p.extend([0, 1, 0x40, 0, 64, proto, 0, 0]);
    p.extend(src);
    p.extend(dst);
    let mut sum: u32 = p
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    p[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    p.extend(payload);
    p
}

fn v6(next: u8, src: &[u8], dst: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend((payload.len() as u16).to_be_bytes());
    p.extend([next, 64]);
    p.extend(src);
    p.extend(dst);
    p.extend(payload);
    p
}

fn ip(proto: u8, src: &[u8], dst: &[u8], payload: &[u8]) -> Vec<u8> {
    if src.len() == 4 {
        v4(proto, src, dst, payload)
    } else {
        v6(proto, src, dst, payload)
    }
}

fn ether(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend(ty.to_be_bytes());
    f.extend(payload);
    f
}

fn ether_ip(p: &[u8]) -> Vec<u8> {
    ether(if p[0] >> 4 == 4 { 0x0800 } else { 0x86dd }, p)
}

fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(sport.to_be_bytes());
    t.extend(dport.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(ack.to_be_bytes());
    t.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend(payload);
    t
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend(sport.to_be_bytes());
    u.extend(dport.to_be_bytes());
    u.extend(((8 + payload.len()) as u16).to_be_bytes());
    u.extend([0, 0]);
    u.extend(payload);
    u
}

/// A DNS answer `web.test` = `addr` (A or AAAA).
fn dns_answer(addr: &[u8]) -> Vec<u8> {
    let ty: u16 = if addr.len() == 4 { 1 } else { 28 };
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    let question = [&b"\x03web\x04test\x00"[..], &ty.to_be_bytes(), &[0, 1]].concat();
    m.extend(&question);
    m.extend([0xc0, 0x0c]);
    m.extend(ty.to_be_bytes());
    m.extend([0, 1, 0, 0, 1, 0x2c]);
    m.extend((addr.len() as u16).to_be_bytes());
    m.extend(addr);
    m
}

/// A DNS answer naming `b` (sent by `b`'s port 53 to `a`), a TCP conversation (handshake, data
/// both ways, FINs) and a UDP exchange between `a` and `b`: (sent by `a`, inner IP packet).
fn conversation(a: &[u8], b: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let t = |fwd: bool, seq, ack, flags, data: &[u8]| {
        let (s, d, sp, dp) = if fwd {
            (a, b, 40000, 8080)
        } else {
            (b, a, 8080, 40000)
        };
        (fwd, ip(6, s, d, &tcp(sp, dp, seq, ack, flags, data)))
    };
    let u = |fwd: bool, data: &[u8]| {
        let (s, d, sp, dp) = if fwd {
            (a, b, 40002, 9999)
        } else {
            (b, a, 9999, 40002)
        };
        (fwd, ip(17, s, d, &udp(sp, dp, data)))
    };
    vec![
        (false, ip(17, b, a, &udp(53, 40003, &dns_answer(b)))),
        t(true, 100, 0, 0x02, b""),
        t(false, 500, 101, 0x12, b""),
        t(true, 101, 501, 0x10, b""),
        t(true, 101, 501, 0x18, b"GET / HTTP/1.0\r\n\r\n"),
        t(false, 501, 119, 0x18, b"HTTP/1.0 200 OK\r\n\r\nhello"),
        t(true, 119, 526, 0x11, b""),
        t(false, 526, 120, 0x11, b""),
        t(true, 120, 527, 0x10, b""),
        u(true, b"question"),
        u(false, b"answer!"),
    ]
}

/// The frame of inner packet `inner` sent from the tunnel endpoint `src` to `dst`.
type Wrap = fn(&[u8], &[u8], &[u8]) -> Vec<u8>;

/// (file name, tunnel kind, VNI or key, outer IPv6, inner IPv6, how to wrap).
type Case = (&'static str, &'static str, Option<u64>, bool, bool, Wrap);

fn over_udp(src: &[u8], dst: &[u8], dport: u16, header: &[u8], inner: &[u8]) -> Vec<u8> {
    let payload = [header, inner].concat();
    ether_ip(&ip(17, src, dst, &udp(51234, dport, &payload)))
}

fn vxlan(src: &[u8], dst: &[u8], inner: &[u8]) -> Vec<u8> {
    over_udp(src, dst, 4789, &[8, 0, 0, 0, 0, 0, 42, 0], &ether_ip(inner))
}

fn vxlan_flannel(src: &[u8], dst: &[u8], inner: &[u8]) -> Vec<u8> {
    over_udp(src, dst, 8472, &[8, 0, 0, 0, 0, 0, 1, 0], &ether_ip(inner))
}

fn geneve(src: &[u8], dst: &[u8], inner: &[u8]) -> Vec<u8> {
    // Version 0, 8 bytes of options (one of class 0x0102), Ethernet, VNI 0x1234.
    let h = [
        2, 0, 0x65, 0x58, 0, 0x12, 0x34, 0, 1, 2, 0x81, 1, 0xaa, 0xbb, 0xcc, 0xdd,
    ];
    over_udp(src, dst, 6081, &h, &ether_ip(inner))
}

fn gre_key(src: &[u8], dst: &[u8], inner: &[u8]) -> Vec<u8> {
    let ty: u16 = if inner[0] >> 4 == 4 { 0x0800 } else { 0x86dd };
    let mut g = vec![0x20, 0];
    g.extend(ty.to_be_bytes());
    g.extend(77u32.to_be_bytes());
    g.extend(inner);
    ether_ip(&ip(47, src, dst, &g))
}

fn gretap(src: &[u8], dst: &[u8], inner: &[u8]) -> Vec<u8> {
    let g = [&[0x10, 0, 0x65, 0x58, 0, 0, 0, 3][..], &ether_ip(inner)].concat();
    ether_ip(&ip(47, src, dst, &g))
}

fn ip_in_ip(src: &[u8], dst: &[u8], inner: &[u8]) -> Vec<u8> {
    let proto = if inner[0] >> 4 == 4 { 4 } else { 41 };
    ether_ip(&ip(proto, src, dst, inner))
}

fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        f.extend(v.to_le_bytes());
    }
    for (i, p) in frames.iter().enumerate() {
        let (sec, usec) = (1_790_000_000 + i as u32 / 1000, (i as u32 % 1000) * 1000);
        for v in [sec, usec, p.len() as u32, p.len() as u32] {
            f.extend(v.to_le_bytes());
        }
        f.extend(p);
    }
    f
}

fn flows_json(file: &Path) -> Vec<Value> {
    ptanalyze_ok(["--flows", "--json", file.to_str().unwrap()])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "flow")
        .collect()
}

#[test]
fn crafted_tunnels_are_flows_of_their_inner_conversation() {
    let tcpdump_here = Command::new("tcpdump").arg("--version").output().is_ok();
    assert!(
        tcpdump_here,
        "tcpdump 4.99 is needed (the oracle of the crafted files)"
    );
    let dir = TempDir::new("flows-tunnels-crafted");
    let inner4 = ([198u8, 19, 0, 1], [198u8, 19, 0, 2]);
    let inner6: ([u8; 16], [u8; 16]) = (
        [0xfd, 0, 1, 0x98, 0, 0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0xfd, 0, 1, 0x98, 0, 0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
    );
    let v4_conv = conversation(&inner4.0, &inner4.1);
    let v6_conv = conversation(&inner6.0, &inner6.1);
    let cases: [Case; 9] = [
        ("vxlan", "vxlan", Some(42), false, false, vxlan),
        ("vxlan-8472", "vxlan", Some(1), false, false, vxlan_flannel),
        ("geneve", "geneve", Some(0x1234), false, false, geneve),
        ("geneve-v6", "geneve", Some(0x1234), true, true, geneve),
        ("gre-key", "gre", Some(77), false, false, gre_key),
        ("gretap", "gre", None, false, false, gretap),
        ("ipip", "ipip", None, false, false, ip_in_ip),
        ("sit", "sit", None, false, true, ip_in_ip),
        ("ip6tnl", "ip6tnl", None, true, false, ip_in_ip),
    ];
    let mut plain_flows = BTreeMap::new();
    for (v6, conv) in [(false, &v4_conv), (true, &v6_conv)] {
        let file = dir.path().join(format!("plain-{v6}.pcap"));
        let frames: Vec<Vec<u8>> = conv.iter().map(|(_, p)| ether_ip(p)).collect();
        std::fs::write(&file, pcap(&frames)).unwrap();
        let flows = flows_json(&file);
        assert_eq!(flows.len(), 3, "{flows:?}");
        assert!(flows.iter().all(|f| f.get("tunnel").is_none()), "{flows:?}");
        // The DNS answer names the TCP and UDP flows' responder.
        let named = flows
            .iter()
            .filter(|f| f["responder"]["names"][0]["name"] == "web.test")
            .count();
        assert_eq!(named, 2, "{flows:#?}");
        let tcpdump = run_checked(&["tcpdump", "-nn", "-r", file.to_str().unwrap()]);
        plain_flows.insert(v6, (flows, tcpdump));
    }
    for (name, kind, id, outer6, inner_v6, wrap) in cases {
        let (a, b): (&[u8], &[u8]) = if outer6 {
            (&OUT_A6, &OUT_B6)
        } else {
            (&OUT_A, &OUT_B)
        };
        let conv = if inner_v6 { &v6_conv } else { &v4_conv };
        let frames: Vec<Vec<u8>> = conv
            .iter()
            .map(|(fwd, p)| if *fwd { wrap(a, b, p) } else { wrap(b, a, p) })
            .collect();
        let file = dir.path().join(format!("{name}.pcap"));
        std::fs::write(&file, pcap(&frames)).unwrap();
        let (plain, plain_text) = &plain_flows[&inner_v6];
        // tcpdump reads the crafted encapsulation and prints each packet's inner line.
        let text = run_checked(&["tcpdump", "-nn", "-r", file.to_str().unwrap()]);
        let inner_lines = |t: &str| -> Vec<String> {
            t.lines()
                .filter_map(|l| {
                    let i = l.find(if inner_v6 {
                        "IP6 fd00:198:19::"
                    } else {
                        "IP 198.19.0."
                    })?;
                    Some(l[i..].to_string())
                })
                .collect()
        };
        assert_eq!(
            inner_lines(&text),
            inner_lines(plain_text),
            "{name}: tcpdump:\n{text}"
        );
        let flows = flows_json(&file);
        assert_eq!(flows.len(), plain.len(), "{name}: {flows:#?}");
        let outer = |x: &[u8]| -> String {
            if x.len() == 4 {
                std::net::Ipv4Addr::from(<[u8; 4]>::try_from(x).unwrap()).to_string()
            } else {
                std::net::Ipv6Addr::from(<[u8; 16]>::try_from(x).unwrap()).to_string()
            }
        };
        let inner_a = if inner_v6 {
            outer(&inner6.0)
        } else {
            outer(&inner4.0)
        };
        for (f, p) in flows.iter().zip(plain) {
            // The outer ends follow the flow's: the DNS answer's flow starts at `b`.
            let (oi, or) = if f["initiator"]["addr"] == inner_a.as_str() {
                (outer(a), outer(b))
            } else {
                (outer(b), outer(a))
            };
            let mut want_tunnel = serde_json::json!({
                "kind": kind, "initiator": oi, "responder": or
            });
            if let Some(id) = id {
                want_tunnel["id"] = id.into();
            }
            assert_eq!(f["tunnel"], want_tunnel, "{name}: {f}");
            assert_eq!(comparable(f), comparable(p), "{name}");
            for side in ["orig", "resp"]
                .into_iter()
                .filter(|s| p[*s]["packets"] != 0)
            {
                assert!(
                    f[side]["bytes"].as_u64() > p[side]["bytes"].as_u64(),
                    "{name}: {side}: the frames carry the encapsulation"
                );
            }
        }
        // The text table names the tunnel in its last column.
        let table = ptanalyze_ok(["--flows", file.to_str().unwrap()]);
        let want = match id {
            Some(id) => format!("{kind} {id} {} > {}", outer(a), outer(b)),
            None => format!("{kind} {} > {}", outer(a), outer(b)),
        };
        assert!(
            table.lines().next().unwrap().trim_end().ends_with("TUNNEL"),
            "{table}"
        );
        assert_eq!(table.matches(&want).count(), 2, "{name}: {table}");
        // The flows table (`-o .csv`: the Parquet export's rows) has the tunnel columns.
        let csv = dir.path().join(format!("{name}.csv"));
        ptanalyze_ok([
            "--flows",
            "-o",
            csv.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
        let csv = std::fs::read_to_string(&csv).unwrap();
        let mut lines = csv.lines();
        // The last four columns (values without commas: split from the right).
        let last4 = |l: &str| -> Vec<String> {
            let mut v: Vec<String> = l.rsplitn(5, ',').take(4).map(String::from).collect();
            v.reverse();
            v
        };
        assert_eq!(
            last4(lines.next().unwrap()),
            [
                "tunnel_kind",
                "tunnel_id",
                "tunnel_initiator_addr",
                "tunnel_responder_addr"
            ]
        );
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 3, "{csv}");
        for row in rows {
            let t = last4(row);
            assert_eq!(t[0], kind, "{row}");
            assert_eq!(t[1], id.map_or(String::new(), |i| i.to_string()), "{row}");
            let ends = [t[2].clone(), t[3].clone()];
            assert!(
                ends == [outer(a), outer(b)] || ends == [outer(b), outer(a)],
                "{row}"
            );
        }
        // The HTML report's top flows name the tunnel with the protocol.
        let page = dir.path().join(format!("{name}.html"));
        ptanalyze_ok(["--report", page.to_str().unwrap(), file.to_str().unwrap()]);
        let html = std::fs::read_to_string(&page).unwrap();
        let label = match id {
            Some(id) => format!("tcp in {kind} {id}"),
            None => format!("tcp in {kind}"),
        };
        assert!(
            html.contains(&format!("\"{label}\"")),
            "{name}: no {label:?} in the report"
        );
        println!("{name}: {} flows, tunnel {want}", flows.len());
    }
}

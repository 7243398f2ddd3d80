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
//! ip6tnl modules), so those are checked offline, on crafted files (`crafted_tunnels_...`).
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

/// The flows of `file` seen on `iface` whose responder port is 8080 or 9999, by responder port.
fn flows_on(file: &Path, iface: &str) -> BTreeMap<u64, Value> {
    let out = ptanalyze_ok([
        "-i",
        iface,
        "--flows",
        "--json",
        file.to_str().expect("utf-8 path"),
    ]);
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
        let on_tunnel = flows_on(file, under);
        let on_vx = flows_on(file, "vx42");
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

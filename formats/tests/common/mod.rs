//! Test fixtures shared by the formats tests and the end-to-end round-trip tests
//! (`tests/tests/roundtrip_*.rs` include this file by path): packets, metadata with every
//! awkward value we know of, files written with our writer, and helpers to run the real tools.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use formats::meta::MetaReader;
use formats::meta::{escape_bytes, ContainerInfo, PacketMeta, PodInfo, ProcessInfo, Provenance};
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, CaptureReader, Direction, Packet};

/// One packet to write and what must come back.
#[derive(Debug, Clone)]
pub struct TestPacket {
    pub iface: u32,
    pub ts_ns: u64,
    pub orig_len: u32,
    pub data: Vec<u8>,
    pub direction: Option<Direction>,
    pub meta: PacketMeta,
}

/// An Ethernet + IPv4 + TCP frame (checksums zero: nobody here checks them).
pub fn eth_tcp(src_port: u16, dst_port: u16, payload_len: usize, seq: u32) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    f.extend(ipv4_tcp(src_port, dst_port, payload_len, seq));
    f
}

pub fn ipv4_tcp(src_port: u16, dst_port: u16, payload_len: usize, seq: u32) -> Vec<u8> {
    let total = 20 + 20 + payload_len;
    let mut f = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ];
    f.extend_from_slice(&[198, 18, 0, 1, 198, 18, 0, 2]);
    f.extend_from_slice(&src_port.to_be_bytes());
    f.extend_from_slice(&dst_port.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&0u32.to_be_bytes());
    f.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend((0..payload_len).map(|i| b'a' + (i % 26) as u8));
    f
}

/// LINUX_SLL2 header (20 bytes, big endian) in front of an IPv4 packet.
pub fn sll2_ipv4(ifindex: u32, outgoing: bool, ip: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0x0800u16.to_be_bytes()); // protocol
    f.extend_from_slice(&0u16.to_be_bytes()); // reserved
    f.extend_from_slice(&ifindex.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    f.push(if outgoing { 4 } else { 0 }); // packet type
    f.push(6); // address length
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(ip);
    f
}

pub struct Cast {
    pub wget: Arc<ProcessInfo>,
    pub curl: Arc<ProcessInfo>,
    pub weird: Arc<ProcessInfo>,
    pub shell: Arc<ProcessInfo>,
    pub web1: Arc<ContainerInfo>,
    pub db1: Arc<ContainerInfo>,
    pub api: Arc<PodInfo>,
}

/// Processes, containers and a pod with the values that break naive encoders.
pub fn cast() -> Cast {
    let wget = Arc::new(ProcessInfo {
        pid: 241879,
        comm: "wget".into(),
        exe: "/usr/bin/wget".into(),
        argv: vec![
            "wget".into(),
            "-T".into(),
            "10".into(),
            "http://198.18.0.2/a b".into(),
        ],
        uid: Some(0),
        gid: Some(0),
    });
    let curl = Arc::new(ProcessInfo {
        pid: 5150,
        comm: "cu\trl".into(),
        exe: "/usr/bin/curl".into(),
        argv: vec![
            "curl".into(),
            "-H".into(),
            "X-A: line1\nline2\r\x1b[31mred\\n".into(),
            "é✓".into(),
        ],
        uid: Some(1000),
        gid: None,
    });
    let weird = Arc::new(ProcessInfo {
        pid: 77,
        comm: escape_bytes(b"n\xffme"),
        exe: escape_bytes(b"/tmp/\xfe\xff/bin"),
        argv: vec![
            escape_bytes(b"arg\xc3"),
            "x".repeat(5000),
            "\u{7f}del".into(),
        ],
        uid: None,
        gid: Some(5),
    });
    let shell = Arc::new(ProcessInfo {
        pid: 1200,
        comm: "containerd-shim".into(),
        exe: "/usr/bin/containerd-shim-runc-v2".into(),
        argv: vec![
            "/usr/bin/containerd-shim-runc-v2".into(),
            "-namespace".into(),
            "moby".into(),
        ],
        uid: Some(0),
        gid: Some(0),
    });
    let mut labels = BTreeMap::new();
    labels.insert(
        "com.docker/engine.bundle.path".to_string(),
        "/var/run/docker/x".to_string(),
    );
    labels.insert("quote\"d".to_string(), "new\nline é".to_string());
    let web1 = Arc::new(ContainerInfo {
        id: "78f1713c0bb2a6a7b3e5d0f3c5d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90".into(),
        name: "web1".into(),
        image: "busybox:1.36".into(),
        labels,
        runtime: "docker".into(),
        namespace: "moby".into(),
    });
    let mut big = BTreeMap::new();
    for i in 0..300 {
        big.insert(format!("label-{i:03}"), "v".repeat(40));
    }
    let db1 = Arc::new(ContainerInfo {
        id: "0123456789ab".into(),
        name: String::new(),
        image: "postgres".into(),
        labels: big,
        runtime: "containerd".into(),
        namespace: "k8s.io".into(),
    });
    let api = Arc::new(PodInfo {
        name: "api".into(),
        namespace: "default".into(),
        uid: "9a8b7c6d-0000-1111-2222-333344445555".into(),
        labels: [("app".to_string(), "api".to_string())].into(),
        annotations: [("note".to_string(), "tab\there".to_string())].into(),
    });
    Cast {
        wget,
        curl,
        weird,
        shell,
        web1,
        db1,
        api,
    }
}

/// The metadata variants used by the fixtures, index 0 = none.
pub fn meta_variants(c: &Cast) -> Vec<PacketMeta> {
    vec![
        PacketMeta::default(),
        PacketMeta {
            process: Some(c.wget.clone()),
            parent: Some(c.shell.clone()),
            container: Some(c.web1.clone()),
            pod: Some(c.api.clone()),
            thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
                tid: 241880,
                name: String::new(),
            })),
            provenance: Provenance::SocketCookie,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
        PacketMeta {
            process: Some(c.curl.clone()),
            parent: None,
            container: Some(c.db1.clone()),
            pod: None,
            thread: None,
            provenance: Provenance::ReverseTuple,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
        PacketMeta {
            process: Some(c.weird.clone()),
            parent: Some(c.curl.clone()),
            container: None,
            pod: None,
            thread: Some(std::sync::Arc::new(formats::meta::ThreadInfo {
                tid: 78,
                name: String::new(),
            })),
            provenance: Provenance::SockDiag,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
        // Same wget, a fresh Arc with equal content: the writer must dedup by content.
        PacketMeta {
            process: Some(Arc::new((*c.wget).clone())),
            parent: None,
            container: Some(c.web1.clone()),
            pod: None,
            thread: None,
            provenance: Provenance::Tuple,
            role: Default::default(),
            peer: Default::default(),
            drop: None,
            nat: None,
            nat_reply: false,
        },
    ]
}

/// Whether a fixture packet's process is wget (the only entity that mentions "wget").
pub fn is_wget(m: &PacketMeta) -> bool {
    m.process.as_ref().is_some_and(|p| p.comm == "wget")
}

/// `n` packets on `ifaces` interfaces, cycling metadata variants and directions.
pub fn packets(n: usize, ifaces: u32, sll2: bool, base_ts: u64) -> Vec<TestPacket> {
    let c = cast();
    let metas = meta_variants(&c);
    (0..n)
        .map(|i| {
            let iface = (i as u32) % ifaces;
            let payload = (i * 37) % 300;
            let data = if sll2 {
                sll2_ipv4(
                    iface + 2,
                    i % 2 == 0,
                    &ipv4_tcp(40000 + i as u16, 80, payload, i as u32),
                )
            } else {
                eth_tcp(40000 + i as u16, 80, payload, i as u32)
            };
            TestPacket {
                iface,
                ts_ns: base_ts + i as u64 * 1_000_003,
                orig_len: data.len() as u32 + if i % 7 == 3 { 100 } else { 0 },
                data,
                direction: match i % 3 {
                    0 => Some(Direction::Out),
                    1 => Some(Direction::In),
                    _ => None,
                },
                meta: metas[i % metas.len()].clone(),
            }
        })
        .collect()
}

pub const BASE_TS: u64 = 1_700_000_000_123_456_789;

/// Writes `pkts` with `cfg`: one Ethernet interface, or `ifaces` LINUX_SLL2 interfaces.
pub fn write_file(cfg: WriterConfig, ifaces: u32, sll2: bool, pkts: &[TestPacket]) -> Vec<u8> {
    let mut w = PcapngWriter::new(Vec::new(), cfg).expect("writer");
    for i in 0..ifaces {
        let mut spec = InterfaceSpec::new(
            &format!("eth{i}"),
            if sll2 {
                linktype::LINUX_SLL2
            } else {
                linktype::ETHERNET
            },
            262144,
        );
        spec.description = Some(format!("eth{i} in netns ctr{i} (inode 40265{i})"));
        if i == 0 {
            spec.filter = Some("tcp port 80".into());
        }
        assert_eq!(w.add_interface(&spec).expect("idb"), i);
    }
    for p in pkts {
        w.write_packet(p.iface, p.ts_ns, p.orig_len, &p.data, p.direction, &p.meta)
            .expect("packet");
    }
    for i in 0..ifaces {
        let stats = formats::pcapng::InterfaceStats {
            received: Some(pkts.len() as u64 + 3),
            dropped: Some(1),
            filter_accepted: Some(pkts.len() as u64),
            os_dropped: Some(2),
            delivered: Some(pkts.len() as u64),
        };
        w.write_stats(i, &stats, Some(BASE_TS), Some(BASE_TS + 10_000_000_000))
            .expect("isb");
    }
    assert_eq!(w.skipped_options(), 0);
    w.finish().expect("finish")
}

pub fn config(scope: u32) -> WriterConfig {
    let mut cfg = WriterConfig::new("ptcap", "0.1.0");
    cfg.os = Some(formats::pcapng::write::os_description(
        "Linux\n",
        "6.1.0-test\n",
    ));
    cfg.scope = Some(scope);
    cfg
}

/// One packet as read back, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPacket {
    pub iface: u32,
    pub ts_ns: u64,
    pub orig_len: u32,
    pub data: Vec<u8>,
    pub direction: Option<Direction>,
    pub meta: PacketMeta,
}

/// Reads every packet with our reader and MetaReader; panics on any error.
pub fn read_all(file: &[u8]) -> (Vec<ReadPacket>, MetaReader) {
    let mut r = CaptureReader::new(file).expect("reader");
    let mut m = MetaReader::new();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().expect("packet") {
        out.push(owned(&p, &mut m));
    }
    (out, m)
}

pub fn owned(p: &Packet<'_>, m: &mut MetaReader) -> ReadPacket {
    ReadPacket {
        iface: p.interface,
        ts_ns: p.ts_ns,
        orig_len: p.orig_len,
        data: p.data.to_vec(),
        direction: p.direction,
        meta: m.decode(&p.options),
    }
}

/// A fresh temporary directory for one test.
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ptcap-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Runs a tool that must exist; fails the test loudly with its stderr otherwise.
pub fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is required by this test and could not be run: {e} (install it: apt-get install tshark tcpdump)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("appears to be damaged") && !stderr.contains("corrupt"),
        "{tool} {args:?} complained: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

//! `analyze::stats`: a pcapng file written with our writer, with known owners, directions and
//! interfaces, read back through our reader; every figure of the report checked exactly (also
//! of a file with kernel drops); and merged chunks equal one sequential pass (random splits of
//! those files and of the corpus).

use std::path::PathBuf;
use std::sync::Arc;

use analyze::flows::Observed;
use analyze::stats::{write_report_text, Drops, Report, Rollups, Traffic};
use formats::meta::{
    ContainerInfo, DropInfo, MetaReader, PacketMeta, PodInfo, ProcessInfo, Provenance, Role,
};
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{linktype, CaptureReader, Direction};
use proptest::prelude::*;

const BASE: u64 = 1_700_000_000_000_000_000;

#[derive(Debug, Clone)]
struct Pkt {
    ts_ns: u64,
    orig_len: u32,
    link_type: u16,
    data: Vec<u8>,
    interface: Option<String>,
    direction: Option<Direction>,
    meta: PacketMeta,
}

fn observed(p: &Pkt) -> Observed<'_> {
    Observed {
        ts_ns: p.ts_ns,
        orig_len: p.orig_len,
        link_type: p.link_type,
        data: &p.data,
        interface: p.interface.as_deref(),
        direction: p.direction,
        meta: &p.meta,
    }
}

fn read(bytes: &[u8]) -> Vec<Pkt> {
    let mut r = CaptureReader::new(bytes).unwrap();
    let mut m = MetaReader::new();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        let iface = &r.interfaces()[p.interface as usize];
        m.learn_definitions(&p.options);
        out.push(Pkt {
            ts_ns: p.ts_ns,
            orig_len: p.orig_len,
            link_type: iface.link_type,
            data: p.data.to_vec(),
            interface: iface.name.clone(),
            direction: p.direction,
            meta: m.decode(&p.options),
        });
    }
    out
}

/// IPv4 on a RAW link: TCP (6) or UDP (17) with 8 bytes of transport header each.
fn ip(proto: u8, src: u8, dst: u8, sp: u16, dp: u16) -> Vec<u8> {
    let hl = if proto == 6 { 20 } else { 8 };
    let total = 20 + hl;
    let mut p = vec![0x45, 0, 0, total as u8, 0, 0, 0x40, 0, 64, proto, 0, 0];
    p.extend_from_slice(&[198, 18, 0, src, 198, 18, 0, dst]);
    p.extend_from_slice(&sp.to_be_bytes());
    p.extend_from_slice(&dp.to_be_bytes());
    if proto == 6 {
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 1, 0, 0, 0, 0, 0]);
    } else {
        p.extend_from_slice(&[0, 8, 0, 0]);
    }
    p
}

fn fixture_file() -> Vec<u8> {
    let curl = PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 100,
            comm: "curl".into(),
            exe: "/usr/bin/curl".into(),
            argv: vec!["curl".into(), "http://198.18.0.2/".into()],
            uid: Some(0),
            gid: None,
        })),
        container: Some(Arc::new(ContainerInfo {
            id: "aaaabbbbccccddddeeee".into(),
            name: "web".into(),
            ..Default::default()
        })),
        pod: Some(Arc::new(PodInfo {
            name: "api".into(),
            namespace: "default".into(),
            ..Default::default()
        })),
        provenance: Provenance::SocketCookie,
        ..Default::default()
    };
    let nginx = PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 200,
            comm: "nginx".into(),
            exe: "/usr/sbin/nginx".into(),
            argv: vec!["nginx".into()],
            uid: None,
            gid: None,
        })),
        provenance: Provenance::Listener,
        ..Default::default()
    };
    let none = PacketMeta::default();
    let out = Some(Direction::Out);
    let inn = Some(Direction::In);
    // (interface, direction, owner, wire length, bytes)
    type Row<'a> = (u32, Option<Direction>, &'a PacketMeta, u32, Vec<u8>);
    let pkts: Vec<Row> = vec![
        (0, out, &curl, 100, ip(6, 1, 2, 40000, 80)),
        (0, inn, &curl, 1500, ip(6, 2, 1, 80, 40000)),
        (0, out, &curl, 80, ip(17, 1, 3, 40001, 53)),
        (1, out, &nginx, 200, ip(6, 9, 1, 443, 5555)),
        (1, inn, &nginx, 60, ip(6, 1, 9, 5555, 443)),
        (0, None, &none, 90, ip(17, 4, 1, 7, 7)),
        (0, out, &none, 42, vec![0x00; 28]),
    ];
    let mut w = PcapngWriter::new(Vec::new(), WriterConfig::new("ptcap-test", "0")).unwrap();
    w.add_interface(&InterfaceSpec::new("eth0", linktype::RAW, 65535))
        .unwrap();
    w.add_interface(&InterfaceSpec::new("veth1", linktype::RAW, 65535))
        .unwrap();
    for (i, (iface, dir, meta, len, data)) in pkts.iter().enumerate() {
        w.write_packet(*iface, BASE + i as u64 * 1000, *len, data, *dir, meta)
            .unwrap();
    }
    w.finish().unwrap()
}

/// Drops (ptcap `--drops`): curl's SYN-like TCP to 198.18.0.3:81 seen on veth1 and dropped
/// three times on br0 (`NETFILTER_DROP`), its UDP to a closed port dropped once on eth0
/// (`NO_SOCKET`); nginx's packets are not dropped.
fn fixture_with_drops() -> Vec<u8> {
    let curl = PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 100,
            comm: "curl".into(),
            exe: "/usr/bin/curl".into(),
            ..Default::default()
        })),
        container: Some(Arc::new(ContainerInfo {
            id: "aaaabbbbccccddddeeee".into(),
            name: "web".into(),
            ..Default::default()
        })),
        pod: Some(Arc::new(PodInfo {
            name: "api".into(),
            namespace: "default".into(),
            ..Default::default()
        })),
        provenance: Provenance::SocketCookie,
        role: Role::Sender,
        ..Default::default()
    };
    let nginx = PacketMeta {
        process: Some(Arc::new(ProcessInfo {
            pid: 200,
            comm: "nginx".into(),
            exe: "/usr/sbin/nginx".into(),
            ..Default::default()
        })),
        provenance: Provenance::Listener,
        role: Role::Receiver,
        ..Default::default()
    };
    let drop = |reason: &str| PacketMeta {
        drop: Some(Arc::new(DropInfo {
            reason: reason.into(),
            location: "nft_do_chain+0x46f".into(),
        })),
        ..curl.clone()
    };
    let (nf, nosock) = (drop("NETFILTER_DROP"), drop("NO_SOCKET"));
    let out = Some(Direction::Out);
    let inn = Some(Direction::In);
    type Row<'a> = (u32, Option<Direction>, &'a PacketMeta, u32, Vec<u8>);
    let pkts: Vec<Row> = vec![
        (1, inn, &curl, 60, ip(6, 1, 3, 40000, 81)),
        (2, inn, &nf, 60, ip(6, 1, 3, 40000, 81)),
        (0, inn, &nginx, 200, ip(6, 9, 2, 5555, 443)),
        (1, inn, &curl, 60, ip(6, 1, 3, 40000, 81)),
        (2, inn, &nf, 60, ip(6, 1, 3, 40000, 81)),
        (0, out, &curl, 80, ip(17, 1, 2, 40001, 9)),
        (0, inn, &nosock, 80, ip(17, 1, 2, 40001, 9)),
        (1, inn, &curl, 60, ip(6, 1, 3, 40000, 81)),
        (2, inn, &nf, 60, ip(6, 1, 3, 40000, 81)),
    ];
    let mut w = PcapngWriter::new(Vec::new(), WriterConfig::new("ptcap-test", "0")).unwrap();
    for name in ["eth0", "veth1", "br0"] {
        w.add_interface(&InterfaceSpec::new(name, linktype::RAW, 65535))
            .unwrap();
    }
    for (i, (iface, dir, meta, len, data)) in pkts.iter().enumerate() {
        w.write_packet(*iface, BASE + i as u64 * 1000, *len, data, *dir, meta)
            .unwrap();
    }
    w.finish().unwrap()
}

fn report(pkts: &[Pkt]) -> Report {
    let mut r = Rollups::new();
    for p in pkts {
        r.observe(&observed(p));
    }
    r.finish()
}

fn tr(packets: u64, bytes: u64) -> Traffic {
    Traffic { packets, bytes }
}

#[test]
fn every_figure_of_a_known_file() {
    let pkts = read(&fixture_file());
    assert_eq!(pkts.len(), 7);
    let r = report(&pkts);
    let t = &r.totals;
    assert_eq!((t.packets, t.bytes), (7, 2072));
    assert_eq!(
        (t.sent, t.received, t.unknown),
        (tr(4, 422), tr(2, 1560), tr(1, 90))
    );
    assert_eq!((t.non_ip_packets, t.flows, t.remote_endpoints), (1, 4, 3));
    assert_eq!(
        (t.first_ts_ns, t.last_ts_ns),
        (Some(BASE), Some(BASE + 6000))
    );

    let c = &r.coverage;
    assert_eq!((c.packets, c.with_process), (7, 5));
    assert!((c.share_with_process - 5.0 / 7.0).abs() < 1e-12);
    let prov: Vec<(Provenance, u64, u64)> = c
        .by_provenance
        .iter()
        .map(|p| (p.provenance, p.packets, p.with_process))
        .collect();
    assert_eq!(
        prov,
        [
            (Provenance::None, 2, 0),
            (Provenance::SocketCookie, 3, 3),
            (Provenance::Listener, 2, 2)
        ]
    );

    let p: Vec<_> = r
        .processes
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.pid,
                p.exe.as_deref(),
                p.sent,
                p.received,
                p.unknown,
                p.flows,
                p.remote_endpoints,
                p.bytes,
            )
        })
        .collect();
    assert_eq!(
        p,
        [
            (
                "curl.100",
                Some(100),
                Some("/usr/bin/curl"),
                tr(2, 180),
                tr(1, 1500),
                tr(0, 0),
                2,
                2,
                1680
            ),
            (
                "nginx.200",
                Some(200),
                Some("/usr/sbin/nginx"),
                tr(1, 200),
                tr(1, 60),
                tr(0, 0),
                1,
                1,
                260
            ),
        ]
    );
    assert_eq!(r.processes[0].first_ts_ns, Some(BASE));
    assert_eq!(r.processes[0].last_ts_ns, Some(BASE + 2000));

    assert_eq!(r.containers.len(), 1);
    let w = &r.containers[0];
    assert_eq!(
        (w.name.as_str(), w.id.as_deref()),
        ("web", Some("aaaabbbbccccddddeeee"))
    );
    assert_eq!(
        (w.sent, w.received, w.flows, w.remote_endpoints),
        (tr(2, 180), tr(1, 1500), 2, 2)
    );
    assert_eq!(r.pods.len(), 1);
    assert_eq!(
        (r.pods[0].name.as_str(), r.pods[0].bytes),
        ("api.default", 1680)
    );

    let i: Vec<_> = r
        .interfaces
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                i.sent,
                i.received,
                i.unknown,
                i.flows,
                i.remote_endpoints,
            )
        })
        .collect();
    assert_eq!(
        i,
        [
            ("eth0", tr(3, 222), tr(1, 1500), tr(1, 90), 3, 3),
            ("veth1", tr(1, 200), tr(1, 60), tr(0, 0), 1, 1),
        ]
    );

    let mut text = Vec::new();
    write_report_text(&r, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.starts_with("Totals: 7 packets, 2072 bytes (out 4/422, in 2/1560, unknown direction 1/90), 4 flows, 3 remote addresses, 1 non-IP packets"), "{text}");
    assert!(
        text.contains("Attribution: 5 of 7 packets have a process (71.4%)"),
        "{text}"
    );
    let row = |first: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.starts_with(first))
            .unwrap_or_else(|| panic!("{first} in {text}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    assert_eq!(row("socket_cookie"), ["socket_cookie", "3", "42.9%", "3"]);
    assert_eq!(
        row("curl.100")[..9],
        ["curl.100", "2", "180", "1", "1500", "0", "0", "2", "2"]
    );
    assert_eq!(
        row("eth0")[..9],
        ["eth0", "3", "222", "1", "1500", "1", "90", "3", "3"]
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["totals"]["sent"]["bytes"], 422);
    assert_eq!(
        json["coverage"]["by_provenance"][1]["provenance"],
        "socket_cookie"
    );
    assert_eq!(json["containers"][0]["id"], "aaaabbbbccccddddeeee");
}

fn drops(list: &[(&str, u64)]) -> Drops {
    Drops {
        packets: list.iter().map(|(_, n)| n).sum(),
        by_reason: list.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
    }
}

#[test]
fn drops_of_a_known_file_by_owner_and_reason() {
    let pkts = read(&fixture_with_drops());
    assert_eq!(pkts.len(), 9);
    // The record carries the drop through the file.
    assert_eq!(pkts.iter().filter(|p| p.meta.drop.is_some()).count(), 4);
    let r = report(&pkts);
    let curl = drops(&[("NETFILTER_DROP", 3), ("NO_SOCKET", 1)]);
    let t = &r.totals;
    // Drop records are not packets of the traffic (as --flows counts them).
    assert_eq!((t.packets, t.bytes), (5, 460));
    assert_eq!(t.drops, curl);
    assert_eq!((t.flows, t.last_ts_ns), (3, Some(BASE + 8000)));
    assert_eq!((r.coverage.packets, r.coverage.with_process), (5, 5));
    let rows = |v: &[analyze::stats::Rollup]| -> Vec<(String, u64, u64, Drops)> {
        v.iter()
            .map(|g| (g.name.clone(), g.packets, g.bytes, g.drops.clone()))
            .collect()
    };
    assert_eq!(
        rows(&r.processes),
        [
            ("curl.100".into(), 4, 260, curl.clone()),
            ("nginx.200".into(), 1, 200, Drops::default()),
        ]
    );
    assert_eq!(rows(&r.containers), [("web".into(), 4, 260, curl.clone())]);
    assert_eq!(
        rows(&r.pods),
        [("api.default".into(), 4, 260, curl.clone())]
    );
    assert_eq!(
        rows(&r.interfaces),
        [
            ("eth0".into(), 2, 280, drops(&[("NO_SOCKET", 1)])),
            ("veth1".into(), 3, 180, Drops::default()),
            ("br0".into(), 0, 0, drops(&[("NETFILTER_DROP", 3)])),
        ]
    );

    let mut text = Vec::new();
    write_report_text(&r, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("\nDropped by the kernel: 4 (NETFILTER_DROP 3, NO_SOCKET 1), apart from the packets above\n"),
        "{text}"
    );
    let row = |first: &str| -> &str {
        text.lines()
            .find(|l| l.starts_with(first))
            .unwrap_or_else(|| panic!("{first} in {text}"))
    };
    assert!(row("PROCESS").ends_with("SPAN  DROPPED"), "{text}");
    assert!(row("curl.100").ends_with("  4 (NETFILTER_DROP 3, NO_SOCKET 1)"));
    assert!(row("nginx.200").ends_with("  -"), "{text}");
    assert!(row("web").ends_with("  4 (NETFILTER_DROP 3, NO_SOCKET 1)"));
    assert!(row("api.default").ends_with("  4 (NETFILTER_DROP 3, NO_SOCKET 1)"));
    assert!(row("br0").ends_with("  3 (NETFILTER_DROP 3)"), "{text}");
    assert_eq!(
        row("curl.100")
            .split_whitespace()
            .take(9)
            .collect::<Vec<_>>(),
        ["curl.100", "4", "260", "0", "0", "0", "0", "2", "2"]
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["totals"]["drops"]["packets"], 4);
    assert_eq!(
        json["processes"][0]["drops"]["by_reason"]["NETFILTER_DROP"],
        3
    );
    assert_eq!(json["processes"][1]["drops"]["packets"], 0);

    // The known file without drops prints no drop line or column.
    let mut text = Vec::new();
    write_report_text(&report(&read(&fixture_file())), &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        !text.contains("Dropped") && !text.contains("DROPPED"),
        "{text}"
    );
}

fn corpus(name: &str) -> Vec<Pkt> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/corpus")
        .join(name);
    read(&std::fs::read(path).unwrap())
}

fn merged(pkts: &[Pkt], cuts: &[usize], tree: bool) -> Report {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (pkts.len() + 1)).collect();
    cuts.sort();
    let mut parts = Vec::new();
    let mut start = 0;
    for c in cuts.into_iter().chain([pkts.len()]) {
        let mut r = Rollups::new();
        for p in &pkts[start..c] {
            r.observe(&observed(p));
        }
        parts.push(r);
        start = c;
    }
    while parts.len() > 1 {
        if tree {
            let mut next = Vec::new();
            let mut it = parts.into_iter();
            while let Some(mut a) = it.next() {
                if let Some(b) = it.next() {
                    a.merge(b);
                }
                next.push(a);
            }
            parts = next;
        } else {
            let b = parts.remove(1);
            parts[0].merge(b);
        }
    }
    parts.pop().unwrap().finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn merge_equals_sequential(which in 0usize..5, cuts in prop::collection::vec(any::<usize>(), 0..6)) {
        thread_local!(static FILES: Vec<Vec<Pkt>> = vec![
            read(&fixture_file()), corpus("eth-meta.pcapng"), corpus("real-sll2.pcap"),
            corpus("comments-only.pcapng"), read(&fixture_with_drops()),
        ]);
        FILES.with(|files| {
            let pkts = &files[which];
            let seq = report(pkts);
            assert_eq!(merged(pkts, &cuts, false), seq);
            assert_eq!(merged(pkts, &cuts, true), seq);
        });
    }
}

//! `FlowTable::merge` gives exactly what one sequential table gives, for random splits of the
//! real captures into chunks (merged in file order, left to right and as a tree), and for a
//! synthetic capture with retransmissions across chunk boundaries, owners on both sides,
//! directions and several interfaces. Plus zeek's states on hand-made TCP exchanges.

use std::path::PathBuf;
use std::sync::Arc;

use analyze::flows::{write_flows_text, FlowRecord, FlowTable, Observed};
use formats::meta::{ContainerInfo, MetaReader, PacketMeta, ProcessInfo, Provenance, Role};
use formats::pcapng::{linktype, CaptureReader, Direction};
use proptest::prelude::*;

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

impl Pkt {
    fn observed(&self) -> Observed<'_> {
        Observed {
            ts_ns: self.ts_ns,
            orig_len: self.orig_len,
            link_type: self.link_type,
            data: &self.data,
            interface: self.interface.as_deref(),
            direction: self.direction,
            meta: &self.meta,
        }
    }
}

fn real(name: &str) -> Vec<Pkt> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/corpus")
        .join(name);
    let bytes = std::fs::read(&path).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut m = MetaReader::new();
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.next_packet() {
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

fn proc(pid: u32, comm: &str) -> Arc<ProcessInfo> {
    Arc::new(ProcessInfo {
        pid,
        comm: comm.into(),
        exe: format!("/usr/bin/{comm}"),
        argv: vec![comm.into(), "-x".into()],
        uid: None,
        gid: None,
    })
}

/// IPv4 TCP on a RAW link: 198.18.0.1:40000 <-> 198.18.0.2:80 (`from_client` picks the way).
fn tcp(from_client: bool, flags: u8, seq: u32, ack: u32, payload: usize, window: u16) -> Vec<u8> {
    let total = 40 + payload;
    let (src, dst, sp, dp) = if from_client {
        ([198, 18, 0, 1], [198, 18, 0, 2], 40000u16, 80u16)
    } else {
        ([198, 18, 0, 2], [198, 18, 0, 1], 80, 40000)
    };
    let mut p = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&sp.to_be_bytes());
    p.extend_from_slice(&dp.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ack.to_be_bytes());
    p.extend_from_slice(&[0x50, flags]);
    p.extend_from_slice(&window.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend(std::iter::repeat_n(b'z', payload));
    p
}

const S: u8 = 0x02;
const SA: u8 = 0x12;
const A: u8 = 0x10;
const PA: u8 = 0x18;
const FA: u8 = 0x11;
const R: u8 = 0x04;

/// A connection with retransmissions by both sides (some long after the original), a zero
/// window, owners on both sides (the server's seen on the host as received traffic).
fn synthetic() -> Vec<Pkt> {
    let client = PacketMeta {
        process: Some(proc(100, "curl")),
        container: Some(Arc::new(ContainerInfo {
            id: "c0ffee0000000000".into(),
            name: "web".into(),
            ..Default::default()
        })),
        provenance: Provenance::SocketCookie,
        ..Default::default()
    };
    let server = PacketMeta {
        process: Some(proc(200, "nginx")),
        provenance: Provenance::Listener,
        ..Default::default()
    };
    let none = PacketMeta::default();
    let c_isn = 0xffff_ff00u32; // wraps during the transfer
    let s_isn = 5000u32;
    let mut v: Vec<(bool, u8, u32, u32, usize, u16)> = vec![
        (true, S, c_isn, 0, 0, 64000),
        (true, S, c_isn, 0, 0, 64000), // SYN retransmitted
        (false, SA, s_isn, c_isn + 1, 0, 64000),
        (true, A, c_isn.wrapping_add(1), s_isn + 1, 0, 64000),
    ];
    let mut cseq = c_isn.wrapping_add(1);
    let mut sseq = s_isn + 1;
    for i in 0..40u32 {
        v.push((true, PA, cseq, sseq, 100, 64000));
        if i % 7 == 3 {
            v.push((true, PA, cseq, sseq, 100, 64000)); // immediate retransmission
        }
        if i % 11 == 5 && i > 10 {
            // Old data sent again much later.
            v.push((true, PA, cseq.wrapping_sub(1000), sseq, 100, 64000));
        }
        cseq = cseq.wrapping_add(100);
        v.push((false, PA, sseq, cseq, 300, if i == 20 { 0 } else { 64000 }));
        if i % 5 == 2 {
            v.push((false, PA, sseq, cseq, 300, 64000));
        }
        sseq += 300;
        v.push((true, A, cseq, sseq, 0, 64000));
    }
    v.push((true, FA, cseq, sseq, 0, 64000));
    v.push((false, FA, sseq, cseq.wrapping_add(1), 0, 64000));
    v.push((true, A, cseq.wrapping_add(1), sseq + 1, 0, 64000));
    v.into_iter()
        .enumerate()
        .map(|(i, (fc, fl, seq, ack, len, win))| {
            let data = tcp(fc, fl, seq, ack, len, win);
            // Client packets: sent by the local client (Out). Server packets arrive at the
            // client host (In) or are captured at the server (Out) on another interface.
            let (iface, dir, meta) = match (fc, i % 3) {
                (true, 0) => ("eth0", Some(Direction::Out), none.clone()),
                (true, _) => ("eth0", Some(Direction::Out), client.clone()),
                (false, 0) => ("eth0", Some(Direction::In), client.clone()),
                (false, 1) => ("veth1", Some(Direction::Out), server.clone()),
                (false, _) => ("veth1", None, none.clone()),
            };
            Pkt {
                ts_ns: 1_700_000_000_000_000_000 + i as u64 * 1_000_000 + (i as u64 % 3) * 7,
                orig_len: data.len() as u32 + 14,
                link_type: linktype::RAW,
                data,
                interface: Some(iface.into()),
                direction: dir,
                meta,
            }
        })
        .collect()
}

fn table(pkts: &[Pkt]) -> FlowTable {
    let mut t = FlowTable::new();
    for p in pkts {
        t.observe(&p.observed());
    }
    t
}

fn sequential(pkts: &[Pkt]) -> Vec<FlowRecord> {
    table(pkts).finish()
}

fn chunks<'a>(pkts: &'a [Pkt], cuts: &[usize]) -> Vec<&'a [Pkt]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (pkts.len() + 1)).collect();
    cuts.sort();
    let mut out = Vec::new();
    let mut start = 0;
    for c in cuts {
        out.push(&pkts[start..c]);
        start = c;
    }
    out.push(&pkts[start..]);
    out
}

/// Left fold in file order.
fn merged_linear(pkts: &[Pkt], cuts: &[usize]) -> Vec<FlowRecord> {
    let mut it = chunks(pkts, cuts).into_iter().map(table);
    let mut acc = it.next().unwrap();
    for t in it {
        acc.merge(t);
    }
    acc.finish()
}

/// Pairwise, as a parallel reduction would: ((t0 t1) (t2 t3)) ...
fn merged_tree(pkts: &[Pkt], cuts: &[usize]) -> Vec<FlowRecord> {
    let mut level: Vec<FlowTable> = chunks(pkts, cuts).into_iter().map(table).collect();
    while level.len() > 1 {
        let mut next = Vec::new();
        let mut it = level.into_iter();
        while let Some(mut a) = it.next() {
            if let Some(b) = it.next() {
                a.merge(b);
            }
            next.push(a);
        }
        level = next;
    }
    level.pop().unwrap().finish()
}

#[test]
fn synthetic_connection_figures() {
    let pkts = synthetic();
    let flows = sequential(&pkts);
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!(f.initiator.to_string(), "198.18.0.1:40000");
    let t = f.tcp.as_ref().unwrap();
    assert_eq!(t.conn_state, "SF");
    assert_eq!(t.history, "ShADdtTwFf");
    // 6 immediate (i % 7 == 3 for i < 40) + 3 late (i in 16, 27, 38); server: 8 (i % 5 == 2).
    assert_eq!(f.orig.retransmissions, 6 + 3);
    assert_eq!(f.resp.retransmissions, 8);
    assert_eq!(t.handshake_rtt_ns, Some(3_000_000));
    let co = f.orig.owner.as_ref().unwrap();
    assert_eq!(co.short(), "curl.100[web]");
    assert_eq!(f.resp.owner.as_ref().unwrap().short(), "nginx.200");
    assert_eq!(f.interfaces, vec!["eth0".to_string(), "veth1".to_string()]);
    let mut text = Vec::new();
    write_flows_text(&flows, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row,
        [
            "tcp",
            "198.18.0.1:40000",
            "198.18.0.2:80",
            "94",
            "9976",
            "50",
            "17100",
            "0.143000",
            "SF",
            "ShADdtTwFf",
            "curl.100[web]",
            "nginx.200"
        ],
        "{text}"
    );
    let json = serde_json::to_string(&flows[0]).unwrap();
    assert!(json.contains(r#""conn_state":"SF""#), "{json}");
}

#[test]
fn zeek_states_of_small_exchanges() {
    let mk = |v: &[(bool, u8, u32, u32, usize)]| -> Vec<Pkt> {
        v.iter()
            .enumerate()
            .map(|(i, &(c, fl, seq, ack, len))| {
                let data = tcp(c, fl, seq, ack, len, 1000);
                Pkt {
                    ts_ns: i as u64 * 1000,
                    orig_len: data.len() as u32,
                    link_type: linktype::RAW,
                    data,
                    interface: None,
                    direction: None,
                    meta: PacketMeta::default(),
                }
            })
            .collect()
    };
    let state = |v: &[(bool, u8, u32, u32, usize)]| {
        let f = sequential(&mk(v));
        let t = f[0].tcp.clone().unwrap();
        (t.conn_state, t.history, f[0].initiator.port)
    };
    assert_eq!(
        state(&[(true, S, 1, 0, 0)]),
        ("S0", "S".into(), Some(40000))
    );
    assert_eq!(
        state(&[(true, S, 1, 0, 0), (false, R | A, 0, 2, 0)]).0,
        "REJ"
    );
    assert_eq!(
        state(&[
            (true, S, 1, 0, 0),
            (false, SA, 9, 2, 0),
            (true, A, 2, 10, 0)
        ]),
        ("S1", "ShA".into(), Some(40000))
    );
    assert_eq!(state(&[(true, S, 1, 0, 0), (true, R, 2, 0, 0)]).0, "RSTOS0");
    assert_eq!(state(&[(true, S, 1, 0, 0), (true, FA, 2, 0, 0)]).0, "SH");
    let est = [
        (true, S, 1, 0, 0),
        (false, SA, 9, 2, 0),
        (true, A, 2, 10, 0),
    ];
    let with = |extra: &[(bool, u8, u32, u32, usize)]| {
        let mut v = est.to_vec();
        v.extend_from_slice(extra);
        state(&v).0
    };
    assert_eq!(with(&[(true, R, 2, 10, 0)]), "RSTO");
    assert_eq!(with(&[(false, R, 10, 2, 0)]), "RSTR");
    assert_eq!(with(&[(true, FA, 2, 10, 0)]), "S2");
    assert_eq!(with(&[(false, FA, 10, 2, 0)]), "S3");
    // Midstream: no SYN seen. The first sender is the initiator.
    assert_eq!(
        state(&[(false, PA, 10, 2, 5), (true, A, 2, 15, 0)]),
        ("OTH", "Da".into(), Some(80))
    );
    // Only the SYN-ACK seen: its receiver is the initiator.
    assert_eq!(
        state(&[(false, SA, 9, 2, 0), (false, R, 10, 2, 0)]).0,
        "RSTRH"
    );
    assert_eq!(
        state(&[(false, SA, 9, 2, 0), (false, FA, 10, 2, 0)]).0,
        "SHR"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merge_equals_sequential_on_real_captures(
        which in 0usize..3,
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        thread_local!(static CAPS: Vec<Vec<Pkt>> = vec![
            real("real-eth.pcap"), real("real-sll2.pcap"), real("eth-meta.pcapng"),
        ]);
        CAPS.with(|caps| {
            let pkts = &caps[which];
            let seq = sequential(pkts);
            assert_eq!(merged_linear(pkts, &cuts), seq);
            assert_eq!(merged_tree(pkts, &cuts), seq);
        });
    }

    #[test]
    fn merge_equals_sequential_on_synthetic_connection(
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        thread_local!(static PKTS: Vec<Pkt> = synthetic());
        PKTS.with(|pkts| {
            let seq = sequential(pkts);
            assert_eq!(merged_linear(pkts, &cuts), seq);
            assert_eq!(merged_tree(pkts, &cuts), seq);
        });
    }
}

/// A container's connection captured on the host side of its veth: the container's packets
/// arrive *In* and its replies leave *Out*, yet ptcap's roles say who sent what, so the owner
/// lands on the initiating side and the rollup counts the sent packets as sent.
#[test]
fn roles_beat_interface_direction_on_a_host_side_veth() {
    let wget = PacketMeta {
        process: Some(proc(300, "wget")),
        provenance: Provenance::Tuple,
        ..Default::default()
    };
    let mk = |i: u64, from_client: bool, flags: u8, role: Role| Pkt {
        ts_ns: 1_000 + i,
        orig_len: 40,
        link_type: 101,
        data: tcp(from_client, flags, 1000 + i as u32, 5000, 0, 100),
        interface: Some("veth-host".into()),
        // Host side of the veth: what the container sends comes In.
        direction: Some(if from_client {
            Direction::In
        } else {
            Direction::Out
        }),
        meta: PacketMeta {
            role,
            ..wget.clone()
        },
    };
    let pkts = vec![
        mk(0, true, S, Role::Sender),
        mk(1, false, SA, Role::Receiver),
        mk(2, true, A, Role::Sender),
        mk(3, true, PA, Role::Sender),
    ];
    let flows = sequential(&pkts);
    assert_eq!(flows.len(), 1);
    assert_eq!(
        flows[0].orig.owner.as_ref().map(|o| o.short()),
        Some("wget.300".to_string())
    );
    assert!(flows[0].resp.owner.is_none(), "{:?}", flows[0].resp.owner);

    let mut roll = analyze::stats::Rollups::new();
    for p in &pkts {
        roll.observe(&p.observed());
    }
    let report = serde_json::to_value(roll.finish()).unwrap();
    let text = report.to_string();
    // The process sent 3 and received 1; the interface saw 3 in and 1 out.
    let procs = &report["processes"][0];
    assert_eq!(procs["sent"]["packets"], 3, "{text}");
    assert_eq!(procs["received"]["packets"], 1, "{text}");
    let iface = &report["interfaces"][0];
    assert_eq!(iface["received"]["packets"], 3, "{text}");

    // Without roles (a ptcpdump file), the interface direction decides: the owner would be
    // put on the responder side. That is the fallback, kept on purpose.
    let unknown: Vec<Pkt> = pkts
        .into_iter()
        .map(|mut p| {
            p.meta.role = Role::Unknown;
            p
        })
        .collect();
    let flows = sequential(&unknown);
    assert_eq!(
        flows[0].resp.owner.as_ref().map(|o| o.short()),
        Some("wget.300".to_string())
    );
}

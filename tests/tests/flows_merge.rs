//! `FlowTable::merge` gives exactly what one sequential table gives, for random splits of the
//! real captures into chunks (merged in file order, left to right and as a tree), and for a
//! synthetic capture with retransmissions across chunk boundaries, owners on both sides,
//! directions and several interfaces. Plus zeek's states on hand-made TCP exchanges.

use std::path::PathBuf;
use std::sync::Arc;

use analyze::flows::{write_flows_text, FlowRecord, FlowTable, Observed, Timeouts};
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
    tcp_on(40000, from_client, flags, seq, ack, payload, window)
}

/// [`tcp`] from client port `cport`.
fn tcp_on(
    cport: u16,
    from_client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: usize,
    window: u16,
) -> Vec<u8> {
    let total = 40 + payload;
    let (src, dst, sp, dp) = if from_client {
        ([198, 18, 0, 1], [198, 18, 0, 2], cport, 80u16)
    } else {
        ([198, 18, 0, 2], [198, 18, 0, 1], 80, cport)
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
    table_with(pkts, Timeouts::default())
}

fn table_with(pkts: &[Pkt], timeouts: Timeouts) -> FlowTable {
    let mut t = FlowTable::with_timeouts(timeouts);
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
    merged_linear_with(pkts, cuts, Timeouts::default())
}

fn merged_linear_with(pkts: &[Pkt], cuts: &[usize], to: Timeouts) -> Vec<FlowRecord> {
    let mut it = chunks(pkts, cuts).into_iter().map(|c| table_with(c, to));
    let mut acc = it.next().unwrap();
    for t in it {
        acc.merge(t);
    }
    acc.finish()
}

/// Pairwise, as a parallel reduction would: ((t0 t1) (t2 t3)) ...
fn merged_tree(pkts: &[Pkt], cuts: &[usize]) -> Vec<FlowRecord> {
    merged_tree_with(pkts, cuts, Timeouts::default())
}

fn merged_tree_with(pkts: &[Pkt], cuts: &[usize], to: Timeouts) -> Vec<FlowRecord> {
    let mut level: Vec<FlowTable> = chunks(pkts, cuts)
        .into_iter()
        .map(|c| table_with(c, to))
        .collect();
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

// ---- Reused addresses and ports: several flows per 5-tuple ----

const RA: u8 = 0x14;
const SEC: u64 = 1_000_000_000;

/// One TCP packet of the tuple with client port `cport` at `ts_ns`.
#[derive(Debug, Clone, Copy)]
struct T {
    ts_ns: u64,
    cport: u16,
    from_client: bool,
    flags: u8,
    seq: u32,
    payload: usize,
}

fn tcp_pkts(v: &[T]) -> Vec<Pkt> {
    v.iter()
        .map(|t| {
            let data = tcp_on(t.cport, t.from_client, t.flags, t.seq, 1, t.payload, 1000);
            Pkt {
                ts_ns: t.ts_ns,
                orig_len: data.len() as u32,
                link_type: linktype::RAW,
                data,
                interface: None,
                direction: None,
                meta: PacketMeta::default(),
            }
        })
        .collect()
}

/// Packets 1 ms apart from `t0` on client port 40000: (from_client, flags, seq, payload).
fn tcp_run(t0: u64, v: &[(bool, u8, u32, usize)]) -> Vec<T> {
    v.iter()
        .enumerate()
        .map(|(i, &(from_client, flags, seq, payload))| T {
            ts_ns: t0 + i as u64 * 1_000_000,
            cport: 40000,
            from_client,
            flags,
            seq,
            payload,
        })
        .collect()
}

/// A whole connection with client ISN `isn`: handshake, a request and an answer, then closed
/// with FINs both ways (`rst` false) or the client's RST.
fn connection(t0: u64, isn: u32, rst: bool) -> Vec<T> {
    let s = 7_000_000u32.wrapping_add(isn);
    let c = isn.wrapping_add(1);
    let mut v = vec![
        (true, S, isn, 0),
        (false, SA, s, 0),
        (true, A, c, 0),
        (true, PA, c, 10),
        (false, PA, s + 1, 20),
    ];
    if rst {
        v.push((true, R, c.wrapping_add(10), 0));
    } else {
        v.extend([
            (false, FA, s + 21, 0),
            (true, FA, c.wrapping_add(10), 0),
            (false, A, s + 22, 0),
        ]);
    }
    tcp_run(t0, &v)
}

fn states(flows: &[FlowRecord]) -> Vec<(u64, &'static str, String, u64, u64)> {
    flows
        .iter()
        .map(|f| {
            let t = f.tcp.as_ref().unwrap();
            (
                f.reuse,
                t.conn_state,
                t.history.clone(),
                f.orig.packets,
                f.resp.packets,
            )
        })
        .collect()
}

#[test]
fn syn_retransmission_stays_one_flow() {
    // The SYN sent three times (1 s and 3 s apart), then answered.
    let mut v = tcp_run(0, &[(true, S, 500, 0)]);
    v.extend(tcp_run(SEC, &[(true, S, 500, 0)]));
    v.extend(connection(3 * SEC, 500, false));
    let flows = sequential(&tcp_pkts(&v));
    assert_eq!(states(&flows), [(0, "SF", "ShADdfFa".into(), 6, 4)]);
    // Even long after the last packet, the same ISN is the same connection.
    let mut late = connection(0, 500, false);
    late.extend(tcp_run(400 * SEC, &[(true, S, 500, 0)]));
    assert_eq!(sequential(&tcp_pkts(&late)).len(), 1);
    // A SYN answered by RST and sent again (same ISN): one refused connection.
    let rej = tcp_run(0, &[(true, S, 9, 0), (false, RA, 0, 0), (true, S, 9, 0)]);
    assert_eq!(
        states(&sequential(&tcp_pkts(&rej))),
        [(0, "REJ", "Sr".into(), 2, 1)]
    );
}

#[test]
fn rst_closed_then_new_syn_is_a_new_flow() {
    let mut v = connection(0, 1000, true);
    v.extend(connection(SEC, 900_000, false));
    v.extend(connection(2 * SEC, 50, true));
    let flows = sequential(&tcp_pkts(&v));
    assert_eq!(
        states(&flows),
        [
            (0, "RSTO", "ShADdR".into(), 4, 2),
            (1, "SF", "ShADdfFa".into(), 4, 4),
            (2, "RSTO", "ShADdR".into(), 4, 2)
        ]
    );
    assert!(flows
        .iter()
        .all(|f| f.community_id == flows[0].community_id));
    assert!(flows.iter().all(|f| f.initiator.port == Some(40000)));
    // Refused twice (new ISN each time): two flows, both REJ.
    let rej = tcp_run(
        0,
        &[
            (true, S, 9, 0),
            (false, RA, 0, 0),
            (true, S, 77, 0),
            (false, RA, 0, 0),
        ],
    );
    assert_eq!(
        states(&sequential(&tcp_pkts(&rej))),
        [(0, "REJ", "Sr".into(), 1, 1), (1, "REJ", "Sr".into(), 1, 1)]
    );
    // Text shows the reuse after the protocol, JSON as `reuse`.
    let mut text = Vec::new();
    write_flows_text(&flows, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    let protos: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(protos, ["tcp", "tcp#1", "tcp#2"], "{text}");
    let json = serde_json::to_value(&flows[2]).unwrap();
    assert_eq!(json["reuse"], 2, "{json}");
}

#[test]
fn fin_closed_then_new_syn_is_a_new_flow() {
    let mut v = connection(0, 1000, false);
    v.extend(connection(SEC, 2000, false));
    assert_eq!(
        states(&sequential(&tcp_pkts(&v))),
        [
            (0, "SF", "ShADdfFa".into(), 4, 4),
            (1, "SF", "ShADdfFa".into(), 4, 4)
        ]
    );
    // Seen from the middle (no SYN): only a close both ways lets a SYN start a new flow.
    let mid = |close: &[(bool, u8, u32, usize)]| {
        let mut v = vec![(true, PA, 10, 5), (false, PA, 90, 5)];
        v.extend_from_slice(close);
        v.push((true, S, 5000, 0));
        v.push((false, SA, 8000, 0));
        sequential(&tcp_pkts(&tcp_run(0, &v))).len()
    };
    assert_eq!(mid(&[]), 1);
    assert_eq!(mid(&[(true, FA, 15, 0)]), 1);
    assert_eq!(mid(&[(true, FA, 15, 0), (false, FA, 95, 0)]), 2);
    assert_eq!(mid(&[(false, R, 95, 0)]), 2);
    // A SYN of another ISN from the same side is a new attempt even without a close (tshark's
    // tcp.stream and zeek agree).
    let retry = tcp_run(0, &[(true, S, 1, 0), (true, S, 2, 0), (false, SA, 50, 0)]);
    assert_eq!(
        states(&sequential(&tcp_pkts(&retry))),
        [(0, "S0", "S".into(), 1, 0), (1, "OTH", "Sh".into(), 1, 1)]
    );
}

#[test]
fn idle_tcp_then_new_syn_is_a_new_flow() {
    // A connection seen from the middle, never closed; a SYN after the TCP timeout.
    let run = |gap: u64, to: Timeouts| {
        let mut v = tcp_run(0, &[(true, PA, 10, 5), (false, A, 90, 0)]);
        v.extend(tcp_run(gap, &[(true, S, 5000, 0), (false, SA, 8000, 0)]));
        table_with(&tcp_pkts(&v), to).finish().len()
    };
    let d = Timeouts::default();
    assert_eq!(run(299 * SEC, d), 1);
    assert_eq!(run(301 * SEC, d), 2);
    assert_eq!(run(301 * SEC, Timeouts { tcp_ns: 0, ..d }), 1);
    assert_eq!(run(11 * SEC, Timeouts::parse("tcp=10").unwrap()), 2);
    // Idleness alone does not end a TCP connection: data after 10 minutes continues it.
    let mut v = tcp_run(0, &[(true, PA, 10, 5)]);
    v.extend(tcp_run(600 * SEC, &[(true, PA, 15, 5)]));
    assert_eq!(sequential(&tcp_pkts(&v)).len(), 1);
}

/// An IPv4 ICMP echo request (`reply` false) or reply with identifier `id`, on a RAW link.
fn icmp_echo(reply: bool, id: u16, seq: u16) -> Vec<u8> {
    let (src, dst) = if reply {
        ([198, 18, 0, 2], [198, 18, 0, 1])
    } else {
        ([198, 18, 0, 1], [198, 18, 0, 2])
    };
    let mut p = vec![0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 1, 0, 0];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[if reply { 0 } else { 8 }, 0, 0, 0]);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p
}

fn raw(ts_ns: u64, data: Vec<u8>) -> Pkt {
    Pkt {
        ts_ns,
        orig_len: data.len() as u32,
        link_type: linktype::RAW,
        data,
        interface: None,
        direction: None,
        meta: PacketMeta::default(),
    }
}

/// A UDP datagram 198.18.0.1:5000 -> 198.18.0.2:53 (or back) on a RAW link.
fn udp_raw(ts_ns: u64, back: bool) -> Pkt {
    let f = if back {
        ptcap_tests::udp_frame(53, 5000, b"answer")
    } else {
        ptcap_tests::udp_frame(5000, 53, b"query")
    };
    let mut data = f[14..].to_vec();
    if back {
        // udp_frame always goes .1 -> .2: swap the addresses for the answer.
        let (a, b) = (data[12..16].to_vec(), data[16..20].to_vec());
        data[12..16].copy_from_slice(&b);
        data[16..20].copy_from_slice(&a);
    }
    raw(ts_ns, data)
}

#[test]
fn idle_udp_and_icmp_split_after_the_timeout() {
    let pkts = vec![
        udp_raw(0, false),
        udp_raw(SEC, true),
        udp_raw(30 * SEC, false),
        // 60 s after the last packet: still the same flow (the timeout is exceeded only
        // when longer).
        udp_raw(90 * SEC, true),
        // 61 s: a new flow.
        udp_raw(151 * SEC, false),
        udp_raw(151 * SEC + 5, true),
    ];
    let flows = sequential(&pkts);
    let got: Vec<(u64, u64, u64)> = flows
        .iter()
        .map(|f| (f.reuse, f.orig.packets, f.resp.packets))
        .collect();
    assert_eq!(got, [(0, 2, 2), (1, 1, 1)]);
    assert_eq!(flows[0].community_id, flows[1].community_id);
    assert_eq!(flows[1].initiator.port, Some(5000));
    // udp=0: no timeout; udp=10: every gap over 10 s splits (29, 60 and 61 s).
    let n = |spec: &str| {
        table_with(&pkts, Timeouts::parse(spec).unwrap())
            .finish()
            .len()
    };
    assert_eq!(n("udp=0"), 1);
    assert_eq!(n("udp=10"), 4);
    assert_eq!(n("tcp=1,icmp=1"), 2);

    let pings = vec![
        raw(0, icmp_echo(false, 7, 1)),
        raw(1_000, icmp_echo(true, 7, 1)),
        raw(70 * SEC, icmp_echo(false, 7, 2)),
        raw(70 * SEC + 1_000, icmp_echo(true, 7, 2)),
    ];
    let flows = sequential(&pings);
    assert_eq!(flows.len(), 2, "{flows:#?}");
    assert!(flows.iter().all(|f| f.icmp_echo_id == Some(7)));
    assert_eq!(
        table_with(&pings, Timeouts::parse("icmp=100").unwrap())
            .finish()
            .len(),
        1
    );
}

/// Connections reusing one tuple (FIN and RST closes, refused ones, retransmitted SYNs, long
/// pauses), interleaved with a second tuple seen from its middle and a UDP exchange with long
/// pauses.
fn reused_ports_capture() -> Vec<Pkt> {
    let mut v: Vec<T> = Vec::new();
    let mut t = 0u64;
    for i in 0..16u32 {
        let isn = 1000 + i * 100_003;
        match i % 4 {
            0 => v.extend(connection(t, isn, false)),
            1 => v.extend(connection(t, isn, true)),
            2 => {
                v.extend(tcp_run(t, &[(true, S, isn, 0)]));
                v.extend(connection(t + SEC, isn, false));
            }
            _ => v.extend(tcp_run(t, &[(true, S, isn, 0), (false, RA, 0, 0)])),
        }
        // The second tuple: data both ways, a close one way, then a SYN that is or is not
        // a new connection.
        let other = |from_client, flags, seq, payload| T {
            ts_ns: t + 500_000,
            cport: 40001,
            from_client,
            flags,
            seq,
            payload,
        };
        v.push(match i % 5 {
            0 => other(true, PA, i * 10, 10),
            1 => other(false, PA, i * 20, 5),
            2 => other(true, FA, i * 10, 0),
            3 => other(false, R, i * 20, 0),
            _ => other(true, S, i * 7, 0),
        });
        t += if i % 3 == 2 { 400 * SEC } else { 2 * SEC };
    }
    v.sort_by_key(|p| p.ts_ns);
    let mut pkts = tcp_pkts(&v);
    for i in 0..12 {
        // 40 s apart, 70 s before the 5th and the 9th: three flows.
        let ts = i * 40 * SEC + (i / 4) * 30 * SEC + 3 * SEC / 2;
        pkts.push(udp_raw(ts, i % 2 == 1));
    }
    pkts.sort_by_key(|p| p.ts_ns);
    pkts
}

#[test]
fn reused_ports_capture_figures() {
    let flows = sequential(&reused_ports_capture());
    let main: Vec<_> = flows
        .iter()
        .filter(|f| f.proto == "tcp" && f.initiator.port == Some(40000))
        .collect();
    assert_eq!(main.len(), 16);
    for (i, f) in main.iter().enumerate() {
        assert_eq!(f.reuse, i as u64);
        let want = ["SF", "RSTO", "SF", "REJ"][i % 4];
        assert_eq!(f.tcp.as_ref().unwrap().conn_state, want, "{i}: {f:?}");
        let syns = if i % 4 == 2 { 2 } else { 1 };
        let pkts = [4, 4, 4, 1][i % 4] + syns - 1;
        assert_eq!(f.orig.packets, pkts, "{i}");
    }
    let udp = flows.iter().filter(|f| f.proto == "udp").count();
    assert_eq!(udp, 3);
}

/// A random TCP packet of one of two tuples: (tuple, from_client, flags, ISN choice, long
/// pause before it).
fn random_tcp() -> impl Strategy<Value = Vec<(bool, bool, u8, u32, bool)>> {
    let flags = prop::sample::select(vec![S, S, S, SA, A, PA, FA, R, RA]);
    prop::collection::vec(
        (
            any::<bool>(),
            any::<bool>(),
            flags,
            0u32..3,
            prop::bool::weighted(0.15),
        ),
        1..48,
    )
}

fn random_pkts(v: &[(bool, bool, u8, u32, bool)]) -> Vec<Pkt> {
    let mut ts = 0;
    let mut out = Vec::new();
    for (i, &(second, from_client, flags, isn, pause)) in v.iter().enumerate() {
        ts += if pause { 70 * SEC } else { 1_000_000 };
        if second && i % 7 == 3 {
            out.push(udp_raw(ts, from_client));
            continue;
        }
        let seq = if flags == S {
            isn * 1000
        } else {
            isn * 1000 + 1 + i as u32
        };
        let payload = if flags == PA { 10 } else { 0 };
        out.extend(tcp_pkts(&[T {
            ts_ns: ts,
            cport: if second { 40001 } else { 40000 },
            from_client,
            flags,
            seq,
            payload,
        }]));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merge_equals_sequential_on_reused_ports(
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        thread_local!(static PKTS: Vec<Pkt> = reused_ports_capture());
        PKTS.with(|pkts| {
            let seq = sequential(pkts);
            assert_eq!(merged_linear(pkts, &cuts), seq);
            assert_eq!(merged_tree(pkts, &cuts), seq);
        });
    }

    /// Any packet sequence (SYNs of both sides with repeated and new ISNs, closes, pauses
    /// longer than a short TCP timeout and the UDP one): every split merges to one pass.
    #[test]
    fn merge_equals_sequential_on_random_tcp(
        v in random_tcp(),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
        short in any::<bool>(),
    ) {
        let pkts = random_pkts(&v);
        let to = if short { Timeouts::parse("tcp=60").unwrap() } else { Timeouts::default() };
        let seq = table_with(&pkts, to).finish();
        assert_eq!(merged_linear_with(&pkts, &cuts, to), seq);
        assert_eq!(merged_tree_with(&pkts, &cuts, to), seq);
    }
}

//! Differential test of the protocol printers against the installed tcpdump, on crafted
//! packets (no traffic): IGMP v1-v3 and IPv4 options, VXLAN(-GPE), Geneve, GRE, IPIP/SIT/IP6IP6,
//! NTP, BOOTP/DHCP, DHCPv6, syslog, BFD, VRRP v2/v3, STP/RSTP/MSTP (802.3 LLC), LLDP, TCP options (MPTCP, TFO...) and flags (ECN, AccECN), RESP, ICMP, ICMPv6/ND/MLD, IPv6 extension headers, Broadcom LI, mDNS (and LLMNR and WireGuard, which
//! tcpdump 4.99 leaves undecoded), DNS over UDP and TCP, whose printer mDNS shares, SCTP (with
//! M3UA), SNMP v1/v2c/v3, the slow protocols (LACP, Marker, OAM), and QUIC, CARP and ERSPAN as
//! tcpdump 4.99 prints them (plain UDP, VRRP, an undecoded GRE protocol).
//! Every packet is written whole and cut at every byte (caplen 0..=len, the wire length
//! kept), to a classic pcap per protocol; `tcpdump -nn -tt -r` and our renderer (the one
//! ptanalyze and ptcap print with) must print the same text for each, under each flag set.
//!
//! Needs tcpdump (missing tcpdump fails the test); no root, no network.
//! The whole packets are also `testdata/printers/crafted-printers.pcap`, which formats'
//! render_props fuzzes; the test fails when that file differs (`PTCAP_WRITE_CORPUS=1`
//! rewrites it).

use std::path::{Path, PathBuf};

use formats::render::{PacketRef, RenderOptions, Renderer, TimestampMode};
use ptcap_tests::cuts::{diff_packets, pcap_bytes, show_limit, split_packets};
use ptcap_tests::peers::{require_tcpdump, text_of};
use ptcap_tests::TempDir;

const A: [u8; 4] = [198, 18, 0, 1];
const B: [u8; 4] = [198, 18, 0, 2];
const INNER_A: [u8; 4] = [198, 19, 0, 1];
const INNER_B: [u8; 4] = [198, 19, 0, 2];
const A6: [u8; 16] = [0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6: [u8; 16] = [0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    acc
}

fn checksum(data: &[u8], acc: u32) -> u16 {
    let mut s = sum16(data, acc);
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

struct V4 {
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
    opts: Vec<u8>,
    ttl: u8,
    tos: u8,
}

impl V4 {
    fn new(proto: u8, src: [u8; 4], dst: [u8; 4]) -> V4 {
        V4 {
            proto,
            src,
            dst,
            opts: Vec::new(),
            ttl: 64,
            tos: 0,
        }
    }
    fn opts(mut self, o: &[u8]) -> V4 {
        self.opts = o.to_vec();
        self
    }
    fn igmp(dst: [u8; 4]) -> V4 {
        V4 {
            ttl: 1,
            tos: 0xc0,
            ..V4::new(2, A, dst)
        }
        .opts(&[0x94, 4, 0, 0])
    }
    fn build(&self, payload: &[u8]) -> Vec<u8> {
        let hl = 20 + self.opts.len();
        let total = (hl + payload.len()) as u16;
        let mut h = vec![0x40 | (hl / 4) as u8, self.tos];
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&[0x12, 0x34, 0x40, 0, self.ttl, self.proto, 0, 0]);
        h.extend_from_slice(&self.src);
        h.extend_from_slice(&self.dst);
        h.extend_from_slice(&self.opts);
        let c = checksum(&h, 0);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h.extend_from_slice(payload);
        h
    }
}

fn ipv6(next: u8, src: [u8; 16], dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

fn udp(src: &[u8], dst: &[u8], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(src);
    pseudo.extend_from_slice(dst);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&len.to_be_bytes());
    let c = match checksum(&u, sum16(&pseudo, 0)) {
        0 => 0xffff,
        c => c,
    };
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

fn icmp_echo(id: u16) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(b"ptcap-printers");
    let c = checksum(&m, 0);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

fn ether(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a];
    f.extend_from_slice(&ty.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Inner packets an encapsulation carries: ICMP, UDP and ARP, over IPv4 and IPv6.
fn inner_v4_icmp() -> Vec<u8> {
    V4::new(1, INNER_A, INNER_B).build(&icmp_echo(7))
}

fn inner_v4_udp() -> Vec<u8> {
    V4::new(17, INNER_A, INNER_B).build(&udp(&INNER_A, &INNER_B, 33000, 9999, b"hello"))
}

fn inner_v6_udp() -> Vec<u8> {
    ipv6(17, A6, B6, &udp(&A6, &B6, 33000, 9999, b"hello6"))
}

fn inner_arp() -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x0a];
    a.extend_from_slice(&INNER_A);
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&INNER_B);
    a
}

fn igmp(mut m: Vec<u8>) -> Vec<u8> {
    m[2] = 0;
    m[3] = 0;
    let c = checksum(&m, 0);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

fn igmp_packets() -> Vec<Vec<u8>> {
    let g = [239, 1, 2, 3];
    let all = [224, 0, 0, 1];
    let v3 = [224, 0, 0, 22];
    let mut msgs: Vec<(V4, Vec<u8>)> = vec![
        // Queries: v1, v2 (default and other max response time, group-specific), v3.
        (V4::igmp(all), igmp(vec![0x11, 0, 0, 0, 0, 0, 0, 0])),
        (V4::igmp(all), igmp(vec![0x11, 100, 0, 0, 0, 0, 0, 0])),
        (V4::igmp(g), igmp(vec![0x11, 10, 0, 0, 239, 1, 2, 3])),
        (
            V4::igmp(all),
            igmp(vec![0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0]),
        ),
        (
            V4::igmp(all),
            igmp(vec![0x11, 50, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0]),
        ),
        (
            V4::igmp(g),
            igmp(vec![
                0x11, 200, 0, 0, 239, 1, 2, 3, 2, 125, 0, 2, 198, 18, 0, 5, 198, 18, 0, 6,
            ]),
        ),
        (
            V4::igmp(g),
            igmp(vec![0x11, 0x8f, 0, 0, 239, 1, 2, 3, 2, 125, 0, 9]),
        ),
        // Reports and leave.
        (V4::igmp(g), igmp(vec![0x12, 0, 0, 0, 239, 1, 2, 3])),
        (V4::igmp(g), igmp(vec![0x16, 0, 0, 0, 239, 1, 2, 3])),
        (
            V4::igmp([224, 0, 0, 2]),
            igmp(vec![0x17, 0, 0, 0, 239, 1, 2, 3]),
        ),
        (
            V4::igmp(v3),
            igmp(vec![0x22, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 239, 1, 2, 3]),
        ),
        (
            V4::igmp(v3),
            igmp(vec![
                0x22, 0, 0, 0, 0, 0, 0, 4, // 4 records
                1, 0, 0, 2, 239, 1, 2, 4, 198, 18, 0, 5, 198, 18, 0, 6, // is_in, 2 sources
                5, 0, 0, 1, 239, 1, 2, 5, 198, 18, 0, 7, // allow
                6, 0, 0, 0, 239, 1, 2, 6, // block
                9, 0, 0, 0, 239, 1, 2, 7, // unknown record type
            ]),
        ),
        // Damaged: bad checksum, unknown type, invalid lengths, too many groups/sources.
        (V4::igmp(g), vec![0x16, 0, 0x12, 0x34, 239, 1, 2, 3]),
        (V4::igmp(g), igmp(vec![0x33, 0, 0, 0, 239, 1, 2, 3])),
        (V4::igmp(g), igmp(vec![0x13, 0, 0, 0, 239, 1, 2, 3])),
        (V4::igmp(g), igmp(vec![0x11, 0, 0, 0, 239, 1, 2, 3, 0, 0])),
        (
            V4::igmp(v3),
            igmp(vec![0x22, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 239, 1, 2, 3]),
        ),
        (
            V4::igmp(v3),
            igmp(vec![0x22, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 5, 239, 1, 2, 3]),
        ),
        (
            V4::igmp(v3),
            igmp(vec![0x22, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 239, 1]),
        ),
        (
            V4::igmp(g),
            igmp(vec![0x11, 10, 0, 0, 239, 1, 2, 3, 2, 125, 0, 4, 1, 2, 3, 4]),
        ),
    ];
    // Without the Router Alert option.
    msgs.push((
        V4 {
            opts: Vec::new(),
            ..V4::igmp(g)
        },
        igmp(vec![0x16, 0, 0, 0, 239, 1, 2, 3]),
    ));
    msgs.into_iter()
        .map(|(ip, m)| ether(0x0800, &ip.build(&m)))
        .collect()
}

fn ip_option_packets() -> Vec<Vec<u8>> {
    let opts: [&[u8]; 9] = [
        &[0x94, 4, 0, 5],
        &[0x94, 4, 0, 0, 1, 1, 0, 0],
        &[0x94, 8, 0, 0, 0, 0, 0, 0],
        &[7, 7, 4, 0, 0, 0, 0, 0],
        &[7, 11, 8, 198, 18, 0, 9, 0, 0, 0, 0, 0],
        &[0x82, 4, 0, 0],
        &[0x99, 4, 0, 0],
        &[0x99, 1, 0, 0],
        &[1, 1, 1, 0x99, 9, 0, 0, 0],
    ];
    opts.iter()
        .map(|o| ether(0x0800, &V4::new(1, A, B).opts(o).build(&icmp_echo(3))))
        .collect()
}

fn vxlan(flags: u8, vni: u32, inner: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, 0, 0, 0];
    v.extend_from_slice(&(vni << 8).to_be_bytes());
    v.extend_from_slice(inner);
    let u = udp(&A, &B, 40000, 4789, &v);
    ether(0x0800, &V4::new(17, A, B).build(&u))
}

fn vxlan_gpe(flags: u8, next: u8, vni: u32, inner: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, 0, 0, next];
    v.extend_from_slice(&(vni << 8).to_be_bytes());
    v.extend_from_slice(inner);
    let u = udp(&A, &B, 40000, 4790, &v);
    ether(0x0800, &V4::new(17, A, B).build(&u))
}

fn vxlan_packets() -> Vec<Vec<u8>> {
    vec![
        vxlan_gpe(0x0c, 1, 42, &inner_v4_icmp()),
        vxlan_gpe(0x0d, 2, 7, &inner_v6_udp()),
        vxlan_gpe(0x08, 3, 9, &ether(0x0806, &inner_arp())),
        vxlan_gpe(0, 9, 1, b"next protocol 9"),
        vxlan(8, 42, &ether(0x0800, &inner_v4_icmp())),
        vxlan(8, 0xffffff, &ether(0x0800, &inner_v4_udp())),
        vxlan(8, 1, &ether(0x0806, &inner_arp())),
        vxlan(8, 7, &ether(0x86dd, &inner_v6_udp())),
        vxlan(0, 42, &ether(0x0800, &inner_v4_icmp())),
        vxlan(8, 42, &ether(0x88b5, b"local experimental")),
    ]
}

fn geneve(ver_opt: u8, flags: u8, proto: u16, vni: u32, rsvd: u8, rest: &[u8]) -> Vec<u8> {
    let mut g = vec![ver_opt, flags];
    g.extend_from_slice(&proto.to_be_bytes());
    g.extend_from_slice(&(vni << 8 | u32::from(rsvd)).to_be_bytes());
    g.extend_from_slice(rest);
    let u = udp(&A, &B, 40001, 6081, &g);
    ether(0x0800, &V4::new(17, A, B).build(&u))
}

fn geneve_packets() -> Vec<Vec<u8>> {
    let with = |opts: &[u8], inner: &[u8]| [opts, inner].concat();
    let ovn = [
        1, 2, 0x81, 2, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
    ];
    let two = [
        0, 0x10, 1, 0, 0x01, 0x00, 0x05, 1, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xf1, 0, 0,
    ];
    vec![
        geneve(0, 0, 0x6558, 42, 0, &ether(0x0800, &inner_v4_icmp())),
        geneve(3, 0xc0, 0x0800, 0x1234, 5, &with(&ovn, &inner_v4_udp())),
        geneve(4, 0, 0x86dd, 9, 0, &with(&two, &inner_v6_udp())),
        geneve(0, 0x80, 0x0806, 1, 0, &inner_arp()),
        geneve(1, 0, 0x0800, 1, 0, &with(&[1, 4, 0, 3], &inner_v4_udp())),
        geneve(0, 0x3f, 0x88b5, 1, 0, b"unknown protocol"),
        geneve(0x40, 0, 0x0800, 1, 0, &inner_v4_udp()),
        geneve(0x3f, 0, 0x0800, 1, 0, &inner_v4_udp()),
    ]
}

fn gre(flags: u16, proto: u16, fields: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut g = Vec::new();
    g.extend_from_slice(&flags.to_be_bytes());
    g.extend_from_slice(&proto.to_be_bytes());
    g.extend_from_slice(fields);
    g.extend_from_slice(inner);
    ether(0x0800, &V4::new(47, A, B).build(&g))
}

fn gre_packets() -> Vec<Vec<u8>> {
    vec![
        gre(0, 0x0800, &[], &inner_v4_icmp()),
        gre(
            0x3000,
            0x0800,
            &[0, 0, 0x12, 0x34, 0, 0, 0, 7],
            &inner_v4_udp(),
        ),
        gre(0x2000, 0x86dd, &[0xff, 0xff, 0xff, 0xff], &inner_v6_udp()),
        gre(
            0x8000,
            0x6558,
            &[0xab, 0xcd, 0, 0],
            &ether(0x0800, &inner_v4_icmp()),
        ),
        gre(0x1000, 0x6558, &[0, 0, 1, 0], &ether(0x0806, &inner_arp())),
        gre(0, 0x88b5, &[], b"unknown protocol"),
        gre(0x2001, 0x880b, &[0, 0, 0, 9], &[]),
        gre(0x0002, 0x0800, &[], &inner_v4_udp()),
    ]
}

fn ipip_packets() -> Vec<Vec<u8>> {
    vec![
        ether(0x0800, &V4::new(4, A, B).build(&inner_v4_icmp())),
        ether(0x0800, &V4::new(4, A, B).build(&inner_v4_udp())),
        ether(0x0800, &V4::new(41, A, B).build(&inner_v6_udp())),
        ether(0x86dd, &ipv6(41, A6, B6, &inner_v6_udp())),
        ether(0x86dd, &ipv6(4, A6, B6, &inner_v4_icmp())),
    ]
}

fn over_udp(sport: u16, dport: u16, dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let u = udp(&A, &dst, sport, dport, payload);
    ether(0x0800, &V4::new(17, A, dst).build(&u))
}

/// An NTP message: LI/VN/mode, stratum, poll, precision, root delay and dispersion, the
/// reference ID, four timestamps (seconds, fraction), then `tail` (key ID, digest).
fn ntp(
    status: u8,
    stratum: u8,
    poll: i8,
    refid: [u8; 4],
    ts: [(u32, u32); 4],
    tail: &[u8],
) -> Vec<u8> {
    let mut m = vec![
        status, stratum, poll as u8, 0xe9, 0, 0, 0x10, 0, 0, 3, 0x80, 0,
    ];
    m.extend_from_slice(&refid);
    for (s, f) in ts {
        m.extend_from_slice(&s.to_be_bytes());
        m.extend_from_slice(&f.to_be_bytes());
    }
    m.extend_from_slice(tail);
    over_udp(123, 123, B, &m)
}

fn ntp_packets() -> Vec<Vec<u8>> {
    let t0 = 0xe900_0000;
    let zero = (0, 0);
    vec![
        // A client's request (only the transmit time set) and a server's answer.
        ntp(
            0x23,
            0,
            6,
            [0; 4],
            [zero, zero, zero, (t0, 0x1234_5678)],
            &[],
        ),
        ntp(
            0x24,
            2,
            6,
            [198, 18, 0, 9],
            [
                (t0 - 60, 0),
                (t0, 0x1234_5678),
                (t0 + 1, 0x8000_0000),
                (t0 + 1, 0x9000_0000),
            ],
            &[],
        ),
        // The peer's clock behind ours: negative deltas.
        ntp(
            0x21,
            1,
            -3,
            *b"GPS\0",
            [
                (t0, 0),
                (t0 + 5, 0x4000_0000),
                (t0 + 2, 0xc000_0000),
                (t0 + 4, 0),
            ],
            &[],
        ),
        ntp(
            0xdb,
            16,
            40,
            [1, 2, 3, 4],
            [zero, zero, (1, 1), (t0, 0xffff_ffff)],
            &[],
        ),
        ntp(0x1c, 3, 10, [127, 127, 1, 0], [zero; 4], &[0, 0, 0, 7]),
        ntp(
            0x24,
            3,
            4,
            [10, 0, 0, 1],
            [zero; 4],
            &[[0, 0, 0, 9].as_slice(), &[0xab; 16]].concat(),
        ),
        ntp(
            0x24,
            3,
            4,
            [10, 0, 0, 1],
            [zero; 4],
            &[[0, 0, 0, 9].as_slice(), &[0xcd; 20]].concat(),
        ),
        ntp(0x24, 3, 4, [10, 0, 0, 1], [zero; 4], &[0x11; 12]),
        ntp(0x17, 0, 0, [0; 4], [zero; 4], &[]),
        over_udp(123, 123, B, &[0x23, 0, 6, 0xe9, 0, 0, 0, 0]),
    ]
}

fn dns_name(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in n.split('.') {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

fn header(id: u16, flags: u16, qd: u16, an: u16, ar: u16) -> Vec<u8> {
    [id, flags, qd, an, 0, ar]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

fn question(name: &str, ty: u16, class: u16) -> Vec<u8> {
    [
        dns_name(name),
        ty.to_be_bytes().to_vec(),
        class.to_be_bytes().to_vec(),
    ]
    .concat()
}

/// A record named by a pointer to the first question's name.
fn rr(ty: u16, class: u16, data: &[u8]) -> Vec<u8> {
    let mut r = vec![0xc0, 0x0c];
    r.extend_from_slice(&ty.to_be_bytes());
    r.extend_from_slice(&class.to_be_bytes());
    r.extend_from_slice(&120u32.to_be_bytes());
    r.extend_from_slice(&(data.len() as u16).to_be_bytes());
    r.extend_from_slice(data);
    r
}

/// Plain DNS on port 53, for the truncation rules the mDNS printer shares with it.
fn dns_packets() -> Vec<Vec<u8>> {
    let q = [
        header(0x1001, 0x0100, 1, 0, 0),
        question("www.example.com", 1, 1),
    ]
    .concat();
    let cname = [
        header(0x1001, 0x8180, 1, 2, 0),
        question("www.example.com", 1, 1),
        rr(5, 1, &[3, b'w', b'e', b'b', 0xc0, 0x10]),
        rr(1, 1, &[198, 18, 0, 9]),
    ]
    .concat();
    let mx = [
        header(0x1002, 0x8180, 1, 1, 0),
        question("example.com", 15, 1),
        rr(15, 1, &[0, 10, 0xc0, 0x0c]),
    ]
    .concat();
    let nx = [
        header(0x1003, 0x8183, 1, 0, 0),
        question("nx.example.com", 28, 1),
    ]
    .concat();
    vec![
        over_udp(40000, 53, B, &q),
        over_udp(53, 40000, B, &cname),
        over_udp(53, 40000, B, &mx),
        over_udp(53, 40000, B, &nx),
        // Queries with answer, authority and additional records: -vv prints them.
        over_udp(40000, 53, B, &edns_query()),
        over_udp(40000, 53, B, &notify_query()),
        // Extended response codes (EDNS): BADVERS, tcpdump's "Resp17", BADCOOKIE, 4095,
        // and an OPT record after an answer.
        over_udp(53, 40000, B, &edns_answer(0, 1, false)),
        over_udp(53, 40000, B, &edns_answer(1, 1, false)),
        over_udp(53, 40000, B, &edns_answer(7, 1, true)),
        over_udp(53, 40000, B, &edns_answer(15, 0xff, false)),
        over_udp(53, 40000, B, &edns_answer(3, 0, true)),
    ]
}

/// A response whose OPT record extends its 4-bit rcode with `ext` (the upper 8 bits).
fn edns_answer(rcode: u16, ext: u8, with_answer: bool) -> Vec<u8> {
    let mut m = [
        header(0x2004, 0x8180 | rcode, 1, u16::from(with_answer), 1),
        question("example.com", 1, 1),
    ]
    .concat();
    if with_answer {
        m.extend_from_slice(&rr(1, 1, &[198, 18, 0, 9]));
    }
    m.extend_from_slice(&[0, 0, 41, 0x10, 0, ext, 0, 0, 0, 0, 0]);
    m
}

/// A query with an EDNS OPT record (the additional section).
fn edns_query() -> Vec<u8> {
    [
        header(0x2002, 0x0120, 1, 0, 1),
        question("example.com", 28, 1),
        vec![0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0],
    ]
    .concat()
}

/// A NOTIFY (opcode 4) carrying an answer and an authority record.
fn notify_query() -> Vec<u8> {
    let mut h = header(0x2003, 0x2400, 1, 1, 0);
    h[9] = 1;
    [
        h,
        question("example.com", 6, 1),
        rr(1, 1, &[198, 18, 0, 9]),
        rr(2, 1, &[2, b'n', b's', 0xc0, 0x0c]),
    ]
    .concat()
}

/// DNS over TCP (port 53): the 2-byte length prefix, then one message, as tcpdump 4.99 wants
/// it; several messages in a segment, a segment that starts inside a message and short
/// segments are only reported as invalid by it.
fn dns_tcp_packets() -> Vec<Vec<u8>> {
    const PSH_ACK: u8 = 0x18;
    let framed = |m: &[u8]| [(m.len() as u16).to_be_bytes().to_vec(), m.to_vec()].concat();
    let q = [
        header(0x3001, 0x0100, 1, 0, 0),
        question("www.example.com", 1, 1),
    ]
    .concat();
    let answer = [
        header(0x3001, 0x8180, 1, 2, 0),
        question("www.example.com", 1, 1),
        rr(5, 1, &[3, b'w', b'e', b'b', 0xc0, 0x10]),
        rr(1, 1, &[198, 18, 0, 9]),
    ]
    .concat();
    let axfr = [header(0x3002, 0, 1, 0, 0), question("example.com", 252, 1)].concat();
    let soa = [
        header(0x3002, 0x8400, 1, 1, 0),
        question("example.com", 252, 1),
        rr(
            6,
            1,
            &[
                [
                    2, b'n', b's', 0xc0, 0x0c, 4, b'r', b'o', b'o', b't', 0xc0, 0x0c,
                ]
                .as_slice(),
                &[
                    0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 3, 0x84, 0, 9, 0x3a, 0x80, 0, 0, 0, 60,
                ],
            ]
            .concat(),
        ),
    ]
    .concat();
    let two = [framed(&q), framed(&axfr)].concat();
    vec![
        tcp_ports(40000, 53, &[], PSH_ACK, &framed(&q)),
        tcp_ports(53, 40000, &[], PSH_ACK, &framed(&answer)),
        tcp_ports(40000, 53, &[], PSH_ACK, &framed(&axfr)),
        tcp_ports(53, 40000, &[], PSH_ACK, &framed(&soa)),
        tcp_ports(40000, 53, &[], PSH_ACK, &framed(&edns_query())),
        tcp_ports(40000, 53, &[], PSH_ACK, &framed(&notify_query())),
        // Two messages in one segment; a segment that starts inside a message.
        tcp_ports(40000, 53, &[], PSH_ACK, &two),
        tcp_ports(53, 40000, &[], PSH_ACK, &answer[20..]),
        // The prefix's first byte alone, a message shorter than a DNS header.
        tcp_ports(40000, 53, &[], PSH_ACK, &[0]),
        tcp_ports(40000, 53, &[], PSH_ACK, &framed(&q[..5])),
    ]
}

fn mdns_packets() -> Vec<Vec<u8>> {
    let group = [224, 0, 0, 251];
    let qu = [header(0, 0, 1, 0, 0), question("printer.local", 12, 0x8001)].concat();
    let qm = [
        header(0, 0, 2, 0, 0),
        question("host-a.local", 1, 1),
        question("host-a.local", 28, 3),
    ]
    .concat();
    let answer = [
        header(0, 0x8400, 0, 3, 0),
        dns_name("printer.local"),
        vec![0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 7],
        rr(16, 0x8001, b"\x03a=b"),
        rr(
            28,
            0x0001,
            &[0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
        ),
    ]
    .concat();
    let llmnr = [header(0x1234, 0, 1, 0, 0), question("host1", 1, 1)].concat();
    vec![
        over_udp(5353, 5353, group, &qu),
        over_udp(5353, 5353, group, &qm),
        over_udp(5353, 5353, group, &answer),
        over_udp(40000, 5353, B, &qu),
        // LLMNR: tcpdump 4.99 does not decode it (nor do we).
        over_udp(40000, 5355, [224, 0, 0, 252], &llmnr),
    ]
}

/// A BOOTP message from 02:00:00:00:00:0a: op, xid, secs, flags, ciaddr/yiaddr/siaddr/giaddr,
/// sname, file, then the vendor area (`vend`: cookie and options).
#[allow(clippy::too_many_arguments)]
fn bootp(
    op: u8,
    xid: u32,
    secs: u16,
    flags: u16,
    addrs: [[u8; 4]; 4],
    sname: &[u8],
    file: &[u8],
    vend: &[u8],
) -> Vec<u8> {
    let mut b = vec![op, 1, 6, if addrs[3] != [0; 4] { 1 } else { 0 }];
    b.extend_from_slice(&xid.to_be_bytes());
    b.extend_from_slice(&secs.to_be_bytes());
    b.extend_from_slice(&flags.to_be_bytes());
    for a in addrs {
        b.extend_from_slice(&a);
    }
    b.extend_from_slice(&[2, 0, 0, 0, 0, 0x0a]);
    b.extend_from_slice(&[0; 10]);
    let mut s = sname.to_vec();
    s.resize(64, 0);
    let mut f = file.to_vec();
    f.resize(128, 0);
    b.extend_from_slice(&s);
    b.extend_from_slice(&f);
    b.extend_from_slice(vend);
    b
}

fn dhcp_packets() -> Vec<Vec<u8>> {
    const COOKIE: [u8; 4] = [0x63, 0x82, 0x53, 0x63];
    let none = [[0; 4]; 4];
    let server = [198, 18, 0, 1];
    let client = [198, 18, 0, 50];
    let bcast = [255, 255, 255, 255];
    let over = |sport: u16, dport: u16, src: [u8; 4], dst: [u8; 4], m: &[u8]| {
        let u = udp(&src, &dst, sport, dport, m);
        ether(0x0800, &V4::new(17, src, dst).build(&u))
    };
    let discover = [
        &COOKIE[..],
        &[
            53, 1, 1, 61, 7, 1, 2, 0, 0, 0, 0, 0x0a, 50, 4, 198, 18, 0, 50,
        ],
        &[12, 5],
        b"host1",
        &[
            55, 9, 1, 3, 6, 15, 119, 252, 42, 121, 26, 57, 2, 5, 220, 255,
        ],
        &[0; 8],
    ]
    .concat();
    let offer = [
        &COOKIE[..],
        &[
            53, 1, 2, 54, 4, 198, 18, 0, 1, 51, 4, 0, 0, 14, 16, 58, 4, 0, 0, 7, 8,
        ],
        &[
            59, 4, 0, 0, 12, 78, 1, 4, 255, 255, 255, 0, 28, 4, 198, 18, 0, 255,
        ],
        &[
            3, 4, 198, 18, 0, 1, 6, 8, 198, 18, 0, 1, 198, 18, 0, 2, 15, 4,
        ],
        b"test",
        &[121, 13, 24, 198, 19, 0, 198, 18, 0, 1, 0, 198, 18, 0, 1],
        &[
            2, 4, 0xff, 0xff, 0xf1, 0xf0, 26, 2, 5, 220, 19, 1, 0, 46, 1, 8, 52, 1, 3,
        ],
        &[255],
    ]
    .concat();
    let request = [
        &COOKIE[..],
        &[53, 1, 3, 81, 9, 0, 0, 0],
        b"h.test",
        &[60, 8],
        b"udhcp1.3",
        &[61, 5, 0],
        b"abcd",
        &[
            0, 0, 0, 200, 3, 1, 2, 3, 201, 4, 1, 2, 3, 4, 202, 2, 9, 9, 255,
        ],
    ]
    .concat();
    let decline = [&COOKIE[..], &[53, 1, 9, 56, 3], b"bad", &[255]].concat();
    vec![
        over(
            68,
            67,
            [0; 4],
            bcast,
            &bootp(1, 0x1234_5678, 0, 0x8000, none, b"", b"", &discover),
        ),
        over(
            67,
            68,
            server,
            client,
            &bootp(
                2,
                0x1234_5678,
                0,
                0,
                [[0; 4], client, server, [0; 4]],
                b"",
                b"",
                &offer,
            ),
        ),
        over(
            68,
            67,
            client,
            server,
            &bootp(
                1,
                1,
                3,
                0,
                [client, [0; 4], [0; 4], [0; 4]],
                b"",
                b"",
                &request,
            ),
        ),
        over(
            67,
            67,
            [198, 18, 0, 254],
            server,
            &bootp(
                1,
                7,
                0,
                0,
                [[0; 4], [0; 4], [0; 4], [198, 18, 0, 254]],
                b"boot",
                b"pxelinux.0",
                &decline,
            ),
        ),
        // Plain BOOTP: no RFC 1048 cookie.
        over(
            68,
            67,
            [0; 4],
            bcast,
            &bootp(1, 0, 0, 0, none, b"", b"", &[0xde, 0xad, 0, 0, 0, 0]),
        ),
    ]
}

fn over_udp6(sport: u16, dport: u16, dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
    let u = udp(&A6, &dst, sport, dport, payload);
    ether(0x86dd, &ipv6(17, A6, dst, &u))
}

/// A DHCPv6 option: code, length, data.
fn opt6(code: u16, data: &[u8]) -> Vec<u8> {
    [
        &code.to_be_bytes()[..],
        &(data.len() as u16).to_be_bytes(),
        data,
    ]
    .concat()
}

fn dhcp6_packets() -> Vec<Vec<u8>> {
    let all_servers = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2];
    let msg = |ty: u8, xid: u32, opts: &[Vec<u8>]| {
        let mut m = vec![ty];
        m.extend_from_slice(&xid.to_be_bytes()[1..]);
        m.extend_from_slice(&opts.concat());
        m
    };
    let duid_llt = opt6(
        1,
        &[0, 1, 0, 1, 0x2a, 0xbc, 0xde, 0xf0, 2, 0, 0, 0, 0, 0x0a],
    );
    let duid_ll = opt6(2, &[0, 3, 0, 1, 2, 0, 0, 0, 0, 0x0b]);
    let duid_en = opt6(1, &[0, 2, 0, 0, 0x30, 0x39, 1, 2, 3, 4, 5, 6, 7]);
    let addr = |last: u8| {
        let mut a = B6;
        a[15] = last;
        a.to_vec()
    };
    let ia_addr = opt6(
        5,
        &[
            addr(0x50),
            vec![0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20],
            opt6(13, &[0, 0, b'o', b'k']),
        ]
        .concat(),
    );
    let ia_na = |subs: &[u8]| {
        opt6(
            3,
            &[&[0, 0, 0, 1, 0, 0, 3, 0x84, 0, 0, 5, 0x46][..], subs].concat(),
        )
    };
    let solicit = msg(
        1,
        0x00ab_cdef,
        &[
            duid_llt.clone(),
            opt6(6, &[0, 23, 0, 24, 0, 56, 3, 0xe7]),
            opt6(8, &[0, 0]),
            ia_na(&[]),
            opt6(14, &[]),
        ],
    );
    let advertise = msg(
        2,
        0x00ab_cdef,
        &[
            duid_ll.clone(),
            duid_en.clone(),
            ia_na(&ia_addr),
            opt6(7, &[255]),
            opt6(23, &[B6.to_vec(), addr(0x35)].concat()),
            opt6(
                24,
                &[
                    3, b'l', b'a', b'b', 4, b't', b'e', b's', b't', 0, 7, b'e', b'x', b'a', b'm',
                    b'p', b'l', b'e', 0,
                ],
            ),
        ],
    );
    let prefix = opt6(
        26,
        &[
            vec![0, 0, 0x0e, 0x10, 0xff, 0xff, 0xff, 0xff, 56],
            vec![0xfd, 0, 1, 0x98, 0, 0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ]
        .concat(),
    );
    let reply = msg(
        7,
        0x0012_3456,
        &[
            duid_ll.clone(),
            opt6(
                25,
                &[&[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0][..], &prefix].concat(),
            ),
            opt6(13, &[0, 2, b'n', b'o']),
            opt6(13, &[0, 42]),
            opt6(13, &[1, 0x2c]),
            opt6(31, &addr(0x7b)),
            opt6(32, &[0, 0, 0x0e, 0x10]),
            opt6(64, &[4, b'a', b'f', b't', b'r', 3, b'i', b's', b'p', 0]),
            opt6(
                56,
                &[
                    opt6(1, &addr(0x7b)),
                    opt6(3, &[3, b'n', b't', b'p', 0]),
                    opt6(9, &[1, 2]),
                ]
                .concat(),
            ),
        ],
    );
    let relayed = msg(1, 7, &[duid_llt.clone(), opt6(8, &[0x12, 0x34])]);
    let mut relay = vec![12, 0];
    relay.extend_from_slice(&addr(1));
    relay.extend_from_slice(&A6);
    relay.extend_from_slice(
        &[
            opt6(18, b"eth0-port-12"),
            opt6(37, &[0, 0, 0x0d, 0xe9, 1, 2, 3]),
            opt6(9, &relayed),
        ]
        .concat(),
    );
    let inf_req = msg(
        11,
        0x00ff_ffff,
        &[
            duid_en.clone(),
            opt6(99, &[1, 2, 3]),
            opt6(15, &[0, 3, b'a', b'b', b'c', 0, 2, b'x', b'y']),
            opt6(59, b"tftp://[fd00::1]/boot"),
            opt6(41, b"EST5EDT\0x"),
            opt6(
                11,
                &[
                    &[2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, b'r', b'l', 0, 0, 0, 1][..],
                    &[0xaa; 16],
                ]
                .concat(),
            ),
            opt6(4, &[0, 0, 0, 3]),
        ],
    );
    let reconfigure = msg(
        10,
        1,
        &[
            duid_ll.clone(),
            opt6(19, &[5]),
            opt6(
                11,
                &[&[3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1][..], &[0x55; 16]].concat(),
            ),
            opt6(20, &[]),
        ],
    );
    // Damaged: lengths tcpdump rejects, an unknown type, an option past the message's end.
    let damaged = msg(
        9,
        2,
        &[
            opt6(1, &[0]),
            opt6(1, &[0, 7, 1]),
            opt6(3, &[0, 0, 0, 1, 0]),
            opt6(8, &[0, 0, 0]),
            opt6(19, &[9]),
            opt6(23, &[0; 8]),
            opt6(11, &[9, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            vec![0, 8, 0, 9, 0],
        ],
    );
    let release4 = msg(8, 3, &[duid_ll.clone(), opt6(2, &[0, 2, 0, 0, 0, 9])]);
    vec![
        over_udp6(546, 547, all_servers, &solicit),
        over_udp6(547, 546, B6, &advertise),
        over_udp6(547, 546, B6, &reply),
        over_udp6(547, 547, B6, &relay),
        over_udp6(546, 547, all_servers, &inf_req),
        over_udp6(547, 546, B6, &reconfigure),
        over_udp6(546, 547, B6, &damaged),
        over_udp6(546, 547, B6, &msg(99, 5, &[])),
        over_udp(546, 547, B, &release4),
    ]
}

fn syslog_packets() -> Vec<Vec<u8>> {
    let msgs: [&[u8]; 10] = [
        b"<34>Oct 11 22:14:15 host su: 'su root' failed for lonvick on /dev/pts/8",
        b"<13>1 2026-12-02T17:00:00Z host app 42 ID47 - message",
        b"<191>debug from local7",
        b"<0>",
        b"<1000>facility beyond the table",
        b"<7\x01\x80 control and high bytes\x7f\ttab\r\n",
        b"<1234>too many digits",
        b"<12 no closing bracket",
        b"no priority at all",
        b"<>empty priority",
    ];
    let mut v: Vec<Vec<u8>> = msgs.iter().map(|m| over_udp(40000, 514, B, m)).collect();
    v.push(over_udp6(
        514,
        514,
        B6,
        b"<165>from syslog to syslog over IPv6",
    ));
    v
}

/// A BFD control packet: version/diagnostic, flags, multiplier, discriminators, the three
/// intervals (microseconds), then `auth`.
fn bfd(vd: u8, flags: u8, mult: u8, disc: [u32; 2], us: [u32; 3], auth: &[u8]) -> Vec<u8> {
    let mut m = vec![vd, flags, mult, (24 + auth.len()) as u8];
    for v in disc.iter().chain(&us) {
        m.extend_from_slice(&v.to_be_bytes());
    }
    m.extend_from_slice(auth);
    m
}

fn bfd_packets() -> Vec<Vec<u8>> {
    let us = [300_000, 300_000, 50_000];
    let md5 = [&[2, 24, 5, 0, 0, 0, 1, 0][..], &[0xa5; 16]].concat();
    let sha1 = [&[5, 28, 6, 0, 0x12, 0x34, 0x56, 0x78][..], &[0x5a; 20]].concat();
    vec![
        over_udp(50000, 3784, B, &bfd(0x20, 0xc0, 3, [1, 2], us, &[])),
        over_udp(
            50000,
            3784,
            B,
            &bfd(0x21, 0x48, 5, [0xdead_beef, 0], [1_000_000, 2_000, 0], &[]),
        ),
        over_udp(
            50000,
            4784,
            B,
            &bfd(0x28, 0x7f, 255, [7, 8], [u32::MAX, 999, 12_345_678], &[]),
        ),
        over_udp(
            50000,
            3784,
            B,
            &bfd(
                0x23,
                0x84,
                3,
                [1, 2],
                us,
                &[1, 7, 1, b'p', b'w', 0x01, 0xe9],
            ),
        ),
        over_udp(50000, 3784, B, &bfd(0x20, 0x44, 3, [1, 2], us, &md5)),
        over_udp(50000, 3784, B, &bfd(0x20, 0x44, 3, [1, 2], us, &sha1)),
        over_udp(
            50000,
            3784,
            B,
            &bfd(0x20, 0x44, 3, [1, 2], us, &[2, 20, 1, 0]),
        ),
        over_udp(
            50000,
            3784,
            B,
            &bfd(0x20, 0x44, 3, [1, 2], us, &[1, 30, 1, 0]),
        ),
        over_udp(
            50000,
            3784,
            B,
            &bfd(0x20, 0x44, 3, [1, 2], us, &[9, 4, 1, 0]),
        ),
        over_udp(50000, 3784, B, &bfd(0x00, 0xff, 3, [1, 2], us, &[])),
        over_udp(
            50000,
            3784,
            B,
            &bfd(0x07, 0x14, 3, [1, 2], us, &[1, 5, 3, b'a', b'b']),
        ),
        over_udp(50000, 3784, B, &bfd(0x60, 0xc0, 3, [1, 2], us, &[])),
        over_udp(3784, 50000, B, &bfd(0x20, 0xc0, 3, [1, 2], us, &[])),
        over_udp(3785, 3785, B, b"echo payload 12345678"),
        over_udp(50000, 6784, B, &bfd(0x20, 0xc0, 3, [1, 2], us, &[])),
        over_udp6(50000, 3784, B6, &bfd(0x20, 0xc0, 3, [1, 2], us, &[])),
        over_udp(50000, 3784, B, &[0x20, 0xc0, 3, 24, 0, 0]),
    ]
}

/// WireGuard (udp 51820): tcpdump 4.99 has no printer for it (`UDP, length N`).
fn wireguard_packets() -> Vec<Vec<u8>> {
    let init = [&[1, 0, 0, 0, 0x11, 0x22, 0x33, 0x44][..], &[0x42; 140]].concat();
    let data = [
        &[4, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0, 0, 0, 9][..],
        &[0x77; 32],
    ]
    .concat();
    vec![
        over_udp(51820, 51820, B, &init),
        over_udp(40000, 51820, B, &data),
        over_udp6(51820, 51820, B6, &data),
    ]
}

/// A VRRP message (checksum filled in): version/type, router ID, priority, address count,
/// auth type (v2) or interval high bits (v3), interval, addresses, then `tail`.
fn vrrp(vt: u8, vrid: u8, prio: u8, b4: u8, b5: u8, addrs: &[&[u8]], tail: &[u8]) -> Vec<u8> {
    let mut m = vec![vt, vrid, prio, addrs.len() as u8, b4, b5, 0, 0];
    for a in addrs {
        m.extend_from_slice(a);
    }
    m.extend_from_slice(tail);
    m
}

fn vrrp_packets() -> Vec<Vec<u8>> {
    let group = [224, 0, 0, 18];
    let v4 = |ttl: u8, mut m: Vec<u8>, v3: bool, good: bool| {
        let pseudo = if v3 {
            let mut p = Vec::new();
            p.extend_from_slice(&A);
            p.extend_from_slice(&group);
            p.extend_from_slice(&[0, 112]);
            p.extend_from_slice(&(m.len() as u16).to_be_bytes());
            sum16(&p, 0)
        } else {
            0
        };
        let c = checksum(&m, pseudo) ^ if good { 0 } else { 0x0101 };
        m[6..8].copy_from_slice(&c.to_be_bytes());
        ether(
            0x0800,
            &V4 {
                ttl,
                ..V4::new(112, A, group)
            }
            .build(&m),
        )
    };
    let v6 = |hlim: u8, mut m: Vec<u8>, good: bool| {
        let dst = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12];
        let mut p = Vec::new();
        p.extend_from_slice(&A6);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&(m.len() as u32).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 112]);
        let c = checksum(&m, sum16(&p, 0)) ^ if good { 0 } else { 0x0101 };
        m[6..8].copy_from_slice(&c.to_be_bytes());
        let mut f = ether(0x86dd, &ipv6(112, A6, dst, &m));
        f[14 + 7] = hlim;
        f
    };
    let vip = [198, 18, 0, 100];
    let vip2 = [198, 18, 0, 101];
    let vip6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    vec![
        v4(255, vrrp(0x21, 1, 100, 0, 1, &[&vip], &[0; 8]), false, true),
        v4(
            255,
            vrrp(0x21, 51, 255, 1, 3, &[&vip, &vip2], b"secret\0\0"),
            false,
            true,
        ),
        v4(
            255,
            vrrp(0x21, 9, 0, 1, 1, &[&vip], b"12345678"),
            false,
            true,
        ),
        v4(64, vrrp(0x21, 2, 50, 2, 1, &[&vip], &[0; 8]), false, false),
        v4(255, vrrp(0x21, 3, 50, 7, 1, &[], &[0; 8]), false, true),
        v4(255, vrrp(0x31, 10, 100, 0, 100, &[&vip], &[]), true, true),
        v4(
            255,
            vrrp(0x31, 11, 100, 0x0f, 0xff, &[&vip, &vip2], &[]),
            true,
            false,
        ),
        v4(255, vrrp(0x32, 1, 100, 0, 1, &[&vip], &[]), false, true),
        v4(255, vrrp(0x11, 1, 100, 0, 1, &[&vip], &[]), false, true),
        v6(255, vrrp(0x31, 20, 200, 0, 100, &[&vip6], &[]), true),
        v6(1, vrrp(0x31, 21, 200, 0, 100, &[&vip6, &B6], &[]), false),
    ]
}

/// An 802.3 frame from 02:00:00:00:00:0a with an LLC header (`llc`: SAPs and control), the
/// length field counting the LLC part, then `pad` bytes of Ethernet padding.
fn llc_frame(dst: [u8; 6], llc: &[u8], body: &[u8], pad: usize) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&[2, 0, 0, 0, 0, 0x0a]);
    f.extend_from_slice(&((llc.len() + body.len()) as u16).to_be_bytes());
    f.extend_from_slice(llc);
    f.extend_from_slice(body);
    f.resize(f.len() + pad, 0);
    f
}

/// A configuration or RSTP BPDU: version, type, flags, root, cost, bridge, port, the four
/// timers (1/256 s), then `tail` (RSTP's version 1 length, MSTP's fields).
fn bpdu(version: u8, ty: u8, flags: u8, timers: [u16; 4], tail: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, version, ty, flags];
    if ty != 0x80 {
        b.extend_from_slice(&[0x80, 0, 2, 0, 0, 0, 0, 1]);
        b.extend_from_slice(&20_000u32.to_be_bytes());
        b.extend_from_slice(&[0x70, 0x05, 2, 0, 0, 0, 0, 2]);
        b.extend_from_slice(&0x8001u16.to_be_bytes());
        for t in timers {
            b.extend_from_slice(&t.to_be_bytes());
        }
    }
    b.extend_from_slice(tail);
    b
}

fn stp_packets() -> Vec<Vec<u8>> {
    const STP: [u8; 6] = [0x01, 0x80, 0xc2, 0, 0, 0];
    const LLC: [u8; 3] = [0x42, 0x42, 0x03];
    let std = [256, 20 * 256, 2 * 256, 15 * 256];
    let odd = [0x0120, 0xffff, 1, 0x0180];
    // MSTP: version 1 length 0, v3 length, the MST configuration, the CIST, then MSTIs.
    let mstp = |mstis: &[[u8; 16]]| {
        let mut t = vec![0];
        t.extend_from_slice(&((64 + 16 * mstis.len()) as u16).to_be_bytes());
        t.push(0);
        let mut name = b"region-a".to_vec();
        name.resize(32, 0);
        t.extend_from_slice(&name);
        t.extend_from_slice(&7u16.to_be_bytes());
        t.extend_from_slice(&[0xd4; 16]);
        t.extend_from_slice(&200_000u32.to_be_bytes());
        t.extend_from_slice(&[0x80, 0, 2, 0, 0, 0, 0, 3]);
        t.push(20);
        for m in mstis {
            t.extend_from_slice(m);
        }
        t
    };
    let msti = |id: u16, flags: u8| {
        let mut m = [0u8; 16];
        m[0] = flags;
        m[1..3].copy_from_slice(&(0x8000 | id).to_be_bytes());
        m[3..9].copy_from_slice(&[2, 0, 0, 0, 0, 4]);
        m[9..13].copy_from_slice(&2000u32.to_be_bytes());
        m[13] = 0x80;
        m[14] = 0x90;
        m[15] = 19;
        m
    };
    vec![
        llc_frame(STP, &LLC, &bpdu(0, 0, 0, std, &[]), 8),
        llc_frame(STP, &LLC, &bpdu(0, 0, 0x81, odd, &[]), 0),
        llc_frame(STP, &LLC, &bpdu(0, 0x80, 0, std, &[]), 0),
        llc_frame(STP, &LLC, &bpdu(2, 2, 0x7e, std, &[0]), 7),
        llc_frame(STP, &LLC, &bpdu(2, 2, 0x3d, odd, &[0]), 0),
        llc_frame(STP, &LLC, &bpdu(2, 2, 0x0, std, &[]), 0),
        llc_frame(STP, &LLC, &bpdu(3, 2, 0x7c, std, &mstp(&[])), 0),
        llc_frame(
            STP,
            &LLC,
            &bpdu(3, 2, 0x3c, std, &mstp(&[msti(1, 0x7c), msti(4094, 0x05)])),
            0,
        ),
        llc_frame(STP, &LLC, &bpdu(3, 2, 0x3c, std, &mstp(&[])[..40]), 0),
        llc_frame(STP, &LLC, &bpdu(9, 0, 0, std, &[]), 0),
        llc_frame(STP, &LLC, &bpdu(0, 0x55, 0, std, &[]), 0),
        llc_frame(STP, &LLC, &[0, 1, 0, 0], 0),
        llc_frame(STP, &LLC, &[0, 0], 0),
        llc_frame(STP, &[0x43, 0x43, 0x03], &bpdu(0, 0, 0, std, &[]), 0),
        llc_frame([0xff; 6], &LLC, &bpdu(0, 0, 1, std, &[]), 0),
    ]
}

/// An LLDP TLV: 7-bit type, 9-bit length, value.
fn lldp_tlv(ty: u8, v: &[u8]) -> Vec<u8> {
    let h = u16::from(ty) << 9 | v.len() as u16;
    [&h.to_be_bytes()[..], v].concat()
}

fn lldp_packets() -> Vec<Vec<u8>> {
    let frame = |tlvs: &[Vec<u8>], pad: usize| {
        let mut f = vec![
            0x01, 0x80, 0xc2, 0, 0, 0x0e, 2, 0, 0, 0, 0, 0x0a, 0x88, 0xcc,
        ];
        f.extend_from_slice(&tlvs.concat());
        f.resize(f.len() + pad, 0);
        f
    };
    let mac = [2, 0, 0, 0, 0, 0x0a];
    let org = |oui: [u8; 3], sub: u8, v: &[u8]| lldp_tlv(127, &[&oui[..], &[sub], v].concat());
    let i8021 = [0x00, 0x80, 0xc2];
    let i8023 = [0x00, 0x12, 0x0f];
    let tia = [0x00, 0x12, 0xbb];
    let end = lldp_tlv(0, &[]);
    let switch = vec![
        lldp_tlv(1, &[&[4][..], &mac].concat()),
        lldp_tlv(2, b"\x05eth0"),
        lldp_tlv(3, &120u16.to_be_bytes()),
        lldp_tlv(4, b"uplink port"),
        lldp_tlv(5, b"switch1"),
        lldp_tlv(6, b"Linux 6.1 x86_64"),
        lldp_tlv(7, &[0, 0x14, 0, 0x04]),
        lldp_tlv(8, &[5, 1, 198, 18, 0, 1, 2, 0, 0, 0, 2, 0]),
        lldp_tlv(
            8,
            &[
                &[17, 2][..],
                &A6,
                &[3, 0, 0, 0, 9, 8, 0x2b, 6, 1, 2, 1, 2, 2, 1],
            ]
            .concat(),
        ),
        org(i8021, 1, &[0, 10]),
        org(i8021, 2, &[6, 0, 20]),
        org(i8021, 3, b"\x00\x1e\x05vlan3"),
        org(i8021, 4, b"\x04lacp"),
        org(i8021, 9, &[0; 21]),
        org(
            i8021,
            9,
            &[
                0xcb, 0x01, 0x23, 0x45, 0x67, 10, 20, 30, 40, 0, 0, 0, 100, 0, 1, 2, 255, 0, 0, 0,
                0, 0,
            ],
        ),
        org(
            i8021,
            10,
            &[
                7, 0x76, 0x54, 0x32, 0x10, 12, 12, 12, 12, 13, 13, 13, 13, 2, 2, 2, 2, 0, 0, 0, 0,
            ],
        ),
        org(i8021, 8, &[0xa5, 0x0f]),
        org(i8021, 11, &[0xf8, 0x28]),
        org(i8021, 12, &[0, 0x7c, 0x0c, 0xea, 0x23, 0x12, 0x34]),
        org(i8021, 12, &[0, 1, 2]),
        org(i8021, 13, &[0xff, 0xfe, 0xe5, 0x7f, 0xaa]),
        org(
            i8021,
            14,
            &[0xf8, 0, 0x0f, 0xff, 0x00, 0x10, 0x05, 0x12, 0x34, 0x56],
        ),
        org(i8021, 14, &[0x80, 0, 0, 1, 1]),
        org(i8021, 99, &[1]),
        org(i8023, 1, &[3, 0x6c, 0x01, 0, 0x10]),
        org(i8023, 2, &[0x0f, 1, 3]),
        org(i8023, 3, &[3, 0, 0, 0, 7]),
        org(i8023, 4, &9216u16.to_be_bytes()),
        org(i8023, 9, &[1, 2]),
        org([0, 0, 0x0c], 1, &[1, 2, 3]),
        org(tia, 1, &[0, 0x33, 3]),
        org(tia, 1, &[0, 0x33]),
        org(tia, 2, &[1, 0x40, 0x0c, 0x8b, 0x2e]),
        org(tia, 2, &[9, 0xe0, 0xff, 0xff, 0xff]),
        org(
            tia,
            3,
            &[
                1, 0x49, 0x12, 0x34, 0x56, 0x78, 0x93, 0x0a, 0xbc, 0xde, 0xf0, 0x10, 0x40, 0, 0, 5,
                1,
            ],
        ),
        org(
            tia,
            3,
            &[
                &[2, 16, 2][..],
                b"US",
                &[1, 2],
                b"CA",
                &[3, 6],
                b"Mtn Vw",
                &[0x20, 1],
            ]
            .concat(),
        ),
        org(tia, 3, &[2, 5, 0, b'D', b'E', 6, 0]),
        org(tia, 3, &[&[3][..], b"5551234567"].concat()),
        org(tia, 3, &[7, 1, 2, 3]),
        org(tia, 4, &[0x51, 0, 154]),
        org(tia, 4, &[0x2e, 0x04, 0x00]),
        org(tia, 5, b"rev A"),
        org(tia, 9, b"ACME\0x"),
        org(tia, 11, b""),
        org(tia, 42, &[1]),
        lldp_tlv(99, b"reserved type"),
        end.clone(),
    ];
    let odd = vec![
        lldp_tlv(1, b"\x07chassis-local"),
        lldp_tlv(2, &[&[3][..], &mac].concat()),
        lldp_tlv(3, &0u16.to_be_bytes()),
        lldp_tlv(
            1,
            &[
                5, 2, 0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,
            ],
        ),
        lldp_tlv(2, &[4, 6, 2, 0, 0, 0, 0, 9]),
        lldp_tlv(2, &[4, 42, 1, 2]),
        lldp_tlv(1, &[9, 1, 2, 3]),
        lldp_tlv(7, &[0, 0xff, 0, 0]),
        lldp_tlv(8, &[1, 0, 1, 0, 0, 0, 1]),
        org(i8023, 1, &[0, 0x80, 0, 0xff, 0xff]),
        org(i8021, 3, b"\x00\x1e\x09vlan3"),
        lldp_tlv(5, b"sw\0itch"),
        end.clone(),
    ];
    vec![
        frame(&switch, 0),
        frame(&odd, 0),
        frame(
            &[
                lldp_tlv(1, &[&[4][..], &mac].concat()),
                lldp_tlv(3, &[0, 30]),
                end.clone(),
            ],
            30,
        ),
        // Malformed: a TTL of one byte, a MAC chassis ID of three, a bad management address.
        frame(&[lldp_tlv(3, &[1]), end.clone()], 0),
        frame(&[lldp_tlv(1, &[4, 1, 2]), end.clone()], 0),
        frame(&[lldp_tlv(8, &[9, 1, 198, 18]), end.clone()], 0),
        frame(&[lldp_tlv(8, &[5, 1, 198, 18, 0, 1, 2, 0]), end.clone()], 0),
        // No End TLV, a TLV longer than the frame.
        frame(&[lldp_tlv(5, b"sw2")], 0),
        frame(&[lldp_tlv(5, b"sw2"), vec![0x0a, 0x40, b'x']], 0),
    ]
}

/// A TCP segment 198.18.0.1.40000 > 198.18.0.2.80 with `opts` (padded with NOPs), checksums
/// filled in.
fn tcp_segment(opts: &[u8], flags: u8, payload: &[u8]) -> Vec<u8> {
    tcp_to(80, opts, flags, payload)
}

/// [`tcp_segment`] to another port.
fn tcp_to(dport: u16, opts: &[u8], flags: u8, payload: &[u8]) -> Vec<u8> {
    tcp_ports(40000, dport, opts, flags, payload)
}

/// A TCP segment 198.18.0.1.SPORT > 198.18.0.2.DPORT.
fn tcp_ports(sport: u16, dport: u16, opts: &[u8], flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut o = opts.to_vec();
    while o.len() % 4 != 0 {
        o.push(1);
    }
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&1000u32.to_be_bytes());
    t.extend_from_slice(&(if flags & 0x10 != 0 { 2000u32 } else { 0 }).to_be_bytes());
    t.push((((20 + o.len()) / 4) << 4) as u8);
    t.push(flags);
    t.extend_from_slice(&[2, 0, 0, 0, 0, 0]);
    t.extend_from_slice(&o);
    t.extend_from_slice(payload);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&A);
    pseudo.extend_from_slice(&B);
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(t.len() as u16).to_be_bytes());
    let c = checksum(&t, sum16(&pseudo, 0));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    ether(0x0800, &V4::new(6, A, B).build(&t))
}

fn tcp_option_packets() -> Vec<Vec<u8>> {
    const SYN: u8 = 0x02;
    const SYNACK: u8 = 0x12;
    const ACK: u8 = 0x10;
    let keys: Vec<u8> = (0..16).collect();
    let mp = |body: &[u8]| [&[30, (body.len() + 2) as u8][..], body].concat();
    let dss_full = [
        &[0x20, 0x0f][..],
        &[0, 0, 0, 0, 0, 0, 0, 9],
        &[0, 0, 0, 5, 0, 0, 0, 6],
        &[0, 0, 0, 7, 0, 10, 0xbe, 0xef],
    ]
    .concat();
    vec![
        // MPTCP (RFC 6824 and 8684): every subtype, the lengths each accepts, bad ones.
        tcp_segment(&[&mp(&[0x00, 0x81]), &keys[..8]].concat(), SYN, b""),
        tcp_segment(&[&mp(&[0x01, 0x01]), &keys[..8]].concat(), SYN, b""),
        tcp_segment(&mp(&[0x01, 0x01]), SYN, b""),
        tcp_segment(&[&mp(&[0x00, 0x80]), &keys[..]].concat(), ACK, b""),
        tcp_segment(
            &[&mp(&[0x01, 0xa1]), &keys[..], &[0, 100]].concat(),
            ACK,
            b"",
        ),
        tcp_segment(&[&mp(&[0x02, 0x81]), &keys[..8]].concat(), SYN, b""),
        tcp_segment(&[&mp(&[0x00, 0x81]), &keys[..8]].concat(), ACK, b""),
        tcp_segment(&mp(&[0x10, 1, 1, 2, 3, 4, 5, 6, 7, 8]), SYN, b""),
        tcp_segment(&[&mp(&[0x11, 1]), &keys[..12]].concat(), SYNACK, b""),
        tcp_segment(&[&mp(&[0x10, 0]), &[7; 20][..]].concat(), ACK, b""),
        tcp_segment(&mp(&[0x10, 1, 1, 2, 3, 4, 5, 6, 7, 8]), ACK, b""),
        tcp_segment(&mp(&dss_full), ACK, b"data"),
        tcp_segment(&mp(&dss_full[..20]), ACK, b""),
        tcp_segment(&mp(&[0x20, 0x01, 0, 0, 1, 0]), ACK, b""),
        tcp_segment(&mp(&[0x20, 0x11, 0, 0, 1, 0]), ACK, b""),
        tcp_segment(&mp(&[0x20, 0x04, 0, 0, 0, 5, 0, 0, 0, 6, 0, 10]), ACK, b""),
        tcp_segment(&mp(&[0x20, 0x01, 0, 0, 1, 0]), SYN, b""),
        tcp_segment(&mp(&[0x20, 0x03, 0, 0, 1, 0]), ACK, b""),
        tcp_segment(&mp(&[0x34, 2, 198, 18, 0, 9]), ACK, b""),
        tcp_segment(&mp(&[0x34, 2, 198, 18, 0, 9, 0x1f, 0x90]), ACK, b""),
        tcp_segment(
            &mp(&[0x30, 2, 198, 18, 0, 9, 1, 1, 1, 1, 1, 1, 1, 1]),
            ACK,
            b"",
        ),
        tcp_segment(
            &mp(&[0x30, 2, 198, 18, 0, 9, 0x1f, 0x90, 1, 2, 3, 4, 5, 6, 7, 8]),
            ACK,
            b"",
        ),
        tcp_segment(&mp(&[0x31, 2, 198, 18, 0, 9]), ACK, b""),
        tcp_segment(&mp(&[&[0x36, 3][..], &A6].concat()), ACK, b""),
        tcp_segment(&mp(&[&[0x36, 3][..], &A6, &[0, 80]].concat()), ACK, b""),
        tcp_segment(&mp(&[&[0x30, 3][..], &B6, &[9; 8]].concat()), ACK, b""),
        tcp_segment(
            &mp(&[&[0x30, 3][..], &B6, &[0, 80], &[9; 8]].concat()),
            ACK,
            b"",
        ),
        tcp_segment(&mp(&[0x32, 2, 198, 18, 0, 9]), ACK, b""),
        tcp_segment(&mp(&[0x34, 2, 198, 18, 0]), ACK, b""),
        tcp_segment(&mp(&[0x40, 1, 2, 3]), ACK, b""),
        tcp_segment(&mp(&[0x40]), ACK, b""),
        tcp_segment(&mp(&[0x51]), ACK, b""),
        tcp_segment(&mp(&[0x50, 7]), ACK, b""),
        tcp_segment(&mp(&[0x50, 7, 8]), ACK, b""),
        tcp_segment(&mp(&[0x60, 0, 0, 0, 0, 0, 0, 0, 0, 5]), ACK, b""),
        tcp_segment(&[&mp(&[0x70, 0]), &keys[..8]].concat(), ACK, b""),
        tcp_segment(&mp(&[0x70, 0, 1]), ACK, b""),
        tcp_segment(&mp(&[0x80, 0]), ACK, b""),
        tcp_segment(&mp(&[0xf0, 0, 1, 2]), ACK, b""),
        tcp_segment(&[2, 4, 5, 0xb4, 30, 2], SYN, b""),
        // MPTCP after other options (a bad one then closes the list).
        tcp_segment(
            &[
                &[2, 4, 5, 0xb4, 4, 2][..],
                &mp(&[0x00, 0x81]),
                &keys[..8],
                &[1, 3, 3, 7],
            ]
            .concat(),
            SYN,
            b"",
        ),
        tcp_segment(&[&[1, 1][..], &mp(&[0x20, 0x0f, 0, 0])].concat(), ACK, b""),
        // TCP Fast Open, and the experimental option with and without its magic.
        tcp_segment(&[34, 2], SYN, b""),
        tcp_segment(&[&[34, 10][..], &keys[..8]].concat(), SYN, b"early data"),
        tcp_segment(&[&[34, 18][..], &keys[..]].concat(), SYN, b""),
        tcp_segment(&[34, 5, 1, 2, 3], SYN, b""),
        tcp_segment(&[34, 4, 1, 2], SYN, b""),
        tcp_segment(&[&[34, 20][..], &keys[..], &[1, 2]].concat(), SYN, b""),
        tcp_segment(&[254, 4, 0xf9, 0x89], SYN, b""),
        tcp_segment(&[&[254, 12, 0xf9, 0x89][..], &keys[..8]].concat(), SYN, b""),
        tcp_segment(&[254, 7, 0xf9, 0x89, 1, 2, 3], SYN, b""),
        tcp_segment(&[254, 6, 0x12, 0x34, 0, 0], SYN, b""),
        tcp_segment(&[254, 3, 0x12], SYN, b""),
        tcp_segment(&[2, 4, 5, 0xb4, 254, 2], SYN, b""),
        // The other options tcpdump decodes, with odd lengths.
        tcp_segment(&[&[19, 18][..], &keys[..]].concat(), SYN, b""),
        tcp_segment(&[28, 4, 0x01, 0x2d, 28, 4, 0x00, 0x78], ACK, b""),
        tcp_segment(
            &[29, 4, 1, 2, 29, 8, 3, 4, 0xaa, 0xbb, 0xcc, 0xdd, 29, 3, 9],
            ACK,
            b"",
        ),
        tcp_segment(
            &[20, 4, 0x81, 9, 11, 6, 0, 0, 0, 7, 13, 6, 0, 0, 0, 8],
            SYN,
            b"",
        ),
        tcp_segment(
            &[6, 6, 0, 0, 0, 1, 7, 6, 0, 0, 0, 2, 99, 5, 1, 2, 3, 77, 2],
            SYN,
            b"",
        ),
        tcp_segment(&[2, 3, 5, 0xb4, 3, 4, 7, 0, 0, 0], SYN, b""),
        tcp_segment(
            &[5, 10, 0, 0, 3, 0xe8, 0, 0, 7, 0xd0, 5, 5, 1, 2, 3],
            ACK,
            b"",
        ),
        tcp_segment(&[8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 9, 9, 9], ACK, b""),
        tcp_segment(&[8, 12, 0, 0, 0, 1, 0, 0, 0, 2], ACK, b""),
        tcp_segment(&[2, 1, 5, 0xb4], SYN, b""),
    ]
}

fn resp_packets() -> Vec<Vec<u8>> {
    const PSH_ACK: u8 = 0x18;
    let msgs: [&[u8]; 16] = [
        b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
        b"+OK\r\n",
        b"-ERR unknown command 'FOO'\r\n",
        b":1000\r\n",
        b"$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n",
        b"*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n",
        b"PING\r\nPING\n\r\nECHO hi\r\n",
        b"*1\r\n$5\r\nab\x01\xffc\r\n",
        b"$99999999999\r\nx\r\n",
        b"$-7\r\n:1\r\n",
        b"*x\r\n+after\r\n",
        b"$3\rx\r\n+next\r\n",
        b"$2\r\nabjunk\r\n+OK\r\n",
        b"$10\r\nshort\r\n",
        b"+no end",
        b"\r\n\r\n",
    ];
    let mut v: Vec<Vec<u8>> = msgs.iter().map(|m| tcp_to(6379, &[], PSH_ACK, m)).collect();
    // From the server's side, and with -v's RST rule.
    let mut reply = tcp_to(6379, &[], PSH_ACK, b"$5\r\nhello\r\n");
    let (s, d) = (14 + 20, 14 + 22);
    reply.swap(s, d);
    reply.swap(s + 1, d + 1);
    v.push(reply);
    v.push(tcp_to(6379, &[], 0x14, b"+OK\r\n"));
    v.push(tcp_to(
        6379,
        &[],
        0x04,
        b"-ERR a reset's text longer than thirty bytes\r\n",
    ));
    v
}

/// An ICMP message (checksum filled in): type, code, the 4 bytes after the checksum, data.
fn icmp_msg(ty: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(data);
    let c = checksum(&m, 0);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

fn icmp_packets() -> Vec<Vec<u8>> {
    let over = |m: Vec<u8>| ether(0x0800, &V4::new(1, A, B).build(&m));
    // What an error quotes: the offending datagram's header and 8 bytes.
    let quoted_udp = {
        let d = inner_v4_udp();
        d[..28].to_vec()
    };
    let quoted_tcp =
        V4::new(6, INNER_A, INNER_B).build(&[0x9c, 0x40, 0, 80, 0, 0, 0, 1])[..28].to_vec();
    let quoted_gre = V4::new(47, INNER_A, INNER_B).build(&[0, 0, 8, 0, 0, 0, 0, 0])[..28].to_vec();
    let mut v = vec![
        over(icmp_msg(8, 0, [0, 7, 0, 1], b"ping")),
        over(icmp_msg(0, 0, [0, 7, 0, 1], b"ping")),
        over(icmp_msg(3, 3, [0; 4], &quoted_udp)),
        over(icmp_msg(3, 3, [0; 4], &quoted_tcp)),
        over(icmp_msg(3, 3, [0; 4], &quoted_gre)),
        over(icmp_msg(3, 2, [0; 4], &quoted_gre)),
        over(icmp_msg(3, 4, [0, 0, 0x05, 0xdc], &quoted_tcp)),
        over(icmp_msg(3, 4, [0; 4], &quoted_tcp)),
        over(icmp_msg(4, 0, [0; 4], &quoted_udp)),
        over(icmp_msg(5, 0, [198, 18, 0, 254], &quoted_udp)),
        over(icmp_msg(5, 1, [198, 18, 0, 254], &quoted_udp)),
        over(icmp_msg(5, 2, [198, 18, 0, 254], &quoted_udp)),
        over(icmp_msg(5, 3, [198, 18, 0, 254], &quoted_udp)),
        over(icmp_msg(5, 9, [198, 18, 0, 254], &quoted_udp)),
        over(icmp_msg(
            9,
            0,
            [2, 2, 0x07, 0x08],
            &[
                198, 18, 0, 1, 0, 0, 0, 0, 198, 18, 0, 3, 0xff, 0xff, 0xff, 0xff,
            ],
        )),
        over(icmp_msg(9, 0, [0, 2, 0, 30], &[])),
        over(icmp_msg(
            9,
            16,
            [1, 2, 0x0e, 0x11],
            &[198, 18, 0, 1, 0, 0, 0, 7],
        )),
        over(icmp_msg(
            9,
            0,
            [1, 3, 0, 59],
            &[198, 18, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0],
        )),
        over(icmp_msg(10, 0, [0; 4], &[])),
        over(icmp_msg(11, 0, [0; 4], &quoted_udp)),
        over(icmp_msg(11, 1, [0; 4], &quoted_udp)),
        over(icmp_msg(11, 7, [0; 4], &quoted_udp)),
        over(icmp_msg(12, 0, [20, 0, 0, 0], &quoted_udp)),
        over(icmp_msg(12, 1, [0; 4], &quoted_udp)),
        over(icmp_msg(
            13,
            0,
            [0x12, 0x34, 0, 5],
            &[0, 0x0f, 0x42, 0x40, 0, 0, 0, 0, 0, 0, 0, 0],
        )),
        over(icmp_msg(
            14,
            0,
            [0x12, 0x34, 0, 5],
            &[
                0, 0x0f, 0x42, 0x40, 0x03, 0x1d, 0xd8, 0x7f, 0x05, 0x26, 0x5c, 0x00,
            ],
        )),
        over(icmp_msg(15, 0, [0, 1, 0, 2], &[])),
        over(icmp_msg(16, 0, [0, 1, 0, 2], &[])),
        over(icmp_msg(17, 0, [0, 1, 0, 2], &[0; 4])),
        over(icmp_msg(18, 0, [0, 1, 0, 2], &[255, 255, 255, 0])),
        over(icmp_msg(42, 3, [1, 2, 3, 4], b"x")),
        over(icmp_msg(8, 0, [0, 7, 0, 1], &[0; 160])),
    ];
    for code in [0, 1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] {
        v.push(over(icmp_msg(3, code, [0; 4], &quoted_udp)));
    }
    // A wrong checksum.
    let mut bad = icmp_msg(13, 0, [0, 1, 0, 1], &[0; 12]);
    bad[2] ^= 0xff;
    v.push(over(bad));
    v
}

/// RFC 4884 multi-part ICMP errors (time exceeded, unreachable, parameter problem) with
/// RFC 4950 MPLS label stack objects and the other objects tcpdump prints as hex.
fn icmp_ext_packets() -> Vec<Vec<u8>> {
    let over = |m: Vec<u8>| ether(0x0800, &V4::new(1, A, B).build(&m));
    // The original datagram, 128 bytes as RFC 4884 pads it.
    let quoted =
        V4::new(17, INNER_A, INNER_B).build(&udp(&INNER_A, &INNER_B, 40000, 9999, &[0; 100]));
    assert_eq!(quoted.len(), 128);
    let object = |class: u8, ctype: u8, body: &[u8]| {
        [
            &((body.len() + 4) as u16).to_be_bytes()[..],
            &[class, ctype],
            body,
        ]
        .concat()
    };
    let label = |l: u32, tc: u32, s: bool, ttl: u32| {
        (l << 12 | tc << 9 | u32::from(s) << 8 | ttl).to_be_bytes()
    };
    let ext = |version: u8, fix: bool, objects: &[Vec<u8>]| {
        let mut e = [&[version << 4, 0, 0, 0][..], &objects.concat()].concat();
        let c = checksum(&e, 0);
        if fix {
            e[2..4].copy_from_slice(&c.to_be_bytes());
        } else {
            e[2..4].copy_from_slice(&(c ^ 0x5555).to_be_bytes());
        }
        e
    };
    let msg = |ty: u8, code: u8, len_words: u8, e: &[u8]| {
        over(icmp_msg(
            ty,
            code,
            [0, len_words, 0, 0],
            &[&quoted[..], e].concat(),
        ))
    };
    let mpls1 = object(1, 1, &label(16001, 0, true, 1));
    let mpls2 = object(
        1,
        1,
        &[label(24000, 5, false, 254), label(3, 7, true, 64)].concat(),
    );
    let ifid = object(
        2,
        0x0e,
        &[
            0, 0, 0, 7, 0, 0, 0x05, 0xdc, 4, b'e', b't', b'h', b'0', 0, 0, 0,
        ],
    );
    vec![
        msg(11, 0, 32, &ext(2, true, std::slice::from_ref(&mpls1))),
        msg(11, 0, 32, &ext(2, true, &[mpls2.clone(), ifid.clone()])),
        msg(11, 0, 0, &ext(2, true, std::slice::from_ref(&mpls1))),
        msg(11, 0, 0, &ext(2, false, std::slice::from_ref(&mpls1))),
        msg(11, 0, 32, &ext(2, false, std::slice::from_ref(&mpls1))),
        msg(3, 3, 32, &ext(2, true, &[ifid.clone(), mpls1.clone()])),
        msg(
            3,
            1,
            32,
            &ext(
                2,
                true,
                &[object(1, 2, &[1, 2, 3, 4]), object(9, 1, &[0xab; 6])],
            ),
        ),
        msg(
            12,
            0,
            32,
            &ext(2, true, &[object(0, 1, &[1, 2, 3, 4]), mpls1.clone()]),
        ),
        msg(11, 1, 32, &ext(2, true, &[vec![0, 2, 1, 1, 0, 0, 0, 0]])),
        msg(
            11,
            0,
            32,
            &ext(2, true, &[vec![0, 40, 1, 1, 0, 0x3e, 0x81, 1]]),
        ),
        msg(11, 0, 32, &ext(2, true, &[mpls1.clone(), vec![0, 8, 1]])),
        msg(11, 0, 32, &ext(1, true, std::slice::from_ref(&mpls1))),
        msg(5, 1, 32, &ext(2, true, &[mpls1])),
    ]
}

/// An ICMPv6 message from A6 to `dst` (checksum filled in): type, code, 4 bytes, data.
fn icmp6_msg(dst: [u8; 16], hlim: u8, ty: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(data);
    let mut p = Vec::new();
    p.extend_from_slice(&A6);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&(m.len() as u32).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 58]);
    let c = checksum(&m, sum16(&p, 0));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    let mut f = ether(0x86dd, &ipv6(58, A6, dst, &m));
    f[14 + 7] = hlim;
    f
}

fn icmp6_packets() -> Vec<Vec<u8>> {
    let all_nodes = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let all_routers = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let mld2 = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16];
    let group = [0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34];
    let lladdr = |ty: u8| vec![ty, 1, 2, 0, 0, 0, 0, 0x0a];
    let mtu = vec![5, 1, 0, 0, 0, 0, 0x05, 0xdc];
    let prefix = [
        &[3, 4, 64, 0xc0][..],
        &[0, 0, 0x0e, 0x10],
        &[0, 0, 0x07, 0x08],
        &[0; 4],
        &[0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
    .concat();
    let rdnss = [&[25, 3, 0, 0, 0, 0, 0x0e, 0x10][..], &B6].concat();
    let dnssl = [
        &[31, 3, 0, 0, 0, 0, 0x0e, 0x10][..],
        &[
            3, b'l', b'a', b'b', 4, b't', b'e', b's', b't', 0, 0, 0, 0, 0, 0, 0,
        ],
    ]
    .concat();
    let route = [
        &[24, 2, 48, 0x08, 0, 0, 0x0e, 0x10][..],
        &[0xfd, 0, 1, 0x98, 0, 0x18, 0, 0],
    ]
    .concat();
    let unknown_opt = vec![99, 1, 1, 2, 3, 4, 5, 6];
    let quoted = inner_v6_udp()[..48].to_vec();
    let quoted_tcp = ipv6(6, A6, B6, &[0x9c, 0x40, 0, 80, 0, 0, 0, 1])[..48].to_vec();
    let mut v = vec![
        icmp6_msg(B6, 64, 128, 0, [0, 7, 0, 1], b"ping6"),
        icmp6_msg(B6, 64, 129, 0, [0, 7, 0, 1], b"ping6"),
        icmp6_msg(all_routers, 255, 133, 0, [0; 4], &lladdr(1)),
        icmp6_msg(all_routers, 255, 133, 0, [0; 4], &[]),
        icmp6_msg(
            all_nodes,
            255,
            134,
            0,
            [64, 0xc8, 0x07, 0x08],
            &[
                &[0, 0, 0x75, 0x30, 0, 0, 0x03, 0xe8][..],
                &lladdr(1),
                &mtu,
                &prefix,
                &rdnss,
                &dnssl,
                &route,
                &unknown_opt,
            ]
            .concat(),
        ),
        icmp6_msg(all_nodes, 255, 134, 0, [0, 0x18, 0, 0], &[0; 8]),
        icmp6_msg(all_nodes, 255, 134, 0, [255, 0x3f, 0xff, 0xff], &[0xff; 8]),
        icmp6_msg(B6, 255, 135, 0, [0; 4], &[&B6[..], &lladdr(1)].concat()),
        icmp6_msg(
            B6,
            255,
            136,
            0,
            [0xe0, 0, 0, 0],
            &[&B6[..], &lladdr(2)].concat(),
        ),
        icmp6_msg(B6, 255, 136, 0, [0x40, 0, 0, 0], &B6),
        icmp6_msg(
            B6,
            255,
            137,
            0,
            [0; 4],
            &[&A6[..], &B6, &lladdr(2), &[4, 7, 0, 0, 0, 0, 0, 0], &quoted].concat(),
        ),
        icmp6_msg(group, 1, 130, 0, [0x27, 0x10, 0, 0], &[0; 16]),
        icmp6_msg(group, 1, 131, 0, [0; 4], &group),
        icmp6_msg(group, 1, 132, 0, [0; 4], &group),
        icmp6_msg(
            all_nodes,
            1,
            130,
            0,
            [0x03, 0xe8, 0, 0],
            &[&[0; 16][..], &[0x0a, 125, 0, 0]].concat(),
        ),
        icmp6_msg(
            group,
            1,
            130,
            0,
            [0x80, 0x10, 0, 0],
            &[&group[..], &[0x02, 10, 0, 2], &A6, &B6].concat(),
        ),
        icmp6_msg(
            mld2,
            1,
            143,
            0,
            [0; 4],
            &[
                &[0, 2][..],
                &[4, 0, 0, 0],
                &group,
                &[1, 0, 0, 1],
                &group,
                &B6,
            ]
            .concat(),
        ),
        icmp6_msg(B6, 64, 1, 0, [0; 4], &quoted),
        icmp6_msg(B6, 64, 1, 1, [0; 4], &quoted),
        icmp6_msg(B6, 64, 1, 2, [0; 4], &quoted),
        icmp6_msg(B6, 64, 1, 3, [0; 4], &quoted),
        icmp6_msg(B6, 64, 1, 4, [0; 4], &quoted),
        icmp6_msg(B6, 64, 1, 4, [0; 4], &quoted_tcp),
        icmp6_msg(B6, 64, 1, 5, [0; 4], &quoted),
        icmp6_msg(B6, 64, 1, 6, [0; 4], &quoted),
        icmp6_msg(B6, 64, 1, 9, [0; 4], &quoted),
        icmp6_msg(B6, 64, 2, 0, [0, 0, 0x05, 0x00], &quoted),
        icmp6_msg(B6, 64, 3, 0, [0; 4], &quoted),
        icmp6_msg(B6, 64, 3, 1, [0; 4], &quoted),
        icmp6_msg(B6, 64, 3, 5, [0; 4], &quoted),
        icmp6_msg(B6, 64, 4, 0, [0, 0, 0, 6], &quoted),
        icmp6_msg(B6, 64, 4, 1, [0, 0, 0, 40], &quoted),
        icmp6_msg(B6, 64, 4, 2, [0, 0, 0, 41], &quoted),
        icmp6_msg(B6, 64, 4, 7, [0, 0, 0, 1], &quoted),
        icmp6_msg(B6, 64, 200, 0, [1, 2, 3, 4], b"private"),
    ];
    v.push(icmp6_msg(
        B6,
        64,
        135,
        0,
        [0; 4],
        &[&B6[..], &[1, 0, 0, 0]].concat(),
    ));
    v
}

/// ICMPv6 node information (RFC 4620: who-are-you, NOOP, supported qtypes, node names,
/// node addresses, IPv4 addresses, subjects of each kind) and router renumbering (RFC 2894).
fn icmp6_info_packets() -> Vec<Vec<u8>> {
    let nonce = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let ni = |ty: u8, code: u8, qtype: u16, flags: u16, data: &[u8]| {
        let mut rest = [0u8; 4];
        rest[..2].copy_from_slice(&qtype.to_be_bytes());
        rest[2..].copy_from_slice(&flags.to_be_bytes());
        icmp6_msg(B6, 64, ty, code, rest, &[&nonce[..], data].concat())
    };
    let ttl = 3600u32.to_be_bytes();
    let name = b"\x04host\x03lab\x00";
    let rr_header = |flags: u8, rsvd: u32| [&[0u8, flags, 0, 10][..], &rsvd.to_be_bytes()].concat();
    let pco_match = |code: u8, len: u8| [&[code, len, 1, 48, 32, 64, 0, 0][..], &B6].concat();
    let pco_use = |flags: u8, vl: u32, pl: u32| {
        [
            &[64u8, 56, 0xff, 0xc0][..],
            &vl.to_be_bytes(),
            &pl.to_be_bytes(),
            &[flags, 0, 0, 0],
            &A6,
        ]
        .concat()
    };
    vec![
        icmp6_msg(B6, 64, 139, 0, [0; 4], &[0; 4]),
        icmp6_msg(B6, 64, 139, 0, [0; 4], &[]),
        ni(139, 0, 0, 0, &[]),
        ni(139, 0, 0, 0, &[0; 4]),
        ni(139, 0, 1, 1, &[]),
        ni(139, 0, 1, 2, &[]),
        ni(139, 0, 3, 0x7e, &B6),
        ni(139, 0, 3, 0, &A),
        ni(139, 2, 4, 0, &[198, 18, 0, 2]),
        ni(139, 2, 4, 0, &B6),
        ni(139, 1, 2, 0, name),
        ni(139, 1, 2, 0, b"\x08host.lab"),
        ni(139, 1, 2, 0, b"\x04host\x03lab"),
        ni(139, 1, 2, 0, b"\x04host\x09lab\x00"),
        ni(139, 1, 2, 0, b"\x04ho\x01t\x00\x00\x05"),
        ni(139, 5, 2, 0, name),
        ni(139, 0, 3, 0, &[]),
        ni(139, 0, 9, 0, &B6),
        ni(
            140,
            0,
            3,
            0x7f,
            &[&ttl[..], &A6, &ttl, &B6, &[0; 6]].concat(),
        ),
        ni(140, 0, 3, 0, &[&[0, 0, 0, 0][..], &A6].concat()),
        ni(140, 1, 3, 0, &[]),
        ni(140, 2, 3, 0, &[0; 4]),
        ni(140, 7, 3, 0, &[]),
        ni(140, 0, 2, 1, &[&ttl[..], name].concat()),
        ni(140, 0, 2, 0, &[&ttl[..], b"\x08host.lab"].concat()),
        ni(140, 0, 0, 0, &[]),
        ni(140, 0, 0, 0, &[1, 2]),
        ni(140, 0, 1, 1, &[]),
        ni(140, 0, 6, 0, &[]),
        icmp6_msg(B6, 64, 140, 0, [0; 4], &[0; 4]),
        icmp6_msg(
            B6,
            64,
            138,
            0,
            [0, 0, 0, 1],
            &[
                &rr_header(0xf8, 0)[..],
                &pco_match(1, 11),
                &pco_use(0xc0, 3600, u32::MAX),
                &pco_use(0, u32::MAX, 1800),
            ]
            .concat(),
        ),
        icmp6_msg(
            B6,
            64,
            138,
            0,
            [0, 0, 0, 2],
            &[&rr_header(0x40, 7)[..], &pco_match(2, 3)].concat(),
        ),
        icmp6_msg(
            B6,
            64,
            138,
            0,
            [0, 0, 0, 3],
            &[&rr_header(0, 0)[..], &pco_match(3, 9), &pco_use(0x80, 0, 0)].concat(),
        ),
        icmp6_msg(
            B6,
            64,
            138,
            0,
            [0, 0, 0, 4],
            &[
                &rr_header(0, 0)[..],
                &pco_match(9, 11),
                &pco_use(0x40, 1, 2),
            ]
            .concat(),
        ),
        icmp6_msg(
            B6,
            64,
            138,
            1,
            [0, 0, 0, 5],
            &[&rr_header(0x08, 0)[..], &[0; 8]].concat(),
        ),
        icmp6_msg(B6, 64, 138, 255, [0xff; 4], &rr_header(0, 0)),
        icmp6_msg(B6, 64, 138, 9, [0, 0, 0, 6], &rr_header(0x20, 0)),
    ]
}

/// The IPv6 mobility header (next header 135, and 62): every message type with options of
/// each kind, a header too short for its type, unknown types and options. `tail` is what
/// the IPv6 payload holds after the header (tcpdump wants the byte after each option).
fn mobility_packets() -> Vec<Vec<u8>> {
    let mh = |next: u8, ty: u8, body: &[u8], tail: &[u8]| {
        let mut m = vec![59, 0, ty, 0, 0, 0];
        m.extend_from_slice(body);
        m.resize(m.len().div_ceil(8) * 8, 0);
        m[1] = (m.len() / 8 - 1) as u8;
        m.extend_from_slice(tail);
        ether(0x86dd, &ipv6(next, A6, B6, &m))
    };
    let cookie = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
    let token = [0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18];
    let altcoa = [&[3u8, 16][..], &A6].concat();
    let opts = [
        &[0u8][..],
        &[1, 1, 0],
        &[2, 2, 0, 15],
        &[4, 4, 0x12, 0x34, 0xab, 0xcd],
        &altcoa,
        &[5, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        &[9, 2, 0xee, 0xff],
    ]
    .concat();
    let bu = |flags: u8, opts: &[u8]| [&[0u8, 7, flags, 0, 0, 10][..], opts].concat();
    vec![
        mh(135, 0, &[0, 0], &[]),
        mh(135, 0, &[0, 0, 2, 2, 0, 3], &[0]),
        mh(135, 1, &[&[0u8, 0][..], &cookie].concat(), &[]),
        mh(135, 2, &[&[0u8, 0][..], &cookie].concat(), &[0]),
        mh(
            135,
            3,
            &[&[0x12u8, 0x34][..], &cookie, &token].concat(),
            &[],
        ),
        mh(135, 4, &[&[0u8, 9][..], &cookie, &token].concat(), &[0]),
        mh(135, 5, &bu(0xf0, &[]), &[]),
        mh(135, 5, &bu(0x90, &opts), &[0]),
        mh(135, 5, &bu(0, &[1, 0, 2, 2, 0, 5]), &[]),
        mh(135, 5, &bu(0x40, &[1, 0, 2, 2, 0, 5]), &[0, 0]),
        mh(62, 5, &bu(0x20, &[1, 4, 0, 0, 0, 0]), &[0]),
        mh(135, 6, &[0, 0x80, 0, 7, 0, 100], &[0]),
        mh(
            135,
            6,
            &[129, 0, 0xff, 0xff, 0xff, 0xff, 4, 4, 0, 1, 0, 2],
            &[0],
        ),
        mh(135, 7, &[&[1u8, 0][..], &B6].concat(), &[]),
        mh(
            135,
            7,
            &[&[2u8, 0][..], &B6, &[0, 0, 5, 1, 0, 0]].concat(),
            &[0],
        ),
        mh(135, 9, &[1, 2, 3, 4], &[]),
        mh(135, 5, &[0, 1], &[]),
        mh(135, 3, &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0], &[]),
        mh(135, 0, &[0, 0, 3, 4, 0, 0], &[0]),
        mh(135, 0, &[0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 5, 2, 0, 0], &[0]),
        mh(135, 0, &[0, 0, 0, 0, 0, 7], &[0]),
    ]
}

/// 802.2 LLC frames to other SAPs than spanning tree: SNAP with OUI 0 and IPv4, IPv6 or ARP
/// inside, RFC 948 IP (SAP 6), and unnumbered frames tcpdump prints generically (NetBEUI,
/// SNA, unknown SAPs, SNAP and STP frames that are not UI, XID with its format byte).
fn llc_packets() -> Vec<Vec<u8>> {
    let dst = [1, 0x80, 0xc2, 0, 0, 0];
    let snap = |et: u16| {
        let mut h = vec![0xaa, 0xaa, 3, 0, 0, 0];
        h.extend_from_slice(&et.to_be_bytes());
        h
    };
    let v4 = inner_v4_udp();
    let v6 = inner_v6_udp();
    let arp = inner_arp();
    vec![
        llc_frame(dst, &snap(0x0800), &v4, 0),
        llc_frame(dst, &snap(0x86dd), &v6, 0),
        llc_frame(dst, &snap(0x0806), &arp, 0),
        llc_frame(dst, &snap(0x0806), &arp, 10),
        llc_frame(dst, &[6, 6, 3], &v4, 0),
        llc_frame(dst, &[0xf0, 0xf0, 3], &[0xff, 0xef, 0, 0, 0, 0], 20),
        llc_frame(dst, &[0xf0, 0xf1, 0x73], &[], 0),
        llc_frame(dst, &[0x12, 0x34, 3], &[1, 2, 3, 4, 5], 0),
        llc_frame(dst, &[0x34, 0x35, 0xf3], &[1, 2], 0),
        llc_frame(dst, &[4, 5, 0x43], &[], 30),
        llc_frame(dst, &[0x80, 0x20, 0x0f], &[9; 8], 0),
        llc_frame(dst, &[0xaa, 0xaa, 0xbf], &[0x81, 1, 0], 0),
        llc_frame(dst, &[0xaa, 0xab, 0xaf], &[0x82, 1, 0], 0),
        llc_frame(dst, &[0xaa, 0xaa, 0xaf], &[], 0),
        llc_frame(dst, &[0x42, 0x42, 0xe3], &[0; 6], 0),
        llc_frame(dst, &[0x42, 0x43, 0x63], &[], 0),
        llc_frame(dst, &[0x13, 0x12, 0x87], &[1, 2, 3], 0),
        llc_frame(dst, &[0xf0, 0xf0, 0x6f], &[], 0),
        llc_frame(dst, &[0x34, 0x34, 0x27], &[7], 0),
        llc_frame(dst, &[0xf0, 0xf0, 0x04, 0x0b], &[1, 2, 3, 4], 0),
        llc_frame(dst, &[0xf0, 0xf1, 0x0a, 0x07], &[5, 6], 0),
        llc_frame(dst, &[0x04, 0x04, 0x01, 0x03], &[], 20),
        llc_frame(dst, &[0x12, 0x13, 0x05, 0xff], &[], 0),
        llc_frame(dst, &[0xaa, 0xaa, 0x09, 0x00], &[], 0),
        llc_frame(dst, &[0x42, 0x42, 0x0d, 0x01], &[0; 4], 0),
        llc_frame(dst, &[0x80, 0x80, 0x00, 0x00], &[0xab], 0),
        llc_frame(dst, &[0, 1, 0xe3], &[], 0),
        llc_frame(dst, &[0x4e, 0x7e, 0x03], &[1], 0),
        llc_frame(dst, &[0x0e, 0x8f, 0x03], &[1, 2], 0),
        llc_frame(dst, &[0x02, 0x03, 0x03], &[], 0),
        llc_frame(dst, &[0xe0, 0xe0, 0x63], &[1, 2, 3], 0),
        llc_frame(dst, &[0xfe, 0xfe, 0x02, 0x04], &[0x83, 0x1b], 0),
        llc_frame(dst, &[0xfe, 0xfe, 0x43], &[], 0),
        llc_frame(dst, &[0x56, 0x56, 0x03], &[7; 4], 0),
        llc_frame(dst, &snap(0x1234), &[0; 10], 0),
        llc_frame(dst, &snap(0x88b5), &[1, 2, 3], 20),
        llc_frame(
            dst,
            &[0xaa, 0xaa, 3, 0x00, 0x12, 0x0f, 0x00, 0x01],
            &[1, 2, 3, 4],
            0,
        ),
        llc_frame(dst, &[0xaa, 0xaa, 3, 0x00, 0x50, 0xc2, 0xab, 0xcd], &[], 0),
        llc_frame(dst, &[0xab, 0xaa, 3, 0x12, 0x34, 0x56, 0x08, 0x00], &v4, 0),
    ]
}

/// UDP port 49152: tcpdump 4.99 reads it as Broadcom's LI shim, before or after the other
/// port printers; each of ours is tried against it.
fn bcm_li_packets() -> Vec<Vec<u8>> {
    let shim = |dir: u32, ty: u32, sub: u32, id: u32| {
        (dir << 29 | ty << 25 | sub << 22 | id).to_be_bytes()
    };
    let with = |s: [u8; 4], inner: &[u8]| [&s[..], inner].concat();
    let dns_q = [header(0x2002, 0x0100, 1, 0, 0), question("a.test", 1, 1)].concat();
    let mut v = vec![
        over_udp(40000, 49152, B, &with(shim(3, 5, 3, 77), &inner_v4_icmp())),
        over_udp(
            49152,
            40000,
            B,
            &with(shim(2, 6, 1, 0x3f_ffff), &inner_v6_udp()),
        ),
        over_udp(
            40000,
            49152,
            B,
            &with(shim(1, 7, 2, 5), &ether(0x0800, &inner_v4_udp())),
        ),
        over_udp(40000, 49152, B, &with(shim(1, 4, 3, 6), &inner_v4_udp())),
        over_udp(40000, 49152, B, &with(shim(1, 4, 3, 6), &inner_v6_udp())),
        over_udp(40000, 49152, B, &with(shim(0, 4, 0, 7), b"\x11 neither")),
        over_udp(40000, 49152, B, &with(shim(7, 9, 7, 8), b"type 9")),
        over_udp(40000, 49152, B, &shim(1, 4, 3, 9)),
        over_udp(40000, 49152, B, &[1, 2, 3]),
        over_udp(40000, 49152, B, &[]),
        over_udp(49152, 40000, B, &with(shim(3, 5, 3, 77), &inner_v4_icmp())),
        over_udp(
            49152,
            40000,
            B,
            &with(shim(1, 7, 2, 5), &ether(0x0800, &inner_v4_udp())),
        ),
        over_udp(49152, 40000, B, &with(shim(1, 4, 3, 6), &inner_v6_udp())),
        over_udp(49152, 40000, B, &with(shim(0, 4, 0, 7), b"\x11 neither")),
        over_udp(49152, 40000, B, &with(shim(7, 9, 7, 8), b"type 9")),
        over_udp(49152, 40000, B, &shim(1, 4, 3, 9)),
        over_udp(49152, 40000, B, &[1, 2, 3]),
        over_udp(49152, 40000, B, &[]),
    ];
    // Against the other port printers.
    for (port, payload) in [
        (53u16, dns_q.clone()),
        (5353, dns_q.clone()),
        (67, vec![1, 1, 6, 0]),
        (546, vec![1, 0, 0, 1]),
        (514, b"<13>x".to_vec()),
        (3784, vec![0x20, 0xc0, 3, 24]),
        (123, vec![0x23, 0, 6, 0xe9]),
        (4789, vec![8, 0, 0, 0, 0, 0, 1, 0]),
        (4790, vec![0x0c, 0, 0, 1, 0, 0, 1, 0]),
        (6081, vec![0, 0, 0x65, 0x58, 0, 0, 1, 0]),
    ] {
        v.push(over_udp(49152, port, B, &payload));
    }
    v
}

/// An IPv6 extension header (hop-by-hop, destination options, routing): next header, length
/// in 8-octet units after the first 8, the body as given (already a multiple of 8 less 2).
fn ext6(next: u8, body: &[u8]) -> Vec<u8> {
    assert_eq!((body.len() + 2) % 8, 0, "extension header length");
    let mut h = vec![next, ((body.len() + 2) / 8 - 1) as u8];
    h.extend_from_slice(body);
    h
}

/// A fragment header: next header, offset in 8-octet units, more fragments, identification.
fn frag6(next: u8, offset: u16, more: bool, ident: u32) -> Vec<u8> {
    let mut h = vec![next, 0];
    h.extend_from_slice(&((offset << 3) | u16::from(more)).to_be_bytes());
    h.extend_from_slice(&ident.to_be_bytes());
    h
}

/// IPv6 packets with extension headers (tcpdump's print-ip6.c, -frag6, -rt6, -hbhopt/dstopt):
/// hop-by-hop (Pad1, PadN, router alert, jumbo, unknown option), destination options, routing
/// types 0, 2 and 4 (segment routing), first and later fragments, chains, and an unknown
/// next header. The upper layer's checksum is over the final destination, as tcpdump's -vv
/// checks it.
fn ip6_ext_packets() -> Vec<Vec<u8>> {
    const C6: [u8; 16] = [0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3];
    let u = |dst: &[u8]| udp(&A6, dst, 33000, 9999, b"ext-headers");
    let echo6 = {
        let mut m = vec![128, 0, 0, 0, 0, 9, 0, 1];
        m.extend_from_slice(b"ext");
        let mut ph = Vec::new();
        ph.extend_from_slice(&A6);
        ph.extend_from_slice(&B6);
        ph.extend_from_slice(&(m.len() as u32).to_be_bytes());
        ph.extend_from_slice(&[0, 0, 0, 58]);
        let c = checksum(&m, sum16(&ph, 0));
        m[2..4].copy_from_slice(&c.to_be_bytes());
        m
    };
    let v6 = |next: u8, dst: [u8; 16], body: &[u8]| ether(0x86dd, &ipv6(next, A6, dst, body));
    let mut out = vec![
        // Hop-by-hop: router alert (MLD's), PadN.
        v6(0, B6, &[ext6(17, &[5, 2, 0, 0, 1, 0]), u(&B6)].concat()),
        // Pad1s and an unknown option.
        v6(
            0,
            B6,
            &[ext6(17, &[0, 0, 0x3e, 2, 0xab, 0xcd]), u(&B6)].concat(),
        ),
        // Jumbo payload option (its value is not the real length here).
        v6(0, B6, &[ext6(17, &[0xc2, 4, 0, 1, 0, 0]), u(&B6)].concat()),
        // A longer hop-by-hop (two units) with a bad option length inside.
        v6(
            0,
            B6,
            &[
                ext6(17, &[1, 4, 0, 0, 0, 0, 5, 9, 0, 0, 0, 0, 0, 0]),
                u(&B6),
            ]
            .concat(),
        ),
        // Destination options, then ICMPv6.
        v6(
            60,
            B6,
            &[ext6(58, &[1, 4, 0, 0, 0, 0]), echo6.clone()].concat(),
        ),
        // Hop-by-hop, then destination options, then UDP.
        v6(
            0,
            B6,
            &[
                ext6(60, &[1, 4, 0, 0, 0, 0]),
                ext6(17, &[1, 4, 0, 0, 0, 0]),
                u(&B6),
            ]
            .concat(),
        ),
        // Routing type 0 through C6 to B6 (segments left 1): the checksum is over B6.
        v6(
            43,
            C6,
            &[ext6(17, &[&[0, 1, 0, 0, 0, 0][..], &B6].concat()), u(&B6)].concat(),
        ),
        // Routing type 2 (mobile IPv6 home address).
        v6(
            43,
            B6,
            &[ext6(17, &[&[2, 1, 0, 0, 0, 0][..], &B6].concat()), u(&B6)].concat(),
        ),
        // Segment routing (type 4): two segments, last entry 1, tag.
        v6(
            43,
            C6,
            &[
                ext6(17, &[&[4, 1, 1, 0, 0, 7][..], &B6, &C6].concat()),
                u(&B6),
            ]
            .concat(),
        ),
        // Routing, segments left 0, an unknown type.
        v6(43, B6, &[ext6(17, &[0xfe, 0, 0, 0, 0, 0]), u(&B6)].concat()),
        // Fragments: the first (with UDP), a later one, the last.
        v6(44, B6, &[frag6(17, 0, true, 0x1234_5678), u(&B6)].concat()),
        v6(
            44,
            B6,
            &[frag6(17, 2, true, 0x1234_5678), vec![0xaa; 16]].concat(),
        ),
        v6(
            44,
            B6,
            &[frag6(17, 4, false, 0x1234_5678), vec![0xbb; 8]].concat(),
        ),
        // A fragment after a hop-by-hop header, ICMPv6 inside.
        v6(
            0,
            B6,
            &[
                ext6(44, &[1, 4, 0, 0, 0, 0]),
                frag6(58, 0, true, 7),
                echo6.clone(),
            ]
            .concat(),
        ),
        // No next header (59) and an unknown protocol.
        v6(59, B6, &[]),
        v6(60, B6, &[ext6(59, &[1, 4, 0, 0, 0, 0])].concat()),
        v6(
            0,
            B6,
            &[ext6(253, &[1, 4, 0, 0, 0, 0]), vec![1, 2, 3, 4]].concat(),
        ),
        // A header whose length runs past the packet.
        v6(0, B6, &[vec![17, 6], vec![1, 4, 0, 0, 0, 0]].concat()),
    ];
    // TCP after a hop-by-hop header (tcpdump prints its ports only), a SYN with options.
    let mut t = tcp_to(443, &[2, 4, 5, 0xb4], 0x02, b"");
    let seg = t.split_off(14 + 20);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&A6);
    pseudo.extend_from_slice(&B6);
    pseudo.extend_from_slice(&(seg.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 6]);
    let mut seg6 = seg.clone();
    seg6[16..18].copy_from_slice(&[0, 0]);
    let c = checksum(&seg6, sum16(&pseudo, 0));
    seg6[16..18].copy_from_slice(&c.to_be_bytes());
    out.push(v6(
        0,
        B6,
        &[ext6(6, &[1, 4, 0, 0, 0, 0]), seg6.clone()].concat(),
    ));
    // TCP behind a routing header whose final destination is B6.
    out.push(v6(
        43,
        C6,
        &[ext6(6, &[&[0, 1, 0, 0, 0, 0][..], &B6].concat()), seg6].concat(),
    ));
    // Routing type 0 with an odd length; two jumbo options; a jumbogram (payload length 0)
    // with a valid jumbo option, and one without any.
    out.push(v6(
        43,
        B6,
        &[
            ext6(17, &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            u(&B6),
        ]
        .concat(),
    ));
    out.push(v6(
        0,
        B6,
        &[
            ext6(17, &[0xc2, 4, 0, 1, 0, 0, 0xc2, 4, 0, 2, 0, 0, 1, 0]),
            u(&B6),
        ]
        .concat(),
    ));
    let body = [ext6(17, &[0xc2, 4, 0, 1, 0, 0]), u(&B6)].concat();
    let mut jumbo = v6(0, B6, &body);
    jumbo[14 + 4..14 + 6].copy_from_slice(&[0, 0]);
    jumbo[14 + 40 + 4..14 + 40 + 8].copy_from_slice(&(body.len() as u32).to_be_bytes());
    // (A valid jumbogram, 65,536 bytes or more, is left out: tcpdump prints how many bytes
    // its wire length misses, and our printers do not see the wire length at the IP layer.)
    out.push(jumbo);
    let mut no_jumbo = v6(0, B6, &[ext6(17, &[1, 4, 0, 0, 0, 0]), u(&B6)].concat());
    no_jumbo[14 + 4..14 + 6].copy_from_slice(&[0, 0]);
    out.push(no_jumbo);
    // A jumbo option in destination options (not a hop-by-hop option there).
    out.push(v6(
        60,
        B6,
        &[ext6(17, &[0xc2, 4, 0, 1, 0, 0]), u(&B6)].concat(),
    ));
    // A payload length shorter than the extension chain.
    let mut short = v6(0, B6, &[ext6(17, &[1, 4, 0, 0, 0, 0]), u(&B6)].concat());
    short[14 + 4..14 + 6].copy_from_slice(&4u16.to_be_bytes());
    out.push(short);
    out
}

/// TCP's flag bits, ECN's among them: ECE and CWR (RFC 3168), and the bit AccECN calls AE
/// (the old NS), alone and with the others, on SYNs and data.
fn tcp_flag_packets() -> Vec<Vec<u8>> {
    let with_ae = |mut f: Vec<u8>| {
        f[14 + 20 + 12] |= 1;
        f
    };
    let mut out = Vec::new();
    for flags in [
        0x02u8, 0x42, 0xc2, 0x52, 0x12, 0x10, 0x50, 0x90, 0xd0, 0x18, 0x19, 0x04, 0x14, 0x21, 0x3f,
        0xff, 0x00, 0x80, 0x40,
    ] {
        let payload: &[u8] = if flags & 0x08 != 0 { b"data" } else { b"" };
        out.push(tcp_to(5001, &[], flags, payload));
    }
    for flags in [0x02u8, 0xc2, 0x12, 0x52, 0x10, 0x00] {
        out.push(with_ae(tcp_to(5001, &[], flags, b"")));
    }
    out
}

/// An SCTP chunk: type, flags, body (the length field counts the body, padding follows).
fn sctp_chunk(ty: u8, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut c = vec![ty, flags];
    c.extend_from_slice(&((4 + body.len()) as u16).to_be_bytes());
    c.extend_from_slice(body);
    while c.len() % 4 != 0 {
        c.push(0);
    }
    c
}

/// An SCTP packet 198.18.0.1.5000 > 198.18.0.2.6000 (tcpdump does not check its CRC32c).
fn sctp_packet(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut s = vec![
        0x13, 0x88, 0x17, 0x70, 0, 0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
    ];
    for c in chunks {
        s.extend_from_slice(c);
    }
    ether(0x0800, &V4::new(132, A, B).build(&s))
}

fn sctp_data(flags: u8, tsn: u32, ppid: u32, payload: &[u8]) -> Vec<u8> {
    let mut d = tsn.to_be_bytes().to_vec();
    d.extend_from_slice(&[0, 1, 0, 7]);
    d.extend_from_slice(&ppid.to_be_bytes());
    d.extend_from_slice(payload);
    sctp_chunk(0, flags, &d)
}

/// An M3UA message: version 1, class, type, the length, then the parameters.
fn m3ua(class: u8, ty: u8, params: &[u8]) -> Vec<u8> {
    let mut m = vec![1, 0, class, ty];
    m.extend_from_slice(&((8 + params.len()) as u32).to_be_bytes());
    m.extend_from_slice(params);
    m
}

fn sctp_packets() -> Vec<Vec<u8>> {
    let init_body = |tag: u32| {
        let mut b = tag.to_be_bytes().to_vec();
        b.extend_from_slice(&[0, 1, 0, 0, 0, 10, 0xff, 0xff, 0, 0, 0, 1]);
        b
    };
    let mut init = init_body(0x0102_0304);
    // Supported address types (IPv4, IPv6), ECN capable.
    init.extend_from_slice(&[0, 0x0c, 0, 8, 0, 5, 0, 6, 0x80, 0, 0, 4]);
    let mut init_ack = init_body(0x0a0b_0c0d);
    // A state cookie.
    init_ack.extend_from_slice(&[0, 7, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8]);
    let mut sack = 100u32.to_be_bytes().to_vec();
    sack.extend_from_slice(&[0, 1, 0, 0, 0, 2, 0, 1]);
    sack.extend_from_slice(&[0, 2, 0, 3, 0, 6, 0, 9]);
    sack.extend_from_slice(&98u32.to_be_bytes());
    let rc = [0, 6, 0, 8, 0, 0, 0, 5];
    let proto_data = [
        &[2u8, 0x10, 0, 16][..],
        &[0, 0, 0, 1, 0, 0, 0, 2, 3, 2, 0, 5],
    ]
    .concat();
    let heartbeat = [0, 1, 0, 12, 0xca, 0xfe, 0, 0, 0, 0, 0, 1];
    let v6 = {
        let mut s = vec![0x13, 0x88, 0x17, 0x70, 0, 0, 0, 0, 0, 0, 0, 0];
        s.extend_from_slice(&sctp_chunk(1, 0, &init_body(9)));
        ether(0x86dd, &ipv6(132, A6, B6, &s))
    };
    // An ICMP port unreachable quoting an INIT (-v prints the quoted packet, SCTP too).
    let quoted = {
        let init = sctp_packet(&[sctp_chunk(1, 0, &init_body(3))]);
        let q = &init[14..];
        let m = icmp_msg(3, 3, [0; 4], q);
        ether(0x0800, &V4::new(1, B, A).build(&m))
    };
    vec![
        quoted,
        sctp_packet(&[sctp_chunk(1, 0, &init)]),
        sctp_packet(&[sctp_chunk(2, 0, &init_ack)]),
        sctp_packet(&[sctp_chunk(0x0a, 0, &[1, 2, 3, 4, 5, 6, 7, 8])]),
        sctp_packet(&[sctp_chunk(0x0b, 0, &[])]),
        sctp_packet(&[sctp_data(3, 1, 0, b"hello")]),
        sctp_packet(&[
            sctp_data(4, 2, 46, b"middle fragment."),
            sctp_chunk(3, 0, &sack),
        ]),
        sctp_packet(&[sctp_data(2, 3, 18, b"first"), sctp_data(1, 4, 99, b"last")]),
        // M3UA: ASP Up, a Transfer Data with parameters, an unknown class, a wrong length.
        sctp_packet(&[sctp_data(3, 5, 3, &m3ua(3, 1, &[]))]),
        sctp_packet(&[sctp_data(
            3,
            6,
            3,
            &m3ua(1, 1, &[rc.as_slice(), &proto_data].concat()),
        )]),
        sctp_packet(&[sctp_data(
            3,
            7,
            3,
            &m3ua(4, 9, &[0, 0x11, 0, 8, 0, 0, 0, 1]),
        )]),
        sctp_packet(&[sctp_data(
            3,
            8,
            3,
            &m3ua(7, 1, &[0, 0x77, 0, 6, 1, 2, 0, 0]),
        )]),
        sctp_packet(&[sctp_data(3, 9, 3, &{
            let mut m = m3ua(0, 1, &[0, 0x0d, 0, 8, 0, 1, 0, 2]);
            m[7] = 40;
            m
        })]),
        // M3UA: SSNM with an unknown type, RKM, another version, too short for its header,
        // a parameter shorter than its own header, a parameter running past the message.
        sctp_packet(&[sctp_data(
            3,
            10,
            3,
            &m3ua(2, 99, &[0x02, 0x0b, 0, 8, 0, 0, 0, 9]),
        )]),
        sctp_packet(&[sctp_data(
            3,
            11,
            3,
            &m3ua(9, 2, &[0, 0x13, 0, 8, 0, 0, 0, 0x2a]),
        )]),
        sctp_packet(&[sctp_data(3, 12, 3, &{
            let mut m = m3ua(3, 3, &[]);
            m[0] = 2;
            m
        })]),
        sctp_packet(&[sctp_data(3, 13, 3, &[1, 0, 3, 1, 0])]),
        sctp_packet(&[sctp_data(3, 14, 3, &m3ua(3, 4, &[0, 9, 0, 2, 0, 0, 0, 0]))]),
        sctp_packet(&[sctp_data(3, 15, 3, &m3ua(3, 4, &[0, 9, 0, 32, 0, 0, 0, 0]))]),
        sctp_packet(&[sctp_data(3, 16, 3, &m3ua(3, 4, &[0, 6, 0, 6, 0, 0, 0, 0]))]),
        sctp_packet(&[
            sctp_data(3, 17, 3, &m3ua(3, 4, &[0, 9, 0, 32, 0, 0, 0, 0])),
            sctp_chunk(0x0b, 0, &[]),
        ]),
        sctp_packet(&[
            sctp_data(3, 18, 3, &m3ua(3, 4, &[0, 9, 0, 2, 0, 0, 0, 0])),
            sctp_chunk(0x0b, 0, &[]),
        ]),
        sctp_packet(&[sctp_chunk(3, 0, &sack)]),
        sctp_packet(&[sctp_chunk(4, 0, &heartbeat)]),
        sctp_packet(&[sctp_chunk(5, 0, &heartbeat)]),
        sctp_packet(&[sctp_chunk(6, 1, &[0, 0x0c, 0, 4])]),
        sctp_packet(&[sctp_chunk(7, 0, &100u32.to_be_bytes())]),
        sctp_packet(&[sctp_chunk(8, 0, &[]), sctp_chunk(0x0e, 0, &[])]),
        sctp_packet(&[sctp_chunk(9, 0, &[0, 1, 0, 8, 0, 3, 0, 0])]),
        sctp_packet(&[
            sctp_chunk(0x0c, 0, &5u32.to_be_bytes()),
            sctp_chunk(0x0d, 0, &5u32.to_be_bytes()),
        ]),
        sctp_packet(&[sctp_chunk(0xc0, 0, &200u32.to_be_bytes())]),
        sctp_packet(&[
            sctp_chunk(0xc1, 0, &[0, 0, 0, 1]),
            sctp_chunk(0xc2, 0, &[0, 0, 0, 1]),
        ]),
        // Chunk types tcpdump 4.99 does not name: I-DATA, RE-CONFIG, ASCONF-ACK, 0x81, AUTH.
        sctp_packet(&[
            sctp_chunk(
                0x40,
                3,
                &[0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, b'x'],
            ),
            sctp_chunk(0x82, 0, &[0, 13, 0, 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
        ]),
        sctp_packet(&[
            sctp_chunk(0x80, 0, &[0, 0, 0, 1]),
            sctp_chunk(0x81, 0, &[]),
            sctp_chunk(0x0f, 0, &[0, 1, 0, 0]),
        ]),
        // Damaged: a chunk length under 4, past the packet, trailing bytes, a DATA chunk
        // without payload, an INIT too short, a packet shorter than the common header.
        sctp_packet(&[vec![7, 0, 0, 2]]),
        sctp_packet(&[vec![7, 0, 0, 9, 1, 2, 3, 4]]),
        sctp_packet(&[sctp_chunk(0x0b, 0, &[]), vec![0, 0]]),
        sctp_packet(&[sctp_chunk(0, 3, &[0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])]),
        sctp_packet(&[sctp_chunk(1, 0, &[0, 0, 0, 1])]),
        ether(
            0x0800,
            &V4::new(132, A, B).build(&[0x13, 0x88, 0x17, 0x70, 0, 0, 0, 1]),
        ),
        v6,
    ]
}

/// A BER element: tag, length (short or long form), content.
fn ber(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut e = vec![tag];
    match content.len() {
        n if n < 128 => e.push(n as u8),
        n if n < 256 => e.extend_from_slice(&[0x81, n as u8]),
        n => e.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    e.extend_from_slice(content);
    e
}

fn ber_int(tag: u8, v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut i = 0;
    while i < 7 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    ber(tag, &b[i..])
}

fn ber_oid(arcs: &[u32]) -> Vec<u8> {
    let mut c = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &a in &arcs[2..] {
        let mut parts = vec![(a & 0x7f) as u8];
        let mut v = a >> 7;
        while v > 0 {
            parts.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        parts.reverse();
        c.extend_from_slice(&parts);
    }
    ber(6, &c)
}

fn varbinds(vbs: &[(&[u32], Vec<u8>)]) -> Vec<u8> {
    let body: Vec<u8> = vbs
        .iter()
        .flat_map(|(oid, v)| ber(0x30, &[ber_oid(oid), v.clone()].concat()))
        .collect();
    ber(0x30, &body)
}

/// A request-style PDU: request ID, error status and index, the variable bindings.
fn snmp_pdu(tag: u8, id: i64, status: i64, index: i64, vbs: &[(&[u32], Vec<u8>)]) -> Vec<u8> {
    ber(
        tag,
        &[
            ber_int(2, id),
            ber_int(2, status),
            ber_int(2, index),
            varbinds(vbs),
        ]
        .concat(),
    )
}

/// An SNMPv1/v2c message (version 0/1) with a community.
fn snmp_msg(version: i64, community: &[u8], pdu: &[u8]) -> Vec<u8> {
    ber(
        0x30,
        &[ber_int(2, version), ber(4, community), pdu.to_vec()].concat(),
    )
}

/// An SNMPv3 message: msgID 7, max size 65507, `flags`, USM parameters, and the scoped PDU
/// (or whatever `scoped` is, such as an encrypted octet string).
fn snmp_v3(flags: u8, engine: &[u8], boots: i64, user: &[u8], scoped: &[u8]) -> Vec<u8> {
    let header = ber(
        0x30,
        &[
            ber_int(2, 7),
            ber_int(2, 65507),
            ber(4, &[flags]),
            ber_int(2, 3),
        ]
        .concat(),
    );
    let usm = ber(
        0x30,
        &[
            ber(4, engine),
            ber_int(2, boots),
            ber_int(2, 1234),
            ber(4, user),
            ber(4, if flags & 1 != 0 { &[0xaa; 12] } else { &[] }),
            ber(
                4,
                if flags & 2 != 0 {
                    &[0, 0, 0, 1, 0, 0, 0, 2]
                } else {
                    &[]
                },
            ),
        ]
        .concat(),
    );
    ber(
        0x30,
        &[ber_int(2, 3), header, ber(4, &usm), scoped.to_vec()].concat(),
    )
}

fn snmp_packets() -> Vec<Vec<u8>> {
    const SYS_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
    const SYS_UPTIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
    const IF_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1];
    const ENTERPRISE: &[u32] = &[1, 3, 6, 1, 4, 1, 8072, 3, 2, 10];
    const TRAP_OID: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];
    let null = || vec![5, 0];
    let agent = |p: &[u8]| over_udp(40000, 161, B, p);
    let manager = |p: &[u8]| over_udp(161, 40000, B, p);
    let trap = |p: &[u8]| over_udp(40001, 162, B, p);
    let v1_trap = |generic: i64, specific: i64| {
        ber(
            0xa4,
            &[
                ber_oid(ENTERPRISE),
                ber(0x40, &[198, 18, 0, 1]),
                ber_int(2, generic),
                ber_int(2, specific),
                ber_int(0x43, 123_456),
                varbinds(&[(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 3], ber_int(2, 3))]),
            ]
            .concat(),
        )
    };
    let scoped = |engine: &[u8], pdu: &[u8]| {
        ber(0x30, &[ber(4, engine), ber(4, b""), pdu.to_vec()].concat())
    };
    let engine = [0x80, 0, 0x1f, 0x88, 0x80, 0x12, 0x34, 0x56, 0x78];
    let mut extra = snmp_msg(
        0,
        b"public",
        &snmp_pdu(0xa0, 1, 0, 0, &[(SYS_DESCR, null())]),
    );
    extra.push(0);
    vec![
        agent(&snmp_msg(
            0,
            b"public",
            &snmp_pdu(0xa0, 4660, 0, 0, &[(SYS_DESCR, null())]),
        )),
        agent(&snmp_msg(
            0,
            b"private",
            &snmp_pdu(0xa1, 2, 0, 0, &[(SYS_DESCR, null()), (IF_DESCR, null())]),
        )),
        manager(&snmp_msg(
            0,
            b"public",
            &snmp_pdu(
                0xa2,
                4660,
                0,
                0,
                &[
                    (SYS_DESCR, ber(4, b"Linux box 6.18")),
                    (SYS_UPTIME, ber_int(0x43, 98_765_432)),
                    (
                        &[1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1],
                        ber_int(0x41, 4_000_000_000),
                    ),
                    (
                        &[1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 1],
                        ber_int(0x42, 1_000_000_000),
                    ),
                    (
                        &[1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 1],
                        ber(0x40, &[198, 18, 0, 9]),
                    ),
                    (&[1, 3, 6, 1, 2, 1, 1, 2, 0], ber_oid(ENTERPRISE)),
                    (
                        &[1, 3, 6, 1, 2, 1, 2, 2, 1, 6, 1],
                        ber(4, &[2, 0, 0, 0, 0, 0x0b]),
                    ),
                    (&[1, 3, 6, 1, 2, 1, 1, 7, 0], ber_int(2, -5)),
                    (&[1, 3, 6, 1, 2, 1, 1, 8, 0], ber(1, &[0xff])),
                    (&[1, 3, 6, 1, 2, 1, 1, 9, 0], ber(0x44, &[1, 2])),
                ],
            ),
        )),
        agent(&snmp_msg(
            0,
            b"private",
            &snmp_pdu(
                0xa3,
                3,
                0,
                0,
                &[(&[1, 3, 6, 1, 2, 1, 1, 6, 0], ber(4, b"lab"))],
            ),
        )),
        manager(&snmp_msg(
            0,
            b"public",
            &snmp_pdu(0xa2, 3, 2, 1, &[(SYS_DESCR, null())]),
        )),
        manager(&snmp_msg(
            0,
            b"public",
            &snmp_pdu(0xa2, 3, 25, 0, &[(SYS_DESCR, null())]),
        )),
        manager(&snmp_msg(
            0,
            b"public",
            &snmp_pdu(0xa2, 3, 0, 2, &[(SYS_DESCR, null())]),
        )),
        trap(&snmp_msg(0, b"public", &v1_trap(2, 0))),
        trap(&snmp_msg(0, b"traps", &v1_trap(6, 17))),
        trap(&snmp_msg(0, b"public", &v1_trap(9, 4))),
        // SNMPv2c: GetBulk, a response with exceptions and a Counter64, V2Trap, Inform.
        agent(&snmp_msg(
            1,
            b"public",
            &snmp_pdu(0xa5, 9, 0, 10, &[(IF_DESCR, null())]),
        )),
        manager(&snmp_msg(
            1,
            b"public",
            &snmp_pdu(
                0xa2,
                9,
                0,
                0,
                &[
                    (IF_DESCR, vec![0x80, 0]),
                    (SYS_DESCR, vec![0x81, 0]),
                    (SYS_UPTIME, vec![0x82, 0]),
                    (
                        &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1],
                        ber_int(0x46, 1 << 40),
                    ),
                ],
            ),
        )),
        trap(&snmp_msg(
            1,
            b"public",
            &snmp_pdu(
                0xa7,
                11,
                0,
                0,
                &[
                    (SYS_UPTIME, ber_int(0x43, 500)),
                    (TRAP_OID, ber_oid(ENTERPRISE)),
                ],
            ),
        )),
        trap(&snmp_msg(
            1,
            b"public",
            &snmp_pdu(0xa6, 12, 0, 0, &[(SYS_UPTIME, ber_int(0x43, 7))]),
        )),
        agent(&snmp_msg(
            1,
            b"public",
            &snmp_pdu(0xa0, 13, 1, 0, &[(SYS_DESCR, ber_int(2, 1))]),
        )),
        // SNMPv3: discovery (noAuthNoPriv, reportable), the agent's report, authPriv.
        agent(&snmp_v3(
            4,
            b"",
            0,
            b"",
            &scoped(b"", &snmp_pdu(0xa0, 21, 0, 0, &[])),
        )),
        manager(&snmp_v3(
            0,
            &engine,
            3,
            b"",
            &scoped(
                &engine,
                &snmp_pdu(
                    0xa8,
                    21,
                    0,
                    0,
                    &[(&[1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0], ber_int(0x41, 1))],
                ),
            ),
        )),
        agent(&snmp_v3(
            5,
            &engine,
            3,
            b"admin",
            &scoped(&engine, &snmp_pdu(0xa0, 22, 0, 0, &[(SYS_DESCR, null())])),
        )),
        agent(&snmp_v3(7, &engine, 3, b"admin", &ber(4, &[0x5a; 24]))),
        // Damaged: an unknown version, PDUs of the other version, a bad msgFlags, a byte
        // after the message, a datagram that is no message, a long-form length.
        agent(&snmp_msg(5, b"public", &snmp_pdu(0xa0, 1, 0, 0, &[]))),
        trap(&snmp_msg(0, b"public", &snmp_pdu(0xa7, 1, 0, 0, &[]))),
        trap(&snmp_msg(1, b"public", &v1_trap(0, 0))),
        agent(&snmp_v3(
            2,
            b"",
            0,
            b"",
            &scoped(b"", &snmp_pdu(0xa0, 21, 0, 0, &[])),
        )),
        agent(&extra),
        agent(b"hello, agent"),
        agent(&{
            let inner = snmp_msg(
                0,
                b"public",
                &snmp_pdu(0xa0, 1, 0, 0, &[(SYS_DESCR, null())]),
            );
            [vec![0x30, 0x81, inner.len() as u8 - 2], inner[2..].to_vec()].concat()
        }),
    ]
}

/// A slow-protocols frame (EtherType 0x8809) to 01:80:c2:00:00:02.
fn slow_frame(pdu: &[u8]) -> Vec<u8> {
    let mut f = vec![
        0x01, 0x80, 0xc2, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x0a, 0x88, 0x09,
    ];
    f.extend_from_slice(pdu);
    f
}

/// An LACP actor or partner TLV.
fn lacp_info(ty: u8, prio: u16, sys: [u8; 6], key: u16, port: u16, state: u8) -> Vec<u8> {
    let mut t = vec![ty, 20];
    t.extend_from_slice(&prio.to_be_bytes());
    t.extend_from_slice(&sys);
    t.extend_from_slice(&key.to_be_bytes());
    t.extend_from_slice(&0x00ffu16.to_be_bytes());
    t.extend_from_slice(&port.to_be_bytes());
    t.extend_from_slice(&[state, 0, 0, 0]);
    t
}

fn slow_packets() -> Vec<Vec<u8>> {
    let actor = lacp_info(1, 32768, [2, 0, 0, 0, 0, 0x0a], 13, 1, 0x3d);
    let partner = lacp_info(2, 65535, [2, 0, 0, 0, 0, 0x0b], 0, 0, 0xc2);
    let collector = [&[3u8, 16, 0, 50][..], &[0; 12]].concat();
    let lacp = [
        &[1u8, 1][..],
        &actor,
        &partner,
        &collector,
        &[0, 0],
        &[0; 50],
    ]
    .concat();
    let marker_info = |ty: u8| {
        [
            &[ty, 16, 0, 7][..],
            &[2, 0, 0, 0, 0, 0x0a],
            &0x1234_5678u32.to_be_bytes(),
            &[0, 0],
        ]
        .concat()
    };
    let marker = [&[2u8, 1][..], &marker_info(1), &[0, 0], &[0; 90]].concat();
    let marker_resp = [&[2u8, 1][..], &marker_info(2), &[0, 0], &[0; 90]].concat();
    let oam_info = |ty: u8, oui: [u8; 3]| {
        [
            &[ty, 16, 1, 0, 2, 0x05, 0x1d, 0x05, 0xee][..],
            &oui,
            &0x1234_5678u32.to_be_bytes(),
        ]
        .concat()
    };
    let oam = |flags: u16, code: u8, data: &[u8]| {
        [&[3u8][..], &flags.to_be_bytes(), &[code], data].concat()
    };
    let info = oam(
        0x0050,
        0,
        &[
            oam_info(1, [0, 0, 0]),
            oam_info(2, [0, 0x12, 0x0f]),
            vec![0xfe, 6, 0x00, 0x90, 0x69, 0x42],
            vec![0, 0],
        ]
        .concat(),
    );
    let mut event = vec![2, 40, 0, 10];
    for v in [1_000_000u64, 1, 17, 1234] {
        event.extend_from_slice(&v.to_be_bytes());
    }
    event.extend_from_slice(&3u32.to_be_bytes());
    let notif = oam(
        0x0001,
        1,
        &[&[0u8, 5][..], &event, &[0xfe, 4, 1, 2], &[0, 0]].concat(),
    );
    let mut bad_actor = lacp.clone();
    bad_actor[3] = 18;
    let mut short_tlv = lacp.clone();
    short_tlv[3] = 1;
    vec![
        slow_frame(&lacp),
        // 802.1Q-tagged, and QinQ.
        {
            let mut f = slow_frame(&lacp);
            f.splice(12..12, [0x81, 0, 0, 10]);
            f
        },
        {
            let mut f = slow_frame(&marker);
            f.splice(12..12, [0x88, 0xa8, 0x20, 5, 0x81, 0, 0, 10]);
            f
        },
        slow_frame(&marker),
        slow_frame(&marker_resp),
        slow_frame(&info),
        slow_frame(&notif),
        // Information TLVs naming other organisations (tcpdump's OUI table), one unknown.
        slow_frame(&oam(
            0x0008,
            0,
            &[
                oam_info(1, [0, 0x23, 0x20]),
                oam_info(2, [0x00, 0x10, 0x18]),
                oam_info(2, [0x12, 0x34, 0x56]),
                vec![0, 0],
            ]
            .concat(),
        )),
        slow_frame(&oam(0, 4, &[1])),
        slow_frame(&oam(0x0002, 2, &[0x07, 0, 0x02])),
        slow_frame(&oam(0, 0x99, &[1, 2, 3])),
        // Damaged: an unknown subtype, another version, TLV lengths that do not fit.
        slow_frame(&[10, 1, 2, 3, 4]),
        slow_frame(&[&[1u8, 2][..], &actor].concat()),
        slow_frame(&bad_actor),
        slow_frame(&short_tlv),
        slow_frame(&[&[1u8, 1][..], &actor[..12]].concat()),
        slow_frame(&oam(0x7f, 0, &[1, 15, 1, 0, 2])),
    ]
}

/// QUIC (RFC 9000) on UDP 443: tcpdump 4.99 has no QUIC printer and prints plain UDP.
fn quic_packets() -> Vec<Vec<u8>> {
    let cid = |b: u8| vec![8, b, b, b, b, b, b, b, b];
    // Long header: Initial, Handshake (version 1), and a version negotiation (version 0).
    let long = |first: u8, version: u32, rest: &[u8]| {
        [
            &[first][..],
            &version.to_be_bytes(),
            &cid(0x11),
            &cid(0x22),
            rest,
        ]
        .concat()
    };
    let initial = long(
        0xc3,
        1,
        &[&[0u8, 0x40, 0x24, 0, 0, 0, 1][..], &[0x5a; 32]].concat(),
    );
    let handshake = long(0xe1, 1, &[&[0x40u8, 0x14, 0, 2][..], &[0x6b; 18]].concat());
    let vneg = long(0x80, 0, &[0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf]);
    // Short header (1-RTT): the destination connection ID, a packet number, payload.
    let short = [&[0x43u8][..], &[0x22; 8], &[0, 0, 0, 9], &[0x7c; 24]].concat();
    vec![
        over_udp(40000, 443, B, &initial),
        over_udp(443, 40000, B, &handshake),
        over_udp(443, 40000, B, &vneg),
        over_udp(40000, 443, B, &short),
    ]
}

/// CARP (IP protocol 112, like VRRP): tcpdump 4.99 prints it with its VRRP printer unless
/// `-T carp` is given, and so do we.
fn carp_packets() -> Vec<Vec<u8>> {
    let carp = |vhid: u8, advskew: u8, demote: u8, fix: bool| {
        let mut m = vec![0x21, vhid, advskew, 7, demote, 1, 0, 0];
        m.extend_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
        m.extend_from_slice(&[0xa5; 20]);
        if fix {
            let c = checksum(&m, 0);
            m[6..8].copy_from_slice(&c.to_be_bytes());
        }
        let ip = V4 {
            ttl: 255,
            ..V4::new(112, A, [224, 0, 0, 18])
        };
        ether(0x0800, &ip.build(&m))
    };
    vec![
        carp(1, 0, 0, true),
        carp(7, 100, 1, true),
        carp(200, 0, 0, false),
    ]
}

/// ERSPAN type II (GRE protocol 0x88be) and type III (0x22eb): tcpdump 4.99 does not decode
/// them (`gre-proto-0x88be`), nor do we.
fn erspan_packets() -> Vec<Vec<u8>> {
    let inner = ether(0x0800, &inner_v4_icmp());
    let type2 = [&[0x10u8, 0x0a, 0, 7, 0, 0, 0, 3][..], &inner].concat();
    let type3 = [
        &[0x20u8, 0x0a, 0, 7][..],
        &0x1234_5678u32.to_be_bytes(),
        &[0, 0, 0, 0],
        &inner,
    ]
    .concat();
    vec![
        gre(0x1000, 0x88be, &[0, 0, 0, 5], &type2),
        gre(0, 0x88be, &[], &type2),
        gre(0x1000, 0x22eb, &[0, 0, 0, 6], &type3),
    ]
}

fn ours(opts: RenderOptions, packets: &[(Vec<u8>, usize)]) -> Vec<String> {
    let mut r = Renderer::new(opts);
    packets
        .iter()
        .enumerate()
        .map(|(i, (p, caplen))| {
            let mut out = Vec::new();
            let pkt = PacketRef {
                ts_ns: (i as u64 + 1) * 1_000_000_000,
                link_type: 1,
                data: &p[..*caplen],
                orig_len: p.len() as u32,
                interface: None,
                direction: None,
            };
            r.render(&mut out, &pkt, None);
            String::from_utf8(out).unwrap()
        })
        .collect()
}

#[test]
fn printers_match_tcpdump_on_crafted_packets_and_every_truncation() {
    require_tcpdump();
    let dir = TempDir::new("printers-diff");
    let families: [(&str, Vec<Vec<u8>>); 35] = [
        ("igmp", igmp_packets()),
        ("ip-options", ip_option_packets()),
        ("vxlan", vxlan_packets()),
        ("geneve", geneve_packets()),
        ("gre", gre_packets()),
        ("ipip", ipip_packets()),
        ("ntp", ntp_packets()),
        ("mdns", mdns_packets()),
        ("dns", dns_packets()),
        ("dhcp", dhcp_packets()),
        ("dhcp6", dhcp6_packets()),
        ("syslog", syslog_packets()),
        ("bfd", bfd_packets()),
        ("wireguard", wireguard_packets()),
        ("vrrp", vrrp_packets()),
        ("stp", stp_packets()),
        ("llc", llc_packets()),
        ("lldp", lldp_packets()),
        ("tcp-options", tcp_option_packets()),
        ("resp", resp_packets()),
        ("icmp", icmp_packets()),
        ("icmp-ext", icmp_ext_packets()),
        ("icmp6", icmp6_packets()),
        ("icmp6-info", icmp6_info_packets()),
        ("mobility", mobility_packets()),
        ("bcm-li", bcm_li_packets()),
        ("ip6-ext", ip6_ext_packets()),
        ("tcp-flags", tcp_flag_packets()),
        ("dns-tcp", dns_tcp_packets()),
        ("sctp", sctp_packets()),
        ("snmp", snmp_packets()),
        ("slow", slow_packets()),
        ("quic", quic_packets()),
        ("carp", carp_packets()),
        ("erspan", erspan_packets()),
    ];
    // The fuzz corpus holds the same packets (formats' render_props cuts and flips them).
    let whole: Vec<(Vec<u8>, usize)> = families
        .iter()
        .flat_map(|(_, ps)| ps.iter().map(|p| (p.clone(), p.len())))
        .collect();
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/printers/crafted-printers.pcap");
    if std::env::var_os("PTCAP_WRITE_CORPUS").is_some() {
        std::fs::write(&corpus, pcap_bytes(&whole)).unwrap();
    }
    assert!(
        std::fs::read(&corpus).ok() == Some(pcap_bytes(&whole)),
        "{} is not this test's packets: run it with PTCAP_WRITE_CORPUS=1 and commit the file",
        corpus.display()
    );
    let flag_sets: [(&[&str], RenderOptions); 5] = [
        (&[], RenderOptions::default()),
        (
            &["-v"],
            RenderOptions {
                verbose: 1,
                ..RenderOptions::default()
            },
        ),
        (
            &["-vv"],
            RenderOptions {
                verbose: 2,
                ..RenderOptions::default()
            },
        ),
        (
            &["-q"],
            RenderOptions {
                quiet: true,
                ..RenderOptions::default()
            },
        ),
        (
            &["-e"],
            RenderOptions {
                link_header: true,
                ..RenderOptions::default()
            },
        ),
    ];
    let mut failures = Vec::new();
    let show = show_limit();
    // PTCAP_DIFF_ONLY=a,b compares those protocols only (while working on a printer).
    let only = std::env::var("PTCAP_DIFF_ONLY").ok();
    for (name, packets) in &families {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|n| n == *name))
        {
            continue;
        }
        // Whole packets first, then every cut of each.
        let mut all: Vec<(Vec<u8>, usize)> = packets.iter().map(|p| (p.clone(), p.len())).collect();
        let whole = all.len();
        for p in packets {
            // libpcap refuses a record of caplen 0 (and stops reading there).
            for cut in 1..p.len() {
                all.push((p.clone(), cut));
            }
        }
        let file = dir.path().join(format!("{name}.pcap"));
        std::fs::write(&file, pcap_bytes(&all)).unwrap();
        for (flags, opts) in &flag_sets {
            let expected = split_packets(&text_of(
                Path::new("tcpdump"),
                &["-nn", "-tt"],
                flags,
                &["-r"],
                &file,
            ));
            let got = ours(
                RenderOptions {
                    timestamp: TimestampMode::Epoch,
                    ..*opts
                },
                &all,
            );
            let d = diff_packets(name, flags, &all, whole, &expected, &got, show);
            println!(
                "{name:<11} {:<6} whole {}/{whole}, cut {}/{}",
                format!("{flags:?}"),
                d.whole_equal,
                d.cuts_equal,
                d.cuts
            );
            failures.extend(d.shown);
        }
    }
    assert!(
        failures.is_empty(),
        "differences (the first 4 of each protocol and flag set):\n{}",
        failures.join("\n")
    );
}

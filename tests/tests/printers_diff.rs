//! Differential test of the protocol printers against the installed tcpdump, on crafted
//! packets (no traffic): IGMP v1-v3 and IPv4 options, VXLAN(-GPE), Geneve, GRE, IPIP/SIT/IP6IP6,
//! NTP, BOOTP/DHCP, DHCPv6, syslog, BFD, VRRP v2/v3, STP/RSTP/MSTP (802.3 LLC), LLDP, TCP options (MPTCP, TFO...), RESP, ICMP, ICMPv6/ND/MLD, Broadcom LI, mDNS (and LLMNR and WireGuard, which
//! tcpdump 4.99 leaves undecoded), and DNS, whose printer mDNS shares.
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
    let mut o = opts.to_vec();
    while o.len() % 4 != 0 {
        o.push(1);
    }
    let mut t = Vec::new();
    t.extend_from_slice(&40000u16.to_be_bytes());
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
    let families: [(&str, Vec<Vec<u8>>); 22] = [
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
        ("lldp", lldp_packets()),
        ("tcp-options", tcp_option_packets()),
        ("resp", resp_packets()),
        ("icmp", icmp_packets()),
        ("icmp6", icmp6_packets()),
        ("bcm-li", bcm_li_packets()),
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
    for (name, packets) in &families {
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

//! The protocol part of a tcpdump line, from the link layer up (`-nn` always).

use std::collections::HashMap;

use super::text::{tcpdump_char, Out};
use super::RenderOptions;
use crate::pcapng::linktype;
use crate::wire::arp::ArpPacket;
use crate::wire::checksum;
use crate::wire::dns::{walk_name, DnsPacket, NameError};
use crate::wire::ethernet::EthernetFrame;
use crate::wire::icmp::{self, IcmpPacket};
use crate::wire::ipv4::{self, Ipv4Packet};
use crate::wire::ipv6::{is_extension, ExtHeader, Ipv6Packet};
use crate::wire::sll::{Sll2Packet, SllPacket};
use crate::wire::tcp::{self, TcpOption, TcpOptions, TcpPacket};
use crate::wire::udp::{self, UdpPacket};
use crate::wire::{ethertype, get_be16, get_be32, ipproto};

/// Per-connection state for relative TCP sequence numbers, as tcpdump keeps it: one entry
/// per unordered address/port pair, holding the base of each direction.
#[derive(Default)]
pub(crate) struct TcpSeqTable {
    map: HashMap<TcpKey, (u32, u32)>,
}

#[derive(Hash, PartialEq, Eq, Clone, Copy)]
struct TcpKey {
    a: [u8; 16],
    b: [u8; 16],
    ports: u32,
}

/// The network-layer context a transport printer needs.
#[derive(Clone, Copy)]
pub(crate) struct IpCtx<'a> {
    src: &'a [u8],
    dst: &'a [u8],
    v6: bool,
    fragmented: bool,
}

impl IpCtx<'_> {
    fn pseudo(&self, proto: u8, len: usize) -> u32 {
        let len = len as u32;
        if self.v6 {
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(self.src);
            d.copy_from_slice(self.dst);
            checksum::pseudo_v6(s, d, proto, len)
        } else {
            let mut s = [0u8; 4];
            let mut d = [0u8; 4];
            s.copy_from_slice(self.src);
            d.copy_from_slice(self.dst);
            checksum::pseudo_v4(s, d, proto, len)
        }
    }
}

pub(crate) struct Printer<'r> {
    pub out: &'r mut Vec<u8>,
    pub opts: &'r RenderOptions,
    pub tcp: &'r mut TcpSeqTable,
    /// Skip the SLL2 interface/direction columns (the caller prints its own prefix).
    pub sll2_prefix: bool,
}

fn trunc(out: &mut Vec<u8>, proto: &str) {
    out.s(" [|");
    out.s(proto);
    out.s("]");
}

impl Printer<'_> {
    /// Prints the packet; returns the link-layer header length (for `-x` vs `-xx`).
    pub fn link(&mut self, link_type: u16, data: &[u8], orig_len: u32) -> usize {
        let wire_len = orig_len as usize;
        match link_type {
            linktype::ETHERNET => {
                let Ok(eth) = EthernetFrame::new_checked(data) else {
                    self.out.s("[|ether]");
                    return data.len();
                };
                if self.opts.link_header {
                    return self.ethernet_header(data, orig_len);
                }
                let Some((ty, off)) = eth.inner() else {
                    self.out.s("[|vlan]");
                    return data.len();
                };
                if off == 14 && !matches!(ty, ethertype::IPV4 | ethertype::IPV6 | ethertype::ARP) {
                    // tcpdump shows the addresses of a frame it cannot decode, -e or not.
                    return self.ethernet_header(data, orig_len);
                }
                self.ethertype(ty, &data[off..], wire_len.saturating_sub(off), orig_len);
                off
            }
            linktype::LINUX_SLL => {
                let Ok(sll) = SllPacket::new_checked(data) else {
                    self.out.s("[|sll]");
                    return data.len();
                };
                let l = SllPacket::<&[u8]>::HEADER_LEN;
                if self.opts.link_header {
                    let dir: &[u8] = match sll.pkttype() {
                        0 => b"In",
                        1 => b"B",
                        2 => b"M",
                        3 => b"P",
                        4 => b"Out",
                        _ => b"?",
                    };
                    for _ in dir.len()..3 {
                        self.out.c(b' ');
                    }
                    self.out.b(dir);
                    self.out.c(b' ');
                    self.link_addr(sll.addr());
                    self.cooked_type(sll.protocol(), orig_len);
                }
                self.ethertype(
                    sll.protocol(),
                    sll.payload(),
                    wire_len.saturating_sub(l),
                    orig_len,
                );
                l
            }
            linktype::LINUX_SLL2 => {
                let Ok(sll) = Sll2Packet::new_checked(data) else {
                    self.out.s("[|sll2]");
                    return data.len();
                };
                if self.sll2_prefix {
                    let mut name = [0u8; libc::IF_NAMESIZE];
                    // SAFETY: the buffer is IF_NAMESIZE bytes, as if_indextoname requires.
                    let r = unsafe {
                        libc::if_indextoname(sll.ifindex(), name.as_mut_ptr() as *mut libc::c_char)
                    };
                    let n = if r.is_null() {
                        &b"?"[..]
                    } else {
                        let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                        &name[..len]
                    };
                    let mut tmp = Vec::new();
                    tmp.escaped(&String::from_utf8_lossy(n));
                    self.out.pad(&tmp, 5);
                    self.out.c(b' ');
                    let dir: &[u8] = match sll.pkttype() {
                        0 => b"In",
                        1 => b"B",
                        2 => b"M",
                        3 => b"P",
                        4 => b"Out",
                        _ => b"?",
                    };
                    self.out.pad(dir, 3);
                    self.out.c(b' ');
                }
                let l = Sll2Packet::<&[u8]>::HEADER_LEN;
                if self.opts.link_header {
                    self.out.s("ifindex ");
                    self.out.n(sll.ifindex());
                    self.out.c(b' ');
                    self.link_addr(sll.addr());
                    self.cooked_type(sll.protocol(), orig_len);
                }
                self.ethertype(
                    sll.protocol(),
                    sll.payload(),
                    wire_len.saturating_sub(l),
                    orig_len,
                );
                l
            }
            linktype::RAW | linktype::IPV4 | linktype::IPV6 => {
                if self.opts.link_header {
                    self.out.s("ip: ");
                }
                match data.first().map(|b| b >> 4) {
                    Some(4) if link_type != linktype::IPV6 => self.ipv4(data),
                    Some(6) if link_type != linktype::IPV4 => self.ipv6(data),
                    Some(v) => {
                        self.out.s("IP");
                        self.out.n(v);
                        self.out.s(" ");
                        trunc(self.out, "ip");
                    }
                    None => self.out.s("[|ip]"),
                }
                0
            }
            linktype::NULL | linktype::LOOP => {
                let Some(fam) = data.get(..4) else {
                    self.out.s("[|null]");
                    return data.len();
                };
                let fam = if link_type == linktype::LOOP {
                    u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]])
                } else {
                    let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
                    if le & 0xffff_0000 != 0 {
                        le.swap_bytes()
                    } else {
                        le
                    }
                };
                if self.opts.link_header {
                    self.out.s("AF ");
                    self.out.s(match fam {
                        2 => "IPv4",
                        10 | 24 | 28 | 30 => "IPv6",
                        _ => "Unknown",
                    });
                    self.out.s(" (");
                    self.out.n(fam);
                    self.out.s("), length ");
                    self.out.n(orig_len);
                    self.out.s(": ");
                }
                match fam {
                    2 => self.ipv4(&data[4..]),
                    10 | 24 | 28 | 30 => self.ipv6(&data[4..]),
                    _ => {
                        self.out.s("AF ");
                        self.out.n(fam);
                    }
                }
                4
            }
            other => {
                self.out.s("[|link-type ");
                self.out.n(other);
                self.out.s("]");
                0
            }
        }
    }

    /// `-e` on Ethernet: `SRC > DST, ethertype NAME (0xXXXX), length N: ` (VLAN tags as
    /// `vlan V, p P, ethertype ...`; `-q`: the name only), then the payload without its own
    /// protocol label, as tcpdump prints it. Returns the link-layer header length.
    fn ethernet_header(&mut self, data: &[u8], orig_len: u32) -> usize {
        let mut ty = get_be16(data, 12).unwrap_or(0);
        self.out.lladdr(&data[6..12]);
        self.out.s(" > ");
        self.out.lladdr(&data[0..6]);
        self.out.s(", ");
        self.ether_type_name(ty);
        self.out.s(", length ");
        self.out.n(orig_len);
        self.out.s(": ");
        let mut off = 14;
        while ty == ethertype::VLAN || ty == ethertype::QINQ {
            let (Some(tci), Some(inner)) = (get_be16(data, off), get_be16(data, off + 2)) else {
                self.out.s("[|vlan]");
                return data.len();
            };
            self.out.s("vlan ");
            self.out.n(tci & 0x0fff);
            self.out.s(", p ");
            self.out.n(tci >> 13);
            if tci & 0x1000 != 0 {
                self.out.s(", DEI");
            }
            self.out.s(", ");
            ty = inner;
            off += 4;
            if ty > 1500 {
                self.ether_type_name(ty);
                self.out.s(", ");
            }
        }
        let payload = &data[off..];
        match ty {
            ethertype::IPV4 => self.ipv4(payload),
            ethertype::IPV6 => self.ipv6(payload),
            ethertype::ARP => self.arp(payload, (orig_len as usize).saturating_sub(off)),
            _ => self.default_print(payload),
        }
        off
    }

    /// tcpdump's default print of bytes it cannot decode: hex and ASCII, unless -q or a dump
    /// (-x, -X) is asked (`ndo_suppress_default_print`).
    fn default_print(&mut self, payload: &[u8]) {
        if !self.opts.quiet
            && matches!(
                self.opts.dump,
                super::DumpMode::None | super::DumpMode::Ascii
            )
        {
            hex_ascii_dump(self.out, payload, "\n\t");
        }
    }

    /// `ethertype NAME (0xXXXX)`, or `NAME` with `-q` (tcpdump's ether_type_print).
    fn ether_type_name(&mut self, ty: u16) {
        let name = ethertype_name(ty);
        if self.opts.quiet {
            if name == "Unknown" {
                self.out.s("Unknown Ethertype (0x");
                self.out.hex(u32::from(ty), 4);
                self.out.s(")");
            } else {
                self.out.s(name);
            }
        } else {
            self.out.s("ethertype ");
            self.out.s(name);
            self.out.s(" (0x");
            self.out.hex(u32::from(ty), 4);
            self.out.s(")");
        }
    }

    /// A cooked header's link-layer address and a space (`<empty>` when it has none).
    fn link_addr(&mut self, a: &[u8]) {
        if a.is_empty() {
            self.out.s("<empty>");
        } else {
            self.out.lladdr(a);
        }
        self.out.c(b' ');
    }

    /// SLL/SLL2 with `-e`: `ethertype NAME (0xXXXX), length N: ` (nothing with `-q`).
    fn cooked_type(&mut self, ty: u16, orig_len: u32) {
        if self.opts.quiet {
            return;
        }
        if ty > 1500 {
            self.out.s("ethertype ");
            self.out.s(ethertype_name(ty));
            self.out.s(" (0x");
            self.out.hex(u32::from(ty), 4);
            self.out.s("), ");
        }
        self.out.s("length ");
        self.out.n(orig_len);
        self.out.s(": ");
    }

    fn ethertype(&mut self, ty: u16, payload: &[u8], length: usize, frame_len: u32) {
        match ty {
            ethertype::IPV4 => self.ipv4(payload),
            ethertype::IPV6 => self.ipv6(payload),
            ethertype::ARP => self.arp(payload, length),
            _ => {
                self.out.s("ethertype ");
                self.out.s(match ty {
                    0x88cc => "LLDP",
                    0x8035 => "Reverse ARP",
                    0x8847 => "MPLS unicast",
                    0x888e => "EAPOL",
                    _ => "Unknown",
                });
                self.out.s(" (0x");
                self.out.hex(u32::from(ty), 4);
                self.out.s("), length ");
                self.out.n(frame_len);
                self.out.s(": ");
                self.default_print(payload);
            }
        }
    }

    fn arp(&mut self, b: &[u8], length: usize) {
        let Ok(arp) = ArpPacket::new_checked(b) else {
            self.out.s(" [|arp]");
            return;
        };
        let (Some(sha), Some(spa), Some(tha), Some(tpa)) = (
            arp.sender_hw(),
            arp.sender_proto(),
            arp.target_hw(),
            arp.target_proto(),
        ) else {
            self.out.s(" [|arp]");
            return;
        };
        let v = self.opts.verbose > 0;
        if !self.opts.link_header {
            self.out.s("ARP, ");
        }
        let (pro, hlen, plen) = (arp.ptype(), arp.hlen(), arp.plen());
        if (pro != 0x0800 && pro != 0x1000) || plen != 4 || hlen == 0 || v {
            match arp.htype() {
                1 => self.out.s("Ethernet"),
                6 => self.out.s("IEEE 802"),
                h => {
                    self.out.s("Unknown Hardware (");
                    self.out.n(h);
                    self.out.s(")");
                }
            }
            self.out.s(" (len ");
            self.out.n(hlen);
            self.out.s("), ");
            match pro {
                0x0800 => self.out.s("IPv4"),
                0x86dd => self.out.s("IPv6"),
                p => {
                    self.out.s("Unknown Protocol (0x");
                    self.out.hex(u32::from(p), 4);
                    self.out.s(")");
                }
            }
            self.out.s(" (len ");
            self.out.n(plen);
            self.out.s(")");
            if !v {
                self.out.s(", length ");
                self.out.n(length);
                return;
            }
        }
        if v {
            self.out.s(", ");
        }
        let op = arp.oper();
        let paddr = |out: &mut Vec<u8>, a: &[u8]| {
            if pro != 0x0800 && pro != 0x1000 {
                out.s("<wrong proto type>");
            } else if a.len() != 4 {
                out.s("<wrong len>");
            } else {
                out.ipv4(a);
            }
        };
        match op {
            1 => {
                self.out.s("Request who-has ");
                paddr(self.out, tpa);
                if tha.iter().any(|&x| x != 0) {
                    self.out.s(" (");
                    self.out.lladdr(tha);
                    self.out.s(")");
                }
                self.out.s(" tell ");
                paddr(self.out, spa);
            }
            2 => {
                self.out.s("Reply ");
                paddr(self.out, spa);
                self.out.s(" is-at ");
                self.out.lladdr(sha);
            }
            3 => {
                self.out.s("Reverse Request who-is ");
                self.out.lladdr(tha);
                self.out.s(" tell ");
                self.out.lladdr(sha);
            }
            4 => {
                self.out.s("Reverse Reply ");
                self.out.lladdr(tha);
                self.out.s(" at ");
                paddr(self.out, tpa);
            }
            _ => {
                self.out.s("Unknown (");
                self.out.n(op);
                self.out.s(") ");
                hex_ascii_dump(self.out, b, "\n\t");
                return;
            }
        }
        self.out.s(", length ");
        self.out.n(length);
    }

    pub(crate) fn ipv4(&mut self, b: &[u8]) {
        if !self.opts.link_header {
            self.out.s("IP ");
        }
        let Ok(ip) = Ipv4Packet::new_checked(b) else {
            trunc(self.out, "ip");
            return;
        };
        if ip.version() != 4 {
            self.out.s("IP");
            self.out.n(ip.version());
            return;
        }
        let hlen = ip.header_len();
        let total = usize::from(ip.total_len());
        if total < hlen {
            self.out.s("[total length ");
            self.out.n(total);
            self.out.s(" < header length ");
            self.out.n(hlen);
            self.out.s("]");
            return;
        }
        let off = ip.flags_offset();
        let fragmented = off & 0x3fff != 0;
        if self.opts.verbose > 0 {
            self.out.s("(tos 0x");
            self.out.hexn(u32::from(ip.tos()));
            match ip.tos() & 3 {
                1 => self.out.s(",ECT(1)"),
                2 => self.out.s(",ECT(0)"),
                3 => self.out.s(",CE"),
                _ => {}
            }
            if ip.ttl() >= 1 {
                self.out.s(", ttl ");
                self.out.n(ip.ttl());
            }
            self.out.s(", id ");
            self.out.n(ip.ident());
            self.out.s(", offset ");
            self.out.n(ip.frag_offset());
            self.out.s(", flags [");
            let mut any = false;
            for (bit, name) in [
                (ipv4::FLAG_MF, "+"),
                (ipv4::FLAG_DF, "DF"),
                (ipv4::FLAG_RESERVED, "rsvd"),
            ] {
                if off & bit != 0 {
                    if any {
                        self.out.s(", ");
                    }
                    self.out.s(name);
                    any = true;
                }
            }
            if !any {
                self.out.s("none");
            }
            self.out.s("], proto ");
            self.out.s(proto_name(ip.protocol()));
            self.out.s(" (");
            self.out.n(ip.protocol());
            self.out.s("), length ");
            self.out.n(total);
            if hlen > 20 {
                self.out.s(", options (");
                self.ipv4_options(ip.options());
                self.out.s(")");
            }
            if !checksum::verify(0, ip.header()) {
                self.out.s(", bad cksum ");
                self.out.hexn(u32::from(ip.checksum()));
                self.out.s(" (->");
                self.out
                    .hexn(u32::from(checksum::expected(0, ip.header(), 10)));
                self.out.s(")!");
            }
            self.out.s(")\n    ");
        }
        let (src, dst) = (ip.src(), ip.dst());
        let payload = ip.payload();
        let plen = total - hlen;
        let ctx = IpCtx {
            src: &src,
            dst: &dst,
            v6: false,
            fragmented,
        };
        if off & 0x1fff == 0 {
            let p = ip.protocol();
            if p != ipproto::TCP && p != ipproto::UDP {
                self.addrs(&src, &dst);
            }
            self.transport(p, payload, plen, ctx);
        } else {
            self.out.ipv4(&src);
            self.out.s(" > ");
            self.out.ipv4(&dst);
            self.out.s(": ip-proto-");
            self.out.n(ip.protocol());
        }
        if !self.opts.quiet && self.opts.verbose == 0 && fragmented {
            // tcpdump appends the fragment description in non-verbose mode.
            self.out.s(" (frag ");
            self.out.n(ip.ident());
            self.out.c(b':');
            self.out.n(plen);
            self.out.c(b'@');
            self.out.n(ip.frag_offset());
            if ip.more_frags() {
                self.out.c(b'+');
            }
            self.out.c(b')');
        }
    }

    fn ipv4_options(&mut self, mut o: &[u8]) {
        let mut first = true;
        while let Some(&kind) = o.first() {
            if !first {
                self.out.s(",");
            }
            first = false;
            match kind {
                0 => {
                    self.out.s("EOL");
                    o = &o[1..];
                    // tcpdump reports the padding after EOL byte by byte, the same way.
                    continue;
                }
                1 => {
                    self.out.s("NOP");
                    o = &o[1..];
                    continue;
                }
                _ => {}
            }
            let len = usize::from(o.get(1).copied().unwrap_or(0));
            self.out.s(match kind {
                7 => "RR",
                68 => "TS",
                130 => "security",
                131 => "LSRR",
                137 => "SSRR",
                148 => "RA",
                _ => "unknown",
            });
            if !matches!(kind, 7 | 68 | 130 | 131 | 137 | 148) {
                self.out.s(" (");
                self.out.n(kind);
                self.out.s(")");
            }
            self.out.s(" len ");
            self.out.n(len);
            if len < 2 || len > o.len() {
                self.out.s(" [bad length ");
                self.out.n(len);
                self.out.s("]");
                return;
            }
            o = &o[len..];
        }
    }

    fn addrs(&mut self, src: &[u8], dst: &[u8]) {
        self.out.ip(src);
        self.out.s(" > ");
        self.out.ip(dst);
        self.out.s(": ");
    }

    pub(crate) fn ipv6(&mut self, b: &[u8]) {
        let Ok(ip) = Ipv6Packet::new_checked(b) else {
            trunc(self.out, "ip6");
            return;
        };
        if !self.opts.link_header {
            self.out.s("IP6 ");
        }
        let plen = usize::from(ip.payload_len());
        let mut nh = ip.next_header();
        if self.opts.verbose > 0 {
            self.out.s("(");
            if ip.traffic_class() != 0 {
                self.out.s("class 0x");
                self.out.hex(u32::from(ip.traffic_class()), 2);
                self.out.s(", ");
            }
            if ip.flow_label() != 0 {
                self.out.s("flowlabel 0x");
                self.out.hex(ip.flow_label(), 5);
                self.out.s(", ");
            }
            self.out.s("hlim ");
            self.out.n(ip.hop_limit());
            self.out.s(", next-header ");
            self.out.s(proto_name(nh));
            self.out.s(" (");
            self.out.n(nh);
            self.out.s(") payload length: ");
            self.out.n(plen);
            self.out.s(") ");
        }
        let (src, dst) = (ip.src(), ip.dst());
        let mut rest = ip.payload();
        let mut remaining = plen;
        let mut fragmented = false;
        if nh != ipproto::TCP && nh != ipproto::UDP {
            self.addrs(&src, &dst);
        }
        while is_extension(nh) {
            let Ok(ext) = ExtHeader::parse(nh, rest) else {
                trunc(self.out, "ip6");
                return;
            };
            match nh {
                ipproto::HOPOPTS | ipproto::DSTOPTS => {
                    self.out.s(if nh == ipproto::HOPOPTS {
                        "HBH "
                    } else {
                        "DSTOPT "
                    });
                    if self.opts.verbose > 0 {
                        self.ip6_options(ext.options());
                    }
                }
                ipproto::FRAGMENT => {
                    fragmented = true;
                    let flen = remaining.saturating_sub(8);
                    self.out.s("frag (");
                    if self.opts.verbose > 0 {
                        self.out.s("0x");
                        self.out.hex(ext.frag_ident(), 8);
                        self.out.c(b':');
                    }
                    self.out.n(ext.frag_offset());
                    self.out.c(b'|');
                    self.out.n(flen);
                    self.out.s(")");
                    if ext.frag_offset() != 0 {
                        return;
                    }
                    self.out.c(b' ');
                }
                _ => {
                    self.out.s("srcrt (len=");
                    self.out.n(ext.bytes()[1]);
                    self.out.s(", type=");
                    self.out.n(ext.routing_type());
                    self.out.s(", segleft=");
                    self.out.n(ext.segments_left());
                    if matches!(ext.routing_type(), 0 | 2) {
                        for (i, a) in ext.bytes()[8..].chunks_exact(16).enumerate() {
                            self.out.s(", [");
                            self.out.n(i);
                            self.out.s("]");
                            self.out.ipv6(a);
                        }
                    }
                    self.out.s(") ");
                }
            }
            nh = ext.next_header();
            rest = &rest[ext.len()..];
            remaining = remaining.saturating_sub(ext.len());
        }
        let ctx = IpCtx {
            src: &src,
            dst: &dst,
            v6: true,
            fragmented,
        };
        self.transport(nh, rest, remaining, ctx);
    }

    fn ip6_options(&mut self, o: &[u8]) {
        let mut i = 0;
        while i < o.len() {
            let kind = o[i];
            if kind == 0 {
                self.out.s("(pad1)");
                i += 1;
                continue;
            }
            let Some(&len) = o.get(i + 1) else {
                self.out.s("[trunc]");
                return;
            };
            let data = o.get(i + 2..i + 2 + usize::from(len)).unwrap_or(&[]);
            match kind {
                1 => self.out.s("(padn)"),
                5 => {
                    self.out.s("(rtalert: 0x");
                    self.out.hex(u32::from(get_be16(data, 0).unwrap_or(0)), 4);
                    self.out.s(") ");
                }
                0xc2 => {
                    self.out.s("(jumbo: ");
                    self.out.n(get_be32(data, 0).unwrap_or(0));
                    self.out.s(") ");
                }
                _ => {
                    self.out.s("(opt_type 0x");
                    self.out.hex(u32::from(kind), 2);
                    self.out.s(": len=");
                    self.out.n(len);
                    self.out.s(")");
                }
            }
            i += 2 + usize::from(len);
        }
        self.out.c(b' ');
    }

    fn transport(&mut self, proto: u8, b: &[u8], len: usize, ip: IpCtx<'_>) {
        match proto {
            ipproto::TCP => self.tcp(b, len, ip),
            ipproto::UDP => self.udp(b, len, ip),
            ipproto::ICMP if !ip.v6 => self.icmp(b, len, ip),
            ipproto::ICMPV6 if ip.v6 => self.icmp6(b, len, ip),
            ipproto::NONE if ip.v6 => {
                self.out.s("no next header");
            }
            p => {
                if ip.v6 {
                    self.out.s("ip-proto-");
                } else {
                    self.out.s(" ip-proto-");
                }
                self.out.n(p);
                self.out.c(b' ');
                self.out.n(len);
            }
        }
    }

    fn ports(&mut self, ip: &IpCtx<'_>, sport: u16, dport: u16) {
        self.out.ip(ip.src);
        self.out.c(b'.');
        self.out.n(sport);
        self.out.s(" > ");
        self.out.ip(ip.dst);
        self.out.c(b'.');
        self.out.n(dport);
        self.out.s(": ");
    }

    fn tcp(&mut self, b: &[u8], length: usize, ip: IpCtx<'_>) {
        let Ok(t) = TcpPacket::new_checked(b) else {
            if b.len() >= 4 {
                let (s, d) = (get_be16(b, 0).unwrap_or(0), get_be16(b, 2).unwrap_or(0));
                self.ports(&ip, s, d);
            } else {
                self.addrs(ip.src, ip.dst);
                self.out.pop();
            }
            trunc(self.out, "tcp");
            return;
        };
        let (sport, dport) = (t.src_port(), t.dst_port());
        self.ports(&ip, sport, dport);
        let hlen = t.header_len();
        if hlen > length {
            self.out.s(" [bad hdr length ");
            self.out.n(hlen);
            self.out.s(" - too long, > ");
            self.out.n(length);
            self.out.s("]");
            return;
        }
        if self.opts.quiet {
            self.out.s("tcp ");
            self.out.n(length - hlen);
            return;
        }
        let flags = t.flags();
        self.out.s("Flags [");
        if flags == 0 {
            self.out.s("none");
        }
        for (bit, ch) in [
            (tcp::flags::FIN, b'F'),
            (tcp::flags::SYN, b'S'),
            (tcp::flags::RST, b'R'),
            (tcp::flags::PSH, b'P'),
            (tcp::flags::ACK, b'.'),
            (tcp::flags::URG, b'U'),
            (tcp::flags::ECE, b'E'),
            (tcp::flags::CWR, b'W'),
        ] {
            if flags & bit != 0 {
                self.out.c(ch);
            }
        }
        self.out.s("]");
        let mut seq = t.seq();
        let mut ack = t.ack();
        let (mut thseq, mut thack, mut rev) = (0u32, 0u32, false);
        if !self.opts.absolute_seq && flags & tcp::flags::ACK != 0 {
            let mut a = [0u8; 16];
            let mut d = [0u8; 16];
            a[..ip.src.len()].copy_from_slice(ip.src);
            d[..ip.dst.len()].copy_from_slice(ip.dst);
            rev = sport > dport || (sport == dport && a > d);
            let key = if rev {
                TcpKey {
                    a: d,
                    b: a,
                    ports: (u32::from(dport) << 16) | u32::from(sport),
                }
            } else {
                TcpKey {
                    a,
                    b: d,
                    ports: (u32::from(sport) << 16) | u32::from(dport),
                }
            };
            match self.tcp.map.get_mut(&key) {
                Some(e) if flags & tcp::flags::SYN == 0 => {
                    if rev {
                        seq = seq.wrapping_sub(e.1);
                        ack = ack.wrapping_sub(e.0);
                    } else {
                        seq = seq.wrapping_sub(e.0);
                        ack = ack.wrapping_sub(e.1);
                    }
                    (thseq, thack) = *e;
                }
                _ => {
                    let e = if rev {
                        (ack.wrapping_sub(1), seq)
                    } else {
                        (seq, ack.wrapping_sub(1))
                    };
                    self.tcp.map.insert(key, e);
                    (thseq, thack) = e;
                }
            }
        }
        if self.opts.verbose > 0 && !ip.fragmented && b.len() >= length {
            let seg = &b[..length];
            let pseudo = ip.pseudo(ipproto::TCP, length);
            self.out.s(", cksum 0x");
            self.out.hex(u32::from(t.checksum()), 4);
            if checksum::verify(pseudo, seg) {
                self.out.s(" (correct)");
            } else {
                self.out.s(" (incorrect -> 0x");
                self.out.hex(
                    u32::from(checksum::expected(pseudo, seg, tcp::CHECKSUM_OFFSET)),
                    4,
                );
                self.out.s(")");
            }
        }
        if hlen < 20 {
            self.out.s(" [bad hdr length ");
            self.out.n(hlen);
            self.out.s(" - too short, < 20]");
            return;
        }
        let dlen = length - hlen;
        if self.opts.verbose > 1
            || dlen > 0
            || flags & (tcp::flags::SYN | tcp::flags::FIN | tcp::flags::RST) != 0
        {
            self.out.s(", seq ");
            self.out.n(seq);
            if dlen > 0 {
                self.out.c(b':');
                self.out.n(seq.wrapping_add(dlen as u32));
            }
        }
        if flags & tcp::flags::ACK != 0 {
            self.out.s(", ack ");
            self.out.n(ack);
        }
        self.out.s(", win ");
        self.out.n(t.window());
        if flags & tcp::flags::URG != 0 {
            self.out.s(", urg ");
            self.out.n(t.urgent());
        }
        if hlen > 20 {
            self.out.s(", options [");
            let captured = &b[20.min(b.len())..hlen.min(b.len())];
            if captured.len() < hlen - 20 {
                // The capture ends inside the options: print the whole ones, then the mark.
                let mut i = 0;
                let mut first = true;
                loop {
                    if !first {
                        self.out.c(b',');
                    }
                    first = false;
                    let Some(&k) = captured.get(i) else { break };
                    if k <= 1 {
                        self.out.s(if k == 0 { "eol" } else { "nop" });
                        i += 1;
                        continue;
                    }
                    let Some(&l) = captured.get(i + 1) else { break };
                    let l = usize::from(l);
                    if l < 2 || i + l > hlen - 20 {
                        self.tcp_opt_name(k);
                        self.out.s("[bad opt]]");
                        return;
                    }
                    self.tcp_opt_name(k);
                    let Some(d) = captured.get(i + 2..i + l) else {
                        trunc(self.out, "tcp");
                        self.out.c(b'>');
                        return;
                    };
                    self.tcp_opt_value(k, d, rev, thseq, thack);
                    i += l;
                }
                trunc(self.out, "tcp");
                return;
            }
            let opts = captured;
            let mut first = true;
            for o in TcpOptions::new(opts) {
                if !first {
                    self.out.c(b',');
                }
                first = false;
                match o {
                    TcpOption::End => self.out.s("eol"),
                    TcpOption::Nop => self.out.s("nop"),
                    TcpOption::Bad(k) => {
                        self.tcp_opt_name(k);
                        self.out.s(" [bad opt]");
                        break;
                    }
                    TcpOption::Other(k, d) => {
                        self.tcp_opt_name(k);
                        self.tcp_opt_value(k, d, rev, thseq, thack);
                    }
                }
            }
            self.out.s("]");
        }
        self.out.s(", length ");
        self.out.n(dlen);
        if dlen == 0 {
            return;
        }
        if flags & tcp::flags::RST != 0 && self.opts.verbose > 0 {
            return;
        }
        let payload = t.payload();
        let payload = &payload[..payload.len().min(dlen)];
        if sport == 80 || dport == 80 || sport == 8080 || dport == 8080 {
            self.http(payload, dlen);
        }
    }

    fn tcp_opt_name(&mut self, k: u8) {
        match k {
            2 => self.out.s("mss"),
            3 => self.out.s("wscale"),
            4 => self.out.s("sackOK"),
            5 => self.out.s("sack"),
            6 => self.out.s("echo"),
            7 => self.out.s("echoreply"),
            8 => self.out.s("TS"),
            19 => self.out.s("md5"),
            28 => self.out.s("uto"),
            29 => self.out.s("tcp-ao"),
            30 => self.out.s("mptcp"),
            34 => self.out.s("tfo"),
            _ => {
                self.out.s("unknown-");
                self.out.n(k);
            }
        }
    }

    fn tcp_opt_value(&mut self, k: u8, d: &[u8], rev: bool, thseq: u32, thack: u32) {
        let bad = |out: &mut Vec<u8>| out.s(" [bad opt]");
        match k {
            2 => match get_be16(d, 0) {
                Some(v) if d.len() == 2 => {
                    self.out.c(b' ');
                    self.out.n(v);
                }
                _ => bad(self.out),
            },
            3 => match d.first() {
                Some(v) if d.len() == 1 => {
                    self.out.c(b' ');
                    self.out.n(*v);
                }
                _ => bad(self.out),
            },
            4 => {
                if !d.is_empty() {
                    bad(self.out)
                }
            }
            5 => {
                if d.len() % 8 != 0 {
                    self.out.s(" invalid sack");
                } else {
                    self.out.c(b' ');
                    self.out.n(d.len() / 8);
                    self.out.c(b' ');
                    for blk in d.chunks_exact(8) {
                        let (mut s, mut e) =
                            (get_be32(blk, 0).unwrap_or(0), get_be32(blk, 4).unwrap_or(0));
                        let base = if rev { thseq } else { thack };
                        s = s.wrapping_sub(base);
                        e = e.wrapping_sub(base);
                        self.out.c(b'{');
                        self.out.n(s);
                        self.out.c(b':');
                        self.out.n(e);
                        self.out.c(b'}');
                    }
                }
            }
            8 => {
                if d.len() == 8 {
                    self.out.s(" val ");
                    self.out.n(get_be32(d, 0).unwrap_or(0));
                    self.out.s(" ecr ");
                    self.out.n(get_be32(d, 4).unwrap_or(0));
                } else {
                    bad(self.out)
                }
            }
            28 => {
                if let Some(v) = get_be16(d, 0) {
                    self.out.c(b' ');
                    self.out.n(v & 0x7fff);
                    self.out.s(if v & 0x8000 != 0 { "min" } else { "sec" });
                }
            }
            _ => {
                if !d.is_empty() {
                    self.out.s(" 0x");
                    for x in d {
                        self.out.hex(u32::from(*x), 2);
                    }
                }
            }
        }
    }

    fn http(&mut self, p: &[u8], len: usize) {
        const CMDS: &[&str] = &[
            "OPTIONS",
            "GET",
            "HEAD",
            "POST",
            "PUT",
            "DELETE",
            "TRACE",
            "CONNECT",
            "PROPFIND",
            "PROPPATCH",
            "MKCOL",
            "COPY",
            "MOVE",
            "LOCK",
            "UNLOCK",
            "POLL",
            "BCOPY",
            "BMOVE",
            "SEARCH",
            "BDELETE",
            "BPROPFIND",
            "BPROPPATCH",
            "SUBSCRIBE",
            "UNSUBSCRIBE",
            "NOTIFY",
            "VERSION-CONTROL",
            "REPORT",
            "CHECKOUT",
            "CHECKIN",
            "UNCHECKOUT",
            "MKWORKSPACE",
            "UPDATE",
            "LABEL",
            "MERGE",
            "BASELINE-CONTROL",
            "MKACTIVITY",
            "ORDERPATCH",
            "ACL",
            "PATCH",
        ];
        let mut is_reqresp = false;
        if let Some((tok, _)) = fetch_token(p, 0) {
            is_reqresp = CMDS.iter().any(|c| c.as_bytes().eq_ignore_ascii_case(tok));
        }
        if !is_reqresp {
            if let Some((_, idx)) = fetch_token(p, 0) {
                if let Some((code, _)) = fetch_token(p, idx) {
                    is_reqresp = code.len() == 3 && code.iter().all(u8::is_ascii_digit);
                }
            }
        }
        self.out.s(": HTTP");
        if !is_reqresp {
            return;
        }
        let captured_all = p.len() >= len;
        if self.opts.verbose > 0 {
            self.out.s(", length: ");
            self.out.n(len);
            let mut idx = 0;
            while idx < p.len() {
                match txt_line(self.out, "\n\t", p, idx, "http", captured_all) {
                    Some(next) => idx = next,
                    None => break,
                }
            }
        } else {
            txt_line(self.out, ": ", p, 0, "http", captured_all);
        }
    }

    fn udp(&mut self, b: &[u8], length: usize, ip: IpCtx<'_>) {
        let Ok(u) = UdpPacket::new_checked(b) else {
            self.addrs(ip.src, ip.dst);
            trunc(self.out, "udp");
            return;
        };
        let (sport, dport) = (u.src_port(), u.dst_port());
        let ulen = usize::from(u.len());
        if length < 8 {
            self.ports(&ip, sport, dport);
            self.out.s("truncated-udp ");
            self.out.n(length);
            return;
        }
        if ulen < 8 {
            self.ports(&ip, sport, dport);
            self.out.s("truncated-udplength ");
            self.out.n(ulen);
            return;
        }
        let dlen = (ulen - 8).min(length - 8);
        self.ports(&ip, sport, dport);
        if self.opts.verbose > 0 && !ip.fragmented && b.len() >= dlen + 8 {
            let seg = &b[..dlen + 8];
            let pseudo = ip.pseudo(ipproto::UDP, dlen + 8);
            if ip.v6 || self.opts.verbose > 1 {
                if !ip.v6 && u.checksum() == 0 {
                    self.out.s("[no cksum] ");
                } else if checksum::verify(pseudo, seg) {
                    self.out.s("[udp sum ok] ");
                } else {
                    self.out.s("[bad udp cksum 0x");
                    self.out.hex(u32::from(u.checksum()), 4);
                    self.out.s(" -> 0x");
                    self.out.hex(
                        u32::from(checksum::expected(pseudo, seg, udp::CHECKSUM_OFFSET)),
                        4,
                    );
                    self.out.s("!] ");
                }
            }
        }
        if !self.opts.quiet && (sport == 53 || dport == 53) {
            let payload = u.payload();
            self.dns(&payload[..payload.len().min(dlen)], dlen);
            return;
        }
        self.out.s("UDP, length ");
        self.out.n(dlen);
    }

    fn icmp(&mut self, b: &[u8], plen: usize, ip: IpCtx<'_>) {
        let Ok(m) = IcmpPacket::new_checked(b) else {
            trunc(self.out, "icmp");
            return;
        };
        let (ty, code) = (m.msg_type(), m.code());
        self.out.s("ICMP ");
        let body = m.body();
        let inner = Ipv4Packet::new_checked(body).ok();
        match ty {
            0 | 8 => {
                self.out.s(if ty == 0 {
                    "echo reply"
                } else {
                    "echo request"
                });
                self.out.s(", id ");
                self.out.n(m.echo_ident());
                self.out.s(", seq ");
                self.out.n(m.echo_seq());
            }
            3 => {
                let Some(oip) = inner else {
                    self.out.s("[|icmp]");
                    return;
                };
                let dst = oip.dst();
                let net = |out: &mut Vec<u8>, pre: &str, post: &str| {
                    out.s(pre);
                    out.ipv4(&dst);
                    out.s(post);
                };
                match code {
                    0 => net(self.out, "net ", " unreachable"),
                    1 => net(self.out, "host ", " unreachable"),
                    2 => {
                        net(self.out, "", " protocol ");
                        self.out.n(oip.protocol());
                        self.out.s(" unreachable");
                    }
                    3 => {
                        let op = oip.payload();
                        let port = get_be16(op, 2).unwrap_or(0);
                        net(self.out, "", "");
                        match oip.protocol() {
                            ipproto::TCP => self.out.s(" tcp port "),
                            ipproto::UDP => self.out.s(" udp port "),
                            p => {
                                self.out.s(" protocol ");
                                self.out.n(p);
                                self.out.s(" port ");
                            }
                        }
                        self.out.n(port);
                        self.out.s(" unreachable");
                    }
                    4 => {
                        net(self.out, "", " unreachable - need to frag");
                        let mtu = m.rest() & 0xffff;
                        if mtu != 0 {
                            self.out.s(" (mtu ");
                            self.out.n(mtu);
                            self.out.s(")");
                        }
                    }
                    5 => net(self.out, "", " unreachable - source route failed"),
                    6 => net(self.out, "net ", " unreachable - unknown"),
                    7 => net(self.out, "host ", " unreachable - unknown"),
                    8 => net(self.out, "", " unreachable - source host isolated"),
                    9 => net(self.out, "net ", " unreachable - admin prohibited"),
                    10 => net(self.out, "host ", " unreachable - admin prohibited"),
                    11 => net(self.out, "net ", " unreachable - tos prohibited"),
                    12 => net(self.out, "host ", " unreachable - tos prohibited"),
                    13 => net(self.out, "host ", " unreachable - admin prohibited filter"),
                    14 => net(
                        self.out,
                        "host ",
                        " unreachable - host precedence violation",
                    ),
                    15 => net(self.out, "host ", " unreachable - precedence cutoff"),
                    c => {
                        net(self.out, "", " unreachable - #");
                        self.out.n(c);
                    }
                }
            }
            11 => match code {
                0 => self.out.s("time exceeded in-transit"),
                1 => self.out.s("ip reassembly time exceeded"),
                c => {
                    self.out.s("time exceeded-#");
                    self.out.n(c);
                }
            },
            _ => {
                let name = match ty {
                    4 => "source quench",
                    5 => "redirect",
                    9 => "router advertisement",
                    10 => "router solicitation",
                    12 => "parameter problem",
                    13 => "time stamp request",
                    14 => "time stamp reply",
                    15 => "information request",
                    16 => "information reply",
                    17 => "address mask request",
                    18 => "address mask reply",
                    _ => "",
                };
                if name.is_empty() {
                    self.out.s("type-#");
                    self.out.n(ty);
                } else {
                    self.out.s(name);
                }
            }
        }
        self.out.s(", length ");
        self.out.n(plen);
        if self.opts.verbose > 0 && !ip.fragmented && b.len() >= plen {
            let seg = &b[..plen];
            if !checksum::verify(0, seg) {
                self.out.s(" (wrong icmp cksum ");
                self.out.hexn(u32::from(m.checksum()));
                self.out.s(" (->");
                self.out
                    .hexn(u32::from(checksum::expected(0, seg, icmp::CHECKSUM_OFFSET)));
                self.out.s(")!)");
            }
        }
        if self.opts.verbose > 0 && matches!(ty, 3 | 4 | 5 | 11 | 12) && body.len() >= 20 {
            self.out.s("\n\t");
            let ilen = get_be16(body, 2).map(usize::from).unwrap_or(0);
            self.ipv4(&body[..ilen.min(body.len())]);
        }
    }

    fn icmp6(&mut self, b: &[u8], length: usize, ip: IpCtx<'_>) {
        let Ok(m) = IcmpPacket::new_checked(b) else {
            trunc(self.out, "icmp6");
            return;
        };
        let v = self.opts.verbose;
        if v > 0 && !ip.fragmented && b.len() >= length {
            let seg = &b[..length];
            let pseudo = ip.pseudo(ipproto::ICMPV6, length);
            if checksum::verify(pseudo, seg) {
                self.out.s("[icmp6 sum ok] ");
            } else {
                self.out.s("[bad icmp6 cksum 0x");
                self.out.hex(u32::from(m.checksum()), 4);
                self.out.s(" -> 0x");
                self.out.hex(
                    u32::from(checksum::expected(pseudo, seg, icmp::CHECKSUM_OFFSET)),
                    4,
                );
                self.out.s("!] ");
            }
        }
        let ty = m.msg_type();
        self.out.s("ICMP6, ");
        let name = match ty {
            1 => "destination unreachable",
            2 => "packet too big",
            3 => "time exceeded in-transit",
            4 => "parameter problem",
            128 => "echo request",
            129 => "echo reply",
            130 => "multicast listener query",
            131 => "multicast listener report",
            132 => "multicast listener done",
            133 => "router solicitation",
            134 => "router advertisement",
            135 => "neighbor solicitation",
            136 => "neighbor advertisement",
            137 => "redirect",
            143 => "multicast listener report v2",
            _ => "",
        };
        if name.is_empty() {
            self.out.s("unknown icmp6 type (");
            self.out.n(ty);
            self.out.s(")");
        } else {
            self.out.s(name);
        }
        if v > 0 && matches!(ty, 133..=137) {
            self.out.s(", length ");
            self.out.n(length);
        }
        let b = &b[..b.len().min(length)];
        match ty {
            1 => {
                let Ok(oip) = Ipv6Packet::new_checked(m.body()) else {
                    trunc(self.out, "icmp6");
                    return;
                };
                let (odst, osrc) = (oip.dst(), oip.src());
                self.out.s(", ");
                self.out.s(match m.code() {
                    0 => "unreachable route",
                    1 => "unreachable prohibited",
                    2 => "beyond scope",
                    3 => "unreachable address",
                    4 => "unreachable port",
                    _ => "",
                });
                match m.code() {
                    0 | 1 | 3 => {
                        self.out.c(b' ');
                        self.out.ipv6(&odst);
                    }
                    2 => {
                        self.out.c(b' ');
                        self.out.ipv6(&odst);
                        self.out.s(", source address ");
                        self.out.ipv6(&osrc);
                    }
                    4 => {
                        // Walk to the upper-layer header of the quoted packet.
                        let mut nh = oip.next_header();
                        let mut rest = oip.payload();
                        while is_extension(nh) {
                            let Ok(e) = ExtHeader::parse(nh, rest) else {
                                break;
                            };
                            nh = e.next_header();
                            rest = &rest[e.len()..];
                        }
                        let Some(port) = get_be16(rest, 2) else {
                            trunc(self.out, "icmp6");
                            return;
                        };
                        self.out.s(", ");
                        self.out.ipv6(&odst);
                        match nh {
                            ipproto::TCP => self.out.s(" tcp port "),
                            ipproto::UDP => self.out.s(" udp port "),
                            p => {
                                self.out.s(" protocol ");
                                self.out.n(p);
                                self.out.s(" port ");
                                self.out.n(port);
                                self.out.s(" unreachable");
                                return;
                            }
                        }
                        self.out.n(port);
                    }
                    c => {
                        self.out.s("unknown unreach code (");
                        self.out.n(c);
                        self.out.s(")");
                    }
                }
            }
            2 => {
                self.out.s(", mtu ");
                self.out.n(m.rest());
            }
            128 | 129 => {
                self.out.s(", id ");
                self.out.n(m.echo_ident());
                self.out.s(", seq ");
                self.out.n(m.echo_seq());
            }
            130..=132 => {
                if b.len() < 24 {
                    trunc(self.out, "icmp6");
                    return;
                }
                self.out.s(", max resp delay: ");
                self.out.n(m.echo_ident());
                self.out.s(" addr: ");
                self.out.ipv6(&b[8..24]);
            }
            133 => {
                if v > 0 {
                    self.nd_options(b.get(8..).unwrap_or(&[]));
                }
            }
            135 | 136 => {
                let Some(tgt) = b.get(8..24) else {
                    trunc(self.out, "icmp6");
                    return;
                };
                self.out
                    .s(if ty == 135 { ", who has " } else { ", tgt is " });
                self.out.ipv6(tgt);
                if v > 0 {
                    if ty == 136 {
                        self.out.s(", Flags [");
                        let f = m.rest();
                        let mut any = false;
                        for (bit, n) in [
                            (0x8000_0000u32, "router"),
                            (0x4000_0000, "solicited"),
                            (0x2000_0000, "override"),
                        ] {
                            if f & bit != 0 {
                                if any {
                                    self.out.s(", ");
                                }
                                self.out.s(n);
                                any = true;
                            }
                        }
                        if !any {
                            self.out.s("none");
                        }
                        self.out.s("]");
                    }
                    self.nd_options(&b[24..]);
                }
            }
            143 => {
                let n = get_be16(b, 6).unwrap_or(0);
                self.out.s(", ");
                self.out.n(n);
                self.out.s(" group record(s)");
                if v > 0 {
                    let mut g = 8;
                    for _ in 0..n {
                        let Some(rec) = b.get(g..g + 20) else {
                            self.out.s(" [invalid number of groups]");
                            return;
                        };
                        self.out.s(" [gaddr ");
                        self.out.ipv6(&rec[4..20]);
                        self.out.c(b' ');
                        match rec[0] {
                            1 => self.out.s("is_in"),
                            2 => self.out.s("is_ex"),
                            3 => self.out.s("to_in"),
                            4 => self.out.s("to_ex"),
                            5 => self.out.s("allow"),
                            6 => self.out.s("block"),
                            t => {
                                self.out.s(" [v2-report-#");
                                self.out.n(t);
                                self.out.s("]");
                            }
                        }
                        let nsrc = usize::from(get_be16(rec, 2).unwrap_or(0));
                        if b.len() < g + 20 + nsrc * 16 {
                            self.out.s(" [invalid number of sources ");
                            self.out.n(nsrc);
                            self.out.s("]");
                            return;
                        }
                        if v == 1 {
                            self.out.s(", ");
                            self.out.n(nsrc);
                            self.out.s(" source(s)");
                        } else {
                            self.out.s(" {");
                            for s in b[g + 20..g + 20 + nsrc * 16].chunks_exact(16) {
                                self.out.c(b' ');
                                self.out.ipv6(s);
                            }
                            self.out.s(" }");
                        }
                        g += 20 + nsrc * 16 + usize::from(rec[1]) * 4;
                        self.out.s("]");
                    }
                }
            }
            3 | 4 | 134 | 137 => {}
            _ => {
                self.out.s(", length ");
                self.out.n(length);
                if v <= 1 {
                    hex_dump(self.out, b, "\n\t");
                }
                return;
            }
        }
        if v == 0 {
            self.out.s(", length ");
            self.out.n(length);
        }
    }

    fn nd_options(&mut self, mut o: &[u8]) {
        while o.len() >= 2 {
            let (ty, l) = (o[0], usize::from(o[1]) * 8);
            if l == 0 || l > o.len() {
                trunc(self.out, "ndp opt");
                return;
            }
            self.out.s("\n\t  ");
            self.out.s(match ty {
                1 => "source link-address",
                2 => "destination link-address",
                3 => "prefix info",
                4 => "redirected header",
                5 => "mtu",
                7 => "advertisement interval",
                8 => "homeagent information",
                24 => "route info",
                25 => "rdnss",
                31 => "dnssl",
                _ => "unknown",
            });
            self.out.s(" option (");
            self.out.n(ty);
            self.out.s("), length ");
            self.out.n(l);
            self.out.s(" (");
            self.out.n(o[1]);
            self.out.s("): ");
            let data = &o[2..l];
            match ty {
                1 | 2 => self.out.lladdr(data),
                5 => {
                    self.out.c(b' ');
                    self.out.n(get_be32(data, 2).unwrap_or(0));
                }
                _ => {
                    if self.opts.verbose <= 1 {
                        hex_dump(self.out, data, "\n\t  ");
                        return;
                    }
                }
            }
            if self.opts.verbose > 1 {
                hex_dump(self.out, data, "\n\t  ");
            }
            o = &o[l..];
        }
    }

    fn dns(&mut self, msg: &[u8], length: usize) {
        let Ok(d) = DnsPacket::new_checked(msg) else {
            if length >= 12 {
                trunc(self.out, "domain");
                return;
            }
            self.out.s("domain [length ");
            self.out.n(length);
            self.out.s(" < 12] (invalid)");
            return;
        };
        const OPS: [&str; 16] = [
            "",
            " inv_q",
            " stat",
            " op3",
            " notify",
            " update",
            " op6",
            " op7",
            " op8",
            " updateA",
            " updateD",
            " updateDA",
            " updateM",
            " updateMA",
            " zoneInit",
            " zoneRef",
        ];
        let f = d.flags();
        let (qd, an, ns, ar) = (d.qdcount(), d.ancount(), d.nscount(), d.arcount());
        self.out.n(d.id());
        self.out.s(OPS[usize::from(d.opcode())]);
        let mut pos = DnsPacket::<&[u8]>::HEADER_LEN;
        let ok = if d.is_response() {
            self.out.s(rcode_name(d.rcode()));
            if f & 0x0400 != 0 {
                self.out.c(b'*');
            }
            if f & 0x0080 == 0 {
                self.out.c(b'-');
            }
            if f & 0x0200 != 0 {
                self.out.c(b'|');
            }
            if f & 0x0020 != 0 {
                self.out.c(b'$');
            }
            if qd != 1 {
                self.out.s(" [");
                self.out.n(qd);
                self.out.s("q]");
            }
            let mut ok = true;
            for _ in 0..qd {
                match walk_name(msg, pos, |_| {}) {
                    Ok(e) => pos = e + 4,
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                self.out.c(b' ');
                self.out.n(an);
                self.out.c(b'/');
                self.out.n(ns);
                self.out.c(b'/');
                self.out.n(ar);
                for i in 0..an {
                    if i > 0 {
                        if pos >= msg.len() {
                            ok = false;
                            break;
                        }
                        self.out.c(b',');
                    }
                    match self.dns_rr(msg, pos) {
                        Some(e) => pos = e,
                        None => {
                            ok = false;
                            break;
                        }
                    }
                }
            }
            ok
        } else {
            if f & 0x0100 != 0 {
                self.out.c(b'+');
            }
            if f & 0x0010 != 0 {
                self.out.c(b'%');
            }
            if f & 0x06cf != 0 {
                self.out.s(" [b2&3=0x");
                self.out.hexn(u32::from(f));
                self.out.s("]");
            }
            let count = |out: &mut Vec<u8>, n: u16, tag: &str| {
                out.s(" [");
                out.n(n);
                out.s(tag);
                out.s("]");
            };
            if d.opcode() == 1 {
                if qd != 0 {
                    count(self.out, qd, "q");
                }
                if an != 1 {
                    count(self.out, an, "a");
                }
            } else {
                if an != 0 {
                    count(self.out, an, "a");
                }
                if qd != 1 {
                    count(self.out, qd, "q");
                }
            }
            if ns != 0 {
                count(self.out, ns, "n");
            }
            if ar != 0 {
                count(self.out, ar, "au");
            }
            let mut ok = true;
            for i in 0..qd {
                if i > 0 && pos >= msg.len() {
                    ok = false;
                    break;
                }
                match self.dns_question(msg, pos) {
                    Some(e) => pos = e,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            ok
        };
        if !ok {
            trunc(self.out, "domain");
            return;
        }
        self.out.s(" (");
        self.out.n(length);
        self.out.s(")");
    }

    /// Prints a name as tcpdump does; `None` when it cannot be read to the end.
    fn dns_name(&mut self, msg: &[u8], pos: usize) -> Option<usize> {
        let mut any = false;
        let out = &mut *self.out;
        let r = walk_name(msg, pos, |label| {
            any = true;
            for &c in label {
                tcpdump_char(out, c);
            }
            out.c(b'.');
        });
        match r {
            Ok(e) => {
                if !any {
                    self.out.c(b'.');
                }
                Some(e)
            }
            Err(NameError::BadPointer) => {
                self.out.s("<BAD PTR>");
                None
            }
            Err(NameError::BadLabel(l)) => {
                self.out.s("<ELT ");
                self.out.n(l & 0x3f);
                self.out.s(">");
                None
            }
            Err(NameError::Truncated) => None,
        }
    }

    fn dns_question(&mut self, msg: &[u8], pos: usize) -> Option<usize> {
        let end = walk_name(msg, pos, |_| {}).ok()?;
        let ty = get_be16(msg, end)?;
        let class = get_be16(msg, end + 2)?;
        self.out.c(b' ');
        type_name(self.out, ty);
        if class != 1 {
            self.out.c(b' ');
            class_name(self.out, class);
        }
        self.out.s("? ");
        self.dns_name(msg, pos)?;
        Some(end + 4)
    }

    fn dns_rr(&mut self, msg: &[u8], pos: usize) -> Option<usize> {
        let end = if self.opts.verbose > 0 {
            self.out.c(b' ');
            self.dns_name(msg, pos)?
        } else {
            walk_name(msg, pos, |_| {}).ok()?
        };
        let ty = get_be16(msg, end)?;
        let class = get_be16(msg, end + 2)?;
        get_be32(msg, end + 4)?;
        let rdlen = usize::from(get_be16(msg, end + 8)?);
        let cp = end + 10;
        if class != 1 && ty != 41 {
            self.out.c(b' ');
            class_name(self.out, class);
        }
        self.out.c(b' ');
        type_name(self.out, ty);
        let rp = cp + rdlen;
        let rd = msg.get(cp..rp)?;
        match ty {
            1 => {
                let a = rd.get(..4)?;
                self.out.c(b' ');
                self.out.ipv4(a);
            }
            28 => {
                let a = rd.get(..16)?;
                self.out.c(b' ');
                self.out.ipv6(a);
            }
            2 | 5 | 12 | 39 => {
                self.out.c(b' ');
                self.dns_name(msg, cp)?;
            }
            15 => {
                self.out.c(b' ');
                self.dns_name(msg, cp + 2)?;
                self.out.c(b' ');
                self.out.n(get_be16(rd, 0)?);
            }
            16 => {
                let mut i = 0;
                while i < rd.len() {
                    let l = usize::from(rd[i]);
                    let s = rd.get(i + 1..i + 1 + l)?;
                    self.out.s(" \"");
                    for &c in s {
                        tcpdump_char(self.out, c);
                    }
                    self.out.c(b'"');
                    i += 1 + l;
                }
            }
            33 => {
                self.out.c(b' ');
                self.dns_name(msg, cp + 6)?;
                self.out.c(b':');
                self.out.n(get_be16(rd, 4)?);
                self.out.c(b' ');
                self.out.n(get_be16(rd, 0)?);
                self.out.c(b' ');
                self.out.n(get_be16(rd, 2)?);
            }
            6 if self.opts.verbose > 0 => {
                self.out.c(b' ');
                let e = self.dns_name(msg, cp)?;
                self.out.c(b' ');
                let e = self.dns_name(msg, e)?;
                for i in 0..5 {
                    self.out.c(b' ');
                    self.out.n(get_be32(msg, e + 4 * i)?);
                }
            }
            41 => {
                self.out.s(" UDPsize=");
                self.out.n(class);
                if get_be16(msg, end + 6)? & 0x8000 != 0 {
                    self.out.s(" DO");
                }
            }
            _ => {}
        }
        Some(rp)
    }
}

fn rcode_name(r: u8) -> &'static str {
    match r {
        0 => "",
        1 => " FormErr",
        2 => " ServFail",
        3 => " NXDomain",
        4 => " NotImp",
        5 => " Refused",
        6 => " YXDomain",
        7 => " YXRRSet",
        8 => " NXRRSet",
        9 => " NotAuth",
        10 => " NotZone",
        11 => " Resp11",
        12 => " Resp12",
        13 => " Resp13",
        14 => " Resp14",
        _ => " NoChange",
    }
}

fn type_name(out: &mut Vec<u8>, t: u16) {
    const NAMES: [&str; 52] = [
        "",
        "A",
        "NS",
        "MD",
        "MF",
        "CNAME",
        "SOA",
        "MB",
        "MG",
        "MR",
        "NULL",
        "WKS",
        "PTR",
        "HINFO",
        "MINFO",
        "MX",
        "TXT",
        "RP",
        "AFSDB",
        "X25",
        "ISDN",
        "RT",
        "NSAP",
        "NSAP_PTR",
        "SIG",
        "KEY",
        "PX",
        "GPOS",
        "AAAA",
        "LOC",
        "NXT",
        "EID",
        "NIMLOC",
        "SRV",
        "ATMA",
        "NAPTR",
        "KX",
        "CERT",
        "A6",
        "DNAME",
        "SINK",
        "OPT",
        "APL",
        "DS",
        "SSHFP",
        "IPSECKEY",
        "RRSIG",
        "NSEC",
        "DNSKEY",
        "",
        "NSEC3",
        "NSEC3PARAM",
    ];
    let name = match t {
        1..=51 => NAMES[usize::from(t)],
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "UNSPECA",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        _ => "",
    };
    if name.is_empty() {
        out.s("Type");
        out.n(t);
    } else {
        out.s(name);
    }
}

fn class_name(out: &mut Vec<u8>, c: u16) {
    match c {
        1 => out.s("IN"),
        3 => out.s("CHAOS"),
        4 => out.s("HS"),
        255 => out.s("ANY"),
        _ => {
            out.s("(Class ");
            out.n(c);
            out.s(")");
        }
    }
}

fn proto_name(p: u8) -> &'static str {
    match p {
        0 => "Options",
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPIP",
        6 => "TCP",
        8 => "EGP",
        9 => "IGRP",
        17 => "UDP",
        33 => "DCCP",
        41 => "IPv6",
        43 => "Routing",
        44 => "Frag",
        46 => "RSVP",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        59 => "NONE",
        60 => "DSTOPTS",
        103 => "PIM",
        112 => "VRRP",
        132 => "SCTP",
        _ => "unknown",
    }
}

/// A whitespace-delimited token at `idx` and the index after the blanks that follow it.
fn fetch_token(p: &[u8], mut idx: usize) -> Option<(&[u8], usize)> {
    let start = idx;
    while idx < p.len() {
        let c = p[idx];
        if !c.is_ascii() {
            return None;
        }
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            break;
        }
        idx += 1;
    }
    if idx == start {
        return None;
    }
    let tok = &p[start..idx];
    while idx < p.len() {
        let c = p[idx];
        if c == b'\r' || c == b'\n' || !(0x20..0x7f).contains(&c) || (c != b' ' && c != b'\t') {
            break;
        }
        idx += 1;
    }
    Some((tok, idx))
}

/// Prints one text line (printable ASCII and tabs only) after `prefix`; returns where the next
/// line starts, or `None` at binary data or the end of the data (marked `[|proto]`).
/// `captured_all`: false when the capture ended before the data did; a line running into
/// that end is not printed, only the truncation mark.
fn txt_line(
    out: &mut Vec<u8>,
    prefix: &str,
    p: &[u8],
    start: usize,
    proto: &str,
    captured_all: bool,
) -> Option<usize> {
    let mut idx = start;
    while idx < p.len() {
        let c = p[idx];
        if c == b'\n' {
            out.s(prefix);
            out.b(&p[start..idx]);
            return Some(idx + 1);
        } else if c == b'\r' {
            if idx + 1 >= p.len() {
                if !captured_all {
                    trunc(out, proto);
                }
                return None;
            }
            if p[idx + 1] == b'\n' {
                out.s(prefix);
                out.b(&p[start..idx]);
                return Some(idx + 2);
            }
            return None;
        } else if !(0x20..0x7f).contains(&c) && c != b'\t' {
            return None;
        }
        idx += 1;
    }
    if captured_all {
        out.s(prefix);
        out.b(&p[start..idx]);
    }
    trunc(out, proto);
    None
}

/// `-x` style: 16 bytes a line as groups of 4 hex digits.
pub(crate) fn hex_dump(out: &mut Vec<u8>, data: &[u8], ident: &str) {
    for (i, line) in data.chunks(16).enumerate() {
        out.s(ident);
        out.s("0x");
        out.hex((i * 16) as u32, 4);
        out.s(": ");
        for pair in line.chunks(2) {
            out.c(b' ');
            for &x in pair {
                out.hex(u32::from(x), 2);
            }
        }
    }
}

/// `-X` style: hex as `-x`, padded, then the printable characters ('.' for the rest).
pub(crate) fn hex_ascii_dump(out: &mut Vec<u8>, data: &[u8], ident: &str) {
    for (i, line) in data.chunks(16).enumerate() {
        out.s(ident);
        out.s("0x");
        out.hex((i * 16) as u32, 4);
        out.s(": ");
        let start = out.len();
        for pair in line.chunks(2) {
            out.c(b' ');
            for &x in pair {
                out.hex(u32::from(x), 2);
            }
        }
        while out.len() - start < 40 {
            out.c(b' ');
        }
        out.s("  ");
        for &x in line {
            out.c(if x.is_ascii_graphic() { x } else { b'.' });
        }
    }
}

/// `-A` style: the bytes as text, non-printable as '.', CR before LF (and near the end) dropped.
pub(crate) fn ascii_dump(out: &mut Vec<u8>, data: &[u8]) {
    out.c(b'\n');
    for (i, &c) in data.iter().enumerate() {
        if c == b'\r' {
            // tcpdump's rule, quirk included: a CR shows as '.' only when at least two bytes
            // follow it and the next one is not LF.
            if data.len() - i > 2 && data[i + 1] != b'\n' {
                out.c(b'.');
            }
        } else if c.is_ascii_graphic() || c == b'\t' || c == b' ' || c == b'\n' {
            out.c(c);
        } else {
            out.c(b'.');
        }
    }
}

/// tcpdump's name of an EtherType (`ethertype_values`), `Unknown` otherwise.
fn ethertype_name(ty: u16) -> &'static str {
    match ty {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x86dd => "IPv6",
        0x8100 => "802.1Q",
        0x88a8 => "802.1Q-QinQ",
        0x9100 => "802.1Q-9100",
        0x8035 => "Reverse ARP",
        0x88cc => "LLDP",
        0x8847 => "MPLS unicast",
        0x8848 => "MPLS multicast",
        0x888e => "EAPOL",
        0x8863 => "PPPoE D",
        0x8864 => "PPPoE S",
        0x88e5 => "MACsec",
        0x88f7 => "PTP",
        0x9000 => "Loopback",
        0x893a => "IEEE1905.1",
        _ => "Unknown",
    }
}

//! One summary of a packet for analysis (flows, rollups, filters): addresses, protocol, ports,
//! ICMP type/code/echo id and the TCP header fields, read through the typed views of this
//! module's siblings. It never panics: anything cut short or unknown yields less, not an error.
//!
//! ```
//! use formats::wire::flow::{summarize, Transport};
//! // An IPv4 UDP datagram on a RAW link.
//! let pkt = [0x45, 0, 0, 29, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
//!            0x30, 0x39, 0x27, 0x0f, 0, 9, 0, 0, b'x'];
//! let s = summarize(101, &pkt).unwrap();
//! assert_eq!(s.src.to_string(), "198.18.0.1");
//! assert_eq!(s.ip_len, 29);
//! assert!(matches!(s.transport, Transport::Udp { src_port: 12345, dst_port: 9999, .. }));
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ethernet::EthernetFrame;
use super::icmp::IcmpPacket;
use super::ipv4::Ipv4Packet;
use super::ipv6::{is_extension, ExtHeader, Ipv6Packet};
use super::sll::{pkttype, Sll2Packet, SllPacket};
use super::tcp::TcpPacket;
use super::udp::UdpPacket;
use super::{ethertype, get_be16, get_be32, ipproto};
use crate::pcapng::{linktype, Direction};

/// The IP-level facts of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketSummary {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The transport protocol: IPv4's protocol field, or IPv6's last next-header after the
    /// extension headers we walk.
    pub protocol: u8,
    /// IP length from the header: IPv4 total length, IPv6 40 + payload length.
    pub ip_len: u32,
    /// A fragment other than the first: no transport header to read.
    pub later_fragment: bool,
    /// The direction a cooked (SLL/SLL2) header states: `Out` for outgoing, `In` for packets
    /// to this host. `None` for other link types and packet types.
    pub link_direction: Option<Direction>,
    pub transport: Transport,
    /// The tunnel this packet came through, when [`summarize_inner`] read it out of one (the
    /// outermost tunnel's kind, id and endpoints); `None` from [`summarize`] and for packets
    /// that are not encapsulated.
    pub tunnel: Option<Tunnel>,
}

/// An encapsulation read by [`summarize_inner`]: the kind, its VNI or key, and the outer
/// (underlay) addresses of the packet, source first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel {
    pub kind: TunnelKind,
    /// VXLAN, VXLAN-GPE and Geneve: the VNI; GRE: the key, when the K bit is set.
    pub id: Option<u32>,
    pub src: IpAddr,
    pub dst: IpAddr,
}

/// The encapsulations [`summarize_inner`] opens, named as Linux names its tunnel devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TunnelKind {
    /// VXLAN (RFC 7348) on UDP port 4789, or 8472 (Linux's default port, Flannel's).
    Vxlan,
    /// VXLAN-GPE on UDP port 4790.
    VxlanGpe,
    /// Geneve (RFC 8926) on UDP port 6081.
    Geneve,
    /// GRE version 0 (RFC 2784/2890) carrying IPv4, IPv6 or Ethernet.
    Gre,
    /// IPv4 in IPv4 (IP protocol 4).
    Ipip,
    /// IPv6 in IPv4 (protocol 41, SIT/6in4).
    Sit,
    /// IPv4 or IPv6 in IPv6 (protocol 4 or 41 in IPv6).
    Ip6tnl,
}

impl TunnelKind {
    /// The name in reports: `vxlan`, `vxlan-gpe`, `geneve`, `gre`, `ipip`, `sit`, `ip6tnl`.
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::VxlanGpe => "vxlan-gpe",
            TunnelKind::Geneve => "geneve",
            TunnelKind::Gre => "gre",
            TunnelKind::Ipip => "ipip",
            TunnelKind::Sit => "sit",
            TunnelKind::Ip6tnl => "ip6tnl",
        }
    }
}

/// The transport header's fields, as far as the packet holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp(TcpSummary),
    Udp {
        src_port: u16,
        dst_port: u16,
        /// UDP payload length from the UDP length field (wire, not captured).
        payload_len: u32,
    },
    /// ICMP (`v6 == false`) or ICMPv6 (`v6 == true`).
    Icmp {
        v6: bool,
        msg_type: u8,
        code: u8,
        /// The identifier of echo requests and replies.
        echo_id: Option<u16>,
    },
    /// Another protocol, a later fragment, or a transport header cut short.
    None,
}

/// TCP header fields and the payload length the IP header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSummary {
    pub src_port: u16,
    pub dst_port: u16,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    /// Payload bytes on the wire: the IP payload length less the TCP header; the captured
    /// length when the IP length is zero (segmentation offload).
    pub payload_len: u32,
}

impl PacketSummary {
    /// Source and destination ports of TCP and UDP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.transport {
            Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
            Transport::Udp {
                src_port, dst_port, ..
            } => Some((src_port, dst_port)),
            _ => None,
        }
    }

    pub fn tcp(&self) -> Option<&TcpSummary> {
        match &self.transport {
            Transport::Tcp(t) => Some(t),
            _ => None,
        }
    }
}

/// Summarizes a packet of link type `link_type` by its own (outermost) IP header; `None` when
/// it holds no IP header we can read. Encapsulated packets are not opened: see
/// [`summarize_inner`].
pub fn summarize(link_type: u16, data: &[u8]) -> Option<PacketSummary> {
    let (ethertype, payload, link_direction) = link(link_type, data)?;
    let mut s = match ethertype {
        ethertype::IPV4 => ipv4(payload)?,
        ethertype::IPV6 => ipv6(payload)?.0,
        _ => return None,
    };
    s.link_direction = link_direction;
    Some(s)
}

/// How many encapsulations [`summarize_inner`] opens, one in another.
pub const MAX_TUNNEL_DEPTH: usize = 4;

/// [`summarize`], but an encapsulated packet (VXLAN, VXLAN-GPE, Geneve, GRE, IPIP/SIT/ip6tnl;
/// see [`TunnelKind`]) is summarized by its innermost IP packet, with [`PacketSummary::tunnel`]
/// naming the outermost tunnel and its underlay addresses. A tunnel whose payload holds no IP
/// packet we can read (ARP in VXLAN, a payload cut short by the snaplen) stays the outer
/// packet, `tunnel` `None`, as [`summarize`] gives it. For plain packets it is [`summarize`].
///
/// ```
/// use formats::wire::flow::{summarize_inner, TunnelKind};
/// // IPv4 198.18.0.1 > 198.18.0.2, IPIP, carrying IPv4 10.0.0.1 > 10.0.0.2 UDP 1000 > 2000.
/// let mut p = vec![0x45, 0, 0, 48, 0, 0, 0, 0, 64, 4, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2];
/// p.extend([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
/// p.extend([0x03, 0xe8, 0x07, 0xd0, 0, 8, 0, 0]);
/// let s = summarize_inner(101, &p).unwrap();
/// assert_eq!((s.src.to_string(), s.ports()), ("10.0.0.1".into(), Some((1000, 2000))));
/// let t = s.tunnel.unwrap();
/// assert_eq!((t.kind, t.src.to_string()), (TunnelKind::Ipip, "198.18.0.1".into()));
/// ```
pub fn summarize_inner(link_type: u16, data: &[u8]) -> Option<PacketSummary> {
    let mut s = summarize(link_type, data)?;
    // Nearly every packet: no tunnel protocol or port, nothing more to read, and exactly the
    // path of `summarize`. Tunnel candidates re-read their (already checked) headers for the
    // transport slice.
    if !may_be_tunnel(&s) {
        return Some(s);
    }
    if let Some((inner, _)) = open_tunnels(link_type, data, s) {
        s = inner;
    }
    Some(s)
}

/// The innermost packet of a tunnel candidate `s` (the summary of `data`) and its transport
/// segment, with `tunnel` set; `None` when `s` is no tunnel we open.
fn open_tunnels(link_type: u16, data: &[u8], s: PacketSummary) -> Option<(PacketSummary, &[u8])> {
    let (ethertype, payload, link_direction) = link(link_type, data)?;
    let (_, mut l4) = network(ethertype, payload)?;
    let mut tunnel: Option<Tunnel> = None;
    let mut outer = s;
    for _ in 0..MAX_TUNNEL_DEPTH {
        let Some((kind, id, ty, inner)) = decapsulate(&outer, l4) else {
            break;
        };
        let Some((next, next_l4)) = network(ty, inner) else {
            break;
        };
        tunnel.get_or_insert(Tunnel {
            kind,
            id,
            src: outer.src,
            dst: outer.dst,
        });
        (outer, l4) = (next, next_l4);
    }
    tunnel?;
    outer.tunnel = tunnel;
    outer.link_direction = link_direction;
    Some((outer, l4))
}

/// [`transport_payload`] of the packet [`summarize_inner`] summarizes: for an encapsulated
/// packet, the innermost packet's TCP or UDP payload (not a later fragment).
pub fn inner_transport_payload(link_type: u16, data: &[u8]) -> Option<&[u8]> {
    let s = summarize(link_type, data)?;
    if !may_be_tunnel(&s) {
        return transport_payload(link_type, data);
    }
    match open_tunnels(link_type, data, s) {
        Some((inner, l4)) if !inner.later_fragment => segment_payload(inner.protocol, l4),
        Some(_) => None,
        None => transport_payload(link_type, data),
    }
}

/// A UDP port of a tunnel [`summarize_inner`] opens (VXLAN 4789 and 8472, VXLAN-GPE 4790,
/// Geneve 6081), either end.
pub fn is_tunnel_port(p: u16) -> bool {
    matches!(p, 4789 | 4790 | 6081 | 8472)
}

/// Whether `s` may be a tunnel's packet: IPIP, IPv6 in IP, GRE, or UDP on a tunnel's port.
fn may_be_tunnel(s: &PacketSummary) -> bool {
    match s.protocol {
        ipproto::IPIP | ipproto::IPV6 | ipproto::GRE => !s.later_fragment,
        ipproto::UDP => matches!(
            s.transport,
            Transport::Udp { src_port, dst_port, .. } if is_tunnel_port(src_port) || is_tunnel_port(dst_port)
        ),
        _ => false,
    }
}

/// The IP packet of `ethertype` at the start of `b`: its summary and its transport segment
/// (the bytes after the IP header and the extension headers we walk, clipped to the IP length).
fn network(ethertype: u16, b: &[u8]) -> Option<(PacketSummary, &[u8])> {
    match ethertype {
        ethertype::IPV4 => {
            let s = ipv4(b)?;
            // `ipv4` checked the header length against the buffer.
            let h = usize::from(b[0] & 0x0f) * 4;
            let end = usize::from(get_be16(b, 2)?).clamp(h, b.len());
            Some((s, &b[h..end]))
        }
        ethertype::IPV6 => ipv6(b),
        _ => None,
    }
}

/// The payload of the tunnel `s` is a packet of, if it is one: (kind, VNI or key, the
/// payload's EtherType, the payload). Ethernet payloads are opened here (their VLAN tags
/// skipped), so the EtherType is always the network protocol's.
fn decapsulate<'a>(
    s: &PacketSummary,
    l4: &'a [u8],
) -> Option<(TunnelKind, Option<u32>, u16, &'a [u8])> {
    if s.later_fragment {
        return None;
    }
    let v6 = s.src.is_ipv6();
    match s.protocol {
        ipproto::IPIP => {
            let kind = if v6 {
                TunnelKind::Ip6tnl
            } else {
                TunnelKind::Ipip
            };
            Some((kind, None, ethertype::IPV4, l4))
        }
        ipproto::IPV6 => {
            let kind = if v6 {
                TunnelKind::Ip6tnl
            } else {
                TunnelKind::Sit
            };
            Some((kind, None, ethertype::IPV6, l4))
        }
        ipproto::GRE => gre(l4),
        ipproto::UDP => {
            let (sp, dp) = match s.transport {
                Transport::Udp {
                    src_port, dst_port, ..
                } if is_tunnel_port(src_port) || is_tunnel_port(dst_port) => (src_port, dst_port),
                _ => return None,
            };
            let udp = UdpPacket::new_checked(l4).ok()?;
            let end = usize::from(udp.len()).clamp(8, l4.len());
            let p = l4.get(8..end)?;
            let either = |port: u16| sp == port || dp == port;
            // tcpdump's dispatch (either port), VXLAN first as in its udp_print.
            if either(4789) {
                vxlan(p, false)
            } else if either(4790) {
                vxlan_gpe(p)
            } else if either(6081) {
                geneve(p)
            } else if either(8472) {
                vxlan(p, true)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The EtherType and payload of an Ethernet frame `b`.
fn ethernet_payload(b: &[u8]) -> Option<(u16, &[u8])> {
    let eth = EthernetFrame::new_checked(b).ok()?;
    let (ty, off) = eth.inner()?;
    Some((ty, b.get(off..)?))
}

/// RFC 7348: flags (I = 0x08), 3 reserved bytes, the VNI, a reserved byte, then Ethernet.
/// `strict` (port 8472, which tcpdump does not decode): the flags exactly I, reserved zero.
fn vxlan(p: &[u8], strict: bool) -> Option<(TunnelKind, Option<u32>, u16, &[u8])> {
    let h = p.get(..8)?;
    if h[0] & 0x08 == 0 || (strict && (h[0] != 0x08 || h[1..4] != [0, 0, 0] || h[7] != 0)) {
        return None;
    }
    let vni = u32::from_be_bytes([0, h[4], h[5], h[6]]);
    let (ty, inner) = ethernet_payload(&p[8..])?;
    Some((TunnelKind::Vxlan, Some(vni), ty, inner))
}

/// VXLAN-GPE: flags, 2 reserved bytes, next protocol (1 IPv4, 2 IPv6, 3 Ethernet), VNI.
fn vxlan_gpe(p: &[u8]) -> Option<(TunnelKind, Option<u32>, u16, &[u8])> {
    let h = p.get(..8)?;
    let vni = (h[0] & 0x08 != 0).then(|| u32::from_be_bytes([0, h[4], h[5], h[6]]));
    let rest = &p[8..];
    let (ty, inner) = match h[3] {
        1 => (ethertype::IPV4, rest),
        2 => (ethertype::IPV6, rest),
        3 => ethernet_payload(rest)?,
        _ => return None,
    };
    Some((TunnelKind::VxlanGpe, vni, ty, inner))
}

/// RFC 8926: version (0) and option length in 4-byte words, flags, protocol type, VNI,
/// reserved, the options, then the payload of the protocol type.
fn geneve(p: &[u8]) -> Option<(TunnelKind, Option<u32>, u16, &[u8])> {
    let h = p.get(..8)?;
    if h[0] >> 6 != 0 {
        return None;
    }
    let opts = usize::from(h[0] & 0x3f) * 4;
    let vni = u32::from_be_bytes([0, h[4], h[5], h[6]]);
    let rest = p.get(8 + opts..)?;
    let (ty, inner) = match u16::from_be_bytes([h[2], h[3]]) {
        ethertype::TEB => ethernet_payload(rest)?,
        ty => (ty, rest),
    };
    Some((TunnelKind::Geneve, Some(vni), ty, inner))
}

/// GRE version 0: C, R, K, S bits and the protocol type, then the checksum and offset (C or
/// R), the key (K) and the sequence number (S), 4 bytes each; source routing (R) is refused,
/// as RFC 2784 deprecates it.
fn gre(p: &[u8]) -> Option<(TunnelKind, Option<u32>, u16, &[u8])> {
    let flags = get_be16(p, 0)?;
    if flags & 0x0007 != 0 || flags & 0x4000 != 0 {
        return None;
    }
    let mut off = 4;
    if flags & 0x8000 != 0 {
        off += 4;
    }
    let key = if flags & 0x2000 != 0 {
        let k = get_be32(p, off)?;
        off += 4;
        Some(k)
    } else {
        None
    };
    if flags & 0x1000 != 0 {
        off += 4;
    }
    let rest = p.get(off..)?;
    let (ty, inner) = match get_be16(p, 2)? {
        ethertype::TEB => ethernet_payload(rest)?,
        ty => (ty, rest),
    };
    Some((TunnelKind::Gre, key, ty, inner))
}

/// The network protocol (as an EtherType), the bytes after the link header and the direction
/// a cooked header states.
/// The TCP or UDP payload of a packet as captured (IPv4, or IPv6 without extension headers;
/// not a later fragment): for the application-layer facts analysis reads (DNS answers, TLS
/// server names, HTTP hosts).
pub fn transport_payload(link_type: u16, data: &[u8]) -> Option<&[u8]> {
    let (ethertype, ip, _) = link(link_type, data)?;
    let (proto, rest): (u8, &[u8]) = match ethertype {
        ethertype::IPV4 => {
            let v = Ipv4Packet::new_checked(ip).ok()?;
            if v.version() != 4 || v.frag_offset() != 0 {
                return None;
            }
            let (h, total) = (v.header_len(), usize::from(v.total_len()));
            (v.protocol(), ip.get(h..total.clamp(h, ip.len()))?)
        }
        ethertype::IPV6 => {
            let v = Ipv6Packet::new_checked(ip).ok()?;
            if v.version() != 6 {
                return None;
            }
            let end = (40 + usize::from(v.payload_len())).min(ip.len());
            (v.next_header(), ip.get(40..end)?)
        }
        _ => return None,
    };
    segment_payload(proto, rest)
}

/// The payload of the TCP or UDP segment `rest`.
fn segment_payload(proto: u8, rest: &[u8]) -> Option<&[u8]> {
    match proto {
        ipproto::TCP => {
            let h = TcpPacket::new_checked(rest).ok()?.header_len().max(20);
            rest.get(h..)
        }
        ipproto::UDP => {
            let l = usize::from(UdpPacket::new_checked(rest).ok()?.len());
            rest.get(8..l.clamp(8, rest.len()))
        }
        _ => None,
    }
}

fn link(link_type: u16, data: &[u8]) -> Option<(u16, &[u8], Option<Direction>)> {
    let cooked_direction = |t: u8| match t {
        pkttype::OUTGOING => Some(Direction::Out),
        pkttype::HOST => Some(Direction::In),
        _ => None,
    };
    match link_type {
        linktype::ETHERNET => {
            let eth = EthernetFrame::new_checked(data).ok()?;
            let (ty, off) = eth.inner()?;
            Some((ty, data.get(off..)?, None))
        }
        linktype::LINUX_SLL => {
            let sll = SllPacket::new_checked(data).ok()?;
            let (ty, rest) =
                skip_vlan(sll.protocol(), data.get(SllPacket::<&[u8]>::HEADER_LEN..)?)?;
            let dir = u8::try_from(sll.pkttype()).ok().and_then(cooked_direction);
            Some((ty, rest, dir))
        }
        linktype::LINUX_SLL2 => {
            let sll = Sll2Packet::new_checked(data).ok()?;
            let (ty, rest) =
                skip_vlan(sll.protocol(), data.get(Sll2Packet::<&[u8]>::HEADER_LEN..)?)?;
            Some((ty, rest, cooked_direction(sll.pkttype())))
        }
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => {
            let ty = match data.first()? >> 4 {
                4 if link_type != linktype::IPV6 => ethertype::IPV4,
                6 if link_type != linktype::IPV4 => ethertype::IPV6,
                _ => return None,
            };
            Some((ty, data, None))
        }
        linktype::NULL | linktype::LOOP => {
            let raw = get_be32(data, 0)?;
            let family = if link_type == linktype::LOOP {
                raw
            } else {
                // NULL is in the capturing host's byte order: the family is small.
                let le = raw.swap_bytes();
                if le & 0xffff_0000 != 0 {
                    raw
                } else {
                    le
                }
            };
            let ty = match family {
                2 => ethertype::IPV4,
                // AF_INET6 on Linux, the BSDs and macOS.
                10 | 24 | 28 | 30 => ethertype::IPV6,
                _ => return None,
            };
            Some((ty, data.get(4..)?, None))
        }
        _ => None,
    }
}

/// Skips 802.1Q/802.1ad tags that follow a cooked header (no VLAN offload).
fn skip_vlan(mut ty: u16, mut rest: &[u8]) -> Option<(u16, &[u8])> {
    while ty == ethertype::VLAN || ty == ethertype::QINQ {
        ty = get_be16(rest, 2)?;
        rest = rest.get(4..)?;
    }
    Some((ty, rest))
}

fn ipv4(b: &[u8]) -> Option<PacketSummary> {
    let ip = Ipv4Packet::new_checked(b).ok()?;
    if ip.version() != 4 {
        return None;
    }
    let ip_len = u32::from(ip.total_len());
    let later_fragment = ip.frag_offset() != 0;
    let announced = ip_len.checked_sub(ip.header_len() as u32);
    let transport = if later_fragment {
        Transport::None
    } else {
        transport(ip.protocol(), ip.payload(), announced, false)
    };
    Some(PacketSummary {
        src: IpAddr::V4(Ipv4Addr::from(ip.src())),
        dst: IpAddr::V4(Ipv4Addr::from(ip.dst())),
        protocol: ip.protocol(),
        ip_len,
        later_fragment,
        link_direction: None,
        transport,
        tunnel: None,
    })
}

fn ipv6(b: &[u8]) -> Option<(PacketSummary, &[u8])> {
    let ip = Ipv6Packet::new_checked(b).ok()?;
    if ip.version() != 6 {
        return None;
    }
    let mut next = ip.next_header();
    let mut rest: &[u8] = &b[40..(40 + usize::from(ip.payload_len())).min(b.len())];
    // Payload length zero is a jumbogram or offload: fall back to what was captured.
    let mut remaining = match ip.payload_len() {
        0 => None,
        n => Some(u32::from(n)),
    };
    let mut later_fragment = false;
    let mut walked = 0;
    while is_extension(next) && walked < 16 {
        walked += 1;
        let Ok(ext) = ExtHeader::parse(next, rest) else {
            // Cut short inside the extension headers: addresses, no transport.
            return Some((v6_summary(&ip, next, false, Transport::None), &[]));
        };
        if next == ipproto::FRAGMENT && ext.frag_offset() != 0 {
            later_fragment = true;
        }
        next = ext.next_header();
        rest = rest.get(ext.len()..).unwrap_or(&[]);
        remaining = remaining.map(|r| r.saturating_sub(ext.len() as u32));
    }
    let transport = if later_fragment || is_extension(next) {
        Transport::None
    } else {
        transport(next, rest, remaining, true)
    };
    Some((v6_summary(&ip, next, later_fragment, transport), rest))
}

fn v6_summary(
    ip: &Ipv6Packet<&[u8]>,
    protocol: u8,
    later_fragment: bool,
    transport: Transport,
) -> PacketSummary {
    PacketSummary {
        src: IpAddr::V6(Ipv6Addr::from(ip.src())),
        dst: IpAddr::V6(Ipv6Addr::from(ip.dst())),
        protocol,
        ip_len: 40 + u32::from(ip.payload_len()),
        later_fragment,
        link_direction: None,
        transport,
        tunnel: None,
    }
}

/// `announced`: the transport segment's length per the IP header, when it gives one.
fn transport(proto: u8, b: &[u8], announced: Option<u32>, v6: bool) -> Transport {
    match proto {
        ipproto::TCP => {
            let Ok(tcp) = TcpPacket::new_checked(b) else {
                return Transport::None;
            };
            let header = tcp.header_len().max(20) as u32;
            let payload_len = match announced {
                Some(n) if n > 0 => n.saturating_sub(header),
                _ => tcp.payload().len() as u32,
            };
            Transport::Tcp(TcpSummary {
                src_port: tcp.src_port(),
                dst_port: tcp.dst_port(),
                flags: tcp.flags(),
                seq: tcp.seq(),
                ack: tcp.ack(),
                window: tcp.window(),
                payload_len,
            })
        }
        ipproto::UDP => {
            let Ok(udp) = UdpPacket::new_checked(b) else {
                return Transport::None;
            };
            Transport::Udp {
                src_port: udp.src_port(),
                dst_port: udp.dst_port(),
                payload_len: u32::from(udp.len()).saturating_sub(8),
            }
        }
        ipproto::ICMP | ipproto::ICMPV6 if (proto == ipproto::ICMPV6) == v6 => {
            let Ok(icmp) = IcmpPacket::new_checked(b) else {
                return Transport::None;
            };
            let t = icmp.msg_type();
            let echo = if v6 {
                t == 128 || t == 129
            } else {
                t == 8 || t == 0
            };
            Transport::Icmp {
                v6,
                msg_type: t,
                code: icmp.code(),
                echo_id: echo.then(|| icmp.echo_ident()),
            }
        }
        _ => Transport::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_tcp(flags: u8, total: u16, captured_payload: usize) -> Vec<u8> {
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
        p.extend_from_slice(&[198, 18, 0, 1, 198, 18, 0, 2]);
        p.extend_from_slice(&[
            0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, flags, 0x01, 0x00, 0, 0, 0, 0,
        ]);
        p.extend(std::iter::repeat_n(b'x', captured_payload));
        p
    }

    #[test]
    fn tcp_fields_and_wire_payload_length() {
        // 100 payload bytes announced, 10 captured (snaplen).
        let p = v4_tcp(0x18, 140, 10);
        let s = summarize(linktype::RAW, &p).unwrap();
        let t = s.tcp().unwrap();
        assert_eq!(
            (t.src_port, t.dst_port, t.seq, t.ack, t.window),
            (40000, 8080, 1, 2, 256)
        );
        assert_eq!((t.flags, t.payload_len, s.ip_len), (0x18, 100, 140));
    }

    #[test]
    fn vlan_sll2_and_null() {
        let ip = v4_tcp(0x02, 40, 0);
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x81, 0x00, 0, 5, 0x08, 0x00]);
        eth.extend_from_slice(&ip);
        assert!(summarize(linktype::ETHERNET, &eth).unwrap().tcp().is_some());
        let mut sll2 = vec![
            0x08, 0, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        sll2.extend_from_slice(&ip);
        let s = summarize(linktype::LINUX_SLL2, &sll2).unwrap();
        assert_eq!(s.link_direction, Some(Direction::Out));
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(&ip);
        assert!(summarize(linktype::NULL, &null).is_some());
        let mut lo = 2u32.to_be_bytes().to_vec();
        lo.extend_from_slice(&ip);
        assert!(summarize(linktype::LOOP, &lo).is_some());
        assert!(summarize(linktype::ETHERNET, &eth[..16]).is_none());
    }

    #[test]
    fn icmpv6_echo_after_extension_header() {
        let mut p = vec![0x60, 0, 0, 0, 0, 16, 0, 64];
        p.extend_from_slice(&[0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        // Hop-by-hop (8 bytes) then ICMPv6 echo request id 0x1234.
        p.extend_from_slice(&[58, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[128, 0, 0, 0, 0x12, 0x34, 0, 1]);
        let s = summarize(linktype::RAW, &p).unwrap();
        assert_eq!(s.protocol, 58);
        assert_eq!(
            s.transport,
            Transport::Icmp {
                v6: true,
                msg_type: 128,
                code: 0,
                echo_id: Some(0x1234)
            }
        );
    }

    fn v4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut p = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0,
            0,
            64,
            proto,
            0,
            0,
        ];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(payload);
        p
    }

    fn v6(next: u8, last: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        for end in [1, last] {
            p.extend_from_slice(&[0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, end]);
        }
        p.extend_from_slice(payload);
        p
    }

    fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = sport.to_be_bytes().to_vec();
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        u
    }

    fn ether(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        f.extend_from_slice(&ty.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    const OUT_A: [u8; 4] = [198, 18, 9, 1];
    const OUT_B: [u8; 4] = [198, 18, 9, 2];

    /// The inner packet: a TCP SYN 198.18.0.1:40000 > 198.18.0.2:8080.
    fn inner() -> Vec<u8> {
        v4_tcp(0x02, 40, 0)
    }

    fn outer_udp(dport: u16, payload: &[u8]) -> Vec<u8> {
        ether(0x0800, &v4(17, OUT_A, OUT_B, &udp(51000, dport, payload)))
    }

    fn check(frame: &[u8], kind: TunnelKind, id: Option<u32>) {
        let outer = summarize(linktype::ETHERNET, frame).unwrap();
        assert_eq!(
            (outer.src.to_string(), outer.tunnel),
            ("198.18.9.1".into(), None)
        );
        let s = summarize_inner(linktype::ETHERNET, frame).unwrap();
        assert_eq!(s.src.to_string(), "198.18.0.1", "{kind:?}");
        assert_eq!(s.ports(), Some((40000, 8080)), "{kind:?}");
        assert_eq!((s.protocol, s.ip_len), (6, 40), "{kind:?}");
        let t = s.tunnel.unwrap();
        assert_eq!((t.kind, t.id), (kind, id));
        assert_eq!(
            (t.src.to_string(), t.dst.to_string()),
            ("198.18.9.1".into(), "198.18.9.2".into())
        );
        // Every cut of the frame: no panic; either the inner packet or the outer one.
        for cut in 0..frame.len() {
            if let Some(c) = summarize_inner(linktype::ETHERNET, &frame[..cut]) {
                assert!(c.tunnel.is_none() || c.src == s.src, "{kind:?} cut {cut}");
            }
        }
    }

    #[test]
    fn udp_tunnels_open_to_the_inner_packet() {
        let mut vx = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
        vx.extend_from_slice(&ether(0x0800, &inner()));
        check(&outer_udp(4789, &vx), TunnelKind::Vxlan, Some(42));
        check(&outer_udp(8472, &vx), TunnelKind::Vxlan, Some(42));
        // 8472 is not tcpdump's VXLAN port: only a strict header opens there.
        let mut loose = vx.clone();
        loose[1] = 1;
        let s = summarize_inner(linktype::ETHERNET, &outer_udp(8472, &loose)).unwrap();
        assert_eq!((s.tunnel, s.protocol), (None, 17));
        assert!(
            summarize_inner(linktype::ETHERNET, &outer_udp(4789, &loose))
                .unwrap()
                .tunnel
                .is_some()
        );
        let mut gpe = vec![0x0c, 0, 0, 1, 0, 1, 0, 0];
        gpe.extend_from_slice(&inner());
        check(&outer_udp(4790, &gpe), TunnelKind::VxlanGpe, Some(256));
        // Geneve, TEB with 8 bytes of options; and IPv4 directly.
        let mut gen = vec![
            2, 0, 0x65, 0x58, 0, 0x12, 0x34, 0, 1, 2, 0x81, 1, 0, 0, 0, 0,
        ];
        gen.extend_from_slice(&ether(0x0800, &inner()));
        check(&outer_udp(6081, &gen), TunnelKind::Geneve, Some(0x1234));
        let mut gen4 = vec![0, 0, 0x08, 0, 0, 0, 7, 0];
        gen4.extend_from_slice(&inner());
        check(&outer_udp(6081, &gen4), TunnelKind::Geneve, Some(7));
    }

    #[test]
    fn gre_and_ip_in_ip_open_to_the_inner_packet() {
        // GRE: checksum, key 0xdeadbeef and sequence number; then TEB; then plain IPv6 inner.
        let mut g = vec![
            0xb0, 0, 0x08, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 9,
        ];
        g.extend_from_slice(&inner());
        check(
            &ether(0x0800, &v4(47, OUT_A, OUT_B, &g)),
            TunnelKind::Gre,
            Some(0xdead_beef),
        );
        let mut teb = vec![0, 0, 0x65, 0x58];
        teb.extend_from_slice(&ether(0x0800, &inner()));
        check(
            &ether(0x0800, &v4(47, OUT_A, OUT_B, &teb)),
            TunnelKind::Gre,
            None,
        );
        // Source routing (R) and version 1 (PPTP) are not opened.
        for bad in [[0x40, 0, 0x08, 0], [0, 1, 0x08, 0]] {
            let p = ether(
                0x0800,
                &v4(47, OUT_A, OUT_B, &[&bad[..], &inner()].concat()),
            );
            assert_eq!(
                summarize_inner(linktype::ETHERNET, &p).unwrap().tunnel,
                None
            );
        }
        check(
            &ether(0x0800, &v4(4, OUT_A, OUT_B, &inner())),
            TunnelKind::Ipip,
            None,
        );
        let s6 = v6(6, 2, &inner()[20..]);
        let sit = ether(0x0800, &v4(41, OUT_A, OUT_B, &s6));
        let s = summarize_inner(linktype::ETHERNET, &sit).unwrap();
        assert_eq!(
            (s.src.to_string(), s.ports()),
            ("fd00:198:18::1".into(), Some((40000, 8080)))
        );
        assert_eq!(s.tunnel.unwrap().kind, TunnelKind::Sit);
        let p = ether(0x86dd, &v6(4, 2, &inner()));
        let s = summarize_inner(linktype::ETHERNET, &p).unwrap();
        assert_eq!(
            (s.src.to_string(), s.tunnel.unwrap().kind),
            ("198.18.0.1".into(), TunnelKind::Ip6tnl)
        );
        assert_eq!(s.tunnel.unwrap().src.to_string(), "fd00:198:18::1");
    }

    #[test]
    fn nested_tunnels_give_the_innermost_packet_and_the_outermost_tunnel() {
        let mut vx = vec![0x08, 0, 0, 0, 0, 0, 5, 0];
        vx.extend_from_slice(&ether(
            0x0800,
            &v4(4, [10, 0, 0, 1], [10, 0, 0, 2], &inner()),
        ));
        let s = summarize_inner(linktype::ETHERNET, &outer_udp(4789, &vx)).unwrap();
        assert_eq!(s.src.to_string(), "198.18.0.1");
        let t = s.tunnel.unwrap();
        assert_eq!(
            (t.kind, t.id, t.src.to_string()),
            (TunnelKind::Vxlan, Some(5), "198.18.9.1".into())
        );
    }

    #[test]
    fn a_tunnel_without_an_ip_payload_stays_the_outer_packet() {
        let mut vx = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
        vx.extend_from_slice(&ether(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1]));
        let f = outer_udp(4789, &vx);
        assert_eq!(
            summarize_inner(linktype::ETHERNET, &f),
            summarize(linktype::ETHERNET, &f)
        );
        // A plain packet: summarize_inner is summarize.
        let p = v4_tcp(0x18, 140, 10);
        assert_eq!(
            summarize_inner(linktype::RAW, &p),
            summarize(linktype::RAW, &p)
        );
    }
}

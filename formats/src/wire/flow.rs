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

/// Summarizes a packet of link type `link_type`; `None` when it holds no IP header we can read.
pub fn summarize(link_type: u16, data: &[u8]) -> Option<PacketSummary> {
    let (ethertype, payload, link_direction) = link(link_type, data)?;
    let mut s = match ethertype {
        ethertype::IPV4 => ipv4(payload)?,
        ethertype::IPV6 => ipv6(payload)?,
        _ => return None,
    };
    s.link_direction = link_direction;
    Some(s)
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
    })
}

fn ipv6(b: &[u8]) -> Option<PacketSummary> {
    let ip = Ipv6Packet::new_checked(b).ok()?;
    if ip.version() != 6 {
        return None;
    }
    let mut next = ip.next_header();
    let mut rest = ip.payload();
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
            return Some(v6_summary(&ip, next, false, Transport::None));
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
    Some(v6_summary(&ip, next, later_fragment, transport))
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
}

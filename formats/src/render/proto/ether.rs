//! Ethernet and the EtherType dispatch (tcpdump's `print-ether.c`).

use super::{trunc, Printer};
use crate::render::text::Out;
use crate::wire::ethernet::EthernetFrame;
use crate::wire::{ethertype, get_be16};

const ETHERTYPE_LLDP: u16 = 0x88cc;
/// The largest 802.3 length field; larger values are EtherTypes.
const MAX_LENGTH: u16 = 1500;

impl Printer<'_> {
    /// An Ethernet frame (a capture's link layer, or the inner frame of VXLAN, Geneve and
    /// GRE); `wire_len` is its length on the wire. Returns the header length.
    pub(super) fn ether(&mut self, data: &[u8], wire_len: u32) -> usize {
        let Ok(eth) = EthernetFrame::new_checked(data) else {
            trunc(self.out, "ether");
            return data.len();
        };
        if self.opts.link_header {
            return self.ethernet_header(data, wire_len);
        }
        let Some((ty, off)) = eth.inner() else {
            trunc(self.out, "vlan");
            return data.len();
        };
        if off == 14 && ty <= MAX_LENGTH && super::stp::is_stp_llc(&data[14..]) {
            self.llc_stp(&data[14..], usize::from(ty));
            return off;
        }
        if off == 14 && ty <= MAX_LENGTH && self.llc_handled(data, ty) {
            self.llc_other(data, usize::from(ty));
            return off;
        }
        if off == 14
            && !matches!(
                ty,
                ethertype::IPV4
                    | ethertype::IPV6
                    | ethertype::ARP
                    | ETHERTYPE_LLDP
                    | super::slow::ETHERTYPE
            )
        {
            // tcpdump shows the addresses of a frame it cannot decode, -e or not.
            return self.ethernet_header(data, wire_len);
        }
        let len = (wire_len as usize).saturating_sub(off);
        self.ethertype(ty, &data[off..], len, wire_len);
        off
    }

    /// Whether `llc.rs` prints this 802.3 frame (its LLC part cut to the length field).
    fn llc_handled(&self, data: &[u8], length: u16) -> bool {
        let p = &data[14.min(data.len())..];
        super::llc::handled(&p[..p.len().min(usize::from(length))])
    }

    /// `-e` on Ethernet: `SRC > DST, ethertype NAME (0xXXXX), length N: ` (VLAN tags as
    /// `vlan V, p P, ethertype ...`; `-q`: the name only), then the payload without its own
    /// protocol label, as tcpdump prints it. Returns the link-layer header length.
    pub(super) fn ethernet_header(&mut self, data: &[u8], orig_len: u32) -> usize {
        let mut ty = get_be16(data, 12).unwrap_or(0);
        self.out.lladdr(&data[6..12]);
        self.out.s(" > ");
        self.out.lladdr(&data[0..6]);
        self.out.s(", ");
        if ty <= MAX_LENGTH && super::stp::is_stp_llc(&data[14..]) {
            // An 802.3 frame: the field is the length of the LLC part.
            self.out.s("802.3, length ");
            self.out.n(ty);
            self.out.s(": ");
            self.llc_stp(&data[14..], usize::from(ty));
            return 14;
        }
        if ty <= MAX_LENGTH && self.llc_handled(data, ty) {
            self.out.s("802.3, length ");
            self.out.n(ty);
            self.out.s(": ");
            self.llc_other(data, usize::from(ty));
            return 14;
        }
        if (ty == ethertype::VLAN || ty == ethertype::QINQ) && data.len() < 18 {
            // tcpdump checks that the tag was captured before it names the type.
            trunc(self.out, "vlan");
            return data.len();
        }
        self.ether_type_name(ty);
        self.out.s(", length ");
        self.out.n(orig_len);
        self.out.s(": ");
        let mut off = 14;
        while ty == ethertype::VLAN || ty == ethertype::QINQ {
            let (Some(tci), Some(inner)) = (get_be16(data, off), get_be16(data, off + 2)) else {
                trunc(self.out, "vlan");
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
            if (ty == ethertype::VLAN || ty == ethertype::QINQ) && data.len() < off + 4 {
                trunc(self.out, "vlan");
                return data.len();
            }
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
            ETHERTYPE_LLDP => self.lldp(payload, (orig_len as usize).saturating_sub(off)),
            super::slow::ETHERTYPE => {
                self.slow(payload, (orig_len as usize).saturating_sub(off));
            }
            _ => self.default_print(payload),
        }
        off
    }

    /// `ethertype NAME (0xXXXX)`, or `NAME` with `-q` (tcpdump's ether_type_print).
    pub(super) fn ether_type_name(&mut self, ty: u16) {
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
    pub(super) fn link_addr(&mut self, a: &[u8]) {
        if a.is_empty() {
            self.out.s("<empty>");
        } else {
            self.out.lladdr(a);
        }
        self.out.c(b' ');
    }

    /// SLL/SLL2 with `-e`: `ethertype NAME (0xXXXX), length N: ` (nothing with `-q`).
    pub(super) fn cooked_type(&mut self, ty: u16, orig_len: u32) {
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

    pub(super) fn ethertype(&mut self, ty: u16, payload: &[u8], length: usize, frame_len: u32) {
        match ty {
            ethertype::IPV4 => self.ipv4(payload),
            ethertype::IPV6 => self.ipv6(payload),
            ethertype::ARP => self.arp(payload, length),
            ETHERTYPE_LLDP => self.lldp(payload, length),
            super::slow::ETHERTYPE => self.slow(payload, length),
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
}

/// `, proto NAME (0xTTTT)`, as tcpdump's `-e` shows a tunnel's inner EtherType (GRE, Geneve).
pub(super) fn inner_proto(out: &mut Vec<u8>, proto: u16) {
    out.s(", proto ");
    let name = ethertype_name(proto);
    out.s(if name == "Unknown" { "unknown" } else { name });
    out.s(" (0x");
    out.hex(u32::from(proto), 4);
    out.c(b')');
}

/// tcpdump's name of an EtherType (`ethertype_values`), `Unknown` otherwise.
pub(super) fn ethertype_name(ty: u16) -> &'static str {
    match ty {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x86dd => "IPv6",
        0x8100 => "802.1Q",
        0x88a8 => "802.1Q-QinQ",
        0x9100 => "802.1Q-9100",
        0x8035 => "Reverse ARP",
        0x88cc => "LLDP",
        0x8809 => "Slow Protocols",
        0x8847 => "MPLS unicast",
        0x8848 => "MPLS multicast",
        0x888e => "EAPOL",
        0x8863 => "PPPoE D",
        0x8864 => "PPPoE S",
        0x88e5 => "MACsec",
        0x88f7 => "PTP",
        0x9000 => "Loopback",
        0x893a => "IEEE1905.1",
        0x6558 => "TEB",
        0x880b => "PPP",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_on;

    #[test]
    fn frames_it_cannot_decode_show_their_addresses() {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5, 0xab];
        assert_eq!(
            line_on(1, &f, 0),
            "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype Unknown (0x88b5), length 15: \n\t0x0000:  ab                                       ."
        );
        f.truncate(10);
        assert_eq!(line_on(1, &f, 0), " [|ether]");
    }
}

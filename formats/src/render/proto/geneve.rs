//! Geneve (tcpdump's `print-geneve.c`, UDP port 6081): flags, VNI, options, then the inner
//! packet by its EtherType.

use super::{flag_names, trunc, Printer};
use crate::render::text::Out;
use crate::wire::{ethertype, get_be16, get_be32};

/// The IANA port.
pub(super) const PORT: u16 = 6081;
const HEADER_LEN: usize = 8;

impl Printer<'_> {
    /// `b`: the UDP payload as captured; `len`: its length from the UDP header.
    pub(super) fn geneve(&mut self, b: &[u8], len: usize) {
        self.out.s("Geneve");
        let Some(h) = b.get(..HEADER_LEN) else {
            trunc(self.out, "geneve");
            return;
        };
        let version = h[0] >> 6;
        if version != 0 {
            self.out.s(" ERROR: unknown-version ");
            self.out.n(version);
            return;
        }
        let (flags, proto) = (h[1], u16::from_be_bytes([h[2], h[3]]));
        let vni = u32::from_be_bytes([0, h[4], h[5], h[6]]);
        self.out.s(", Flags [");
        flag_names(
            self.out,
            flags.into(),
            "",
            &[
                (0x80, "O"),
                (0x40, "C"),
                (0x20, "R1"),
                (0x10, "R2"),
                (0x08, "R3"),
                (0x04, "R4"),
                (0x02, "R5"),
                (0x01, "R6"),
            ],
        );
        self.out.s("], vni 0x");
        self.out.hexn(vni);
        if h[7] != 0 {
            self.out.s(", rsvd 0x");
            self.out.hexn(u32::from(h[7]));
        }
        if self.opts.link_header {
            super::ether::inner_proto(self.out, proto);
        }
        let opts_len = usize::from(h[0] & 0x3f) * 4;
        let rest = len.saturating_sub(HEADER_LEN);
        if rest < opts_len {
            self.out.s(" truncated-geneve - ");
            self.out.n(opts_len - rest);
            self.out.s(" bytes missing");
            return;
        }
        let Some(opts) = b.get(HEADER_LEN..HEADER_LEN + opts_len) else {
            trunc(self.out, "geneve");
            return;
        };
        if opts_len > 0 {
            self.out.s(", options [");
            if self.opts.verbose > 0 {
                if self.geneve_options(opts).is_none() {
                    trunc(self.out, "geneve");
                    return;
                }
            } else {
                self.out.n(opts_len);
                self.out.s(" bytes");
            }
            self.out.c(b']');
        }
        self.out
            .s(if self.opts.verbose > 0 { "\n\t" } else { ": " });
        let inner = &b[HEADER_LEN + opts_len..];
        let ilen = rest - opts_len;
        match proto {
            ethertype::IPV4 => self.ipv4(inner),
            ethertype::IPV6 => self.ipv6(inner),
            ethertype::ARP => self.arp(inner, ilen),
            ethertype::TEB => {
                self.ether(inner, ilen as u32);
            }
            p => {
                self.out.s("geneve-proto-0x");
                self.out.hexn(u32::from(p));
            }
        }
    }

    /// `-v`: each option's class, type and length (`-vv`: and its data); `None` where the
    /// capture ends.
    fn geneve_options(&mut self, mut o: &[u8]) -> Option<()> {
        let mut first = true;
        while !o.is_empty() {
            if !first {
                self.out.s(", ");
            }
            first = false;
            let class = get_be16(o, 0)?;
            let ty = *o.get(2)?;
            let olen = 4 + usize::from(*o.get(3)? & 0x1f) * 4;
            self.out.s("class ");
            self.out.s(match class {
                0x0100 => "Linux",
                0x0101 => "Open vSwitch",
                0x0102 => "Open Virtual Networking (OVN)",
                0x0103 => "In-band Network Telemetry (INT)",
                0x0104 => "VMware",
                0..=0xff => "Standard",
                0xfff0.. => "Experimental",
                _ => "Unknown",
            });
            self.out.s(" (0x");
            self.out.hexn(u32::from(class));
            self.out.s(") type 0x");
            self.out.hexn(u32::from(ty));
            if ty & 0x80 != 0 {
                self.out.s("(C)");
            }
            self.out.s(" len ");
            self.out.n(olen);
            if olen > o.len() {
                self.out.s(" [bad length]");
                return Some(());
            }
            if self.opts.verbose > 1 && olen > 4 {
                self.out.s(" data");
                for i in (4..olen).step_by(4) {
                    self.out.c(b' ');
                    self.out.hex(get_be32(o, i)?, 8);
                }
            }
            o = &o[olen..];
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_v;

    #[test]
    fn header_options_and_inner_packet() {
        // 198.18.0.1.40000 > 198.18.0.2.6081, one 8-byte OVN option, an inner UDP datagram.
        let mut p = vec![
            0x45, 0, 0, 73, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
        ];
        p.extend_from_slice(&[0x9c, 0x40, 0x17, 0xc1, 0, 53, 0, 0]);
        p.extend_from_slice(&[2, 0x80, 8, 0, 0, 0, 7, 0, 1, 2, 0x81, 1, 1, 2, 3, 4]);
        p.extend_from_slice(&[
            0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 198, 19, 0, 1, 198, 19, 0, 2,
        ]);
        p.extend_from_slice(&[0x30, 0x39, 0x27, 0x0f, 0, 9, 0, 0, b'x']);
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.6081: Geneve, Flags [O], vni 0x7, options [8 bytes]: \
             IP 198.19.0.1.12345 > 198.19.0.2.9999: UDP, length 1"
        );
        let v = line_v(&p, 2);
        assert!(
            v.contains("options [class Open Virtual Networking (OVN) (0x102) type 0x81(C) len 8 data 01020304]\n\tIP (tos 0x0"),
            "{v}"
        );
        assert!(line_v(&p[..33], 0).ends_with("6081: Geneve [|geneve]"));
    }
}

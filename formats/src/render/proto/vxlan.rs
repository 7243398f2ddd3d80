//! VXLAN (tcpdump's `print-vxlan.c`, UDP port 4789): the header, then the inner Ethernet
//! frame on the next line; VXLAN-GPE (`print-vxlan-gpe.c`, UDP port 4790): the header, then
//! the inner packet by its next-protocol field.

use super::{flag_names, trunc, Printer};
use crate::render::text::Out;

/// The IANA port.
pub(super) const PORT: u16 = 4789;
/// VXLAN-GPE's IANA port.
pub(super) const GPE_PORT: u16 = 4790;
const HEADER_LEN: usize = 8;

impl Printer<'_> {
    /// `b`: the UDP payload as captured; `len`: its length from the UDP header.
    pub(super) fn vxlan(&mut self, b: &[u8], len: usize) {
        self.out.s("VXLAN");
        let Some(&flags) = b.first() else {
            trunc(self.out, "vxlan");
            return;
        };
        self.out.s(", flags [");
        // The I flag says the VNI is valid (RFC 7348).
        self.out.s(if flags & 0x08 != 0 { "I" } else { "invalid" });
        self.out.s("] (0x");
        self.out.hex(u32::from(flags), 2);
        self.out.s("), ");
        let Some(vni) = b.get(4..7) else {
            trunc(self.out, "vxlan");
            return;
        };
        self.out.s("vni ");
        self.out
            .n(u32::from(vni[0]) << 16 | u32::from(vni[1]) << 8 | u32::from(vni[2]));
        self.out.c(b'\n');
        let Some(inner) = b.get(HEADER_LEN..) else {
            // tcpdump still names VXLAN for a capture ending in the header's last byte.
            trunc(self.out, "vxlan");
            return;
        };
        self.ether(inner, len.saturating_sub(HEADER_LEN) as u32);
    }
}

impl Printer<'_> {
    /// VXLAN-GPE. `b`: the UDP payload as captured; `len`: its length from the UDP header.
    pub(super) fn vxlan_gpe(&mut self, b: &[u8], len: usize) {
        self.out.s("VXLAN-GPE, ");
        let Some(&flags) = b.first().filter(|_| len >= HEADER_LEN) else {
            trunc(self.out, "vxlan_gpe");
            return;
        };
        self.out.s("flags [");
        flag_names(
            self.out,
            flags.into(),
            "",
            &[(0x08, "I"), (0x04, "P"), (0x01, "O")],
        );
        self.out.s("], ");
        // tcpdump reads the VNI with the reserved byte after it.
        let (Some(&next), Some(vni)) = (b.get(3), b.get(4..8)) else {
            trunc(self.out, "vxlan_gpe");
            return;
        };
        self.out.s("vni ");
        self.out
            .n(u32::from(vni[0]) << 16 | u32::from(vni[1]) << 8 | u32::from(vni[2]));
        self.out.s(if self.opts.verbose > 0 {
            "\n    "
        } else {
            ": "
        });
        let inner = b.get(HEADER_LEN..).unwrap_or(&[]);
        match next {
            1 => self.ipv4(inner),
            2 => self.ipv6(inner),
            3 => {
                self.ether(inner, (len - HEADER_LEN) as u32);
            }
            _ => self.out.s("ERROR: unknown-next-protocol (invalid)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_v;

    #[test]
    fn header_then_the_inner_frame() {
        // 198.18.0.1.40000 > 198.18.0.2.4789, VNI 42, an inner ARP request.
        let mut p = vec![
            0x45, 0, 0, 78, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
        ];
        p.extend_from_slice(&[0x9c, 0x40, 0x12, 0xb5, 0, 58, 0, 0]);
        p.extend_from_slice(&[8, 0, 0, 0, 0, 0, 42, 0]);
        p.extend_from_slice(&[0xff; 6]);
        p.extend_from_slice(&[2, 0, 0, 0, 0, 0xa, 8, 6]);
        p.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0xa]);
        p.extend_from_slice(&[198, 19, 0, 1, 0, 0, 0, 0, 0, 0, 198, 19, 0, 2]);
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.4789: VXLAN, flags [I] (0x08), vni 42\n\
             ARP, Request who-has 198.19.0.2 tell 198.19.0.1, length 28"
        );
        assert_eq!(
            line_v(&p[..30], 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.4789: VXLAN, flags [I] (0x08),  [|vxlan]"
        );
    }
}

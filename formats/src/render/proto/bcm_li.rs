//! Broadcom's lawful-intercept shim (tcpdump's `print-bcm-li.c`): tcpdump 4.99 decodes every
//! datagram from UDP source port 49152 as one (an ephemeral port too), unless DNS, mDNS,
//! BOOTP, DHCPv6 or NTP took it by the other port.

use super::{trunc, Printer};
use crate::render::text::Out;

pub(super) const PORT: u16 = 49152;
const SHIM_LEN: usize = 4;

impl Printer<'_> {
    /// `b`: the UDP payload as captured (at most `len` bytes); `len`: its length.
    pub(super) fn bcm_li(&mut self, b: &[u8], len: usize) {
        if len < SHIM_LEN {
            self.out.s(" (length ");
            self.out.n(len);
            self.out.s(" < 4) (invalid)");
            return;
        }
        let Some(s) = b.get(..SHIM_LEN) else {
            trunc(self.out, "bcm_li");
            return;
        };
        let shim = u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
        let direction = (shim >> 29) & 7;
        let pkt_type = (shim >> 25) & 0xf;
        let subtype = (shim >> 22) & 7;
        let v = self.opts.verbose > 0;
        if v {
            self.out.s("\n    ");
        }
        self.out.s("BCM-LI-SHIM: direction ");
        self.out.s(match direction {
            1 => "unused",
            2 => "egress",
            3 => "ingress",
            _ => "unknown",
        });
        self.out.s(", pkt-type ");
        self.out.s(match pkt_type {
            4 => "undecided",
            5 => "ipv4",
            6 => "ipv6",
            7 => "ethernet",
            _ => "unknown",
        });
        self.out.s(", pkt-subtype ");
        self.out.s(match subtype {
            1 => "single VLAN tag",
            2 => "double VLAN tag",
            3 => "untagged",
            _ => "unknown",
        });
        self.out.s(", li-id ");
        self.out.n(shim & 0x3f_ffff);
        let inner = &b[SHIM_LEN..];
        let ilen = len - SHIM_LEN;
        if !v {
            if inner.len() < ilen {
                trunc(self.out, "bcm_li");
            }
            return;
        }
        self.out.s("\n    ");
        let version = inner.first().map(|&c| c >> 4);
        match pkt_type {
            7 => {
                self.ether(inner, ilen as u32);
            }
            5 => self.ipv4(inner),
            6 => self.ipv6(inner),
            4 => match version {
                None => trunc(self.out, "bcm_li"),
                Some(4) => self.ipv4(inner),
                Some(6) => self.ipv6(inner),
                Some(_) => self.out.s("unknown payload"),
            },
            _ => self.out.s(" (invalid)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v, udp};

    #[test]
    fn shim_from_port_49152_only() {
        let p = ipv4(17, &udp(49152, 40000, &[0x6a, 0xc0, 0, 7, 0x45]));
        assert!(line_v(&p, 0).ends_with(
            "BCM-LI-SHIM: direction ingress, pkt-type ipv4, pkt-subtype untagged, li-id 7"
        ));
        let p = ipv4(17, &udp(40000, 49152, &[0x6a, 0xc0, 0, 7]));
        assert!(line_v(&p, 0).ends_with("UDP, length 4"));
    }
}

//! ARP and RARP (tcpdump's `print-arp.c`).

use super::{hex_ascii_dump, Printer};
use crate::render::text::Out;
use crate::wire::arp::ArpPacket;

impl Printer<'_> {
    pub(super) fn arp(&mut self, b: &[u8], length: usize) {
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
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_on;

    #[test]
    fn request_and_reply() {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0, 0, 0, 0, 1, 8, 6, 0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&[
            2, 0, 0, 0, 0, 1, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 2,
        ]);
        assert_eq!(
            line_on(1, &f, 0),
            "ARP, Request who-has 198.18.0.2 tell 198.18.0.1, length 28"
        );
        f[21] = 2;
        assert_eq!(
            line_on(1, &f, 1),
            "ARP, Ethernet (len 6), IPv4 (len 4), Reply 198.18.0.1 is-at 02:00:00:00:00:01, length 28"
        );
        assert_eq!(line_on(1, &f[..20], 0), " [|arp]");
    }
}

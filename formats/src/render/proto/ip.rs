//! IPv4 (tcpdump's `print-ip.c`).

use super::{trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::checksum;
use crate::wire::ipproto;
use crate::wire::ipv4::{self, Ipv4Packet};

impl Printer<'_> {
    pub(super) fn ipv4(&mut self, b: &[u8]) {
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

    pub(super) fn ipv4_options(&mut self, mut o: &[u8]) {
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
}

pub(super) fn proto_name(p: u8) -> &'static str {
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

//! IPv6 and its extension headers (tcpdump's `print-ip6.c`, `print-frag6.c`, `print-rt6.c`,
//! `print-ip6opts.c`).

use super::ip::proto_name;
use super::{trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::ipproto;
use crate::wire::ipv6::{is_extension, ExtHeader, Ipv6Packet};
use crate::wire::{get_be16, get_be32};

impl Printer<'_> {
    pub(super) fn ipv6(&mut self, b: &[u8]) {
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
            // Without -v tcpdump reads only the fragment header's first 4 bytes (the offset).
            if nh == ipproto::FRAGMENT && self.opts.verbose == 0 && (4..8).contains(&rest.len()) {
                let off = get_be16(rest, 2).unwrap_or(0) & 0xfff8;
                self.out.s("frag (");
                self.out.n(off);
                self.out.c(b'|');
                self.out.n(remaining.saturating_sub(8));
                self.out.s(if off != 0 { ")" } else { ") " });
                return;
            }
            let Ok(ext) = ExtHeader::parse(nh, rest) else {
                // tcpdump names the options headers' and the fragment header's own printers
                // (print-ip6opts.c, print-frag6.c).
                trunc(
                    self.out,
                    match nh {
                        ipproto::HOPOPTS => "hbhopt",
                        ipproto::DSTOPTS => "dstopt",
                        ipproto::FRAGMENT => "frag6",
                        _ => "ip6",
                    },
                );
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
                    // A first fragment captured up to the end of its header: nothing more.
                    if rest.len() == ext.len() {
                        return;
                    }
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
            ttl: ip.hop_limit(),
        };
        self.transport(nh, rest, remaining, ctx);
    }

    pub(super) fn ip6_options(&mut self, o: &[u8]) {
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
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{line_v, udp};

    #[test]
    fn udp_over_ipv6() {
        let u = udp(1000, 2000, b"x");
        let mut p = vec![0x60, 0, 0, 0, 0, u.len() as u8, 17, 64];
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&u);
        assert_eq!(
            line_v(&p, 0),
            "IP6 fd00::1.1000 > fd00::2.2000: UDP, length 1"
        );
        assert!(line_v(&p, 1).starts_with(
            "IP6 (hlim 64, next-header UDP (17) payload length: 9) fd00::1.1000 > fd00::2.2000: [bad udp cksum"
        ));
        assert_eq!(line_v(&p[..30], 0), " [|ip6]");
    }

    /// A hop-by-hop or destination options header cut short is the options printer's
    /// truncation, as in the kernel's MLD reports (Router Alert) cut inside the header.
    #[test]
    fn cut_options_header_names_its_printer() {
        for (nh, mark) in [(0u8, " [|hbhopt]"), (60, " [|dstopt]"), (44, " [|frag6]")] {
            let mut p = vec![0x60, 0, 0, 0, 0, 8, nh, 1];
            p.extend_from_slice(&[0; 15]);
            p.push(1);
            p.extend_from_slice(&[0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16]);
            p.extend_from_slice(&[58, 0, 5, 2, 0, 0, 1, 0]);
            // (Without -v a fragment header needs only its first 4 bytes.)
            let cuts: &[usize] = if nh == 44 {
                &[41, 42, 43]
            } else {
                &[41, 42, 47]
            };
            for &cut in cuts {
                assert!(
                    line_v(&p[..cut], 0).ends_with(mark),
                    "{cut}: {}",
                    line_v(&p[..cut], 0)
                );
            }
        }
    }

    /// A first fragment cut inside or right after its fragment header, as tcpdump prints it:
    /// without -v the offset needs 4 bytes, with -v the identification 8; nothing follows a
    /// header that ends the capture.
    #[test]
    fn cut_fragment_header() {
        let mut p = vec![0x60, 0, 0, 0, 0, 56, 44, 64];
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&[58, 0, 0, 1, 0xae, 0x6b, 0x52, 0x54]);
        p.extend_from_slice(&[128, 0, 0, 0, 0, 1, 0, 1]);
        p.extend_from_slice(&[0; 40]);
        let head = "IP6 fd00::1 > fd00::2: ";
        assert_eq!(line_v(&p[..43], 0), format!("{head} [|frag6]"));
        assert_eq!(line_v(&p[..44], 0), format!("{head}frag (0|48) "));
        assert_eq!(line_v(&p[..48], 0), format!("{head}frag (0|48) "));
        let v = line_v(&p[..47], 1);
        assert!(v.ends_with(":  [|frag6]"), "{v}");
        let v = line_v(&p[..48], 1);
        assert!(v.ends_with(": frag (0xae6b5254:0|48) "), "{v}");
    }
}

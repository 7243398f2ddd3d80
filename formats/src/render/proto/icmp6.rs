//! ICMPv6, neighbour discovery and MLD (tcpdump's `print-icmp6.c`).

use super::{flag_names, group_record_type, hex_dump, trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::icmp::{self, IcmpPacket};
use crate::wire::ipv6::{is_extension, ExtHeader, Ipv6Packet};
use crate::wire::{checksum, get_be16, get_be32, ipproto};

impl Printer<'_> {
    pub(super) fn icmp6(&mut self, b: &[u8], length: usize, ip: IpCtx<'_>) {
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
                        flag_names(
                            self.out,
                            f,
                            ", ",
                            &[
                                (0x8000_0000, "router"),
                                (0x4000_0000, "solicited"),
                                (0x2000_0000, "override"),
                            ],
                        );
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
                        match group_record_type(rec[0]) {
                            Some(name) => self.out.s(name),
                            None => {
                                self.out.s(" [v2-report-#");
                                self.out.n(rec[0]);
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

    pub(super) fn nd_options(&mut self, mut o: &[u8]) {
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
                // tcpdump's -vv dump of every option's data, indented under the option.
                hex_dump(self.out, data, "\n\t    ");
            }
            o = &o[l..];
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_v;

    #[test]
    fn echo_request() {
        let m = [128, 0, 0, 0, 0, 7, 0, 1];
        let mut p = vec![0x60, 0, 0, 0, 0, 8, 58, 64];
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&m);
        assert_eq!(
            line_v(&p, 0),
            "IP6 fd00::1 > fd00::2: ICMP6, echo request, id 7, seq 1, length 8"
        );
        assert_eq!(line_v(&p[..42], 0), "IP6 fd00::1 > fd00::2:  [|icmp6]");
    }
}

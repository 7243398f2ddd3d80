//! ICMP (tcpdump's `print-icmp.c`).

use super::{trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::icmp::{self, IcmpPacket};
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::{checksum, get_be16, ipproto};

impl Printer<'_> {
    pub(super) fn icmp(&mut self, b: &[u8], plen: usize, ip: IpCtx<'_>) {
        let Ok(m) = IcmpPacket::new_checked(b) else {
            trunc(self.out, "icmp");
            return;
        };
        let (ty, code) = (m.msg_type(), m.code());
        self.out.s("ICMP ");
        let body = m.body();
        let inner = Ipv4Packet::new_checked(body).ok();
        match ty {
            0 | 8 => {
                self.out.s(if ty == 0 {
                    "echo reply"
                } else {
                    "echo request"
                });
                self.out.s(", id ");
                self.out.n(m.echo_ident());
                self.out.s(", seq ");
                self.out.n(m.echo_seq());
            }
            3 => {
                let Some(oip) = inner else {
                    self.out.s("[|icmp]");
                    return;
                };
                let dst = oip.dst();
                let net = |out: &mut Vec<u8>, pre: &str, post: &str| {
                    out.s(pre);
                    out.ipv4(&dst);
                    out.s(post);
                };
                match code {
                    0 => net(self.out, "net ", " unreachable"),
                    1 => net(self.out, "host ", " unreachable"),
                    2 => {
                        net(self.out, "", " protocol ");
                        self.out.n(oip.protocol());
                        self.out.s(" unreachable");
                    }
                    3 => {
                        let op = oip.payload();
                        let port = get_be16(op, 2).unwrap_or(0);
                        net(self.out, "", "");
                        match oip.protocol() {
                            ipproto::TCP => self.out.s(" tcp port "),
                            ipproto::UDP => self.out.s(" udp port "),
                            p => {
                                self.out.s(" protocol ");
                                self.out.n(p);
                                self.out.s(" port ");
                            }
                        }
                        self.out.n(port);
                        self.out.s(" unreachable");
                    }
                    4 => {
                        net(self.out, "", " unreachable - need to frag");
                        let mtu = m.rest() & 0xffff;
                        if mtu != 0 {
                            self.out.s(" (mtu ");
                            self.out.n(mtu);
                            self.out.s(")");
                        }
                    }
                    5 => net(self.out, "", " unreachable - source route failed"),
                    6 => net(self.out, "net ", " unreachable - unknown"),
                    7 => net(self.out, "host ", " unreachable - unknown"),
                    8 => net(self.out, "", " unreachable - source host isolated"),
                    9 => net(self.out, "net ", " unreachable - admin prohibited"),
                    10 => net(self.out, "host ", " unreachable - admin prohibited"),
                    11 => net(self.out, "net ", " unreachable - tos prohibited"),
                    12 => net(self.out, "host ", " unreachable - tos prohibited"),
                    13 => net(self.out, "host ", " unreachable - admin prohibited filter"),
                    14 => net(
                        self.out,
                        "host ",
                        " unreachable - host precedence violation",
                    ),
                    15 => net(self.out, "host ", " unreachable - precedence cutoff"),
                    c => {
                        net(self.out, "", " unreachable - #");
                        self.out.n(c);
                    }
                }
            }
            11 => match code {
                0 => self.out.s("time exceeded in-transit"),
                1 => self.out.s("ip reassembly time exceeded"),
                c => {
                    self.out.s("time exceeded-#");
                    self.out.n(c);
                }
            },
            _ => {
                let name = match ty {
                    4 => "source quench",
                    5 => "redirect",
                    9 => "router advertisement",
                    10 => "router solicitation",
                    12 => "parameter problem",
                    13 => "time stamp request",
                    14 => "time stamp reply",
                    15 => "information request",
                    16 => "information reply",
                    17 => "address mask request",
                    18 => "address mask reply",
                    _ => "",
                };
                if name.is_empty() {
                    self.out.s("type-#");
                    self.out.n(ty);
                } else {
                    self.out.s(name);
                }
            }
        }
        self.out.s(", length ");
        self.out.n(plen);
        if self.opts.verbose > 0 && !ip.fragmented && b.len() >= plen {
            let seg = &b[..plen];
            if !checksum::verify(0, seg) {
                self.out.s(" (wrong icmp cksum ");
                self.out.hexn(u32::from(m.checksum()));
                self.out.s(" (->");
                self.out
                    .hexn(u32::from(checksum::expected(0, seg, icmp::CHECKSUM_OFFSET)));
                self.out.s(")!)");
            }
        }
        if self.opts.verbose > 0 && matches!(ty, 3 | 4 | 5 | 11 | 12) && body.len() >= 20 {
            self.out.s("\n\t");
            let ilen = get_be16(body, 2).map(usize::from).unwrap_or(0);
            self.ipv4(&body[..ilen.min(body.len())]);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v};

    #[test]
    fn echo_request() {
        let p = ipv4(1, &[8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1 > 198.18.0.2: ICMP echo request, id 1, seq 0, length 8"
        );
        assert_eq!(line_v(&p[..22], 0), "IP 198.18.0.1 > 198.18.0.2:  [|icmp]");
    }
}

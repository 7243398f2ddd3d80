//! IPv4 (tcpdump's `print-ip.c`).

use super::{flag_names, trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::checksum;
use crate::wire::ipv4::{self, Ipv4Packet};
use crate::wire::{get_be16, get_be32, ipproto};

/// How the `-v` options list ended.
enum Options {
    Done,
    /// The capture ends inside an option (tcpdump: `[truncated-option]`).
    Cut,
    /// The capture ends at an option's kind or length: the mark is printed, nothing follows.
    Ended,
}

impl Printer<'_> {
    pub(super) fn ipv4(&mut self, b: &[u8]) {
        if b.is_empty() {
            trunc(self.out, "ip");
            return;
        }
        // tcpdump checks the version before anything else.
        let version = b[0] >> 4;
        if version != 4 {
            if version == 6 {
                self.out.s("IP6, wrong link-layer encapsulation");
            } else {
                self.out.s("IP");
                self.out.n(version);
            }
            self.out.s(" (invalid)");
            return;
        }
        if !self.opts.link_header {
            self.out.s("IP ");
        }
        // A capture that ends inside the options: tcpdump still prints the fixed header
        // (and in -v the options it has), then the mark.
        let hlen = usize::from(b[0] & 0x0f) * 4;
        let cut = b.len() >= 20 && b.len() < hlen;
        let mut whole = [0u8; 60];
        let view = if cut {
            whole[..b.len()].copy_from_slice(b);
            &whole[..hlen]
        } else {
            b
        };
        let Ok(ip) = Ipv4Packet::new_checked(view) else {
            trunc(self.out, "ip");
            return;
        };
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
            flag_names(
                self.out,
                off.into(),
                ", ",
                &[
                    (ipv4::FLAG_MF.into(), "+"),
                    (ipv4::FLAG_DF.into(), "DF"),
                    (ipv4::FLAG_RESERVED.into(), "rsvd"),
                ],
            );
            self.out.s("], proto ");
            self.out.s(proto_name(ip.protocol()));
            self.out.s(" (");
            self.out.n(ip.protocol());
            self.out.s("), length ");
            self.out.n(total);
            let mut opts_cut = false;
            if hlen > 20 {
                self.out.s(", options (");
                match self.ipv4_options(&b[20..], hlen - 20) {
                    Options::Done => {}
                    Options::Cut => {
                        self.out.s(" [truncated-option]");
                        opts_cut = true;
                    }
                    Options::Ended => return,
                }
                self.out.s(")");
            }
            if !cut && !checksum::verify(0, ip.header()) {
                self.out.s(", bad cksum ");
                self.out.hexn(u32::from(ip.checksum()));
                self.out.s(" (->");
                self.out
                    .hexn(u32::from(checksum::expected(0, ip.header(), 10)));
                self.out.s(")!");
            }
            self.out.s(")\n    ");
            if opts_cut {
                self.addrs(&ip.src(), &ip.dst());
                trunc(self.out, "ip");
                return;
            }
        }
        let (src, dst) = (ip.src(), ip.dst());
        if cut {
            self.addrs(&src, &dst);
            self.out.s(" [remaining caplen(");
            self.out.n(b.len());
            self.out.s(") < header length(");
            self.out.n(hlen);
            self.out.s(")]");
            trunc(self.out, "ip");
            return;
        }
        let payload = ip.payload();
        let plen = total - hlen;
        let ctx = IpCtx {
            src: &src,
            dst: &dst,
            ck_dst: &dst,
            ports_only: false,
            v6: false,
            fragmented,
            ttl: ip.ttl(),
        };
        if off & 0x1fff == 0 {
            let p = ip.protocol();
            if p != ipproto::TCP && p != ipproto::UDP && p != super::sctp::PROTO {
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
    }

    /// The timestamp option as tcpdump's `ip_printts` prints it: ` TS{TSONLY 1@ ^ 0@}`,
    /// ` TS{TS+ADDR 5@198.18.0.1 ^ 0@0.0.0.0}`, with its `[bad length]`, `[bad ptr]` and
    /// `[N hops not recorded]` remarks. `o`: the captured options, the option at `at`, `len`
    /// bytes long (all captured). None when a slot it reads is not captured.
    fn ipv4_timestamps(&mut self, o: &[u8], at: usize, len: usize) -> Option<()> {
        if len < 4 {
            self.out.s("[bad length ");
            self.out.n(len);
            self.out.s("]");
            return Some(());
        }
        let (pointer, flags) = (o[at + 2], o[at + 3]);
        self.out.s(" TS{");
        let hoplen = if flags & 0x0f != 0 { 8 } else { 4 };
        if (len - 4) & (hoplen - 1) != 0 {
            self.out.s("[bad length ");
            self.out.n(len);
            self.out.s("]");
        }
        // An unsigned pointer - 1 in tcpdump: a pointer of 0 is past everything.
        let ptr = usize::from(pointer).wrapping_sub(1);
        if ptr < 4 || (ptr - 4) & (hoplen - 1) != 0 || ptr > len + 1 {
            self.out.s("[bad ptr ");
            self.out.n(pointer);
            self.out.s("]");
        }
        let mut slot = 0;
        let known = match flags & 0x0f {
            0 => Some("TSONLY"),
            1 => Some("TS+ADDR"),
            3 => Some("PRESPEC"),
            _ => None,
        };
        match known {
            Some(name) => {
                self.out.s(name);
                slot = 4;
                while slot < len {
                    // Both read before anything of the slot prints.
                    let v = get_be32(o, at + slot + hoplen - 4)?;
                    let addr = o.get(at + slot..at + slot + 4)?;
                    self.out.s(if ptr == slot { " ^ " } else { " " });
                    self.out.n(v);
                    self.out.c(b'@');
                    if hoplen == 8 {
                        self.out.ipv4(addr);
                    }
                    slot += hoplen;
                }
            }
            None => {
                self.out.s("[bad ts type ");
                self.out.n(flags & 0x0f);
                self.out.s("]");
            }
        }
        if ptr == slot {
            self.out.s(" ^ ");
        }
        if flags >> 4 != 0 {
            self.out.s(" [");
            self.out.n(flags >> 4);
            self.out.s(" hops not recorded]} ");
        } else {
            self.out.s("}");
        }
        Some(())
    }

    /// `-v`: the options as tcpdump's `ip_optprint` lists them, comma-separated, up to the
    /// first EOL (`RA`, `RA value 1`, `RR 198.18.0.1`, `unknown 153 [bad length 1]`).
    /// `o`: what is captured after the fixed header; `declared`: the options' length from the
    /// header (a bad timestamp option reads past its end, as tcpdump does).
    fn ipv4_options(&mut self, o: &[u8], declared: usize) -> Options {
        let mut i = 0;
        while i < declared {
            if i > 0 {
                self.out.c(b',');
            }
            let Some(&kind) = o.get(i) else {
                trunc(self.out, "ip");
                return Options::Ended;
            };
            match kind {
                0 => {
                    self.out.s("EOL");
                    return Options::Done;
                }
                1 => {
                    self.out.s("NOP");
                    i += 1;
                    continue;
                }
                7 => self.out.s("RR"),
                68 => self.out.s("timestamp"),
                130 => self.out.s("security"),
                131 => self.out.s("LSRR"),
                137 => self.out.s("SSRR"),
                148 => self.out.s("RA"),
                82 => self.out.s("traceroute"),
                k => {
                    self.out.s("unknown ");
                    self.out.n(k);
                }
            }
            let Some(&len) = o.get(i + 1) else {
                trunc(self.out, "ip");
                return Options::Ended;
            };
            let len = usize::from(len);
            if len < 2 || len > declared - i {
                self.out.s(" [bad length ");
                self.out.n(len);
                self.out.s("]");
                return Options::Done;
            }
            let Some(opt) = o.get(i..i + len) else {
                return Options::Cut;
            };
            match kind {
                148 => {
                    if len < 4 {
                        self.out.s(" [bad length ");
                        self.out.n(len);
                        self.out.s("]");
                    } else if let Some(v) = get_be16(opt, 2).filter(|&v| v != 0) {
                        self.out.s(" value ");
                        self.out.n(v);
                    }
                }
                7 | 131 | 137 => {
                    if (len + 1) & 3 != 0 {
                        self.out.s(" [bad length ");
                        self.out.n(len);
                        self.out.s("]");
                    }
                    let ptr = usize::from(opt.get(2).copied().unwrap_or(0));
                    let p = ptr.wrapping_sub(1);
                    if !(3..=len + 1).contains(&p) || (p + 1) & 3 != 0 {
                        self.out.s(" [bad ptr ");
                        self.out.n(ptr);
                        self.out.s("]");
                    }
                    let mut at = 3;
                    while at + 4 <= len {
                        self.out.c(b' ');
                        self.out.ipv4(&opt[at..at + 4]);
                        if p > at {
                            self.out.c(b',');
                        }
                        at += 4;
                    }
                }
                68 if self.ipv4_timestamps(o, i, len).is_none() => return Options::Cut,
                _ => {}
            }
            i += len;
        }
        Options::Done
    }
}

pub(super) fn proto_name(p: u8) -> &'static str {
    // tcpdump 4.99's `ipproto_values` (IPv4 `proto` and IPv6 `next-header` in -v).
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
        44 => "Fragment",
        46 => "RSVP",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        55 => "Mobile IP",
        58 => "ICMPv6",
        62 => "Mobile IP (old)",
        88 => "EIGRP",
        89 => "OSPF",
        103 => "PIM",
        108 => "Compressed IP",
        112 => "VRRP",
        113 => "PGM",
        132 => "SCTP",
        135 => "Mobility",
        240 => "pfsync",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v};

    #[test]
    fn options_and_a_header_cut_inside_them() {
        let mut p = ipv4(1, &[8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);
        // Insert Router Alert (value 5): header length 6 words.
        p.splice(20..20, [0x94, 4, 0, 5]);
        p[0] = 0x46;
        p[3] += 4;
        p[10] = 0;
        p[11] = 0;
        let c = crate::wire::checksum::expected(0, &p[..24], 10);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(line_v(&p, 1).starts_with(
            "IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto ICMP (1), length 32, options (RA value 5))\n"
        ));
        assert_eq!(
            line_v(&p[..22], 0),
            "IP 198.18.0.1 > 198.18.0.2:  [remaining caplen(22) < header length(24)] [|ip]"
        );
        assert_eq!(line_v(&p[..10], 0), "IP  [|ip]");
    }

    #[test]
    fn unknown_protocol() {
        assert_eq!(
            line_v(&ipv4(253, &[1, 2, 3]), 0),
            "IP 198.18.0.1 > 198.18.0.2:  ip-proto-253 3"
        );
    }

    /// The timestamp option as `ping -T tsonly` / `-T tsandaddr` sends it and as tcpdump
    /// prints it, with the pointer mark, the overflow count and a bad pointer.
    #[test]
    fn timestamp_option() {
        let with = |opt: &[u8]| {
            let mut o = opt.to_vec();
            while o.len() % 4 != 0 {
                o.push(0);
            }
            let mut p = ipv4(1, &[8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);
            p[0] = 0x40 | (5 + o.len() / 4) as u8;
            let total = (p.len() + o.len()) as u16;
            p[2..4].copy_from_slice(&total.to_be_bytes());
            p.splice(20..20, o);
            p[10..12].copy_from_slice(&[0, 0]);
            let hl = usize::from(p[0] & 0x0f) * 4;
            let c = crate::wire::checksum::expected(0, &p[..hl], 10);
            p[10..12].copy_from_slice(&c.to_be_bytes());
            line_v(&p, 1)
        };
        let l = with(&[68, 12, 9, 0, 0, 0, 0, 7, 0, 0, 0, 0]);
        assert!(l.contains("options (timestamp TS{TSONLY 7@ ^ 0@})"), "{l}");
        let l = with(&[68, 12, 5, 1, 198, 18, 0, 1, 0, 0, 0, 5]);
        assert!(l.contains("(timestamp TS{TS+ADDR ^ 5@198.18.0.1})"), "{l}");
        let l = with(&[68, 8, 6, 0x20, 0, 0, 0, 1]);
        assert!(
            l.contains("(timestamp TS{[bad ptr 6]TSONLY 1@ [2 hops not recorded]} )"),
            "{l}"
        );
        let l = with(&[68, 8, 5, 7, 0, 0, 0, 1]);
        assert!(
            l.contains("(timestamp TS{[bad length 8][bad ts type 7]})"),
            "{l}"
        );
    }

    /// Fragments as tcpdump 4.99 prints them: the first one's protocol line, the others
    /// `ip-proto-N`, without the `(frag id:len@off+)` of older tcpdumps; -v shows the offset and
    /// the `+` flag in the header line.
    #[test]
    fn fragments() {
        let mut first = ipv4(1, &[8, 0, 0xf7, 0xfe, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        first[6] = 0x20; // MF
        let c = crate::wire::checksum::expected(
            0,
            &{
                let mut h = first[..20].to_vec();
                h[10..12].copy_from_slice(&[0, 0]);
                h
            },
            10,
        );
        first[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            line_v(&first, 0),
            "IP 198.18.0.1 > 198.18.0.2: ICMP echo request, id 1, seq 1, length 16"
        );
        assert!(line_v(&first, 1).contains("offset 0, flags [+], proto ICMP (1)"));
        let mut later = first.clone();
        later[6..8].copy_from_slice(&[0, 2]); // offset 16, last
        assert_eq!(line_v(&later, 0), "IP 198.18.0.1 > 198.18.0.2: ip-proto-1");
    }
}

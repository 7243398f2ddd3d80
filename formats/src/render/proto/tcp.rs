//! TCP (tcpdump's `print-tcp.c`): flags, relative sequence numbers, options, and the payload
//! printers it dispatches to by port.

use std::collections::HashMap;

use super::{trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::checksum;
use crate::wire::tcp::{self, TcpOption, TcpOptions, TcpPacket};
use crate::wire::{get_be16, get_be32, ipproto};

/// Per-connection state for relative TCP sequence numbers, as tcpdump keeps it: one entry
/// per unordered address/port pair, holding the base of each direction.
#[derive(Default)]
pub(crate) struct TcpSeqTable {
    map: HashMap<TcpKey, (u32, u32)>,
}

#[derive(Hash, PartialEq, Eq, Clone, Copy)]
struct TcpKey {
    a: [u8; 16],
    b: [u8; 16],
    ports: u32,
}

impl Printer<'_> {
    pub(super) fn tcp(&mut self, b: &[u8], length: usize, ip: IpCtx<'_>) {
        let Ok(t) = TcpPacket::new_checked(b) else {
            if b.len() >= 4 {
                let (s, d) = (get_be16(b, 0).unwrap_or(0), get_be16(b, 2).unwrap_or(0));
                self.ports(&ip, s, d);
            } else {
                self.addrs(ip.src, ip.dst);
                self.out.pop();
            }
            trunc(self.out, "tcp");
            return;
        };
        let (sport, dport) = (t.src_port(), t.dst_port());
        self.ports(&ip, sport, dport);
        let hlen = t.header_len();
        if hlen > length {
            self.out.s(" [bad hdr length ");
            self.out.n(hlen);
            self.out.s(" - too long, > ");
            self.out.n(length);
            self.out.s("]");
            return;
        }
        if self.opts.quiet {
            self.out.s("tcp ");
            self.out.n(length - hlen);
            return;
        }
        let flags = t.flags();
        self.out.s("Flags [");
        if flags == 0 {
            self.out.s("none");
        }
        for (bit, ch) in [
            (tcp::flags::FIN, b'F'),
            (tcp::flags::SYN, b'S'),
            (tcp::flags::RST, b'R'),
            (tcp::flags::PSH, b'P'),
            (tcp::flags::ACK, b'.'),
            (tcp::flags::URG, b'U'),
            (tcp::flags::ECE, b'E'),
            (tcp::flags::CWR, b'W'),
        ] {
            if flags & bit != 0 {
                self.out.c(ch);
            }
        }
        self.out.s("]");
        let mut seq = t.seq();
        let mut ack = t.ack();
        let (mut thseq, mut thack, mut rev) = (0u32, 0u32, false);
        if !self.opts.absolute_seq && flags & tcp::flags::ACK != 0 {
            let mut a = [0u8; 16];
            let mut d = [0u8; 16];
            a[..ip.src.len()].copy_from_slice(ip.src);
            d[..ip.dst.len()].copy_from_slice(ip.dst);
            rev = sport > dport || (sport == dport && a > d);
            let key = if rev {
                TcpKey {
                    a: d,
                    b: a,
                    ports: (u32::from(dport) << 16) | u32::from(sport),
                }
            } else {
                TcpKey {
                    a,
                    b: d,
                    ports: (u32::from(sport) << 16) | u32::from(dport),
                }
            };
            match self.tcp.map.get_mut(&key) {
                Some(e) if flags & tcp::flags::SYN == 0 => {
                    if rev {
                        seq = seq.wrapping_sub(e.1);
                        ack = ack.wrapping_sub(e.0);
                    } else {
                        seq = seq.wrapping_sub(e.0);
                        ack = ack.wrapping_sub(e.1);
                    }
                    (thseq, thack) = *e;
                }
                _ => {
                    let e = if rev {
                        (ack.wrapping_sub(1), seq)
                    } else {
                        (seq, ack.wrapping_sub(1))
                    };
                    self.tcp.map.insert(key, e);
                    (thseq, thack) = e;
                }
            }
        }
        if self.opts.verbose > 0 && !ip.fragmented && b.len() >= length {
            let seg = &b[..length];
            let pseudo = ip.pseudo(ipproto::TCP, length);
            self.out.s(", cksum 0x");
            self.out.hex(u32::from(t.checksum()), 4);
            if checksum::verify(pseudo, seg) {
                self.out.s(" (correct)");
            } else {
                self.out.s(" (incorrect -> 0x");
                self.out.hex(
                    u32::from(checksum::expected(pseudo, seg, tcp::CHECKSUM_OFFSET)),
                    4,
                );
                self.out.s(")");
            }
        }
        if hlen < 20 {
            self.out.s(" [bad hdr length ");
            self.out.n(hlen);
            self.out.s(" - too short, < 20]");
            return;
        }
        let dlen = length - hlen;
        if self.opts.verbose > 1
            || dlen > 0
            || flags & (tcp::flags::SYN | tcp::flags::FIN | tcp::flags::RST) != 0
        {
            self.out.s(", seq ");
            self.out.n(seq);
            if dlen > 0 {
                self.out.c(b':');
                self.out.n(seq.wrapping_add(dlen as u32));
            }
        }
        if flags & tcp::flags::ACK != 0 {
            self.out.s(", ack ");
            self.out.n(ack);
        }
        self.out.s(", win ");
        self.out.n(t.window());
        if flags & tcp::flags::URG != 0 {
            self.out.s(", urg ");
            self.out.n(t.urgent());
        }
        if hlen > 20 {
            self.out.s(", options [");
            let captured = &b[20.min(b.len())..hlen.min(b.len())];
            if captured.len() < hlen - 20 {
                // The capture ends inside the options: print the whole ones, then the mark.
                let mut i = 0;
                let mut first = true;
                loop {
                    if !first {
                        self.out.c(b',');
                    }
                    first = false;
                    let Some(&k) = captured.get(i) else { break };
                    if k <= 1 {
                        self.out.s(if k == 0 { "eol" } else { "nop" });
                        i += 1;
                        continue;
                    }
                    let Some(&l) = captured.get(i + 1) else { break };
                    let l = usize::from(l);
                    if l < 2 || i + l > hlen - 20 {
                        self.tcp_opt_name(k);
                        self.out.s("[bad opt]]");
                        return;
                    }
                    self.tcp_opt_name(k);
                    let Some(d) = captured.get(i + 2..i + l) else {
                        trunc(self.out, "tcp");
                        self.out.c(b'>');
                        return;
                    };
                    self.tcp_opt_value(k, d, rev, thseq, thack);
                    i += l;
                }
                trunc(self.out, "tcp");
                return;
            }
            let opts = captured;
            let mut first = true;
            for o in TcpOptions::new(opts) {
                if !first {
                    self.out.c(b',');
                }
                first = false;
                match o {
                    TcpOption::End => self.out.s("eol"),
                    TcpOption::Nop => self.out.s("nop"),
                    TcpOption::Bad(k) => {
                        self.tcp_opt_name(k);
                        self.out.s(" [bad opt]");
                        break;
                    }
                    TcpOption::Other(k, d) => {
                        self.tcp_opt_name(k);
                        self.tcp_opt_value(k, d, rev, thseq, thack);
                    }
                }
            }
            self.out.s("]");
        }
        self.out.s(", length ");
        self.out.n(dlen);
        if dlen == 0 {
            return;
        }
        if flags & tcp::flags::RST != 0 && self.opts.verbose > 0 {
            return;
        }
        let payload = t.payload();
        let payload = &payload[..payload.len().min(dlen)];
        if sport == 80 || dport == 80 || sport == 8080 || dport == 8080 {
            self.http(payload, dlen);
        }
    }

    pub(super) fn tcp_opt_name(&mut self, k: u8) {
        match k {
            2 => self.out.s("mss"),
            3 => self.out.s("wscale"),
            4 => self.out.s("sackOK"),
            5 => self.out.s("sack"),
            6 => self.out.s("echo"),
            7 => self.out.s("echoreply"),
            8 => self.out.s("TS"),
            19 => self.out.s("md5"),
            28 => self.out.s("uto"),
            29 => self.out.s("tcp-ao"),
            30 => self.out.s("mptcp"),
            34 => self.out.s("tfo"),
            _ => {
                self.out.s("unknown-");
                self.out.n(k);
            }
        }
    }

    pub(super) fn tcp_opt_value(&mut self, k: u8, d: &[u8], rev: bool, thseq: u32, thack: u32) {
        let bad = |out: &mut Vec<u8>| out.s(" [bad opt]");
        match k {
            2 => match get_be16(d, 0) {
                Some(v) if d.len() == 2 => {
                    self.out.c(b' ');
                    self.out.n(v);
                }
                _ => bad(self.out),
            },
            3 => match d.first() {
                Some(v) if d.len() == 1 => {
                    self.out.c(b' ');
                    self.out.n(*v);
                }
                _ => bad(self.out),
            },
            4 => {
                if !d.is_empty() {
                    bad(self.out)
                }
            }
            5 => {
                if d.len() % 8 != 0 {
                    self.out.s(" invalid sack");
                } else {
                    self.out.c(b' ');
                    self.out.n(d.len() / 8);
                    self.out.c(b' ');
                    for blk in d.chunks_exact(8) {
                        let (mut s, mut e) =
                            (get_be32(blk, 0).unwrap_or(0), get_be32(blk, 4).unwrap_or(0));
                        let base = if rev { thseq } else { thack };
                        s = s.wrapping_sub(base);
                        e = e.wrapping_sub(base);
                        self.out.c(b'{');
                        self.out.n(s);
                        self.out.c(b':');
                        self.out.n(e);
                        self.out.c(b'}');
                    }
                }
            }
            8 => {
                if d.len() == 8 {
                    self.out.s(" val ");
                    self.out.n(get_be32(d, 0).unwrap_or(0));
                    self.out.s(" ecr ");
                    self.out.n(get_be32(d, 4).unwrap_or(0));
                } else {
                    bad(self.out)
                }
            }
            28 => {
                if let Some(v) = get_be16(d, 0) {
                    self.out.c(b' ');
                    self.out.n(v & 0x7fff);
                    self.out.s(if v & 0x8000 != 0 { "min" } else { "sec" });
                }
            }
            _ => {
                if !d.is_empty() {
                    self.out.s(" 0x");
                    for x in d {
                        self.out.hex(u32::from(*x), 2);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v};

    #[test]
    fn syn_with_options_and_a_cut_header() {
        let mut t = vec![
            0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 2, 0, 0, 0, 0, 0,
        ];
        t.extend_from_slice(&[2, 4, 5, 0xb4]);
        let p = ipv4(6, &t);
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 1, win 512, options [mss 1460], length 0"
        );
        assert_eq!(
            line_v(&p[..26], 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.80:  [|tcp]"
        );
        assert_eq!(line_v(&p[..21], 0), "IP 198.18.0.1 > 198.18.0.2: [|tcp]");
    }
}

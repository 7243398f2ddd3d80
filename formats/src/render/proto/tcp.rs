//! TCP (tcpdump's `print-tcp.c`): flags, relative sequence numbers, options, and the payload
//! printers it dispatches to by port.

use std::collections::HashMap;

use super::{trunc, IpCtx, Printer};
use crate::render::text::{tcpdump_char, Out};
use crate::wire::checksum;
use crate::wire::tcp::{self, TcpPacket};
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
            let captured = &b[20.min(b.len())..hlen.min(b.len())];
            let seq_base = if rev { thseq } else { thack };
            match self.tcp_options(captured, hlen - 20, flags, seq_base, b.len() >= length) {
                Ok(()) => {}
                Err(OptStop::Cut(mark)) => {
                    trunc(self.out, mark);
                    return;
                }
                Err(OptStop::CutInOption { mark, first }) => {
                    trunc(self.out, mark);
                    if !first {
                        self.out.c(b'>');
                    }
                    return;
                }
                Err(OptStop::Bad { first }) => {
                    self.out.s("[bad opt]");
                    if !first {
                        self.out.c(b']');
                    }
                    return;
                }
            }
        }
        self.out.s(", length ");
        self.out.n(dlen);
        if dlen == 0 {
            return;
        }
        let payload = t.payload();
        let payload = &payload[..payload.len().min(dlen)];
        if flags & tcp::flags::RST != 0 && self.opts.verbose > 0 {
            // tcpdump's print_tcp_rst_data: the reset's text, at most 30 bytes.
            self.out.s(if payload.len() >= dlen {
                " [RST"
            } else {
                " [!RST"
            });
            if dlen > 30 {
                self.out.c(b'+');
            }
            self.out.c(b' ');
            for &c in &payload[..payload.len().min(30)] {
                tcpdump_char(self.out, c);
            }
            self.out.c(b']');
            return;
        }
        if sport == 80 || dport == 80 || sport == 8080 || dport == 8080 {
            self.http(payload, dlen);
        } else if sport == super::resp::PORT || dport == super::resp::PORT {
            self.resp(payload, dlen);
        } else if sport == super::dns::PORT || dport == super::dns::PORT {
            self.dns_tcp(payload, dlen);
        }
    }

    /// tcpdump's name of a TCP option (`tcp_option_values`).
    pub(super) fn tcp_opt_name(&mut self, k: u8) {
        match k {
            0 => self.out.s("eol"),
            1 => self.out.s("nop"),
            2 => self.out.s("mss"),
            3 => self.out.s("wscale"),
            4 => self.out.s("sackOK"),
            5 => self.out.s("sack"),
            6 => self.out.s("echo"),
            7 => self.out.s("echoreply"),
            8 => self.out.s("TS"),
            11 => self.out.s("cc"),
            12 => self.out.s("ccnew"),
            // tcpdump names it with an empty string.
            13 => {}
            19 => self.out.s("md5"),
            20 => self.out.s("scps"),
            28 => self.out.s("uto"),
            29 => self.out.s("tcp-ao"),
            30 => self.out.s("mptcp"),
            34 => self.out.s("tfo"),
            254 => self.out.s("exp"),
            _ => {
                self.out.s("unknown-");
                self.out.n(k);
            }
        }
    }

    /// `, options [...]` as tcpdump's option loop prints it: `o` the options as captured,
    /// `declared` their length from the header, `flags` the TCP flags (MPTCP checks them),
    /// `seq_base` what SACK blocks are relative to, `whole_segment` whether the capture has
    /// the whole segment (tcpdump's MD5 check says so). An error ends the whole TCP print.
    fn tcp_options(
        &mut self,
        o: &[u8],
        declared: usize,
        flags: u8,
        seq_base: u32,
        whole_segment: bool,
    ) -> Result<(), OptStop> {
        self.out.s(", options [");
        let mut hlen = declared;
        let mut cp = 0;
        let mut first = true;
        let mut cut = OptStop::Cut("tcp");
        while hlen > 0 {
            if !first {
                self.out.c(b',');
            }
            let bad = OptStop::Bad { first };
            let opt = *o.get(cp).ok_or(cut)?;
            cp += 1;
            let zero_len = opt <= 1;
            let len = if zero_len {
                1
            } else {
                let l = usize::from(*o.get(cp).ok_or(cut)?);
                cp += 1;
                if l < 2 || l > hlen {
                    return Err(bad);
                }
                hlen -= 1;
                l
            };
            hlen -= 1;
            self.tcp_opt_name(opt);
            // tcpdump's LENCHECK: the data must fit the header and the capture (its own
            // check, whose mark gets a `>` after the first option).
            let OptStop::Cut(mark) = cut else {
                unreachable!()
            };
            let lencheck = |l: usize| -> Result<&[u8], OptStop> {
                if l > hlen {
                    return Err(bad);
                }
                o.get(cp..cp + l)
                    .ok_or(OptStop::CutInOption { mark, first })
            };
            let datalen = match opt {
                0 | 1 | 4 => 0,
                2 => {
                    let d = lencheck(2)?;
                    self.out.c(b' ');
                    self.out.n(u16::from_be_bytes([d[0], d[1]]));
                    2
                }
                3 => {
                    let d = lencheck(1)?;
                    self.out.c(b' ');
                    self.out.n(d[0]);
                    1
                }
                5 => {
                    let datalen = len - 2;
                    if datalen % 8 != 0 {
                        self.out.s(" invalid sack");
                    } else {
                        self.out.c(b' ');
                        self.out.n(datalen / 8);
                        self.out.c(b' ');
                        for i in (0..datalen).step_by(8) {
                            let s = get_be32(lencheck(i + 4)?, i).unwrap_or(0);
                            let e = get_be32(lencheck(i + 8)?, i + 4).unwrap_or(0);
                            self.out.c(b'{');
                            self.out.n(s.wrapping_sub(seq_base));
                            self.out.c(b':');
                            self.out.n(e.wrapping_sub(seq_base));
                            self.out.c(b'}');
                        }
                    }
                    datalen
                }
                6 | 7 | 11 | 12 | 13 => {
                    let d = lencheck(4)?;
                    self.out.c(b' ');
                    self.out.n(get_be32(d, 0).unwrap_or(0));
                    4
                }
                8 => {
                    let d = lencheck(8)?;
                    self.out.s(" val ");
                    self.out.n(get_be32(d, 0).unwrap_or(0));
                    self.out.s(" ecr ");
                    self.out.n(get_be32(d, 4).unwrap_or(0));
                    8
                }
                19 => {
                    // tcpdump (built with libcrypto) without -M.
                    let d = lencheck(16)?;
                    self.out.s(if whole_segment {
                        " shared secret not supplied with -M, can't check - "
                    } else {
                        " snaplen too short, can't check - "
                    });
                    for &x in d {
                        self.out.hex(u32::from(x), 2);
                    }
                    16
                }
                20 => {
                    let d = lencheck(2)?;
                    self.out.s(" cap ");
                    self.out.hex(u32::from(d[0]), 2);
                    self.out.s(" id ");
                    self.out.n(d[1]);
                    2
                }
                28 => {
                    let d = lencheck(2)?;
                    let v = u16::from_be_bytes([d[0], d[1]]);
                    self.out.s(" 0x");
                    self.out.hexn(u32::from(v));
                    self.out.c(b' ');
                    self.out.n(if v & 1 != 0 {
                        u32::from(v >> 1) * 60
                    } else {
                        u32::from(v >> 1)
                    });
                    2
                }
                29 => {
                    let datalen = len - 2;
                    if datalen < 2 {
                        self.out.s(" (invalid)");
                    } else {
                        let key = lencheck(1)?[0];
                        self.out.s(" keyid ");
                        self.out.n(key);
                        let next = lencheck(2)?[1];
                        self.out.s(" rnextkeyid ");
                        self.out.n(next);
                        if datalen > 2 {
                            self.out.s(" mac 0x");
                            for i in 2..datalen {
                                self.out.hex(u32::from(lencheck(i + 1)?[i]), 2);
                            }
                        }
                    }
                    datalen
                }
                30 => {
                    let datalen = len - 2;
                    let d = lencheck(datalen)?;
                    cut = OptStop::Cut("mptcp");
                    if !self.mptcp(d, len, flags) {
                        return Err(bad);
                    }
                    datalen
                }
                34 => {
                    let datalen = len - 2;
                    let d = lencheck(datalen)?;
                    self.out.c(b' ');
                    self.tcp_fastopen(d, false);
                    datalen
                }
                254 => {
                    let datalen = len - 2;
                    let d = lencheck(datalen)?;
                    if datalen < 2 {
                        return Err(bad);
                    }
                    self.out.c(b'-');
                    match u16::from_be_bytes([d[0], d[1]]) {
                        0xf989 => self.tcp_fastopen(&d[2..], true),
                        magic => self.out.hex(u32::from(magic), 4),
                    }
                    datalen
                }
                _ => {
                    let datalen = len - 2;
                    if datalen > 0 {
                        self.out.s(" 0x");
                    }
                    for i in 0..datalen {
                        let d = lencheck(i + 1)?;
                        self.out.hex(u32::from(d[i]), 2);
                    }
                    datalen
                }
            };
            cp += datalen;
            hlen = hlen.saturating_sub(datalen);
            let spec = datalen + if zero_len { 1 } else { 2 };
            if spec != len {
                self.out.s("[len ");
                self.out.n(len);
                self.out.c(b']');
            }
            first = false;
            if opt == 0 {
                break;
            }
        }
        self.out.c(b']');
        Ok(())
    }
}

/// How tcpdump's option loop ends early: the capture ends (`[|tcp]`), or an option is
/// malformed (`[bad opt]`, closed with `]` unless it was the first).
#[derive(Clone, Copy)]
enum OptStop {
    /// The mark names the last protocol printed: after an MPTCP option, tcpdump's cut
    /// mark says `mptcp`.
    Cut(&'static str),
    /// Cut inside an option's data where tcpdump's own check catches it: the mark, then `>`
    /// unless it was the first option.
    CutInOption {
        mark: &'static str,
        first: bool,
    },
    Bad {
        first: bool,
    },
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

//! ICMPv6, neighbour discovery and MLD (tcpdump's `print-icmp6.c`).

use super::{flag_names, group_record_type, hex_dump, trunc, IpCtx, Printer};
use crate::render::text::{tcpdump_char, Out};
use crate::wire::icmp;
use crate::wire::{checksum, get_be16, get_be32, ipproto};

impl Printer<'_> {
    pub(super) fn icmp6(&mut self, b: &[u8], length: usize, ip: IpCtx<'_>) {
        // The type alone names the message (tcpdump reads the rest as it prints).
        let Some(&ty) = b.first() else {
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
                self.out.hex(u32::from(get_be16(b, 2).unwrap_or(0)), 4);
                self.out.s(" -> 0x");
                self.out.hex(
                    u32::from(checksum::expected(pseudo, seg, icmp::CHECKSUM_OFFSET)),
                    4,
                );
                self.out.s("!] ");
            }
        }
        let code = b.get(1).copied().unwrap_or(0);
        self.out.s("ICMP6, ");
        match type_name(ty) {
            Some(n) => self.out.s(n),
            None => {
                self.out.s("unknown icmp6 type (");
                self.out.n(ty);
                self.out.s(")");
            }
        }
        if v > 0 && matches!(ty, 133..=137 | 145 | 147) {
            self.out.s(", length ");
            self.out.n(length);
        }
        // tcpdump reads the code next, before anything else of the message.
        if b.len() < 2 {
            trunc(self.out, "icmp6");
            return;
        }
        let b = &b[..b.len().min(length)];
        if self.icmp6_body(b, length, ty, code).is_err() {
            trunc(self.out, "icmp6");
        }
    }

    /// What follows the type's name; `Ok(())` also when the message ends its own line.
    fn icmp6_body(&mut self, b: &[u8], length: usize, ty: u8, code: u8) -> Result<(), Cut> {
        let v = self.opts.verbose;
        let be16 = |i: usize| get_be16(b, i).ok_or(Cut);
        let be32 = |i: usize| get_be32(b, i).ok_or(Cut);
        let addr = |i: usize| b.get(i..i + 16).ok_or(Cut);
        // The quoted packet's destination must be there (tcpdump's check on errors).
        let quoted_dst = || addr(32);
        match ty {
            1 => {
                self.out.s(", ");
                match code {
                    0 => self.out.s("unreachable route"),
                    1 => self.out.s(" unreachable prohibited"),
                    2 => self.out.s("beyond scope"),
                    3 => self.out.s("unreachable address"),
                    4 => self.out.s("unreachable port"),
                    c => {
                        self.out.s("unknown unreach code (");
                        self.out.n(c);
                        self.out.c(b')');
                    }
                }
                let odst = if code <= 4 { quoted_dst()? } else { &[][..] };
                match code {
                    0 | 1 | 3 => {
                        self.out.c(b' ');
                        self.out.ipv6(odst);
                    }
                    2 => {
                        let osrc = addr(16)?;
                        self.out.c(b' ');
                        self.out.ipv6(odst);
                        self.out.s(", source address ");
                        self.out.ipv6(osrc);
                    }
                    4 => {
                        let (nh, port) = upper_layer(&b[8..]).ok_or(Cut)?;
                        self.out.s(", ");
                        self.out.ipv6(odst);
                        match nh {
                            ipproto::TCP => self.out.s(" tcp port "),
                            _ => self.out.s(" udp port "),
                        }
                        self.out.n(port);
                    }
                    _ => {
                        if v <= 1 {
                            hex_dump(self.out, b, "\n\t");
                            return Ok(());
                        }
                    }
                }
            }
            2 => {
                let mtu = be32(4)?;
                self.out.s(", mtu ");
                self.out.n(mtu);
            }
            3 => match code {
                0 => {
                    let odst = quoted_dst()?;
                    self.out.s(" for ");
                    self.out.ipv6(odst);
                }
                1 => self.out.s(" (reassembly)"),
                c => {
                    self.out.s(", unknown code (");
                    self.out.n(c);
                    self.out.c(b')');
                }
            },
            4 => {
                quoted_dst()?;
                let ptr = be32(4)?;
                match code {
                    0 => self.out.s(", erroneous - octet "),
                    1 => self.out.s(", next header - octet "),
                    2 => self.out.s(", option - octet "),
                    c => {
                        self.out.s(", code-#");
                        self.out.n(c);
                    }
                }
                if code <= 2 {
                    self.out.n(ptr);
                }
            }
            128 | 129 => {
                let (id, seq) = (be16(4)?, be16(6)?);
                self.out.s(", id ");
                self.out.n(id);
                self.out.s(", seq ");
                self.out.n(seq);
            }
            130 if length >= 28 => {
                self.out.s(" v2");
                self.mldv2_query(b, length)?;
            }
            130 if length != 24 => {
                self.out.s(" unknown-version (len ");
                self.out.n(length);
                self.out.s(") ");
            }
            130..=132 => {
                // tcpdump prints nothing of a cut MLD message, and no separator.
                if b.len() >= 24 {
                    self.out.s("max resp delay: ");
                    self.out.n(be16(4)?);
                    self.out.s(" addr: ");
                    self.out.ipv6(&b[8..24]);
                }
            }
            133 => {
                if v > 0 {
                    self.nd_options(b.get(8..).unwrap_or(&[]), length as isize - 8)?;
                }
            }
            134 => {
                if v > 0 {
                    let r = b.get(4..16).ok_or(Cut)?;
                    let flags = r[1];
                    self.out.s("\n\thop limit ");
                    self.out.n(r[0]);
                    self.out.s(", Flags [");
                    flag_names(
                        self.out,
                        u32::from(flags),
                        ", ",
                        &[
                            (0x80, "managed"),
                            (0x40, "other stateful"),
                            (0x20, "home agent"),
                            (0x02, "ipv6 only"),
                        ],
                    );
                    self.out.s("], pref ");
                    self.out.s(route_pref(flags));
                    self.out.s(", router lifetime ");
                    self.out.n(u16::from_be_bytes([r[2], r[3]]));
                    self.out.s("s, reachable time ");
                    self.out.n(u32::from_be_bytes([r[4], r[5], r[6], r[7]]));
                    self.out.s("ms, retrans timer ");
                    self.out.n(u32::from_be_bytes([r[8], r[9], r[10], r[11]]));
                    self.out.s("ms");
                    self.nd_options(b.get(16..).unwrap_or(&[]), length as isize - 16)?;
                }
            }
            135 | 136 => {
                let tgt = addr(8)?;
                self.out
                    .s(if ty == 135 { ", who has " } else { ", tgt is " });
                self.out.ipv6(tgt);
                if v > 0 {
                    if ty == 136 {
                        self.out.s(", Flags [");
                        flag_names(
                            self.out,
                            be32(4)?,
                            ", ",
                            &[
                                (0x8000_0000, "router"),
                                (0x4000_0000, "solicited"),
                                (0x2000_0000, "override"),
                            ],
                        );
                        self.out.s("]");
                    }
                    self.nd_options(b.get(24..).unwrap_or(&[]), length as isize - 24)?;
                }
            }
            137 => {
                let dst = addr(24)?;
                self.out.s(", ");
                self.out.ipv6(dst);
                let tgt = addr(8)?;
                self.out.s(" to ");
                self.out.ipv6(tgt);
                if v > 0 {
                    self.nd_options(b.get(40..).unwrap_or(&[]), length as isize - 40)?;
                }
            }
            138 => self.rrenum(b)?,
            139 | 140 => self.nodeinfo(b, length, ty)?,
            141 | 142 => {}
            143 => self.mldv2_report(b, length)?,
            144 | 146 => {
                let id = be16(4)?;
                self.out.s(", id 0x");
                self.out.hex(u32::from(id), 4);
            }
            _ => {
                self.out.s(", length ");
                self.out.n(length);
                if v <= 1 {
                    hex_dump(self.out, b, "\n\t");
                }
                return Ok(());
            }
        }
        if v == 0 {
            self.out.s(", length ");
            self.out.n(length);
        }
        Ok(())
    }

    /// Node information queries and replies (RFC 4620), as `icmp6_nodeinfo_print` reads
    /// them: `b` is what was captured of the message (its size decides, not `length`). A
    /// check of the fixed part that fails prints ` [|icmp6]` and lets the line end as usual.
    fn nodeinfo(&mut self, b: &[u8], length: usize, ty: u8) -> Result<(), Cut> {
        let v = self.opts.verbose;
        let siz = b.len();
        let qtype = |b: &[u8]| get_be16(b, 4).ok_or(Cut);
        let flags = |b: &[u8]| get_be16(b, 6).ok_or(Cut);
        if ty == 139 {
            if siz == 12 {
                // KAME's who-are-you.
                self.out.s(" who-are-you request");
                return Ok(());
            }
            self.out.s(" node information query");
            if siz < 16 {
                trunc(self.out, "icmp6");
                return Ok(());
            }
            self.out.s(" (");
            let q = qtype(b)?;
            match q {
                0 => self.out.s("noop"),
                1 => {
                    self.out.s("supported qtypes");
                    let f = flags(b)?;
                    if f != 0 {
                        self.out.s(if f & 1 != 0 { " [C]" } else { " []" });
                    }
                }
                2 => self.out.s("DNS name"),
                3 => {
                    self.out.s("node addresses");
                    let f = flags(b)?;
                    if f != 0 {
                        self.out.s(" [");
                        node_addr_flags(self.out, f, false);
                        self.out.c(b']');
                    }
                }
                _ => self.out.s("unknown"),
            }
            if q <= 1 {
                if siz != 16 && v > 0 {
                    self.out.s(", invalid len");
                }
                self.out.c(b')');
                return Ok(());
            }
            if siz == 16 {
                self.out.s(", 03 draft)");
                return Ok(());
            }
            match b[1] {
                0 | 2 => {
                    let want = if b[1] == 0 { 32 } else { 20 };
                    if siz >= want {
                        if siz != want {
                            if v > 0 {
                                self.out.s(", invalid subject len");
                            }
                        } else {
                            self.out.s(", subject=");
                            if b[1] == 0 {
                                self.out.ipv6(&b[16..32]);
                            } else {
                                self.out.ipv4(&b[16..20]);
                            }
                        }
                    }
                }
                1 => {
                    self.out.s(", subject=DNS name");
                    self.ni_name(b, 16);
                }
                _ => self.out.s(", unknown subject"),
            }
            self.out.c(b')');
            return Ok(());
        }
        if length > siz || siz < 16 {
            trunc(self.out, "icmp6");
            return Ok(());
        }
        self.out.s(" node information reply (");
        let mut comma = false;
        match b[1] {
            0 if v > 0 => {
                self.out.s("success");
                comma = true;
            }
            c @ (1 | 2) => {
                self.out.s(if c == 1 { "refused" } else { "unknown" });
                comma = true;
                if siz != 16 && v > 0 {
                    self.out.s(", invalid length");
                }
            }
            _ => {}
        }
        if b[1] != 0 {
            self.out.c(b')');
            return Ok(());
        }
        if comma {
            self.out.s(", ");
        }
        match qtype(b)? {
            0 => {
                self.out.s("noop");
                if siz != 16 && v > 0 {
                    self.out.s(", invalid length");
                }
            }
            1 => {
                self.out.s("supported qtypes");
                let f = flags(b)?;
                if f != 0 {
                    self.out.s(if f & 1 != 0 { " [C]" } else { " []" });
                }
            }
            2 => {
                self.out.s("DNS name");
                b.get(20).ok_or(Cut)?;
                self.ni_name(b, 20);
                if flags(b)? & 1 != 0 {
                    self.out.s(" [TTL=");
                    self.out.n(get_be32(b, 16).ok_or(Cut)?);
                    self.out.c(b']');
                }
            }
            3 => {
                self.out.s("node addresses");
                let mut i = 16;
                while i + 20 <= siz {
                    self.out.c(b' ');
                    self.out.ipv6(&b[i + 4..i + 20]);
                    self.out.c(b'(');
                    self.out.n(get_be32(b, i).ok_or(Cut)?);
                    self.out.c(b')');
                    i += 20;
                }
                let f = flags(b)?;
                if f != 0 {
                    self.out.s(" [");
                    node_addr_flags(self.out, f, true);
                    self.out.c(b']');
                }
            }
            _ => self.out.s("unknown"),
        }
        self.out.c(b')');
        Ok(())
    }

    /// A node information name from `at` to the end of the capture: the old draft's
    /// length-prefixed string when its first byte counts the rest, else DNS labels
    /// (tcpdump's `dnsname_print`, no compression).
    fn ni_name(&mut self, b: &[u8], at: usize) {
        let ep = b.len();
        if usize::from(b[at]) == ep - at - 1 {
            if self.opts.verbose > 0 {
                self.out.s(", 03 draft");
            }
            self.out.s(", \"");
            for &c in &b[at + 1..] {
                tcpdump_char(self.out, c);
            }
            self.out.c(b'"');
            return;
        }
        self.out.s(", \"");
        let mut cp = at;
        while cp < ep {
            let i = usize::from(b[cp]);
            cp += 1;
            if i != 0 {
                if i > ep - cp {
                    self.out.s("???");
                    break;
                }
                for &c in &b[cp..cp + i] {
                    tcpdump_char(self.out, c);
                }
                cp += i;
                if cp + 1 < ep && b[cp] != 0 {
                    self.out.c(b'.');
                }
            } else {
                if cp == ep {
                    self.out.c(b'.');
                } else if !(cp + 1 == ep && b[cp] == 0) {
                    self.out.s("???");
                }
                break;
            }
        }
        self.out.c(b'"');
    }

    /// Router renumbering (RFC 2894), as `icmp6_rrenum_print` reads it.
    fn rrenum(&mut self, b: &[u8]) -> Result<(), Cut> {
        let v = self.opts.verbose;
        if b.len() < 16 {
            trunc(self.out, "icmp6");
            return Ok(());
        }
        let code = b[1];
        match code {
            0 => self.out.s(", command"),
            1 => self.out.s(", result"),
            255 => self.out.s(", sequence number reset"),
            c => {
                self.out.s(", code-#");
                self.out.n(c);
            }
        }
        self.out.s(", seq=");
        self.out.n(u32::from_be_bytes([b[4], b[5], b[6], b[7]]));
        if v > 0 {
            let f = b[9];
            self.out.c(b'[');
            if f != 0 {
                for (bit, l) in [
                    (0x80, b'T'),
                    (0x40, b'R'),
                    (0x20, b'A'),
                    (0x10, b'S'),
                    (0x08, b'P'),
                ] {
                    if f & bit != 0 {
                        self.out.c(l);
                    }
                }
                self.out.c(b',');
            }
            self.out.s("seg=");
            self.out.n(b[8]);
            self.out.s(",maxdelay=");
            self.out.n(u16::from_be_bytes([b[10], b[11]]));
            let rsvd = u32::from_be_bytes([b[12], b[13], b[14], b[15]]);
            if rsvd != 0 {
                self.out.s("rsvd=0x");
                self.out.hexn(rsvd);
            }
            self.out.c(b']');
        }
        if code != 0 {
            return Ok(());
        }
        let sep = if v > 1 { "\n\t" } else { " " };
        let Some(m) = b.get(16..40) else {
            trunc(self.out, "icmp6");
            return Ok(());
        };
        self.out.s(sep);
        self.out.s("match(");
        match m[0] {
            1 => self.out.s("add"),
            2 => self.out.s("change"),
            3 => self.out.s("setglobal"),
            c => {
                self.out.c(b'#');
                self.out.n(c);
            }
        }
        if v > 0 {
            self.out.s(",ord=");
            self.out.n(m[2]);
            self.out.s(",min=");
            self.out.n(m[4]);
            self.out.s(",max=");
            self.out.n(m[5]);
        }
        self.out.c(b',');
        self.out.ipv6(&m[8..24]);
        self.out.c(b'/');
        self.out.n(m[3]);
        self.out.c(b')');
        let n = i32::from(m[1]) - 3;
        if n % 4 != 0 {
            trunc(self.out, "icmp6");
            return Ok(());
        }
        for k in 0..(n / 4).max(0) as usize {
            let Some(u) = b.get(40 + 32 * k..72 + 32 * k) else {
                trunc(self.out, "icmp6");
                return Ok(());
            };
            self.out.s(sep);
            self.out.s("use(");
            if u[12] != 0 {
                if u[12] & 0x80 != 0 {
                    self.out.c(b'V');
                }
                if u[12] & 0x40 != 0 {
                    self.out.c(b'P');
                }
                self.out.c(b',');
            }
            if v > 0 {
                self.out.s("mask=0x");
                self.out.hexn(u32::from(u[2]));
                self.out.s(",raflags=0x");
                self.out.hexn(u32::from(u[3]));
                self.out.c(b',');
                for (name, at) in [("vltime=", 4), ("pltime=", 8)] {
                    self.out.s(name);
                    let t = u32::from_be_bytes([u[at], u[at + 1], u[at + 2], u[at + 3]]);
                    if t == u32::MAX {
                        self.out.s("infty");
                    } else {
                        self.out.n(t);
                    }
                    self.out.c(b',');
                }
            }
            self.out.ipv6(&u[16..32]);
            self.out.c(b'/');
            self.out.n(u[0]);
            self.out.c(b'/');
            self.out.n(u[1]);
            self.out.c(b')');
        }
        Ok(())
    }

    fn mldv2_query(&mut self, b: &[u8], len: usize) -> Result<(), Cut> {
        let v = self.opts.verbose;
        let mrc = u32::from(get_be16(b, 4).ok_or(Cut)?);
        let mrt = if mrc < 32768 {
            mrc
        } else {
            ((mrc & 0x0fff) | 0x1000) << (((mrc & 0x7000) >> 12) + 3)
        };
        if v > 0 {
            self.out.s(" [max resp delay=");
            self.out.n(mrt);
            self.out.c(b']');
        }
        let g = b.get(8..24).ok_or(Cut)?;
        self.out.s(" [gaddr ");
        self.out.ipv6(g);
        if v > 0 {
            let f = *b.get(24).ok_or(Cut)?;
            if f & 0x08 != 0 {
                self.out.s(" sflag");
            }
            if f & 0x07 != 0 {
                self.out.s(" robustness=");
                self.out.n(f & 0x07);
            }
            let qqic = u32::from(*b.get(25).ok_or(Cut)?);
            let qqi = if qqic < 128 {
                qqic
            } else {
                ((qqic & 0x0f) | 0x10) << (((qqic & 0x70) >> 4) + 3)
            };
            self.out.s(" qqi=");
            self.out.n(qqi);
        }
        let nsrcs = usize::from(get_be16(b, 26).ok_or(Cut)?);
        if nsrcs > 0 {
            if len < 28 + nsrcs * 16 {
                self.out.s(" [invalid number of sources]");
            } else if v > 1 {
                self.out.s(" {");
                for i in 0..nsrcs {
                    let s = b.get(28 + 16 * i..44 + 16 * i).ok_or(Cut)?;
                    self.out.c(b' ');
                    self.out.ipv6(s);
                }
                self.out.s(" }");
            } else {
                self.out.s(", ");
                self.out.n(nsrcs);
                self.out.s(" source(s)");
            }
        }
        self.out.c(b']');
        Ok(())
    }

    fn mldv2_report(&mut self, b: &[u8], len: usize) -> Result<(), Cut> {
        let v = self.opts.verbose;
        if len < 8 {
            self.out.s(" [invalid len ");
            self.out.n(len);
            self.out.c(b']');
            return Ok(());
        }
        let n = get_be16(b, 6).ok_or(Cut)?;
        self.out.s(", ");
        self.out.n(n);
        self.out.s(" group record(s)");
        if v == 0 {
            return Ok(());
        }
        let mut g = 8;
        for _ in 0..n {
            if len < g + 20 {
                self.out.s(" [invalid number of groups]");
                return Ok(());
            }
            let rec = b.get(g..g + 20).ok_or(Cut)?;
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
            let nsrc = usize::from(u16::from_be_bytes([rec[2], rec[3]]));
            if len < g + 20 + nsrc * 16 {
                self.out.s(" [invalid number of sources ");
                self.out.n(nsrc);
                self.out.s("]");
                return Ok(());
            }
            if v == 1 {
                self.out.s(", ");
                self.out.n(nsrc);
                self.out.s(" source(s)");
            } else {
                self.out.s(" {");
                for i in 0..nsrc {
                    let s = b.get(g + 20 + 16 * i..g + 36 + 16 * i).ok_or(Cut)?;
                    self.out.c(b' ');
                    self.out.ipv6(s);
                }
                self.out.s(" }");
            }
            g += 20 + nsrc * 16 + usize::from(rec[1]) * 4;
            self.out.s("]");
        }
        Ok(())
    }

    /// The ND options at the start of `all` (as captured); `resid`: what the message's
    /// length leaves for them.
    fn nd_options(&mut self, all: &[u8], mut resid: isize) -> Result<(), Cut> {
        let v = self.opts.verbose;
        let mut cp = 0;
        while cp < all.len() {
            let Some(&l8) = all.get(cp + 1) else {
                return Err(Cut);
            };
            if resid <= 0 {
                return Ok(());
            }
            let ty = all[cp];
            let l = usize::from(l8) * 8;
            if l == 0 || cp + l > all.len() {
                return Err(Cut);
            }
            let o = &all[cp..cp + l];
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
            self.out.n(l8);
            self.out.s("): ");
            let lifetime = |out: &mut Vec<u8>, t: u32| {
                if t == u32::MAX {
                    out.s("infinity");
                } else {
                    out.n(t);
                    out.c(b's');
                }
            };
            match ty {
                1 | 2 => self.out.lladdr(&o[2..]),
                3 => {
                    let p = o.get(16..32).ok_or(Cut)?;
                    self.out.ipv6(p);
                    self.out.c(b'/');
                    self.out.n(o[2]);
                    if l8 != 4 {
                        self.out.s("badlen");
                    }
                    self.out.s(", Flags [");
                    flag_names(
                        self.out,
                        u32::from(o[3]),
                        ", ",
                        &[(0x80, "onlink"), (0x40, "auto"), (0x20, "router")],
                    );
                    self.out.s("], valid time ");
                    lifetime(self.out, get_be32(o, 4).unwrap_or(0));
                    self.out.s(", pref. time ");
                    lifetime(self.out, get_be32(o, 8).unwrap_or(0));
                }
                4 => hex_dump(self.out, &all[..l.min(all.len())], "\n\t    "),
                5 => {
                    let mtu = get_be32(o, 4).ok_or(Cut)?;
                    self.out.c(b' ');
                    self.out.n(mtu);
                    if l8 != 1 {
                        self.out.s("bad option length");
                    }
                }
                7 => {
                    let i = get_be32(o, 4).ok_or(Cut)?;
                    self.out.c(b' ');
                    self.out.n(i);
                    self.out.s("ms");
                }
                8 => {
                    let (pref, life) = (get_be16(o, 4).ok_or(Cut)?, get_be16(o, 6).ok_or(Cut)?);
                    self.out.s(" preference ");
                    self.out.n(pref);
                    self.out.s(", lifetime ");
                    self.out.n(life);
                }
                24 => {
                    let life = get_be32(o, 4).ok_or(Cut)?;
                    let mut prefix = [0u8; 16];
                    match l8 {
                        1 => {}
                        2 => prefix[..8].copy_from_slice(&o[8..16]),
                        3 => prefix.copy_from_slice(&o[8..24]),
                        _ => return Err(Cut),
                    }
                    self.out.c(b' ');
                    self.out.ipv6(&prefix);
                    self.out.c(b'/');
                    self.out.n(o[2]);
                    self.out.s(", pref=");
                    self.out.s(route_pref(o[3]));
                    self.out.s(", lifetime=");
                    lifetime(self.out, life);
                }
                25 => {
                    self.out.s(" lifetime ");
                    self.out.n(get_be32(o, 4).unwrap_or(0));
                    self.out.s("s,");
                    for a in o[8..].chunks_exact(16).take((usize::from(l8) - 1) / 2) {
                        self.out.s(" addr: ");
                        self.out.ipv6(a);
                    }
                }
                31 => {
                    self.out.s(" lifetime ");
                    self.out.n(get_be32(o, 4).unwrap_or(0));
                    self.out.s("s, domain(s):");
                    let mut d = cp + 8;
                    while d < cp + l && all.get(d).is_some_and(|&c| c != 0) {
                        self.out.c(b' ');
                        match self.dns_name(all, d) {
                            Some(next) => d = next,
                            None => return Err(Cut),
                        }
                    }
                }
                _ => {
                    if v <= 1 {
                        hex_dump(self.out, &o[2..], "\n\t  ");
                        return Ok(());
                    }
                }
            }
            if v > 1 {
                // tcpdump's -vv dump of every option's data, indented under the option.
                hex_dump(self.out, &o[2..], "\n\t    ");
            }
            cp += l;
            resid -= l as isize;
        }
        Ok(())
    }
}

/// A cut message: tcpdump's ` [|icmp6]`.
struct Cut;

fn type_name(t: u8) -> Option<&'static str> {
    Some(match t {
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
        138 => "router renumbering",
        139 => "who-are-you request",
        140 => "who-are-you reply",
        141 => "inverse neighbor solicitation",
        142 => "inverse neighbor advertisement",
        143 => "multicast listener report v2",
        144 => "ha discovery request",
        145 => "ha discovery reply",
        146 => "mobile router solicitation",
        147 => "mobile router advertisement",
        155 => "RPL",
        200 => "mtrace response",
        201 => "mtrace message",
        _ => return None,
    })
}

/// Node address flags in tcpdump's order (`T`, truncated, in replies only).
fn node_addr_flags(out: &mut Vec<u8>, f: u16, reply: bool) {
    for (bit, l) in [
        (0x40, b'a'),
        (0x20, b'G'),
        (0x10, b'S'),
        (0x08, b'L'),
        (0x04, b'C'),
        (0x02, b'A'),
    ] {
        if f & bit != 0 {
            out.c(l);
        }
    }
    if reply && f & 1 != 0 {
        out.c(b'T');
    }
}

/// A router preference (RFC 4191) from the flags byte.
fn route_pref(flags: u8) -> &'static str {
    match (flags >> 3) & 3 {
        0 => "medium",
        1 => "high",
        2 => "rsv",
        _ => "low",
    }
}

/// The quoted packet's upper-layer protocol (TCP or UDP) and destination port, walking its
/// extension headers as tcpdump's `get_upperlayer` does.
fn upper_layer(p: &[u8]) -> Option<(u8, u16)> {
    let mut nh = *p.get(6)?;
    let mut at = 40;
    loop {
        match nh {
            ipproto::TCP | ipproto::UDP => return Some((nh, get_be16(p, at + 2)?)),
            0 | 60 | 43 => {
                let l = *p.get(at + 1)?;
                nh = p[at];
                at += (usize::from(l) + 1) << 3;
            }
            44 => {
                let off = get_be16(p, at + 2)?;
                if off & 0xfff8 != 0 {
                    return None;
                }
                nh = p[at];
                at += 8;
            }
            51 => {
                let l = *p.get(at + 1)?;
                nh = p[at];
                at += (usize::from(l) + 2) << 2;
            }
            _ => return None,
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
        // The type names the message; tcpdump marks the cut after it.
        assert_eq!(
            line_v(&p[..42], 0),
            "IP6 fd00::1 > fd00::2: ICMP6, echo request [|icmp6]"
        );
        assert_eq!(line_v(&p[..40], 0), "IP6 fd00::1 > fd00::2:  [|icmp6]");
    }
    fn v6_msg(m: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0, 0, m.len() as u8, 58, 64];
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(m);
        p
    }

    #[test]
    fn node_information() {
        let head = "IP6 fd00::1 > fd00::2: ICMP6, ";
        // A query for node addresses with an IPv6 subject.
        let mut m = vec![139, 0, 0, 0, 0, 3, 0, 0x3e, 1, 2, 3, 4, 5, 6, 7, 8];
        m.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        let p = v6_msg(&m);
        assert_eq!(
            line_v(&p, 0),
            format!("{head}who-are-you request node information query (node addresses [GSLCA], subject=fd00::2), length 32")
        );
        // Cut to 12 bytes, it is KAME's who-are-you; shorter, a cut that keeps the length.
        assert_eq!(
            line_v(&p[..52], 0),
            format!("{head}who-are-you request who-are-you request, length 32")
        );
        assert_eq!(
            line_v(&p[..50], 0),
            format!("{head}who-are-you request node information query [|icmp6], length 32")
        );
        // A reply with a DNS name and its TTL.
        let mut m = vec![
            140, 0, 0, 0, 0, 2, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x0e, 0x10,
        ];
        m.extend_from_slice(b"\x04host\x03lab\x00");
        assert_eq!(
            line_v(&v6_msg(&m), 0),
            format!("{head}who-are-you reply node information reply (DNS name, \"host.lab.\" [TTL=3600]), length 30")
        );
    }

    #[test]
    fn router_renumbering() {
        let mut m = vec![138, 0, 0, 0, 0, 0, 0, 1, 0, 0xf8, 0, 10, 0, 0, 0, 0];
        m.extend_from_slice(&[1, 7, 0, 48, 32, 64, 0, 0]);
        m.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        m.extend_from_slice(&[64, 64, 0xff, 0xc0, 0, 0, 0xe, 0x10, 0xff, 0xff, 0xff, 0xff]);
        m.extend_from_slice(&[0xc0, 0, 0, 0]);
        m.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let p = v6_msg(&m);
        let head = "IP6 fd00::1 > fd00::2: ICMP6, router renumbering, command, seq=1";
        assert_eq!(
            line_v(&p, 0),
            format!("{head} match(add,fd00::2/48) use(VP,fd00::1/64/64), length 72")
        );
        assert_eq!(
            line_v(&p[..100], 0),
            format!("{head} match(add,fd00::2/48) [|icmp6], length 72")
        );
        assert_eq!(
            line_v(&p[..55], 0),
            format!("{head} [|icmp6], length 72").replace(", command, seq=1", "")
        );
    }
}

//! DNS (tcpdump's `print-domain.c`).

use super::{trunc, Printer};
use crate::render::text::{tcpdump_char, Out};
use crate::wire::dns::{walk_name, DnsPacket, NameError};
use crate::wire::{get_be16, get_be32};

/// DNS's port, over UDP and TCP.
pub(super) const PORT: u16 = 53;

impl Printer<'_> {
    /// DNS over TCP (RFC 1035 4.2.2) as tcpdump 4.99 prints it: the segment must be one whole
    /// message after its 2-byte length prefix; anything else (several messages in one
    /// segment, a segment that starts inside a message) is only said to be invalid.
    pub(super) fn dns_tcp(&mut self, seg: &[u8], length: usize) {
        if length < 2 {
            self.out.s(" [DNS over TCP: length ");
            self.out.n(length);
            self.out.s(" < 2] (invalid)");
            return;
        }
        let Some(prefix) = get_be16(seg, 0) else {
            trunc(self.out, "domain");
            return;
        };
        let length = length - 2;
        if usize::from(prefix) != length {
            self.out.s(" [prefix length(");
            self.out.n(prefix);
            self.out.s(") != length(");
            self.out.n(length);
            self.out.s(")] (invalid)");
            return;
        }
        self.out.c(b' ');
        self.dns(&seg[2..], length, false);
    }

    /// `mdns`: multicast DNS (RFC 6762), whose classes carry the QU and cache-flush bits.
    pub(super) fn dns(&mut self, msg: &[u8], length: usize, mdns: bool) {
        let Ok(d) = DnsPacket::new_checked(msg) else {
            if length >= 12 {
                trunc(self.out, "domain");
                return;
            }
            self.out.s("domain [length ");
            self.out.n(length);
            self.out.s(" < 12] (invalid)");
            return;
        };
        const OPS: [&str; 16] = [
            "",
            " inv_q",
            " stat",
            " op3",
            " notify",
            " update",
            " op6",
            " op7",
            " op8",
            " updateA",
            " updateD",
            " updateDA",
            " updateM",
            " updateMA",
            " zoneInit",
            " zoneRef",
        ];
        let f = d.flags();
        let (qd, an, ns, ar) = (d.qdcount(), d.ancount(), d.nscount(), d.arcount());
        self.out.n(d.id());
        self.out.s(OPS[usize::from(d.opcode())]);
        let mut pos = DnsPacket::<&[u8]>::HEADER_LEN;
        let ok = if d.is_response() {
            rcode_name(self.out, extended_rcode(msg, d.rcode(), qd, an, ns, ar));
            if f & 0x0400 != 0 {
                self.out.c(b'*');
            }
            if f & 0x0080 == 0 {
                self.out.c(b'-');
            }
            if f & 0x0200 != 0 {
                self.out.c(b'|');
            }
            if f & 0x0020 != 0 {
                self.out.c(b'$');
            }
            if qd != 1 {
                self.out.s(" [");
                self.out.n(qd);
                self.out.s("q]");
            }
            let mut ok = true;
            for i in 0..qd {
                // -vv: the question section too.
                let next = if self.opts.verbose > 1 {
                    if i > 0 {
                        self.out.c(b',');
                    }
                    self.out.s(" q:");
                    self.dns_question(msg, pos, mdns)
                } else {
                    skip_name(msg, pos).map(|e| e + 4)
                };
                match next {
                    Some(e) => pos = e,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                self.out.c(b' ');
                self.out.n(an);
                self.out.c(b'/');
                self.out.n(ns);
                self.out.c(b'/');
                self.out.n(ar);
                ok = self.dns_section(msg, &mut pos, an, None, mdns);
                if ok && self.opts.verbose > 1 {
                    ok = self.dns_section(msg, &mut pos, ns, Some(" ns:"), mdns)
                        && self.dns_section(msg, &mut pos, ar, Some(" ar:"), mdns);
                }
            }
            ok
        } else {
            if f & 0x0100 != 0 {
                self.out.c(b'+');
            }
            if f & 0x0010 != 0 {
                self.out.c(b'%');
            }
            if f & 0x06cf != 0 {
                self.out.s(" [b2&3=0x");
                self.out.hexn(u32::from(f));
                self.out.s("]");
            }
            let count = |out: &mut Vec<u8>, n: u16, tag: &str| {
                out.s(" [");
                out.n(n);
                out.s(tag);
                out.s("]");
            };
            if d.opcode() == 1 {
                if qd != 0 {
                    count(self.out, qd, "q");
                }
                if an != 1 {
                    count(self.out, an, "a");
                }
            } else {
                if an != 0 {
                    count(self.out, an, "a");
                }
                if qd != 1 {
                    count(self.out, qd, "q");
                }
            }
            if ns != 0 {
                count(self.out, ns, "n");
            }
            if ar != 0 {
                count(self.out, ar, "au");
            }
            let mut ok = true;
            for i in 0..qd {
                if i > 0 && pos >= msg.len() {
                    ok = false;
                    break;
                }
                match self.dns_question(msg, pos, mdns) {
                    Some(e) => pos = e,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            // -vv: a query's other sections too, when their counts say it has them
            // (updates, NOTIFY, EDNS queries with an OPT record).
            if ok && self.opts.verbose > 1 {
                ok = self.dns_section(msg, &mut pos, an, None, mdns)
                    && self.dns_section(msg, &mut pos, ns, Some(" ns:"), mdns)
                    && self.dns_section(msg, &mut pos, ar, Some(" ar:"), mdns);
            }
            ok
        };
        if !ok {
            trunc(self.out, "domain");
            return;
        }
        self.out.s(" (");
        self.out.n(length);
        self.out.s(")");
    }

    /// The records of one section, comma-separated, as tcpdump's ns_print lists them: the
    /// answers' first record always, the others (and a labelled section's first) only while
    /// captured bytes remain; `false` when records are left over (the truncation mark).
    fn dns_section(
        &mut self,
        msg: &[u8],
        pos: &mut usize,
        count: u16,
        label: Option<&str>,
        mdns: bool,
    ) -> bool {
        for i in 0..count {
            if (i > 0 || label.is_some()) && *pos >= msg.len() {
                return false;
            }
            if i > 0 {
                self.out.c(b',');
            } else if let Some(l) = label {
                self.out.s(l);
            }
            match self.dns_rr(msg, *pos, mdns) {
                Some(e) => *pos = e,
                None => return false,
            }
        }
        true
    }

    /// Prints a name as tcpdump does; `None` when it cannot be read to the end.
    pub(super) fn dns_name(&mut self, msg: &[u8], pos: usize) -> Option<usize> {
        let mut any = false;
        let out = &mut *self.out;
        let r = walk_name(msg, pos, |label| {
            any = true;
            for &c in label {
                tcpdump_char(out, c);
            }
            out.c(b'.');
        });
        match r {
            Ok(e) => {
                if !any {
                    self.out.c(b'.');
                }
                Some(e)
            }
            Err(NameError::BadPointer) => {
                self.out.s("<BAD PTR>");
                None
            }
            Err(NameError::BadLabel(l)) => {
                self.out.s("<ELT ");
                self.out.n(l & 0x3f);
                self.out.s(">");
                None
            }
            Err(NameError::Truncated) if ends_after_length(msg, pos) => {
                // tcpdump's fqdn_print stops without complaint when the capture ends right
                // after a label's length byte (or a later pointer's first byte): the record's
                // fixed part is then missing, which ends the section quietly.
                Some(msg.len())
            }
            Err(NameError::Truncated) => {
                // tcpdump prints a label cut by the end of the capture as far as it goes.
                for &c in cut_label(msg, pos) {
                    tcpdump_char(self.out, c);
                }
                None
            }
        }
    }

    pub(super) fn dns_question(&mut self, msg: &[u8], pos: usize, mdns: bool) -> Option<usize> {
        let end = walk_name(msg, pos, |_| {}).ok()?;
        let ty = get_be16(msg, end)?;
        let class = get_be16(msg, end + 2)?;
        self.out.c(b' ');
        type_name(self.out, ty);
        let c = if mdns { class & 0x7fff } else { class };
        if c != 1 {
            self.out.c(b' ');
            class_name(self.out, c);
        }
        if mdns {
            // The top bit asks for a unicast answer.
            self.out.s(if class & 0x8000 != 0 {
                " (QU)"
            } else {
                " (QM)"
            });
        }
        self.out.s("? ");
        self.dns_name(msg, pos)?;
        Some(end + 4)
    }

    pub(super) fn dns_rr(&mut self, msg: &[u8], pos: usize, mdns: bool) -> Option<usize> {
        let end = if self.opts.verbose > 0 {
            self.out.c(b' ');
            self.dns_name(msg, pos)?
        } else {
            // tcpdump's ns_nskip: a length not captured ends the section quietly too.
            let Some(e) = skip_name(msg, pos) else {
                return Some(msg.len());
            };
            e
        };
        if msg.len() < end + 10 {
            // tcpdump's ns_rprint: a record whose fixed part was not captured ends the
            // section quietly (the capture's end), not with the truncation mark.
            return Some(msg.len());
        }
        let ty = get_be16(msg, end)?;
        let class = get_be16(msg, end + 2)?;
        get_be32(msg, end + 4)?;
        let rdlen = usize::from(get_be16(msg, end + 8)?);
        let cp = end + 10;
        let c = if mdns { class & 0x7fff } else { class };
        if c != 1 && ty != 41 {
            self.out.c(b' ');
            class_name(self.out, c);
        }
        if mdns && class & 0x8000 != 0 {
            self.out.s(" (Cache flush)");
        }
        self.out.c(b' ');
        type_name(self.out, ty);
        let rp = cp + rdlen;
        let rd = msg.get(cp..rp)?;
        match ty {
            1 => {
                let a = rd.get(..4)?;
                self.out.c(b' ');
                self.out.ipv4(a);
            }
            28 => {
                let a = rd.get(..16)?;
                self.out.c(b' ');
                self.out.ipv6(a);
            }
            2 | 5 | 12 | 39 => {
                self.out.c(b' ');
                self.dns_name(msg, cp)?;
            }
            15 => {
                self.out.c(b' ');
                self.dns_name(msg, cp + 2)?;
                self.out.c(b' ');
                self.out.n(get_be16(rd, 0)?);
            }
            16 => {
                let mut i = 0;
                while i < rd.len() {
                    let l = usize::from(rd[i]);
                    let s = rd.get(i + 1..i + 1 + l)?;
                    self.out.s(" \"");
                    for &c in s {
                        tcpdump_char(self.out, c);
                    }
                    self.out.c(b'"');
                    i += 1 + l;
                }
            }
            33 => {
                self.out.c(b' ');
                self.dns_name(msg, cp + 6)?;
                self.out.c(b':');
                self.out.n(get_be16(rd, 4)?);
                self.out.c(b' ');
                self.out.n(get_be16(rd, 0)?);
                self.out.c(b' ');
                self.out.n(get_be16(rd, 2)?);
            }
            6 if self.opts.verbose > 0 => {
                self.out.c(b' ');
                let e = self.dns_name(msg, cp)?;
                self.out.c(b' ');
                let e = self.dns_name(msg, e)?;
                for i in 0..5 {
                    self.out.c(b' ');
                    self.out.n(get_be32(msg, e + 4 * i)?);
                }
            }
            41 => {
                self.out.s(" UDPsize=");
                self.out.n(class);
                if get_be16(msg, end + 6)? & 0x8000 != 0 {
                    self.out.s(" DO");
                }
                if cp < rp {
                    self.out.s(" [");
                    let mut at = cp;
                    while at < rp {
                        at = self.edns_option(msg, at)?;
                        if at < rp {
                            self.out.c(b',');
                        }
                    }
                    self.out.c(b']');
                }
            }
            _ => {}
        }
        Some(rp)
    }
}

impl Printer<'_> {
    /// One EDNS option of an OPT record as tcpdump's `eopt_print` prints it (`COOKIE c s`,
    /// `ECS 198.18.0.0/24/0`, `PADDING (5)`, `Opt15 000e`, ` (invalid)` for a bad length);
    /// the offset after it, `None` when it is not captured (the truncation mark).
    fn edns_option(&mut self, msg: &[u8], at: usize) -> Option<usize> {
        let code = get_be16(msg, at)?;
        match code {
            1 => self.out.s("LLQ"),
            2 => self.out.s("UL"),
            3 => self.out.s("NSID"),
            5 => self.out.s("DAU"),
            6 => self.out.s("DHU"),
            7 => self.out.s("N3U"),
            8 => self.out.s("ECS"),
            9 => self.out.s("EXPIRE"),
            10 => self.out.s("COOKIE"),
            11 => self.out.s("KEEPALIVE"),
            12 => self.out.s("PADDING"),
            13 => self.out.s("CHAIN"),
            14 => self.out.s("KEY-TAG"),
            16 => self.out.s("CLIENT-TAG"),
            17 => self.out.s("SERVER-TAG"),
            c => {
                self.out.s("Opt");
                self.out.n(c);
            }
        }
        let len = usize::from(get_be16(msg, at + 2)?);
        let d = msg.get(at + 4..at + 4 + len)?;
        if len == 0 {
            return Some(at + 4);
        }
        self.out.c(b' ');
        let invalid = |out: &mut Vec<u8>| out.s(" (invalid)");
        let hex = |out: &mut Vec<u8>, b: &[u8]| {
            for &x in b {
                out.hex(u32::from(x), 2);
            }
        };
        let algorithms = |out: &mut Vec<u8>, names: &dyn Fn(u8) -> Option<&'static str>| {
            for (i, &a) in d.iter().enumerate() {
                if i > 0 {
                    out.c(b' ');
                }
                match names(a) {
                    Some(n) => out.s(n),
                    None => {
                        out.s("Alg_");
                        out.n(a);
                    }
                }
            }
        };
        match code {
            8 => {
                // Family, source and scope prefix lengths, then the address's leading bytes.
                let family = get_be16(msg, at + 4)?;
                let (src, scope) = (*msg.get(at + 6)?, *msg.get(at + 7)?);
                let bits = match family {
                    1 => 32,
                    2 => 128,
                    _ => {
                        invalid(self.out);
                        return Some(at + 4 + len);
                    }
                };
                let alen = len.wrapping_sub(4);
                if alen > bits / 8
                    || usize::from(src) > bits
                    || usize::from(scope) > bits
                    || usize::from(src).div_ceil(8) != alen
                {
                    invalid(self.out);
                    return Some(at + 4 + len);
                }
                let mut a = [0u8; 16];
                a[..alen].copy_from_slice(&d[4..]);
                if family == 1 {
                    self.out.ipv4(&a[..4]);
                } else {
                    self.out.ipv6(&a);
                }
                self.out.c(b'/');
                self.out.n(src);
                self.out.c(b'/');
                self.out.n(scope);
            }
            10 => {
                if len < 8 || (len > 8 && len < 16) || len > 40 {
                    invalid(self.out);
                } else {
                    hex(self.out, &d[..8]);
                    if len > 8 {
                        self.out.c(b' ');
                        hex(self.out, &d[8..]);
                    }
                }
            }
            11 => {
                if len != 2 {
                    invalid(self.out);
                } else {
                    let v = u16::from_be_bytes([d[0], d[1]]);
                    self.out.s(&format!("{:.1} sec", f64::from(v) / 10.0));
                }
            }
            9 => {
                if len != 4 {
                    invalid(self.out);
                } else {
                    self.out.n(u32::from_be_bytes([d[0], d[1], d[2], d[3]]));
                    self.out.s(" sec");
                }
            }
            12 => {
                self.out.c(b'(');
                self.out.n(len);
                self.out.c(b')');
            }
            14 => {
                if len % 2 != 0 {
                    invalid(self.out);
                } else {
                    for (i, t) in d.chunks_exact(2).enumerate() {
                        if i > 0 {
                            self.out.c(b' ');
                        }
                        self.out.n(u16::from_be_bytes([t[0], t[1]]));
                    }
                }
            }
            5 => algorithms(self.out, &|a| match a {
                0 => Some("DELETE"),
                1 => Some("RSAMD5"),
                2 => Some("DH"),
                3 => Some("DS"),
                5 => Some("RSASHA1"),
                6 => Some("DSA-NSEC3-SHA1"),
                7 => Some("RSASHA1-NSEC3-SHA1"),
                8 => Some("RSASHA256"),
                10 => Some("RSASHA512"),
                12 => Some("ECC-GOST"),
                13 => Some("ECDSAP256SHA256"),
                14 => Some("ECDSAP384SHA384"),
                15 => Some("ED25519"),
                16 => Some("ED448"),
                252 => Some("INDIRECT"),
                253 => Some("PRIVATEDNS"),
                254 => Some("PRIVATEOID"),
                _ => None,
            }),
            6 => algorithms(self.out, &|a| match a {
                1 => Some("SHA-1"),
                2 => Some("SHA-256"),
                3 => Some("GOST_R_34.11-94"),
                4 => Some("SHA-384"),
                _ => None,
            }),
            7 => algorithms(self.out, &|a| (a == 1).then_some("SHA-1")),
            13 => {
                // tcpdump ignores whether the name could be printed.
                let _ = self.dns_name(msg, at + 4);
            }
            _ => hex(self.out, d),
        }
        Some(at + 4 + len)
    }
}

/// The end of the name at `pos` as tcpdump's `ns_nskip` finds it: label lengths are read,
/// label bytes and a pointer's second byte are not; `None` when a length is not captured.
fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        pos += 1;
        match len & 0xc0 {
            0 if len == 0 => return Some(pos),
            0 => pos += usize::from(len),
            0xc0 => return Some(pos + 1),
            _ => return walk_name(msg, pos - 1, |_| {}).ok(),
        }
    }
}

/// The captured part of the label that the end of `msg` cuts, in the name at `start`.
/// Whether the capture ends right after the length byte of a label of the name at `start`,
/// or after the first byte of a pointer that is not the name's first byte.
fn ends_after_length(msg: &[u8], start: usize) -> bool {
    let (mut pos, mut limit) = (start, start);
    while let Some(&len) = msg.get(pos) {
        let last = pos + 1 == msg.len();
        match len & 0xc0 {
            0xc0 => {
                if last {
                    return pos != start;
                }
                let target = usize::from(u16::from_be_bytes([len & 0x3f, msg[pos + 1]]));
                if target >= limit {
                    return false;
                }
                (pos, limit) = (target, target);
            }
            0 if len > 0 => {
                if last {
                    return true;
                }
                pos += 1 + usize::from(len);
            }
            _ => return false,
        }
    }
    false
}

fn cut_label(msg: &[u8], start: usize) -> &[u8] {
    let (mut pos, mut limit) = (start, start);
    while let Some(&len) = msg.get(pos) {
        match len & 0xc0 {
            0xc0 => {
                let Some(&lo) = msg.get(pos + 1) else {
                    break;
                };
                let target = usize::from(u16::from_be_bytes([len & 0x3f, lo]));
                if target >= limit {
                    break;
                }
                (pos, limit) = (target, target);
            }
            0 if len > 0 => {
                let end = pos + 1 + usize::from(len);
                if end > msg.len() {
                    return &msg[pos + 1..];
                }
                pos = end;
            }
            _ => break,
        }
    }
    &[]
}

/// The response code with the EDNS extension (RFC 6891: the OPT record's TTL carries its
/// upper 8 bits), found as tcpdump 4.99 looks for it: the first OPT record in the additional
/// section, as long as the records before it were captured.
fn extended_rcode(msg: &[u8], rcode: u8, qd: u16, an: u16, ns: u16, ar: u16) -> u32 {
    let rcode = u32::from(rcode);
    let len = msg.len();
    let mut cp = DnsPacket::<&[u8]>::HEADER_LEN;
    for _ in 0..qd {
        let Some(e) = skip_name(msg, cp) else {
            return rcode;
        };
        cp = e + 4;
        if cp >= len {
            return rcode;
        }
    }
    for _ in 0..u32::from(an) + u32::from(ns) {
        let Some(e) = skip_name(msg, cp) else {
            return rcode;
        };
        cp = e + 8;
        let Some(rdlen) = get_be16(msg, cp).filter(|_| cp + 2 <= len) else {
            return rcode;
        };
        cp += 2 + usize::from(rdlen);
        if cp >= len {
            return rcode;
        }
    }
    for _ in 0..ar {
        let Some(e) = skip_name(msg, cp) else {
            return rcode;
        };
        cp = e;
        let Some(ty) = get_be16(msg, cp) else {
            return rcode;
        };
        cp += 4;
        let Some(&hi) = msg.get(cp) else {
            return rcode;
        };
        if ty == 41 {
            return rcode | u32::from(hi) << 4;
        }
        cp += 4;
        let Some(rdlen) = get_be16(msg, cp) else {
            return rcode;
        };
        cp += 2 + usize::from(rdlen);
        if cp >= len {
            return rcode;
        }
    }
    rcode
}

/// tcpdump 4.99's names of (extended) response codes, its missing spaces included.
fn rcode_name(out: &mut Vec<u8>, r: u32) {
    const NAMES: [&str; 24] = [
        "",
        " FormErr",
        " ServFail",
        " NXDomain",
        " NotImp",
        " Refused",
        " YXDomain",
        " YXRRSet",
        " NXRRSet",
        " NotAuth",
        " NotZone",
        " Resp11",
        " Resp12",
        " Resp13",
        " Resp14",
        " NoChange",
        " BadVers",
        "Resp17",
        " Resp18",
        " Resp19",
        " Resp20",
        "Resp21",
        " Resp22",
        " BadCookie",
    ];
    match NAMES.get(r as usize) {
        Some(n) => out.s(n),
        None => {
            out.s(" Resp");
            out.n(r);
        }
    }
}

fn type_name(out: &mut Vec<u8>, t: u16) {
    const NAMES: [&str; 52] = [
        "",
        "A",
        "NS",
        "MD",
        "MF",
        "CNAME",
        "SOA",
        "MB",
        "MG",
        "MR",
        "NULL",
        "WKS",
        "PTR",
        "HINFO",
        "MINFO",
        "MX",
        "TXT",
        "RP",
        "AFSDB",
        "X25",
        "ISDN",
        "RT",
        "NSAP",
        "NSAP_PTR",
        "SIG",
        "KEY",
        "PX",
        "GPOS",
        "AAAA",
        "LOC",
        "NXT",
        "EID",
        "NIMLOC",
        "SRV",
        "ATMA",
        "NAPTR",
        "KX",
        "CERT",
        "A6",
        "DNAME",
        "SINK",
        "OPT",
        "APL",
        "DS",
        "SSHFP",
        "IPSECKEY",
        "RRSIG",
        "NSEC",
        "DNSKEY",
        "",
        "NSEC3",
        "NSEC3PARAM",
    ];
    let name = match t {
        1..=51 => NAMES[usize::from(t)],
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "UNSPECA",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        _ => "",
    };
    if name.is_empty() {
        out.s("Type");
        out.n(t);
    } else {
        out.s(name);
    }
}

fn class_name(out: &mut Vec<u8>, c: u16) {
    match c {
        1 => out.s("IN"),
        3 => out.s("CHAOS"),
        4 => out.s("HS"),
        255 => out.s("ANY"),
        _ => {
            out.s("(Class ");
            out.n(c);
            out.s(")");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v, udp};

    #[test]
    fn query_and_cut_query() {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        let p = ipv4(17, &udp(40000, 53, &q));
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.53: 4660+ A? example.com. (29)"
        );
        assert_eq!(
            line_v(&p[..p.len() - 6], 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.53: 4660+ [|domain]"
        );
    }

    /// A TCP segment 40000 > 53 (PSH, no ACK: absolute sequence numbers) with `payload`.
    fn over_tcp(payload: &[u8]) -> Vec<u8> {
        let mut t = vec![
            0x9c, 0x40, 0, 53, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x08, 2, 0, 0, 0, 0, 0,
        ];
        t.extend_from_slice(payload);
        ipv4(6, &t)
    }

    #[test]
    fn over_tcp_one_message_after_its_prefix() {
        let mut q = vec![0, 29, 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        let head = "IP 198.18.0.1.40000 > 198.18.0.2.53: Flags [P], seq 1:32, win 512, length 31";
        assert_eq!(
            line_v(&over_tcp(&q), 0),
            format!("{head} 4660+ A? example.com. (29)")
        );
        // Two messages in the segment: only their lengths are compared.
        let two = [q.clone(), q.clone()].concat();
        assert_eq!(
            line_v(&over_tcp(&two), 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.53: Flags [P], seq 1:63, win 512, length 62 [prefix length(29) != length(60)] (invalid)"
        );
        let p = over_tcp(&q);
        assert_eq!(
            line_v(&p[..41], 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.53: Flags [P], seq 1:32, win 512, length 31 [|domain]"
        );
    }

    #[test]
    fn extended_rcode_from_the_opt_record() {
        let answer = |rcode: u8, ext: u8| {
            let mut r = vec![0x12, 0x34, 0x81, 0x80 | rcode, 0, 1, 0, 0, 0, 0, 0, 1];
            r.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
            r.extend_from_slice(&[0, 0, 41, 0x10, 0, ext, 0, 0, 0, 0, 0]);
            line_v(&ipv4(17, &udp(53, 40000, &r)), 0)
        };
        assert!(answer(0, 1).ends_with(": 4660 BadVers 0/0/1 (40)"));
        assert!(answer(1, 1).ends_with(": 4660Resp17 0/0/1 (40)"));
        assert!(answer(15, 0xff).ends_with(": 4660 Resp4095 0/0/1 (40)"));
        assert!(answer(3, 0).ends_with(": 4660 NXDomain 0/0/1 (40)"));
    }

    #[test]
    fn query_sections_under_vv() {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        q.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]);
        let p = ipv4(17, &udp(40000, 53, &q));
        assert!(line_v(&p, 2).ends_with("4660+ [1au] A? example.com. ar: . OPT UDPsize=4096 (40)"));
        assert!(line_v(&p, 1).ends_with("4660+ [1au] A? example.com. (40)"));
    }

    /// dig's query with an EDNS OPT record: -vv prints the additional section of a query.
    #[test]
    fn query_additional_section_under_vv() {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        q.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
        let p = ipv4(17, &udp(40000, 53, &q));
        assert!(line_v(&p, 1).ends_with(" 4660+ [1au] A? example.com. (40)"));
        let vv = line_v(&p, 2);
        assert!(
            vv.ends_with(" 4660+ [1au] A? example.com. ar: . OPT UDPsize=1232 (40)"),
            "{vv}"
        );
    }

    /// EDNS options in a query's OPT record under -vv, as dig and dnsmasq send them (a
    /// cookie, an extended error) and as tcpdump prints the others.
    #[test]
    fn edns_options_under_vv() {
        let with = |opts: &[(u16, &[u8])]| {
            let mut rd = Vec::new();
            for (c, d) in opts {
                rd.extend_from_slice(&c.to_be_bytes());
                rd.extend_from_slice(&(d.len() as u16).to_be_bytes());
                rd.extend_from_slice(d);
            }
            let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1];
            q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
            q.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0x80, 0]);
            q.extend_from_slice(&(rd.len() as u16).to_be_bytes());
            q.extend_from_slice(&rd);
            let l = line_v(&ipv4(17, &udp(40000, 53, &q)), 2);
            let at = l.find("OPT ").unwrap();
            l[at..l.rfind(" (").unwrap()].to_string()
        };
        let c8: Vec<u8> = (0..8).collect();
        let c24: Vec<u8> = (0..24).collect();
        assert_eq!(
            with(&[(10, &c8)]),
            "OPT UDPsize=1232 DO [COOKIE 0001020304050607]"
        );
        assert_eq!(
            with(&[(10, &c24)]),
            "OPT UDPsize=1232 DO [COOKIE 0001020304050607 08090a0b0c0d0e0f1011121314151617]"
        );
        assert_eq!(
            with(&[(10, &c8[..5])]),
            "OPT UDPsize=1232 DO [COOKIE  (invalid)]"
        );
        assert_eq!(
            with(&[(8, &[0, 1, 24, 0, 198, 18, 0])]),
            "OPT UDPsize=1232 DO [ECS 198.18.0.0/24/0]"
        );
        assert_eq!(
            with(&[(8, &[0, 3, 0, 0])]),
            "OPT UDPsize=1232 DO [ECS  (invalid)]"
        );
        assert_eq!(
            with(&[(5, &[8, 13, 15]), (11, &[0, 25]), (12, &[0; 5])]),
            "OPT UDPsize=1232 DO [DAU RSASHA256 ECDSAP256SHA256 ED25519,KEEPALIVE 2.5 sec,PADDING (5)]"
        );
        assert_eq!(
            with(&[(3, b"ab"), (15, &[0, 14]), (100, b""), (16, b"x")]),
            "OPT UDPsize=1232 DO [NSID 6162,Opt15 000e,Opt100,CLIENT-TAG 78]"
        );
        assert_eq!(
            with(&[(14, &[0, 1, 0, 2]), (9, &[0, 0, 1, 0])]),
            "OPT UDPsize=1232 DO [KEY-TAG 1 2,EXPIRE 256 sec]"
        );
    }

    /// mDNS answers cut right after a name's label length byte: tcpdump ends the answers
    /// there without the truncation mark (the record's fixed part is missing).
    #[test]
    fn answer_name_cut_after_a_length_byte() {
        let mut r = vec![0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 0];
        r.extend_from_slice(b"\x04host\x05local\x00\x00\x01\x80\x01\x00\x00\x00\x78\x00\x04");
        r.extend_from_slice(&[198, 18, 0, 2]);
        r.extend_from_slice(b"\x09_services\x07_dns-sd\x04_udp\xc0\x11\x00\x0c\x00\x01");
        r.extend_from_slice(&[0, 0, 0, 0x78, 0, 2, 0xc0, 0x0c]);
        let p = ipv4(17, &udp(5353, 5353, &r));
        let head = 20 + 8 + 12 + 26;
        for (cut, tail) in [
            (head + 1, "(Cache flush) A 198.18.0.2,  (75)"),
            (head + 11, "(Cache flush) A 198.18.0.2, _services. (75)"),
            (
                head + 24,
                "(Cache flush) A 198.18.0.2, _services._dns-sd._udp. (75)",
            ),
            (head + 5, "(Cache flush) A 198.18.0.2, _ser [|domain]"),
        ] {
            let l = line_v(&p[..cut], 1);
            assert!(l.ends_with(tail), "{cut}: {l}");
        }
    }
}

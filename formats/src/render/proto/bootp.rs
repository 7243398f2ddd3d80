//! BOOTP and DHCPv4 (tcpdump's `print-bootp.c`, UDP ports 67 and 68): the operation and
//! client address; with `-v` the header fields and the RFC 1048 options, each in tcpdump's
//! format for its kind (addresses, numbers, text, flags).

use super::{trunc, Printer};
use crate::render::text::{tcpdump_char, Out};
use crate::wire::{get_be16, get_be32};

pub(super) const SERVER_PORT: u16 = 67;
pub(super) const CLIENT_PORT: u16 = 68;

const CHADDR: usize = 28;
const SNAME: usize = 44;
const FILE: usize = 108;
const VENDOR: usize = 236;
const MAGIC_RFC1048: u32 = 0x6382_5363;

struct Cut;

/// How tcpdump prints an option's data (its `tag2str` format letters).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// IPv4 addresses, comma-separated.
    Addr,
    /// Address pairs `(a:b)`.
    Pairs,
    /// Unsigned 32-bit numbers.
    U32,
    /// Signed 32-bit numbers.
    I32,
    /// Unsigned 16-bit numbers.
    U16,
    /// Bytes as decimal, dot-separated.
    Bytes,
    /// `Y`/`N` flags.
    Bool,
    /// Quoted text.
    Text,
    /// Decoded by its own code.
    Special,
    /// Not in tcpdump's table: by size.
    Unknown,
}

/// tcpdump's name and format of a DHCP option.
fn option(tag: u8) -> (&'static str, Kind) {
    use Kind::*;
    match tag {
        0 => ("PAD", Special),
        1 => ("Subnet-Mask", Addr),
        2 => ("Time-Zone", I32),
        3 => ("Default-Gateway", Addr),
        4 => ("Time-Server", Addr),
        5 => ("IEN-Name-Server", Addr),
        6 => ("Domain-Name-Server", Addr),
        7 => ("LOG", Addr),
        8 => ("CS", Addr),
        9 => ("LPR-Server", Addr),
        10 => ("IM", Addr),
        11 => ("RL", Addr),
        12 => ("Hostname", Text),
        13 => ("BS", U16),
        14 => ("DP", Text),
        15 => ("Domain-Name", Text),
        16 => ("SS", Addr),
        17 => ("RP", Text),
        18 => ("EP", Text),
        19 => ("IPF", Bool),
        20 => ("SRT", Bool),
        21 => ("PF", Pairs),
        22 => ("RSZ", U16),
        23 => ("TTL", Bytes),
        24 => ("MTU-Timeout", U32),
        25 => ("MTU-Table", U16),
        26 => ("MTU", U16),
        27 => ("LSN", Bool),
        28 => ("BR", Addr),
        29 => ("MD", Bool),
        30 => ("MS", Bool),
        31 => ("Router-Discovery", Bool),
        32 => ("RSA", Addr),
        33 => ("Static-Route", Pairs),
        34 => ("UT", Bool),
        35 => ("AT", U32),
        36 => ("IE", Bool),
        37 => ("TT", Bytes),
        38 => ("KI", U32),
        39 => ("KG", Bool),
        40 => ("YD", Text),
        41 => ("YS", Addr),
        42 => ("NTP", Addr),
        43 => ("Vendor-Option", Bytes),
        44 => ("Netbios-Name-Server", Addr),
        45 => ("WDD", Addr),
        46 => ("Netbios-Node", Special),
        47 => ("Netbios-Scope", Text),
        48 => ("XFS", Addr),
        49 => ("XDM", Addr),
        50 => ("Requested-IP", Addr),
        51 => ("Lease-Time", U32),
        52 => ("OO", Special),
        53 => ("DHCP-Message", Special),
        54 => ("Server-ID", Addr),
        55 => ("Parameter-Request", Special),
        56 => ("MSG", Text),
        57 => ("MSZ", U16),
        58 => ("RN", U32),
        59 => ("RB", U32),
        60 => ("Vendor-Class", Text),
        61 => ("Client-ID", Special),
        64 => ("N+D", U16),
        65 => ("N+S", Addr),
        66 => ("TFTP", Text),
        67 => ("BF", Text),
        68 => ("MH", Addr),
        69 => ("SMTP", Addr),
        70 => ("POP3", Addr),
        71 => ("NNTP", Addr),
        72 => ("WWW", Addr),
        73 => ("FG", Addr),
        74 => ("IRC", Addr),
        75 => ("STS", Addr),
        76 => ("STDA", Addr),
        77 => ("User-Class", Special),
        78 => ("SLP-DA", Bytes),
        79 => ("SLP-SCOPE", Bytes),
        80 => ("SLP-NA", Text),
        81 => ("FQDN", Special),
        82 => ("Agent-Information", Special),
        83 => ("ARMT", Bytes),
        84 => ("AMSK", Bytes),
        88 => ("TZSTR", Text),
        89 => ("FQDNS", Bytes),
        90 => ("AUTH", Bytes),
        91 => ("VINES", Addr),
        92 => ("RANK", U16),
        93 => ("ARCH", U16),
        94 => ("NDI", Bytes),
        95 => ("LDAP", Text),
        96 => ("6o4", Addr),
        97 => ("GUID", Bytes),
        98 => ("UAP", Text),
        100 => ("POSIX-TZ", Text),
        101 => ("TZ-Name", Text),
        110 => ("IPX", Bytes),
        112 => ("NI", Addr),
        113 => ("NITAG", Text),
        114 => ("URL", Text),
        115 => ("FAIL", Bytes),
        116 => ("NOAUTO", Bool),
        117 => ("NSSEARCH", U16),
        118 => ("SUBNET", Addr),
        121 => ("Classless-Static-Route", Special),
        150 => ("TFTP-Server-Address", Addr),
        161 => ("MUD-URL", Text),
        249 => ("Classless-Static-Route-Microsoft", Special),
        255 => ("END", Special),
        _ => ("Unknown", Unknown),
    }
}

impl Printer<'_> {
    /// `b`: the UDP payload as captured; `len`: its length from the UDP header.
    pub(super) fn bootp(&mut self, b: &[u8], len: usize) {
        if self.bootp_message(b, len).is_err() {
            trunc(self.out, "bootp");
        }
    }

    fn bootp_message(&mut self, b: &[u8], len: usize) -> Result<(), Cut> {
        let byte = |i: usize| b.get(i).copied().ok_or(Cut);
        let op = byte(0)?;
        self.out.s("BOOTP/DHCP, ");
        match op {
            1 => self.out.s("Request"),
            2 => self.out.s("Reply"),
            o => {
                self.out.s("unknown (0x");
                self.out.hex(u32::from(o), 2);
                self.out.c(b')');
            }
        }
        byte(2)?;
        let (htype, hlen) = (b[1], b[2]);
        let ether = htype == 1 && hlen == 6;
        if ether && op == 1 {
            let a = b.get(CHADDR..CHADDR + 6).ok_or(Cut)?;
            self.out.s(" from ");
            self.out.lladdr(a);
        }
        self.out.s(", length ");
        self.out.n(len);
        if self.opts.verbose == 0 {
            return Ok(());
        }
        b.get(8..10).ok_or(Cut)?;
        if htype != 1 {
            self.out.s(", htype ");
            self.out.n(htype);
        }
        if !ether {
            self.out.s(", hlen ");
            self.out.n(hlen);
        }
        if b[3] != 0 {
            self.out.s(", hops ");
            self.out.n(b[3]);
        }
        let xid = get_be32(b, 4).ok_or(Cut)?;
        if xid != 0 {
            self.out.s(", xid 0x");
            self.out.hexn(xid);
        }
        let secs = get_be16(b, 8).ok_or(Cut)?;
        if secs != 0 {
            self.out.s(", secs ");
            self.out.n(secs);
        }
        let flags = get_be16(b, 10).ok_or(Cut)?;
        self.out.s(", Flags [");
        self.out.s(if flags & 0x8000 != 0 {
            "Broadcast"
        } else {
            "none"
        });
        self.out.c(b']');
        if self.opts.verbose > 1 {
            self.out.s(" (0x");
            self.out.hex(u32::from(flags), 4);
            self.out.c(b')');
        }
        for (at, label) in [
            (12, "\n\t  Client-IP "),
            (16, "\n\t  Your-IP "),
            (20, "\n\t  Server-IP "),
            (24, "\n\t  Gateway-IP "),
        ] {
            let a = b.get(at..at + 4).ok_or(Cut)?;
            if a != [0, 0, 0, 0] {
                self.out.s(label);
                self.out.ipv4(a);
            }
        }
        if ether {
            let a = b.get(CHADDR..CHADDR + 6).ok_or(Cut)?;
            self.out.s("\n\t  Client-Ethernet-Address ");
            self.out.lladdr(a);
        }
        for (at, size, label) in [(SNAME, 64, "\n\t  sname \""), (FILE, 128, "\n\t  file \"")] {
            if byte(at)? != 0 {
                self.out.s(label);
                let field = &b[at..b.len().min(at + size)];
                let text = field.split(|&c| c == 0).next().unwrap_or(&[]);
                for &c in text {
                    tcpdump_char(self.out, c);
                }
                self.out.c(b'"');
                // The capture ends inside the name (before its NUL or the field's end).
                if text.len() == field.len() && field.len() < size {
                    return Err(Cut);
                }
            }
        }
        let magic = get_be32(b, VENDOR).ok_or(Cut)?;
        if magic == MAGIC_RFC1048 {
            self.rfc1048(b.get(VENDOR + 4..).unwrap_or(&[]))?;
        } else if magic != 0 {
            self.out.s("\n\t  Vendor-#0x");
            self.out.hexn(magic);
        }
        Ok(())
    }

    /// The options after the magic cookie, to END (or the end of the capture).
    fn rfc1048(&mut self, mut o: &[u8]) -> Result<(), Cut> {
        self.out.s("\n\t  Vendor-rfc1048 Extensions");
        self.out.s("\n\t    Magic Cookie 0x");
        self.out.hex(MAGIC_RFC1048, 8);
        let v3 = self.opts.verbose > 2;
        while let Some((&tag, rest)) = o.split_first() {
            o = rest;
            if tag == 0 && !v3 {
                continue;
            }
            if tag == 255 && !v3 {
                return Ok(());
            }
            let (name, kind) = option(tag);
            let len = if tag == 0 || tag == 255 {
                0
            } else {
                let (&l, rest) = o.split_first().ok_or(Cut)?;
                o = rest;
                usize::from(l)
            };
            self.out.s("\n\t    ");
            self.out.s(name);
            self.out.s(" (");
            self.out.n(tag);
            self.out.s("), length ");
            self.out.n(len);
            if len > 0 {
                self.out.s(": ");
            }
            if tag == 0 {
                let n = 1 + o.iter().take_while(|&&c| c == 0).count();
                o = &o[n - 1..];
                if n > 1 {
                    self.out.s(", occurs ");
                    self.out.n(n);
                }
            }
            let data = o.get(..len).ok_or(Cut)?;
            o = &o[len..];
            let left = self.dhcp_option_data(tag, kind, data);
            if left > 0 {
                self.out.s("\n\t  trailing data length ");
                self.out.n(left);
            }
        }
        Ok(())
    }

    /// Prints one option's data; returns how many bytes its format left over.
    fn dhcp_option_data(&mut self, tag: u8, kind: Kind, d: &[u8]) -> usize {
        let kind = match kind {
            Kind::Unknown if d.len() & 1 != 0 => Kind::Bytes,
            Kind::Unknown if d.len() & 2 != 0 => Kind::U16,
            Kind::Unknown => Kind::U32,
            k => k,
        };
        let list = |out: &mut Vec<u8>, size: usize, one: &dyn Fn(&mut Vec<u8>, &[u8])| {
            for (i, c) in d.chunks_exact(size).enumerate() {
                if i > 0 {
                    out.c(b',');
                }
                one(out, c);
            }
            d.len() % size
        };
        match kind {
            Kind::Addr => list(self.out, 4, &|out, c| out.ipv4(c)),
            Kind::U32 => list(self.out, 4, &|out, c| {
                out.n(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            }),
            Kind::I32 => list(self.out, 4, &|out, c| {
                out.n(i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            }),
            Kind::U16 => list(self.out, 2, &|out, c| {
                out.n(u16::from_be_bytes([c[0], c[1]]))
            }),
            Kind::Pairs => list(self.out, 8, &|out, c| {
                out.c(b'(');
                out.ipv4(&c[..4]);
                out.c(b':');
                out.ipv4(&c[4..]);
                out.c(b')');
            }),
            Kind::Bool => list(self.out, 1, &|out, c| match c[0] {
                0 => out.c(b'N'),
                1 => out.c(b'Y'),
                v => {
                    out.n(v);
                    out.c(b'?');
                }
            }),
            Kind::Bytes => {
                for (i, c) in d.iter().enumerate() {
                    if i > 0 {
                        self.out.c(b'.');
                    }
                    self.out.n(*c);
                }
                0
            }
            Kind::Text => {
                self.quoted(d);
                0
            }
            Kind::Special | Kind::Unknown => self.dhcp_special(tag, d),
        }
    }

    fn quoted(&mut self, d: &[u8]) {
        self.out.c(b'"');
        for &c in d {
            tcpdump_char(self.out, c);
        }
        self.out.c(b'"');
    }

    fn dhcp_special(&mut self, tag: u8, d: &[u8]) -> usize {
        match tag {
            53 if d.len() == 1 => {
                let names = [
                    "Discover", "Offer", "Request", "Decline", "ACK", "NACK", "Release", "Inform",
                ];
                match names.get(usize::from(d[0]).wrapping_sub(1)) {
                    Some(n) => self.out.s(n),
                    None => {
                        self.out.s("Unknown (");
                        self.out.n(d[0]);
                        self.out.c(b')');
                    }
                }
                0
            }
            55 => {
                for (i, &t) in d.iter().enumerate() {
                    self.out.s(if i % 4 == 0 { "\n\t      " } else { ", " });
                    self.out.s(option(t).0);
                    self.out.s(" (");
                    self.out.n(t);
                    self.out.c(b')');
                }
                0
            }
            61 => {
                let Some((&ty, rest)) = d.split_first() else {
                    self.out.s("ERROR: length < 1 bytes");
                    return 0;
                };
                if ty == 0 {
                    self.quoted(rest);
                    return 0;
                }
                match ty {
                    1 => self.out.s("ether"),
                    6 => self.out.s("ieee802"),
                    7 => self.out.s("arcnet"),
                    15 => self.out.s("frelay"),
                    23 => self.out.s("strip"),
                    24 => self.out.s("ieee1394"),
                    t => {
                        self.out.s("hardware-type ");
                        self.out.n(t);
                        self.out.c(b',');
                    }
                }
                self.out.c(b' ');
                self.out.lladdr(rest);
                0
            }
            81 => {
                if d.len() < 3 {
                    self.out.s("ERROR: length < 3 bytes");
                    return 0;
                }
                if d[0] != 0 {
                    self.out.c(b'[');
                    for (bit, c) in [(1, b'S'), (2, b'O'), (4, b'E'), (8, b'N')] {
                        if d[0] & bit != 0 {
                            self.out.c(c);
                        }
                    }
                    self.out.s("] ");
                }
                if d[1] != 0 || d[2] != 0 {
                    self.out.n(d[1]);
                    self.out.c(b'/');
                    self.out.n(d[2]);
                    self.out.c(b' ');
                }
                self.quoted(&d[3..]);
                0
            }
            46 | 52 => {
                let Some((&v, rest)) = d.split_first() else {
                    self.out.s("ERROR: length < 1 bytes");
                    return 0;
                };
                let name = match (tag, v) {
                    (46, 1) => "b-node",
                    (46, 2) => "p-node",
                    (46, 4) => "m-node",
                    (46, 8) => "h-node",
                    (52, 1) => "file",
                    (52, 2) => "sname",
                    (52, 3) => "file+sname",
                    _ => "",
                };
                if name.is_empty() {
                    self.out.c(b'#');
                    self.out.n(v);
                } else {
                    self.out.s(name);
                }
                rest.len()
            }
            121 | 249 => {
                if d.len() < 5 {
                    self.out.s("ERROR: length < 5 bytes");
                    return 0;
                }
                let mut rest = d;
                let mut first = true;
                while let Some((&width, r)) = rest.split_first() {
                    if !first {
                        self.out.c(b',');
                    }
                    first = false;
                    if width > 32 {
                        self.out.s("[ERROR: Mask width (");
                        self.out.n(width);
                        self.out.s(") > 32]");
                        return 0;
                    }
                    let sig = usize::from(width).div_ceil(8);
                    if r.len() < sig + 4 {
                        self.out.s("[ERROR: Remaining length (");
                        self.out.n(r.len());
                        self.out.s(") < ");
                        self.out.n(sig + 4);
                        self.out.s(" bytes]");
                        return 0;
                    }
                    self.out.c(b'(');
                    if width == 0 {
                        self.out.s("default");
                    } else {
                        for (i, o) in r[..sig].iter().enumerate() {
                            if i > 0 {
                                self.out.c(b'.');
                            }
                            self.out.n(*o);
                        }
                        for _ in sig..4 {
                            self.out.s(".0");
                        }
                        self.out.c(b'/');
                        self.out.n(width);
                    }
                    self.out.c(b':');
                    self.out.ipv4(&r[sig..sig + 4]);
                    self.out.c(b')');
                    rest = &r[sig + 4..];
                }
                0
            }
            _ => {
                self.out.s("[unknown special tag ");
                self.out.n(tag);
                self.out.s(", size ");
                self.out.n(d.len());
                self.out.c(b']');
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_v;

    #[test]
    fn discover() {
        let mut dhcp = vec![1, 1, 6, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0x80, 0];
        dhcp.extend_from_slice(&[0; 16]);
        dhcp.extend_from_slice(&[2, 0, 0, 0, 0, 0x0a]);
        dhcp.extend_from_slice(&[0; 10 + 64 + 128]);
        dhcp.extend_from_slice(&[0x63, 0x82, 0x53, 0x63, 53, 1, 1, 55, 2, 1, 3, 255]);
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255,
        ];
        let total = (28 + dhcp.len()) as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 68, 0, 67]);
        p.extend_from_slice(&((8 + dhcp.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&dhcp);
        assert_eq!(
            line_v(&p, 0),
            "IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from 02:00:00:00:00:0a, length 248"
        );
        let v = line_v(&p, 1);
        assert!(
            v.ends_with(", length 248, xid 0x12345678, Flags [Broadcast]\n\t  Client-Ethernet-Address 02:00:00:00:00:0a\n\t  Vendor-rfc1048 Extensions\n\t    Magic Cookie 0x63825363\n\t    DHCP-Message (53), length 1: Discover\n\t    Parameter-Request (55), length 2: \n\t      Subnet-Mask (1), Default-Gateway (3)"),
            "{v}"
        );
    }
}

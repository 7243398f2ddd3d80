//! ICMP (tcpdump's `print-icmp.c`).

use super::{hex_dump, trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::icmp;
use crate::wire::{checksum, get_be16, get_be32, ipproto};

/// The quoted datagram is cut before a field the message's text needs: tcpdump prints only
/// ` [|icmp]`.
struct Cut;

/// Milliseconds since midnight UT as tcpdump prints a time stamp (`hh:mm:ss.mmm`).
fn tstamp(out: &mut Vec<u8>, t: u32) {
    let msec = t % 1000;
    let mut sec = t / 1000;
    let mut min = sec / 60;
    sec -= min * 60;
    let hrs = min / 60;
    min -= hrs * 60;
    for (i, (v, w)) in [(hrs, 2), (min, 2), (sec, 2), (msec, 3)]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.c(if i == 3 { b'.' } else { b':' });
        }
        let t = v.to_string();
        for _ in t.len()..w {
            out.c(b'0');
        }
        out.s(&t);
    }
}

impl Printer<'_> {
    pub(super) fn icmp(&mut self, b: &[u8], plen: usize, ip: IpCtx<'_>) {
        let mut text = Vec::new();
        if icmp_text(&mut text, b).is_err() {
            trunc(self.out, "icmp");
            return;
        }
        let ty = b[0];
        self.out.s("ICMP ");
        self.out.b(&text);
        self.out.s(", length ");
        self.out.n(plen);
        if self.opts.verbose > 0 && !ip.fragmented && b.len() >= plen {
            let seg = &b[..plen];
            if !checksum::verify(0, seg) {
                self.out.s(" (wrong icmp cksum ");
                self.out.hexn(u32::from(get_be16(b, 2).unwrap_or(0)));
                self.out.s(" (->");
                self.out
                    .hexn(u32::from(checksum::expected(0, seg, icmp::CHECKSUM_OFFSET)));
                self.out.s(")!)");
            }
        }
        // The datagram an error quotes, as its own IP line.
        if self.opts.verbose > 0 && matches!(ty, 3 | 4 | 5 | 11 | 12) {
            self.out.s("\n\t");
            let body = b.get(8..).unwrap_or(&[]);
            let Some(ilen) = get_be16(body, 2) else {
                trunc(self.out, "icmp");
                return;
            };
            let before = self.out.len();
            self.ipv4(&body[..usize::from(ilen).min(body.len())]);
            // tcpdump's IP and UDP printers mark a cut header and return (the extension
            // check follows); the others' marks end the whole packet.
            let quoted = &self.out[before..];
            if !ends_cut(quoted) || quoted.ends_with(b" [|ip]") || quoted.ends_with(b" [|udp]") {
                self.multipart(b, plen, ty);
            }
        }
    }

    /// tcpdump's look for RFC 4884 multi-part extensions after the quoted datagram of an
    /// unreachable, time exceeded or parameter problem message longer than 136 bytes: it needs
    /// the 141 bytes up to the extension header captured (else ` [|icmp]`), skips a message
    /// whose length field is 0 and whose bytes from 136 on do not sum as a checksum should, and
    /// prints the version nibble it finds at byte 136; version 2's objects follow.
    fn multipart(&mut self, b: &[u8], plen: usize, ty: u8) {
        const EXTD_MINLEN: usize = 136;
        if plen <= EXTD_MINLEN || !matches!(ty, 3 | 11 | 12) {
            return;
        }
        if b.len() < EXTD_MINLEN + 5 {
            trunc(self.out, "icmp");
            return;
        }
        let whole = b.len() >= plen;
        if b[5] == 0 && whole && !checksum::verify(0, &b[EXTD_MINLEN..plen]) {
            return;
        }
        let version = b[EXTD_MINLEN] >> 4;
        self.out.s("\n\tICMP Multi-Part extension v");
        self.out.n(version);
        if version != 2 {
            self.out.s(" packet not supported");
            return;
        }
        if whole {
            self.out.s(", checksum 0x");
            self.out
                .hex(u32::from(get_be16(b, EXTD_MINLEN + 2).unwrap_or(0)), 4);
            self.out.s(if checksum::verify(0, &b[EXTD_MINLEN..plen]) {
                " (correct), length "
            } else {
                " (incorrect), length "
            });
            self.out.n(plen - EXTD_MINLEN);
        }
        self.multipart_objects(&b[..b.len().min(plen)], plen - EXTD_MINLEN - 4);
    }

    /// The extension objects after the version 2 header, as tcpdump's loop reads them: each
    /// header names its class, an MPLS label stack entry (class 1, C-Type 1) is decoded, any
    /// other object is hex; a header not captured is ` [|icmp]`.
    fn multipart_objects(&mut self, b: &[u8], mut hlen: usize) {
        let mut at = 140;
        while hlen > 4 {
            let Some(h) = b.get(at..at + 4) else {
                trunc(self.out, "icmp");
                return;
            };
            let tlen = usize::from(u16::from_be_bytes([h[0], h[1]]));
            let (class, ctype) = (h[2], h[3]);
            at += 4;
            self.out.s("\n\t  ");
            self.out.s(match class {
                1 => "MPLS Stack Entry",
                2 => "Interface Identification",
                _ => "unknown",
            });
            self.out.s(" Object (");
            self.out.n(class);
            self.out.s("), Class-Type: ");
            self.out.n(ctype);
            self.out.s(", length ");
            self.out.n(tlen);
            hlen -= 4;
            if class == 0 || tlen < 4 {
                return;
            }
            let tlen = tlen - 4;
            if class == 1 && ctype == 1 {
                let Some(l) = get_be32(b, at) else {
                    trunc(self.out, "icmp");
                    return;
                };
                self.out.s("\n\t    label ");
                self.out.n(l >> 12);
                self.out.s(", tc ");
                self.out.n((l >> 9) & 7);
                if l & 0x100 != 0 {
                    self.out.s(", [S]");
                }
                self.out.s(", ttl ");
                self.out.n(l & 0xff);
            } else {
                let end = (at + tlen).min(b.len());
                hex_dump(self.out, &b[at.min(end)..end], "\n\t    ");
            }
            if hlen < tlen {
                return;
            }
            hlen -= tlen;
            at += tlen;
        }
    }
}

/// Whether a printer's text ends with its truncation mark (` [|proto]`): tcpdump stops the
/// whole packet there.
fn ends_cut(text: &[u8]) -> bool {
    let Some(body) = text.strip_suffix(b"]") else {
        return false;
    };
    let name_len = body
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
        .count();
    body[..body.len() - name_len].ends_with(b" [|")
}

/// The message's text (tcpdump's `buf`), or `Cut` when a field it needs is not captured.
fn icmp_text(out: &mut Vec<u8>, b: &[u8]) -> Result<(), Cut> {
    let byte = |i: usize| b.get(i).copied().ok_or(Cut);
    let be16 = |i: usize| get_be16(b, i).ok_or(Cut);
    let be32 = |i: usize| get_be32(b, i).ok_or(Cut);
    let (ty, code) = (byte(0)?, byte(1)?);
    // The quoted datagram's destination (and that it was captured).
    let quoted_dst = || b.get(24..28).ok_or(Cut);
    match ty {
        0 | 8 => {
            let (id, seq) = (be16(4)?, be16(6)?);
            out.s(if ty == 0 {
                "echo reply, id "
            } else {
                "echo request, id "
            });
            out.n(id);
            out.s(", seq ");
            out.n(seq);
        }
        3 => {
            let dst = quoted_dst()?;
            match code {
                2 => {
                    let p = byte(17)?;
                    out.ipv4(dst);
                    out.s(" protocol ");
                    out.n(p);
                    out.s(" unreachable");
                }
                3 => {
                    let p = byte(17)?;
                    let hlen = usize::from(byte(8)? & 0x0f) * 4;
                    let port = be16(8 + hlen + 2)?;
                    out.ipv4(dst);
                    match p {
                        ipproto::TCP => out.s(" tcp port "),
                        ipproto::UDP => out.s(" udp port "),
                        p => {
                            out.s(" protocol ");
                            out.n(p);
                            out.s(" port ");
                        }
                    }
                    out.n(port);
                    out.s(" unreachable");
                }
                4 => {
                    let mtu = be16(6)?;
                    out.ipv4(dst);
                    out.s(" unreachable - need to frag");
                    if mtu != 0 {
                        out.s(" (mtu ");
                        out.n(mtu);
                        out.c(b')');
                    }
                }
                c => {
                    let (pre, post) = match c {
                        0 => ("net ", " unreachable"),
                        1 => ("host ", " unreachable"),
                        5 => ("", " unreachable - source route failed"),
                        6 => ("net ", " unreachable - unknown"),
                        7 => ("host ", " unreachable - unknown"),
                        8 => ("", " unreachable - source host isolated"),
                        9 => ("net ", " unreachable - admin prohibited"),
                        10 => ("host ", " unreachable - admin prohibited"),
                        11 => ("net ", " unreachable - tos prohibited"),
                        12 => ("host ", " unreachable - tos prohibited"),
                        13 => ("host ", " unreachable - admin prohibited filter"),
                        14 => ("host ", " unreachable - host precedence violation"),
                        15 => ("host ", " unreachable - precedence cutoff"),
                        _ => ("", " unreachable"),
                    };
                    out.s(pre);
                    out.ipv4(dst);
                    out.s(post);
                    if c > 15 {
                        out.s(" - #");
                        out.n(c);
                    }
                }
            }
        }
        5 => {
            let dst = quoted_dst()?;
            let gw = &b[4..8];
            let (name, to) = match code {
                0 => ("redirect ", " to net "),
                1 => ("redirect ", " to host "),
                2 => ("redirect-tos ", " to net "),
                3 => ("redirect-tos ", " to host "),
                _ => ("", " to "),
            };
            if code > 3 {
                out.s("redirect-#");
                out.n(code);
                out.c(b' ');
            }
            out.s(name);
            out.ipv4(dst);
            out.s(to);
            out.ipv4(gw);
        }
        9 => {
            let (num, size, lifetime) = (byte(4)?, byte(5)?, be16(6)?);
            out.s("router advertisement lifetime ");
            let l = u32::from(lifetime);
            let two = |out: &mut Vec<u8>, v: u32| {
                if v < 10 {
                    out.c(b'0');
                }
                out.n(v);
            };
            if l < 60 {
                out.n(l);
            } else if l < 3600 {
                out.n(l / 60);
                out.c(b':');
                two(out, l % 60);
            } else {
                out.n(l / 3600);
                out.c(b':');
                two(out, (l % 3600) / 60);
                out.c(b':');
                two(out, l % 60);
            }
            out.c(b' ');
            out.n(num);
            out.c(b':');
            if size != 2 {
                out.s(" [size ");
                out.n(size);
                out.c(b']');
                return Ok(());
            }
            for i in 0..usize::from(num) {
                let e = b.get(8 + 8 * i..16 + 8 * i).ok_or(Cut)?;
                out.s(" {");
                out.ipv4(&e[..4]);
                out.c(b' ');
                out.n(u32::from_be_bytes([e[4], e[5], e[6], e[7]]));
                out.c(b'}');
            }
        }
        11 => {
            quoted_dst()?;
            match code {
                0 => out.s("time exceeded in-transit"),
                1 => out.s("ip reassembly time exceeded"),
                c => {
                    out.s("time exceeded-#");
                    out.n(c);
                }
            }
        }
        12 => {
            if code != 0 {
                out.s("parameter problem - code ");
                out.n(code);
            } else {
                let p = byte(4)?;
                out.s("parameter problem - octet ");
                out.n(p);
            }
        }
        13 => {
            let (id, seq) = (be16(4)?, be16(6)?);
            out.s("time stamp query id ");
            out.n(id);
            out.s(" seq ");
            out.n(seq);
        }
        14 => {
            let (id, seq) = (be16(4)?, be16(6)?);
            let (org, recv, xmit) = (be32(8)?, be32(12)?, be32(16)?);
            out.s("time stamp reply id ");
            out.n(id);
            out.s(" seq ");
            out.n(seq);
            out.s(": org ");
            tstamp(out, org);
            out.s(", recv ");
            tstamp(out, recv);
            out.s(", xmit ");
            tstamp(out, xmit);
        }
        18 => {
            let mask = be32(8)?;
            out.s("address mask is 0x");
            out.hex(mask, 8);
        }
        t => {
            let name = match t {
                4 => "source quench",
                10 => "router solicitation",
                15 => "information request",
                16 => "information reply",
                17 => "address mask request",
                _ => "",
            };
            if name.is_empty() {
                out.s("type-#");
                out.n(t);
            } else {
                out.s(name);
            }
        }
    }
    Ok(())
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

#[cfg(test)]
mod more_tests {
    use crate::render::tests_support::{ipv4, line_v};

    /// A frag-needed error quoting 548 bytes of a ping, as Linux sends it (576 bytes): tcpdump
    /// reads byte 136 as an extension version and needs 141 bytes for that.
    #[test]
    fn multipart_extension_check_after_the_quoted_datagram() {
        let mut echo = vec![8, 0, 0, 0, 0x37, 0x8b, 0, 1];
        echo.extend((0..520).map(|i| i as u8));
        let mut quoted = ipv4(1, &echo);
        quoted[2..4].copy_from_slice(&1428u16.to_be_bytes());
        quoted[10..12].copy_from_slice(&[0, 0]);
        let c = crate::wire::checksum::expected(0, &quoted[..20], 10);
        quoted[10..12].copy_from_slice(&c.to_be_bytes());
        let mut m = vec![3, 4, 0, 0, 0, 0, 0x05, 0x00];
        m.extend_from_slice(&quoted);
        let c = crate::wire::checksum::expected(0, &m, 2);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        let p = ipv4(1, &m);
        // Whole, the bytes from 136 on are no valid checksum (and the length field is 0):
        // nothing more. Cut short of them, tcpdump cannot check and prints the version.
        let full = line_v(&p, 1);
        assert!(full.ends_with("length 1408"), "{full}");
        let cut = line_v(&p[..20 + 300], 1);
        assert!(
            cut.ends_with("length 1408\n\tICMP Multi-Part extension v6 packet not supported"),
            "{cut}"
        );
        // Cut after the quoted echo header: the datagram prints, the extension check is cut.
        let cut = line_v(&p[..20 + 8 + 28], 1);
        assert!(cut.ends_with("length 1408 [|icmp]"), "{cut}");
        // Cut inside the quoted echo header: only the inner printer's mark.
        let cut = line_v(&p[..20 + 8 + 20 + 4], 1);
        assert!(cut.ends_with(":  [|icmp]"), "{cut}");
        assert_eq!(cut.matches("[|icmp]").count(), 1, "{cut}");
        assert!(!line_v(&p, 0).contains("Multi-Part"));
    }

    #[test]
    fn redirect_router_advertisement_and_time_stamps() {
        let mut quoted = ipv4(17, &[0, 1, 0, 2, 0, 8, 0, 0]);
        quoted.truncate(28);
        let p = ipv4(1, &[&[5, 1, 0, 0, 198, 18, 0, 254][..], &quoted].concat());
        assert!(line_v(&p, 0).ends_with("ICMP redirect 198.18.0.2 to host 198.18.0.254, length 36"));
        // The quoted destination is needed: without it, only the mark.
        assert!(line_v(&p[..40], 0).ends_with(":  [|icmp]"));
        let p = ipv4(
            1,
            &[9, 0, 0, 0, 1, 2, 0x07, 0x08, 198, 18, 0, 1, 0, 0, 0, 5],
        );
        assert!(line_v(&p, 0).contains("router advertisement lifetime 30:00 1: {198.18.0.1 5}"));
        let p = ipv4(
            1,
            &[
                14, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0x03, 0x1d, 0xd8, 0x7f, 0, 0, 0x03, 0xe8,
            ],
        );
        assert!(line_v(&p, 0).contains(
            "time stamp reply id 1 seq 2: org 00:00:00.000, recv 14:31:27.615, xmit 00:00:01.000"
        ));
    }
    /// A time exceeded error with an RFC 4884 extension: an MPLS label stack object (its
    /// first entry decoded) and an interface object as hex.
    #[test]
    fn multipart_mpls_objects() {
        let mut udp = vec![0x9c, 0x40, 0x27, 0x0f, 0, 108, 0, 0];
        udp.resize(108, 0);
        let mut quoted = ipv4(17, &udp);
        quoted[10..12].copy_from_slice(&[0, 0]);
        let c = crate::wire::checksum::expected(0, &quoted[..20], 10);
        quoted[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(quoted.len(), 128);
        let mut ext = vec![0x20, 0, 0, 0, 0, 12, 1, 1];
        ext.extend_from_slice(&((24000u32 << 12) | (5 << 9) | 254).to_be_bytes());
        ext.extend_from_slice(&((3u32 << 12) | (1 << 8) | 64).to_be_bytes());
        ext.extend_from_slice(&[0, 8, 2, 3, 0xde, 0xad, 0xbe, 0xef]);
        let c = crate::wire::checksum::expected(0, &ext, 2);
        ext[2..4].copy_from_slice(&c.to_be_bytes());
        let mut m = vec![11, 0, 0, 0, 0, 32, 0, 0];
        m.extend_from_slice(&quoted);
        m.extend_from_slice(&ext);
        let c = crate::wire::checksum::expected(0, &m, 2);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        let p = ipv4(1, &m);
        let text = line_v(&p, 1);
        let tail = format!(
            "\n\tICMP Multi-Part extension v2, checksum 0x{c:04x} (correct), length 24\
             \n\t  MPLS Stack Entry Object (1), Class-Type: 1, length 12\
             \n\t    label 24000, tc 5, ttl 254\
             \n\t  Interface Identification Object (2), Class-Type: 3, length 8\
             \n\t    0x0000:  dead beef",
            c = u16::from_be_bytes([ext[2], ext[3]])
        );
        assert!(text.ends_with(&tail), "{text}");
        // Cut inside the second object's header: the mark ends the packet.
        let cut = line_v(&p[..p.len() - 6], 1);
        assert!(cut.ends_with("ttl 254 [|icmp]"), "{cut}");
    }
}

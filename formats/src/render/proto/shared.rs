//! Helpers every printer shares: the truncation mark, tcpdump's default print of bytes it
//! cannot decode, address and port pairs, text lines and the `-x`/`-X`/`-A` dumps.

use super::{IpCtx, Printer};
use crate::render::text::Out;
use crate::render::DumpMode;

/// The names of the bits of `value` set in `table`, joined by `sep`, or `none` when no listed
/// bit is set (tcpdump's `bittok2str`: `flags [DF]`, `Flags [key present, sequence# present]`).
pub(super) fn flag_names(out: &mut Vec<u8>, value: u32, sep: &str, table: &[(u32, &str)]) {
    let mut any = false;
    for &(bit, name) in table {
        if value & bit != 0 {
            if any {
                out.s(sep);
            }
            out.s(name);
            any = true;
        }
    }
    if !any {
        out.s("none");
    }
}

/// The type of an IGMPv3 or MLDv2 group record (RFC 3376 4.2.12, RFC 3810 5.2.12) as tcpdump
/// names it; `None` for a type neither defines.
pub(super) fn group_record_type(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "is_in",
        2 => "is_ex",
        3 => "to_in",
        4 => "to_ex",
        5 => "allow",
        6 => "block",
        _ => return None,
    })
}

/// tcpdump's mark for a packet cut short inside `proto`: ` [|proto]`.
pub(crate) fn trunc(out: &mut Vec<u8>, proto: &str) {
    out.s(" [|");
    out.s(proto);
    out.s("]");
}

impl Printer<'_> {
    /// tcpdump's default print of bytes it cannot decode: hex and ASCII, unless -q or a dump
    /// (-x, -X) is asked (`ndo_suppress_default_print`).
    pub(super) fn default_print(&mut self, payload: &[u8]) {
        if !self.opts.quiet && matches!(self.opts.dump, DumpMode::None | DumpMode::Ascii) {
            hex_ascii_dump(self.out, payload, "\n\t");
        }
    }
    pub(super) fn addrs(&mut self, src: &[u8], dst: &[u8]) {
        self.out.ip(src);
        self.out.s(" > ");
        self.out.ip(dst);
        self.out.s(": ");
    }
    pub(super) fn ports(&mut self, ip: &IpCtx<'_>, sport: u16, dport: u16) {
        if ip.ports_only {
            self.out.n(sport);
            self.out.s(" > ");
            self.out.n(dport);
            self.out.s(": ");
            return;
        }
        self.out.ip(ip.src);
        self.out.c(b'.');
        self.out.n(sport);
        self.out.s(" > ");
        self.out.ip(ip.dst);
        self.out.c(b'.');
        self.out.n(dport);
        self.out.s(": ");
    }
}

/// Prints one text line (printable ASCII and tabs only) after `prefix`; returns where the next
/// line starts, or `None` at binary data or the end of the data (marked `[|proto]`).
/// `captured_all`: false when the capture ended before the data did; a line running into
/// that end is not printed, only the truncation mark.
pub(super) fn txt_line(
    out: &mut Vec<u8>,
    prefix: &str,
    p: &[u8],
    start: usize,
    proto: &str,
    captured_all: bool,
) -> Option<usize> {
    let mut idx = start;
    while idx < p.len() {
        let c = p[idx];
        if c == b'\n' {
            out.s(prefix);
            out.b(&p[start..idx]);
            return Some(idx + 1);
        } else if c == b'\r' {
            if idx + 1 >= p.len() {
                if !captured_all {
                    trunc(out, proto);
                }
                return None;
            }
            if p[idx + 1] == b'\n' {
                out.s(prefix);
                out.b(&p[start..idx]);
                return Some(idx + 2);
            }
            return None;
        } else if !(0x20..0x7f).contains(&c) && c != b'\t' {
            return None;
        }
        idx += 1;
    }
    if captured_all {
        out.s(prefix);
        out.b(&p[start..idx]);
    }
    trunc(out, proto);
    None
}

/// `-x` style: 16 bytes a line as groups of 4 hex digits.
pub(crate) fn hex_dump(out: &mut Vec<u8>, data: &[u8], ident: &str) {
    for (i, line) in data.chunks(16).enumerate() {
        out.s(ident);
        out.s("0x");
        out.hex((i * 16) as u32, 4);
        out.s(": ");
        for pair in line.chunks(2) {
            out.c(b' ');
            for &x in pair {
                out.hex(u32::from(x), 2);
            }
        }
    }
}

/// `-X` style: hex as `-x`, padded, then the printable characters ('.' for the rest).
pub(crate) fn hex_ascii_dump(out: &mut Vec<u8>, data: &[u8], ident: &str) {
    for (i, line) in data.chunks(16).enumerate() {
        out.s(ident);
        out.s("0x");
        out.hex((i * 16) as u32, 4);
        out.s(": ");
        let start = out.len();
        for pair in line.chunks(2) {
            out.c(b' ');
            for &x in pair {
                out.hex(u32::from(x), 2);
            }
        }
        while out.len() - start < 40 {
            out.c(b' ');
        }
        out.s("  ");
        for &x in line {
            out.c(if x.is_ascii_graphic() { x } else { b'.' });
        }
    }
}

/// `-A` style: the bytes as text, non-printable as '.', CR before LF (and near the end) dropped.
pub(crate) fn ascii_dump(out: &mut Vec<u8>, data: &[u8]) {
    out.c(b'\n');
    for (i, &c) in data.iter().enumerate() {
        if c == b'\r' {
            // tcpdump's rule, quirk included: a CR shows as '.' only when at least two bytes
            // follow it and the next one is not LF.
            if data.len() - i > 2 && data[i + 1] != b'\n' {
                out.c(b'.');
            }
        } else if c.is_ascii_graphic() || c == b'\t' || c == b' ' || c == b'\n' {
            out.c(c);
        } else {
            out.c(b'.');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps() {
        let mut o = Vec::new();
        hex_dump(&mut o, b"abc", "\n\t");
        assert_eq!(o, b"\n\t0x0000:  6162 63");
        o.clear();
        hex_ascii_dump(&mut o, b"a\x01", "\n\t");
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "\n\t0x0000:  6101                                     a."
        );
    }
}

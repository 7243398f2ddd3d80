//! Syslog (tcpdump's `print-syslog.c`, UDP port 514): the `<PRI>` as facility and severity;
//! with `-v` the message text, and with `-vv` the whole datagram in hex.

use super::{hex_dump, trunc, Printer};
use crate::render::text::{tcpdump_char, Out};

pub(super) const PORT: u16 = 514;
/// tcpdump reads at most this many priority digits.
const MAX_DIGITS: usize = 3;

fn facility(f: u16) -> Option<&'static str> {
    Some(match f {
        0 => "kernel",
        1 => "user",
        2 => "mail",
        3 => "daemon",
        4 => "auth",
        5 => "syslog",
        6 => "lpr",
        7 => "news",
        8 => "uucp",
        9 => "cron",
        10 => "authpriv",
        11 => "ftp",
        12 => "ntp",
        13 => "security",
        14 => "console",
        15 => "cron",
        16 => "local0",
        17 => "local1",
        18 => "local2",
        19 => "local3",
        20 => "local4",
        21 => "local5",
        22 => "local6",
        23 => "local7",
        _ => return None,
    })
}

fn severity(s: u16) -> &'static str {
    match s {
        0 => "emergency",
        1 => "alert",
        2 => "critical",
        3 => "error",
        4 => "warning",
        5 => "notice",
        6 => "info",
        _ => "debug",
    }
}

struct Cut;

impl Printer<'_> {
    /// `b`: the UDP payload as captured (at most `len` bytes); `len`: its length from the UDP
    /// header.
    pub(super) fn syslog(&mut self, b: &[u8], len: usize) {
        if self.syslog_message(b, len).is_err() {
            trunc(self.out, "syslog");
        }
    }

    fn syslog_message(&mut self, b: &[u8], len: usize) -> Result<(), Cut> {
        let byte = |i: usize| b.get(i).copied().ok_or(Cut);
        if byte(0)? != b'<' {
            self.out.s(" (invalid)");
            return Ok(());
        }
        let mut off = 1;
        let mut pri: u16 = 0;
        while off <= MAX_DIGITS && byte(off)?.is_ascii_digit() {
            pri = pri * 10 + u16::from(b[off] - b'0');
            off += 1;
        }
        if byte(off)? != b'>' {
            self.out.s(" (invalid)");
            return Ok(());
        }
        off += 1;
        let fac = (pri & 0x03f8) >> 3;
        let sev = pri & 7;
        let facility_name = |out: &mut Vec<u8>| match facility(fac) {
            Some(n) => out.s(n),
            None => {
                out.s("unknown (");
                out.n(fac);
                out.c(b')');
            }
        };
        if self.opts.verbose == 0 {
            self.out.s("SYSLOG ");
            facility_name(self.out);
            self.out.c(b'.');
            self.out.s(severity(sev));
            self.out.s(", length: ");
            self.out.n(len);
            return Ok(());
        }
        self.out.s("SYSLOG, length: ");
        self.out.n(len);
        self.out.s("\n\tFacility ");
        facility_name(self.out);
        self.out.s(" (");
        self.out.n(fac);
        self.out.s("), Severity ");
        self.out.s(severity(sev));
        self.out.s(" (");
        self.out.n(sev);
        self.out.s(")\n\tMsg: ");
        while off < len {
            tcpdump_char(self.out, byte(off)?);
            off += 1;
        }
        if self.opts.verbose > 1 {
            hex_dump(self.out, &b[..len.min(b.len())], "\n\t");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v, udp};

    #[test]
    fn priority_and_message() {
        let p = ipv4(17, &udp(40000, 514, b"<34>su: failed"));
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.514: SYSLOG auth.critical, length: 14"
        );
        assert!(line_v(&p, 1).ends_with(
            "SYSLOG, length: 14\n\tFacility auth (4), Severity critical (2)\n\tMsg: su: failed"
        ));
        assert!(line_v(&p[..36], 1).ends_with("Msg: su:  [|syslog]"));
        let bad = ipv4(17, &udp(40000, 514, b"no priority"));
        assert!(line_v(&bad, 0).ends_with("514:  (invalid)"));
    }
}

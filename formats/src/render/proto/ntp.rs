//! NTP (tcpdump's `print-ntp.c`, UDP port 123): version, mode and length; with `-v` the
//! time message's fields and timestamps.

use super::{trunc, Printer};
use crate::render::text::{tcpdump_char, Out};
use crate::wire::{get_be16, get_be32};

/// The IANA port.
pub(super) const PORT: u16 = 123;
/// A time message without extensions or authentication (RFC 5905).
const TIME_MSG_LEN: usize = 48;
/// Seconds from the NTP era (1900) to the Unix epoch.
const UNIX_EPOCH: i64 = 2_208_988_800;

struct Cut;

impl Printer<'_> {
    /// `b`: the UDP payload as captured; `len`: its length from the UDP header.
    pub(super) fn ntp(&mut self, b: &[u8], len: usize) {
        let Some(&status) = b.first() else {
            trunc(self.out, "ntp");
            return;
        };
        self.out.s("NTPv");
        self.out.n((status >> 3) & 7);
        let mode = status & 7;
        self.out.s(", ");
        self.out.s(match mode {
            0 => "unspecified",
            1 => "symmetric active",
            2 => "symmetric passive",
            3 => "Client",
            4 => "Server",
            5 => "Broadcast",
            6 => "Control Message",
            _ => "Reserved",
        });
        self.out.s(", length ");
        self.out.n(len);
        if self.opts.verbose == 0 {
            return;
        }
        // Every mode: the leap indicator (tcpdump shows the bits in place, `(192)`).
        let leap = status & 0xc0;
        self.out.s("\n\tLeap indicator: ");
        self.out.s(match leap {
            0 => "",
            0x40 => "+1s",
            0x80 => "-1s",
            _ => "clock unsynchronized",
        });
        self.out.s(" (");
        self.out.n(leap);
        self.out.c(b')');
        if mode <= 5 && self.ntp_time(b, len).is_err() {
            trunc(self.out, "ntp");
        }
    }

    fn ntp_time(&mut self, b: &[u8], len: usize) -> Result<(), Cut> {
        if len < TIME_MSG_LEN {
            self.out.s(" (invalid)");
            // tcpdump then checks that the whole (short) message was captured.
            return if b.len() < len { Err(Cut) } else { Ok(()) };
        }
        let byte = |i: usize| b.get(i).copied().ok_or(Cut);
        let stratum = byte(1)?;
        self.out.s(", Stratum ");
        self.out.n(stratum);
        self.out.s(match stratum {
            0 => " (unspecified)",
            1 => " (primary reference)",
            2..=15 => " (secondary reference)",
            _ => " (reserved)",
        });
        let poll = byte(2)? as i8;
        self.out.s(", poll ");
        self.out.n(poll);
        if (0..32).contains(&poll) {
            self.out.s(" (");
            self.out.n(1u32 << poll);
            self.out.s("s)");
        } else if (-31..0).contains(&poll) {
            self.out.s(" (1/");
            self.out.n(1u32 << -poll);
            self.out.s("s)");
        }
        let precision = byte(3)? as i8;
        self.out.s(", precision ");
        self.out.n(precision);
        b.get(4..8).ok_or(Cut)?;
        self.out.s("\n\tRoot Delay: ");
        self.ntp_short(b, 4)?;
        b.get(8..12).ok_or(Cut)?;
        self.out.s(", Root dispersion: ");
        self.ntp_short(b, 8)?;
        let refid = b.get(12..16).ok_or(Cut)?;
        self.out.s(", Reference-ID: ");
        match stratum {
            0 => self.out.s("(unspec)"),
            1 => {
                // A primary server's reference is four ASCII characters ("GPS", "PPS").
                for &c in refid {
                    tcpdump_char(self.out, c);
                }
            }
            _ => {
                self.out.s("0x");
                self.out.hex(
                    u32::from_be_bytes([refid[0], refid[1], refid[2], refid[3]]),
                    8,
                );
            }
        }
        for (label, at) in [
            ("\n\t  Reference Timestamp:  ", 16),
            ("\n\t  Originator Timestamp: ", 24),
            ("\n\t  Receive Timestamp:    ", 32),
            ("\n\t  Transmit Timestamp:   ", 40),
        ] {
            // Like tcpdump, a field's label only when the field was captured.
            b.get(at..at + 8).ok_or(Cut)?;
            self.out.s(label);
            self.ntp_timestamp(b, at)?;
        }
        self.out.s("\n\t    Originator - Receive Timestamp:  ");
        self.ntp_delta(b, 24, 32)?;
        self.out.s("\n\t    Originator - Transmit Timestamp: ");
        self.ntp_delta(b, 24, 40)?;
        let words = |n: usize| -> Result<Vec<u32>, Cut> {
            (0..n)
                .map(|i| get_be32(b, TIME_MSG_LEN + 4 + 4 * i).ok_or(Cut))
                .collect()
        };
        match len - TIME_MSG_LEN {
            0 => {}
            4 | 20 | 24 => {
                let key = get_be32(b, TIME_MSG_LEN).ok_or(Cut)?;
                self.out.s("\n\tKey id: ");
                self.out.n(key);
                let digest = (len - TIME_MSG_LEN - 4) / 4;
                if digest > 0 {
                    let w = words(digest)?;
                    self.out.s("\n\tAuthentication: ");
                    for x in w {
                        self.out.hex(x, 8);
                    }
                }
            }
            more => {
                self.out.s("\n\t(");
                self.out.n(more);
                self.out.s(" more bytes after the header)");
            }
        }
        Ok(())
    }

    /// An NTP short format (16.16 fixed point) as `%u.%06u`.
    fn ntp_short(&mut self, b: &[u8], at: usize) -> Result<(), Cut> {
        let (i, f) = (get_be16(b, at).ok_or(Cut)?, get_be16(b, at + 2).ok_or(Cut)?);
        self.out.n(i);
        self.out.c(b'.');
        let micros = (f64::from(f) / 65536.0 * 1_000_000.0) as u32;
        pad(self.out, micros, 6);
        Ok(())
    }

    /// An NTP timestamp (32.32 fixed point) as `%u.%09u`, and its UTC date when not zero.
    fn ntp_timestamp(&mut self, b: &[u8], at: usize) -> Result<(), Cut> {
        let (i, f) = (get_be32(b, at).ok_or(Cut)?, get_be32(b, at + 4).ok_or(Cut)?);
        self.out.n(i);
        self.out.c(b'.');
        pad(self.out, nanos(f), 9);
        if i != 0 {
            self.out.s(" (");
            utc_date(self.out, i64::from(i) - UNIX_EPOCH);
            self.out.c(b')');
        }
        Ok(())
    }

    /// `+S.NNNNNNNNN`: timestamp `to` less timestamp `from` (`to` itself when `from` is 0).
    fn ntp_delta(&mut self, b: &[u8], from: usize, to: usize) -> Result<(), Cut> {
        let (u, uf) = (get_be32(b, to).ok_or(Cut)?, get_be32(b, to + 4).ok_or(Cut)?);
        let (ou, ouf) = (
            get_be32(b, from).ok_or(Cut)?,
            get_be32(b, from + 4).ok_or(Cut)?,
        );
        if ou == 0 && ouf == 0 {
            return self.ntp_timestamp(b, to);
        }
        let t = (i128::from(u) << 32 | i128::from(uf)) - (i128::from(ou) << 32 | i128::from(ouf));
        let (neg, d) = (t < 0, t.unsigned_abs());
        self.out.c(if neg { b'-' } else { b'+' });
        self.out.n((d >> 32) as u32);
        self.out.c(b'.');
        pad(self.out, nanos(d as u32), 9);
        Ok(())
    }
}

/// A 32-bit binary fraction in nanoseconds, cut as tcpdump's double arithmetic cuts it.
fn nanos(f: u32) -> u32 {
    (f64::from(f) / 4_294_967_296.0 * 1_000_000_000.0) as u32
}

fn pad(out: &mut Vec<u8>, v: u32, width: usize) {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v);
    for _ in s.len()..width {
        out.c(b'0');
    }
    out.s(s);
}

/// `%Y-%m-%dT%H:%M:%SZ` of seconds since the Unix epoch.
fn utc_date(out: &mut Vec<u8>, secs: i64) {
    let (y, m, d) = crate::render::civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400) as u32;
    out.n(y);
    for (sep, v) in [
        (b'-', m),
        (b'-', d),
        (b'T', t / 3600),
        (b':', t / 60 % 60),
        (b':', t % 60),
    ] {
        out.c(sep);
        pad(out, v, 2);
    }
    out.c(b'Z');
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_v;

    #[test]
    fn client_and_server() {
        let mut p = vec![
            0x45, 0, 0, 76, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
        ];
        p.extend_from_slice(&[0, 123, 0, 123, 0, 56, 0, 0]);
        let mut ntp = vec![
            0x24, 2, 6, 0xe9, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 198, 18, 0, 9,
        ];
        ntp.extend_from_slice(&[0xe0, 0, 0, 0, 0, 0, 0, 0]);
        ntp.extend_from_slice(&[0xe0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]);
        ntp.extend_from_slice(&[0xe0, 0, 0, 1, 0x80, 0, 0, 0]);
        ntp.extend_from_slice(&[0xe0, 0, 0, 1, 0x90, 0, 0, 0]);
        p.extend_from_slice(&ntp);
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.123 > 198.18.0.2.123: NTPv4, Server, length 48"
        );
        let v = line_v(&p, 1);
        assert!(
            v.contains("NTPv4, Server, length 48\n\tLeap indicator:  (0), Stratum 2 (secondary reference), poll 6 (64s), precision -23\n\tRoot Delay: 0.000244, Root dispersion: 0.000488, Reference-ID: 0xc6120009\n\t  Reference Timestamp:  3758096384.000000000 (2019-02-02T11:39:44Z)"),
            "{v}"
        );
        assert!(
            v.ends_with("Originator - Receive Timestamp:  +1.428888889\n\t    Originator - Transmit Timestamp: +1.491388889"),
            "{v}"
        );
    }
}

//! IGMP v1, v2 and v3 (tcpdump's `print-igmp.c`): queries, reports, leaves.

use super::{group_record_type, trunc, Printer};
use crate::render::text::Out;
use crate::wire::{checksum, get_be16};

const QUERY: u8 = 0x11;
const V1_REPORT: u8 = 0x12;
const DVMRP: u8 = 0x13;
const PIM_V1: u8 = 0x14;
const V2_REPORT: u8 = 0x16;
const LEAVE: u8 = 0x17;
const V3_REPORT: u8 = 0x22;

/// The bytes of a message as captured; `Err` where the capture ends, which tcpdump marks
/// `[|igmp]` after what it has printed.
struct Msg<'a>(&'a [u8]);

struct Cut;

impl Msg<'_> {
    fn u8(&self, at: usize) -> Result<u8, Cut> {
        self.0.get(at).copied().ok_or(Cut)
    }
    fn u16(&self, at: usize) -> Result<u16, Cut> {
        get_be16(self.0, at).ok_or(Cut)
    }
    fn addr(&self, at: usize) -> Result<&[u8], Cut> {
        self.0.get(at..at + 4).ok_or(Cut)
    }
}

impl Printer<'_> {
    /// `b`: the message as captured; `len`: its length from the IP header.
    pub(super) fn igmp(&mut self, b: &[u8], len: usize) {
        if self.opts.quiet {
            self.out.s("igmp");
            return;
        }
        if self.igmp_message(&Msg(b), len).is_err() {
            trunc(self.out, "igmp");
            return;
        }
        if self.opts.verbose > 0 && b.len() >= len && !checksum::verify(0, &b[..len]) {
            self.out.s(" bad igmp cksum ");
            self.out.hexn(u32::from(get_be16(b, 2).unwrap_or(0)));
            self.out.c(b'!');
        }
    }

    fn igmp_message(&mut self, m: &Msg<'_>, len: usize) -> Result<(), Cut> {
        let group = |p: &mut Self, label: &str| -> Result<(), Cut> {
            let a = m.addr(4)?;
            p.out.s(label);
            p.out.ipv4(a);
            Ok(())
        };
        match m.u8(0)? {
            QUERY => {
                self.out.s("igmp query");
                if len >= 12 {
                    return self.igmp_v3_query(m, len);
                }
                let mrt = m.u8(1)?;
                if mrt != 0 {
                    self.out.s(" v2");
                    if mrt != 100 {
                        self.out.s(" [max resp time ");
                        self.out.n(mrt);
                        self.out.c(b']');
                    }
                } else {
                    self.out.s(" v1");
                }
                let a = m.addr(4)?;
                if a != [0, 0, 0, 0] {
                    self.out.s(" [gaddr ");
                    self.out.ipv4(a);
                    self.out.c(b']');
                }
                if len != 8 {
                    self.out.s(" [len ");
                    self.out.n(len);
                    self.out.c(b']');
                }
            }
            V1_REPORT => {
                group(self, "igmp v1 report ")?;
                if len != 8 {
                    self.out.s(" [len ");
                    self.out.n(len);
                    self.out.c(b']');
                }
            }
            V2_REPORT => group(self, "igmp v2 report ")?,
            LEAVE => group(self, "igmp leave ")?,
            V3_REPORT => {
                self.out.s("igmp v3 report");
                self.igmp_v3_report(m, len)?;
            }
            DVMRP => {
                self.out.s("igmp dvmrp");
                if len < 8 {
                    self.out.s(" [len ");
                    self.out.n(len);
                    self.out.c(b']');
                } else {
                    // DVMRP's own messages (RFC 1075) are not decoded; tcpdump names the
                    // types it does not know the same way.
                    let Ok(t) = m.u8(1) else {
                        trunc(self.out, "dvmrp");
                        return Ok(());
                    };
                    if !(1..=9).contains(&t) {
                        self.out.s(" [type ");
                        self.out.n(t);
                        self.out.c(b']');
                    }
                }
            }
            PIM_V1 => self.out.s("igmp pimv1"),
            t => {
                self.out.s("igmp-");
                self.out.n(t);
            }
        }
        Ok(())
    }

    fn igmp_v3_query(&mut self, m: &Msg<'_>, len: usize) -> Result<(), Cut> {
        self.out.s(" v3");
        if len < 12 || len & 3 != 0 {
            self.out.s(" [invalid len ");
            self.out.n(len);
            self.out.c(b']');
            return Ok(());
        }
        let mrc = m.u8(1)?;
        // RFC 3376 4.1.1: codes from 128 on are a floating-point value, in tenths of seconds.
        let mrt = if mrc < 128 {
            u32::from(mrc)
        } else {
            (u32::from(mrc & 0x0f) | 0x10) << (u32::from((mrc & 0x70) >> 4) + 3)
        };
        if mrc != 100 {
            self.out.s(" [max resp time ");
            if mrt < 600 {
                self.out.n(mrt / 10);
                self.out.c(b'.');
                self.out.n(mrt % 10);
                self.out.c(b's');
            } else {
                relative_time(self.out, mrt / 10);
            }
            self.out.c(b']');
        }
        let g = m.addr(4)?;
        if g == [0, 0, 0, 0] {
            return Ok(());
        }
        self.out.s(" [gaddr ");
        self.out.ipv4(g);
        let nsrcs = usize::from(m.u16(10)?);
        if nsrcs > 0 {
            if len < 12 + nsrcs * 4 {
                self.out.s(" [invalid number of sources]");
            } else if self.opts.verbose > 1 {
                self.out.s(" {");
                for i in 0..nsrcs {
                    let a = m.addr(12 + 4 * i)?;
                    self.out.c(b' ');
                    self.out.ipv4(a);
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

    fn igmp_v3_report(&mut self, m: &Msg<'_>, len: usize) -> Result<(), Cut> {
        if len < 16 || len & 3 != 0 {
            self.out.s(" [invalid len ");
            self.out.n(len);
            self.out.c(b']');
            return Ok(());
        }
        let ngroups = m.u16(6)?;
        self.out.s(", ");
        self.out.n(ngroups);
        self.out.s(" group record(s)");
        if self.opts.verbose == 0 {
            return Ok(());
        }
        let mut at = 8;
        for _ in 0..ngroups {
            if len < at + 8 {
                self.out.s(" [invalid number of groups]");
                return Ok(());
            }
            let g = m.addr(at + 4)?;
            self.out.s(" [gaddr ");
            self.out.ipv4(g);
            self.out.c(b' ');
            let t = m.u8(at)?;
            match group_record_type(t) {
                Some(name) => self.out.s(name),
                None => {
                    self.out.s(" [v3-report-#");
                    self.out.n(t);
                    self.out.c(b']');
                }
            }
            let nsrcs = usize::from(m.u16(at + 2)?);
            if len < at + 8 + nsrcs * 4 {
                self.out.s(" [invalid number of sources ");
                self.out.n(nsrcs);
                self.out.c(b']');
                return Ok(());
            }
            if self.opts.verbose == 1 {
                self.out.s(", ");
                self.out.n(nsrcs);
                self.out.s(" source(s)");
            } else {
                self.out.s(" {");
                for j in 0..nsrcs {
                    let a = m.addr(at + 8 + 4 * j)?;
                    self.out.c(b' ');
                    self.out.ipv4(a);
                }
                self.out.s(" }");
            }
            at += 8 + nsrcs * 4;
            self.out.c(b']');
        }
        Ok(())
    }
}

/// A duration in seconds as tcpdump's `unsigned_relts_print`: `5m7s`, `1h`, `0s`.
pub(super) fn relative_time(out: &mut Vec<u8>, mut secs: u32) {
    if secs == 0 {
        out.s("0s");
        return;
    }
    for (unit, name) in [
        (31_536_000, 'y'),
        (604_800, 'w'),
        (86_400, 'd'),
        (3_600, 'h'),
        (60, 'm'),
        (1, 's'),
    ] {
        if secs >= unit {
            out.n(secs / unit);
            out.c(name as u8);
            secs %= unit;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_v;

    /// An IPv4 packet (RAW link) carrying `igmp` to 224.0.0.22 with the Router Alert option.
    fn ip(igmp: &[u8]) -> Vec<u8> {
        let total = 24 + igmp.len();
        let mut p = vec![0x46, 0xc0, 0, total as u8, 0, 0, 0x40, 0, 1, 2, 0, 0];
        p.extend_from_slice(&[198, 18, 0, 1, 224, 0, 0, 22, 0x94, 4, 0, 0]);
        p.extend_from_slice(igmp);
        p
    }

    #[test]
    fn v3_report_and_queries() {
        let report = [0x22, 0, 0xe8, 0xf9, 0, 0, 0, 1, 4, 0, 0, 0, 239, 1, 2, 3];
        assert_eq!(
            line_v(&ip(&report), 0),
            "IP 198.18.0.1 > 224.0.0.22: igmp v3 report, 1 group record(s)"
        );
        let v = line_v(&ip(&report), 1);
        assert!(v.contains(", options (RA), bad cksum"), "{v}");
        assert!(
            v.ends_with("\n    198.18.0.1 > 224.0.0.22: igmp v3 report, 1 group record(s) [gaddr 239.1.2.3 to_ex, 0 source(s)]"),
            "{v}"
        );
        assert_eq!(
            line_v(&ip(&report)[..31], 0),
            "IP 198.18.0.1 > 224.0.0.22: igmp v3 report [|igmp]"
        );
        let query = [0x11, 200, 0, 0, 239, 1, 2, 3, 2, 125, 0, 0];
        assert_eq!(
            line_v(&ip(&query), 0),
            "IP 198.18.0.1 > 224.0.0.22: igmp query v3 [max resp time 5m7s] [gaddr 239.1.2.3]"
        );
    }
}

//! The TCP options tcpdump decodes in their own printer: Multipath TCP (`print-mptcp.c`,
//! option 30: every subtype, RFC 6824 and RFC 8684's version 1) and TCP Fast Open
//! (option 34, and RFC 6994's experimental option 254 with the TFO magic).

use super::Printer;
use crate::render::text::Out;
use crate::wire::tcp::flags::{ACK, SYN};

const C_FLAG: u8 = 0x80;
const DSS_F: u8 = 0x10;
const DSS_LOWER_M: u8 = 0x08;
const DSS_M: u8 = 0x04;
const DSS_LOWER_A: u8 = 0x02;
const DSS_A: u8 = 0x01;

fn be16(d: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([d[i], d[i + 1]])
}

fn be32(d: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]])
}

fn be64(d: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&d[i..i + 8]);
    u64::from_be_bytes(w)
}

impl Printer<'_> {
    /// An MPTCP option: `o` the whole option (kind and length included), `flags` the TCP
    /// flags. False when tcpdump calls it a bad option.
    pub(super) fn mptcp(&mut self, data: &[u8], len: usize, flags: u8) -> bool {
        if len < 3 {
            return false;
        }
        // Work on the option as tcpdump does, from its kind byte.
        let mut o = vec![30, len as u8];
        o.extend_from_slice(data);
        let sub = (o[2] >> 4).min(8);
        self.out.c(b' ');
        self.out.n(len);
        self.out.c(b' ');
        self.out.s(match sub {
            0 => "capable",
            1 => "join",
            2 => "dss",
            3 => "add-addr",
            4 => "rem-addr",
            5 => "prio",
            6 => "fail",
            7 => "fast-close",
            _ => "unknown",
        });
        match sub {
            0 => self.mp_capable(&o, flags),
            1 => self.mp_join(&o, flags),
            2 => self.mp_dss(&o, flags),
            3 => self.mp_add_addr(&o),
            4 => {
                if len < 4 {
                    return false;
                }
                self.out.s(" id");
                for &id in &o[3..] {
                    self.out.c(b' ');
                    self.out.n(id);
                }
                true
            }
            5 => {
                if len != 3 && len != 4 {
                    return false;
                }
                self.out.s(if o[2] & 1 != 0 {
                    " backup"
                } else {
                    " non-backup"
                });
                if len == 4 {
                    self.out.s(" id ");
                    self.out.n(o[3]);
                }
                true
            }
            6 | 7 => {
                if len != 12 {
                    return false;
                }
                if sub == 6 {
                    self.out.s(" seq ");
                    self.out.n(be64(&o, 4));
                } else {
                    self.out.s(" key 0x");
                    self.out.s(&format!("{:x}", be64(&o, 4)));
                }
                true
            }
            _ => true,
        }
    }

    fn mp_capable(&mut self, o: &[u8], flags: u8) -> bool {
        let len = o.len();
        let valid = ((len == 12 || len == 4) && flags & SYN != 0)
            || ((len == 20 || len == 22) && flags & (SYN | ACK) == ACK);
        if !valid {
            return false;
        }
        let version = o[2] & 0x0f;
        if version > 1 {
            self.out.s(" Unknown Version (");
            self.out.n(version);
            self.out.c(b')');
            return true;
        }
        self.out.s(" v");
        self.out.n(version);
        if o[3] & C_FLAG != 0 {
            self.out.s(" csum");
        }
        if len == 12 || len >= 20 {
            self.out.s(&format!(" {{0x{:x}", be64(o, 4)));
            if len >= 20 {
                self.out.s(&format!(",0x{:x}", be64(o, 12)));
            }
            self.out.c(b'}');
        }
        true
    }

    fn mp_join(&mut self, o: &[u8], flags: u8) -> bool {
        let len = o.len();
        let valid = (len == 12 && flags & SYN != 0)
            || (len == 16 && flags & (SYN | ACK) == SYN | ACK)
            || (len == 24 && flags & ACK != 0);
        if !valid {
            return false;
        }
        if len != 24 {
            if o[2] & 1 != 0 {
                self.out.s(" backup");
            }
            self.out.s(" id ");
            self.out.n(o[3]);
        }
        match len {
            12 => {
                self.out.s(&format!(
                    " token 0x{:x} nonce 0x{:x}",
                    be32(o, 4),
                    be32(o, 8)
                ));
            }
            16 => {
                self.out.s(&format!(
                    " hmac 0x{:x} nonce 0x{:x}",
                    be64(o, 4),
                    be32(o, 12)
                ));
            }
            _ => {
                self.out.s(" hmac 0x");
                for &x in &o[4..24] {
                    self.out.hex(u32::from(x), 2);
                }
            }
        }
        true
    }

    fn mp_dss(&mut self, o: &[u8], flags: u8) -> bool {
        if o.len() < 4 || flags & SYN != 0 {
            return false;
        }
        let f = o[3];
        if f & DSS_F != 0 {
            self.out.s(" fin");
        }
        let mut at = 4;
        let left = |at: usize| o.len() - at;
        // A number of 8 bytes when `wide`, else 4; false when the option is too short.
        let number = |p: &mut Self, at: &mut usize, wide: bool| -> bool {
            let size = if wide { 8 } else { 4 };
            if left(*at) < size {
                return false;
            }
            if wide {
                p.out.n(be64(o, *at));
            } else {
                p.out.n(be32(o, *at));
            }
            *at += size;
            true
        };
        if f & DSS_A != 0 {
            self.out.s(" ack ");
            if !number(self, &mut at, f & DSS_LOWER_A != 0) {
                return false;
            }
        }
        if f & DSS_M != 0 {
            self.out.s(" seq ");
            if !number(self, &mut at, f & DSS_LOWER_M != 0) {
                return false;
            }
            if left(at) < 4 {
                return false;
            }
            self.out.s(" subseq ");
            self.out.n(be32(o, at));
            at += 4;
            if left(at) < 2 {
                return false;
            }
            self.out.s(" len ");
            self.out.n(be16(o, at));
            at += 2;
            if left(at) >= 2 {
                self.out.s(&format!(" csum 0x{:x}", be16(o, at)));
                at += 2;
            }
        }
        left(at) == 0
    }

    fn mp_add_addr(&mut self, o: &[u8]) -> bool {
        let len = o.len();
        if ![8, 10, 16, 18, 20, 22, 28, 30].contains(&len) {
            return false;
        }
        self.out.c(b' ');
        self.out.s(match o[2] & 0x0f {
            6 => "v0-ip6",
            4 => "v0-ip4",
            1 => "v1-echo",
            0 => "v1",
            _ => "[bad version/echo]",
        });
        self.out.s(" id ");
        self.out.n(o[3]);
        let v4 = matches!(len, 8 | 10 | 16 | 18);
        let (addr_len, with_port) = if v4 {
            (4, len == 10 || len == 18)
        } else {
            (16, len == 22 || len == 30)
        };
        self.out.c(b' ');
        self.out.ip(&o[4..4 + addr_len]);
        let mut at = 4 + addr_len;
        if with_port {
            self.out.c(b':');
            self.out.n(be16(o, at));
            at += 2;
        }
        if matches!(len, 16 | 18 | 28 | 30) {
            self.out.s(&format!(" hmac 0x{:x}", be64(o, at)));
        }
        true
    }

    /// TCP Fast Open's cookie or cookie request (`exp`: the experimental option's form).
    pub(super) fn tcp_fastopen(&mut self, d: &[u8], exp: bool) {
        if exp {
            self.out.s("tfo");
        }
        if d.is_empty() {
            self.out.s(" cookiereq");
        } else if d.len() % 2 != 0 || d.len() < 4 || d.len() > 16 {
            self.out.s(" (invalid)");
        } else {
            self.out.s(" cookie ");
            for &x in d {
                self.out.hex(u32::from(x), 2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v};

    fn syn_with(opts: &[u8], flags: u8) -> Vec<u8> {
        let mut t = vec![0x9c, 0x40, 0, 80, 0, 0, 3, 0xe8, 0, 0, 0, 0];
        t.push((((20 + opts.len()) / 4) << 4) as u8);
        t.extend_from_slice(&[flags, 2, 0, 0, 0, 0, 0]);
        t.extend_from_slice(opts);
        ipv4(6, &t)
    }

    #[test]
    fn mptcp_capable_and_tfo() {
        let p = syn_with(&[30, 12, 0, 0x81, 0, 1, 2, 3, 4, 5, 6, 7], 0x02);
        assert!(line_v(&p, 0).contains("options [mptcp 12 capable v0 csum {0x1020304050607}]"));
        let p = syn_with(&[34, 2, 1, 1], 0x02);
        assert!(line_v(&p, 0).contains("options [tfo  cookiereq,nop,nop]"));
        let p = syn_with(&[254, 4, 0xf9, 0x89], 0x02);
        assert!(line_v(&p, 0).contains("options [exp-tfo cookiereq]"));
        // A DSS option in a SYN is a bad option: tcpdump stops there.
        let p = syn_with(&[30, 4, 0x20, 0], 0x02);
        assert!(line_v(&p, 0).ends_with("options [mptcp 4 dss[bad opt]"));
    }
}

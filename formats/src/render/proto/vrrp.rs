//! VRRP v2 and v3 (tcpdump's `print-vrrp.c`, IP protocol 112): version, type, router ID,
//! priority, interval; with `-v` the checksum, the virtual addresses and a v2 password.

use super::{trunc, IpCtx, Printer};
use crate::render::text::{tcpdump_char, Out};
use crate::wire::checksum;

pub(super) const PROTO: u8 = 112;
const ADVERTISEMENT: u8 = 1;
const AUTH_SIMPLE: u8 = 1;

struct Cut;

impl Printer<'_> {
    /// `b`: the VRRP message as captured; `len`: its length from the IP header.
    pub(super) fn vrrp(&mut self, b: &[u8], len: usize, ip: IpCtx<'_>) {
        if self.vrrp_message(b, len, ip).is_err() {
            trunc(self.out, "vrrp");
        }
    }

    fn vrrp_message(&mut self, b: &[u8], len: usize, ip: IpCtx<'_>) -> Result<(), Cut> {
        let byte = |i: usize| b.get(i).copied().ok_or(Cut);
        // tcpdump names the protocol before it reads a byte.
        self.out.s("VRRP");
        let vt = byte(0)?;
        let (version, ty) = (vt >> 4, vt & 0x0f);
        self.out.c(b'v');
        self.out.n(version);
        if ty == ADVERTISEMENT {
            self.out.s(", Advertisement");
        } else {
            self.out.s(", unknown type (");
            self.out.n(ty);
            self.out.c(b')');
        }
        if ip.ttl != 255 {
            self.out.s(", (ttl ");
            self.out.n(ip.ttl);
            self.out.c(b')');
        }
        if !(2..=3).contains(&version) || ty != ADVERTISEMENT {
            return Ok(());
        }
        let (vrid, prio) = (byte(1)?, byte(2)?);
        self.out.s(", vrid ");
        self.out.n(vrid);
        self.out.s(", prio ");
        self.out.n(prio);
        let auth = byte(4)?;
        if version == 2 {
            self.out.s(", authtype ");
            match auth {
                0 => self.out.s("none"),
                1 => self.out.s("simple"),
                2 => self.out.s("ah"),
                a => {
                    self.out.c(b'#');
                    self.out.n(a);
                }
            }
            let intvl = byte(5)?;
            self.out.s(", intvl ");
            self.out.n(intvl);
            self.out.s("s, length ");
        } else {
            let intvl = u16::from(auth & 0x0f) << 8 | u16::from(byte(5)?);
            self.out.s(", intvl ");
            self.out.n(intvl);
            self.out.s("cs, length ");
        }
        self.out.n(len);
        if self.opts.verbose == 0 {
            return Ok(());
        }
        let naddrs = usize::from(byte(3)?);
        if b.len() >= len {
            let msg = &b[..len];
            let pseudo = if version == 2 {
                0
            } else {
                ip.pseudo(PROTO, len)
            };
            if !checksum::verify(pseudo, msg) {
                self.out.s(", (bad vrrp cksum ");
                let c = u16::from_be_bytes([byte(6)?, byte(7)?]);
                self.out.hexn(u32::from(c));
                self.out.c(b')');
            }
        }
        self.out.s(", addrs");
        if naddrs > 1 {
            self.out.c(b'(');
            self.out.n(naddrs);
            self.out.c(b')');
        }
        self.out.c(b':');
        let size = if ip.v6 { 16 } else { 4 };
        let mut at = 8;
        for i in 0..naddrs {
            let a = b.get(at..at + size).ok_or(Cut)?;
            self.out.c(if i == 0 { b' ' } else { b',' });
            self.out.ip(a);
            at += size;
        }
        if version == 2 && auth == AUTH_SIMPLE {
            self.out.s(" auth \"");
            for i in 0..8 {
                let c = byte(at + i)?;
                if c == 0 {
                    break;
                }
                tcpdump_char(self.out, c);
            }
            self.out.c(b'"');
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v};

    #[test]
    fn advertisement_and_cut() {
        let mut m = vec![0x21, 1, 100, 1, 1, 1, 0, 0, 198, 18, 0, 100];
        m.extend_from_slice(b"secret\0\0");
        let c = crate::wire::checksum::expected(0, &m, 6);
        m[6..8].copy_from_slice(&c.to_be_bytes());
        let mut p = ipv4(112, &m);
        p[8] = 255;
        let c = crate::wire::checksum::expected(0, &p[..20], 10);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1 > 198.18.0.2: VRRPv2, Advertisement, vrid 1, prio 100, authtype simple, intvl 1s, length 20"
        );
        assert!(line_v(&p, 1).ends_with("length 20, addrs: 198.18.0.100 auth \"secret\""));
        assert!(line_v(&p[..35], 1).ends_with("addrs: 198.18.0.100 auth \"sec [|vrrp]"));
        assert_eq!(
            line_v(&p[..20], 0),
            "IP 198.18.0.1 > 198.18.0.2: VRRP [|vrrp]"
        );
    }
}

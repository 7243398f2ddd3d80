//! The IPv6 mobility header (RFC 6275; tcpdump's `print-mobility.c`), next header 135 (and
//! 62, its old number). tcpdump prints nothing after it.

use super::{trunc, Printer};
use crate::render::text::Out;
use crate::wire::{get_be16, get_be32};

/// A cut header or option: tcpdump's ` [|mobility]`, which ends the packet.
struct Cut;

impl Printer<'_> {
    /// The mobility header at the start of `b` (what was captured of the IPv6 payload from
    /// it on).
    pub(super) fn mobility(&mut self, b: &[u8]) {
        if self.mobility_header(b).is_err() {
            trunc(self.out, "mobility");
        }
    }

    fn mobility_header(&mut self, b: &[u8]) -> Result<(), Cut> {
        let v = self.opts.verbose > 0;
        let byte = |i: usize| b.get(i).copied().ok_or(Cut);
        let be16 = |i: usize| get_be16(b, i).ok_or(Cut);
        let be32 = |i: usize| get_be32(b, i).ok_or(Cut);
        let mhlen = (usize::from(byte(1)?) + 1) << 3;
        let ty = byte(2)?;
        let min = match ty {
            0 => 8,
            1 | 2 => 16,
            5 | 6 => 12,
            3 | 4 | 7 => 24,
            _ => 0,
        };
        if mhlen < min {
            self.out.s("(header length ");
            self.out.n(mhlen);
            self.out.s(" is too small for type ");
            self.out.n(ty);
            self.out.c(b')');
            return Err(Cut);
        }
        self.out.s("mobility: ");
        let name = ["BRR", "HoTI", "CoTI", "HoT", "CoT", "BU", "BA", "BE"];
        match name.get(usize::from(ty)) {
            Some(n) => self.out.s(n),
            None => {
                self.out.s("type-#");
                self.out.n(ty);
            }
        }
        let home = matches!(ty, 1 | 3);
        let who = if home { "Home" } else { "Care-of" };
        let hlen = match ty {
            0 => 8,
            1 | 2 => {
                if v {
                    self.cookie(who, "Init Cookie", be32(8)?, be32(12)?);
                }
                16
            }
            3 | 4 => {
                let id = be16(6)?;
                self.out.s(" nonce id=0x");
                self.out.hexn(u32::from(id));
                if v {
                    self.cookie(who, "Init Cookie", be32(8)?, be32(12)?);
                    self.cookie(who, "Keygen Token", be32(16)?, be32(20)?);
                }
                24
            }
            5 => {
                let seq = be16(6)?;
                self.out.s(" seq#=");
                self.out.n(seq);
                be16(8)?;
                let bits = byte(8)? >> 4;
                if bits != 0 {
                    self.out.c(b' ');
                    for (bit, l) in [(8, b'A'), (4, b'H'), (2, b'L'), (1, b'K')] {
                        if bits & bit != 0 {
                            self.out.c(l);
                        }
                    }
                }
                let life = be16(10)?;
                self.out.s(" lifetime=");
                self.out.n(u32::from(life) << 2);
                12
            }
            6 => {
                let status = byte(6)?;
                self.out.s(" status=");
                self.out.n(status);
                if byte(7)? & 0x80 != 0 {
                    self.out.s(" K");
                }
                let seq = be16(8)?;
                self.out.s(" seq#=");
                self.out.n(seq);
                let life = be16(10)?;
                self.out.s(" lifetime=");
                self.out.n(u32::from(life) << 2);
                12
            }
            7 => {
                let status = byte(6)?;
                self.out.s(" status=");
                self.out.n(status);
                let a = b.get(8..24).ok_or(Cut)?;
                self.out.s(" homeaddr ");
                self.out.ipv6(a);
                24
            }
            _ => {
                self.out.s(" len=");
                self.out.n(b[1]);
                return Ok(());
            }
        };
        if v {
            self.mobility_options(b.get(hlen..).unwrap_or(&[]), mhlen - hlen)?;
        }
        Ok(())
    }

    fn cookie(&mut self, who: &str, what: &str, a: u32, b: u32) {
        self.out.c(b' ');
        self.out.s(who);
        self.out.c(b' ');
        self.out.s(what);
        self.out.c(b'=');
        self.out.hex(a, 8);
        self.out.c(b':');
        self.out.hex(b, 8);
    }

    /// The options, `len` bytes by the header's length from the start of `b` (as captured).
    /// tcpdump wants the byte after each option captured before it prints it.
    fn mobility_options(&mut self, b: &[u8], len: usize) -> Result<(), Cut> {
        let byte = |i: usize| b.get(i).copied().ok_or(Cut);
        let mut i = 0;
        while i < len {
            let ty = byte(i)?;
            let optlen = if ty == 0 {
                1
            } else if i + 1 < len {
                usize::from(byte(i + 1)?) + 2
            } else {
                return Err(Cut);
            };
            if i + optlen > len {
                return Err(Cut);
            }
            byte(i + optlen)?;
            let left = len - i;
            let short = |out: &mut Vec<u8>, min: usize, name: &str| {
                if left < min {
                    out.s("(");
                    out.s(name);
                    out.s(": trunc)");
                    Err(Cut)
                } else {
                    Ok(())
                }
            };
            match ty {
                0 => self.out.s("(pad1)"),
                1 => {
                    short(self.out, 2, "padn")?;
                    self.out.s("(padn)");
                }
                2 => {
                    short(self.out, 4, "refresh")?;
                    let r = get_be16(b, i + 2).ok_or(Cut)?;
                    self.out.s("(refresh: ");
                    self.out.n(u32::from(r) << 2);
                    self.out.c(b')');
                }
                3 => {
                    short(self.out, 18, "altcoa")?;
                    let a = b.get(i + 2..i + 18).ok_or(Cut)?;
                    self.out.s("(alt-CoA: ");
                    self.out.ipv6(a);
                    self.out.c(b')');
                }
                4 => {
                    short(self.out, 6, "ni")?;
                    let (ho, co) = (
                        get_be16(b, i + 2).ok_or(Cut)?,
                        get_be16(b, i + 4).ok_or(Cut)?,
                    );
                    self.out.s("(ni: ho=0x");
                    self.out.hex(u32::from(ho), 4);
                    self.out.s(" co=0x");
                    self.out.hex(u32::from(co), 4);
                    self.out.c(b')');
                }
                5 => {
                    short(self.out, 12, "auth")?;
                    self.out.s("(auth)");
                }
                t => {
                    if left < 2 {
                        self.out.s("(sopt_type ");
                        self.out.n(t);
                        self.out.s(": trunc)");
                        return Err(Cut);
                    }
                    self.out.s("(type-0x");
                    self.out.hex(u32::from(t), 2);
                    self.out.s(": len=");
                    self.out.n(byte(i + 1)?);
                    self.out.c(b')');
                }
            }
            i += optlen;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv6 as v6, line_v};

    #[test]
    fn binding_update() {
        let bu = [59, 1, 5, 0, 0, 0, 0, 7, 0xf0, 0, 0, 10, 1, 0, 2, 2, 0, 5];
        let p = v6(135, &[&bu[..], &[0, 0]].concat());
        let head = "IP6 fd00::1 > fd00::2: mobility: BU seq#=7 AHLK lifetime=40";
        assert_eq!(line_v(&p, 0), head);
        // The refresh advice runs past the header's 16 bytes: a cut.
        assert!(line_v(&p, 1).ends_with("lifetime=40(padn) [|mobility]"));
        assert_eq!(
            line_v(&p[..50], 0),
            "IP6 fd00::1 > fd00::2: mobility: BU seq#=7 AHLK [|mobility]"
        );
        // Nothing is printed of a header too short for its type.
        let p = v6(62, &[59, 0, 5, 0, 0, 0, 0, 7]);
        assert_eq!(
            line_v(&p, 0),
            "IP6 fd00::1 > fd00::2: (header length 8 is too small for type 5) [|mobility]"
        );
    }
}

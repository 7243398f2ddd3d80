//! Writing text into a byte buffer without allocating: integers, hex, addresses, escaping.

/// Appends text pieces to a `Vec<u8>`.
pub(crate) trait Out {
    fn s(&mut self, s: &str);
    fn b(&mut self, b: &[u8]);
    fn c(&mut self, c: u8);
    fn n<I: itoa::Integer>(&mut self, n: I);
    /// `%0Nx` in lower case.
    fn hex(&mut self, v: u32, width: usize);
    /// `%x` (no padding).
    fn hexn(&mut self, v: u32);
    /// Left-justified, padded with spaces to `width` (`%-Ns`).
    fn pad(&mut self, s: &[u8], width: usize);
    fn ipv4(&mut self, a: &[u8]);
    fn ipv6(&mut self, a: &[u8]);
    fn ip(&mut self, a: &[u8]) {
        if a.len() == 16 {
            self.ipv6(a)
        } else {
            self.ipv4(a)
        }
    }
    /// An address as tcpdump prints it.
    fn addr(&mut self, a: std::net::IpAddr) {
        match a {
            std::net::IpAddr::V4(v4) => self.ipv4(&v4.octets()),
            std::net::IpAddr::V6(v6) => self.ipv6(&v6.octets()),
        }
    }
    /// Colon-separated hex bytes (link-layer addresses).
    fn lladdr(&mut self, a: &[u8]);
    /// Text from outside (names, args, labels): control characters become `\xNN`.
    fn escaped(&mut self, s: &str);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Out for Vec<u8> {
    #[inline]
    fn s(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
    #[inline]
    fn b(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    #[inline]
    fn c(&mut self, c: u8) {
        self.push(c);
    }
    #[inline]
    fn n<I: itoa::Integer>(&mut self, n: I) {
        let mut buf = itoa::Buffer::new();
        self.extend_from_slice(buf.format(n).as_bytes());
    }
    fn hex(&mut self, v: u32, width: usize) {
        let digits = if v == 0 {
            1
        } else {
            (32 - v.leading_zeros() as usize).div_ceil(4)
        };
        for _ in digits..width {
            self.push(b'0');
        }
        for i in (0..digits).rev() {
            self.push(HEX[((v >> (i * 4)) & 0xf) as usize]);
        }
    }
    fn hexn(&mut self, v: u32) {
        self.hex(v, 1)
    }
    fn pad(&mut self, s: &[u8], width: usize) {
        self.extend_from_slice(s);
        for _ in s.len()..width {
            self.push(b' ');
        }
    }
    fn ipv4(&mut self, a: &[u8]) {
        for (i, o) in a.iter().enumerate() {
            if i > 0 {
                self.push(b'.');
            }
            self.n(*o);
        }
    }
    fn ipv6(&mut self, a: &[u8]) {
        let mut w = [0u16; 8];
        for (i, x) in w.iter_mut().enumerate() {
            *x = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
        }
        // The longest run (first one on ties) of at least two zero words is shown as "::".
        let (mut best, mut best_len, mut cur, mut cur_len) = (usize::MAX, 0, 0, 0);
        for (i, &x) in w.iter().enumerate() {
            if x == 0 {
                if cur_len == 0 {
                    cur = i;
                }
                cur_len += 1;
                if cur_len > best_len {
                    best = cur;
                    best_len = cur_len;
                }
            } else {
                cur_len = 0;
            }
        }
        if best_len < 2 {
            best = usize::MAX;
        }
        let mut i = 0;
        while i < 8 {
            if i == best {
                self.push(b':');
                i += best_len;
                if i == 8 {
                    self.push(b':');
                }
                continue;
            }
            if i > 0 {
                self.push(b':');
            }
            // An embedded IPv4 address: ::a.b.c.d and ::ffff:a.b.c.d.
            if i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)) {
                self.ipv4(&a[12..16]);
                break;
            }
            self.hexn(u32::from(w[i]));
            i += 1;
        }
    }
    fn lladdr(&mut self, a: &[u8]) {
        for (i, o) in a.iter().enumerate() {
            if i > 0 {
                self.push(b':');
            }
            self.hex(u32::from(*o), 2);
        }
    }
    fn escaped(&mut self, s: &str) {
        for ch in s.chars() {
            let c = ch as u32;
            if c < 0x20 || (0x7f..0xa0).contains(&c) {
                self.extend_from_slice(b"\\x");
                self.hex(c, 2);
            } else {
                let mut buf = [0u8; 4];
                self.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

/// tcpdump's printing of a possibly binary byte: `M-` for the high bit, `^` for control.
pub(crate) fn tcpdump_char(out: &mut Vec<u8>, mut c: u8) {
    if c >= 0x80 {
        c &= 0x7f;
        out.extend_from_slice(b"M-");
    }
    if !(0x20..0x7f).contains(&c) {
        c ^= 0x40;
        out.push(b'^');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        let a: std::net::Ipv6Addr = s.parse().unwrap();
        let mut o = Vec::new();
        o.ipv6(&a.octets());
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn ipv6_text_like_tcpdump() {
        for s in [
            "::",
            "::1",
            "fe80::1",
            "fd00:198:18::2",
            "ff02::1:ff00:2",
            "1:0:1:0:1:0:1:0",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "2001:db8::",
        ] {
            assert_eq!(v6(s), s);
        }
    }

    #[test]
    fn escapes_control_bytes() {
        let mut o = Vec::new();
        o.escaped("a\x1b[2Jb\u{9b}");
        assert_eq!(o, b"a\\x1b[2Jb\\x9b");
        let mut o = Vec::new();
        o.hex(0xab, 4);
        o.hexn(0);
        assert_eq!(o, b"00ab0");
    }
}

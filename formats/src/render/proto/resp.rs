//! RESP, the Redis protocol (tcpdump's `print-resp.c`, TCP port 6379): every item of the
//! segment in order, pipelined commands included: strings, errors and integers quoted, bulk
//! strings and arrays by their elements, `empty`, `null`, `invalid` and the length errors,
//! inline commands as lines.

use super::{trunc, Printer};
use crate::render::text::{tcpdump_char, Out};

pub(super) const PORT: u16 = 6379;

/// The segment ends (or its length is exceeded) inside an item: `[|resp]`, nothing after.
struct Cut;

/// A bulk string's or array's length as tcpdump's `resp_get_length` reads it.
enum Length {
    Value(i64),
    TooLarge,
    Negative,
    Invalid,
}

impl Printer<'_> {
    /// `b`: the TCP payload as captured; `len`: its length from the headers.
    pub(super) fn resp(&mut self, b: &[u8], len: usize) {
        if len == 0 {
            return;
        }
        self.out.s(": RESP");
        let mut at = 0;
        while at < len {
            match self.resp_item(b, at) {
                Ok(next) => at = next,
                Err(Cut) => {
                    trunc(self.out, "resp");
                    return;
                }
            }
        }
    }

    /// One item at `at`; the offset after it.
    fn resp_item(&mut self, b: &[u8], at: usize) -> Result<usize, Cut> {
        let op = *b.get(at).ok_or(Cut)?;
        match op {
            b'+' | b'-' | b':' => {
                let start = at + 1;
                let end = find_crlf(b, start)?;
                self.resp_segment(&b[start..end]);
                Ok(end + 2)
            }
            b'$' => {
                let (l, mut p) = resp_length(b, at + 1)?;
                match l {
                    Length::Value(0) => self.out.s(" empty"),
                    Length::Value(-1) => {
                        self.out.s(" null");
                        return Ok(p);
                    }
                    Length::Value(n) => {
                        let n = usize::try_from(n).map_err(|_| Cut)?;
                        let s = b.get(p..p.checked_add(n).ok_or(Cut)?).ok_or(Cut)?;
                        self.resp_segment(s);
                        p += n;
                    }
                    other => {
                        self.resp_length_error(other);
                        return Ok(p);
                    }
                }
                // The CRLF after the string (tcpdump skips anything before it).
                Ok(find_crlf(b, p)? + 2)
            }
            b'*' => {
                let (l, mut p) = resp_length(b, at + 1)?;
                match l {
                    Length::Value(0) => self.out.s(" empty"),
                    Length::Value(-1) => self.out.s(" null"),
                    Length::Value(n) => {
                        for _ in 0..n {
                            p = self.resp_item(b, p)?;
                        }
                    }
                    other => self.resp_length_error(other),
                }
                Ok(p)
            }
            _ => {
                // An inline command: a line ended by CR, LF or both, after any CR/LF.
                let start = skip_cr_lf(b, at)?;
                let mut end = start;
                loop {
                    match b.get(end) {
                        None => return Err(Cut),
                        Some(b'\r' | b'\n') => break,
                        Some(_) => end += 1,
                    }
                }
                self.resp_segment(&b[start..end]);
                skip_cr_lf(b, end)
            }
        }
    }

    fn resp_segment(&mut self, s: &[u8]) {
        self.out.s(" \"");
        for &c in s {
            tcpdump_char(self.out, c);
        }
        self.out.c(b'"');
    }

    fn resp_length_error(&mut self, l: Length) {
        self.out.s(match l {
            Length::TooLarge => " length too large",
            Length::Negative => " length negative and not -1",
            _ => " invalid",
        });
    }
}

/// The offset of the next CRLF at or after `p`.
fn find_crlf(b: &[u8], mut p: usize) -> Result<usize, Cut> {
    loop {
        let pair = b.get(p..p + 2).ok_or(Cut)?;
        if pair == b"\r\n" {
            return Ok(p);
        }
        p += 1;
    }
}

/// Skips CR and LF bytes; at least one, unless other data follows.
fn skip_cr_lf(b: &[u8], mut p: usize) -> Result<usize, Cut> {
    let mut found = false;
    loop {
        match b.get(p) {
            None if found => return Ok(p),
            None => return Err(Cut),
            Some(b'\r' | b'\n') => {
                found = true;
                p += 1;
            }
            Some(_) => return Ok(p),
        }
    }
}

/// `<length>\r\n` at `p`: the length (or what is wrong with it) and where parsing goes on.
fn resp_length(b: &[u8], mut p: usize) -> Result<(Length, usize), Cut> {
    const INT_MAX: i64 = i32::MAX as i64;
    let mut neg = false;
    if *b.get(p).ok_or(Cut)? == b'-' {
        neg = true;
        p += 1;
    }
    let (mut result, mut saw_digit, mut too_large) = (0i64, false, false);
    loop {
        let c = *b.get(p).ok_or(Cut)?;
        if !c.is_ascii_digit() {
            if !saw_digit {
                return Ok((Length::Invalid, p + 1));
            }
            break;
        }
        let d = i64::from(c - b'0');
        if result > INT_MAX / 10 {
            too_large = true;
        } else {
            result *= 10;
            if result == (INT_MAX / 10) * 10 && d > INT_MAX % 10 {
                too_large = true;
            } else {
                result += d;
            }
        }
        p += 1;
        saw_digit = true;
    }
    if b[p] != b'\r' {
        return Ok((Length::Invalid, p + 1));
    }
    p += 1;
    if *b.get(p).ok_or(Cut)? != b'\n' {
        return Ok((Length::Invalid, p + 1));
    }
    p += 1;
    if neg {
        if too_large || result != 1 {
            return Ok((Length::Negative, p));
        }
        return Ok((Length::Value(-1), p));
    }
    Ok((
        if too_large {
            Length::TooLarge
        } else {
            Length::Value(result)
        },
        p,
    ))
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v};

    fn to_redis(payload: &[u8]) -> Vec<u8> {
        let mut t = vec![
            0x9c, 0x40, 0x18, 0xeb, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 2, 0,
        ];
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(payload);
        ipv4(6, &t)
    }

    #[test]
    fn commands_replies_and_cut() {
        let p = to_redis(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n+OK\r\n");
        assert!(line_v(&p, 0).ends_with(": RESP \"GET\" \"k\" \"OK\""));
        assert!(line_v(&p[..53], 0).ends_with(": RESP \"GET\" [|resp]"));
        let p = to_redis(b"$-1\r\n*0\r\n$x\r\n");
        assert!(line_v(&p, 0).ends_with(": RESP null empty invalid [|resp]"));
    }
}

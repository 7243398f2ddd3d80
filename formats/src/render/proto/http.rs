//! HTTP request and response lines (tcpdump's `print-http.c` over `txtproto_print`).

use super::{txt_line, Printer};
use crate::render::text::Out;

impl Printer<'_> {
    pub(super) fn http(&mut self, p: &[u8], len: usize) {
        const CMDS: &[&str] = &[
            "OPTIONS",
            "GET",
            "HEAD",
            "POST",
            "PUT",
            "DELETE",
            "TRACE",
            "CONNECT",
            "PROPFIND",
            "PROPPATCH",
            "MKCOL",
            "COPY",
            "MOVE",
            "LOCK",
            "UNLOCK",
            "POLL",
            "BCOPY",
            "BMOVE",
            "SEARCH",
            "BDELETE",
            "BPROPFIND",
            "BPROPPATCH",
            "SUBSCRIBE",
            "UNSUBSCRIBE",
            "NOTIFY",
            "VERSION-CONTROL",
            "REPORT",
            "CHECKOUT",
            "CHECKIN",
            "UNCHECKOUT",
            "MKWORKSPACE",
            "UPDATE",
            "LABEL",
            "MERGE",
            "BASELINE-CONTROL",
            "MKACTIVITY",
            "ORDERPATCH",
            "ACL",
            "PATCH",
        ];
        let mut is_reqresp = false;
        if let Some((tok, _)) = fetch_token(p, 0) {
            is_reqresp = CMDS.iter().any(|c| c.as_bytes().eq_ignore_ascii_case(tok));
        }
        if !is_reqresp {
            if let Some((_, idx)) = fetch_token(p, 0) {
                if let Some((code, _)) = fetch_token(p, idx) {
                    is_reqresp = code.len() == 3 && code.iter().all(u8::is_ascii_digit);
                }
            }
        }
        self.out.s(": HTTP");
        if !is_reqresp {
            return;
        }
        let captured_all = p.len() >= len;
        if self.opts.verbose > 0 {
            self.out.s(", length: ");
            self.out.n(len);
            let mut idx = 0;
            while idx < p.len() {
                match txt_line(self.out, "\n\t", p, idx, "http", captured_all) {
                    Some(next) => idx = next,
                    None => break,
                }
            }
        } else {
            txt_line(self.out, ": ", p, 0, "http", captured_all);
        }
    }
}

/// A whitespace-delimited token at `idx` and the index after the blanks that follow it.
fn fetch_token(p: &[u8], mut idx: usize) -> Option<(&[u8], usize)> {
    let start = idx;
    while idx < p.len() {
        let c = p[idx];
        if !c.is_ascii() {
            return None;
        }
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            break;
        }
        idx += 1;
    }
    if idx == start {
        return None;
    }
    let tok = &p[start..idx];
    while idx < p.len() {
        let c = p[idx];
        if c == b'\r' || c == b'\n' || !(0x20..0x7f).contains(&c) || (c != b' ' && c != b'\t') {
            break;
        }
        idx += 1;
    }
    Some((tok, idx))
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v};

    #[test]
    fn request_line() {
        let mut t = vec![
            0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 2, 0, 0, 0, 0, 0,
        ];
        t.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            line_v(&ipv4(6, &t), 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [P.], seq 1:28, ack 1, win 512, length 27: HTTP: GET / HTTP/1.1"
        );
    }
}

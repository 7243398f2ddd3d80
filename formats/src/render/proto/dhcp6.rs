//! DHCPv6 (tcpdump's `print-dhcp6.c`, UDP ports 546 and 547): the message type; with `-v`
//! the transaction ID (or a relay's addresses) and the options, each as tcpdump decodes it,
//! sub-options and relayed messages nested in parentheses.

use super::{trunc, Printer};
use crate::render::text::{tcpdump_char, Out};
use crate::wire::{get_be16, get_be32};

pub(super) const CLIENT_PORT: u16 = 546;
pub(super) const SERVER_PORT: u16 = 547;

const RELAY_FORW: u8 = 12;
const RELAY_REPLY: u8 = 13;
/// The fixed part of a relay message: type, hop count, link and peer addresses.
const RELAY_HEADER: usize = 34;

/// A read past the end of the capture: tcpdump stops the whole packet there (its
/// `longjmp`), after ` [|dhcp6]`.
struct Abort;

fn message_type(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "solicit",
        2 => "advertise",
        3 => "request",
        4 => "confirm",
        5 => "renew",
        6 => "rebind",
        7 => "reply",
        8 => "release",
        9 => "decline",
        10 => "reconfigure",
        11 => "inf-req",
        12 => "relay-fwd",
        13 => "relay-reply",
        14 => "leasequery",
        15 => "leasequery-reply",
        _ => return None,
    })
}

fn option_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "client-ID",
        2 => "server-ID",
        3 => "IA_NA",
        4 => "IA_TA",
        5 => "IA_ADDR",
        6 => "option-request",
        7 => "preference",
        8 => "elapsed-time",
        9 => "relay-message",
        11 => "authentication",
        12 => "server-unicast",
        13 => "status-code",
        14 => "rapid-commit",
        15 => "user-class",
        16 => "vendor-class",
        17 => "vendor-specific-info",
        18 => "interface-ID",
        19 => "reconfigure-message",
        20 => "reconfigure-accept",
        21 => "SIP-servers-domain",
        22 => "SIP-servers-address",
        23 => "DNS-server",
        24 => "DNS-search-list",
        25 => "IA_PD",
        26 => "IA_PD-prefix",
        27 => "NIS-server",
        28 => "NIS+-server",
        29 => "NIS-domain-name",
        30 => "NIS+-domain-name",
        31 => "SNTP-servers",
        32 => "lifetime",
        33 => "BCMCS-domain-name",
        34 => "BCMCS-server",
        36 => "Geoconf-Civic",
        37 => "Remote-ID",
        38 => "Subscriber-ID",
        39 => "Client-FQDN",
        40 => "PANA-agent",
        41 => "POSIX-timezone",
        42 => "POSIX-tz-database",
        43 => "Echo-request-option",
        44 => "Lease-query",
        45 => "LQ-client-data",
        46 => "Clt-time",
        47 => "LQ-relay-data",
        48 => "LQ-client-link",
        56 => "NTP-server",
        64 => "AFTR-Name",
        _ => return None,
    })
}

fn status_code(c: u16) -> Option<&'static str> {
    Some(match c {
        0 => "Success",
        1 => "UnspecFail",
        2 => "NoAddrsAvail",
        3 => "NoBinding",
        4 => "NotOnLink",
        5 => "UseMulticast",
        6 => "NoPrefixAvail",
        7 => "UnknownQueryType",
        8 => "MalformedQuery",
        9 => "NotConfigured",
        10 => "NotAllowed",
        _ => return None,
    })
}

impl Printer<'_> {
    /// `b`: the UDP payload as captured (at most `len` bytes); `len`: its length from the UDP
    /// header.
    pub(super) fn dhcp6(&mut self, b: &[u8], len: usize) {
        if self.dhcp6_message(b, len).is_err() {
            trunc(self.out, "dhcp6");
        }
    }

    fn dhcp6_message(&mut self, b: &[u8], len: usize) -> Result<(), Abort> {
        self.out.s("dhcp6");
        // The options end at the message's length or the capture's end, whichever is first.
        let ep = b.len().min(len);
        if b.len() < 4 {
            trunc(self.out, "dhcp6");
            return Ok(());
        }
        let t = b[0];
        self.out.c(b' ');
        self.dhcp6_type(t);
        if self.opts.verbose == 0 {
            return Ok(());
        }
        self.out.s(" (");
        if t != RELAY_FORW && t != RELAY_REPLY {
            self.out.s("xid=");
            self.out.hexn(get_be32(b, 0).unwrap_or(0) & 0x00ff_ffff);
            self.dhcp6_options(b, 4, ep)?;
        } else {
            let link = b.get(2..18).ok_or(Abort)?;
            self.out.s("linkaddr=");
            self.out.ipv6(link);
            let peer = b.get(18..34).ok_or(Abort)?;
            self.out.s(" peeraddr=");
            self.out.ipv6(peer);
            self.dhcp6_options(b, RELAY_HEADER, ep)?;
        }
        self.out.c(b')');
        Ok(())
    }

    fn dhcp6_type(&mut self, t: u8) {
        match message_type(t) {
            Some(n) => self.out.s(n),
            None => {
                self.out.s("msgtype-");
                self.out.n(t);
            }
        }
    }

    fn dhcp6_option_name(&mut self, t: u16) {
        match option_name(t) {
            Some(n) => self.out.s(n),
            None => {
                self.out.s("opt_");
                self.out.n(t);
            }
        }
    }

    /// The options in `b[cp..ep]`; a cut one ends the list with ` [|dhcp6]` (the caller's
    /// list goes on).
    fn dhcp6_options(&mut self, b: &[u8], mut cp: usize, ep: usize) -> Result<(), Abort> {
        while cp < ep {
            if ep < cp + 4 {
                trunc(self.out, "dhcp6");
                return Ok(());
            }
            let optlen = usize::from(get_be16(b, cp + 2).unwrap_or(0));
            if ep < cp + 4 + optlen {
                trunc(self.out, "dhcp6");
                return Ok(());
            }
            let ty = get_be16(b, cp).unwrap_or(0);
            self.out.s(" (");
            self.dhcp6_option_name(ty);
            let d = &b[cp + 4..cp + 4 + optlen];
            if !self.dhcp6_option(b, cp + 4, ty, d)? {
                trunc(self.out, "dhcp6");
                return Ok(());
            }
            cp += 4 + optlen;
        }
        Ok(())
    }

    /// One option's data `d` (at `b[at..]`) and its closing parenthesis; false when the list
    /// must end with the truncation mark.
    fn dhcp6_option(&mut self, b: &[u8], at: usize, ty: u16, d: &[u8]) -> Result<bool, Abort> {
        let n = d.len();
        let be16 = |i: usize| u16::from_be_bytes([d[i], d[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
        let unknown = |out: &mut Vec<u8>| out.s(" ?)");
        match ty {
            1 | 2 => {
                if n < 2 {
                    unknown(self.out);
                    return Ok(true);
                }
                match be16(0) {
                    1 if n >= 8 => {
                        self.out.s(" hwaddr/time type ");
                        self.out.n(be16(2));
                        self.out.s(" time ");
                        self.out.n(be32(4));
                        self.out.c(b' ');
                        self.hex_bytes(&d[8..]);
                        self.out.c(b')');
                    }
                    2 if n >= 10 => {
                        self.out.s(" vid ");
                        self.hex_bytes(&d[2..10]);
                        self.out.c(b')');
                    }
                    3 if n >= 4 => {
                        self.out.s(" hwaddr type ");
                        self.out.n(be16(2));
                        self.out.c(b' ');
                        self.hex_bytes(&d[4..]);
                        self.out.c(b')');
                    }
                    1..=3 => unknown(self.out),
                    t => {
                        self.out.s(" type ");
                        self.out.n(t);
                        self.out.c(b')');
                    }
                }
            }
            5 => {
                if n < 24 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.c(b' ');
                self.out.ipv6(&d[..16]);
                self.out.s(" pltime:");
                self.out.n(be32(16));
                self.out.s(" vltime:");
                self.out.n(be32(20));
                if n > 24 {
                    self.dhcp6_options(b, at + 24, at + n)?;
                }
                self.out.c(b')');
            }
            6 | 43 => {
                if n % 2 != 0 {
                    unknown(self.out);
                    return Ok(true);
                }
                for i in (0..n).step_by(2) {
                    self.out.c(b' ');
                    self.dhcp6_option_name(be16(i));
                }
                self.out.c(b')');
            }
            7 => {
                if n != 1 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.c(b' ');
                self.out.n(d[0]);
                self.out.c(b')');
            }
            8 => {
                if n != 2 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.c(b' ');
                self.out.n(be16(0));
                self.out.c(b')');
            }
            9 => {
                // The relayed message, printed whole as its own DHCPv6 message, bounded by
                // the option.
                self.out.s(" (");
                self.dhcp6_message(d, n)?;
                self.out.c(b')');
            }
            11 => {
                if n < 11 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.dhcp6_auth(d);
            }
            14 | 20 => self.out.c(b')'),
            18 | 38 => {
                self.out.c(b' ');
                self.hex_bytes(&d[..n.min(10)]);
                self.out.s("...)");
            }
            19 => {
                if n != 1 {
                    unknown(self.out);
                    return Ok(true);
                }
                match d[0] {
                    5 => self.out.s(" for renew)"),
                    11 => self.out.s(" for inf-req)"),
                    t => {
                        self.out.s(" for ???(");
                        self.out.hex(u32::from(t), 2);
                        self.out.s("))");
                    }
                }
            }
            22 | 23 | 27 | 28 | 31 | 34 | 40 | 48 => {
                if n % 16 != 0 {
                    unknown(self.out);
                    return Ok(true);
                }
                for a in d.chunks(16) {
                    self.out.c(b' ');
                    self.out.ipv6(a);
                }
                self.out.c(b')');
            }
            21 | 24 => {
                let end = at + n;
                let mut tp = at;
                while tp < end {
                    self.out.c(b' ');
                    match self.dns_name(&b[..end], tp) {
                        Some(next) => tp = next,
                        None => return Ok(false),
                    }
                }
                self.out.c(b')');
            }
            13 => {
                if n < 2 {
                    unknown(self.out);
                    return Ok(true);
                }
                let c = be16(0);
                self.out.c(b' ');
                match status_code(c) {
                    Some(s) => self.out.s(s),
                    None if c > 255 => self.out.s("INVALID code"),
                    None => {
                        self.out.s("code");
                        self.out.n(c);
                    }
                }
                self.out.c(b')');
            }
            3 | 25 => {
                if n < 12 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.s(" IAID:");
                self.out.n(be32(0));
                self.out.s(" T1:");
                self.out.n(be32(4));
                self.out.s(" T2:");
                self.out.n(be32(8));
                if n > 12 {
                    self.dhcp6_options(b, at + 12, at + n)?;
                }
                self.out.c(b')');
            }
            4 => {
                if n < 4 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.s(" IAID:");
                self.out.n(be32(0));
                if n > 4 {
                    self.dhcp6_options(b, at + 4, at + n)?;
                }
                self.out.c(b')');
            }
            26 => {
                if n < 25 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.c(b' ');
                self.out.ipv6(&d[9..25]);
                self.out.c(b'/');
                self.out.n(d[8]);
                self.out.s(" pltime:");
                self.out.n(be32(0));
                self.out.s(" vltime:");
                self.out.n(be32(4));
                if n > 25 {
                    self.dhcp6_options(b, at + 25, at + n)?;
                }
                self.out.c(b')');
            }
            32 | 46 => {
                if n != 4 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.c(b' ');
                self.out.n(be32(0));
                self.out.c(b')');
            }
            37 => {
                if n < 4 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.c(b' ');
                self.out.n(be32(0));
                self.out.c(b' ');
                self.hex_bytes(&d[4..n.min(14)]);
                self.out.s("...)");
            }
            44 => {
                if n < 17 {
                    unknown(self.out);
                    return Ok(true);
                }
                match d[0] {
                    1 => self.out.s(" by-address"),
                    2 => self.out.s(" by-clientID"),
                    t => {
                        self.out.s(" type_");
                        self.out.n(t);
                    }
                }
                self.out.c(b' ');
                self.out.ipv6(&d[1..17]);
                if n > 17 {
                    self.dhcp6_options(b, at + 17, at + n)?;
                }
                self.out.c(b')');
            }
            45 => {
                if n > 0 {
                    self.dhcp6_options(b, at, at + n)?;
                }
                self.out.c(b')');
            }
            47 => {
                if n < 16 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.c(b' ');
                self.out.ipv6(&d[..16]);
                self.out.c(b' ');
                self.hex_bytes(&d[16..n.min(26)]);
                self.out.s("...)");
            }
            56 => {
                if n < 4 {
                    unknown(self.out);
                    return Ok(true);
                }
                // tcpdump's loop stops 4 bytes before the option's end.
                let mut tp = 0;
                while tp < n - 4 {
                    let code = be16(tp);
                    let sublen = usize::from(be16(tp + 2));
                    tp += 4;
                    if tp + sublen > n {
                        return Ok(false);
                    }
                    self.out.s(" subopt:");
                    self.out.n(code);
                    match code {
                        1 | 2 if sublen == 16 => {
                            self.out.c(b' ');
                            self.out.ipv6(&d[tp..tp + 16]);
                        }
                        3 => {
                            self.out.c(b' ');
                            if self.dns_name(&b[..at + tp + sublen], at + tp).is_none() {
                                return Ok(false);
                            }
                        }
                        _ => self.out.s(" ?"),
                    }
                    tp += sublen;
                }
                self.out.c(b')');
            }
            64 => {
                if n < 3 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.dhcp6_aftr_name(d);
            }
            41 | 42 => {
                if n < 5 {
                    unknown(self.out);
                    return Ok(true);
                }
                self.out.c(b' ');
                for &c in d.iter().take_while(|&&c| c != 0) {
                    tcpdump_char(self.out, c);
                }
                self.out.c(b')');
            }
            _ => self.out.c(b')'),
        }
        Ok(true)
    }

    fn dhcp6_auth(&mut self, d: &[u8]) {
        let (proto, alg, rdm) = (d[0], d[1], d[2]);
        match proto {
            2 => self.out.s(" proto: delayed"),
            3 => self.out.s(" proto: reconfigure"),
            p => {
                self.out.s(" proto: ");
                self.out.n(p);
            }
        }
        if alg == 1 {
            self.out.s(", alg: HMAC-MD5");
        } else {
            self.out.s(", alg: ");
            self.out.n(alg);
        }
        if rdm == 0 {
            self.out.s(", RDM: mono");
        } else {
            self.out.s(", RDM: ");
            self.out.n(rdm);
        }
        self.out.s(", RD:");
        for i in 0..4 {
            self.out.c(b' ');
            self.out.hex(
                u32::from(u16::from_be_bytes([d[3 + 2 * i], d[4 + 2 * i]])),
                4,
            );
        }
        let info = &d[11..];
        let words = |out: &mut Vec<u8>, w: &[u8]| {
            for c in w.chunks(4) {
                out.c(b' ');
                out.hex(u32::from_be_bytes([c[0], c[1], c[2], c[3]]), 8);
            }
        };
        match proto {
            2 => {
                if info.is_empty() {
                } else if info.len() < 20 {
                    self.out.s(" ??");
                } else {
                    let realm = info.len() - 20;
                    if realm > 0 {
                        self.out.s(", realm: ");
                    }
                    self.hex_bytes(&info[..realm]);
                    let k = &info[realm..];
                    self.out.s(", key ID: ");
                    self.out
                        .hex(u32::from_be_bytes([k[0], k[1], k[2], k[3]]), 8);
                    self.out.s(", HMAC-MD5:");
                    words(self.out, &k[4..20]);
                }
            }
            3 => {
                if info.len() != 17 {
                    self.out.s(" ??");
                } else {
                    self.out.s(match info[0] {
                        1 => " reconfig-key",
                        2 => " type: HMAC-MD5",
                        _ => " type: ??",
                    });
                    self.out.s(" value:");
                    words(self.out, &info[1..17]);
                }
            }
            _ => self.out.s(" ??"),
        }
        self.out.c(b')');
    }

    /// The AFTR name (RFC 6334): DNS labels printed dot-separated, ` ?` at a label longer
    /// than what is left.
    fn dhcp6_aftr_name(&mut self, d: &[u8]) {
        self.out.c(b' ');
        let mut remain = d.len();
        let mut tp = 0;
        while remain > 0 && d.get(tp).is_some_and(|&l| l != 0) {
            let l = usize::from(d[tp]);
            tp += 1;
            if l < remain - 1 {
                for &c in d[tp..tp + l].iter().take_while(|&&c| c != 0) {
                    tcpdump_char(self.out, c);
                }
                tp += l;
                remain -= l + 1;
                if d.get(tp).is_some_and(|&c| c != 0) {
                    self.out.c(b'.');
                }
            } else {
                self.out.s(" ?");
                break;
            }
        }
        self.out.c(b')');
    }

    fn hex_bytes(&mut self, d: &[u8]) {
        for &x in d {
            self.out.hex(u32::from(x), 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v, udp};

    #[test]
    fn solicit_options_and_cut() {
        let mut m = vec![1, 0xab, 0xcd, 0xef];
        m.extend_from_slice(&[0, 1, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 0x0a]);
        m.extend_from_slice(&[0, 8, 0, 2, 0, 0]);
        m.extend_from_slice(&[0, 6, 0, 4, 0, 23, 0, 99]);
        let p = ipv4(17, &udp(546, 547, &m));
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.546 > 198.18.0.2.547: dhcp6 solicit"
        );
        assert!(line_v(&p, 1).ends_with(
            "dhcp6 solicit (xid=abcdef (client-ID hwaddr type 1 02000000000a) (elapsed-time 0) (option-request DNS-server opt_99))"
        ));
        // Cut inside the option-request: the list ends with the mark, the message is closed.
        assert!(line_v(&p[..58], 1).ends_with("(elapsed-time 0) [|dhcp6])"));
        assert!(line_v(&p[..30], 0).ends_with("dhcp6 [|dhcp6]"));
    }
}

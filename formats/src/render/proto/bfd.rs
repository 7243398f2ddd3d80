//! BFD (tcpdump's `print-bfd.c`, UDP destination ports 3784 control, 4784 multihop, 6784
//! LAG, 3785 echo): version, state and flags; with `-v` the diagnostic, timers,
//! discriminators and the authentication section.

use super::{flag_names, hex_dump, trunc, Printer};
use crate::render::text::{tcpdump_char, Out};

pub(super) const CONTROL_PORT: u16 = 3784;
pub(super) const ECHO_PORT: u16 = 3785;
pub(super) const MULTIHOP_PORT: u16 = 4784;
pub(super) const LAG_PORT: u16 = 6784;
const HEADER: usize = 24;
const FLAG_AUTH: u8 = 0x04;

const V0_FLAGS: [(u32, &str); 8] = [
    (0x80, "I Hear You"),
    (0x40, "Demand"),
    (0x20, "Poll"),
    (0x10, "Final"),
    (0x08, "Control Plane Independent"),
    (0x04, "Authentication Present"),
    (0x02, "Reserved"),
    (0x01, "Reserved"),
];

const V1_FLAGS: [(u32, &str); 6] = [
    (0x20, "Poll"),
    (0x10, "Final"),
    (0x08, "Control Plane Independent"),
    (0x04, "Authentication Present"),
    (0x02, "Demand"),
    (0x01, "Multipoint"),
];

fn diagnostic(d: u8) -> &'static str {
    match d {
        0 => "No Diagnostic",
        1 => "Control Detection Time Expired",
        2 => "Echo Function Failed",
        3 => "Neighbor Signaled Session Down",
        4 => "Forwarding Plane Reset",
        5 => "Path Down",
        6 => "Concatenated Path Down",
        7 => "Administratively Down",
        8 => "Reverse Concatenated Path Down",
        _ => "unknown",
    }
}

struct Cut;

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Printer<'_> {
    /// `b`: the UDP payload as captured (at most `len` bytes); `len`: its length from the UDP
    /// header; `dport`: the destination port.
    pub(super) fn bfd(&mut self, b: &[u8], len: usize, dport: u16) {
        if self.bfd_packet(b, len, dport).is_err() {
            trunc(self.out, "bfd");
        }
    }

    fn bfd_packet(&mut self, b: &[u8], len: usize, port: u16) -> Result<(), Cut> {
        if !matches!(port, CONTROL_PORT | MULTIHOP_PORT | LAG_PORT) {
            // The echo port: tcpdump does not decode echo packets.
            self.out.s("BFD, Echo, length: ");
            self.out.n(len);
            if self.opts.verbose > 0 {
                hex_dump(self.out, &b[..b.len().min(len)], "\n\t");
            }
            return Ok(());
        }
        if b.len() < HEADER {
            return Err(Cut);
        }
        let (vd, flags) = (b[0], b[1]);
        let version = vd >> 5;
        let diag = vd & 0x1f;
        let port_name = match port {
            CONTROL_PORT => "Control",
            MULTIHOP_PORT => "Multihop",
            _ => "Lag",
        };
        let state = |out: &mut Vec<u8>| {
            out.s(", State ");
            out.s(match flags >> 6 {
                0 => "AdminDown",
                1 => "Down",
                2 => "Init",
                _ => "Up",
            });
        };
        match version {
            0 => {
                if self.opts.verbose == 0 {
                    self.out.s("BFDv0, Control, Flags: [");
                    flag_names(self.out, u32::from(flags), ", ", &V0_FLAGS);
                    self.out.s("], length: ");
                    self.out.n(len);
                    return Ok(());
                }
                self.out.s("BFDv0, length: ");
                self.out.n(len);
                self.out.s("\n\tControl, Flags: [");
                flag_names(self.out, u32::from(flags), ", ", &V0_FLAGS);
            }
            1 => {
                let head = |out: &mut Vec<u8>| {
                    out.s(port_name);
                    state(out);
                    out.s(", Flags: [");
                    flag_names(out, u32::from(flags & 0x3f), ", ", &V1_FLAGS);
                };
                if self.opts.verbose == 0 {
                    self.out.s("BFDv1, ");
                    head(self.out);
                    self.out.s("], length: ");
                    self.out.n(len);
                    return Ok(());
                }
                self.out.s("BFDv1, length: ");
                self.out.n(len);
                self.out.s("\n\t");
                head(self.out);
            }
            v => {
                self.out.s("BFDv");
                self.out.n(v);
                self.out.s(", Control, length: ");
                self.out.n(len);
                if self.opts.verbose > 0 {
                    hex_dump(self.out, &b[..b.len().min(len)], "\n\t");
                }
                return Ok(());
            }
        }
        self.out.s("], Diagnostic: ");
        self.out.s(diagnostic(diag));
        self.out.s(" (0x");
        self.out.hex(u32::from(diag), 2);
        self.out.s(")\n\tDetection Timer Multiplier: ");
        let mult = b[2];
        let tx = be32(b, 12);
        self.out.n(mult);
        self.out.s(" (");
        self.out.n(u32::from(mult).wrapping_mul(tx) / 1000);
        self.out.s(" ms Detection time), BFD Length: ");
        self.out.n(b[3]);
        self.out.s("\n\tMy Discriminator: 0x");
        self.out.hex(be32(b, 4), 8);
        self.out.s(", Your Discriminator: 0x");
        self.out.hex(be32(b, 8), 8);
        for (label, at) in [
            ("\n\t  Desired min Tx Interval:    ", 12),
            ("\n\t  Required min Rx Interval:   ", 16),
            ("\n\t  Required min Echo Interval: ", 20),
        ] {
            self.out.s(label);
            let v = (be32(b, at) / 1000).to_string();
            for _ in v.len()..4 {
                self.out.c(b' ');
            }
            self.out.s(&v);
            self.out.s(" ms");
        }
        if flags & FLAG_AUTH != 0 {
            self.bfd_auth(b)?;
        }
        Ok(())
    }

    fn bfd_auth(&mut self, b: &[u8]) -> Result<(), Cut> {
        let a = b.get(HEADER..HEADER + 4).ok_or(Cut)?;
        let (ty, alen, key) = (a[0], a[1], a[2]);
        self.out.s("\n\tAuthentication: ");
        self.out.s(match ty {
            1 => "Simple Password",
            2 => "Keyed MD5",
            3 => "Meticulous Keyed MD5",
            4 => "Keyed SHA1",
            5 => "Meticulous Keyed SHA1",
            _ => "Unknown",
        });
        self.out.s(" (");
        self.out.n(ty);
        self.out.s("), length: ");
        self.out.n(alen);
        self.out.s("\n\t  Auth Key ID: ");
        self.out.n(key);
        let invalid = |out: &mut Vec<u8>| {
            out.s("[invalid length ");
            out.n(alen);
            out.c(b']');
        };
        let digest = |p: &mut Self, label: &str, hash: usize| -> Result<(), Cut> {
            let seq = b.get(HEADER + 4..HEADER + 8).ok_or(Cut)?;
            p.out.s(", Sequence Number: 0x");
            p.out.hex(be32(seq, 0), 8);
            let h = b.get(HEADER + 8..HEADER + 8 + hash).ok_or(Cut)?;
            p.out.s(label);
            for &x in h {
                p.out.hex(u32::from(x), 2);
            }
            Ok(())
        };
        match ty {
            1 => {
                if !(4..=19).contains(&alen) {
                    invalid(self.out);
                    return Ok(());
                }
                self.out.s(", Password: ");
                for i in 0..usize::from(alen) - 3 {
                    tcpdump_char(self.out, *b.get(HEADER + 3 + i).ok_or(Cut)?);
                }
            }
            2 | 3 => {
                if alen != 24 {
                    invalid(self.out);
                    return Ok(());
                }
                digest(self, "\n\t  Digest: ", 16)?;
            }
            4 | 5 => {
                if alen != 28 {
                    invalid(self.out);
                    return Ok(());
                }
                digest(self, "\n\t  Hash: ", 20)?;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v, udp};

    #[test]
    fn control_and_cut() {
        let mut m = vec![0x20, 0xc0, 3, 24, 0, 0, 0, 1, 0, 0, 0, 2];
        for us in [300_000u32, 300_000, 50_000] {
            m.extend_from_slice(&us.to_be_bytes());
        }
        let p = ipv4(17, &udp(50000, 3784, &m));
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.50000 > 198.18.0.2.3784: BFDv1, Control, State Up, Flags: [none], length: 24"
        );
        assert!(line_v(&p, 1).ends_with("\n\t  Required min Echo Interval:   50 ms"));
        assert_eq!(
            line_v(&p[..40], 0),
            "IP 198.18.0.1.50000 > 198.18.0.2.3784:  [|bfd]"
        );
    }
}

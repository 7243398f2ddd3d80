//! GRE (tcpdump's `print-gre.c`): version 0 (RFC 2784/2890: checksum, key, sequence number)
//! and version 1 (PPTP's enhanced GRE), then the inner packet by its EtherType.

use super::{flag_names, trunc, Printer};
use crate::render::text::Out;
use crate::wire::{ethertype, get_be16, get_be32};

const CHECKSUM: u16 = 0x8000;
const ROUTING: u16 = 0x4000;
const KEY: u16 = 0x2000;
const SEQUENCE: u16 = 0x1000;
const STRICT_ROUTE: u16 = 0x0800;
const ACK: u16 = 0x0080;
/// PPTP's payload (RFC 2637).
const PPP: u16 = 0x880b;

struct Cut;

impl Printer<'_> {
    /// `b`: the GRE packet as captured; `len`: its length from the IP header.
    pub(super) fn gre(&mut self, b: &[u8], len: usize) {
        if self.gre_packet(b, len).is_err() {
            trunc(self.out, "gre");
        }
    }

    fn gre_packet(&mut self, b: &[u8], len: usize) -> Result<(), Cut> {
        let flags = get_be16(b, 0).ok_or(Cut)?;
        let version = flags & 7;
        self.out.s("GREv");
        self.out.n(version);
        if version > 1 {
            self.out.s(" ERROR: unknown-version");
            return Ok(());
        }
        if self.opts.verbose > 0 {
            self.out.s(", Flags [");
            flag_names(
                self.out,
                flags.into(),
                ", ",
                &[
                    (CHECKSUM.into(), "checksum present"),
                    (ROUTING.into(), "routing present"),
                    (KEY.into(), "key present"),
                    (SEQUENCE.into(), "sequence# present"),
                    (STRICT_ROUTE.into(), "source route"),
                    (ACK.into(), "acknowledgment# present"),
                ],
            );
            self.out.c(b']');
        }
        let proto = get_be16(b, 2).ok_or(Cut)?;
        let mut at = 4;
        let u16_at = |at: usize| -> Result<u16, Cut> {
            if len < at + 2 {
                return Err(Cut);
            }
            get_be16(b, at).ok_or(Cut)
        };
        let u32_at = |at: usize| -> Result<u32, Cut> {
            if len < at + 4 {
                return Err(Cut);
            }
            get_be32(b, at).ok_or(Cut)
        };
        if version == 0 {
            if flags & (CHECKSUM | ROUTING) != 0 {
                let sum = u16_at(at)?;
                if self.opts.verbose > 0 {
                    self.out.s(", sum 0x");
                    self.out.hexn(u32::from(sum));
                }
                let off = u16_at(at + 2)?;
                self.out.s(", off 0x");
                self.out.hexn(u32::from(off));
                at += 4;
            }
            if flags & KEY != 0 {
                let key = u32_at(at)?;
                self.out.s(", key=0x");
                self.out.hexn(key);
                at += 4;
            }
            if flags & SEQUENCE != 0 {
                let seq = u32_at(at)?;
                self.out.s(", seq ");
                self.out.n(seq);
                at += 4;
            }
            if flags & ROUTING != 0 {
                // Source route entries (RFC 1701), long obsolete: not decoded.
                self.out.s(", (routing not decoded)");
                return Ok(());
            }
        } else {
            if flags & KEY != 0 {
                let k = u32_at(at)?;
                self.out.s(", call ");
                self.out.n(k & 0xffff);
                at += 4;
            }
            if flags & SEQUENCE != 0 {
                let seq = u32_at(at)?;
                self.out.s(", seq ");
                self.out.n(seq);
                at += 4;
            }
            if flags & ACK != 0 {
                let ack = u32_at(at)?;
                self.out.s(", ack ");
                self.out.n(ack);
                at += 4;
            }
            if flags & SEQUENCE == 0 {
                self.out.s(", no-payload");
            }
        }
        if self.opts.link_header {
            super::ether::inner_proto(self.out, proto);
        }
        self.out.s(", length ");
        self.out.n(len);
        if version == 1 && flags & SEQUENCE == 0 {
            return Ok(());
        }
        self.out
            .s(if self.opts.verbose > 0 { "\n\t" } else { ": " });
        let inner = b.get(at..).unwrap_or(&[]);
        let ilen = len.saturating_sub(at);
        match proto {
            ethertype::IPV4 if version == 0 => self.ipv4(inner),
            ethertype::IPV6 if version == 0 => self.ipv6(inner),
            ethertype::TEB if version == 0 => {
                self.ether(inner, ilen as u32);
            }
            PPP if version == 1 => self.out.s("PPP"),
            p => {
                self.out.s("gre-proto-0x");
                self.out.hexn(u32::from(p));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_v;

    fn outer(gre: &[u8]) -> Vec<u8> {
        let total = 20 + gre.len();
        let mut p = vec![
            0x45,
            0,
            0,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            47,
            0,
            0,
            198,
            18,
            0,
            1,
            198,
            18,
            0,
            2,
        ];
        p.extend_from_slice(gre);
        p
    }

    #[test]
    fn key_and_sequence_then_the_inner_packet() {
        let mut g = vec![0x30, 0, 8, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 7];
        g.extend_from_slice(&[
            0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 198, 19, 0, 1, 198, 19, 0, 2,
        ]);
        g.extend_from_slice(&[0x30, 0x39, 0x27, 0x0f, 0, 9, 0, 0, b'x']);
        assert_eq!(
            line_v(&outer(&g), 0),
            "IP 198.18.0.1 > 198.18.0.2: GREv0, key=0x1234, seq 7, length 41: \
             IP 198.19.0.1.12345 > 198.19.0.2.9999: UDP, length 1"
        );
        assert!(line_v(&outer(&g), 1)
            .contains("GREv0, Flags [key present, sequence# present], key=0x1234, seq 7, length 41\n\tIP (tos"));
        assert_eq!(
            line_v(&outer(&g[..10]), 0),
            "IP 198.18.0.1 > 198.18.0.2: GREv0, key=0x1234 [|gre]"
        );
    }
}

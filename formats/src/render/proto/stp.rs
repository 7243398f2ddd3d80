//! 802.3 frames with an 802.2 LLC header carrying spanning tree BPDUs (tcpdump's
//! `print-llc.c` for the LLC part, `print-stp.c` for STP, RSTP and MSTP): `STP 802.1d, Config,
//! Flags [...], bridge-id ...`; with `-v` the timers, the root and (MSTP) the CIST and every
//! MSTI; with `-e` the `802.3, length N` header and the LLC SAPs and control.
//!
//! Only LLC frames to the spanning tree SAP are decoded here (and frames whose LLC header
//! is cut, which tcpdump marks the same for any SAP); other SAPs keep the generic print.

use super::{hex_ascii_dump, trunc, Printer};
use crate::render::text::{tcpdump_char, Out};
use crate::render::DumpMode;

/// The 802.1D spanning tree SAP.
const SAP_STP: u8 = 0x42;
/// Unnumbered information, the control field of every BPDU.
const LLC_UI: u8 = 0x03;
const LLC_HEADER: usize = 3;

const PROTO_REGULAR: u8 = 0;
const PROTO_RAPID: u8 = 2;
const PROTO_MSTP: u8 = 3;
const PROTO_SPB: u8 = 4;
const TYPE_CONFIG: u8 = 0;
const TYPE_RSTP: u8 = 2;
const TYPE_TOPO_CHANGE: u8 = 0x80;
/// The fixed BPDU (RSTP's: with the version 1 length byte).
const BPDU_LEN: usize = 36;
const MSTP_MIN_LEN: usize = 102;
const MST_V3LEN: usize = 36;
const MST_CONFIG_NAME: usize = 39;
const MST_DIGEST: usize = 73;
const MST_CIST_INT_COST: usize = 89;
const MST_CIST_BRIDGE: usize = 93;
const MST_CIST_HOPS: usize = 101;
const MST_MSTI: usize = 102;
const MST_MSTI_LEN: usize = 16;
const MST_CONFIG_INFO_LEN: usize = 64;

const FLAGS: [(u32, &str); 6] = [
    (0x01, "Topology change"),
    (0x02, "Proposal"),
    (0x10, "Learn"),
    (0x20, "Forward"),
    (0x40, "Agreement"),
    (0x80, "Topology change ACK"),
];

fn port_role(flags: u8) -> &'static str {
    match (flags & 0x0c) >> 2 {
        0 => "Unknown",
        1 => "Alternate",
        2 => "Root",
        _ => "Designated",
    }
}

/// Whether tcpdump's LLC printer would hand this 802.3 payload to the STP printer, or mark
/// its LLC header cut (the frames this module prints).
pub(super) fn is_stp_llc(p: &[u8]) -> bool {
    p.len() < LLC_HEADER || (p[0] & !1 == SAP_STP && p[1] & !1 == SAP_STP && p[2] == LLC_UI)
}

struct Cut;

impl Printer<'_> {
    /// The LLC payload of an 802.3 frame; `length`: the frame's length field (tcpdump's
    /// length of the LLC part).
    pub(super) fn llc_stp(&mut self, p: &[u8], length: usize) {
        let p = &p[..p.len().min(length)];
        if p.len() < LLC_HEADER {
            trunc(self.out, "llc");
            if !p.is_empty() && matches!(self.opts.dump, DumpMode::None | DumpMode::Ascii) {
                hex_ascii_dump(self.out, p, "\n\t");
            }
            return;
        }
        if self.opts.link_header {
            let (dsap, ssap) = (p[0], p[1]);
            self.out.s("LLC, dsap STP (0x");
            self.out.hex(u32::from(dsap & !1), 2);
            self.out.s(if dsap & 1 != 0 {
                ") Group"
            } else {
                ") Individual"
            });
            self.out.s(", ssap STP (0x");
            self.out.hex(u32::from(ssap & !1), 2);
            self.out.s(if ssap & 1 != 0 {
                ") Response"
            } else {
                ") Command"
            });
            self.out.s(", ctrl 0x");
            self.out.hex(u32::from(p[2]), 2);
            self.out.s(": ");
        }
        if self
            .stp(&p[LLC_HEADER..], length.saturating_sub(LLC_HEADER))
            .is_err()
        {
            trunc(self.out, "stp");
        }
    }

    fn stp(&mut self, b: &[u8], length: usize) -> Result<(), Cut> {
        let byte = |i: usize| b.get(i).copied().ok_or(Cut);
        if length < 4 {
            self.out.s(" (invalid)");
            return Ok(());
        }
        if u16::from_be_bytes([byte(0)?, byte(1)?]) != 0 {
            self.out.s("unknown STP version, length ");
            self.out.n(length);
            return Ok(());
        }
        let version = byte(2)?;
        self.out.s("STP ");
        match version {
            PROTO_REGULAR => self.out.s("802.1d"),
            PROTO_RAPID => self.out.s("802.1w"),
            PROTO_MSTP => self.out.s("802.1s"),
            PROTO_SPB => self.out.s("802.1aq"),
            v => {
                self.out.s("Unknown STP protocol (0x");
                self.out.hex(u32::from(v), 2);
                self.out.c(b')');
                return Ok(());
            }
        }
        let ty = byte(3)?;
        self.out.s(", ");
        match ty {
            TYPE_CONFIG => self.out.s("Config"),
            TYPE_RSTP => self.out.s("Rapid STP"),
            TYPE_TOPO_CHANGE => self.out.s("Topology Change"),
            t => {
                self.out.s("Unknown BPDU Type (0x");
                self.out.hex(u32::from(t), 2);
                self.out.c(b')');
            }
        }
        let invalid = |out: &mut Vec<u8>| out.s(" (invalid)");
        match ty {
            TYPE_CONFIG => {
                if length < BPDU_LEN - 1 {
                    invalid(self.out);
                    return Ok(());
                }
                self.stp_config(b, length, version)
            }
            TYPE_RSTP if version == PROTO_RAPID => {
                if length < BPDU_LEN {
                    invalid(self.out);
                    return Ok(());
                }
                self.stp_config(b, length, version)
            }
            TYPE_RSTP if version == PROTO_MSTP || version == PROTO_SPB => {
                if length < MSTP_MIN_LEN || byte(35)? != 0 {
                    invalid(self.out);
                    return Ok(());
                }
                let v3 = usize::from(u16::from_be_bytes([byte(MST_V3LEN)?, byte(MST_V3LEN + 1)?]));
                if length < BPDU_LEN + v3 + 2 {
                    invalid(self.out);
                    return Ok(());
                }
                self.stp_mstp(b, length)
            }
            _ => Ok(()),
        }
    }

    /// `PPPP.aa:bb:cc:dd:ee:ff`, the bridge ID at `at`.
    fn bridge_id(&mut self, b: &[u8], at: usize) -> Result<(), Cut> {
        let id = b.get(at..at + 8).ok_or(Cut)?;
        self.out.hex(u32::from(id[0]), 2);
        self.out.hex(u32::from(id[1]), 2);
        self.out.c(b'.');
        self.out.lladdr(&id[2..]);
        Ok(())
    }

    /// tcpdump's timers (`%.2fs` of 1/256 s units), the four at offsets 27..35.
    fn stp_timers(&mut self, b: &[u8]) -> Result<(), Cut> {
        let t = b.get(27..35).ok_or(Cut)?;
        for (i, label) in [
            "\n\tmessage-age ",
            ", max-age ",
            ", hello-time ",
            ", forwarding-delay ",
        ]
        .into_iter()
        .enumerate()
        {
            let v = f64::from(u16::from_be_bytes([t[2 * i], t[2 * i + 1]])) / 256.0;
            self.out.s(label);
            self.out.s(&format!("{v:.2}s"));
        }
        Ok(())
    }

    fn stp_config(&mut self, b: &[u8], length: usize, version: u8) -> Result<(), Cut> {
        let flags = *b.get(4).ok_or(Cut)?;
        self.out.s(", Flags [");
        super::flag_names(self.out, u32::from(flags), ", ", &FLAGS);
        self.out.c(b']');
        b.get(17..27).ok_or(Cut)?;
        self.out.s(", bridge-id ");
        self.bridge_id(b, 17)?;
        self.out.c(b'.');
        self.out
            .hex(u32::from(u16::from_be_bytes([b[25], b[26]])), 4);
        self.out.s(", length ");
        self.out.n(length);
        if self.opts.verbose == 0 {
            return Ok(());
        }
        self.stp_timers(b)?;
        b.get(5..17).ok_or(Cut)?;
        self.out.s("\n\troot-id ");
        self.bridge_id(b, 5)?;
        self.out.s(", root-pathcost ");
        self.out.n(u32::from_be_bytes([b[13], b[14], b[15], b[16]]));
        if version == PROTO_RAPID {
            self.out.s(", port-role ");
            self.out.s(port_role(flags));
        }
        Ok(())
    }

    fn stp_mstp(&mut self, b: &[u8], length: usize) -> Result<(), Cut> {
        let be16 = |i: usize| -> Result<u16, Cut> {
            Ok(u16::from_be_bytes([
                *b.get(i).ok_or(Cut)?,
                *b.get(i + 1).ok_or(Cut)?,
            ]))
        };
        let be32 = |i: usize| -> Result<u32, Cut> {
            let w = b.get(i..i + 4).ok_or(Cut)?;
            Ok(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        };
        let flags = *b.get(4).ok_or(Cut)?;
        self.out.s(", CIST Flags [");
        super::flag_names(self.out, u32::from(flags), ", ", &FLAGS);
        self.out.s("], length ");
        self.out.n(length);
        if self.opts.verbose == 0 {
            return Ok(());
        }
        self.out.s("\n\tport-role ");
        self.out.s(port_role(flags));
        self.out.s(", ");
        b.get(5..17).ok_or(Cut)?;
        self.out.s("CIST root-id ");
        self.bridge_id(b, 5)?;
        self.out.s(", CIST ext-pathcost ");
        self.out.n(be32(13)?);
        b.get(17..25).ok_or(Cut)?;
        self.out.s("\n\tCIST regional-root-id ");
        self.bridge_id(b, 17)?;
        self.out.s(", ");
        let port = be16(25)?;
        self.out.s("CIST port-id ");
        self.out.hex(u32::from(port), 4);
        self.out.s(",");
        self.stp_timers(b)?;
        let v3 = be16(MST_V3LEN)?;
        self.out.s("\n\tv3len ");
        self.out.n(v3);
        self.out.s(", ");
        self.out.s("MCID Name ");
        // The configuration name: up to 32 bytes, NUL-padded.
        for i in 0..32 {
            let c = *b.get(MST_CONFIG_NAME + i).ok_or(Cut)?;
            if c == 0 {
                break;
            }
            tcpdump_char(self.out, c);
        }
        let rev = be16(MST_CONFIG_NAME + 32)?;
        let digest = [
            be32(MST_DIGEST)?,
            be32(MST_DIGEST + 4)?,
            be32(MST_DIGEST + 8)?,
            be32(MST_DIGEST + 12)?,
        ];
        self.out.s(", rev ");
        self.out.n(rev);
        self.out.s(",\n\t\tdigest ");
        for w in digest {
            self.out.hex(w, 8);
        }
        self.out.s(", ");
        let cost = be32(MST_CIST_INT_COST)?;
        self.out.s("CIST int-root-pathcost ");
        self.out.n(cost);
        self.out.s(",");
        b.get(MST_CIST_BRIDGE..MST_CIST_BRIDGE + 8).ok_or(Cut)?;
        self.out.s("\n\tCIST bridge-id ");
        self.bridge_id(b, MST_CIST_BRIDGE)?;
        self.out.s(", ");
        let hops = *b.get(MST_CIST_HOPS).ok_or(Cut)?;
        self.out.s("CIST remaining-hops ");
        self.out.n(hops);
        let v3 = usize::from(v3);
        if v3 > MST_CONFIG_INFO_LEN {
            let mut len = v3 - MST_CONFIG_INFO_LEN;
            let mut off = MST_MSTI;
            while len >= MST_MSTI_LEN {
                let msti = be16(off + 1)? & 0x0fff;
                let f = *b.get(off).ok_or(Cut)?;
                self.out.s("\n\tMSTI ");
                self.out.n(msti);
                self.out.s(", Flags [");
                super::flag_names(self.out, u32::from(f), ", ", &FLAGS);
                self.out.s("], port-role ");
                self.out.s(port_role(f));
                b.get(off + 1..off + 13).ok_or(Cut)?;
                self.out.s("\n\t\tMSTI regional-root-id ");
                self.bridge_id(b, off + 1)?;
                self.out.s(", pathcost ");
                self.out.n(be32(off + 9)?);
                let m = b.get(off + 13..off + 16).ok_or(Cut)?;
                self.out.s("\n\t\tMSTI bridge-prio ");
                self.out.n(m[0] >> 4);
                self.out.s(", port-prio ");
                self.out.n(m[1] >> 4);
                self.out.s(", hops ");
                self.out.n(m[2]);
                len -= MST_MSTI_LEN;
                off += MST_MSTI_LEN;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_on;

    #[test]
    fn config_bpdu_and_cuts() {
        let mut f = vec![
            1, 0x80, 0xc2, 0, 0, 0, 2, 0, 0, 0, 0, 0x0a, 0, 38, 0x42, 0x42, 3,
        ];
        f.extend_from_slice(&[0, 0, 0, 0, 0, 0x80, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 4]);
        f.extend_from_slice(&[0x80, 0, 2, 0, 0, 0, 0, 2, 0x80, 1]);
        f.extend_from_slice(&[1, 0, 20, 0, 2, 0, 15, 0]);
        assert_eq!(
            line_on(1, &f, 0),
            "STP 802.1d, Config, Flags [none], bridge-id 8000.02:00:00:00:00:02.8001, length 35"
        );
        assert!(line_on(1, &f, 1).ends_with(
            "\n\tmessage-age 1.00s, max-age 20.00s, hello-time 2.00s, forwarding-delay 15.00s\n\troot-id 8000.02:00:00:00:00:01, root-pathcost 4"
        ));
        assert_eq!(
            line_on(1, &f[..22], 0),
            "STP 802.1d, Config, Flags [none] [|stp]"
        );
        assert_eq!(
            line_on(1, &f[..15], 0),
            " [|llc]\n\t0x0000:  42                                       B"
        );
    }
}

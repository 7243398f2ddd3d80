//! IEEE slow protocols, EtherType 0x8809 (tcpdump's `print-slow.c`): LACP and Marker
//! (802.3ad) and Ethernet OAM (802.3ah). Without -v tcpdump prints the subtype, version and
//! length only; -v adds the TLVs, -vv a hex dump of each TLV.

use super::{flag_names, hex_dump, trunc, Printer};
use crate::render::text::Out;
use crate::wire::{get_be16, get_be32};

pub(super) const ETHERTYPE: u16 = 0x8809;

const LACP: u8 = 1;
const MARKER: u8 = 2;
const OAM: u8 = 3;

/// Why a TLV loop stopped early: the capture ended (`[|slow]`), or the rest of the PDU is
/// shorter than a TLV says.
enum Stop {
    Cut,
    TooShort,
}

/// tcpdump's print_unknown_data: the bytes as `-x` prints them, silently cut at the end of
/// the capture.
fn unknown_data(out: &mut Vec<u8>, captured: &[u8], ident: &str, len: usize) {
    hex_dump(out, &captured[..len.min(captured.len())], ident);
}

impl Printer<'_> {
    pub(super) fn slow(&mut self, p: &[u8], len: usize) {
        let too_short = |out: &mut Vec<u8>, verbose: u8| {
            out.s(if verbose == 0 {
                " (packet is too short)"
            } else {
                "\n\t\t packet is too short"
            });
        };
        if len < 1 {
            too_short(self.out, self.opts.verbose);
            return;
        }
        let Some(&subtype) = p.first() else {
            trunc(self.out, "slow");
            return;
        };
        let name = match subtype {
            LACP => "LACP",
            MARKER => "MARKER",
            OAM => "OAM",
            _ => "",
        };
        if subtype == LACP || subtype == MARKER {
            if len < 2 {
                too_short(self.out, self.opts.verbose);
                return;
            }
            let Some(&version) = p.get(1) else {
                trunc(self.out, "slow");
                return;
            };
            if version != 1 {
                self.out.s(name);
                self.out.s(" version ");
                self.out.n(version);
                self.out.s(" packet not supported");
                return;
            }
            self.out.s(name);
            self.out.s("v1, length ");
            self.out.n(len);
        } else {
            if name.is_empty() {
                self.out.s("unknown (");
                self.out.n(subtype);
                self.out.c(b')');
            } else {
                self.out.s(name);
            }
            self.out.s(", length ");
            self.out.n(len);
            if name.is_empty() {
                unknown_data(self.out, p, "\n\t", len);
                return;
            }
        }
        if self.opts.verbose == 0 {
            return;
        }
        let r = if subtype == OAM {
            self.slow_oam(&p[1..], len - 1)
        } else {
            self.slow_lacp_marker(&p[2.min(p.len())..], len - 2, subtype)
        };
        match r {
            Ok(()) => {}
            Err(Stop::Cut) => trunc(self.out, "slow"),
            Err(Stop::TooShort) => self.out.s("\n\t\t packet is too short"),
        }
    }

    fn slow_lacp_marker(&mut self, p: &[u8], mut tlen: usize, subtype: u8) -> Result<(), Stop> {
        let mut pos = 0;
        while tlen > 0 {
            if tlen < 2 {
                return Err(Stop::TooShort);
            }
            let (Some(&ty), Some(&tl)) = (p.get(pos), p.get(pos + 1)) else {
                return Err(Stop::Cut);
            };
            let tl = usize::from(tl);
            self.out.s("\n\t");
            self.out.s(match (subtype, ty) {
                (_, 0) => "Terminator",
                (LACP, 1) => "Actor Information",
                (LACP, 2) => "Partner Information",
                (LACP, 3) => "Collector Information",
                (MARKER, 1) => "Marker Information",
                _ => "Unknown",
            });
            self.out.s(" TLV (0x");
            self.out.hex(u32::from(ty), 2);
            self.out.s("), length ");
            self.out.n(tl);
            if ty == 0 {
                return Ok(());
            }
            if tl < 2 {
                self.out.s("\n\t    ERROR: illegal length - should be >= 2");
                return Ok(());
            }
            if tlen < tl {
                return Err(Stop::TooShort);
            }
            let Some(tlv) = p.get(pos..pos + tl) else {
                return Err(Stop::Cut);
            };
            let body = &tlv[2..];
            match (subtype, ty) {
                (LACP, 1 | 2) => {
                    if body.len() != 18 {
                        self.out.s("\n\t    ERROR: illegal length - should be 20");
                    } else {
                        self.out.s("\n\t  System ");
                        self.out.lladdr(&body[2..8]);
                        self.out.s(", System Priority ");
                        self.out.n(get_be16(body, 0).unwrap_or(0));
                        self.out.s(", Key ");
                        self.out.n(get_be16(body, 8).unwrap_or(0));
                        self.out.s(", Port ");
                        self.out.n(get_be16(body, 12).unwrap_or(0));
                        self.out.s(", Port Priority ");
                        self.out.n(get_be16(body, 10).unwrap_or(0));
                        self.out.s("\n\t  State Flags [");
                        flag_names(
                            self.out,
                            u32::from(body[14]),
                            ", ",
                            &[
                                (0x01, "Activity"),
                                (0x02, "Timeout"),
                                (0x04, "Aggregation"),
                                (0x08, "Synchronization"),
                                (0x10, "Collecting"),
                                (0x20, "Distributing"),
                                (0x40, "Default"),
                                (0x80, "Expired"),
                            ],
                        );
                        self.out.c(b']');
                    }
                }
                (LACP, 3) => {
                    if body.len() != 14 {
                        self.out.s("\n\t    ERROR: illegal length - should be 16");
                    } else {
                        self.out.s("\n\t  Max Delay ");
                        self.out.n(get_be16(body, 0).unwrap_or(0));
                    }
                }
                (MARKER, 1) => {
                    if body.len() != 14 {
                        self.out.s("\n\t    ERROR: illegal length - should be 16");
                    } else {
                        self.out.s("\n\t  Request System ");
                        self.out.lladdr(&body[2..8]);
                        self.out.s(", Request Port ");
                        self.out.n(get_be16(body, 0).unwrap_or(0));
                        self.out.s(", Request Transaction ID 0x");
                        self.out.hex(get_be32(body, 8).unwrap_or(0), 8);
                    }
                }
                _ => {
                    if self.opts.verbose <= 1 {
                        hex_dump(self.out, body, "\n\t  ");
                    }
                }
            }
            if self.opts.verbose > 1 {
                hex_dump(self.out, body, "\n\t  ");
            }
            pos += tl;
            tlen -= tl;
        }
        Ok(())
    }

    fn slow_oam(&mut self, p: &[u8], mut tlen: usize) -> Result<(), Stop> {
        if tlen < 3 {
            return Err(Stop::TooShort);
        }
        let (Some(flags), Some(&code)) = (get_be16(p, 0), p.get(2)) else {
            return Err(Stop::Cut);
        };
        let mut pos = 3;
        tlen -= 3;
        self.out.s("\n\tCode ");
        match code {
            0 => self.out.s("Information"),
            1 => self.out.s("Event Notification"),
            2 => self.out.s("Variable Request"),
            3 => self.out.s("Variable Response"),
            4 => self.out.s("Loopback Control"),
            0xfe => self.out.s("Vendor Private"),
            c => {
                self.out.s("Unknown (");
                self.out.n(c);
                self.out.c(b')');
            }
        }
        self.out.s(" OAM PDU, Flags [");
        flag_names(
            self.out,
            u32::from(flags),
            ", ",
            &[
                (0x0001, "Link Fault"),
                (0x0002, "Dying Gasp"),
                (0x0004, "Critical Event"),
                (0x0008, "Local Evaluating"),
                (0x0010, "Local Stable"),
                (0x0020, "Remote Evaluating"),
                (0x0040, "Remote Stable"),
            ],
        );
        self.out.c(b']');
        match code {
            0 | 1 => {
                if code == 1 {
                    if tlen < 2 {
                        return Err(Stop::TooShort);
                    }
                    let seq = get_be16(p, pos).ok_or(Stop::Cut)?;
                    self.out.s("\n\t  Sequence Number ");
                    self.out.n(seq);
                    tlen -= 2;
                    pos += 2;
                }
                while tlen > 0 {
                    if tlen < 2 {
                        return Err(Stop::TooShort);
                    }
                    let (Some(&ty), Some(&length)) = (p.get(pos), p.get(pos + 1)) else {
                        return Err(Stop::Cut);
                    };
                    let length = usize::from(length);
                    self.out.s("\n\t  ");
                    if code == 0 {
                        self.out.s(match ty {
                            0 => "End of TLV marker",
                            1 => "Local",
                            2 => "Remote",
                            0xfe => "Organization specific",
                            _ => "Reserved",
                        });
                        self.out.s(" Information Type (");
                    } else {
                        self.out.s(match ty {
                            0 => "End of TLV marker",
                            1 => "Errored Symbol Period Event",
                            2 => "Errored Frame Event",
                            3 => "Errored Frame Period Event",
                            4 => "Errored Frame Seconds Summary Event",
                            0xfe => "Organization specific",
                            _ => "Reserved",
                        });
                        self.out.s(" Link Event Type (");
                    }
                    self.out.n(ty);
                    self.out.s("), length ");
                    self.out.n(length);
                    if ty == 0 {
                        return Ok(());
                    }
                    if length < 2 {
                        self.out.s("\n\t    ERROR: illegal length - should be >= 2");
                        return Ok(());
                    }
                    if tlen < length {
                        return Err(Stop::TooShort);
                    }
                    let tlv = p.get(pos..pos + length).ok_or(Stop::Cut)?;
                    let hexdump = if code == 0 {
                        self.oam_info(tlv, ty)
                    } else {
                        self.oam_event(tlv, ty)
                    };
                    if self.opts.verbose > 1 || hexdump {
                        hex_dump(self.out, tlv, "\n\t  ");
                    }
                    tlen -= length;
                    pos += length;
                }
            }
            4 => {
                if tlen < 1 {
                    return Err(Stop::TooShort);
                }
                let &command = p.get(pos).ok_or(Stop::Cut)?;
                self.out.s("\n\t  Command ");
                self.out.s(match command {
                    1 => "Enable OAM Remote Loopback",
                    2 => "Disable OAM Remote Loopback",
                    _ => "Unknown",
                });
                self.out.s(" (");
                self.out.n(command);
                self.out.c(b')');
            }
            _ => {
                if self.opts.verbose <= 1 {
                    unknown_data(self.out, &p[pos.min(p.len())..], "\n\t  ", tlen);
                }
            }
        }
        Ok(())
    }

    /// An OAM Information TLV (`t` whole, header included); `true` when tcpdump follows it
    /// with a hex dump.
    fn oam_info(&mut self, t: &[u8], ty: u8) -> bool {
        if ty != 1 && ty != 2 {
            return true;
        }
        if t[1] != 16 {
            self.out.s("\n\t    ERROR: illegal length - should be 16");
            return true;
        }
        let Some(t) = t.get(..16) else {
            return true;
        };
        self.out.s("\n\t    OAM-Version ");
        self.out.n(t[2]);
        self.out.s(", Revision ");
        self.out.n(get_be16(t, 3).unwrap_or(0));
        let state = t[5];
        self.out.s("\n\t    State-Parser-Action ");
        self.out
            .s(["forwarding", "looping back", "discarding", "reserved"][usize::from(state & 3)]);
        self.out.s(", State-MUX-Action ");
        self.out.s(if state & 4 == 0 {
            "forwarding"
        } else {
            "discarding"
        });
        self.out.s("\n\t    OAM-Config Flags [");
        flag_names(
            self.out,
            u32::from(t[6]),
            ", ",
            &[
                (0x01, "Active"),
                (0x02, "Unidirectional"),
                (0x04, "Remote-Loopback"),
                (0x08, "Link-Events"),
                (0x10, "Variable-Retrieval"),
            ],
        );
        self.out.s("], OAM-PDU-Config max-PDU size ");
        self.out.n(get_be16(t, 7).unwrap_or(0) & 0x7ff);
        let oui = u32::from_be_bytes([0, t[9], t[10], t[11]]);
        self.out.s("\n\t    OUI ");
        self.out.s(super::lldp::oui_name(oui));
        self.out.s(" (0x");
        self.out.hex(oui, 6);
        self.out.s("), Vendor-Private 0x");
        self.out.hex(get_be32(t, 12).unwrap_or(0), 8);
        false
    }

    /// An OAM link event TLV; `true` when tcpdump follows it with a hex dump.
    fn oam_event(&mut self, t: &[u8], ty: u8) -> bool {
        if !(1..=4).contains(&ty) {
            return true;
        }
        if t[1] != 40 {
            self.out.s("\n\t    ERROR: illegal length - should be 40");
            return true;
        }
        let Some(t) = t.get(..40) else {
            return true;
        };
        let u64_at = |i: usize| u64::from_be_bytes(t[i..i + 8].try_into().unwrap_or([0; 8]));
        self.out.s("\n\t    Timestamp ");
        self.out.n(u32::from(get_be16(t, 2).unwrap_or(0)) * 100);
        self.out.s(" ms, Errored Window ");
        self.out.n(u64_at(4));
        self.out.s("\n\t    Errored Threshold ");
        self.out.n(u64_at(12));
        self.out.s("\n\t    Errors ");
        self.out.n(u64_at(20));
        self.out.s("\n\t    Error Running Total ");
        self.out.n(u64_at(28));
        self.out.s("\n\t    Event Running Total ");
        self.out.n(get_be32(t, 36).unwrap_or(0));
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_on;

    #[test]
    fn lacp_summary_and_cut() {
        let mut f = vec![
            0x01, 0x80, 0xc2, 0, 0, 0x02, 2, 0, 0, 0, 0, 1, 0x88, 0x09, 1, 1,
        ];
        f.extend_from_slice(&[
            1, 20, 0x80, 0, 2, 0, 0, 0, 0, 1, 0, 7, 0x80, 0, 0, 3, 0x3d, 0, 0, 0,
        ]);
        f.extend_from_slice(&[0, 0]);
        assert_eq!(line_on(1, &f, 0), "LACPv1, length 24");
        assert!(line_on(1, &f, 1).contains(
            "Actor Information TLV (0x01), length 20\n\t  System 02:00:00:00:00:01, System Priority 32768, Key 7, Port 3, Port Priority 32768\n\t  State Flags [Activity, Aggregation, Synchronization, Collecting, Distributing]"
        ));
        // (line_on keeps no wire length: a shorter frame is a shorter PDU.)
        assert!(line_on(1, &f[..30], 1)
            .ends_with("Actor Information TLV (0x01), length 20\n\t\t packet is too short"));
    }
}

//! 802.2 LLC frames to other SAPs than spanning tree (tcpdump's `print-llc.c`): SNAP with
//! OUI 0 and the EtherTypes decoded here (IPv4, IPv6, ARP; those tcpdump has no name for as
//! hex), SNAP with OUIs tcpdump has no protocols for, RFC 948 IP (SAP 0x06), and the
//! generic print of unnumbered, information and supervisory frames (NetBEUI, SNA, unknown
//! SAPs, SNAP and STP frames that are not UI): `SRC > DST NAME Unnumbered, ui, Flags
//! [Command], length N` and the hex. IPX, OSI (IS-IS, ES-IS, CLNP) and Cisco's SNAP
//! protocols are not decoded here: those frames keep the generic Ethernet print.
//! (tcpdump 4.99.3 as Debian builds it has no SMB printer: NetBEUI is generic too.)

use super::{hex_ascii_dump, trunc, Printer};
use crate::render::text::Out;
use crate::render::DumpMode;
use crate::wire::ethertype;

const SAP_SNAP: u8 = 0xaa;
const SAP_IP: u8 = 0x06;
const LLC_UI: u8 = 0x03;

/// tcpdump's `llc_values` (the SAP's group/response bit cleared: the odd ones, Global 0xff
/// and 802.1B G 0x03, never show); measured with every even SAP.
fn sap_name(sap: u8) -> Option<&'static str> {
    Some(match sap {
        0x00 => "Null",
        0x02 => "802.1B I",
        0x04 => "SNA",
        0x06 => "IP",
        0x0e => "ProWay NM",
        0x42 => "STP",
        0x4e => "RS511",
        0x7e => "ISO8208",
        0x8e => "ProWay",
        0xaa => "SNAP",
        0xe0 => "IPX",
        0xf0 => "NetBeui",
        0xfe => "OSI",
        _ => return None,
    })
}

/// Whether this module prints the LLC part `p` of an 802.3 frame (cut to its length field).
pub(super) fn handled(p: &[u8]) -> bool {
    if p.len() < 3 {
        return false;
    }
    if p[2] & 3 != 3 {
        // I and S frames (a 2-byte control field): the generic print, but for IPX's
        // Ethernet_802.3 frames (no LLC header, 0xffff first).
        return !(p[0] == 0xff && p[1] == 0xff);
    }
    let (dsap, ssap, control) = (p[0] & !1, p[1] & !1, p[2]);
    if dsap == SAP_SNAP && ssap == SAP_SNAP && control == LLC_UI {
        if p.len() < 8 {
            return true;
        }
        let oui = u32::from_be_bytes([0, p[3], p[4], p[5]]);
        let et = u16::from_be_bytes([p[6], p[7]]);
        return match oui {
            0 => {
                matches!(et, ethertype::IPV4 | ethertype::IPV6 | ethertype::ARP)
                    || super::ether::ethertype_name(et) == "Unknown"
            }
            // The OUIs tcpdump has protocols for (Cisco's, RFC 2684 bridging, AppleTalk).
            0x0000f8 | 0x00000c | 0x0080c2 | 0x080007 => false,
            _ => true,
        };
    }
    if dsap == ssap && dsap == SAP_IP && control == LLC_UI {
        return true;
    }
    // Raw IPX, STP, IPX and OSI UI frames have their own printers (not these).
    let own = dsap == ssap && control == LLC_UI && matches!(dsap, 0x42 | 0xe0 | 0xfe);
    !(own || (p[0] == 0xff && p[1] == 0xff))
}

impl Printer<'_> {
    /// An 802.3 frame `f` (from its destination address on) whose LLC part `handled`
    /// accepted; `length`: its length field.
    pub(super) fn llc_other(&mut self, f: &[u8], length: usize) {
        let p = &f[14..f.len().min(14 + length)];
        let e = self.opts.link_header;
        let (dsap_f, ssap_f, control) = (p[0], p[1], p[2]);
        let (dsap, ssap) = (dsap_f & !1, ssap_f & !1);
        if control & 3 != 3 {
            self.llc_is_frame(f, p, length);
            return;
        }
        if e {
            self.out.s("LLC, dsap ");
            self.out.s(sap_name(dsap).unwrap_or("Unknown"));
            self.out.s(" (0x");
            self.out.hex(u32::from(dsap), 2);
            self.out.s(if dsap_f & 1 != 0 {
                ") Group"
            } else {
                ") Individual"
            });
            self.out.s(", ssap ");
            self.out.s(sap_name(ssap).unwrap_or("Unknown"));
            self.out.s(" (0x");
            self.out.hex(u32::from(ssap), 2);
            self.out.s(if ssap_f & 1 != 0 {
                ") Response"
            } else {
                ") Command"
            });
            self.out.s(", ctrl 0x");
            self.out.hex(u32::from(control), 2);
            self.out.s(": ");
        }
        let body = &p[3..];
        let blen = length - 3;
        if dsap == SAP_SNAP && ssap == SAP_SNAP && control == LLC_UI {
            if body.len() < 5 || blen < 5 {
                trunc(self.out, "snap");
                return;
            }
            let oui = u32::from_be_bytes([0, body[0], body[1], body[2]]);
            let et = u16::from_be_bytes([body[3], body[4]]);
            let (inner, ilen) = (&body[5..], blen - 5);
            if e {
                self.out.s("oui ");
                self.out.s(super::lldp::oui_name(oui));
                self.out.s(" (0x");
                self.out.hex(oui, 6);
                self.out.s("), ");
                if oui == 0 {
                    self.snap_ethertype(et);
                } else {
                    self.out.s("pid Unknown (0x");
                    self.out.hex(u32::from(et), 4);
                    self.out.c(b')');
                }
                self.out.s(", length ");
                self.out.n(ilen);
                self.out.s(": ");
            }
            match (oui, et) {
                (0, ethertype::IPV4) => self.ipv4(inner),
                (0, ethertype::IPV6) => self.ipv6(inner),
                (0, ethertype::ARP) => self.arp(inner, ilen),
                _ => {
                    // No printer: the addresses and the SNAP header, then the frame's
                    // LLC part as hex.
                    if !e {
                        self.out.lladdr(&f[6..12]);
                        self.out.s(" > ");
                        self.out.lladdr(&f[0..6]);
                        if oui == 0 {
                            self.out.s(" SNAP, ");
                            self.snap_ethertype(et);
                        } else {
                            self.out.s(" SNAP, oui ");
                            self.out.s(super::lldp::oui_name(oui));
                            self.out.s(" (0x");
                            self.out.hex(oui, 6);
                            self.out.s("), pid Unknown (0x");
                            self.out.hex(u32::from(et), 4);
                            self.out.c(b')');
                        }
                        self.out.s(", length ");
                        self.out.n(ilen);
                        self.out.s(": ");
                    }
                    self.default_print(p);
                }
            }
            return;
        }
        if dsap == SAP_IP && ssap == SAP_IP && control == LLC_UI {
            self.ipv4(body);
            return;
        }
        if !e {
            self.out.lladdr(&f[6..12]);
            if ssap != dsap {
                self.out.c(b' ');
                self.sap_or(ssap, "Unknown SSAP 0x");
            }
            self.out.s(" > ");
            self.out.lladdr(&f[0..6]);
            self.out.c(b' ');
            self.sap_or(dsap, "Unknown DSAP 0x");
            self.out.c(b' ');
        }
        let cmd = control & 0xef;
        self.out.s("Unnumbered, ");
        match cmd {
            0x03 => self.out.s("ui"),
            0xe3 => self.out.s("test"),
            0xaf => self.out.s("xid"),
            0x63 => self.out.s("ua"),
            0x43 => self.out.s("disc"),
            0x0f => self.out.s("dm"),
            0x6f => self.out.s("sabme"),
            0x87 => self.out.s("frmr"),
            c => self.out.hex(u32::from(c), 2),
        }
        self.out.s(", Flags [");
        self.out.s(match (ssap_f & 1, control & 0x10 != 0) {
            (0, false) => "Command",
            (_, false) => "Response",
            (0, true) => "Poll",
            (_, true) => "Final",
        });
        self.out.s("], length ");
        self.out.n(length);
        if cmd == 0xaf {
            // An XID without payload (SNA's short form) ends here.
            if blen == 0 {
                return;
            }
            if body.first() == Some(&0x81) {
                if body.len() < 3 || blen < 3 {
                    trunc(self.out, "llc");
                    // tcpdump's own hex of what follows, -q or not.
                    if matches!(self.opts.dump, DumpMode::None | DumpMode::Ascii) {
                        hex_ascii_dump(self.out, body, "\n\t");
                    }
                } else {
                    self.out.s(": ");
                    self.out.hex(u32::from(body[1]), 2);
                    self.out.c(b' ');
                    self.out.hex(u32::from(body[2]), 2);
                }
                return;
            }
            if body.is_empty() {
                trunc(self.out, "llc");
                return;
            }
        }
        self.default_print(p);
    }

    /// An I or S frame (little-endian 2-byte control field): no SAP has a printer for them
    /// here, tcpdump prints the generic line (an I frame's payload as hex).
    fn llc_is_frame(&mut self, f: &[u8], p: &[u8], length: usize) {
        if p.len() < 4 || length < 4 {
            trunc(self.out, "llc");
            if matches!(self.opts.dump, DumpMode::None | DumpMode::Ascii) {
                hex_ascii_dump(self.out, p, "\n\t");
            }
            return;
        }
        let (dsap_f, ssap_f) = (p[0], p[1]);
        let (dsap, ssap) = (dsap_f & !1, ssap_f & !1);
        let control = u16::from_le_bytes([p[2], p[3]]);
        if self.opts.link_header {
            self.out.s("LLC, dsap ");
            self.out.s(sap_name(dsap).unwrap_or("Unknown"));
            self.out.s(" (0x");
            self.out.hex(u32::from(dsap), 2);
            self.out.s(if dsap_f & 1 != 0 {
                ") Group"
            } else {
                ") Individual"
            });
            self.out.s(", ssap ");
            self.out.s(sap_name(ssap).unwrap_or("Unknown"));
            self.out.s(" (0x");
            self.out.hex(u32::from(ssap), 2);
            self.out.s(if ssap_f & 1 != 0 {
                ") Response"
            } else {
                ") Command"
            });
            self.out.s(", ctrl 0x");
            self.out.hex(u32::from(control), 4);
            self.out.s(": ");
        } else {
            self.out.lladdr(&f[6..12]);
            if ssap != dsap {
                self.out.c(b' ');
                self.sap_or(ssap, "Unknown SSAP 0x");
            }
            self.out.s(" > ");
            self.out.lladdr(&f[0..6]);
            self.out.c(b' ');
            self.sap_or(dsap, "Unknown DSAP 0x");
            self.out.c(b' ');
        }
        let flags = match (ssap_f & 1, control & 0x100 != 0) {
            (0, false) => "Command",
            (_, false) => "Response",
            (0, true) => "Poll",
            (_, true) => "Final",
        };
        let nr = (control >> 9) & 0x7f;
        if control & 1 != 0 {
            self.out.s("Supervisory, ");
            self.out.s(match (control >> 2) & 3 {
                0 => "Receiver Ready",
                1 => "Receiver not Ready",
                2 => "Reject",
                _ => "?",
            });
            self.out.s(", rcv seq ");
            self.out.n(nr);
        } else {
            self.out.s("Information, send seq ");
            self.out.n((control >> 1) & 0x7f);
            self.out.s(", rcv seq ");
            self.out.n(nr);
        }
        self.out.s(", Flags [");
        self.out.s(flags);
        self.out.s("], length ");
        self.out.n(length);
        if control & 1 == 0 {
            self.default_print(p);
        }
    }

    /// `ethertype NAME (0xNNNN)`, `-q` or not.
    fn snap_ethertype(&mut self, et: u16) {
        self.out.s("ethertype ");
        self.out.s(super::ether::ethertype_name(et));
        self.out.s(" (0x");
        self.out.hex(u32::from(et), 4);
        self.out.c(b')');
    }

    fn sap_or(&mut self, sap: u8, unknown: &str) {
        match sap_name(sap) {
            Some(n) => self.out.s(n),
            None => {
                self.out.s(unknown);
                self.out.hex(u32::from(sap), 2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_on;

    fn frame(llc: &[u8]) -> Vec<u8> {
        let mut f = vec![1, 0x80, 0xc2, 0, 0, 0, 2, 0, 0, 0, 0, 0x0a];
        f.extend_from_slice(&(llc.len() as u16).to_be_bytes());
        f.extend_from_slice(llc);
        f
    }

    #[test]
    fn unnumbered_frames_to_other_saps() {
        let f = frame(&[0x12, 0x34, 3, 0, 0]);
        assert_eq!(
            line_on(1, &f, 0),
            "02:00:00:00:00:0a Unknown SSAP 0x34 > 01:80:c2:00:00:00 Unknown DSAP 0x12 \
             Unnumbered, ui, Flags [Command], length 5\n\t0x0000:  1234 0300 00                             .4..."
        );
        // A NetBEUI response with the final bit: `ua`, no payload.
        let f = frame(&[0xf0, 0xf1, 0x73]);
        assert_eq!(
            line_on(1, &f, 0),
            "02:00:00:00:00:0a > 01:80:c2:00:00:00 NetBeui Unnumbered, ua, Flags [Final], length 3\
             \n\t0x0000:  f0f1 73                                  ..s"
        );
        // An XID with the IEEE format byte prints its class and window, no hex.
        let f = frame(&[0xaa, 0xaa, 0xbf, 0x81, 1, 0]);
        assert_eq!(
            line_on(1, &f, 0),
            "02:00:00:00:00:0a > 01:80:c2:00:00:00 SNAP Unnumbered, xid, Flags [Poll], length 6: 01 00"
        );
    }

    #[test]
    fn information_and_supervisory_frames() {
        // N(S) 2, N(R) 5 with the poll bit; the payload follows as hex.
        let f = frame(&[0xf0, 0xf0, 0x04, 0x0b, 1, 2]);
        assert_eq!(
            line_on(1, &f, 0),
            "02:00:00:00:00:0a > 01:80:c2:00:00:00 NetBeui Information, send seq 2, rcv seq 5, \
             Flags [Poll], length 6\n\t0x0000:  f0f0 040b 0102                           ......"
        );
        let f = frame(&[0x04, 0x05, 0x09, 0x03]);
        assert_eq!(
            line_on(1, &f, 0),
            "02:00:00:00:00:0a > 01:80:c2:00:00:00 SNA Supervisory, Reject, rcv seq 1, Flags [Final], length 4"
        );
        // The 2-byte control field cut: the mark and the hex.
        assert_eq!(
            line_on(1, &f[..17], 0),
            " [|llc]\n\t0x0000:  0405 09                                  ..."
        );
    }

    #[test]
    fn snap_with_oui_zero_carries_ipv4() {
        let mut llc = vec![0xaa, 0xaa, 3, 0, 0, 0, 8, 0];
        let mut ip = vec![
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
        ];
        ip.extend_from_slice(&[0x9c, 0x40, 0x27, 0x0f, 0, 8, 0, 0]);
        llc.extend_from_slice(&ip);
        let f = frame(&llc);
        assert_eq!(
            line_on(1, &f, 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.9999: UDP, length 0"
        );
        assert_eq!(line_on(1, &f[..20], 0), " [|snap]");
        // An EtherType without a printer: the SNAP header and the hex.
        let f = frame(&[0xaa, 0xaa, 3, 0, 0, 0, 0x12, 0x34, 9]);
        assert_eq!(
            line_on(1, &f, 0),
            "02:00:00:00:00:0a > 01:80:c2:00:00:00 SNAP, ethertype Unknown (0x1234), length 1: \
             \n\t0x0000:  aaaa 0300 0000 1234 09                   .......4."
        );
    }
}

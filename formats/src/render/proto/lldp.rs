//! LLDP (tcpdump's `print-lldp.c`, EtherType 0x88cc): the length and the system name; with
//! `-v` every TLV (chassis and port IDs, TTL, descriptions, capabilities, management
//! addresses, the IEEE 802.1 and 802.3 organisation TLVs), with `-vv` each TLV's bytes too.
//!
//! Not decoded here (tcpdump decodes them; we print the OUI line and the hex dump): DCBX and
//! IANA TLVs.

use super::{flag_names, hex_dump, trunc, Printer};
use crate::render::text::{tcpdump_char, Out};

const END: u8 = 0;
const OUI_8021: u32 = 0x0080c2;
const OUI_8023: u32 = 0x00120f;
const OUI_TIA: u32 = 0x0012bb;

const CAPABILITIES: [(u32, &str); 8] = [
    (1 << 0, "Other"),
    (1 << 1, "Repeater"),
    (1 << 2, "Bridge"),
    (1 << 3, "WLAN AP"),
    (1 << 4, "Router"),
    (1 << 5, "Telephone"),
    (1 << 6, "Docsis"),
    (1 << 7, "Station Only"),
];

const SUPPORTED_ENABLED: [(u32, &str); 2] = [(1 << 0, "supported"), (1 << 1, "enabled")];
const PPVID_FLAGS: [(u32, &str); 2] = [(1 << 1, "supported"), (1 << 2, "enabled")];

const PMD_CAPABILITIES: [(u32, &str); 15] = [
    (1 << 14, "10BASE-T hdx"),
    (1 << 13, "10BASE-T fdx"),
    (1 << 12, "100BASE-T4"),
    (1 << 11, "100BASE-TX hdx"),
    (1 << 10, "100BASE-TX fdx"),
    (1 << 9, "100BASE-T2 hdx"),
    (1 << 8, "100BASE-T2 fdx"),
    (1 << 7, "Pause for fdx links"),
    (1 << 6, "Asym PAUSE for fdx"),
    (1 << 5, "Sym PAUSE for fdx"),
    (1 << 4, "Asym and Sym PAUSE for fdx"),
    (1 << 3, "1000BASE-{X LX SX CX} hdx"),
    (1 << 2, "1000BASE-{X LX SX CX} fdx"),
    (1 << 1, "1000BASE-T hdx"),
    (1 << 0, "1000BASE-T fdx"),
];

const MDI: [(u32, &str); 4] = [
    (1 << 0, "PSE"),
    (1 << 1, "supported"),
    (1 << 2, "enabled"),
    (1 << 3, "can be controlled"),
];

fn tlv_name(t: u8) -> &'static str {
    match t {
        0 => "End",
        1 => "Chassis ID",
        2 => "Port ID",
        3 => "Time to Live",
        4 => "Port Description",
        5 => "System Name",
        6 => "System Description",
        7 => "System Capabilities",
        8 => "Management Address",
        127 => "Organization specific",
        _ => "Unknown",
    }
}

fn chassis_subtype(s: u8) -> &'static str {
    match s {
        1 => "Chassis component",
        2 => "Interface alias",
        3 => "Port component",
        4 => "MAC address",
        5 => "Network address",
        6 => "Interface name",
        7 => "Local",
        _ => "Unknown",
    }
}

fn port_subtype(s: u8) -> &'static str {
    match s {
        1 => "Interface alias",
        2 => "Port component",
        3 => "MAC address",
        4 => "Network Address",
        5 => "Interface Name",
        6 => "Agent circuit ID",
        7 => "Local",
        _ => "Unknown",
    }
}

/// tcpdump's `af_values`.
fn af_name(af: u8) -> &'static str {
    match af {
        0 => "Reserved",
        1 => "IPv4",
        2 => "IPv6",
        3 => "NSAP",
        4 => "HDLC",
        5 => "BBN 1822",
        6 => "802",
        7 => "E.163",
        8 => "E.164",
        9 => "F.69",
        10 => "X.121",
        11 => "Novell IPX",
        12 => "Appletalk",
        13 => "Decnet IV",
        14 => "Banyan Vines",
        15 => "E.164 with NSAP subaddress",
        25 => "Layer-2 VPN",
        _ => "Unknown",
    }
}

/// tcpdump 4.99's `oui_values`, all of it (measured: each printed by tcpdump in an OAM
/// Information TLV); LLDP's and the slow protocols' TLVs name organisations with it.
/// 0x0080c2 is listed twice there, and its first name wins.
pub(super) fn oui_name(oui: u32) -> &'static str {
    match oui {
        0x000000 => "Ethernet",
        0x00000c => "Cisco",
        0x00005e => "IANA",
        0x000081 => "Nortel Networks SONMP",
        0x0000f8 => "Cisco bridged",
        0x0080c2 => "Ethernet bridged",
        0x00a03e => "ATM Forum",
        0x00e02f => "DOCSIS Spanning Tree",
        0x080007 => "Appletalk",
        0x009069 => "Juniper",
        0x080009 => "Hewlett-Packard",
        0x00120f => "IEEE 802.3 Private",
        0x0012bb => "ANSI/TIA",
        0x001b21 => "DCBX",
        0x002320 => "Nicira Networks",
        0x5c16c7 => "Big Switch Networks",
        0xb0d2f5 => "Vello Systems",
        0x002481 => "HP",
        0x0004ea => "HP-Labs",
        0x748771 => "Infoblox Inc",
        0xa42305 => "Open Networking Lab",
        0x00049f => "Freescale",
        0x0015ad => "Netronome",
        0x001018 => "Broadcom",
        0x00e004 => "PMC-Sierra",
        0xd0f0db => "Ericsson",
        _ => "Unknown",
    }
}

/// RFC 3636's dot3MauType names.
fn mau_type(t: u16) -> &'static str {
    const NAMES: [&str; 41] = [
        "Unknown",
        "AUI",
        "10BASE_5",
        "FOIRL",
        "10BASE2",
        "10BASET duplex mode unknown",
        "10BASEFP",
        "10BASEFB",
        "10BASEFL duplex mode unknown",
        "10BROAD36",
        "10BASET hdx",
        "10BASET fdx",
        "10BASEFL hdx",
        "10BASEFL fdx",
        "100BASET4",
        "100BASETX hdx",
        "100BASETX fdx",
        "100BASEFX hdx",
        "100BASEFX fdx",
        "100BASET2 hdx",
        "100BASET2 fdx",
        "1000BASEX hdx",
        "1000BASEX fdx",
        "1000BASELX hdx",
        "1000BASELX fdx",
        "1000BASESX hdx",
        "1000BASESX fdx",
        "1000BASECX hdx",
        "1000BASECX fdx",
        "1000BASET hdx",
        "1000BASET fdx",
        "10GBASEX",
        "10GBASELX4",
        "10GBASER",
        "10GBASEER",
        "10GBASELR",
        "10GBASESR",
        "10GBASEW",
        "10GBASEEW",
        "10GBASELW",
        "10GBASESW",
    ];
    NAMES.get(usize::from(t)).copied().unwrap_or("unknown")
}

/// The TLV list is cut or a TLV is malformed: tcpdump's mark, nothing after it.
struct Stop;

fn be16(d: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([d[i], d[i + 1]])
}

fn be32(d: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]])
}

impl Printer<'_> {
    /// `b`: the LLDPDU as captured; `len`: its length on the wire.
    pub(super) fn lldp(&mut self, b: &[u8], len: usize) {
        self.out.s("LLDP, length ");
        self.out.n(len);
        if self.lldp_tlvs(b, len).is_err() {
            trunc(self.out, "lldp");
        }
    }

    fn lldp_tlvs(&mut self, b: &[u8], len: usize) -> Result<(), Stop> {
        let v = self.opts.verbose > 0;
        let mut at = 0;
        let mut tlen = len;
        while tlen >= 2 {
            let h = b.get(at..at + 2).ok_or(Stop)?;
            let h = u16::from_be_bytes([h[0], h[1]]);
            let (ty, tlv_len) = ((h >> 9) as u8, usize::from(h & 0x01ff));
            tlen -= 2;
            at += 2;
            if v {
                self.out.s("\n\t");
                self.out.s(tlv_name(ty));
                self.out.s(" TLV (");
                self.out.n(ty);
                self.out.s("), length ");
                self.out.n(tlv_len);
            }
            if ty == END || tlv_len == 0 {
                break;
            }
            let d = b.get(at..at + tlv_len).ok_or(Stop)?;
            if tlen < tlv_len {
                return Err(Stop);
            }
            let hexdump = self.lldp_tlv(ty, d)?;
            if self.opts.verbose > 1 || (v && hexdump) {
                hex_dump(self.out, d, "\n\t  ");
            }
            tlen -= tlv_len;
            at += tlv_len;
        }
        Ok(())
    }

    /// Prints NUL-terminated text of at most the slice's length (tcpdump's `nd_printjnp`).
    fn lldp_text(&mut self, d: &[u8]) {
        for &c in d.iter().take_while(|&&c| c != 0) {
            tcpdump_char(self.out, c);
        }
    }

    /// One TLV's data; true when tcpdump adds its hex dump under `-v`.
    fn lldp_tlv(&mut self, ty: u8, d: &[u8]) -> Result<bool, Stop> {
        let v = self.opts.verbose > 0;
        let n = d.len();
        match ty {
            1 | 2 if v => {
                if n < 2 {
                    return Err(Stop);
                }
                let sub = d[0];
                self.out.s("\n\t  Subtype ");
                self.out.s(if ty == 1 {
                    chassis_subtype(sub)
                } else {
                    port_subtype(sub)
                });
                self.out.s(" (");
                self.out.n(sub);
                self.out.s("): ");
                let (mac, net) = if ty == 1 { (4, 5) } else { (3, 4) };
                match sub {
                    s if s == mac => {
                        if n < 7 {
                            return Err(Stop);
                        }
                        self.out.lladdr(&d[1..7]);
                    }
                    s if s == net => self.lldp_network_addr(&d[1..])?,
                    1..=7 => self.lldp_text(&d[1..]),
                    _ => return Ok(true),
                }
            }
            3 if v => {
                if n < 2 {
                    return Err(Stop);
                }
                self.out.s(": TTL ");
                self.out.n(be16(d, 0));
                self.out.c(b's');
            }
            4 if v => {
                self.out.s(": ");
                self.lldp_text(d);
            }
            5 => {
                // The system name is printed without -v too.
                self.out.s(": ");
                self.lldp_text(d);
            }
            6 if v => {
                self.out.s("\n\t  ");
                self.lldp_text(d);
            }
            7 if v => {
                if n < 4 {
                    return Err(Stop);
                }
                for (label, cap) in [
                    ("\n\t  System  Capabilities [", be16(d, 0)),
                    ("\n\t  Enabled Capabilities [", be16(d, 2)),
                ] {
                    self.out.s(label);
                    flag_names(self.out, u32::from(cap), ", ", &CAPABILITIES);
                    self.out.s("] (0x");
                    self.out.hex(u32::from(cap), 4);
                    self.out.c(b')');
                }
            }
            8 if v => self.lldp_mgmt_addr(d)?,
            127 if v => {
                if n < 3 {
                    return Err(Stop);
                }
                let oui = u32::from_be_bytes([0, d[0], d[1], d[2]]);
                self.out.s(": OUI ");
                self.out.s(oui_name(oui));
                self.out.s(" (0x");
                self.out.hex(oui, 6);
                self.out.c(b')');
                return Ok(match oui {
                    OUI_8021 => self.lldp_8021(d),
                    OUI_8023 => self.lldp_8023(d),
                    OUI_TIA => self.lldp_tia(d),
                    _ => true,
                });
            }
            1..=8 | 127 => {}
            _ => return Ok(true),
        }
        Ok(false)
    }

    /// `AFI NAME (N): ADDRESS`; `d` starts at the address family.
    fn lldp_network_addr(&mut self, d: &[u8]) -> Result<(), Stop> {
        let Some((&af, a)) = d.split_first() else {
            return Err(Stop);
        };
        let size = match af {
            1 => 4,
            2 => 16,
            6 => 6,
            _ => 0,
        };
        if a.len() < size {
            return Err(Stop);
        }
        self.out.s("AFI ");
        self.out.s(af_name(af));
        self.out.s(" (");
        self.out.n(af);
        if size == 0 {
            self.out.s("), no AF printer !");
            return Ok(());
        }
        self.out.s("): ");
        match af {
            1 => self.out.ipv4(&a[..4]),
            2 => self.out.ipv6(&a[..16]),
            _ => self.out.lladdr(&a[..6]),
        }
        Ok(())
    }

    fn lldp_mgmt_addr(&mut self, d: &[u8]) -> Result<(), Stop> {
        let Some((&alen, rest)) = d.split_first() else {
            return Err(Stop);
        };
        let alen = usize::from(alen);
        if rest.len() < alen {
            return Err(Stop);
        }
        // The address is checked before anything of the TLV is printed.
        let mut probe = Vec::new();
        std::mem::swap(self.out, &mut probe);
        let ok = self.lldp_network_addr(&rest[..alen]);
        std::mem::swap(self.out, &mut probe);
        ok?;
        self.out.s("\n\t  Management Address length ");
        self.out.n(alen);
        self.out.s(", ");
        self.out.b(&probe);
        let rest = &rest[alen..];
        if rest.len() < 5 {
            return Err(Stop);
        }
        let sub = rest[0];
        self.out.s("\n\t  ");
        self.out.s(match sub {
            2 => "Interface Index",
            3 => "System Port Number",
            _ => "Unknown",
        });
        self.out.s(" Interface Numbering (");
        self.out.n(sub);
        self.out.s("): ");
        self.out.n(be32(rest, 1));
        let rest = &rest[5..];
        if let Some((&oid_len, oid)) = rest.split_first() {
            let oid_len = usize::from(oid_len);
            if oid.len() < oid_len {
                return Err(Stop);
            }
            if oid_len > 0 {
                self.out.s("\n\t  OID length ");
                self.out.n(oid_len);
                self.lldp_text(&oid[..oid_len]);
            }
        }
        Ok(())
    }

    fn lldp_subtype(&mut self, name: Option<&str>, sub: u8) {
        self.out.s("\n\t  ");
        self.out.s(name.unwrap_or("unknown"));
        self.out.s(" Subtype (");
        self.out.n(sub);
        self.out.c(b')');
    }

    /// IEEE 802.1 organisation TLVs; true for tcpdump's hex dump.
    fn lldp_8021(&mut self, d: &[u8]) -> bool {
        let n = d.len();
        if n < 4 {
            return false;
        }
        let sub = d[3];
        self.lldp_subtype(
            match sub {
                1 => Some("Port VLAN Id"),
                2 => Some("Port and Protocol VLAN ID"),
                3 => Some("VLAN name"),
                4 => Some("Protocol Identity"),
                8 => Some("Congestion Notification"),
                9 => Some("ETS Configuration"),
                10 => Some("ETS Recommendation"),
                11 => Some("Priority Flow Control Configuration"),
                12 => Some("Application Priority"),
                13 => Some("EVB"),
                14 => Some("CDCP"),
                _ => None,
            },
            sub,
        );
        match sub {
            1 => {
                if n >= 6 {
                    self.out.s("\n\t    port vlan id (PVID): ");
                    self.out.n(be16(d, 4));
                }
            }
            2 => {
                if n >= 7 {
                    self.out.s("\n\t    port and protocol vlan id (PPVID): ");
                    self.out.n(be16(d, 5));
                    self.out.s(", flags [");
                    flag_names(self.out, u32::from(d[4]), ", ", &PPVID_FLAGS);
                    self.out.s("] (0x");
                    self.out.hex(u32::from(d[4]), 2);
                    self.out.c(b')');
                }
            }
            3 => {
                if n < 6 {
                    return false;
                }
                self.out.s("\n\t    vlan id (VID): ");
                self.out.n(be16(d, 4));
                if n < 7 {
                    return false;
                }
                let l = usize::from(d[6]);
                if n < 7 + l {
                    return false;
                }
                self.out.s("\n\t    vlan name: ");
                self.lldp_text(&d[7..7 + l]);
            }
            4 => {
                if n < 5 {
                    return false;
                }
                let l = usize::from(d[4]);
                if n < 5 + l {
                    return false;
                }
                self.out.s("\n\t    protocol identity: ");
                self.lldp_text(&d[5..5 + l]);
            }
            8 => {
                if n < 6 {
                    return false;
                }
                for (label, v) in [
                    ("\n\t    Pre-Priority CNPV Indicator", d[4]),
                    ("\n\t    Pre-Priority Ready Indicator", d[5]),
                ] {
                    self.out.s(label);
                    self.out.s("\n\t     Priority : 0  1  2  3  4  5  6  7");
                    self.out.s("\n\t     Value    : ");
                    for i in 0..8 {
                        self.out.n((v >> i) & 1);
                        self.out.s("  ");
                    }
                }
            }
            9 | 10 => {
                if n < 25 {
                    return false;
                }
                let v = d[4];
                if sub == 9 {
                    self.out.s("\n\t    Willing:");
                    self.out.n(v >> 7);
                    self.out.s(", CBS:");
                    self.out.n((v >> 6) & 0x02);
                    self.out.s(", RES:");
                    self.out.n((v >> 3) & 0x07);
                    self.out.s(", Max TCs:");
                    self.out.n(v & 0x07);
                } else {
                    self.out.s("\n\t    RES: ");
                    self.out.n(v);
                }
                let p = &d[5..9];
                let prio: Vec<u8> = p.iter().flat_map(|&x| [x >> 4, x & 0x0f]).collect();
                self.lldp_table(
                    "\n\t    Priority Assignment Table\n\t     Priority : 0   1   2   3   4   5   6   7\n\t     Value    : ",
                    &prio,
                );
                self.lldp_table(
                    "\n\t    TC Bandwidth Table\n\t     TC%   : 0   1   2   3   4   5   6   7\n\t     Value : ",
                    &d[9..17],
                );
                self.lldp_table(
                    "\n\t    TSA Assignment Table\n\t     Traffic Class: 0   1   2   3   4   5   6   7\n\t     Value        : ",
                    &d[17..25],
                );
            }
            11 => {
                if n < 6 {
                    return false;
                }
                let v = d[4];
                self.out.s("\n\t    Willing: ");
                self.out.n(v >> 7);
                self.out.s(", MBC: ");
                self.out.n((v >> 6) & 0x01);
                self.out.s(", RES: ");
                self.out.n((v >> 4) & 0x03);
                self.out.s(", PFC cap:");
                self.out.n(v & 0x0f);
                self.out.s(" \n\t    PFC Enable");
                self.out.s("\n\t     Priority : 0  1  2  3  4  5  6  7");
                self.out.s("\n\t     Value    : ");
                for i in 0..8 {
                    self.out.n((d[5] >> i) & 1);
                    self.out.s("  ");
                }
            }
            12 => {
                if n < 5 {
                    return false;
                }
                self.out.s("\n\t    RES: ");
                self.out.n(d[4]);
                if n <= 5 || (n - 5) % 3 != 0 {
                    return false;
                }
                self.out.s("\n\t    Application Priority Table");
                for e in d[5..].chunks(3) {
                    let v = e[0];
                    self.out.s("\n\t      Priority: ");
                    self.out.n(v >> 5);
                    self.out.s(", RES: ");
                    self.out.n((v >> 3) & 0x03);
                    self.out.s(", Sel: ");
                    self.out.n(v & 0x07);
                    self.out.s(", Protocol ID: ");
                    self.out.n(be16(e, 1));
                }
            }
            13 => {
                if n < 9 {
                    return false;
                }
                let (b, st, r, m, w) = (d[4], d[5], d[6], d[7], d[8]);
                self.out.s("\n\t    EVB Bridge Status\n\t      RES: ");
                self.out.n(b >> 3);
                self.out.s(", BGID: ");
                self.out.n((b >> 2) & 1);
                self.out.s(", RRCAP: ");
                self.out.n((b >> 1) & 1);
                self.out.s(", RRCTR: ");
                self.out.n(b & 1);
                self.out.s("\n\t    EVB Station Status\n\t      RES: ");
                self.out.n(st >> 4);
                self.out.s(", SGID: ");
                self.out.n((st >> 3) & 1);
                self.out.s(", RRREQ: ");
                self.out.n((st >> 2) & 1);
                self.out.s(",RRSTAT: ");
                self.out.n(st & 3);
                self.out.s("\n\t    R: ");
                self.out.n(r >> 5);
                self.out.s(", RTE: ");
                self.out.n(r & 0x1f);
                self.out.s(", EVB Mode: ");
                self.out.s(match m >> 6 {
                    0 => "Not Supported",
                    1 => "EVB Bridge",
                    2 => "EVB Staion",
                    _ => "Reserved for future Standardization",
                });
                self.out.s(" [");
                self.out.n(m >> 6);
                self.out.s("]\n\t    ROL: ");
                self.out.n((m >> 5) & 1);
                self.out.s(", RWD: ");
                self.out.n(m & 0x1f);
                self.out.s(", RES: ");
                self.out.n(w >> 6);
                self.out.s(", ROL: ");
                self.out.n((w >> 5) & 1);
                self.out.s(", RKA: ");
                self.out.n(w & 0x1f);
            }
            14 => {
                if n < 8 {
                    return false;
                }
                let v = d[4];
                self.out.s("\n\t    Role: ");
                self.out.n(v >> 7);
                self.out.s(", RES: ");
                self.out.n((v >> 4) & 0x07);
                self.out.s(", Scomp: ");
                self.out.n((v >> 3) & 0x01);
                self.out.s(" ChnCap: ");
                self.out.n(be16(d, 6) & 0x0fff);
                if (n - 8) % 3 != 0 {
                    return false;
                }
                for e in d[8..].chunks(3) {
                    let v = u32::from_be_bytes([0, e[0], e[1], e[2]]);
                    self.out.s("\n\t    SCID: ");
                    self.out.n(v >> 12);
                    self.out.s(", SVID: ");
                    self.out.n(v & 0x000fff);
                }
            }
            _ => return true,
        }
        false
    }

    /// One of ETS's tables: the header, then eight values as `%-3d `.
    fn lldp_table(&mut self, head: &str, values: &[u8]) {
        self.out.s(head);
        for (i, &v) in values.iter().enumerate() {
            if i > 0 {
                self.out.c(b' ');
            }
            let t = v.to_string();
            self.out.s(&t);
            for _ in t.len()..3 {
                self.out.c(b' ');
            }
        }
    }

    /// TIA LLDP-MED (ANSI/TIA-1057) organisation TLVs; true for tcpdump's hex dump.
    fn lldp_tia(&mut self, d: &[u8]) -> bool {
        let n = d.len();
        if n < 4 {
            return false;
        }
        let sub = d[3];
        const INVENTORY: [&str; 7] = [
            "Hardware revision",
            "Firmware revision",
            "Software revision",
            "Serial number",
            "Manufacturer name",
            "Model name",
            "Asset ID",
        ];
        let inventory_long = [
            "Inventory - hardware revision",
            "Inventory - firmware revision",
            "Inventory - software revision",
            "Inventory - serial number",
            "Inventory - manufacturer name",
            "Inventory - model name",
            "Inventory - asset ID",
        ];
        self.lldp_subtype(
            match sub {
                1 => Some("LLDP-MED Capabilities"),
                2 => Some("Network policy"),
                3 => Some("Location identification"),
                4 => Some("Extended power-via-MDI"),
                5..=11 => Some(inventory_long[usize::from(sub - 5)]),
                _ => None,
            },
            sub,
        );
        match sub {
            1 => {
                if n < 7 {
                    return false;
                }
                let caps = be16(d, 4);
                self.out.s("\n\t    Media capabilities [");
                flag_names(
                    self.out,
                    u32::from(caps),
                    ", ",
                    &[
                        (0x01, "LLDP-MED capabilities"),
                        (0x02, "network policy"),
                        (0x04, "location identification"),
                        (0x08, "extended power via MDI-PSE"),
                        (0x10, "extended power via MDI-PD"),
                        (0x20, "Inventory"),
                    ],
                );
                self.out.s("] (0x");
                self.out.hex(u32::from(caps), 4);
                self.out.s(")\n\t    Device type [");
                self.out.s(match d[6] {
                    1 => "endpoint class 1",
                    2 => "endpoint class 2",
                    3 => "endpoint class 3",
                    4 => "network connectivity",
                    _ => "unknown",
                });
                self.out.s("] (0x");
                self.out.hex(u32::from(d[6]), 2);
                self.out.c(b')');
            }
            2 => {
                if n < 8 {
                    return false;
                }
                self.out.s("\n\t    Application type [");
                self.out.s(match d[4] {
                    1 => "voice",
                    2 => "voice signaling",
                    3 => "guest voice",
                    4 => "guest voice signaling",
                    5 => "softphone voice",
                    6 => "video conferencing",
                    7 => "streaming video",
                    8 => "video signaling",
                    _ => "none",
                });
                self.out.s("] (0x");
                self.out.hex(u32::from(d[4]), 2);
                self.out.s("), Flags [");
                flag_names(
                    self.out,
                    u32::from(d[5]),
                    ", ",
                    &[(0x80, "Unknown"), (0x40, "Tagged"), (0x20, "reserved")],
                );
                self.out.s("]\n\t    Vlan id ");
                self.out.n((be16(d, 5) & 0x1ffe) >> 1);
                self.out.s(", L2 priority ");
                self.out.n((be16(d, 6) & 0x01ff) >> 6);
                self.out.s(", DSCP value ");
                self.out.n(be16(d, 6) & 0x003f);
            }
            3 => {
                if n < 5 {
                    return false;
                }
                let format = d[4];
                self.out.s("\n\t    Location data format ");
                self.out.s(match format {
                    1 => "coordinate-based LCI",
                    2 => "civic address LCI",
                    3 => "ECS ELIN",
                    _ => "unknown",
                });
                self.out.s(" (0x");
                self.out.hex(u32::from(format), 2);
                self.out.c(b')');
                match format {
                    1 => {
                        if n < 21 {
                            return false;
                        }
                        let latlon =
                            |i: usize| (u64::from(d[i] & 3) << 32) | u64::from(be32(d, i + 1));
                        self.out.s("\n\t    Latitude resolution ");
                        self.out.n(d[5] >> 2);
                        self.out.s(", latitude value ");
                        self.out.n(latlon(5));
                        self.out.s("\n\t    Longitude resolution ");
                        self.out.n(d[10] >> 2);
                        self.out.s(", longitude value ");
                        self.out.n(latlon(10));
                        self.out.s("\n\t    Altitude type ");
                        self.out.s(match d[15] >> 4 {
                            1 => "meters",
                            2 => "floors",
                            _ => "unknown",
                        });
                        self.out.s(" (");
                        self.out.n(d[15] >> 4);
                        self.out.s(")\n\t    Altitude resolution ");
                        self.out.n((be16(d, 15) >> 6) & 0x3f);
                        self.out.s(", altitude value 0x");
                        self.out.hexn(be32(d, 16) & 0x3fff_ffff);
                        self.out.s("\n\t    Datum ");
                        self.out.s(match d[20] {
                            1 => "World Geodesic System 1984",
                            2 => "North American Datum 1983 (NAVD88)",
                            3 => "North American Datum 1983 (MLLW)",
                            _ => "unknown",
                        });
                        self.out.s(" (0x");
                        self.out.hex(u32::from(d[20]), 2);
                        self.out.c(b')');
                    }
                    2 => {
                        if n < 6 {
                            return false;
                        }
                        let mut lci = usize::from(d[5]);
                        if lci < 3 || n < 7 + lci {
                            return false;
                        }
                        self.out.s("\n\t    LCI length ");
                        self.out.n(lci);
                        self.out.s(", LCI what ");
                        self.out.s(match d[6] {
                            0 => "location of DHCP server",
                            1 => "location of the network element believed to be closest to the client",
                            2 => "location of the client",
                            _ => "unknown",
                        });
                        self.out.s(" (0x");
                        self.out.hex(u32::from(d[6]), 2);
                        self.out.s("), Country-code ");
                        self.lldp_text(&d[7..9]);
                        lci -= 3;
                        let mut p = 9;
                        while lci > 0 {
                            if lci < 2 {
                                return false;
                            }
                            let (ca, cl) = (d[p], usize::from(d[p + 1]));
                            p += 2;
                            lci -= 2;
                            self.out.s("\n\t      CA type '");
                            self.out.s(match ca {
                                1 => "national subdivisions (state,canton,region,province,prefecture)",
                                2 => "county, parish, gun, district",
                                3 => "city, township, shi",
                                4 => "city division, borough, city district, ward chou",
                                5 => "neighborhood, block",
                                6 => "street",
                                _ => "unknown",
                            });
                            self.out.s("' (");
                            self.out.n(ca);
                            self.out.s("), length ");
                            self.out.n(cl);
                            self.out.s(": ");
                            if ca == 0 || cl == 0 || lci < cl {
                                return false;
                            }
                            self.lldp_text(&d[p..p + cl]);
                            p += cl;
                            lci -= cl;
                        }
                    }
                    3 => {
                        self.out.s("\n\t    ECS ELIN id ");
                        self.lldp_text(&d[5..]);
                    }
                    _ => {
                        self.out.s("\n\t    Location ID ");
                        hex_dump(self.out, &d[5..], "\n\t      ");
                    }
                }
            }
            4 => {
                if n < 7 {
                    return false;
                }
                let f = d[4];
                self.out.s("\n\t    Power type [");
                // tcpdump's test is `f & 0xC0 >> 6`, that is `f & 3`.
                self.out.s(if f & 3 != 0 {
                    "PD device"
                } else {
                    "PSE device"
                });
                self.out.s("], Power source [");
                self.out.s(match (f & 0x30) >> 4 {
                    1 => "PSE - primary power source",
                    2 => "local - backup power source",
                    3 => "PSE+local - reserved",
                    _ => "none",
                });
                self.out.s("]\n\t    Power priority [");
                self.out.s(match f & 0x0f {
                    1 => "critical",
                    2 => "high",
                    3 => "low",
                    _ => "none",
                });
                self.out.s("] (0x");
                self.out.hex(u32::from(f & 0x0f), 2);
                self.out.c(b')');
                let power = be16(d, 5);
                if power < 1024 {
                    let w = f64::from(f32::from(power) / 10.0);
                    self.out.s(&format!(", Power {w:.1} Watts"));
                } else {
                    self.out.s(", Power ");
                    self.out.n(power);
                    self.out.s(" (Reserved)");
                }
            }
            5..=11 => {
                self.out.s("\n\t  ");
                self.out.s(INVENTORY[usize::from(sub - 5)]);
                self.out.c(b' ');
                self.lldp_text(&d[4..]);
            }
            _ => return true,
        }
        false
    }

    /// IEEE 802.3 organisation TLVs; true for tcpdump's hex dump.
    fn lldp_8023(&mut self, d: &[u8]) -> bool {
        let n = d.len();
        if n < 4 {
            return false;
        }
        let sub = d[3];
        self.lldp_subtype(
            match sub {
                1 => Some("MAC/PHY configuration/status"),
                2 => Some("Power via MDI"),
                3 => Some("Link aggregation"),
                4 => Some("Max frame size"),
                _ => None,
            },
            sub,
        );
        match sub {
            1 => {
                if n >= 9 {
                    self.out.s("\n\t    autonegotiation [");
                    flag_names(self.out, u32::from(d[4]), ", ", &SUPPORTED_ENABLED);
                    self.out.s("] (0x");
                    self.out.hex(u32::from(d[4]), 2);
                    self.out.s(")\n\t    PMD autoneg capability [");
                    let pmd = be16(d, 5);
                    if pmd & 0x7fff == 0 {
                        self.out.s("unknown");
                    } else {
                        flag_names(self.out, u32::from(pmd), ", ", &PMD_CAPABILITIES);
                    }
                    self.out.s("] (0x");
                    self.out.hex(u32::from(pmd), 4);
                    let mau = be16(d, 7);
                    self.out.s(")\n\t    MAU type ");
                    self.out.s(mau_type(mau));
                    self.out.s(" (0x");
                    self.out.hex(u32::from(mau), 4);
                    self.out.c(b')');
                }
            }
            2 => {
                if n >= 7 {
                    self.out.s("\n\t    MDI power support [");
                    flag_names(self.out, u32::from(d[4]), ", ", &MDI);
                    self.out.s("], power pair ");
                    self.out.s(match d[5] {
                        1 => "signal",
                        2 => "spare",
                        _ => "unknown",
                    });
                    self.out.s(", power class ");
                    self.out.s(match d[6] {
                        1 => "class0",
                        2 => "class1",
                        3 => "class2",
                        4 => "class3",
                        5 => "class4",
                        _ => "unknown",
                    });
                }
            }
            3 => {
                if n >= 9 {
                    self.out.s("\n\t    aggregation status [");
                    flag_names(self.out, u32::from(d[4]), ", ", &SUPPORTED_ENABLED);
                    self.out.s("], aggregation port ID ");
                    self.out.n(be32(d, 5));
                }
            }
            4 => {
                if n >= 6 {
                    self.out.s("\n\t    MTU size ");
                    self.out.n(be16(d, 4));
                }
            }
            _ => return true,
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::line_on;

    #[test]
    fn system_name_tlvs_and_cut() {
        let mut f = vec![1, 0x80, 0xc2, 0, 0, 0x0e, 2, 0, 0, 0, 0, 0x0a, 0x88, 0xcc];
        f.extend_from_slice(&[0x06, 0x02, 0, 120]);
        f.extend_from_slice(&[0x0a, 0x03, b's', b'w', b'1']);
        f.extend_from_slice(&[0, 0]);
        assert_eq!(line_on(1, &f, 0), "LLDP, length 11: sw1");
        assert_eq!(
            line_on(1, &f, 1),
            "LLDP, length 11\n\tTime to Live TLV (3), length 2: TTL 120s\n\tSystem Name TLV (5), length 3: sw1\n\tEnd TLV (0), length 0"
        );
        assert_eq!(line_on(1, &f[..21], 0), "LLDP, length 7 [|lldp]");
    }
}

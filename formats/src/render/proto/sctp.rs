//! SCTP (tcpdump's `print-sctp.c`, as in 4.99) and the M3UA messages it shows under -vv
//! (`print-m3ua.c`).
//!
//! tcpdump 4.99 names the chunk types of RFC 4960 plus FORWARD TSN (0xc0) and its old
//! "reliable control" pair (0xc1, 0xc2); I-DATA, RE-CONFIG, ASCONF and ASCONF-ACK are
//! unknown chunk types to it. It decodes DATA, INIT, INIT ACK and SACK; the others show their
//! name only. A chunk is printed only when all of it was captured (else `[|sctp]`).

use super::{trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::render::DumpMode;
use crate::wire::{get_be16, get_be32};

/// SCTP's IP protocol number.
pub(super) const PROTO: u8 = 132;
/// The ForCES ports, whose DATA tcpdump hands to its ForCES printer (not decoded here).
const FORCES_PORTS: [u16; 3] = [6704, 6705, 6706];
const PPID_M3UA: u32 = 3;

impl Printer<'_> {
    pub(super) fn sctp(&mut self, b: &[u8], length: usize, ip: IpCtx<'_>) {
        if length < 12 {
            self.out.s("truncated-sctp - ");
            self.out.n(12 - length);
            self.out.s(" bytes missing!");
            return;
        }
        let (Some(sport), Some(dport), true) = (get_be16(b, 0), get_be16(b, 2), b.len() >= 12)
        else {
            trunc(self.out, "sctp");
            return;
        };
        self.ports(&ip, sport, dport);
        self.out.s("sctp");
        for p in [sport, dport] {
            if let Some(i) = FORCES_PORTS.iter().position(|&f| f == p) {
                self.out.s(["[ForCES HP]", "[ForCES MP]", "[ForCES LP]"][i]);
            }
        }
        let vv = self.opts.verbose >= 2;
        let mut sep = if vv { "\n\t" } else { " (" };
        // tcpdump's unsigned arithmetic: a chunk longer than the packet wraps the remaining
        // length, and the loop then ends at the capture's end.
        let mut remaining = (length - 12) as u32;
        let mut pos = 12usize;
        let mut count = 0u32;
        while remaining != 0 {
            if remaining < 4 {
                self.out.s(sep);
                self.out.n(count + 1);
                self.out.s(") [chunk descriptor cut off at end of packet]");
                return;
            }
            let Some(clen) = get_be16(b, pos + 2) else {
                trunc(self.out, "sctp");
                return;
            };
            if clen < 4 {
                self.out.s(sep);
                self.out.n(count + 1);
                self.out.s(") [Bad chunk length ");
                self.out.n(clen);
                self.out.s(", < size of chunk descriptor]");
                return;
            }
            let align = (4 - clen % 4) % 4;
            if remaining < u32::from(align) {
                self.out.s(sep);
                self.out.n(count + 1);
                self.out.s(") [Bad chunk length ");
                self.out.n(clen);
                self.out.s(", > remaining data in packet]");
                return;
            }
            let Some(chunk) = b.get(pos..pos + usize::from(clen)) else {
                trunc(self.out, "sctp");
                return;
            };
            let (id, flags) = (chunk[0], chunk[1]);
            let body = &chunk[4..];
            self.out.s(sep);
            self.out.n(count + 1);
            self.out.s(") [");
            match chunk_name(id) {
                Some(n) => self.out.s(n),
                None => {
                    self.out.s("Unknown chunk type: 0x");
                    self.out.hexn(u32::from(id));
                }
            }
            self.out.s("] ");
            let ok = match id {
                0 => match self.sctp_data(body, flags, forces(sport, dport)) {
                    Data::Printed => true,
                    Data::Bogus => false,
                    // M3UA cut short: tcpdump's mark ends the whole packet.
                    Data::Cut => return,
                },
                1 | 2 => {
                    if body.len() < 16 {
                        false
                    } else {
                        for (label, v) in [
                            ("[init tag: ", get_be32(body, 0)),
                            ("[rwnd: ", get_be32(body, 4)),
                            ("[OS: ", get_be16(body, 8).map(u32::from)),
                            ("[MIS: ", get_be16(body, 10).map(u32::from)),
                            ("[init TSN: ", get_be32(body, 12)),
                        ] {
                            self.out.s(label);
                            self.out.n(v.unwrap_or(0));
                            self.out.s("] ");
                        }
                        true
                    }
                }
                3 => self.sctp_sack(body),
                _ => true,
            };
            if !ok {
                self.out.s("bogus chunk length ");
                self.out.n(clen);
                self.out.c(b']');
                return;
            }
            pos += usize::from(clen);
            remaining = remaining.wrapping_sub(u32::from(clen));
            if !vv {
                sep = ", (";
            }
            if align != 0 {
                if b.len() < pos + usize::from(align) {
                    trunc(self.out, "sctp");
                    return;
                }
                pos += usize::from(align);
                remaining = remaining.wrapping_sub(u32::from(align));
            }
            count += 1;
        }
    }

    /// A DATA chunk's flags and header, and under -vv its payload (M3UA decoded, the rest as
    /// hex).
    fn sctp_data(&mut self, body: &[u8], flags: u8, forces_port: bool) -> Data {
        if flags & 4 != 0 {
            self.out.s("(U)");
        }
        if flags & 2 != 0 {
            self.out.s("(B)");
        }
        if flags & 1 != 0 {
            self.out.s("(E)");
        }
        if flags & 7 != 0 {
            self.out.c(b' ');
        }
        if body.len() < 12 {
            return Data::Bogus;
        }
        let ppid = get_be32(body, 8).unwrap_or(0);
        self.out.s("[TSN: ");
        self.out.n(get_be32(body, 0).unwrap_or(0));
        self.out.s("] [SID: ");
        self.out.n(get_be16(body, 4).unwrap_or(0));
        self.out.s("] [SSEQ ");
        self.out.n(get_be16(body, 6).unwrap_or(0));
        self.out.s("] [PPID ");
        match ppid_name(ppid) {
            Some(n) => self.out.s(n),
            None => {
                self.out.s("0x");
                self.out.hexn(ppid);
            }
        }
        self.out.s("] ");
        let payload = &body[12..];
        if payload.is_empty() {
            return Data::Bogus;
        }
        if forces_port || (21..=23).contains(&ppid) {
            // tcpdump's ForCES printer: not decoded here (the crafted tests avoid it).
            return Data::Printed;
        }
        if self.opts.verbose >= 2 {
            if ppid == PPID_M3UA {
                if !self.m3ua(payload) {
                    return Data::Cut;
                }
            } else {
                self.out.s("[Payload");
                if matches!(self.opts.dump, DumpMode::None | DumpMode::Ascii) {
                    self.out.c(b':');
                    self.default_print(payload);
                }
                self.out.c(b']');
            }
        }
        Data::Printed
    }

    fn sctp_sack(&mut self, body: &[u8]) -> bool {
        if body.len() < 12 {
            return false;
        }
        let cum = get_be32(body, 0).unwrap_or(0);
        let gaps = get_be16(body, 8).unwrap_or(0);
        let dups = get_be16(body, 10).unwrap_or(0);
        self.out.s("[cum ack ");
        self.out.n(cum);
        self.out.s("] [a_rwnd ");
        self.out.n(get_be32(body, 4).unwrap_or(0));
        self.out.s("] [#gap acks ");
        self.out.n(gaps);
        self.out.s("] [#dup tsns ");
        self.out.n(dups);
        self.out.s("] ");
        let mut pos = 12;
        let mut i = 0;
        while pos < body.len() && i < gaps {
            if body.len() - pos < 4 {
                return false;
            }
            let s = get_be16(body, pos).unwrap_or(0);
            let e = get_be16(body, pos + 2).unwrap_or(0);
            self.out.s("\n\t\t[gap ack block #");
            self.out.n(i + 1);
            self.out.s(": start = ");
            self.out.n(cum.wrapping_add(u32::from(s)));
            self.out.s(", end = ");
            self.out.n(cum.wrapping_add(u32::from(e)));
            self.out.s("] ");
            pos += 4;
            i += 1;
        }
        let mut i = 0;
        while pos < body.len() && i < dups {
            if body.len() - pos < 4 {
                return false;
            }
            self.out.s("\n\t\t[dup TSN #");
            self.out.n(i + 1);
            self.out.s(": ");
            self.out.n(get_be32(body, pos).unwrap_or(0));
            self.out.s("] ");
            pos += 4;
            i += 1;
        }
        true
    }

    /// An M3UA message (RFC 4666), as tcpdump's -vv prints a DATA chunk with PPID 3: its
    /// class and type, then its parameters (`m` is the whole message, always captured: the
    /// SCTP printer checks the chunk first, but a parameter may claim more); `false` when a
    /// parameter runs past the chunk: tcpdump's `[|m3ua]` then ends the packet.
    fn m3ua(&mut self, m: &[u8]) -> bool {
        if m.len() < 8 {
            self.out.s(" (invalid)");
            return true;
        }
        if m[0] != 1 {
            return true;
        }
        let (class, ty) = (m[2], m[3]);
        self.out.s("\n\t\t");
        let types: Option<&[&str]> = match class {
            0 => {
                self.out.s("Management");
                Some(&["Error", "Notify"])
            }
            1 => {
                self.out.s("Transfer");
                Some(&["", "Data"])
            }
            2 => {
                self.out.s("SS7");
                Some(&[
                    "",
                    "Destination Unavailable",
                    "Destination Available",
                    "Destination State Audit",
                    "Signalling Congestion",
                    "Destination User Part Unavailable",
                    "Destination Restricted",
                ])
            }
            3 => {
                self.out.s("ASP");
                Some(&[
                    "",
                    "Up",
                    "Down",
                    "Heartbeat",
                    "Up Acknowledgement",
                    "Down Acknowledgement",
                    "Heartbeat Acknowledgement",
                ])
            }
            4 => {
                self.out.s("ASP");
                Some(&[
                    "",
                    "Active",
                    "Inactive",
                    "Active Acknowledgement",
                    "Inactive Acknowledgement",
                ])
            }
            9 => {
                self.out.s("Routing Key Management");
                Some(&[
                    "",
                    "Registration Request",
                    "Registration Response",
                    "Deregistration Request",
                    "Deregistration Response",
                ])
            }
            c => {
                self.out.s("Unknown message class ");
                self.out.n(c);
                None
            }
        };
        if let Some(names) = types {
            self.out.c(b' ');
            match names.get(usize::from(ty)).filter(|n| !n.is_empty()) {
                Some(n) => self.out.s(n),
                None => {
                    self.out.s("Unknown (0x");
                    self.out.hex(u32::from(ty), 2);
                    self.out.c(b')');
                }
            }
            self.out.s(" Message");
        }
        let len = get_be32(m, 4).unwrap_or(0);
        if len as usize != m.len() {
            self.out.s("\n\t\t\t@@@@@@ Corrupted length ");
            self.out.n(len);
            self.out.s(" of message @@@@@@");
            return true;
        }
        let tags = &m[8..];
        let mut p = 0;
        while p < tags.len() {
            if p + 4 > tags.len() {
                self.out.s(" (invalid)");
                return true;
            }
            let tag = get_be16(tags, p).unwrap_or(0);
            self.out.s("\n\t\t\t");
            match m3ua_param_name(tag) {
                Some(n) => self.out.s(n),
                None => {
                    self.out.s("Unknown Parameter (0x");
                    self.out.hex(u32::from(tag), 4);
                    self.out.c(b')');
                }
            }
            self.out.s(": ");
            let hlen = usize::from(get_be16(tags, p + 2).unwrap_or(0));
            if hlen < 4 {
                self.out.s(" (invalid)");
                return true;
            }
            let align = (4 - (p + hlen) % 4) % 4;
            if p + hlen + align > tags.len() {
                trunc(self.out, "m3ua");
                return false;
            }
            match tag {
                0x0200 | 0x0006 | 0x0013 => {
                    if hlen - 4 < 4 {
                        self.out.s(" (invalid)");
                    } else {
                        // tcpdump 4.99 reads the value from the parameter's start: its tag
                        // and length show, not the value.
                        self.out.s("0x");
                        self.out.hex(get_be32(tags, p).unwrap_or(0), 8);
                    }
                }
                _ => {
                    self.out.s("(length ");
                    self.out.n(hlen);
                    self.out.c(b')');
                }
            }
            p += hlen + align;
        }
        true
    }
}

/// How a DATA chunk's print ended.
enum Data {
    Printed,
    /// Too short for its header, or without payload: `bogus chunk length N]` ends the packet.
    Bogus,
    /// Its M3UA payload ran past the chunk: `[|m3ua]` ends the packet.
    Cut,
}

fn forces(sport: u16, dport: u16) -> bool {
    FORCES_PORTS.contains(&sport) || FORCES_PORTS.contains(&dport)
}

/// tcpdump 4.99's chunk names (`sctp_chunkid_str`).
fn chunk_name(id: u8) -> Option<&'static str> {
    Some(match id {
        0x00 => "DATA",
        0x01 => "INIT",
        0x02 => "INIT ACK",
        0x03 => "SACK",
        0x04 => "HB REQ",
        0x05 => "HB ACK",
        0x06 => "ABORT",
        0x07 => "SHUTDOWN",
        0x08 => "SHUTDOWN ACK",
        0x09 => "OP ERR",
        0x0a => "COOKIE ECHO",
        0x0b => "COOKIE ACK",
        0x0c => "ECN ECHO",
        0x0d => "ECN CWR",
        0x0e => "SHUTDOWN COMPLETE",
        0xc0 => "FOR CUM TSN",
        0xc1 => "REL CTRL",
        0xc2 => "REL CTRL ACK",
        _ => return None,
    })
}

/// tcpdump's names of DATA payload protocol identifiers (`PayloadProto_idents`).
fn ppid_name(p: u32) -> Option<&'static str> {
    const NAMES: [&str; 28] = [
        "",
        "ISDN Q.921",
        "M2UA",
        "M3UA",
        "SUA",
        "M2PA",
        "V5.2",
        "H.248",
        "BICC",
        "TALI",
        "DUA",
        "ASAP",
        "ENRP",
        "H.323",
        "Q.IPC",
        "SIMCO",
        "DDPSC",
        "DDPSSC",
        "S1AP",
        "RUA",
        "HNBAP",
        "ForCES HP",
        "ForCES MP",
        "ForCES LP",
        "SBc-AP",
        "NBAP",
        "",
        "X2AP",
    ];
    NAMES.get(p as usize).copied().filter(|n| !n.is_empty())
}

fn m3ua_param_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0x0004 => "INFO String",
        0x0006 => "Routing Context",
        0x0007 => "Diagnostic Info",
        0x0009 => "Heartbeat Data",
        0x000b => "Traffic Mode Type",
        0x000c => "Error Code",
        0x000d => "Status",
        0x0011 => "ASP Identifier",
        0x0012 => "Affected Point Code",
        0x0013 => "Correlation ID",
        0x0200 => "Network Appearance",
        0x0204 => "User/Cause",
        0x0205 => "Congestion Indications",
        0x0206 => "Concerned Destination",
        0x0207 => "Routing Key",
        0x0208 => "Registration Result",
        0x0209 => "Deregistration Result",
        0x020a => "Local Routing Key Identifier",
        0x020b => "Destination Point Code",
        0x020c => "Service Indicators",
        0x020e => "Originating Point Code List",
        0x0210 => "Protocol Data",
        0x0212 => "Registration Status",
        0x0213 => "Deregistration Status",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v};

    fn packet(chunks: &[u8]) -> Vec<u8> {
        let mut s = vec![0x13, 0x88, 0x17, 0x70, 0, 0, 0, 1, 0, 0, 0, 0];
        s.extend_from_slice(chunks);
        ipv4(132, &s)
    }

    #[test]
    fn init_data_and_cuts() {
        let init = [
            1, 0, 0, 20, 0, 0, 0, 7, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1,
        ];
        let p = packet(&init);
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.5000 > 198.18.0.2.6000: sctp (1) [INIT] [init tag: 7] [rwnd: 65536] [OS: 10] [MIS: 10] [init TSN: 1] "
        );
        assert_eq!(
            line_v(&p[..p.len() - 1], 0),
            "IP 198.18.0.1.5000 > 198.18.0.2.6000: sctp [|sctp]"
        );
        assert_eq!(line_v(&p[..25], 0), "IP  [|sctp]");
        let data = [
            0, 3, 0, 17, 0, 0, 0, 5, 0, 1, 0, 2, 0, 0, 0, 0x2a, b'x', 0, 0, 0,
        ];
        let p = packet(&data);
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.5000 > 198.18.0.2.6000: sctp (1) [DATA] (B)(E) [TSN: 5] [SID: 1] [SSEQ 2] [PPID 0x2a] "
        );
        assert_eq!(
            line_v(&p[..p.len() - 1], 0),
            "IP 198.18.0.1.5000 > 198.18.0.2.6000: sctp (1) [DATA] (B)(E) [TSN: 5] [SID: 1] [SSEQ 2] [PPID 0x2a]  [|sctp]"
        );
    }
}

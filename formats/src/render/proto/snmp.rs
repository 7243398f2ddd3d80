//! SNMP v1, v2c and v3 (tcpdump's `print-snmp.c`, its own ASN.1 BER reader), as tcpdump 4.99
//! prints it with `-nn` (object identifiers as numbers: `-n` turns off its compiled-in MIB
//! names) and without libsmi.
//!
//! tcpdump checks that the whole of each element was captured before it decodes it, and the
//! outermost SEQUENCE holds the whole message, so a message cut anywhere prints `[|snmp]`
//! only.

use super::{trunc, Printer};
use crate::render::text::Out;

/// The SNMP agent and trap ports.
pub(super) const PORT: u16 = 161;
pub(super) const TRAP_PORT: u16 = 162;

const UNIVERSAL: [&str; 18] = [
    "U-0",
    "Boolean",
    "Integer",
    "Bitstring",
    "String",
    "Null",
    "ObjID",
    "ObjectDes",
    "U-8",
    "U-9",
    "U-10",
    "U-11",
    "U-12",
    "U-13",
    "U-14",
    "U-15",
    "Sequence",
    "Set",
];
const APPLICATION: [&str; 7] = [
    "IpAddress",
    "Counter",
    "Gauge",
    "TimeTicks",
    "Opaque",
    "C-5",
    "Counter64",
];
const CONTEXT: [&str; 9] = [
    "GetRequest",
    "GetNextRequest",
    "GetResponse",
    "SetRequest",
    "Trap",
    "GetBulk",
    "Inform",
    "V2Trap",
    "Report",
];
const PRIVATE: [&str; 1] = ["P-0"];
const EXCEPTIONS: [&str; 3] = ["noSuchObject", "noSuchInstance", "endOfMibView"];
const ERROR_STATUS: [&str; 19] = [
    "noError",
    "tooBig",
    "noSuchName",
    "badValue",
    "readOnly",
    "genErr",
    "noAccess",
    "wrongType",
    "wrongLength",
    "wrongEncoding",
    "wrongValue",
    "noCreation",
    "inconsistentValue",
    "resourceUnavailable",
    "commitFailed",
    "undoFailed",
    "authorizationError",
    "notWritable",
    "inconsistentName",
];
const GENERIC_TRAP: [&str; 7] = [
    "coldStart",
    "warmStart",
    "linkDown",
    "linkUp",
    "authenticationFailure",
    "egpNeighborLoss",
    "enterpriseSpecific",
];

const GETREQ: u32 = 0;
const GETNEXTREQ: u32 = 1;
const SETREQ: u32 = 3;
const TRAP: u32 = 4;
const GETBULKREQ: u32 = 5;
const INFORMREQ: u32 = 6;
const V2TRAP: u32 = 7;
const REPORT: u32 = 8;

/// tcpdump's class names: its table's macro stringizes `x`, so every class is named "x" in
/// its messages.
fn class_ids(class: u8) -> &'static [&'static str] {
    match class {
        0 => &UNIVERSAL,
        1 => &APPLICATION,
        2 => &CONTEXT,
        _ => &PRIVATE,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Any,
    Null,
    Octet,
    Oid,
    Int,
    Uns,
    Str,
    Seq,
    InetAddr,
    Pdu,
    Uns64,
    Exception,
}

/// One decoded element (tcpdump's `struct be`).
#[derive(Clone, Copy)]
struct Be<'a> {
    ty: Ty,
    id: u32,
    /// The content (asnlen bytes, all captured).
    data: &'a [u8],
    int: i32,
    uns: u32,
    uns64: u64,
}

impl Printer<'_> {
    pub(super) fn snmp(&mut self, msg: &[u8], length: usize) {
        self.out.c(b' ');
        let length = length as u32;
        let Some((e, count)) = self.asn1_parse(msg, length) else {
            return;
        };
        if e.ty != Ty::Seq {
            self.out.s("[!init SEQ]");
            self.asn1_print(&e);
            return;
        }
        if count < length {
            self.out.c(b'[');
            self.out.n(length - count);
            self.out.s(" extra after iSEQ]");
        }
        let mut np = e.data;
        let mut len = e.data.len() as u32;
        let Some((e, count)) = self.asn1_parse(np, len) else {
            return;
        };
        if e.ty != Ty::Int {
            self.out.s("[version!=INT]");
            self.asn1_print(&e);
            return;
        }
        let version = e.int;
        match version {
            0 | 1 | 3 => {
                if self.opts.verbose > 0 {
                    self.out.s("{ ");
                    self.out
                        .s(["SNMPv1", "SNMPv2c", "SNMPv2u", "SNMPv3"][version as usize]);
                    self.out.c(b' ');
                }
            }
            v => {
                self.out.s("SNMP [version = ");
                self.out.n(v);
                self.out.c(b']');
                return;
            }
        }
        len -= count;
        np = &np[count as usize..];
        if version == 3 {
            self.snmp_v3(np, len);
        } else {
            self.snmp_community(np, len, version);
        }
        if self.opts.verbose > 0 {
            self.out.s("} ");
        }
    }

    /// tcpdump's asn1_parse: the element at the start of `p` (captured bytes) within `len`
    /// declared bytes, and the bytes it took; `None` after printing why it cannot be read.
    fn asn1_parse<'a>(&mut self, p: &'a [u8], mut len: u32) -> Option<(Be<'a>, u32)> {
        let mut e = Be {
            ty: Ty::Any,
            id: 0,
            data: &[],
            int: 0,
            uns: 0,
            uns64: 0,
        };
        if len < 1 {
            self.out.s("[nothing to parse]");
            return None;
        }
        let mut pos = 0usize;
        let get = |out: &mut Vec<u8>, pos: usize| -> Option<u8> {
            let b = p.get(pos).copied();
            if b.is_none() {
                trunc(out, "snmp");
            }
            b
        };
        let first = get(self.out, pos)?;
        let mut id = u32::from(first & 0x1f);
        let form = (first & 0x20) >> 5;
        let class = (first & 0xc0) >> 6;
        pos += 1;
        len -= 1;
        if id == 0x1f {
            id = 0;
            while get(self.out, pos)? & 0x80 != 0 {
                if len < 1 {
                    self.out.s("[Xtagfield?]");
                    return None;
                }
                id = (id << 7) | u32::from(p[pos] & 0x7f);
                len -= 1;
                pos += 1;
            }
            if len < 1 {
                self.out.s("[Xtagfield?]");
                return None;
            }
            id = (id << 7) | u32::from(p[pos]);
            len -= 1;
            pos += 1;
        }
        e.id = id;
        if len < 1 {
            self.out.s("[no asnlen]");
            return None;
        }
        let mut asnlen = u32::from(get(self.out, pos)?);
        pos += 1;
        len -= 1;
        if asnlen & 0x80 != 0 {
            let noct = asnlen % 0x80;
            asnlen = 0;
            if len < noct {
                self.out.s("[asnlen? ");
                self.out.n(len as i32);
                self.out.c(b'<');
                self.out.n(noct as i32);
                self.out.c(b']');
                return None;
            }
            if p.len() < pos + noct as usize {
                trunc(self.out, "snmp");
                return None;
            }
            for _ in 0..noct {
                asnlen = (asnlen << 8) | u32::from(p[pos]);
                pos += 1;
                len -= 1;
            }
        }
        if len < asnlen {
            self.out.s("[len");
            self.out.n(len as i32);
            self.out.s("<asnlen");
            self.out.n(asnlen);
            self.out.c(b']');
            return None;
        }
        let ids = class_ids(class);
        if id as usize >= ids.len() {
            self.out.s("[id?");
            self.out.c(if form == 0 { b'P' } else { b'C' });
            self.out.s("/x/");
            self.out.n(id as i32);
            self.out.c(b']');
            return None;
        }
        let Some(data) = p.get(pos..pos + asnlen as usize) else {
            trunc(self.out, "snmp");
            return None;
        };
        e.data = data;
        let name = ids[id as usize];
        match (form, class) {
            (0, 0) => match id {
                4 => e.ty = Ty::Str,
                2 => {
                    e.ty = Ty::Int;
                    if asnlen == 0 {
                        self.out.s("[asnlen=0]");
                        return None;
                    }
                    let mut v: u32 = if data[0] & 0x80 != 0 { u32::MAX } else { 0 };
                    for &b in data {
                        v = (v << 8) | u32::from(b);
                    }
                    e.int = v as i32;
                }
                6 => e.ty = Ty::Oid,
                5 => e.ty = Ty::Null,
                _ => {
                    e.ty = Ty::Octet;
                    self.out.s("[P/U/");
                    self.out.s(name);
                    self.out.c(b']');
                }
            },
            (0, 1) => match id {
                0 => e.ty = Ty::InetAddr,
                1..=3 => {
                    e.ty = Ty::Uns;
                    let mut v = 0u32;
                    for &b in data {
                        v = (v << 8).wrapping_add(u32::from(b));
                    }
                    e.uns = v;
                }
                6 => {
                    e.ty = Ty::Uns64;
                    let mut v = 0u64;
                    for &b in data {
                        v = (v << 8).wrapping_add(u64::from(b));
                    }
                    e.uns64 = v;
                }
                _ => {
                    e.ty = Ty::Octet;
                    self.out.s("[P/A/");
                    self.out.s(name);
                    self.out.c(b']');
                }
            },
            (0, 2) => {
                if id <= 2 {
                    e.ty = Ty::Exception;
                }
            }
            (0, _) => {
                self.out.s("[P/x/");
                self.out.s(name);
                self.out.c(b']');
                e.ty = Ty::Octet;
            }
            (_, 0) => {
                if id == 16 {
                    e.ty = Ty::Seq;
                } else {
                    e.ty = Ty::Octet;
                    self.out.s("C/U/");
                    self.out.s(name);
                }
            }
            (_, 2) => e.ty = Ty::Pdu,
            _ => {
                e.ty = Ty::Octet;
                self.out.s("C/x/");
                self.out.s(name);
            }
        }
        Some((e, pos as u32 + asnlen))
    }

    fn asn1_octets(&mut self, e: &Be<'_>) {
        for &b in e.data {
            self.out.c(b'_');
            self.out.hex(u32::from(b), 2);
        }
    }

    fn asn1_string(&mut self, e: &Be<'_>) {
        if e.data.iter().all(|&c| (0x20..0x7f).contains(&c)) {
            self.out.c(b'"');
            self.out.b(e.data);
            self.out.c(b'"');
        } else {
            for (i, &b) in e.data.iter().enumerate() {
                if i > 0 {
                    self.out.c(b'_');
                }
                self.out.hex(u32::from(b), 2);
            }
        }
    }

    fn asn1_print(&mut self, e: &Be<'_>) {
        match e.ty {
            Ty::Octet => self.asn1_octets(e),
            Ty::Null => {}
            Ty::Oid => {
                let mut first = true;
                let mut o = 0u32;
                for &b in e.data {
                    o = (o << 7).wrapping_add(u32::from(b & 0x7f));
                    if b & 0x80 != 0 {
                        continue;
                    }
                    if first {
                        first = false;
                        let s = (o / 40).min(2);
                        self.out.c(b'.');
                        self.out.n(s);
                        o -= s * 40;
                    }
                    self.out.c(b'.');
                    self.out.n(o);
                    o = 0;
                }
            }
            Ty::Int => self.out.n(e.int),
            Ty::Uns => self.out.n(e.uns),
            Ty::Uns64 => self.out.n(e.uns64),
            Ty::Str => self.asn1_string(e),
            Ty::Seq => {
                self.out.s("Seq(");
                self.out.n(e.data.len());
                self.out.c(b')');
            }
            Ty::InetAddr => {
                if e.data.len() != 4 {
                    self.out.s("[inetaddr len!=4]");
                }
                for (i, &b) in e.data.iter().enumerate() {
                    if i > 0 {
                        self.out.c(b'.');
                    }
                    self.out.n(b);
                }
            }
            Ty::Exception => {
                self.out.c(b'[');
                self.out.s(EXCEPTIONS[e.id as usize]);
                self.out.c(b']');
            }
            Ty::Pdu => {
                self.out.s(CONTEXT[e.id as usize]);
                self.out.c(b'(');
                self.out.n(e.data.len());
                self.out.c(b')');
            }
            Ty::Any => self.out.s("[BE_ANY!?]"),
        }
    }

    /// Parses the next element, checks its type (printing tcpdump's `[what!=TYPE]` and the
    /// element when it differs) and advances `np`/`len` past it.
    fn snmp_next<'a>(
        &mut self,
        np: &mut &'a [u8],
        len: &mut u32,
        ty: Ty,
        what: &str,
    ) -> Option<Be<'a>> {
        let (e, count) = self.asn1_parse(np, *len)?;
        if e.ty != ty {
            self.out.c(b'[');
            self.out.s(what);
            self.out.c(b']');
            self.asn1_print(&e);
            return None;
        }
        *len -= count;
        *np = &np[count as usize..];
        Some(e)
    }

    fn snmp_community(&mut self, mut np: &[u8], mut len: u32, version: i32) {
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Str, "comm!=STR") else {
            return;
        };
        if e.data != b"public" {
            self.out.s("C=");
            self.asn1_string(&e);
            self.out.c(b' ');
        }
        self.snmp_pdu(np, len, version);
    }

    fn snmp_pdu(&mut self, np: &[u8], length: u32, version: i32) {
        let Some((pdu, count)) = self.asn1_parse(np, length) else {
            return;
        };
        if pdu.ty != Ty::Pdu {
            self.out.s("[no PDU]");
            return;
        }
        if count < length {
            self.out.c(b'[');
            self.out.n(length - count);
            self.out.s(" extra after PDU]");
        }
        if self.opts.verbose > 0 {
            self.out.s("{ ");
        }
        self.asn1_print(&pdu);
        self.out.c(b' ');
        if version == 0 && matches!(pdu.id, GETBULKREQ | INFORMREQ | V2TRAP | REPORT) {
            self.out.s("[v2 PDU in v1 message]");
            return;
        }
        if version == 1 && pdu.id == TRAP {
            self.out.s("[v1 PDU in v2 message]");
            return;
        }
        let len = pdu.data.len() as u32;
        if pdu.id == TRAP {
            self.snmp_trap(pdu.data, len);
        } else {
            self.snmp_request(pdu.id, pdu.data, len);
        }
        if self.opts.verbose > 0 {
            self.out.s(" } ");
        }
    }

    fn snmp_request(&mut self, pduid: u32, mut np: &[u8], mut len: u32) {
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Int, "reqId!=INT") else {
            return;
        };
        if self.opts.verbose > 0 {
            self.out.s("R=");
            self.out.n(e.int);
            self.out.c(b' ');
        }
        let strict = matches!(
            pduid,
            GETREQ | GETNEXTREQ | SETREQ | INFORMREQ | V2TRAP | REPORT
        );
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Int, "errorStatus!=INT") else {
            return;
        };
        let mut error_status = 0;
        if strict && e.int != 0 {
            self.out.s("[errorStatus(");
            self.error_status(e.int);
            self.out.s(")!=0]");
        } else if pduid == GETBULKREQ {
            self.out.s(" N=");
            self.out.n(e.int);
        } else if e.int != 0 {
            self.out.c(b' ');
            self.error_status(e.int);
            error_status = e.int;
        }
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Int, "errorIndex!=INT") else {
            return;
        };
        if strict && e.int != 0 {
            self.out.s("[errorIndex(");
            self.out.n(e.int);
            self.out.s(")!=0]");
        } else if pduid == GETBULKREQ {
            self.out.s(" M=");
            self.out.n(e.int);
        } else if e.int != 0 {
            if error_status == 0 {
                self.out.s("[errorIndex(");
                self.out.n(e.int);
                self.out.s(") w/o errorStatus]");
            } else {
                self.out.c(b'@');
                self.out.n(e.int);
            }
        } else if error_status != 0 {
            self.out.s("[errorIndex==0]");
        }
        self.snmp_varbinds(pduid, np, len);
    }

    fn error_status(&mut self, e: i32) {
        match ERROR_STATUS.get(e as usize).filter(|_| e >= 0) {
            Some(n) => self.out.s(n),
            None => {
                self.out.s("err=");
                self.out.n(e as u32);
            }
        }
    }

    fn snmp_trap(&mut self, mut np: &[u8], mut len: u32) {
        self.out.c(b' ');
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Oid, "enterprise!=OID") else {
            return;
        };
        self.asn1_print(&e);
        self.out.c(b' ');
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::InetAddr, "agent-addr!=INETADDR")
        else {
            return;
        };
        self.asn1_print(&e);
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Int, "generic-trap!=INT") else {
            return;
        };
        let generic = e.int;
        self.out.c(b' ');
        match GENERIC_TRAP.get(generic as usize).filter(|_| generic >= 0) {
            Some(n) => self.out.s(n),
            None => {
                self.out.s("gt=");
                self.out.n(generic);
            }
        }
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Int, "specific-trap!=INT") else {
            return;
        };
        if generic != 6 {
            if e.int != 0 {
                self.out.s("[specific-trap(");
                self.out.n(e.int);
                self.out.s(")!=0]");
            }
        } else {
            self.out.s(" s=");
            self.out.n(e.int);
        }
        self.out.c(b' ');
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Uns, "time-stamp!=TIMETICKS") else {
            return;
        };
        self.asn1_print(&e);
        self.snmp_varbinds(TRAP, np, len);
    }

    fn snmp_varbinds(&mut self, pduid: u32, np: &[u8], length: u32) {
        let Some((e, count)) = self.asn1_parse(np, length) else {
            return;
        };
        if e.ty != Ty::Seq {
            self.out.s("[!SEQ of varbind]");
            self.asn1_print(&e);
            return;
        }
        if count < length {
            self.out.c(b'[');
            self.out.n(length - count);
            self.out.s(" extra after SEQ of varbind]");
        }
        let read = matches!(pduid, GETREQ | GETNEXTREQ | GETBULKREQ);
        let mut rest = e.data;
        let mut len = e.data.len() as u32;
        while len > 0 {
            self.out.c(b' ');
            let Some((vb, count)) = self.asn1_parse(rest, len) else {
                return;
            };
            if vb.ty != Ty::Seq {
                self.out.s("[!varbind]");
                self.asn1_print(&vb);
                return;
            }
            let next = &rest[count as usize..];
            let next_len = len - count;
            let mut np = vb.data;
            let mut vlen = vb.data.len() as u32;
            let Some(name) = self.snmp_next(&mut np, &mut vlen, Ty::Oid, "objName!=OID") else {
                return;
            };
            self.asn1_print(&name);
            if !read {
                self.out.c(b'=');
            }
            let Some((val, _)) = self.asn1_parse(np, vlen) else {
                return;
            };
            if read {
                if val.ty != Ty::Null {
                    self.out.s("[objVal!=NULL]");
                    self.asn1_print(&val);
                }
            } else if val.ty != Ty::Null {
                self.asn1_print(&val);
            }
            rest = next;
            len = next_len;
        }
    }

    fn snmp_v3(&mut self, np0: &[u8], xlength: u32) {
        let Some((e, _)) = self.asn1_parse(np0, xlength) else {
            return;
        };
        if e.ty != Ty::Seq {
            self.out.s("[!message]");
            self.asn1_print(&e);
            return;
        }
        let mut np = e.data;
        let mut len = e.data.len() as u32;
        if self.opts.verbose > 0 {
            self.out.s("{ ");
        }
        if self
            .snmp_next(&mut np, &mut len, Ty::Int, "msgID!=INT")
            .is_none()
            || self
                .snmp_next(&mut np, &mut len, Ty::Int, "msgMaxSize!=INT")
                .is_none()
        {
            return;
        }
        let Some((e, count)) = self.asn1_parse(np, len) else {
            return;
        };
        if e.ty != Ty::Str {
            self.out.s("[msgFlags!=STR]");
            self.asn1_print(&e);
            return;
        }
        if e.data.len() != 1 {
            self.out.s("[msgFlags size ");
            self.out.n(e.data.len());
            self.out.c(b']');
            return;
        }
        let flags = e.data[0];
        if !matches!(flags, 0 | 1 | 3 | 4 | 5 | 7) {
            self.out.s("[msgFlags=0x");
            for d in [flags >> 4, flags & 0xf] {
                self.out.c(b"0123456789ABCDEF"[usize::from(d)]);
            }
            self.out.c(b']');
            return;
        }
        len -= count;
        np = &np[count as usize..];
        self.out.s("F=");
        if flags & 1 != 0 {
            self.out.c(b'a');
        }
        if flags & 2 != 0 {
            self.out.c(b'p');
        }
        if flags & 4 != 0 {
            self.out.c(b'r');
        }
        self.out.c(b' ');
        let Some((e, count)) = self.asn1_parse(np, len) else {
            return;
        };
        if e.ty != Ty::Int {
            self.out.s("[msgSecurityModel!=INT]");
            self.asn1_print(&e);
            return;
        }
        let model = e.int;
        len -= count;
        np = &np[count as usize..];
        if count < len {
            self.out.c(b'[');
            self.out.n(len - count);
            self.out.s(" extra after message SEQ]");
        }
        if self.opts.verbose > 0 {
            self.out.s("} ");
        }
        if model == 3 {
            if self.opts.verbose > 0 {
                self.out.s("{ USM ");
            }
        } else {
            self.out.s("[security model ");
            self.out.n(model);
            self.out.c(b']');
            return;
        }
        // tcpdump goes on from where the header's fields ended, with the length left of
        // the whole message after them.
        let off = np.as_ptr() as usize - np0.as_ptr() as usize;
        let mut np = &np0[off.min(np0.len())..];
        let mut len = xlength.wrapping_sub(off as u32);
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Str, "msgSecurityParameters!=STR")
        else {
            return;
        };
        self.snmp_usm(e.data, e.data.len() as u32);
        if self.opts.verbose > 0 {
            self.out.s("} ");
            self.out.s("{ ScopedPDU ");
        }
        self.snmp_scoped_pdu(np, len);
        if self.opts.verbose > 0 {
            self.out.s("} ");
        }
    }

    fn snmp_usm(&mut self, np: &[u8], length: u32) {
        let Some((e, _)) = self.asn1_parse(np, length) else {
            return;
        };
        if e.ty != Ty::Seq {
            self.out.s("[!usm]");
            self.asn1_print(&e);
            return;
        }
        let mut np = e.data;
        let mut len = e.data.len() as u32;
        if self
            .snmp_next(&mut np, &mut len, Ty::Str, "msgAuthoritativeEngineID!=STR")
            .is_none()
        {
            return;
        }
        let Some(e) = self.snmp_next(
            &mut np,
            &mut len,
            Ty::Int,
            "msgAuthoritativeEngineBoots!=INT",
        ) else {
            return;
        };
        if self.opts.verbose > 0 {
            self.out.s("B=");
            self.out.n(e.int);
            self.out.c(b' ');
        }
        let Some(e) = self.snmp_next(
            &mut np,
            &mut len,
            Ty::Int,
            "msgAuthoritativeEngineTime!=INT",
        ) else {
            return;
        };
        if self.opts.verbose > 0 {
            self.out.s("T=");
            self.out.n(e.int);
            self.out.c(b' ');
        }
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Str, "msgUserName!=STR") else {
            return;
        };
        self.out.s("U=");
        self.asn1_string(&e);
        self.out.c(b' ');
        if self
            .snmp_next(
                &mut np,
                &mut len,
                Ty::Str,
                "msgAuthenticationParameters!=STR",
            )
            .is_none()
        {
            return;
        }
        let before = len;
        let Some(_) = self.snmp_next(&mut np, &mut len, Ty::Str, "msgPrivacyParameters!=STR")
        else {
            return;
        };
        let count = before - len;
        if count < len {
            self.out.c(b'[');
            self.out.n(len - count);
            self.out.s(" extra after usm SEQ]");
        }
    }

    fn snmp_scoped_pdu(&mut self, np: &[u8], length: u32) {
        let Some((e, _)) = self.asn1_parse(np, length) else {
            return;
        };
        if e.ty != Ty::Seq {
            self.out.s("[!scoped PDU]");
            self.asn1_print(&e);
            return;
        }
        let mut np = e.data;
        let mut len = e.data.len() as u32;
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Str, "contextEngineID!=STR") else {
            return;
        };
        self.out.s("E=");
        self.asn1_octets(&e);
        self.out.c(b' ');
        let Some(e) = self.snmp_next(&mut np, &mut len, Ty::Str, "contextName!=STR") else {
            return;
        };
        self.out.s("C=");
        self.asn1_string(&e);
        self.out.c(b' ');
        self.snmp_pdu(np, len, 3);
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v, udp};

    /// GetRequest sysDescr.0 from community "public".
    const GET: [u8; 39] = [
        0x30, 0x25, 0x02, 0x01, 0x00, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 0x18,
        0x02, 0x02, 0x12, 0x34, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0c, 0x30, 0x0a, 0x06,
        0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00,
    ];

    #[test]
    fn get_request_and_a_cut_message() {
        let mut m = GET.to_vec();
        m.extend_from_slice(&[0x05, 0x00]);
        m[1] += 2;
        m[14] += 2;
        m[26] += 2;
        m[28] += 2;
        let p = ipv4(17, &udp(40000, 161, &m));
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.161:  GetRequest(26)  .1.3.6.1.2.1.1.1.0"
        );
        assert_eq!(
            line_v(&p, 1).lines().nth(1).unwrap(),
            "    198.18.0.1.40000 > 198.18.0.2.161:  { SNMPv1 { GetRequest(26) R=4660  .1.3.6.1.2.1.1.1.0 } } "
        );
        assert_eq!(
            line_v(&p[..p.len() - 1], 0),
            "IP 198.18.0.1.40000 > 198.18.0.2.161:   [|snmp]"
        );
    }
}

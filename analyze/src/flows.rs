//! Bidirectional flows (conversations) with their owners, in the spirit of zeek's conn.log.
//!
//! A flow is keyed by IP protocol, both addresses and both ports (ICMP/ICMPv6 echo: the echo
//! identifier; other ICMP: type and code as the Community ID spec maps them). Its stable id is
//! the Community ID v1 (seed 0).
//!
//! Reused addresses and ports: one key may have several consecutive flows. A TCP SYN without
//! ACK starts a new flow when the connection before it on the key is over (FIN seen both ways,
//! or a RST), has been idle for longer than the TCP timeout, or when the same side's earlier
//! SYN had another initial sequence number (a new attempt, as tshark's `tcp.stream` and zeek
//! count it); a retransmitted SYN (same ISN) never does. A UDP, ICMP or other flow ends after
//! its inactivity timeout ([`Timeouts`], zeek's defaults), and its next packet starts a new one.
//! A TCP connection is not ended by idleness alone: only a new SYN after the timeout is. All
//! flows of a key share its Community ID; [`FlowRecord::reuse`] tells them apart.
//!
//! The table is built for a parallel engine: each worker fills a [`FlowTable`] from one chunk
//! of packets, and the chunks are merged in file order with [`FlowTable::merge`]. Every field
//! is kept in a form that composes (per canonical side, with the packet's index in the table,
//! never per packet), so a merged table gives exactly what one table fed every packet in order
//! gives. The one bound: a retransmission of data sent before a chunk boundary is recognised
//! among the first [`FRESH_SEGMENTS`] new-looking segments of each direction in the later
//! chunk; see [`Side`]'s notes. Where a chunk cannot tell whether a packet starts a new flow
//! (it depends on packets of earlier chunks), it starts a tentative segment that the merge
//! either joins to the flow before it or keeps as a flow of its own; see [`Seg`].
//!
//! Owners: the metadata of a packet belongs to a local process, and its role
//! (`formats::meta::Role`, which ptcap writes) says whether that process sent or received the
//! packet. Without a role (ptcpdump's files) the interface direction stands in: `Out` (or none)
//! for the side that *sent* the packet, `In` for the side that *received* it; it comes from the
//! record (`epb_flags`) or else from a cooked (SLL/SLL2) header. See
//! [`Observed::owner_direction`]. Each side's owner is the first metadata so assigned to it.
//!
//! ```
//! use analyze::flows::{FlowTable, Observed};
//! use formats::meta::PacketMeta;
//! let udp = [0x45, 0, 0, 29, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
//!            0x30, 0x39, 0x27, 0x0f, 0, 9, 0, 0, b'x'];
//! let meta = PacketMeta::default();
//! let mut t = FlowTable::new();
//! t.observe(&Observed { ts_ns: 1_000, orig_len: 29, link_type: 101, data: &udp,
//!     interface: None, direction: None, meta: &meta });
//! let flows = t.finish();
//! assert_eq!(flows[0].initiator.to_string(), "198.18.0.1:12345");
//! assert_eq!(flows[0].orig.packets, 1);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Arc;

use formats::meta::{PacketMeta, Provenance, Role};
use formats::pcapng::Direction;
use formats::wire::flow::{summarize_inner, PacketSummary, Transport, Tunnel};
use formats::wire::ipproto;
use formats::wire::tcp::flags;
use serde::Serialize;
use sha1::{Digest, Sha1};

/// One packet as the engine hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub ts_ns: u64,
    /// Length on the wire (the record's original length).
    pub orig_len: u32,
    pub link_type: u16,
    pub data: &'a [u8],
    /// The capture interface's name, when the file has one.
    pub interface: Option<&'a str>,
    /// The record's direction (`epb_flags`).
    pub direction: Option<Direction>,
    pub meta: &'a PacketMeta,
}

impl Observed<'_> {
    /// Parses the packet once, to hand to both [`FlowTable::observe_summary`] and
    /// [`crate::stats::Rollups::observe_summary`]: an encapsulated packet by its innermost IP
    /// packet, with the tunnel (`formats::wire::flow::summarize_inner`).
    pub fn summarize(&self) -> Option<PacketSummary> {
        summarize_inner(self.link_type, self.data)
    }

    /// The record's direction, else the one a cooked header states.
    pub fn direction_with(&self, s: Option<&PacketSummary>) -> Option<Direction> {
        self.direction.or(s.and_then(|s| s.link_direction))
    }

    /// Which way the packet went *for its metadata's owner*: `Out` = the owner sent it, `In` =
    /// the owner received it. The metadata's role says so when the writer knew (ptcap does);
    /// otherwise the interface direction stands in (right for a capture on the owner's own
    /// interfaces, which is what files without a role come from).
    pub fn owner_direction(&self, s: Option<&PacketSummary>) -> Option<Direction> {
        match self.meta.role {
            Role::Sender => Some(Direction::Out),
            Role::Receiver => Some(Direction::In),
            Role::Unknown => self.direction_with(s),
        }
    }
}

/// An address and, for TCP/UDP, a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: Option<u16>,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.addr, self.port) {
            (IpAddr::V6(a), Some(p)) => write!(f, "[{a}]:{p}"),
            (a, Some(p)) => write!(f, "{a}:{p}"),
            (a, None) => write!(f, "{a}"),
        }
    }
}

/// How the two 16-bit key values of a flow are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// TCP/UDP ports.
    Ports,
    /// ICMP echo: both values are the echo identifier.
    EchoId,
    /// Other ICMP: type and code mapped as the Community ID spec does.
    IcmpTypes,
    /// Anything else (and later fragments): both zero.
    Bare,
}

/// A flow's key with its endpoints in canonical order (`lo` <= `hi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub protocol: u8,
    pub kind: KeyKind,
    pub lo: (IpAddr, u16),
    pub hi: (IpAddr, u16),
}

impl FlowKey {
    /// The key of a packet and the canonical side (0 = `lo`, 1 = `hi`) that sent it.
    pub fn of(s: &PacketSummary) -> (FlowKey, usize) {
        let (kind, sp, dp) = match s.transport {
            Transport::Tcp(t) => (KeyKind::Ports, t.src_port, t.dst_port),
            Transport::Udp {
                src_port, dst_port, ..
            } => (KeyKind::Ports, src_port, dst_port),
            Transport::Icmp {
                echo_id: Some(id), ..
            } => (KeyKind::EchoId, id, id),
            Transport::Icmp {
                v6, msg_type, code, ..
            } => {
                let (a, b, _) = icmp_ports(v6, msg_type, code);
                (KeyKind::IcmpTypes, a, b)
            }
            Transport::None => (KeyKind::Bare, 0, 0),
        };
        let (a, b) = ((s.src, sp), (s.dst, dp));
        let (lo, hi, side) = if a <= b { (a, b, 0) } else { (b, a, 1) };
        (
            FlowKey {
                protocol: s.protocol,
                kind,
                lo,
                hi,
            },
            side,
        )
    }
}

/// The packet as it was before netfilter NAT rewrote it (`reply`: it travels responder to
/// originator); `None` when its protocol is not the connection's.
fn untranslate(
    s: &PacketSummary,
    n: &formats::meta::NatInfo,
    reply: bool,
) -> Option<PacketSummary> {
    if s.protocol != n.proto {
        return None;
    }
    let t = n.untranslated(reply);
    let mut u = *s;
    u.src = t.src;
    u.dst = t.dst;
    match &mut u.transport {
        Transport::Tcp(tcp) => {
            tcp.src_port = t.sport;
            tcp.dst_port = t.dport;
        }
        Transport::Udp {
            src_port, dst_port, ..
        } => {
            *src_port = t.sport;
            *dst_port = t.dport;
        }
        _ => return None,
    }
    Some(u)
}

/// ICMP type and code as the Community ID spec's port pair: a request or reply type becomes
/// (type, its counterpart); any other type is one-way, (type, code).
pub fn icmp_ports(v6: bool, msg_type: u8, code: u8) -> (u16, u16, bool) {
    let counterpart = if v6 {
        match msg_type {
            128 => Some(129),
            129 => Some(128),
            130 => Some(131),
            131 => Some(130),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match msg_type {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match counterpart {
        Some(c) => (u16::from(msg_type), c, false),
        None => (u16::from(msg_type), u16::from(code), true),
    }
}

/// The Community ID v1 of one packet's tuple: `1:` + base64(SHA-1(seed, addresses, protocol,
/// 0, ports)), endpoints ordered smaller first unless the ICMP message is one-way.
pub fn community_id(seed: u16, s: &PacketSummary) -> String {
    let (ports, one_way) = match s.transport {
        Transport::Tcp(t) => (Some((t.src_port, t.dst_port)), false),
        Transport::Udp {
            src_port, dst_port, ..
        } => (Some((src_port, dst_port)), false),
        Transport::Icmp {
            v6, msg_type, code, ..
        } => {
            let (a, b, one_way) = icmp_ports(v6, msg_type, code);
            (Some((a, b)), one_way)
        }
        Transport::None => (None, false),
    };
    community_id_of(seed, s.src, s.dst, s.protocol, ports, one_way)
}

fn addr_bytes(a: &IpAddr, out: &mut Vec<u8>) {
    match a {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

fn community_id_of(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    ports: Option<(u16, u16)>,
    one_way: bool,
) -> String {
    let (sp, dp) = ports.unwrap_or((0, 0));
    let ordered = one_way || (src, sp) <= (dst, dp);
    let (src, dst, sp, dp) = if ordered {
        (src, dst, sp, dp)
    } else {
        (dst, src, dp, sp)
    };
    let mut buf = Vec::with_capacity(44);
    buf.extend_from_slice(&seed.to_be_bytes());
    addr_bytes(&src, &mut buf);
    addr_bytes(&dst, &mut buf);
    buf.push(protocol);
    buf.push(0);
    if ports.is_some() {
        buf.extend_from_slice(&sp.to_be_bytes());
        buf.extend_from_slice(&dp.to_be_bytes());
    }
    let digest = Sha1::digest(&buf);
    let mut out = String::from("1:");
    base64(&digest, &mut out);
    out
}

/// Standard base64 with padding.
fn base64(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

/// History letters (zeek's conn.log `history`), in the order used for ties within a packet.
const LETTERS: [u8; 9] = [b'S', b'H', b'Q', b'A', b'D', b'T', b'W', b'F', b'R'];
const L_SYN: usize = 0;
const L_SYNACK: usize = 1;
const L_MULTI: usize = 2;
const L_ACK: usize = 3;
const L_DATA: usize = 4;
const L_RETRANS: usize = 5;
const L_ZEROWIN: usize = 6;
const L_FIN: usize = 7;
const L_RST: usize = 8;

/// How many new-looking data segments per direction a table remembers so that a merge can
/// tell which of them retransmit data sent before the chunk boundary.
pub const FRESH_SEGMENTS: usize = 32;

/// True when `a` comes before `b` in sequence space.
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn seq_max(a: u32, b: u32) -> u32 {
    if seq_lt(a, b) {
        b
    } else {
        a
    }
}

/// What one direction of a flow sent. Indices (`u64`) are positions in the table's packet
/// order; a merge shifts the later table's by the earlier's packet count.
///
/// Retransmissions: a data segment whose sequence number lies before the highest sequence
/// number this side had already sent. Across a chunk boundary the later chunk cannot know the
/// earlier's highest number, so it keeps its first [`FRESH_SEGMENTS`] segments that looked new
/// (their sequence numbers increase); the merge counts those below the earlier chunk's highest
/// number. Beyond that bound such retransmissions are not counted.
#[derive(Debug, Clone)]
struct Side {
    packets: u64,
    bytes: u64,
    ip_bytes: u64,
    payload_bytes: u64,
    first_ts: u64,
    last_ts: u64,
    owner: Option<PacketMeta>,
    attributed: u64,
    /// First packet that makes its sender the initiator (TCP SYN, ICMP request).
    opener: Option<u64>,
    /// First packet that makes its receiver the initiator (TCP SYN-ACK, ICMP reply).
    answer: Option<u64>,
    /// First SYN (without ACK) and SYN-ACK sent: (index, time).
    syn: Option<(u64, u64)>,
    /// The sequence number of the first SYN (without ACK) sent: every SYN this side sends in
    /// the flow has it (a SYN with another one starts a new flow).
    isn: Option<u32>,
    synack: Option<(u64, u64)>,
    /// First ACK without SYN sent: (index, time).
    first_ack: Option<(u64, u64)>,
    /// Time of the first ACK without SYN sent after the peer's first SYN-ACK.
    ack_after_peer_synack: Option<u64>,
    /// Sent a TCP packet other than SYN or SYN-ACK.
    other: bool,
    fin: bool,
    rst: bool,
    max_end: Option<u32>,
    retransmissions: u64,
    fresh: Vec<(u32, u64)>,
    fresh_overflow: bool,
    letters: [Option<u64>; LETTERS.len()],
    /// Records of packets the kernel dropped (ptcap `--drops`) this side sent, by reason:
    /// not packets of the wire (the same packet may have been captured before it was dropped),
    /// so counted apart.
    drops: BTreeMap<Arc<str>, u64>,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            packets: 0,
            bytes: 0,
            ip_bytes: 0,
            payload_bytes: 0,
            first_ts: u64::MAX,
            last_ts: 0,
            owner: None,
            attributed: 0,
            opener: None,
            answer: None,
            syn: None,
            isn: None,
            synack: None,
            first_ack: None,
            ack_after_peer_synack: None,
            other: false,
            fin: false,
            rst: false,
            max_end: None,
            retransmissions: 0,
            fresh: Vec::new(),
            fresh_overflow: false,
            letters: [None; LETTERS.len()],
            drops: BTreeMap::new(),
        }
    }
}

fn shift(v: &mut Option<u64>, off: u64) {
    if let Some(x) = v {
        *x += off;
    }
}

fn shift2(v: &mut Option<(u64, u64)>, off: u64) {
    if let Some((x, _)) = v {
        *x += off;
    }
}

impl Side {
    fn shift(&mut self, off: u64) {
        shift(&mut self.opener, off);
        shift(&mut self.answer, off);
        shift2(&mut self.syn, off);
        shift2(&mut self.synack, off);
        shift2(&mut self.first_ack, off);
        for f in &mut self.fresh {
            f.1 += off;
        }
        for l in &mut self.letters {
            shift(l, off);
        }
    }

    fn letter(&mut self, l: usize, idx: u64) {
        self.letters[l].get_or_insert(idx);
    }

    /// Folds the later table's side in; `peer_had_synack`: the peer sent a SYN-ACK in the
    /// earlier part.
    fn absorb(&mut self, l: Side, peer_had_synack: bool) {
        for (r, n) in &l.drops {
            *self.drops.entry(Arc::clone(r)).or_insert(0) += n;
        }
        self.packets += l.packets;
        self.bytes += l.bytes;
        self.ip_bytes += l.ip_bytes;
        self.payload_bytes += l.payload_bytes;
        self.first_ts = self.first_ts.min(l.first_ts);
        self.last_ts = self.last_ts.max(l.last_ts);
        if self.owner.is_none() {
            self.owner = l.owner;
        }
        self.attributed += l.attributed;
        self.opener = self.opener.or(l.opener);
        self.answer = self.answer.or(l.answer);
        self.syn = self.syn.or(l.syn);
        self.isn = self.isn.or(l.isn);
        self.synack = self.synack.or(l.synack);
        self.ack_after_peer_synack = if peer_had_synack {
            self.ack_after_peer_synack.or(l.first_ack.map(|(_, ts)| ts))
        } else {
            l.ack_after_peer_synack
        };
        self.first_ack = self.first_ack.or(l.first_ack);
        self.other |= l.other;
        self.fin |= l.fin;
        self.rst |= l.rst;
        // Retransmissions across the boundary: the later part's new-looking segments below
        // the earlier part's highest sequence number.
        self.retransmissions += l.retransmissions;
        let mut first_retrans = l.letters[L_RETRANS];
        let mut still_fresh = l.fresh.as_slice();
        if let Some(m0) = self.max_end {
            let n = l
                .fresh
                .iter()
                .take_while(|(seq, _)| seq_lt(*seq, m0))
                .count();
            self.retransmissions += n as u64;
            if n > 0 {
                let idx = l.fresh[0].1;
                first_retrans = Some(first_retrans.map_or(idx, |i| i.min(idx)));
            }
            still_fresh = &l.fresh[n..];
        }
        self.max_end = match (self.max_end, l.max_end) {
            (Some(a), Some(b)) => Some(seq_max(a, b)),
            (a, b) => a.or(b),
        };
        if !self.fresh_overflow {
            for &f in still_fresh {
                if self.fresh.len() < FRESH_SEGMENTS {
                    self.fresh.push(f);
                } else {
                    self.fresh_overflow = true;
                    break;
                }
            }
            self.fresh_overflow |= l.fresh_overflow;
        }
        for (i, v) in l.letters.iter().enumerate() {
            let v = if i == L_RETRANS { first_retrans } else { *v };
            if self.letters[i].is_none() {
                self.letters[i] = v;
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Flow {
    first_idx: u64,
    first_side: usize,
    /// The first packet's Community ID input: (sender side, ICMP type, code).
    cid_icmp: Option<(usize, bool, u8, u8)>,
    /// Time of the last packet in file order (the one before the next packet of the key).
    last_pkt_ts: u64,
    sides: [Side; 2],
    interfaces: Vec<Box<str>>,
    /// The conntrack tuples of a NATed connection (the first packet that carried them).
    nat: Option<std::sync::Arc<formats::meta::NatInfo>>,
    /// The tunnel of the first encapsulated packet (file order) and the canonical side that
    /// sent it (which orients the outer addresses).
    tunnel: Option<(Tunnel, usize)>,
}

impl Flow {
    fn new(idx: u64, side: usize, s: &PacketSummary) -> Flow {
        Flow {
            first_idx: idx,
            first_side: side,
            cid_icmp: match s.transport {
                Transport::Icmp {
                    v6, msg_type, code, ..
                } => Some((side, v6, msg_type, code)),
                _ => None,
            },
            last_pkt_ts: 0,
            sides: [Side::default(), Side::default()],
            interfaces: Vec::new(),
            nat: None,
            tunnel: None,
        }
    }

    fn shift(&mut self, off: u64) {
        self.first_idx += off;
        for s in &mut self.sides {
            s.shift(off);
        }
    }

    /// Folds in the part of the same flow that comes right after this one (file order).
    fn absorb(&mut self, later: Flow) {
        let had_synack = [
            self.sides[0].synack.is_some(),
            self.sides[1].synack.is_some(),
        ];
        let [l0, l1] = later.sides;
        self.sides[0].absorb(l0, had_synack[1]);
        self.sides[1].absorb(l1, had_synack[0]);
        for i in later.interfaces {
            if !self.interfaces.contains(&i) {
                self.interfaces.push(i);
            }
        }
        self.last_pkt_ts = later.last_pkt_ts;
        if self.nat.is_none() {
            self.nat = later.nat;
        }
        if self.tunnel.is_none() {
            self.tunnel = later.tunnel;
        }
    }

    /// FIN sent both ways, or a RST either way.
    fn closed(&self) -> bool {
        let [a, b] = &self.sides;
        (a.fin && b.fin) || a.rst || b.rst
    }
}

/// Inactivity timeouts in nanoseconds (0: none). A packet that comes longer than its
/// protocol's timeout after the previous packet of its key starts a new flow; for TCP only a
/// SYN without ACK does (it would be taken for a retransmission otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp_ns: u64,
    pub udp_ns: u64,
    pub icmp_ns: u64,
    /// Other IP protocols.
    pub other_ns: u64,
}

impl Default for Timeouts {
    /// zeek's `tcp_inactivity_timeout` (5 min), `udp_inactivity_timeout` and
    /// `icmp_inactivity_timeout` (1 min); other protocols as UDP.
    fn default() -> Self {
        const S: u64 = 1_000_000_000;
        Timeouts {
            tcp_ns: 300 * S,
            udp_ns: 60 * S,
            icmp_ns: 60 * S,
            other_ns: 60 * S,
        }
    }
}

impl Timeouts {
    /// `tcp=300,udp=60,icmp=60,other=60` (seconds, fractions allowed, 0: none); the protocols
    /// not named keep their defaults.
    pub fn parse(spec: &str) -> Result<Timeouts, String> {
        let mut t = Timeouts::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected PROTO=SECONDS"))?;
            let secs: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0 && *v < 1e9)
                .ok_or_else(|| format!("{part:?}: not a number of seconds"))?;
            let ns = (secs * 1e9).round() as u64;
            match name.trim() {
                "tcp" => t.tcp_ns = ns,
                "udp" => t.udp_ns = ns,
                "icmp" => t.icmp_ns = ns,
                "other" => t.other_ns = ns,
                n => return Err(format!("{n:?}: not one of tcp, udp, icmp, other")),
            }
        }
        Ok(t)
    }

    fn of(&self, protocol: u8) -> u64 {
        match protocol {
            ipproto::TCP => self.tcp_ns,
            ipproto::UDP => self.udp_ns,
            ipproto::ICMP | ipproto::ICMPV6 => self.icmp_ns,
            _ => self.other_ns,
        }
    }
}

/// A run of consecutive packets of one key that belong to one flow.
///
/// A table keeps a key's segments in file order. A segment is *rooted* when it is known to
/// begin a flow, so its [`Flow`] is the whole flow so far; else it may continue the flow
/// before it (in this table, or in an earlier table for the first segment). A table cuts a
/// new segment at every packet that may start a flow: rooted when the packet certainly does,
/// tentative when that depends on what came before. The key's first segment is tentative, and
/// so is a cut at a SYN whose side has no SYN yet in a tentative segment (the earlier part may
/// hold the same SYN, making this one a retransmission, or a close). Every other decision is
/// exact: a SYN whose side already sent one in the segment (same ISN: the same connection,
/// another: a new one, whatever came before, since a flow's SYNs from one side share the
/// ISN); idleness (the previous packet of the key is in the table); anything but a SYN in TCP.
/// [`FlowTable::merge`] and [`FlowTable::finish`] decide tentative segments in order against
/// the segment before them ([`decide`]), as soon as the answer no longer depends on unknown
/// packets: so merging in any grouping gives what one table fed every packet gives.
#[derive(Debug, Clone)]
struct Seg {
    rooted: bool,
    /// The first packet's time and, for a TCP SYN without ACK, (sender side, sequence number).
    start_ts: u64,
    start_syn: Option<(usize, u32)>,
    flow: Flow,
}

/// Whether a packet (time `ts`, SYN `syn`) after segment `c` starts a new flow: `None` when
/// that depends on packets before `c` (only for a tentative `c`).
fn decide(
    key: &FlowKey,
    c: &Seg,
    ts: u64,
    syn: Option<(usize, u32)>,
    t: &Timeouts,
) -> Option<bool> {
    let timeout = t.of(key.protocol);
    let idle = timeout > 0 && ts.saturating_sub(c.flow.last_pkt_ts) > timeout;
    if key.protocol != ipproto::TCP || key.kind != KeyKind::Ports {
        return Some(idle);
    }
    let Some((side, isn)) = syn else {
        // Only a SYN may begin a TCP flow.
        return Some(false);
    };
    match c.flow.sides[side].isn {
        Some(k) => Some(k != isn),
        None if c.rooted => Some(idle || c.flow.closed()),
        None => None,
    }
}

/// Appends `later` (a key's segments in a later table) to `chain`, joining or rooting each
/// tentative segment as long as the answer is known.
fn attach(key: &FlowKey, chain: &mut Vec<Seg>, later: Vec<Seg>, t: &Timeouts) {
    let mut it = later.into_iter();
    while let Some(mut seg) = it.next() {
        let last = chain.last_mut().expect("a key has a segment");
        let verdict = if seg.rooted {
            None
        } else {
            decide(key, last, seg.start_ts, seg.start_syn, t)
        };
        match verdict {
            Some(false) => last.flow.absorb(seg.flow),
            Some(true) => {
                seg.rooted = true;
                chain.push(seg);
            }
            None => {
                chain.push(seg);
                chain.extend(it);
                return;
            }
        }
    }
}

/// A fast, non-cryptographic hasher for flow keys (the table is filled from files, not from
/// an adversary that adapts to it).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// Flows of a run of packets; holds one entry per flow, never packets.
#[derive(Debug, Clone, Default)]
pub struct FlowTable {
    /// Each key's segments in file order (see [`Seg`]).
    flows: KeyMap<FlowKey, Vec<Seg>>,
    seen: u64,
    non_ip: u64,
    timeouts: Timeouts,
}

impl FlowTable {
    /// A table with zeek's default timeouts.
    pub fn new() -> FlowTable {
        FlowTable::default()
    }

    pub fn with_timeouts(timeouts: Timeouts) -> FlowTable {
        FlowTable {
            timeouts,
            ..FlowTable::default()
        }
    }

    /// Packets observed so far.
    pub fn packets(&self) -> u64 {
        self.seen
    }

    /// Packets without an IP header we could read (ARP, other link types, cut short).
    pub fn non_ip_packets(&self) -> u64 {
        self.non_ip
    }

    /// Keys (protocol, addresses, ports) seen; a key may have several flows.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn observe(&mut self, pkt: &Observed<'_>) {
        let s = pkt.summarize();
        self.observe_summary(pkt, s.as_ref());
    }

    /// [`observe`](Self::observe) with the packet already summarized (`pkt.summarize()`).
    pub fn observe_summary(&mut self, pkt: &Observed<'_>, s: Option<&PacketSummary>) {
        let idx = self.seen;
        self.seen += 1;
        let Some(s) = s else {
            self.non_ip += 1;
            return;
        };
        // One conversation across a NAT: a translated packet counts under its connection's
        // untranslated addresses (what the writer's conntrack entry says), so the packets on
        // both sides of the NAT are one flow. An encapsulated packet's conntrack entry is the
        // underlay's (its outer tuple), not the inner conversation's: not applied.
        let untranslated = pkt
            .meta
            .nat
            .as_deref()
            .filter(|_| s.tunnel.is_none())
            .and_then(|n| untranslate(s, n, pkt.meta.nat_reply));
        let s = untranslated.as_ref().unwrap_or(s);
        let (key, side) = FlowKey::of(s);
        let tcp_ports = key.protocol == ipproto::TCP && key.kind == KeyKind::Ports;
        let dropped = pkt.meta.drop.as_deref();
        let syn = match s.transport {
            // A dropped SYN is the copy of one sent (or about to be): it starts nothing.
            Transport::Tcp(t)
                if tcp_ports
                    && dropped.is_none()
                    && t.flags & (flags::SYN | flags::ACK) == flags::SYN =>
            {
                Some((side, t.seq))
            }
            _ => None,
        };
        let chain = self.flows.entry(key).or_default();
        // None: the packet continues the last segment; Some(rooted): it begins a new one.
        let cut = match chain.last() {
            None => Some(false),
            Some(_) if tcp_ports && syn.is_none() => None,
            Some(c) => match decide(&key, c, pkt.ts_ns, syn, &self.timeouts) {
                Some(true) => Some(true),
                Some(false) => None,
                None => Some(false),
            },
        };
        if let Some(rooted) = cut {
            chain.push(Seg {
                rooted,
                start_ts: pkt.ts_ns,
                start_syn: syn,
                flow: Flow::new(idx, side, s),
            });
        }
        let flow = &mut chain.last_mut().expect("just pushed").flow;
        flow.last_pkt_ts = pkt.ts_ns;
        if flow.nat.is_none() && untranslated.is_some() {
            flow.nat = pkt.meta.nat.clone();
        }
        if flow.tunnel.is_none() {
            flow.tunnel = s.tunnel.map(|t| (t, side));
        }
        if let Some(name) = pkt.interface {
            if !flow.interfaces.iter().any(|i| &**i == name) {
                flow.interfaces.push(name.into());
            }
        }
        if !pkt.meta.is_empty() {
            let owner_side = match pkt.owner_direction(Some(s)) {
                Some(Direction::In) => 1 - side,
                _ => side,
            };
            let o = &mut flow.sides[owner_side];
            o.attributed += 1;
            if o.owner.is_none() {
                o.owner = Some(pkt.meta.clone());
            }
        }
        if let Some(d) = dropped {
            let me = &mut flow.sides[side];
            me.first_ts = me.first_ts.min(pkt.ts_ns);
            me.last_ts = me.last_ts.max(pkt.ts_ns);
            match me.drops.get_mut(d.reason.as_str()) {
                Some(n) => *n += 1,
                None => {
                    me.drops.insert(d.reason.as_str().into(), 1);
                }
            }
            return;
        }
        let peer_synack = flow.sides[1 - side].synack.is_some();
        let me = &mut flow.sides[side];
        me.packets += 1;
        me.bytes += u64::from(pkt.orig_len);
        me.ip_bytes += u64::from(s.ip_len);
        me.first_ts = me.first_ts.min(pkt.ts_ns);
        me.last_ts = me.last_ts.max(pkt.ts_ns);
        match s.transport {
            Transport::Tcp(t) => {
                me.payload_bytes += u64::from(t.payload_len);
                tcp_packet(me, idx, pkt.ts_ns, &t, peer_synack);
            }
            Transport::Udp { payload_len, .. } => me.payload_bytes += u64::from(payload_len),
            Transport::Icmp {
                v6, msg_type, code, ..
            } => {
                let (_, _, one_way) = icmp_ports(v6, msg_type, code);
                if !one_way {
                    let request = if v6 {
                        matches!(msg_type, 128 | 130 | 133 | 135 | 139 | 144)
                    } else {
                        matches!(msg_type, 8 | 10 | 13 | 15 | 17)
                    };
                    if request {
                        me.opener.get_or_insert(idx);
                    } else {
                        me.answer.get_or_insert(idx);
                    }
                }
            }
            Transport::None => {}
        }
    }

    /// Folds in the table of the packets that come right after this table's (file order).
    /// Both tables must have the same timeouts.
    pub fn merge(&mut self, later: FlowTable) {
        let off = self.seen;
        self.seen += later.seen;
        self.non_ip += later.non_ip;
        for (key, mut segs) in later.flows {
            for s in &mut segs {
                s.flow.shift(off);
            }
            match self.flows.get_mut(&key) {
                None => {
                    self.flows.insert(key, segs);
                }
                Some(chain) => attach(&key, chain, segs, &self.timeouts),
            }
        }
    }

    /// The flows, sorted by first-seen time (then by first packet).
    pub fn finish(self) -> Vec<FlowRecord> {
        let mut flows: Vec<(FlowKey, u64, Flow)> = Vec::with_capacity(self.flows.len());
        for (key, segs) in self.flows {
            let mut it = segs.into_iter();
            let Some(mut first) = it.next() else {
                continue;
            };
            // Nothing comes before the table: its first segment begins a flow.
            first.rooted = true;
            let mut chain = vec![first];
            attach(&key, &mut chain, it.collect(), &self.timeouts);
            flows.extend(
                chain
                    .into_iter()
                    .enumerate()
                    .map(|(n, s)| (key, n as u64, s.flow)),
            );
        }
        flows.sort_by_key(|(_, _, f)| (f.sides[0].first_ts.min(f.sides[1].first_ts), f.first_idx));
        flows
            .into_iter()
            .map(|(k, n, f)| record(&k, f, n))
            .collect()
    }
}

fn tcp_packet(
    me: &mut Side,
    idx: u64,
    ts: u64,
    t: &formats::wire::flow::TcpSummary,
    peer_synack: bool,
) {
    let f = t.flags;
    let syn = f & flags::SYN != 0;
    let ack = f & flags::ACK != 0;
    let fin = f & flags::FIN != 0;
    let rst = f & flags::RST != 0;
    if syn && (fin || rst) {
        me.letter(L_MULTI, idx);
    }
    if syn && !ack {
        me.syn.get_or_insert((idx, ts));
        me.isn.get_or_insert(t.seq);
        me.opener.get_or_insert(idx);
        me.letter(L_SYN, idx);
    } else if syn {
        me.synack.get_or_insert((idx, ts));
        me.answer.get_or_insert(idx);
        me.letter(L_SYNACK, idx);
    } else {
        me.other = true;
        if ack {
            me.first_ack.get_or_insert((idx, ts));
            if peer_synack {
                me.ack_after_peer_synack.get_or_insert(ts);
            }
        }
    }
    if !syn && ack && !fin && !rst && t.payload_len == 0 {
        me.letter(L_ACK, idx);
    }
    if t.payload_len > 0 {
        me.letter(L_DATA, idx);
        match me.max_end {
            Some(m) if seq_lt(t.seq, m) => {
                me.retransmissions += 1;
                me.letter(L_RETRANS, idx);
            }
            _ => {
                if me.fresh.len() < FRESH_SEGMENTS {
                    me.fresh.push((t.seq, idx));
                } else {
                    me.fresh_overflow = true;
                }
            }
        }
    }
    if t.window == 0 && !syn && !rst {
        me.letter(L_ZEROWIN, idx);
    }
    if fin {
        me.fin = true;
        me.letter(L_FIN, idx);
    }
    if rst {
        me.rst = true;
        me.letter(L_RST, idx);
    }
    let end = t
        .seq
        .wrapping_add(t.payload_len)
        .wrapping_add(u32::from(syn) + u32::from(fin));
    me.max_end = Some(me.max_end.map_or(end, |m| seq_max(m, end)));
}

/// A process, container and pod owning one side of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<OwnerProcess>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<OwnerContainer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<OwnerPod>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerProcess {
    pub pid: u32,
    pub comm: String,
    pub exe: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerContainer {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerPod {
    pub name: String,
    pub namespace: String,
}

impl Owner {
    pub fn from_meta(m: &PacketMeta) -> Owner {
        Owner {
            process: m.process.as_ref().map(|p| OwnerProcess {
                pid: p.pid,
                comm: p.comm.clone(),
                exe: p.exe.clone(),
                args: p.argv.clone(),
            }),
            container: m.container.as_ref().map(|c| OwnerContainer {
                id: c.id.clone(),
                name: c.name.clone(),
            }),
            pod: m.pod.as_ref().map(|p| OwnerPod {
                name: p.name.clone(),
                namespace: p.namespace.clone(),
            }),
            provenance: m.provenance,
        }
    }

    /// `comm.pid[container]` (container name, else its id's first 12 characters).
    pub fn short(&self) -> String {
        let mut s = match &self.process {
            Some(p) => {
                let name = if p.comm.is_empty() {
                    p.exe.rsplit('/').next().unwrap_or("")
                } else {
                    &p.comm
                };
                format!("{}.{}", name, p.pid)
            }
            None => String::from("?"),
        };
        if let Some(c) = &self.container {
            let name = if c.name.is_empty() {
                c.id.get(..12).unwrap_or(&c.id)
            } else {
                &c.name
            };
            s.push('[');
            s.push_str(name);
            s.push(']');
        }
        s
    }
}

/// One direction of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideRecord {
    pub packets: u64,
    /// Bytes on the wire (each record's original length), as tshark's conversations count.
    pub bytes: u64,
    /// Bytes at the IP layer (IPv4 total length, IPv6 40 + payload length).
    pub ip_bytes: u64,
    /// TCP/UDP payload bytes per the headers' lengths (zeek's orig_bytes/resp_bytes count
    /// sequence space instead).
    pub payload_bytes: u64,
    pub first_ts_ns: Option<u64>,
    pub last_ts_ns: Option<u64>,
    pub duration_ns: u64,
    /// TCP data segments sent again (sequence number before the highest already sent).
    pub retransmissions: u64,
    /// Packets whose metadata named this side's owner.
    pub attributed_packets: u64,
    pub owner: Option<Owner>,
    /// Records of packets of this side the kernel dropped (ptcap `--drops`; not in `packets`).
    pub dropped_packets: u64,
    /// The most frequent drop reason among them (ties: the first by name).
    pub top_drop_reason: Option<String>,
    /// Everything the file says of the owner (labels, the other local end): what
    /// `--verify-policy` matches selectors against. Not in the JSON (`owner` is).
    #[serde(skip)]
    pub owner_meta: Option<PacketMeta>,
}

/// TCP details in zeek's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcpRecord {
    pub conn_state: &'static str,
    pub history: String,
    /// SYN to the initiator's ACK of the SYN-ACK.
    pub handshake_rtt_ns: Option<u64>,
    /// SYN to SYN-ACK (the responder's side of the path, seen from the capture point).
    pub syn_to_synack_ns: Option<u64>,
    /// SYN-ACK to ACK (the initiator's side).
    pub synack_to_ack_ns: Option<u64>,
}

/// One flow, as ptanalyze reports it (JSON: one object per line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowRecord {
    /// The 5-tuple's Community ID, shared by all flows of the tuple.
    pub community_id: String,
    /// How many flows of the same 5-tuple (key) came before this one (the addresses and ports
    /// were reused): `(community_id, reuse)` names one flow. Text output shows it after the
    /// protocol, `tcp#1`, when not 0.
    pub reuse: u64,
    /// `tcp`, `udp`, `icmp`, `icmp6`, or the protocol number.
    pub proto: String,
    pub ip_proto: u8,
    pub initiator: FlowEnd,
    pub responder: FlowEnd,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_echo_id: Option<u16>,
    pub first_ts_ns: u64,
    pub last_ts_ns: u64,
    pub duration_ns: u64,
    /// Initiator to responder.
    pub orig: SideRecord,
    /// Responder to initiator.
    pub resp: SideRecord,
    pub interfaces: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpRecord>,
    /// A NATed connection: `initiator` and `responder` are its untranslated ends (what the
    /// initiator's and responder's sockets see as far as the NAT is concerned: the
    /// originator's view), this the ends as translated (between the NAT and the responder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat: Option<NatRecord>,
    /// The flow's packets (all or some: the first encapsulated one's tunnel is kept) came
    /// through a tunnel; `initiator` and `responder` are then the inner conversation's ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelRecord>,
}

/// The tunnel of an encapsulated flow: its kind, VNI or key, and the outer (underlay)
/// addresses on the initiator's and the responder's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TunnelRecord {
    /// `vxlan`, `vxlan-gpe`, `geneve`, `gre`, `ipip`, `sit`, `ip6tnl`.
    pub kind: &'static str,
    /// VXLAN/VXLAN-GPE/Geneve VNI, GRE key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// The tunnel endpoint on the initiator's side (the outer source of its packets).
    pub initiator: IpAddr,
    pub responder: IpAddr,
}

fn tunnel_record((t, sender): (Tunnel, usize), initiator_side: usize) -> TunnelRecord {
    let (initiator, responder) = if sender == initiator_side {
        (t.src, t.dst)
    } else {
        (t.dst, t.src)
    };
    TunnelRecord {
        kind: t.kind.name(),
        id: t.id,
        initiator,
        responder,
    }
}

/// One `--flows --json` line: the record with its type and readable times.
#[derive(Serialize)]
pub struct FlowJson<'r> {
    #[serde(rename = "type")]
    kind: &'static str,
    /// `first_ts_ns` and `last_ts_ns` as RFC 3339 (UTC, nanoseconds).
    first_ts: String,
    last_ts: String,
    #[serde(flatten)]
    record: &'r FlowRecord,
}

/// One end of a flow: its address and port, and the names it is known by
/// ([`crate::names`]; filled after the flows are finished, empty when none are known).
/// Dereferences to the [`Endpoint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowEnd {
    #[serde(flatten)]
    pub end: Endpoint,
    pub names: Vec<crate::names::NameRecord>,
}

impl std::ops::Deref for FlowEnd {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.end
    }
}

impl fmt::Display for FlowEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.end.fmt(f)
    }
}

impl From<Endpoint> for FlowEnd {
    fn from(end: Endpoint) -> FlowEnd {
        FlowEnd {
            end,
            names: Vec::new(),
        }
    }
}

impl<'r> FlowJson<'r> {
    pub fn new(record: &'r FlowRecord) -> FlowJson<'r> {
        FlowJson {
            kind: "flow",
            first_ts: formats::render::rfc3339_utc(record.first_ts_ns),
            last_ts: formats::render::rfc3339_utc(record.last_ts_ns),
            record,
        }
    }
}

/// The translated ends of a NATed flow (`initiator` to `responder`, as they travel between
/// the NAT and the responder), and which kind of NAT (source, destination) made them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NatRecord {
    pub initiator: Endpoint,
    pub responder: Endpoint,
    pub snat: bool,
    pub dnat: bool,
}

fn nat_record(n: &formats::meta::NatInfo, initiator: &Endpoint) -> NatRecord {
    let t = n.translated();
    let (a, b) = (
        Endpoint {
            addr: t.src,
            port: Some(t.sport),
        },
        Endpoint {
            addr: t.dst,
            port: Some(t.dport),
        },
    );
    // The flow's initiator is the connection's originator, except in a capture that began
    // after the connection's first packets and guessed the other way.
    let originator_first =
        n.original.src == initiator.addr && Some(n.original.sport) == initiator.port;
    let (initiator, responder) = if originator_first { (a, b) } else { (b, a) };
    NatRecord {
        initiator,
        responder,
        snat: n.snat,
        dnat: n.dnat,
    }
}

fn side_record(s: &Side) -> SideRecord {
    let seen = s.packets > 0;
    SideRecord {
        packets: s.packets,
        bytes: s.bytes,
        ip_bytes: s.ip_bytes,
        payload_bytes: s.payload_bytes,
        first_ts_ns: seen.then_some(s.first_ts),
        last_ts_ns: seen.then_some(s.last_ts),
        duration_ns: if seen { s.last_ts - s.first_ts } else { 0 },
        retransmissions: s.retransmissions,
        attributed_packets: s.attributed,
        owner: s.owner.as_ref().map(Owner::from_meta),
        owner_meta: s.owner.clone(),
        dropped_packets: s.drops.values().sum(),
        top_drop_reason: s
            .drops
            .iter()
            .fold(None, |best: Option<(&Arc<str>, u64)>, (r, &n)| match best {
                Some((_, m)) if m >= n => best,
                _ => Some((r, n)),
            })
            .map(|(r, _)| r.to_string()),
    }
}

fn initiator_side(f: &Flow) -> usize {
    let first = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(x), Some(y)) => Some(if x <= y { 0 } else { 1 }),
        (Some(_), None) => Some(0),
        (None, Some(_)) => Some(1),
        (None, None) => None,
    };
    if let Some(s) = first(f.sides[0].opener, f.sides[1].opener) {
        return s;
    }
    if let Some(s) = first(f.sides[0].answer, f.sides[1].answer) {
        return 1 - s;
    }
    f.first_side
}

/// A protocol's name in reports: `tcp`, `udp`, `icmp`, `icmp6`, or its number.
pub fn proto_name(p: u8) -> String {
    match p {
        ipproto::TCP => "tcp".into(),
        ipproto::UDP => "udp".into(),
        ipproto::ICMP => "icmp".into(),
        ipproto::ICMPV6 => "icmp6".into(),
        n => n.to_string(),
    }
}

fn record(k: &FlowKey, f: Flow, reuse: u64) -> FlowRecord {
    let i = initiator_side(&f);
    let r = 1 - i;
    let ends = [k.lo, k.hi];
    let port = |p: u16| (k.kind == KeyKind::Ports).then_some(p);
    let initiator = Endpoint {
        addr: ends[i].0,
        port: port(ends[i].1),
    };
    let responder = Endpoint {
        addr: ends[r].0,
        port: port(ends[r].1),
    };
    let community_id = match f.cid_icmp {
        Some((side, v6, t, c)) => {
            let (a, b, one_way) = icmp_ports(v6, t, c);
            let (src, dst) = (ends[side].0, ends[1 - side].0);
            community_id_of(0, src, dst, k.protocol, Some((a, b)), one_way)
        }
        None => community_id_of(
            0,
            ends[0].0,
            ends[1].0,
            k.protocol,
            (k.kind == KeyKind::Ports).then_some((ends[0].1, ends[1].1)),
            false,
        ),
    };
    let first = f.sides[0].first_ts.min(f.sides[1].first_ts);
    let last = f.sides[0].last_ts.max(f.sides[1].last_ts);
    let tcp = (k.protocol == ipproto::TCP && k.kind == KeyKind::Ports).then(|| tcp_record(&f, i));
    let nat = f.nat.as_deref().map(|n| nat_record(n, &initiator));
    let tunnel = f.tunnel.map(|t| tunnel_record(t, i));
    FlowRecord {
        community_id,
        reuse,
        proto: proto_name(k.protocol),
        ip_proto: k.protocol,
        initiator: initiator.into(),
        responder: responder.into(),
        icmp_echo_id: (k.kind == KeyKind::EchoId).then_some(k.lo.1),
        first_ts_ns: first,
        last_ts_ns: last,
        duration_ns: last.saturating_sub(first),
        orig: side_record(&f.sides[i]),
        resp: side_record(&f.sides[r]),
        interfaces: f.interfaces.iter().map(|s| s.to_string()).collect(),
        tcp,
        nat,
        tunnel,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EpState {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

fn ep_state(me: &Side, peer: &Side) -> EpState {
    if me.packets == 0 {
        EpState::Inactive
    } else if me.rst {
        EpState::Reset
    } else if me.fin {
        EpState::Closed
    } else if me.syn.is_none() && me.synack.is_none() {
        EpState::Partial
    } else if me.other || (me.synack.is_some() && peer.ack_after_peer_synack.is_some()) {
        EpState::Established
    } else if me.synack.is_some() {
        EpState::SynAckSent
    } else {
        EpState::SynSent
    }
}

fn history(f: &Flow, init: usize) -> String {
    let mut ev: Vec<(u64, usize, u8)> = Vec::new();
    for (side, s) in f.sides.iter().enumerate() {
        for (li, at) in s.letters.iter().enumerate() {
            if let Some(at) = at {
                let c = if side == init {
                    LETTERS[li]
                } else {
                    LETTERS[li].to_ascii_lowercase()
                };
                ev.push((*at, li, c));
            }
        }
    }
    ev.sort();
    ev.into_iter().map(|(_, _, c)| c as char).collect()
}

fn conn_state(os: EpState, rs: EpState, o: &Side, r: &Side, history: &str) -> &'static str {
    use EpState::*;
    let o_inactive = matches!(os, Inactive | Partial);
    let r_inactive = matches!(rs, Inactive | Partial);
    if rs == Reset {
        if matches!(os, SynSent | SynAckSent)
            || (os == Reset && o.payload_bytes == 0 && r.payload_bytes == 0)
        {
            "REJ"
        } else if o_inactive {
            "RSTRH"
        } else {
            "RSTR"
        }
    } else if os == Reset {
        if r_inactive {
            // A SYN, then the originator's RST with no handshake or data letter between.
            let h = history.strip_prefix('^').unwrap_or(history);
            let syn_then_rst = h.starts_with('S')
                && h.find('R')
                    .is_some_and(|at| !h[..at].contains(['H', 'A', 'F', 'G', 'I', 'Q']));
            if syn_then_rst {
                "RSTOS0"
            } else {
                "OTH"
            }
        } else {
            "RSTO"
        }
    } else if os == Closed && rs == Closed {
        "SF"
    } else if os == Closed {
        if r_inactive {
            "SH"
        } else {
            "S2"
        }
    } else if rs == Closed {
        if o_inactive {
            "SHR"
        } else {
            "S3"
        }
    } else if os == SynSent && rs == Inactive {
        "S0"
    } else if os == Established && rs == Established {
        "S1"
    } else {
        "OTH"
    }
}

fn tcp_record(f: &Flow, i: usize) -> TcpRecord {
    let (o, r) = (&f.sides[i], &f.sides[1 - i]);
    let history = history(f, i);
    let state = conn_state(ep_state(o, r), ep_state(r, o), o, r, &history);
    let syn = o.syn;
    let synack = r.synack.filter(|(at, _)| syn.is_some_and(|(s, _)| *at > s));
    let ack = synack.and(o.ack_after_peer_synack);
    let d = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let (syn_ts, synack_ts) = (syn.map(|s| s.1), synack.map(|s| s.1));
    TcpRecord {
        conn_state: state,
        history,
        handshake_rtt_ns: d(syn_ts, ack),
        syn_to_synack_ns: d(syn_ts, synack_ts),
        synack_to_ack_ns: d(synack_ts, ack),
    }
}

/// Escapes control characters (and backslash) as `\xNN` so no file content steers a terminal.
pub(crate) fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || c == '\\' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Seconds with microseconds, as tshark and zeek print durations.
pub(crate) fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

/// Writes rows of cells with each column padded to its widest cell (the last one unpadded).
pub(crate) fn write_table(
    out: &mut impl Write,
    rows: &[Vec<String>],
    right: &[bool],
) -> io::Result<()> {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut width = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut line = String::new();
    for r in rows {
        line.clear();
        for (i, c) in r.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = width[i] - c.chars().count();
            let last = i + 1 == r.len();
            if right.get(i).copied().unwrap_or(false) {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(c);
            } else {
                line.push_str(c);
                if !last {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// One row per flow, columns aligned: protocol (with `#N` for the N-th reuse of the 5-tuple,
/// see [`FlowRecord::reuse`]), initiator, responder, packets and bytes each
/// way (`>` initiator to responder), duration in seconds, TCP state and history (ICMP echo:
/// `id=N`), each side's owner as `comm.pid[container]` (`-` when unknown); when some flow
/// crossed a NAT, a last column with its translated ends (`A:p > B:q`, `-` for the others).
/// `198.18.3.7:443 (api.shop.test)`: an end and, in parentheses, its names (each once,
/// whatever taught it).
pub fn with_names(end: &FlowEnd) -> String {
    let mut s = end.to_string();
    let mut shown: Vec<&str> = Vec::new();
    for n in &end.names {
        if !shown.contains(&n.name.as_str()) {
            shown.push(&n.name);
        }
    }
    if !shown.is_empty() {
        s.push_str(" (");
        s.push_str(&clean(&shown.join(",")));
        s.push(')');
    }
    s
}

pub fn write_flows_text(flows: &[FlowRecord], out: &mut impl Write) -> io::Result<()> {
    let any_nat = flows.iter().any(|f| f.nat.is_some());
    let any_tunnel = flows.iter().any(|f| f.tunnel.is_some());
    let mut rows = Vec::with_capacity(flows.len() + 1);
    rows.push(
        [
            "PROTO",
            "INITIATOR",
            "RESPONDER",
            "PKTS>",
            "BYTES>",
            "PKTS<",
            "BYTES<",
            "DURATION",
            "STATE",
            "HISTORY",
            "INITIATOR-OWNER",
            "RESPONDER-OWNER",
        ]
        .map(String::from)
        .to_vec(),
    );
    if any_nat {
        rows[0].push("NAT".into());
    }
    if any_tunnel {
        rows[0].push("TUNNEL".into());
    }
    for f in flows {
        let (state, hist) = match (&f.tcp, f.icmp_echo_id) {
            (Some(t), _) => (t.conn_state.to_string(), t.history.clone()),
            (None, Some(id)) => ("-".into(), format!("id={id}")),
            _ => ("-".into(), "-".into()),
        };
        let owner = |s: &SideRecord| {
            s.owner
                .as_ref()
                .map(|o| clean(&o.short()))
                .unwrap_or_else(|| "-".into())
        };
        rows.push(vec![
            if f.reuse == 0 {
                f.proto.clone()
            } else {
                format!("{}#{}", f.proto, f.reuse)
            },
            with_names(&f.initiator),
            with_names(&f.responder),
            f.orig.packets.to_string(),
            f.orig.bytes.to_string(),
            f.resp.packets.to_string(),
            f.resp.bytes.to_string(),
            secs(f.duration_ns),
            state,
            if hist.is_empty() { "-".into() } else { hist },
            owner(&f.orig),
            owner(&f.resp),
        ]);
        if any_nat {
            let nat = f.nat.as_ref().map_or_else(
                || "-".to_string(),
                |n| format!("{} > {}", n.initiator, n.responder),
            );
            rows.last_mut().expect("just pushed").push(nat);
        }
        if any_tunnel {
            let t = f.tunnel.as_ref().map_or_else(
                || "-".to_string(),
                |t| match t.id {
                    Some(id) => format!("{} {id} {} > {}", t.kind, t.initiator, t.responder),
                    None => format!("{} {} > {}", t.kind, t.initiator, t.responder),
                },
            );
            rows.last_mut().expect("just pushed").push(t);
        }
    }
    write_table(
        out,
        &rows,
        &[false, false, false, true, true, true, true, true],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_padding() {
        let mut s = String::new();
        base64(b"f", &mut s);
        base64(b"fo", &mut s);
        base64(b"foo", &mut s);
        assert_eq!(s, "Zg==Zm8=Zm9v");
    }

    #[test]
    fn seq_space_wraps() {
        assert!(seq_lt(0xffff_fff0, 5));
        assert!(!seq_lt(5, 0xffff_fff0));
        assert_eq!(seq_max(0xffff_fff0, 5), 5);
    }
}

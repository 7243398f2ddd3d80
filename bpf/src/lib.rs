//! ptcap's kernel side: the eBPF programs (`src/bpf/*.bpf.c`, layouts shared through
//! `src/bpf/events.h`) and a small loader API that attaches them, feeds them libpcap's filter
//! and reads their one ring buffer. Policy (which interfaces, what to print) is the caller's.
//!
//! ```no_run
//! use bpf::{filter, Direction, LinkKind, PacketCapture, CaptureOptions, Event};
//! let f = filter::compile("tcp port 80", LinkKind::Ethernet, 262144)?;
//! let opts = CaptureOptions { filters: vec![(0, f.instructions().to_vec())], ..Default::default() };
//! let mut cap = PacketCapture::load(&opts)?;
//! cap.attach(2, LinkKind::Ethernet, Some(0), &[Direction::In, Direction::Out])?;
//! let mut ring = cap.ring()?;
//! ring.consume(|bytes| {
//!     if let Some(Event::Packet(p)) = bpf::parse_event(bytes) { println!("{} bytes", p.wire_len) }
//! });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Data path
//! A tcx program at ingress and one at egress of every chosen interface (tc clsact when the
//! kernel has no tcx, before 6.6) look up the interface's configuration, run its filter, and
//! send accepted packets to the ring buffer: a [`PacketEvent`] header (type, ifindex, direction,
//! monotonic timestamp, wire and captured length, socket cookie) and the first
//! min(len, snaplen, filter result) bytes. The event is assembled in a per-CPU scratch buffer
//! and handed to `bpf_ringbuf_output` with its real length, so a 60-byte ACK takes 60 bytes of
//! ring, not a reserved snaplen. Ring-buffer failures are counted per CPU and interface; they
//! are the capture's drops. The programs return `TCX_NEXT` (= `TC_ACT_UNSPEC`) always: they
//! never alter traffic. The ingress program is inserted first in the tcx chain (it sees packets
//! before other programs may drop them), the egress program last (it sees what leaves).
//!
//! # The filter expression in the kernel: translated to eBPF, else interpreted
//! libpcap compiles the expression to classic BPF for the link type the hook sees (Ethernet,
//! or raw IP on L3 devices), one filter per link type, chosen per interface. Before load the
//! loader translates those cBPF programs into eBPF instructions ([`jit`]) and writes them into
//! a place every filtering program keeps for them, so the filter runs as the program's own
//! code, checked by the verifier for this expression. A translation too long for the place
//! (2,048 eBPF instructions; a typical expression takes 20-100 per link type) falls back to
//! the interpreter: the cBPF instructions in an array map, run by a `bpf_loop` callback
//! ([`CaptureOptions::filter_engine`] can ask for it). A
//! rodata flag tells the programs which, and the verifier prunes the other (without an
//! expression, both). Both follow libpcap's `bpf_filter()` (out-of-bounds loads and division
//! by zero reject); the differential test compares the kernel's verdicts with
//! `pcap_offline_filter` packet by packet. Filters are fixed at load.
//!
//! The packet the filter and the copy see is the one libpcap shows on Linux: with an offloaded
//! VLAN tag (`skb->vlan_tci`) put back after the MAC addresses.

use std::fmt;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{AsRawLibbpf, Link, MapCore, MapFlags};

pub mod attribution;
pub mod drops;
pub mod filter;
pub mod jit;
mod ring;
pub mod tc;

pub use attribution::{cgroup2_root, ProcEvent, ProcKind, SockEvent, SockKind, TaskContext};
pub use drops::{DropCounters, DropEvent, DropReasons, DropsMode, KernelSymbols};
pub use ring::Ring;

mod skel {
    #![allow(clippy::all, unused_imports, non_camel_case_types, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/capture.skel.rs"));
}
use skel::{CaptureSkel, CaptureSkelBuilder, OpenCaptureSkel};

/// Largest snapshot length the kernel side copies (`PTCAP_MAX_SNAPLEN` in events.h).
pub const MAX_SNAPLEN: u32 = 262144;
/// Filters that can be loaded at once (`PTCAP_MAX_FILTERS`).
pub const MAX_FILTERS: u32 = 4;
/// Longest cBPF program (`PTCAP_MAX_FILTER_INSNS`, libpcap's BPF_MAXINSNS).
pub const MAX_FILTER_INSNS: u32 = 4096;
/// Interfaces one capture can cover at once (`PTCAP_MAX_IFACES`). A detached interface's slot
/// is reused, so interfaces that come and go (pod churn) never use this up.
pub const MAX_INTERFACES: u32 = 1024;
/// Network namespaces one capture covers at most (events.h PTCAP_MAX_NETNS).
pub const MAX_NETNS: usize = 8;
/// events.h PTCAP_NETNS_SHIFT: an interface's key is `ifindex | (namespace << NETNS_SHIFT)`.
pub const NETNS_SHIFT: u32 = 24;

/// The key (in the `ifaces` map, in events, in [`PacketCapture::attach`]) of interface
/// `ifindex` of captured namespace number `netns`; namespace 0's key is its ifindex. None when
/// the ifindex does not fit below the namespace bits (only with several namespaces).
pub fn netns_key(netns: usize, ifindex: u32) -> Option<u32> {
    if netns == 0 {
        return Some(ifindex);
    }
    (netns < MAX_NETNS && ifindex < 1 << NETNS_SHIFT)
        .then_some(ifindex | ((netns as u32) << NETNS_SHIFT))
}

/// The namespace number and the ifindex of an interface key (see [`netns_key`]); a key of
/// namespace 0 above the namespace bits is its own ifindex only in a one-namespace capture,
/// where the caller knows it.
pub fn split_key(key: u32, namespaces: usize) -> (usize, u32) {
    if namespaces <= 1 {
        return (0, key);
    }
    (
        (key >> NETNS_SHIFT) as usize,
        key & ((1 << NETNS_SHIFT) - 1),
    )
}

const EVENT_PACKET: u16 = 1;
const PKT_REJECTED: u8 = 1;
const PKT_VLAN: u8 = 2;
const PKT_COPY_FAILED: u8 = 4;
const PKT_NAT: u8 = 8;
const PKT_CT_MISS: u8 = 16;
/* sizeof(struct ptcap_nat) */
const NAT_TRAILER_LEN: usize = 76;
const IFACE_FILTER: u32 = 1;
const IFACE_ETHERNET: u32 = 2;
const PACKET_HEADER_LEN: usize = 40;

/// What an error is about, so the binary can phrase it for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Missing privileges (root, or CAP_BPF + CAP_NET_ADMIN).
    Permission,
    /// The kernel has no BTF (/sys/kernel/btf/vmlinux).
    NoBtf,
    /// Loading the programs or maps failed.
    Load,
    /// Attaching to an interface failed.
    Attach,
    /// libpcap rejected the filter expression.
    Filter,
    /// A map operation failed.
    Map,
}

/// An error with a message for people.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

fn errno_kind(err: &libbpf_rs::Error, fallback: ErrorKind) -> ErrorKind {
    match err.kind() {
        libbpf_rs::ErrorKind::PermissionDenied => ErrorKind::Permission,
        _ => fallback,
    }
}

/// Which way a packet went through the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    In,
    Out,
}

/// What the hook's data starts with, which decides the filter's and the file's link type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// An Ethernet header (Ethernet devices, veth, bridges, loopback).
    Ethernet,
    /// The IP header (ARPHRD_NONE: tun, WireGuard; IP-in-IP tunnels).
    RawIp,
}

impl LinkKind {
    /// The kind for a device type (`ARPHRD_*`, /sys/class/net/IF/type), or None when tcx
    /// data on such a device is neither Ethernet nor IP.
    pub fn from_arphrd(arphrd: u16) -> Option<LinkKind> {
        match arphrd {
            1 | 772 => Some(LinkKind::Ethernet), // ETHER, LOOPBACK
            // NONE, TUNNEL (ipip), TUNNEL6, SIT, RAWIP
            65534 | 768 | 769 | 776 | 519 => Some(LinkKind::RawIp),
            _ => None,
        }
    }

    /// LINKTYPE_* for pcap/pcapng files.
    pub fn linktype(self) -> u16 {
        match self {
            LinkKind::Ethernet => 1,
            LinkKind::RawIp => 101,
        }
    }

    /// tcpdump's name for it (`EN10MB`, `RAW`).
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Ethernet => "EN10MB (Ethernet)",
            LinkKind::RawIp => "RAW (Raw IP)",
        }
    }

    /// DLT_* for libpcap's compiler.
    pub(crate) fn dlt(self) -> i32 {
        match self {
            LinkKind::Ethernet => 1,
            LinkKind::RawIp => 12, // DLT_RAW on Linux
        }
    }
}

/// A record from the ring buffer.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    Packet(PacketEvent<'a>),
    /// A socket or flow event (attribution hooks).
    Sock(SockEvent),
    /// A process event (exec, fork, exit).
    Proc(ProcEvent<'a>),
    /// A packet the kernel dropped (`skb:kfree_skb`).
    Drop(DropEvent<'a>),
    /// A record type this build does not know (a newer kernel side).
    Other(u16),
}

/// A packet, borrowed from the ring buffer.
#[derive(Debug, Clone, Copy)]
pub struct PacketEvent<'a> {
    pub ifindex: u32,
    pub direction: Direction,
    /// CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns); see [`WallClock`].
    pub ts_mono_ns: u64,
    pub wire_len: u32,
    /// The filter's result: 0 = rejected (only delivered in check mode), else its snaplen.
    pub filter_ret: u32,
    /// The filter rejected the packet (check mode delivers it anyway).
    pub rejected: bool,
    /// An offloaded VLAN tag was put back into `data`.
    pub vlan_reinserted: bool,
    /// Copying the bytes failed in the kernel; `data` is empty.
    pub copy_failed: bool,
    /// bpf_get_socket_cookie(skb): 0 when the packet has no socket.
    pub socket_cookie: u64,
    pub data: &'a [u8],
    /// The record's `struct ptcap_nat` trailer (events.h), when the kernel's lookup found the
    /// packet's tuple is not its owner's socket's view; [`PacketEvent::nat`] parses it. Kept
    /// as bytes: a parsed `Option<NatTuples>` made every packet's event 132 bytes larger, a
    /// copy that took a tenth of ptcap's CPU per packet (issue 12).
    pub nat_trailer: Option<&'a [u8]>,
    /// The kernel looked the packet up in conntrack and found no entry (a connection's first
    /// packet at ingress, before netfilter made the entry). Not set where the namespace has no
    /// conntrack at all.
    pub ct_miss: bool,
}

impl PacketEvent<'_> {
    /// The conntrack entry of a NATed connection, when the packet's tuple is not its owner's
    /// socket's view (the kernel's lookup; see `struct ptcap_nat` in events.h); `None` also
    /// for a trailer too short or of an unknown family.
    pub fn nat(&self) -> Option<NatTuples> {
        self.nat_trailer.and_then(parse_nat)
    }
}

/// A NATed connection's conntrack tuples (`struct ptcap_nat`): `original` as its originator
/// sent it (the originator's socket: local = `src`), `reply` as the responder sends it (the
/// responder's socket: local = `src`). Ports in host order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NatTuples {
    pub protocol: u8,
    /// IPS_SRC_NAT: the originator's source was rewritten (MASQUERADE, SNAT).
    pub src_nat: bool,
    /// IPS_DST_NAT: the originator's destination was rewritten (DNAT, port-forwards).
    pub dst_nat: bool,
    pub original: (std::net::SocketAddr, std::net::SocketAddr),
    pub reply: (std::net::SocketAddr, std::net::SocketAddr),
}

fn sockaddr(family: u8, raw: &[u8], port: u16) -> Option<std::net::SocketAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match family {
        2 => IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
        10 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&raw[..16]).ok()?)),
        _ => return None,
    };
    Some(std::net::SocketAddr::new(ip, port))
}

/// Decodes a `struct ptcap_nat` (unaligned, native byte order).
fn parse_nat(b: &[u8]) -> Option<NatTuples> {
    if b.len() < NAT_TRAILER_LEN {
        return None;
    }
    let family = b[0];
    let port = |off| u16_at(b, off);
    Some(NatTuples {
        protocol: b[1],
        src_nat: b[2] & 1 != 0,
        dst_nat: b[2] & 2 != 0,
        original: (
            sockaddr(family, &b[12..28], port(4))?,
            sockaddr(family, &b[28..44], port(6))?,
        ),
        reply: (
            sockaddr(family, &b[44..60], port(8))?,
            sockaddr(family, &b[60..76], port(10))?,
        ),
    })
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(b[off..off + 8].try_into().unwrap())
}

/// Decodes one ring-buffer record (layouts: `struct ptcap_packet_event` in events.h).
/// Inlined into the caller, so an event is built where it is used: returned from a call, the
/// caller's wide copy of its fields just stored one by one stalled on store forwarding, 6% of
/// ptcap's CPU at 100k packets/s.
#[inline]
pub fn parse_event(bytes: &[u8]) -> Option<Event<'_>> {
    if bytes.len() < 4 {
        return None;
    }
    let kind = u16_at(bytes, 0);
    match kind {
        EVENT_PACKET => {}
        attribution::EVENT_SOCK => return attribution::parse_sock(bytes).map(Event::Sock),
        attribution::EVENT_PROC => return attribution::parse_proc(bytes).map(Event::Proc),
        drops::EVENT_DROP => return drops::parse_drop(bytes).map(Event::Drop),
        _ => return Some(Event::Other(kind)),
    }
    let header_len = u16_at(bytes, 2) as usize;
    if header_len < PACKET_HEADER_LEN || bytes.len() < header_len {
        return None;
    }
    let flags = bytes[5];
    let cap_len = u32_at(bytes, 16) as usize;
    let data = bytes.get(header_len..header_len + cap_len)?;
    let nat_trailer = if flags & PKT_NAT != 0 {
        Some(bytes.get(header_len + cap_len..)?)
    } else {
        None
    };
    Some(Event::Packet(PacketEvent {
        direction: if bytes[4] == 0 {
            Direction::In
        } else {
            Direction::Out
        },
        ifindex: u32_at(bytes, 8),
        wire_len: u32_at(bytes, 12),
        filter_ret: u32_at(bytes, 20),
        ts_mono_ns: u64_at(bytes, 24),
        socket_cookie: u64_at(bytes, 32),
        rejected: flags & PKT_REJECTED != 0,
        vlan_reinserted: flags & PKT_VLAN != 0,
        copy_failed: flags & PKT_COPY_FAILED != 0,
        data,
        nat_trailer,
        ct_miss: flags & PKT_CT_MISS != 0,
    }))
}

/// Converts bpf_ktime_get_ns (CLOCK_MONOTONIC) to wall-clock time: the offset between
/// CLOCK_REALTIME and CLOCK_MONOTONIC, sampled at creation (a later clock step is not followed).
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    offset_ns: i128,
}

fn clock_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec; both clocks exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

impl WallClock {
    pub fn new() -> Self {
        // Bracket the REALTIME reading with two MONOTONIC readings; keep the tightest.
        let mut best: Option<(i128, i128)> = None;
        for _ in 0..5 {
            let m1 = clock_ns(libc::CLOCK_MONOTONIC);
            let r = clock_ns(libc::CLOCK_REALTIME);
            let m2 = clock_ns(libc::CLOCK_MONOTONIC);
            let width = m2 - m1;
            let offset = r - (m1 + width / 2);
            if best.is_none_or(|(w, _)| width < w) {
                best = Some((width, offset));
            }
        }
        WallClock {
            offset_ns: best.map(|(_, o)| o).unwrap_or(0),
        }
    }

    /// Nanoseconds since the Unix epoch for a bpf_ktime_get_ns value.
    pub fn to_unix_ns(&self, mono_ns: u64) -> u64 {
        (mono_ns as i128 + self.offset_ns).max(0) as u64
    }
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

/// How the programs are loaded.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// Bytes copied per packet at most (1..=[`MAX_SNAPLEN`]).
    pub snaplen: u32,
    /// Ring-buffer size in bytes (a power of two, at least a page).
    pub ring_bytes: u32,
    /// Check mode: deliver packets the filter rejected too, flagged and whole, so the caller
    /// can compare the kernel's verdict with libpcap's.
    pub deliver_rejected: bool,
    /// How to attach to interfaces.
    pub attach: AttachPreference,
    /// Which packets the kernel dropped to record ([`PacketCapture::attach_drops`]).
    pub drops: DropsMode,
    /// The captured network namespaces' inode numbers, in their numbering (namespace n's
    /// interfaces are attached with keys made by [`netns_key`]): at most [`MAX_NETNS`]; the
    /// packet programs' copies for the others are not loaded, and drops are recorded on these
    /// namespaces' captured interfaces only.
    pub netns: Vec<u64>,
    /// The filter slot compiled for raw IP that drops must pass (`None`: every drop).
    pub drops_filter: Option<u32>,
    /// Look NATed packets up in conntrack from the packet programs (the `bpf_skb_ct_lookup`
    /// kfunc). Where the kernel lacks the kfuncs the programs load without the lookup
    /// ([`PacketCapture::nat_in_kernel`] says which).
    pub nat_lookup: bool,
    /// The compiled filters by number (< [`MAX_FILTERS`]), for [`PacketCapture::attach`] and
    /// [`Self::drops_filter`] to name. None: the packet programs are loaded without any filter
    /// code, which the verifier then skips (docs/ARCHITECTURE.md, "Where the start-up goes").
    pub filters: Vec<(u32, Vec<filter::CbpfInsn>)>,
    /// How the programs run the filters.
    pub filter_engine: FilterEngine,
}

/// How the packet programs run the filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FilterEngine {
    /// Translated into the programs' own eBPF code, else (too long for the place kept for
    /// it) interpreted.
    #[default]
    Translated,
    /// Interpreted: the cBPF instructions in a map, run by a `bpf_loop` callback.
    Interpreted,
}

/// Which hook to attach with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AttachPreference {
    /// tcx, else (kernels before 6.6) tc clsact.
    #[default]
    Auto,
    /// tcx only: an error where the kernel has none.
    Tcx,
    /// tc clsact only (beside other tc programs that expect it, or to rule tcx out).
    Tc,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            snaplen: MAX_SNAPLEN,
            ring_bytes: 8 << 20,
            deliver_rejected: false,
            attach: AttachPreference::Auto,
            drops: DropsMode::Off,
            netns: vec![0],
            drops_filter: None,
            nat_lookup: true,
            filters: Vec::new(),
            filter_engine: FilterEngine::Translated,
        }
    }
}

/// How an interface was attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachMethod {
    Tcx,
    /// tc clsact (kernels without tcx).
    TcClsact,
}

impl AttachMethod {
    pub fn name(self) -> &'static str {
        match self {
            AttachMethod::Tcx => "tcx",
            AttachMethod::TcClsact => "tc",
        }
    }
}

/// Per-interface counters, summed over CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterfaceCounters {
    /// Packets the hooks saw.
    pub seen: u64,
    /// Packets the filter accepted (tcpdump's "received by filter").
    pub accepted: u64,
    /// Accepted packets the ring buffer had no room for (tcpdump's "dropped by kernel").
    pub ring_drops: u64,
    /// Packets whose bytes could not be copied.
    pub copy_errors: u64,
}

struct TcAttachment {
    hook: libbpf_sys::bpf_tc_hook,
    opts: libbpf_sys::bpf_tc_opts,
}

struct Interface {
    /// Its key (see [`netns_key`]).
    ifindex: u32,
    /// Its ifindex in its namespace.
    real: u32,
    slot: u32,
    /// Its tcx links: closing one detaches it.
    links: Vec<std::os::fd::OwnedFd>,
    tc: Vec<TcAttachment>,
    /// The clsact qdisc is ours (we created it, or a killed ptcap did: we removed its
    /// filters): remove it on detach when no filter is left in it.
    created_qdisc: bool,
}

/// The loaded capture programs and their attachments. Dropping it detaches everything (tcx
/// links are also released by the kernel when the process dies: nothing is pinned).
pub struct PacketCapture {
    skel: CaptureSkel<'static>,
    interfaces: Vec<Interface>,
    /// Counter slots (`iface_stats` indexes) of detached interfaces, for reuse.
    free_slots: Vec<u32>,
    /// Slots handed out so far (the next new one).
    next_slot: u32,
    /// Attribution hooks (cgroup root, tracepoints): dropping a link detaches it.
    attribution: Vec<Link>,
    /// The `skb:kfree_skb` program's link ([`Self::attach_drops`]).
    drops: Option<Link>,
    attach: AttachPreference,
    /// tc filters of killed ptcaps removed so far (see [`tc`]).
    stale_tc_removed: u64,
    /// The packet programs look NATed packets up in conntrack.
    nat_in_kernel: bool,
    /// Why the lookup was left out although asked for (the failed load's error).
    nat_fallback: Option<String>,
    /// Network namespaces the programs were loaded for (`CaptureOptions::netns`).
    netns_count: usize,
    /// One packet program serves both hooks ([`one_program_possible`]).
    one_program: bool,
    /// The filters' numbers (`CaptureOptions::filters`).
    filters: Vec<u32>,
    /// How they run, and why not translated when that was asked for.
    filter_engine: FilterEngine,
    filter_fallback: Option<String>,
}

/// Raises RLIMIT_MEMLOCK for kernels that still charge BPF memory to it (before 5.11; later
/// ones use memory cgroups and ignore it).
fn raise_memlock() {
    let lim = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain syscall on a valid struct; failure is harmless here (reported at load).
    unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) };
}

/// Sends libbpf's own messages (warnings, verifier logs on failure) to stderr, or silences them.
pub fn set_libbpf_messages(verbose: bool) {
    if verbose {
        // PTCAP_VERIFIER_STATS: libbpf prints a successful load's verifier log at debug level.
        let level = if std::env::var_os("PTCAP_VERIFIER_STATS").is_some() {
            libbpf_rs::PrintLevel::Debug
        } else {
            libbpf_rs::PrintLevel::Warn
        };
        libbpf_rs::set_print(Some((level, |_, msg: String| {
            // Not eprint!: a closed stderr must not panic inside libbpf's callback.
            use std::io::Write as _;
            let _ = write!(std::io::stderr(), "libbpf: {msg}");
        })));
    } else {
        libbpf_rs::set_print(None);
    }
}

impl PacketCapture {
    /// Opens and loads the programs (verifies them). Nothing is attached yet.
    pub fn load(opts: &CaptureOptions) -> Result<Self, Error> {
        if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
            return Err(Error::new(
                ErrorKind::NoBtf,
                "this kernel has no BTF (/sys/kernel/btf/vmlinux): ptcap needs CONFIG_DEBUG_INFO_BTF=y",
            ));
        }
        if opts.snaplen == 0 || opts.snaplen > MAX_SNAPLEN {
            return Err(Error::new(
                ErrorKind::Load,
                format!(
                    "snapshot length {} is out of range 1..={MAX_SNAPLEN}",
                    opts.snaplen
                ),
            ));
        }
        for (index, insns) in &opts.filters {
            if *index >= MAX_FILTERS {
                return Err(Error::new(
                    ErrorKind::Filter,
                    format!("filter index {index} >= {MAX_FILTERS}"),
                ));
            }
            if insns.is_empty() || insns.len() > MAX_FILTER_INSNS as usize {
                return Err(Error::new(
                    ErrorKind::Filter,
                    format!(
                        "the filter has {} instructions (1..={MAX_FILTER_INSNS})",
                        insns.len()
                    ),
                ));
            }
        }
        raise_memlock();
        let (skel, nat_in_kernel, nat_fallback, engine) =
            match Self::open_and_load(opts, opts.nat_lookup) {
                Ok((skel, engine)) => (skel, opts.nat_lookup, None, engine),
                // A kernel without the conntrack kfuncs (or one whose verifier refuses their
                // use) must still capture: the same object without the lookup branch.
                Err(e) if opts.nat_lookup && e.kind != ErrorKind::Permission => {
                    let (skel, engine) = Self::open_and_load(opts, false)?;
                    (skel, false, Some(e.message), engine)
                }
                Err(e) => return Err(e),
            };
        let (filter_engine, filter_fallback) = engine;
        let mut cap = PacketCapture {
            skel,
            interfaces: Vec::new(),
            free_slots: Vec::new(),
            next_slot: 0,
            attribution: Vec::new(),
            drops: None,
            attach: opts.attach,
            stale_tc_removed: 0,
            nat_in_kernel,
            nat_fallback,
            netns_count: opts.netns.len(),
            one_program: one_program_possible(),
            filters: opts.filters.iter().map(|(i, _)| *i).collect(),
            filter_engine,
            filter_fallback,
        };
        if filter_engine == FilterEngine::Interpreted {
            for (index, insns) in &opts.filters {
                cap.store_filter(*index, insns)?;
            }
        }
        Ok(cap)
    }

    /// How the programs run the filters, and why not translated where that was asked for (a
    /// translation longer than the place the programs keep for it).
    pub fn filter_engine(&self) -> (FilterEngine, Option<&str>) {
        (self.filter_engine, self.filter_fallback.as_deref())
    }

    /// Whether the packet programs look NATed packets up in conntrack (the kfuncs loaded).
    pub fn nat_in_kernel(&self) -> bool {
        self.nat_in_kernel
    }

    /// Why the conntrack lookup was left out although asked for.
    pub fn nat_fallback(&self) -> Option<&str> {
        self.nat_fallback.as_deref()
    }

    fn open_and_load(
        opts: &CaptureOptions,
        nat_lookup: bool,
    ) -> Result<(CaptureSkel<'static>, (FilterEngine, Option<String>)), Error> {
        // The skeleton borrows its object storage for its whole life; one per capture, leaked
        // on purpose (a few hundred bytes) so the capture can own the skeleton.
        let storage: &'static mut MaybeUninit<libbpf_rs::OpenObject> =
            Box::leak(Box::new(MaybeUninit::uninit()));
        let mut open = CaptureSkelBuilder::default().open(storage).map_err(|e| {
            Error::new(
                errno_kind(&e, ErrorKind::Load),
                format!("opening the BPF object: {e}"),
            )
        })?;
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .ok_or_else(|| Error::new(ErrorKind::Load, "the BPF object has no .rodata"))?;
        rodata.snaplen = opts.snaplen;
        rodata.deliver_rejected = opts.deliver_rejected as u8;
        rodata.filters_on = !opts.filters.is_empty() as u8;
        // events.h's wake-up thresholds (the rodata's defaults), for a small ring (-B) lowered
        // to an eighth and a half of it: a 64 KiB ring must wake its reader before it is full.
        let ring = u64::from(opts.ring_bytes.max(4096));
        rodata.wakeup_bytes = rodata.wakeup_bytes.min(ring / 8);
        rodata.wakeup_always = rodata.wakeup_always.min(ring / 2);
        rodata.drops_all = (opts.drops == DropsMode::All) as u8;
        rodata.drops_filtered = opts.drops_filter.is_some() as u8;
        rodata.drops_filter = opts.drops_filter.unwrap_or(0);
        // Not loaded without --drops (a kernel without the tracepoint still captures).
        open.progs
            .ptcap_kfree_skb
            .set_autoload(opts.drops != DropsMode::Off);
        if opts.netns.is_empty() || opts.netns.len() > MAX_NETNS {
            return Err(Error::new(
                ErrorKind::Load,
                format!(
                    "{} network namespaces: one capture covers 1 to {MAX_NETNS}",
                    opts.netns.len()
                ),
            ));
        }
        // The drop program's namespaces (its frozen table: the verifier knows the count).
        let rodata = open.maps.rodata_data.as_deref_mut().expect("checked above");
        for (slot, inode) in rodata.drop_netns_inum.iter_mut().zip(&opts.netns) {
            *slot = *inode;
        }
        rodata.drop_netns_count = opts.netns.len() as u32;
        // The packet programs' copies for namespaces the capture does not cover stay out.
        // With one program for both hooks, the egress copies stay out too.
        let n = opts.netns.len();
        let one = one_program_possible();
        rodata.one_program = one as u8;
        let progs = &mut open.progs;
        progs.capture_egress.set_autoload(!one);
        for (no, ingress, egress) in [
            (1, &mut progs.capture_1, &mut progs.capture_egress_1),
            (2, &mut progs.capture_2, &mut progs.capture_egress_2),
            (3, &mut progs.capture_3, &mut progs.capture_egress_3),
            (4, &mut progs.capture_4, &mut progs.capture_egress_4),
            (5, &mut progs.capture_5, &mut progs.capture_egress_5),
            (6, &mut progs.capture_6, &mut progs.capture_egress_6),
            (7, &mut progs.capture_7, &mut progs.capture_egress_7),
        ] {
            ingress.set_autoload(no < n);
            egress.set_autoload(no < n && !one);
        }
        rodata.nat_lookup = nat_lookup as u8;
        // SAFETY: plain libbpf query.
        let cpus = unsafe { libbpf_sys::libbpf_num_possible_cpus() };
        if cpus <= 0 {
            return Err(Error::new(
                ErrorKind::Load,
                "cannot read the number of possible CPUs",
            ));
        }
        let resize = |r: libbpf_rs::Result<()>, what: &str| {
            r.map_err(|e| Error::new(ErrorKind::Load, format!("sizing the {what} map: {e}")))
        };
        resize(open.maps.scratch.set_max_entries(cpus as u32), "scratch")?;
        resize(
            open.maps.events.set_max_entries(opts.ring_bytes),
            "ring buffer",
        )?;
        // Diagnostics: the verifier's statistics for the packet programs, printed with libbpf's
        // messages (ptcap -vvv).
        if std::env::var_os("PTCAP_VERIFIER_STATS").is_some() {
            for mut prog in open.open_object_mut().progs_mut() {
                prog.set_log_level(4);
            }
        }
        let mut engine = (FilterEngine::Interpreted, None);
        if !opts.filters.is_empty() && opts.filter_engine == FilterEngine::Translated {
            match splice_filters(&open, &opts.filters) {
                Ok(()) => engine = (FilterEngine::Translated, None),
                Err(why) => engine.1 = Some(why),
            }
        }
        open.maps
            .rodata_data
            .as_deref_mut()
            .ok_or_else(|| Error::new(ErrorKind::Load, "the BPF object has no .rodata"))?
            .filters_jit = (engine.0 == FilterEngine::Translated) as u8;
        let skel = open.load().map_err(|e| {
            let kind = errno_kind(&e, ErrorKind::Load);
            // EACCES at load is the verifier's refusal, EPERM missing privileges.
            let hint = if e.to_string().contains("os error 1)") {
                " (ptcap needs root, or CAP_BPF and CAP_NET_ADMIN)"
            } else {
                " (run with -v for libbpf's and the verifier's messages)"
            };
            Error::new(kind, format!("loading the BPF programs: {e}{hint}"))
        })?;
        Ok((skel, engine))
    }

    /// Stores filter number `index` in the interpreter's map.
    fn store_filter(&mut self, index: u32, insns: &[filter::CbpfInsn]) -> Result<(), Error> {
        for (pc, insn) in insns.iter().enumerate() {
            let key = (index * MAX_FILTER_INSNS + pc as u32).to_ne_bytes();
            let mut value = [0u8; 8];
            value[0..2].copy_from_slice(&insn.code.to_ne_bytes());
            value[2] = insn.jt;
            value[3] = insn.jf;
            value[4..8].copy_from_slice(&insn.k.to_ne_bytes());
            self.skel
                .maps
                .filters
                .update(&key, &value, MapFlags::ANY)
                .map_err(|e| Error::new(ErrorKind::Map, format!("storing the filter: {e}")))?;
        }
        Ok(())
    }

    /// Attaches the programs for `directions` to the interface of key `ifindex` (its ifindex
    /// in namespace 0; [`netns_key`] for the others: the caller's thread must then be in that
    /// namespace), with filter number `filter` (None: accept everything). Tries tcx first,
    /// then tc clsact, unless the options chose one.
    pub fn attach(
        &mut self,
        ifindex: u32,
        kind: LinkKind,
        filter: Option<u32>,
        directions: &[Direction],
    ) -> Result<AttachMethod, Error> {
        let (netns_no, real) = split_key(ifindex, self.netns_count);
        if netns_no >= self.netns_count {
            return Err(Error::new(
                ErrorKind::Attach,
                format!("interface key {ifindex:#x}: no such captured namespace"),
            ));
        }
        if self.interfaces.iter().any(|i| i.ifindex == ifindex) {
            return Err(Error::new(
                ErrorKind::Attach,
                format!("interface {ifindex} is attached already"),
            ));
        }
        let slot = match self.free_slots.last() {
            Some(&s) => s,
            None if self.next_slot < MAX_INTERFACES => self.next_slot,
            None => {
                return Err(Error::new(
                    ErrorKind::Attach,
                    format!("more than {MAX_INTERFACES} interfaces at once"),
                ))
            }
        };
        if let Some(f) = filter.filter(|f| !self.filters.contains(f)) {
            return Err(Error::new(
                ErrorKind::Filter,
                format!("interface {ifindex}: no filter number {f} was loaded"),
            ));
        }
        let mut flags = 0;
        if filter.is_some() {
            flags |= IFACE_FILTER;
        }
        if kind == LinkKind::Ethernet {
            flags |= IFACE_ETHERNET;
        }
        let mut config = [0u8; 12];
        config[0..4].copy_from_slice(&slot.to_ne_bytes());
        config[4..8].copy_from_slice(&filter.unwrap_or(0).to_ne_bytes());
        config[8..12].copy_from_slice(&flags.to_ne_bytes());
        self.skel
            .maps
            .ifaces
            .update(&ifindex.to_ne_bytes(), &config, MapFlags::ANY)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Map,
                    format!("configuring interface {ifindex}: {e}"),
                )
            })?;
        let zero = vec![vec![0u8; 32]; cpus()];
        let _ = self
            .skel
            .maps
            .iface_stats
            .update_percpu(&slot.to_ne_bytes(), &zero, MapFlags::ANY);

        let mut iface = Interface {
            ifindex,
            real,
            slot,
            links: Vec::new(),
            tc: Vec::new(),
            created_qdisc: false,
        };
        let preference = self.attach;
        let mut method = if preference == AttachPreference::Tc {
            AttachMethod::TcClsact
        } else {
            AttachMethod::Tcx
        };
        for &dir in directions {
            let prog = packet_prog(&self.skel, netns_no, dir, self.one_program);
            if method == AttachMethod::Tcx {
                match attach_tcx(prog, real, dir) {
                    Ok(link) => {
                        iface.links.push(link);
                        continue;
                    }
                    // EPERM is a privilege problem, not a missing feature: do not fall back.
                    Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                        self.undo(iface);
                        return Err(Error::new(
                            ErrorKind::Permission,
                            format!("attaching to interface {ifindex}: {e} (ptcap needs CAP_NET_ADMIN and CAP_BPF)"),
                        ));
                    }
                    Err(e) if !iface.links.is_empty() || preference == AttachPreference::Tcx => {
                        let hint = if preference == AttachPreference::Tcx && iface.links.is_empty()
                        {
                            " (tcx needs Linux 6.6 or later; --attach auto falls back to tc)"
                        } else {
                            ""
                        };
                        self.undo(iface);
                        return Err(Error::new(
                            ErrorKind::Attach,
                            format!("tcx attach to interface {ifindex}: {e}{hint}"),
                        ));
                    }
                    Err(_) => method = AttachMethod::TcClsact,
                }
            }
            let removed = remove_stale_tc(real, dir);
            if removed > 0 {
                self.stale_tc_removed += removed;
                iface.created_qdisc = true;
            }
            match attach_tc(prog.as_fd(), real, dir) {
                Ok((att, created)) => {
                    iface.created_qdisc |= created;
                    iface.tc.push(att);
                }
                Err(e) => {
                    self.undo(iface);
                    return Err(Error::new(
                        if e.raw_os_error() == Some(libc::EPERM) {
                            ErrorKind::Permission
                        } else {
                            ErrorKind::Attach
                        },
                        format!("attaching to interface {ifindex} (tcx and tc clsact): {e}"),
                    ));
                }
            }
        }
        if self.free_slots.last() == Some(&slot) {
            self.free_slots.pop();
        } else {
            self.next_slot += 1;
        }
        self.interfaces.push(iface);
        Ok(method)
    }

    fn undo(&mut self, iface: Interface) {
        let ifindex = iface.ifindex;
        detach_interface(iface);
        let _ = self.skel.maps.ifaces.delete(&ifindex.to_ne_bytes());
    }

    /// Detaches one interface (it was deleted, or is no longer wanted): closes its links or
    /// removes its tc filters, forgets its configuration and frees its counter slot for the
    /// next interface. Returns its final counters; None when it was not attached. The same
    /// ifindex can be attached again afterwards (the kernel reuses indexes).
    pub fn detach(&mut self, ifindex: u32) -> Option<InterfaceCounters> {
        let n = self.interfaces.iter().position(|i| i.ifindex == ifindex)?;
        let iface = self.interfaces.swap_remove(n);
        let slot = iface.slot;
        self.undo(iface);
        // Read after the detach: nothing counts into the slot any more.
        let counters = self.slot_counters(slot).unwrap_or_default();
        self.free_slots.push(slot);
        Some(counters)
    }

    /// tc filters left by killed ptcaps that attaching has removed so far (to say so once).
    pub fn stale_tc_filters_removed(&self) -> u64 {
        self.stale_tc_removed
    }

    /// Reads the counters of an attached interface, summed over CPUs.
    pub fn counters(&self, ifindex: u32) -> Option<InterfaceCounters> {
        let iface = self.interfaces.iter().find(|i| i.ifindex == ifindex)?;
        self.slot_counters(iface.slot)
    }

    fn slot_counters(&self, slot: u32) -> Option<InterfaceCounters> {
        let per_cpu = self
            .skel
            .maps
            .iface_stats
            .lookup_percpu(&slot.to_ne_bytes(), MapFlags::ANY)
            .ok()??;
        let mut c = InterfaceCounters::default();
        for v in per_cpu.iter().filter(|v| v.len() >= 32) {
            c.seen += u64_at(v, 0);
            c.accepted += u64_at(v, 8);
            c.ring_drops += u64_at(v, 16);
            c.copy_errors += u64_at(v, 24);
        }
        Some(c)
    }

    /// The consumer of the ring buffer every event arrives in: [`Ring::consume`] hands each
    /// record over (decode it with [`parse_event`]); poll [`Ring::fd`] for wake-ups.
    pub fn ring(&self) -> Result<Ring, Error> {
        let map = &self.skel.maps.events;
        Ring::new(map.as_fd(), u64::from(map.max_entries()))
    }

    /// Detaches every program from every interface (and removes qdiscs it created), and the
    /// attribution hooks.
    pub fn detach_all(&mut self) {
        for iface in self.interfaces.drain(..) {
            detach_interface(iface);
        }
        self.detach_drops();
        self.detach_attribution();
    }

    /// Attaches the attribution programs: the socket hooks, sockops and cgroup_skb tuple
    /// learning at the cgroup v2 directory `cgroup` (the hierarchy's root, to see every process
    /// in every network namespace; [`cgroup2_root`] finds it) and the exec/fork/exit
    /// tracepoints. Their events arrive in the same ring as the packets. All links are
    /// multi-attach links owned by this capture: nothing is pinned, closing them (or the
    /// process exiting) detaches everything. On error nothing stays attached.
    pub fn attach_attribution(&mut self, cgroup: &std::path::Path) -> Result<(), Error> {
        if !self.attribution.is_empty() {
            return Ok(());
        }
        let dir = attribution::open_cgroup(cgroup).map_err(|e| {
            Error::new(
                ErrorKind::Attach,
                format!("opening cgroup {}: {e}", cgroup.display()),
            )
        })?;
        let fd = attribution::raw_fd(&dir);
        let progs = &self.skel.progs;
        let cgroup_progs = [
            ("sock_create", &progs.ptcap_sock_create),
            ("sock_release", &progs.ptcap_sock_release),
            ("post_bind4", &progs.ptcap_post_bind4),
            ("post_bind6", &progs.ptcap_post_bind6),
            ("connect4", &progs.ptcap_connect4),
            ("connect6", &progs.ptcap_connect6),
            ("sendmsg4", &progs.ptcap_sendmsg4),
            ("sendmsg6", &progs.ptcap_sendmsg6),
            ("recvmsg4", &progs.ptcap_recvmsg4),
            ("recvmsg6", &progs.ptcap_recvmsg6),
            ("sockops", &progs.ptcap_tcp_ops),
            ("cgroup_skb egress", &progs.ptcap_flow_egress),
            ("cgroup_skb ingress", &progs.ptcap_flow_ingress),
        ];
        let mut links = Vec::new();
        for (what, prog) in cgroup_progs {
            match prog.attach_cgroup(fd) {
                Ok(l) => links.push(l),
                Err(e) => {
                    return Err(Error::new(
                        errno_kind(&e, ErrorKind::Attach),
                        format!("attaching the {what} hook to {}: {e}", cgroup.display()),
                    ))
                }
            }
        }
        for (what, prog) in [
            ("sched_process_exec", &progs.ptcap_exec),
            ("sched_process_fork", &progs.ptcap_fork),
            ("sched_process_exit", &progs.ptcap_exit),
            ("task_rename", &progs.ptcap_rename),
        ] {
            match prog.attach() {
                Ok(l) => links.push(l),
                Err(e) => {
                    return Err(Error::new(
                        errno_kind(&e, ErrorKind::Attach),
                        format!("attaching the {what} tracepoint: {e}"),
                    ))
                }
            }
        }
        self.attribution = links;
        Ok(())
    }

    /// Attaches the drop program to the `skb:kfree_skb` tracepoint (tp_btf): packets of the
    /// attached interfaces that the kernel drops arrive in the ring as [`Event::Drop`]. Needs
    /// the capture loaded with [`CaptureOptions::drops`] on.
    pub fn attach_drops(&mut self) -> Result<(), Error> {
        if self.drops.is_some() {
            return Ok(());
        }
        let link = self.skel.progs.ptcap_kfree_skb.attach().map_err(|e| {
            Error::new(
                errno_kind(&e, ErrorKind::Attach),
                format!("attaching to the skb:kfree_skb tracepoint: {e}"),
            )
        })?;
        self.drops = Some(link);
        Ok(())
    }

    /// Detaches the drop program (no more drop events).
    pub fn detach_drops(&mut self) {
        self.drops = None;
    }

    /// The drop program's counters, summed over CPUs.
    pub fn drop_counters(&self) -> DropCounters {
        let mut c = DropCounters::default();
        if let Ok(Some(per_cpu)) = self
            .skel
            .maps
            .drop_stats
            .lookup_percpu(&0u32.to_ne_bytes(), MapFlags::ANY)
        {
            for v in per_cpu.iter().filter(|v| v.len() >= 32) {
                c.seen += u64_at(v, 0);
                c.accepted += u64_at(v, 8);
                c.ring_drops += u64_at(v, 16);
                c.rate_limited += u64_at(v, 24);
            }
        }
        c
    }

    /// Detaches the attribution hooks (no more socket or process events).
    pub fn detach_attribution(&mut self) {
        self.attribution.clear();
    }

    /// Socket and process events the ring had no room for, summed over CPUs.
    pub fn attribution_drops(&self) -> (u64, u64) {
        let mut out = (0, 0);
        for (idx, slot) in [(0u32, &mut out.0), (1u32, &mut out.1)] {
            if let Ok(Some(per_cpu)) = self
                .skel
                .maps
                .attr_drops
                .lookup_percpu(&idx.to_ne_bytes(), MapFlags::ANY)
            {
                *slot = per_cpu
                    .iter()
                    .filter(|v| v.len() >= 8)
                    .map(|v| u64_at(v, 0))
                    .sum();
            }
        }
        out
    }

    /// Interfaces attached, in attach order.
    pub fn interfaces(&self) -> impl Iterator<Item = u32> + '_ {
        self.interfaces.iter().map(|i| i.ifindex)
    }
}

impl Drop for PacketCapture {
    fn drop(&mut self) {
        self.detach_all();
    }
}

/// The packet program of namespace number `netns_no` for direction `dir` (with `one`, the
/// ingress program serves both).
fn packet_prog<'a>(
    skel: &'a CaptureSkel<'static>,
    netns_no: usize,
    dir: Direction,
    one: bool,
) -> &'a libbpf_rs::ProgramMut<'static> {
    let p = &skel.progs;
    let dir = if one { Direction::In } else { dir };
    match (netns_no, dir) {
        (1, Direction::In) => &p.capture_1,
        (1, Direction::Out) => &p.capture_egress_1,
        (2, Direction::In) => &p.capture_2,
        (2, Direction::Out) => &p.capture_egress_2,
        (3, Direction::In) => &p.capture_3,
        (3, Direction::Out) => &p.capture_egress_3,
        (4, Direction::In) => &p.capture_4,
        (4, Direction::Out) => &p.capture_egress_4,
        (5, Direction::In) => &p.capture_5,
        (5, Direction::Out) => &p.capture_egress_5,
        (6, Direction::In) => &p.capture_6,
        (6, Direction::Out) => &p.capture_egress_6,
        (7, Direction::In) => &p.capture_7,
        (7, Direction::Out) => &p.capture_egress_7,
        (_, Direction::In) => &p.capture,
        (_, Direction::Out) => &p.capture_egress,
    }
}

/// Whether one packet program can serve both hooks: it tells them apart by sk_buff's
/// `tc_at_ingress`, read through `bpf_cast_to_kern_ctx`, a kfunc of Linux 6.2 and later
/// (capture.bpf.c, `hook_direction`). Older kernels get a program per direction, as before.
/// From the release: asking the kernel's BTF for the kfunc means parsing 5 MB again.
fn one_program_possible() -> bool {
    static ONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ONE.get_or_init(|| {
        if std::env::var("PTCAP_PACKET_PROGRAMS").as_deref() == Ok("two") {
            return false;
        }
        // SAFETY: uname fills the struct it is given.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut u) } != 0 {
            return false;
        }
        // SAFETY: the kernel NUL-terminates release.
        let release = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) };
        release_at_least(&release.to_string_lossy(), (6, 2))
    })
}

/// `release` (uname -r: "6.18.0-1-amd64") is `want` or later.
fn release_at_least(release: &str, want: (u32, u32)) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= want,
        _ => false,
    }
}

fn cpus() -> usize {
    // SAFETY: plain libbpf query.
    unsafe { libbpf_sys::libbpf_num_possible_cpus() }.max(1) as usize
}

/// Writes the translation of `filters` into every program's place for it ([`jit`]); all or
/// none: on an error no program was changed.
fn splice_filters(
    open: &OpenCaptureSkel<'static>,
    filters: &[(u32, Vec<filter::CbpfInsn>)],
) -> Result<(), String> {
    let slots: Vec<(u32, &[filter::CbpfInsn])> =
        filters.iter().map(|(i, f)| (*i, f.as_slice())).collect();
    let mut changed = Vec::new();
    let mut places = 0;
    for prog in open.open_object().progs() {
        let mut copy = prog.insns().to_vec();
        let n = jit::splice(&mut copy, &slots)
            .map_err(|e| format!("{}: {e}", prog.name().to_string_lossy()))?;
        if n > 0 {
            places += n;
            changed.push((prog.as_libbpf_object(), copy));
        }
    }
    if places == 0 {
        return Err("the programs have no place for a translated filter".into());
    }
    for (raw, mut insns) in changed {
        // SAFETY: the program belongs to the open object, not loaded yet; libbpf copies the
        // instructions. Same length as before, so its relocation records stay in place.
        let rc = unsafe {
            libbpf_sys::bpf_program__set_insns(raw.as_ptr(), insns.as_mut_ptr(), insns.len() as _)
        };
        if rc != 0 {
            return Err(format!("bpf_program__set_insns: error {rc}"));
        }
    }
    Ok(())
}

fn attach_tcx(
    prog: &libbpf_rs::ProgramMut<'_>,
    ifindex: u32,
    dir: Direction,
) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let mut opts = libbpf_sys::bpf_link_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_link_create_opts>() as _,
        ..Default::default()
    };
    if dir == Direction::In {
        // First in the chain: see packets before other programs drop or redirect them.
        opts.flags = libbpf_sys::BPF_F_BEFORE;
    }
    // The hook from the direction, not from the program's expected attach type (what
    // bpf_program__attach_tcx takes): one program may serve both hooks.
    let hook = match dir {
        Direction::In => libbpf_sys::BPF_TCX_INGRESS,
        Direction::Out => libbpf_sys::BPF_TCX_EGRESS,
    };
    // SAFETY: a valid program fd and options struct; the kernel returns a new fd or an error.
    let fd = unsafe {
        libbpf_sys::bpf_link_create(prog.as_fd().as_raw_fd(), ifindex as i32, hook, &opts)
    };
    if fd < 0 {
        return Err(std::io::Error::from_raw_os_error(-fd));
    }
    // SAFETY: a new fd that nothing else owns.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

fn tc_hook(ifindex: u32, point: libbpf_sys::bpf_tc_attach_point) -> libbpf_sys::bpf_tc_hook {
    libbpf_sys::bpf_tc_hook {
        sz: std::mem::size_of::<libbpf_sys::bpf_tc_hook>() as _,
        ifindex: ifindex as i32,
        attach_point: point,
        ..Default::default()
    }
}

fn attach_tc(
    fd: std::os::fd::BorrowedFd<'_>,
    ifindex: u32,
    dir: Direction,
) -> std::io::Result<(TcAttachment, bool)> {
    use std::os::fd::AsRawFd;
    let point = match dir {
        Direction::In => libbpf_sys::BPF_TC_INGRESS,
        Direction::Out => libbpf_sys::BPF_TC_EGRESS,
    };
    let mut hook = tc_hook(ifindex, point);
    // SAFETY: valid hook struct.
    let rc = unsafe { libbpf_sys::bpf_tc_hook_create(&mut hook) };
    let created = rc == 0;
    if rc != 0 && rc != -libc::EEXIST {
        return Err(std::io::Error::from_raw_os_error(-rc));
    }
    // Recognisable (tc.rs): our priority, our pid as the handle.
    let mut opts = libbpf_sys::bpf_tc_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_tc_opts>() as _,
        prog_fd: fd.as_raw_fd(),
        handle: std::process::id(),
        priority: tc::TC_PRIORITY as u32,
        ..Default::default()
    };
    // SAFETY: valid structs.
    let rc = unsafe { libbpf_sys::bpf_tc_attach(&hook, &mut opts) };
    if rc != 0 {
        if created {
            let mut both = tc_hook(
                ifindex,
                libbpf_sys::BPF_TC_INGRESS | libbpf_sys::BPF_TC_EGRESS,
            );
            // SAFETY: valid hook.
            unsafe { libbpf_sys::bpf_tc_hook_destroy(&mut both) };
        }
        return Err(std::io::Error::from_raw_os_error(-rc));
    }
    Ok((TcAttachment { hook, opts }, created))
}

fn detach_interface(iface: Interface) {
    drop(iface.links); // closing a tcx link's fd detaches it
    for att in &iface.tc {
        let opts = libbpf_sys::bpf_tc_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_tc_opts>() as _,
            handle: att.opts.handle,
            priority: att.opts.priority,
            ..Default::default()
        };
        // SAFETY: valid structs; the filter may be gone already (interface removed).
        unsafe { libbpf_sys::bpf_tc_detach(&att.hook, &opts) };
    }
    // Only an empty qdisc goes: a filter someone added to it since stays, with its qdisc.
    let empty = || {
        [tc::PARENT_INGRESS, tc::PARENT_EGRESS]
            .iter()
            .all(|&p| tc::list_filters(iface.real, p).is_ok_and(|f| f.is_empty()))
    };
    if iface.created_qdisc && empty() {
        let mut both = tc_hook(
            iface.real,
            libbpf_sys::BPF_TC_INGRESS | libbpf_sys::BPF_TC_EGRESS,
        );
        // SAFETY: valid hook.
        unsafe { libbpf_sys::bpf_tc_hook_destroy(&mut both) };
    }
}

/// Removes the tc filters of killed ptcaps from one clsact hook of `ifindex`; how many.
fn remove_stale_tc(ifindex: u32, dir: Direction) -> u64 {
    let (parent, point) = match dir {
        Direction::In => (tc::PARENT_INGRESS, libbpf_sys::BPF_TC_INGRESS),
        Direction::Out => (tc::PARENT_EGRESS, libbpf_sys::BPF_TC_EGRESS),
    };
    let Ok(filters) = tc::list_filters(ifindex, parent) else {
        return 0;
    };
    let hook = tc_hook(ifindex, point);
    let mut removed = 0;
    for f in filters.iter().filter(|f| f.is_stale_ptcap()) {
        let opts = libbpf_sys::bpf_tc_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_tc_opts>() as _,
            handle: f.handle,
            priority: f.priority as u32,
            ..Default::default()
        };
        // SAFETY: valid structs.
        if unsafe { libbpf_sys::bpf_tc_detach(&hook, &opts) } == 0 {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn interface_keys_of_several_namespaces() {
        // Namespace 0 keeps its ifindex, whatever its size.
        assert_eq!(netns_key(0, 1), Some(1));
        assert_eq!(netns_key(0, 1 << 30), Some(1 << 30));
        assert_eq!(split_key(1 << 30, 1), (0, 1 << 30));
        // Others: the number in the high bits, and back.
        let k = netns_key(3, 7).unwrap();
        assert_eq!(k, 7 | 3 << NETNS_SHIFT);
        assert_eq!(split_key(k, 4), (3, 7));
        assert_eq!(split_key(7, 4), (0, 7));
        // Too large to share the key space, or beyond the copies of the programs.
        assert_eq!(netns_key(1, 1 << NETNS_SHIFT), None);
        assert_eq!(netns_key(MAX_NETNS, 1), None);
    }

    #[test]
    fn kernel_releases_compare() {
        assert!(release_at_least("6.18.0-1-amd64", (6, 2)));
        assert!(release_at_least("6.2.0", (6, 2)));
        assert!(release_at_least("7.0-rc1", (6, 2)));
        assert!(!release_at_least("6.1.0-28-cloud-amd64", (6, 2)));
        assert!(!release_at_least("5.15.0-91-generic", (6, 2)));
        assert!(!release_at_least("weird", (6, 2)));
    }
}

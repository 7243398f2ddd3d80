//! Per-packet attribution: which process sent or received each packet, and how we know.
//!
//! State, all fed from the one ring buffer (socket and process events precede the packets that
//! depend on them) plus one sock_diag snapshot at start:
//! - sockets: cookie -> owner (pid, network namespace) from cgroup/sock_create, updated by
//!   connect/sendmsg/recvmsg when another process uses the socket; accepted TCP children (no
//!   sock_create: the kernel clones them) get the owner of the listener on their netns and port
//!   (sockops PASSIVE_ESTABLISHED); older sockets come from sock_diag.
//! - flows: the FULL tuple (protocol, local address and port, remote address and port) as the
//!   socket sees it -> (network namespace, cookie), learnt by cgroup_skb from real packets in
//!   the socket's own namespace, and from sockops and sock_diag.
//! - listeners: (protocol, port) -> (netns, cookie), from listen()/bind() and sock_diag.
//! - processes: `procs::ProcessCache`.
//!
//! A packet is resolved, first match wins:
//! 1. its own socket (`skb->sk`, the cookie in the packet event) when the owner is known:
//!    [`Provenance::SocketCookie`]; the role is whose socket it is (see below);
//! 2. its tuple as sent (src -> dst) names the sending socket: [`Provenance::Tuple`];
//! 3. TCP from a listening port: a server's packet before its child socket exists (the
//!    SYN-ACK carries a request socket): [`Provenance::Listener`];
//! 4. the reversed tuple names the receiving socket: [`Provenance::ReverseTuple`];
//! 5. TCP/UDP to a listening port (a first packet from a peer on another host):
//!    [`Provenance::Listener`].
//!
//! Whatever the path, a socket known only from sock_diag yields [`Provenance::SockDiag`] and an
//! accepted child yields [`Provenance::Listener`]. A packet that carries a socket ptcap cannot
//! name (a kernel socket: RSTs for closed ports, ICMP errors and echo replies, ND) falls through
//! to the tuple paths, so an echo reply belongs to the pinging process.
//! When several namespaces hold the same tuple, the entry of the capture's own namespace wins,
//! then the most recent.
//!
//! # The role of a packet's own socket: whose socket it is, not where it was seen
//! A socket on an skb is not always the receiver's on ingress: a packet crosses a veth (and a
//! bridge) with its sender's socket still attached, so at the host side's ingress of a
//! container's veth, and at the peer container's eth0 ingress, `skb->sk` is the *sending*
//! container's socket (the stack orphans it only in ip_rcv, after the device hooks). Taking
//! "cookie on ingress" as the receiver inverted the role of every such packet. The role is
//! therefore decided from the socket itself, by comparing its own end with the packet's:
//! 1. the socket was learnt (cgroup_skb, in its own namespace) as the owner of the packet's
//!    tuple as sent (its local end = the packet's source): sender; of the reversed tuple:
//!    receiver;
//! 2. else its local address and port (bind, sockops, cgroup_skb, sock_diag) equal the
//!    packet's source: sender; its destination: receiver (the address decides when both
//!    ports are equal);
//! 3. else sender: every path we know attaches the sender's socket at a device hook (egress;
//!    ingress after a veth) and none the receiver's before ip_rcv.
//!
//! # Process selection (`--pid`, `--pname`, `--uid`) runs here, in user space
//! The kernel knows the owner of a packet only when it carries its socket; packets on the host
//! side of a veth, a bridge or forwarded ones are matched by tuple against tables that live
//! here, and a kernel-side selection would drop exactly those (or need a second copy of every
//! table in maps). Selecting after attribution is exact for every packet; the cost is copying
//! unselected packets through the ring. The filter expression still runs in the kernel, so
//! `ptcap --pid N tcp port 80` copies only port-80 traffic.
//! A packet is kept when one of its local ends (its owner, or the other end recorded as its
//! peer) matches every kind of filter given — AND across kinds (`--pid`, `--pname`, `--uid`,
//! `--container-*`, `--pod-name`), OR within a kind — the definition ptanalyze's owner filters
//! use on the file, so a selected process's conversations are kept in both directions, live
//! and offline alike. Live only: children are followed (a fork of a selected process is
//! selected, and so is a process that execs into a selected name), because ptcap sees forks
//! and a file records one parent.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use formats::meta::{NatInfo, PacketMeta, Provenance, Role, Tuple};
use formats::table::{EarlyGrowth, IdMap};

use crate::containers::Tracker;
use crate::procs::ProcessCache;
use crate::sockdiag;

/// Which processes to keep (empty = everything).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub pids: Vec<u32>,
    /// comm or the executable's basename.
    pub names: Vec<String>,
    pub uids: Vec<u32>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty() && self.names.is_empty() && self.uids.is_empty()
    }
}

/// How an owner was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A hook in the process's context (sock_create, connect, ...).
    Hook,
    /// An accepted TCP child: the listener's owner.
    Listener,
    /// sock_diag and /proc at start.
    SockDiag,
}

#[derive(Debug, Clone)]
struct Sock {
    pid: u32,
    netns: u64,
    origin: Origin,
    /// The socket's own end (address, port; ICMP echo: the id), when learnt. An unspecified
    /// address (a wildcard bind) matches any.
    local: Option<(IpAddr, u16)>,
}

/// A tuple from the socket's point of view (or a packet's as sent: local = source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FlowKey {
    proto: u8,
    local: IpAddr,
    lport: u16,
    remote: IpAddr,
    rport: u16,
}

impl FlowKey {
    fn reversed(self) -> FlowKey {
        FlowKey {
            proto: self.proto,
            local: self.remote,
            lport: self.rport,
            remote: self.local,
            rport: self.lport,
        }
    }
}

/// Counts per provenance (index: `Provenance as u8`), for the exit summary.
#[derive(Debug, Default, Clone)]
pub struct AttributionStats {
    pub by_provenance: [u64; Provenance::ALL.len()],
    pub selected_out: u64,
    pub sock_events: u64,
    pub proc_events: u64,
    pub diag_sockets: usize,
}

const MAX_FLOWS: usize = 262_144;
const MAX_SOCKS: usize = 262_144;
const MAX_RELEASED: usize = 16_384;
/// Listener keys below which the table is never swept.
const MIN_LISTENER_SWEEP: usize = 1024;
const RELEASE_GRACE_NS: u64 = 60_000_000_000;
/// NATed connections remembered (one model entity each); forgotten all at once when full.
const MAX_NATS: usize = 65_536;

pub struct Attributor {
    procs: ProcessCache,
    socks: IdMap<u64, Sock>,
    /// Released sockets (cookie, release time): evicted after a grace period (a closed TCP
    /// socket still sends its FIN and last ACKs).
    released: VecDeque<(u64, u64)>,
    flows: HashMap<FlowKey, Vec<(u64, u64)>>,
    flow_order: VecDeque<FlowKey>,
    listeners: HashMap<(u8, u16), Vec<(u64, u64)>>,
    /// Listener keys at which the table is next swept of sockets gone from `socks`.
    listener_sweep_at: usize,
    /// Socket, flow and listener tables: steady under churn (formats::table).
    growth: [EarlyGrowth; 3],
    /// The network namespace of the packet being attributed (preferred when a tuple is
    /// ambiguous): set from its interface key in [`Self::meta_for`].
    netns: u64,
    /// The captured namespaces' cookies, by namespace number (interface keys' high bits).
    netns_cookies: Vec<u64>,
    selection: Selection,
    selected: HashSet<u32>,
    /// Containers: metadata and `--container-id/--container-name/--pod-name` (containers/).
    containers: Tracker,
    /// NATed connections seen, by their conntrack tuples.
    nats: HashMap<bpf::NatTuples, Arc<NatInfo>>,
    /// ctnetlink lookups where the packet programs have no conntrack kfuncs (`--nat`), one
    /// per captured namespace, by namespace number.
    nat_lookup: Vec<Option<crate::conntrack::NatLookup>>,
    pub stats: AttributionStats,
    /// Bumped by every change to the tables an owner is resolved from (socket, flow,
    /// listener, process events; the selection; the watchers).
    tables_gen: u64,
    /// The last two packets resolved without NAT (two: with `-i any` a packet alternates
    /// between hooks, e.g. at the sender's veth with its socket and at the receiver's without):
    /// their (namespace number, socket cookie, tuple), `tables_gen` then, their owner (pid,
    /// provenance, role) and other local end. A flow's packets come in runs: the next one with
    /// the same key gets the same answer without the flow and listener lookups (SipHash:
    /// their keys come from the network). `last_next`: the slot to replace.
    last: [Option<LastResolution>; 2],
    last_next: usize,
    /// The metadata of the last two packets without NAT, for the next ones with the same key
    /// ([`Self::meta_for`]); `metas_next`: the slot to replace.
    metas: [CachedMeta; 2],
    metas_next: usize,
    /// The last packet's metadata when it had NAT or may be a tunnel's (not reused: built per
    /// packet).
    nat_meta: PacketMeta,
}

/// A packet's metadata as [`Attributor::meta_for`] built it, with what it was built from
/// (the default matches no packet: its `tables_gen` is never reached).
struct CachedMeta {
    key: LastKey,
    tables_gen: u64,
    containers_gen: u64,
    keep: bool,
    /// `Some(known)`: the owner's container (its runtime metadata known or not).
    known: Option<bool>,
    meta: PacketMeta,
}

impl Default for CachedMeta {
    fn default() -> CachedMeta {
        CachedMeta {
            key: (usize::MAX, 0, None),
            tables_gen: u64::MAX,
            containers_gen: 0,
            keep: false,
            known: None,
            meta: PacketMeta::default(),
        }
    }
}

type LastResolution = (LastKey, u64, Option<(u32, Provenance, Role)>, Option<u32>);

type LastKey = (usize, u64, Option<FlowKey>);

fn ip(family: u8, raw: &[u8]) -> Option<IpAddr> {
    match family {
        4 => Some(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
        6 => Some(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(&raw[..16]).ok()?,
        ))),
        _ => None,
    }
}

/// The flow tuple of a packet as sent (source = local), with ICMP echo ids in both ports.
/// `data` starts at an Ethernet header (`ethernet`) or at the IP header.
fn packet_tuple(data: &[u8], ethernet: bool) -> Option<FlowKey> {
    let mut off = 0usize;
    if ethernet {
        let mut ethertype = u16::from_be_bytes([*data.get(12)?, *data.get(13)?]);
        off = 14;
        while ethertype == 0x8100 || ethertype == 0x88a8 {
            ethertype = u16::from_be_bytes([*data.get(off + 2)?, *data.get(off + 3)?]);
            off += 4;
        }
        if ethertype != 0x0800 && ethertype != 0x86dd {
            return None;
        }
    }
    let ipd = data.get(off..)?;
    let version = ipd.first()? >> 4;
    let (proto, src, dst, l4) = match version {
        4 => {
            if ipd.len() < 20 {
                return None;
            }
            let ihl = ((ipd[0] & 0xf) as usize) * 4;
            let frag = u16::from_be_bytes([ipd[6], ipd[7]]) & 0x1fff;
            let proto = if frag != 0 { 0 } else { ipd[9] };
            (
                proto,
                ip(4, &ipd[12..16])?,
                ip(4, &ipd[16..20])?,
                ipd.get(ihl..).unwrap_or(&[]),
            )
        }
        6 => {
            if ipd.len() < 40 {
                return None;
            }
            (
                ipd[6],
                ip(6, &ipd[8..24])?,
                ip(6, &ipd[24..40])?,
                &ipd[40..],
            )
        }
        _ => return None,
    };
    let (mut sport, mut dport) = (0, 0);
    match proto {
        6 | 17 | 132 | 136 if l4.len() >= 4 => {
            sport = u16::from_be_bytes([l4[0], l4[1]]);
            dport = u16::from_be_bytes([l4[2], l4[3]]);
        }
        1 | 58 if l4.len() >= 8 => {
            let echo = if proto == 1 {
                l4[0] == 8 || l4[0] == 0
            } else {
                l4[0] == 128 || l4[0] == 129
            };
            if echo {
                let id = u16::from_be_bytes([l4[4], l4[5]]);
                sport = id;
                dport = id;
            }
        }
        _ => {}
    }
    Some(FlowKey {
        proto,
        local: src,
        lport: sport,
        remote: dst,
        rport: dport,
    })
}

/// Whether a packet of `key` (its outer tuple) may be an encapsulation
/// [`formats::wire::flow::summarize_inner`] opens: IPIP/SIT/ip6tnl, GRE, or UDP to or from
/// a tunnel's port (`formats::wire::flow::is_tunnel_port`). A cheap test before the parse.
fn may_be_tunnel(key: &FlowKey) -> bool {
    use formats::wire::flow::is_tunnel_port;
    match key.proto {
        4 | 41 | 47 => true,
        17 => is_tunnel_port(key.lport) || is_tunnel_port(key.rport),
        _ => false,
    }
}

/// The inner tuple of an encapsulated packet, as sent, from the packet view the flow table and
/// the export use (`formats::wire::flow::summarize_inner`); `None` when the packet is not one
/// or its payload holds no IP packet.
fn inner_tuple(data: &[u8], ethernet: bool) -> Option<FlowKey> {
    use formats::pcapng::linktype;
    use formats::wire::flow::Transport;
    let link = if ethernet {
        linktype::ETHERNET
    } else {
        linktype::RAW
    };
    let s = formats::wire::flow::summarize_inner(link, data)?;
    s.tunnel?;
    let (lport, rport) = match s.transport {
        Transport::Tcp(t) => (t.src_port, t.dst_port),
        Transport::Udp {
            src_port, dst_port, ..
        } => (src_port, dst_port),
        Transport::Icmp {
            echo_id: Some(id), ..
        } => (id, id),
        _ => (0, 0),
    };
    Some(FlowKey {
        proto: if s.later_fragment { 0 } else { s.protocol },
        local: s.src,
        lport,
        remote: s.dst,
        rport,
    })
}

/// A conntrack tuple as a socket sees it from its source end.
fn nat_key(proto: u8, (src, dst): (std::net::SocketAddr, std::net::SocketAddr)) -> FlowKey {
    FlowKey {
        proto,
        local: src.ip(),
        lport: src.port(),
        remote: dst.ip(),
        rport: dst.port(),
    }
}

/// Whether a packet of a NATed connection travels responder -> originator: it is neither the
/// original tuple nor (translated) the reply tuple's inverse.
fn nat_reply_direction(n: &bpf::NatTuples, key: &FlowKey) -> bool {
    let orig = nat_key(n.protocol, n.original);
    let sent_translated = nat_key(n.protocol, n.reply).reversed();
    let same = |k: &FlowKey| {
        k.local == key.local
            && k.lport == key.lport
            && k.remote == key.remote
            && k.rport == key.rport
    };
    !(same(&orig) || same(&sent_translated))
}

fn is_listening_pair(proto: u8) -> bool {
    proto == 6 || proto == 17
}

/// The process table's bound (live processes are never evicted).
const PROCESS_TABLE_MAX: usize = 65_536;

/// The scans of what exists before the hooks saw it: the processes (/proc) and the sockets
/// (sock_diag), each on its own thread, started together and joined by [`Attributor::new`].
pub struct Scan {
    started: std::time::Instant,
    procs: std::thread::JoinHandle<ProcessCache>,
    socks: std::thread::JoinHandle<Vec<sockdiag::DiagSocket>>,
}

impl Scan {
    pub fn start(started: std::time::Instant) -> Scan {
        Scan {
            started,
            procs: std::thread::spawn(|| ProcessCache::scan(PROCESS_TABLE_MAX)),
            socks: std::thread::spawn(sockdiag::snapshot),
        }
    }

    /// When the attribution's start began (its hooks), for `-v`'s "attribution ready" line.
    pub fn started(&self) -> std::time::Instant {
        self.started
    }

    /// A scan that panicked leaves its table empty, with a warning: the hooks still fill it
    /// as they go, but what existed before ptcap is unattributed.
    fn join(self) -> (ProcessCache, Vec<sockdiag::DiagSocket>) {
        let procs = self.procs.join().unwrap_or_else(|_| {
            eprintln!("ptcap: warning: the /proc scan failed: processes that existed before ptcap started are not attributed until they act");
            ProcessCache::empty(PROCESS_TABLE_MAX)
        });
        let socks = self.socks.join().unwrap_or_else(|_| {
            eprintln!("ptcap: warning: the sock_diag snapshot failed: sockets open before ptcap started are not attributed until they are used");
            Vec::new()
        });
        (procs, socks)
    }
}

impl Attributor {
    /// The tables from the /proc scan and the sock_diag snapshot of every namespace ([`Scan`],
    /// joined here). Start the scan after the kernel hooks are attached (nothing then falls
    /// between the snapshot and the events).
    pub fn new(netns_cookies: Vec<u64>, selection: Selection, scan: Scan) -> Attributor {
        let (procs, socks) = scan.join();
        let mut a = Attributor {
            procs,
            socks: IdMap::default(),
            released: VecDeque::new(),
            flows: HashMap::new(),
            flow_order: VecDeque::new(),
            listeners: HashMap::new(),
            listener_sweep_at: MIN_LISTENER_SWEEP,
            growth: Default::default(),
            netns: netns_cookies.first().copied().unwrap_or(0),
            netns_cookies,
            selection,
            selected: HashSet::new(),
            containers: Tracker::inactive(),
            nats: HashMap::new(),
            nat_lookup: Vec::new(),
            stats: AttributionStats::default(),
            tables_gen: 0,
            last: [None, None],
            last_next: 0,
            metas: Default::default(),
            metas_next: 0,
            nat_meta: PacketMeta::default(),
        };
        a.load_sockdiag(socks);
        a.init_selection();
        a
    }

    /// Looks translated packets of captured namespace `no` up through ctnetlink (the packet
    /// programs cannot).
    pub fn set_nat_lookup(&mut self, no: usize, lookup: crate::conntrack::NatLookup) {
        if self.nat_lookup.len() <= no {
            self.nat_lookup.resize_with(no + 1, || None);
        }
        self.nat_lookup[no] = Some(lookup);
        self.tables_gen += 1;
    }

    /// Container metadata and selection from the runtimes' watchers.
    pub fn set_containers(&mut self, containers: Tracker) {
        self.containers = containers;
        self.tables_gen += 1;
    }

    fn load_sockdiag(&mut self, socks: Vec<sockdiag::DiagSocket>) {
        self.stats.diag_sockets = socks.len();
        for s in socks {
            let Some(pid) = s.pid else { continue };
            self.procs.ensure(pid, b"", false, 0, 0, 0);
            self.socks.entry(s.cookie).or_insert(Sock {
                pid,
                netns: s.netns_cookie,
                origin: Origin::SockDiag,
                local: Some((s.local, s.local_port)),
            });
            self.growth[0].check(&mut self.socks);
            if s.protocol == 6 && s.state == 10 {
                self.add_listener(6, s.local_port, s.netns_cookie, s.cookie);
            } else if s.protocol == 17 && s.remote_port == 0 && s.local_port != 0 {
                self.add_listener(17, s.local_port, s.netns_cookie, s.cookie);
            }
            if s.remote_port != 0 {
                let key = FlowKey {
                    proto: s.protocol,
                    local: s.local,
                    lport: s.local_port,
                    remote: s.remote,
                    rport: s.remote_port,
                };
                self.add_flow(key, s.netns_cookie, s.cookie);
            }
        }
    }

    /// Whether a process matches every process kind given (`--pid`, `--pname`, `--uid`: AND
    /// across kinds, OR within one), as `ptanalyze`'s owner filters define it.
    fn matches_selection(&self, pid: u32) -> bool {
        let Some(p) = self.procs.get(pid) else {
            return false;
        };
        let sel = &self.selection;
        let base = p.info.exe.rsplit('/').next().unwrap_or("");
        (sel.pids.is_empty() || sel.pids.contains(&pid))
            && (sel.uids.is_empty() || p.info.uid.is_some_and(|u| sel.uids.contains(&u)))
            && (sel.names.is_empty()
                || sel
                    .names
                    .iter()
                    .any(|n| *n == p.info.comm || (!base.is_empty() && *n == base)))
    }

    /// Selects a process (and its future children) from now on: `ptcap -- CMD` adds the
    /// command's pid before the command runs.
    pub fn select_pid(&mut self, pid: u32) {
        self.selection.pids.push(pid);
        self.selected.insert(pid);
        self.tables_gen += 1;
    }

    fn init_selection(&mut self) {
        if self.selection.is_empty() {
            return;
        }
        let roots: HashSet<u32> = self
            .procs
            .iter()
            .map(|(pid, _)| *pid)
            .filter(|&pid| self.matches_selection(pid))
            .collect();
        let mut roots = roots;
        roots.extend(self.selection.pids.iter().copied());
        self.selected = self.procs.descendants(&roots);
    }

    fn add_flow(&mut self, key: FlowKey, netns: u64, cookie: u64) {
        let entries = self.flows.entry(key).or_default();
        if let Some(e) = entries.iter_mut().find(|e| e.0 == netns) {
            e.1 = cookie;
            return;
        }
        entries.push((netns, cookie));
        self.growth[1].check(&mut self.flows);
        self.flow_order.push_back(key);
        // A flow whose sockets are gone (evicted after their grace period) can name no owner
        // any more (`flow_owner` skips unknown cookies): drop such flows as they reach the
        // front, and move live ones to the back, so the table follows the live sockets
        // instead of growing to MAX_FLOWS under connection churn.
        for _ in 0..2 {
            let Some(&front) = self.flow_order.front() else {
                break;
            };
            if front == key {
                break;
            }
            self.flow_order.pop_front();
            let Some(v) = self.flows.get_mut(&front) else {
                continue;
            };
            let before = v.len();
            let socks = &self.socks;
            v.retain(|(_, c)| socks.contains_key(c));
            if v.is_empty() {
                self.flows.remove(&front);
            } else if v.len() == before {
                self.flow_order.push_back(front);
            }
        }
        while self.flow_order.len() > MAX_FLOWS {
            if let Some(old) = self.flow_order.pop_front() {
                if let Some(v) = self.flows.get_mut(&old) {
                    if !v.is_empty() {
                        v.remove(0);
                    }
                    if v.is_empty() {
                        self.flows.remove(&old);
                    }
                }
            }
        }
    }

    fn add_listener(&mut self, proto: u8, port: u16, netns: u64, cookie: u64) {
        if port == 0 {
            return;
        }
        let v = self.listeners.entry((proto, port)).or_default();
        v.retain(|e| e.0 != netns);
        v.push((netns, cookie));
        self.growth[2].check(&mut self.listeners);
        // Every bound UDP socket is a listener, so client churn (each client's ephemeral port)
        // fills the table with sockets evicted long ago, which `listener_owner` skips: sweep
        // them out whenever the table has grown by a quarter since the last sweep (amortised
        // O(1); a quarter, not a doubling, so that what a sweep frees at once stays small).
        if self.listeners.len() >= self.listener_sweep_at {
            let socks = &self.socks;
            self.listeners.retain(|_, v| {
                v.retain(|(_, c)| socks.contains_key(c));
                !v.is_empty()
            });
            self.listener_sweep_at = (self.listeners.len() * 5 / 4).max(MIN_LISTENER_SWEEP);
        }
    }

    /// The owner of a listener on (proto, port), preferring namespace `netns` (0: any).
    fn listener_owner(&self, proto: u8, port: u16, netns: u64) -> Option<(u64, &Sock)> {
        let v = self.listeners.get(&(proto, port))?;
        let pick = |want: Option<u64>| {
            v.iter().rev().find_map(|(ns, cookie)| {
                if want.is_some_and(|w| w != *ns) {
                    return None;
                }
                self.socks.get(cookie).map(|s| (*cookie, s))
            })
        };
        if netns != 0 {
            if let Some(found) = pick(Some(netns)) {
                return Some(found);
            }
        }
        // Another namespace: only when unambiguous.
        let owners: HashSet<u32> = v
            .iter()
            .filter_map(|(_, c)| self.socks.get(c).map(|s| s.pid))
            .collect();
        if owners.len() == 1 {
            return pick(None);
        }
        None
    }

    /// The listener bound to `addr`:`port` (a server's packet before its child socket exists:
    /// a port-forward's SYN): the one bound to that very address, else the only owner among
    /// the listeners that can take a packet to `addr`: bound to the wildcard (`0.0.0.0` for
    /// IPv4; `::`, dual-stack unless v6only, which we do not know) or to an address not learnt;
    /// when none can, the only owner on the port. One bound to another address cannot take it:
    /// on a Docker node a container's server on `[::]:80` (busybox httpd) and the outside
    /// host's own server on `198.18.y.2:80` made the port ambiguous, and the first
    /// port-forwarded SYN went to the outside client (tests/capture_docker_nat.rs).
    fn listener_at(&self, proto: u8, addr: IpAddr, port: u16) -> Option<&Sock> {
        if !is_listening_pair(proto) {
            return None;
        }
        let v = self.listeners.get(&(proto, port))?;
        let socks = || v.iter().rev().filter_map(|(_, c)| self.socks.get(c));
        let addr = addr.to_canonical();
        if let Some(s) = socks().find(|s| s.local.is_some_and(|(a, _)| a.to_canonical() == addr)) {
            return Some(s);
        }
        let can_take = |s: &&Sock| match s.local {
            None => true,
            Some((a, _)) => {
                let a = a.to_canonical();
                a.is_unspecified() && (a.is_ipv6() || addr.is_ipv4())
            }
        };
        let mut owners = socks().filter(can_take);
        match owners.next() {
            Some(first) => owners.all(|s| s.pid == first.pid).then_some(first),
            // None can by its address (a wildcard listener's address is pinned to the first
            // one a packet of it showed: `set_local`): the only owner on the port, as before.
            None => self.listener_owner(proto, port, 0).map(|(_, s)| s),
        }
    }

    fn remember_sock(&mut self, cookie: u64, sock: Sock) {
        if self.socks.len() >= MAX_SOCKS && !self.socks.contains_key(&cookie) {
            // Over the bound: drop released sockets early, then anything old enough.
            while let Some((c, _)) = self.released.pop_front() {
                self.socks.remove(&c);
                if self.socks.len() < MAX_SOCKS {
                    break;
                }
            }
        }
        self.socks.insert(cookie, sock);
        self.growth[0].check(&mut self.socks);
    }

    /// A socket or flow event from the ring.
    pub fn on_sock_event(&mut self, ev: &bpf::SockEvent) {
        use bpf::SockKind;
        self.stats.sock_events += 1;
        self.tables_gen += 1;
        if let Some(t) = &ev.task {
            let leader = t.tid == t.pid;
            self.procs
                .ensure(t.pid, &t.comm, leader, t.uid, t.gid, t.cgroup_id);
            if leader {
                // The comm the leader has now (a rename whose event was lost).
                self.procs.refresh_comm(t.pid, &t.comm);
            }
        }
        match ev.kind {
            SockKind::Create | SockKind::Owner => {
                if let Some(t) = &ev.task {
                    let known = self.socks.get(&ev.cookie);
                    let netns = if ev.netns_cookie != 0 {
                        ev.netns_cookie
                    } else {
                        known.map_or(0, |s| s.netns)
                    };
                    let local = known.and_then(|s| s.local);
                    self.remember_sock(
                        ev.cookie,
                        Sock {
                            pid: t.pid,
                            netns,
                            origin: Origin::Hook,
                            local,
                        },
                    );
                }
            }
            SockKind::Bind => {
                if let Some(t) = &ev.task {
                    self.socks.entry(ev.cookie).or_insert(Sock {
                        pid: t.pid,
                        netns: ev.netns_cookie,
                        origin: Origin::Hook,
                        local: None,
                    });
                    self.growth[0].check(&mut self.socks);
                }
                if let Some(addr) = ev.local_ip() {
                    self.set_local(ev.cookie, addr, ev.local_port);
                }
                // A bound UDP socket is a server until it connects (flows then name it).
                if ev.protocol == 17 {
                    self.add_listener(17, ev.local_port, ev.netns_cookie, ev.cookie);
                }
            }
            SockKind::Listen => self.add_listener(6, ev.local_port, ev.netns_cookie, ev.cookie),
            SockKind::PassiveEstablished => {
                if !self.socks.contains_key(&ev.cookie) {
                    if let Some((_, l)) = self.listener_owner(6, ev.local_port, ev.netns_cookie) {
                        let s = Sock {
                            pid: l.pid,
                            netns: ev.netns_cookie,
                            origin: Origin::Listener,
                            local: None,
                        };
                        self.remember_sock(ev.cookie, s);
                    }
                }
                self.learn_flow(ev);
            }
            SockKind::ActiveEstablished | SockKind::Flow => self.learn_flow(ev),
            SockKind::Release => {
                let now = ev.ts_mono_ns;
                self.released.push_back((ev.cookie, now));
                while let Some(&(c, t)) = self.released.front() {
                    if self.released.len() > MAX_RELEASED
                        || now.saturating_sub(t) > RELEASE_GRACE_NS
                    {
                        self.released.pop_front();
                        self.socks.remove(&c);
                    } else {
                        break;
                    }
                }
            }
            SockKind::Unknown(_) => {}
        }
    }

    fn learn_flow(&mut self, ev: &bpf::SockEvent) {
        let (Some(local), Some(remote)) = (ev.local_ip(), ev.remote_ip()) else {
            return;
        };
        let key = FlowKey {
            proto: ev.protocol,
            local,
            lport: ev.local_port,
            remote,
            rport: ev.remote_port,
        };
        self.add_flow(key, ev.netns_cookie, ev.cookie);
        self.set_local(ev.cookie, local, ev.local_port);
    }

    /// A socket's own end, from a hook that saw it; a concrete address replaces a wildcard.
    fn set_local(&mut self, cookie: u64, addr: IpAddr, port: u16) {
        if let Some(s) = self.socks.get_mut(&cookie) {
            match s.local {
                Some((a, p)) if p == port && addr.is_unspecified() && !a.is_unspecified() => {}
                _ => s.local = Some((addr, port)),
            }
        }
    }

    /// Whether the packet's own socket (`cookie`) sent it or receives it (module docs: "The
    /// role of a packet's own socket").
    fn cookie_role(&self, cookie: u64, sock: &Sock, key: Option<FlowKey>) -> Role {
        let Some(key) = key else {
            return Role::Sender;
        };
        let holds = |k: &FlowKey| {
            self.flows
                .get(k)
                .is_some_and(|v| v.iter().any(|(_, c)| *c == cookie))
        };
        if holds(&key) {
            return Role::Sender;
        }
        if holds(&key.reversed()) {
            return Role::Receiver;
        }
        if let Some((addr, port)) = sock.local {
            let at = |a: IpAddr, p: u16| p == port && (addr.is_unspecified() || a == addr);
            let (src, dst) = (at(key.local, key.lport), at(key.remote, key.rport));
            if dst && !src {
                return Role::Receiver;
            }
        }
        Role::Sender
    }

    /// A process event from the ring.
    pub fn on_proc_event(&mut self, ev: &bpf::ProcEvent<'_>) {
        use bpf::ProcKind;
        self.stats.proc_events += 1;
        self.tables_gen += 1;
        match ev.kind {
            ProcKind::Exec => {
                self.procs.on_exec(ev);
                self.containers.on_exec(ev.pid, ev.cgroup_id);
                if !self.selection.is_empty() && self.matches_selection(ev.pid) {
                    self.selected.insert(ev.pid);
                }
            }
            ProcKind::Fork => {
                self.procs.on_fork(ev);
                self.containers.on_fork(ev.pid, ev.ppid);
                if self.selected.contains(&ev.ppid)
                    || (!self.selection.is_empty() && self.matches_selection(ev.pid))
                {
                    self.selected.insert(ev.pid);
                }
            }
            ProcKind::Exit => {
                self.procs.on_exit(ev.pid);
                self.containers.on_exit(ev.pid);
            }
            ProcKind::Rename => {
                self.procs.on_rename(ev.pid, ev.comm);
                if !self.selection.is_empty() && self.matches_selection(ev.pid) {
                    self.selected.insert(ev.pid);
                }
            }
            ProcKind::Unknown(_) => {}
        }
    }

    /// The socket behind a flow key, preferring the capture's namespace, skipping cookies
    /// whose owner is unknown.
    fn flow_owner(&self, key: &FlowKey) -> Option<&Sock> {
        let v = self.flows.get(key)?;
        let known = |ns_ok: &dyn Fn(u64) -> bool| {
            v.iter()
                .rev()
                .filter(|(ns, _)| ns_ok(*ns))
                .find_map(|(_, c)| self.socks.get(c))
        };
        known(&|ns| ns == self.netns).or_else(|| known(&|_| true))
    }

    fn provenance(sock: &Sock, path: Provenance) -> Provenance {
        match sock.origin {
            Origin::SockDiag => Provenance::SockDiag,
            Origin::Listener if path != Provenance::SocketCookie => Provenance::Listener,
            _ => path,
        }
    }

    /// The packet's owner, how it was found, and whether the owner sent or received it.
    /// `tuple`: the packet's, parsed once by [`Self::meta_for`].
    fn resolve(
        &self,
        p: &bpf::PacketEvent<'_>,
        tuple: Option<FlowKey>,
        nat: Option<&bpf::NatTuples>,
    ) -> Option<(&Sock, Provenance, Role)> {
        // A translated packet: its conntrack entry names the NATed side's owner. Before the
        // socket: a packet that crossed a veth into this namespace still carries the sender's
        // socket of the other namespace (the outside client of a port-forward).
        if let (Some(n), Some(key)) = (nat, tuple) {
            if let Some(found) = self.nat_owner(n, &key) {
                return Some(found);
            }
        }
        if p.socket_cookie != 0 {
            if let Some(s) = self.socks.get(&p.socket_cookie) {
                let role = self.cookie_role(p.socket_cookie, s, tuple);
                return Some((s, Self::provenance(s, Provenance::SocketCookie), role));
            }
        }
        let key = tuple?;
        if let Some(s) = self.flow_owner(&key) {
            return Some((s, Self::provenance(s, Provenance::Tuple), Role::Sender));
        }
        let flow_ns = self
            .flows
            .get(&key.reversed())
            .and_then(|v| v.last())
            .map_or(0, |e| e.0);
        if key.proto == 6 {
            // A listener on the source port: the server's own reply.
            if let Some((_, s)) = self.listener_owner(6, key.lport, flow_ns) {
                return Some((s, Provenance::Listener, Role::Sender));
            }
        }
        if let Some(s) = self.flow_owner(&key.reversed()) {
            return Some((
                s,
                Self::provenance(s, Provenance::ReverseTuple),
                Role::Receiver,
            ));
        }
        if is_listening_pair(key.proto) {
            if let Some((_, s)) = self.listener_owner(key.proto, key.rport, 0) {
                return Some((s, Provenance::Listener, Role::Receiver));
            }
        }
        None
    }

    /// [`Self::resolve`] parsing the tuple itself (tests).
    #[cfg(test)]
    fn resolve_frame(
        &self,
        p: &bpf::PacketEvent<'_>,
        ethernet: bool,
        nat: Option<&bpf::NatTuples>,
    ) -> Option<(&Sock, Provenance, Role)> {
        self.resolve(p, packet_tuple(p.data, ethernet), nat)
    }

    /// The owner of a translated packet by its conntrack entry's untranslated tuples: the
    /// originator's socket (which sees `original`) for SNAT, the responder's (which sees
    /// `reply`, or its listener) for DNAT; the other one when the preferred end is not local.
    fn nat_owner(&self, n: &bpf::NatTuples, key: &FlowKey) -> Option<(&Sock, Provenance, Role)> {
        let reply_dir = nat_reply_direction(n, key);
        let originator = || {
            self.flow_owner(&nat_key(n.protocol, n.original)).map(|s| {
                let role = if reply_dir {
                    Role::Receiver
                } else {
                    Role::Sender
                };
                (s, Provenance::Nat, role)
            })
        };
        let responder = || {
            let k = nat_key(n.protocol, n.reply);
            self.flow_owner(&k)
                .or_else(|| self.listener_at(n.protocol, k.local, k.lport))
                .map(|s| {
                    let role = if reply_dir {
                        Role::Sender
                    } else {
                        Role::Receiver
                    };
                    (s, Provenance::Nat, role)
                })
        };
        if n.dst_nat && !n.src_nat {
            responder().or_else(originator)
        } else {
            originator().or_else(responder)
        }
    }

    /// The other local end of a translated packet: the conntrack entry's other side.
    fn nat_other_end(&self, n: &bpf::NatTuples, owner: u32) -> Option<u32> {
        let o = self
            .flow_owner(&nat_key(n.protocol, n.original))
            .map(|s| s.pid);
        let r = self
            .flow_owner(&nat_key(n.protocol, n.reply))
            .map(|s| s.pid);
        [o, r].into_iter().flatten().find(|&p| p != owner)
    }

    /// The model's copy of a packet's NAT tuples, one `Arc` per connection (the writer
    /// defines each connection once per file by it).
    fn nat_info(&mut self, n: &bpf::NatTuples) -> Arc<NatInfo> {
        if let Some(i) = self.nats.get(n) {
            return Arc::clone(i);
        }
        if self.nats.len() >= MAX_NATS {
            self.nats.clear();
        }
        let t = |(a, b): (std::net::SocketAddr, std::net::SocketAddr)| Tuple {
            src: a.ip(),
            sport: a.port(),
            dst: b.ip(),
            dport: b.port(),
        };
        let info = Arc::new(NatInfo {
            proto: n.protocol,
            original: t(n.original),
            reply: t(n.reply),
            snat: n.src_nat,
            dnat: n.dst_nat,
        });
        self.nats.insert(*n, Arc::clone(&info));
        info
    }

    /// The local receiver of a packet (its reversed tuple's socket, or a listener on its
    /// destination port): a selected process's conversation is kept in both directions.
    fn receiver_pid(&self, key: Option<FlowKey>) -> Option<u32> {
        let key = key?;
        if let Some(s) = self.flow_owner(&key.reversed()) {
            return Some(s.pid);
        }
        is_listening_pair(key.proto)
            .then(|| {
                self.listener_owner(key.proto, key.rport, 0)
                    .map(|(_, s)| s.pid)
            })
            .flatten()
    }

    /// The metadata of one packet (and whether the selection keeps it). Never blocks: only
    /// in-memory tables.
    ///
    /// A flow's packets come in runs, and so their metadata is built once per run: the last
    /// two answers without NAT are kept with their key (namespace number, socket cookie,
    /// tuple) and the generations of the tables they came from (`tables_gen`, the container
    /// tracker's), and a packet with the same key and generations gets the same metadata, by
    /// reference (building and dropping a `PacketMeta`, eight `Arc`s, per packet was 11% of
    /// the capture's CPU at 400k packets/s).
    pub fn meta_for(&mut self, p: &bpf::PacketEvent<'_>, ethernet: bool) -> (&PacketMeta, bool) {
        let key = packet_tuple(p.data, ethernet);
        let (no, _) = bpf::split_key(p.ifindex, self.netns_cookies.len());
        if let Some(&c) = self.netns_cookies.get(no) {
            self.netns = c;
        }
        let nat = p.nat().or_else(|| {
            let (l, k) = (self.nat_lookup.get_mut(no)?.as_mut()?, key?);
            let (src, dst) = (
                std::net::SocketAddr::new(k.local, k.lport),
                std::net::SocketAddr::new(k.remote, k.rport),
            );
            l.lookup(k.proto, src, dst, p.ct_miss, p.ts_mono_ns)
        });
        let last_key: LastKey = (no, p.socket_cookie, key);
        // A tunnel's outer tuple is shared by many inner conversations (`build_meta`).
        let tunneled = key.as_ref().is_some_and(may_be_tunnel);
        if nat.is_none() && !tunneled {
            self.containers.poll();
            let (gen, cgen) = (self.tables_gen, self.containers.generation());
            let hit = self
                .metas
                .iter()
                .position(|m| m.key == last_key && m.tables_gen == gen && m.containers_gen == cgen);
            if let Some(i) = hit {
                let m = &self.metas[i];
                self.stats.by_provenance[m.meta.provenance as usize] += 1;
                if let Some(known) = m.known {
                    self.containers.count(known);
                }
                if !m.keep {
                    self.stats.selected_out += 1;
                }
                return (&m.meta, m.keep);
            }
        }
        let (meta, keep, known) = self.build_meta(p, ethernet, key, last_key, nat);
        if nat.is_some() || tunneled {
            self.nat_meta = meta;
            return (&self.nat_meta, keep);
        }
        let i = self.metas_next;
        self.metas_next ^= 1;
        self.metas[i] = CachedMeta {
            key: last_key,
            tables_gen: self.tables_gen,
            containers_gen: self.containers.generation(),
            keep,
            known,
            meta,
        };
        (&self.metas[i].meta, keep)
    }

    /// [`Self::meta_for`]'s resolution: the metadata, whether the selection keeps the packet,
    /// and whether its owner's container is known (`None`: no container).
    fn build_meta(
        &mut self,
        p: &bpf::PacketEvent<'_>,
        ethernet: bool,
        key: Option<FlowKey>,
        last_key: LastKey,
        nat: Option<bpf::NatTuples>,
    ) -> (PacketMeta, bool, Option<bool>) {
        let mut meta = PacketMeta::default();
        if let Some(n) = &nat {
            meta.nat = Some(self.nat_info(n));
            meta.nat_reply = key.is_some_and(|k| nat_reply_direction(n, &k));
        }
        // An encapsulated packet whose outer tuple is the tunnel's (a VXLAN datagram on the
        // underlay) is resolved by its inner tuple, the pod's conversation, where the outer one
        // names no owner; the last-packet caches are keyed by the outer tuple, which many inner
        // conversations share, so such packets skip them (here and in `meta_for`).
        let tunneled = key.as_ref().is_some_and(may_be_tunnel);
        let hit = self.last.iter().flatten().find(|(k, g, _, _)| {
            nat.is_none() && !tunneled && *k == last_key && *g == self.tables_gen
        });
        let mut key = key;
        let (found, last_other) = match hit {
            Some((_, _, found, other)) => (*found, Some(*other)),
            None => {
                let mut found = self
                    .resolve(p, key, nat.as_ref())
                    .map(|(s, prov, role)| (s.pid, prov, role));
                if found.is_none() && tunneled {
                    if let Some(inner) = inner_tuple(p.data, ethernet) {
                        key = Some(inner);
                        found = self
                            .resolve(p, key, None)
                            .map(|(s, prov, role)| (s.pid, prov, role));
                    }
                }
                (found, None)
            }
        };
        if let Some((pid, prov, role)) = found {
            if let Some(proc_) = self.procs.get(pid) {
                meta.process = Some(Arc::clone(&proc_.info));
                meta.parent = self.procs.get(proc_.ppid).map(|pp| Arc::clone(&pp.info));
                // No thread: the socket's tid is the thread that created (or last took over)
                // the socket, not for certain the one that sent or received this packet
                // (docs/ARCHITECTURE.md, "Threads").
                meta.provenance = prov;
                meta.role = role;
            }
        }
        self.stats.by_provenance[meta.provenance as usize] += 1;
        let owner = meta.process.as_ref().map(|pr| pr.pid);
        let known = owner.and_then(|pid| self.containers.annotate(&mut meta, pid));
        // The other end, when it is a local process too (pod to pod, loopback): recorded as
        // the packet's peer, so that offline filters keep what the live selection keeps.
        let (by_process, by_container) = (!self.selection.is_empty(), self.containers.selecting());
        // Looked up only when it can matter: an owner to pair it with, or a selection.
        let other = if let (Some(n), Some(o)) = (&nat, owner) {
            self.nat_other_end(n, o)
        } else if let Some(o) = last_other {
            o
        } else if owner.is_some() || by_process || by_container {
            self.other_end_pid(key, meta.role)
        } else {
            None
        };
        if nat.is_none() && last_other.is_none() && !tunneled {
            self.last[self.last_next] = Some((last_key, self.tables_gen, found, other));
            self.last_next ^= 1;
        }
        if let Some(pid) = other.filter(|&o| Some(o) != owner && owner.is_some()) {
            if let Some(proc_) = self.procs.get(pid) {
                meta.peer.process = Some(Arc::clone(&proc_.info));
                meta.peer.parent = self.procs.get(proc_.ppid).map(|pp| Arc::clone(&pp.info));
                self.containers.annotate_peer(&mut meta.peer, pid);
            }
        }
        // Owner filters as ptanalyze defines them: every kind given matches one end (process
        // kinds through the selected set, which also holds their descendants; container and
        // pod kinds through the runtimes' metadata), and either end may match.
        let mut end_kept = |pid: u32| {
            (!by_process || self.selected.contains(&pid))
                && (!by_container || self.containers.keeps(pid))
        };
        let keep = (!by_process && !by_container)
            || owner.is_some_and(&mut end_kept)
            || other.is_some_and(&mut end_kept);
        if !keep {
            self.stats.selected_out += 1;
        }
        (meta, keep, known)
    }

    /// The packet's local end that is not its owner: the receiver when the owner sent it (or
    /// the role is unknown), the sender when the owner received it.
    fn other_end_pid(&self, key: Option<FlowKey>, role: Role) -> Option<u32> {
        if role == Role::Receiver {
            return self.flow_owner(&key?).map(|s| s.pid);
        }
        self.receiver_pid(key)
    }

    /// One line for the exit summary.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = Provenance::ALL
            .iter()
            .filter(|p| self.stats.by_provenance[**p as usize] > 0)
            .map(|p| format!("{} {}", p.as_str(), self.stats.by_provenance[*p as usize]))
            .collect();
        let (queries, settled, found) = self
            .nat_lookup
            .iter()
            .flatten()
            .fold((0, 0, 0), |(q, s, f), l| {
                (q + l.queries, s + l.settled, f + l.settled_found)
            });
        let ctnetlink = if queries > 0 {
            format!(
                ", {queries} ctnetlink queries ({settled} asked again once the packet settled, {found} then found)"
            )
        } else {
            String::new()
        };
        format!(
            "attribution: {}; {} socket and {} process events, {} sockets from sock_diag, {} processes known{ctnetlink}\n{}",
            if parts.is_empty() { "no packets".to_string() } else { parts.join(", ") },
            self.stats.sock_events,
            self.stats.proc_events,
            self.stats.diag_sockets,
            self.procs.len(),
            self.containers.summary()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty(netns: u64) -> Attributor {
        Attributor {
            procs: ProcessCache::empty(64),
            socks: IdMap::default(),
            released: VecDeque::new(),
            flows: HashMap::new(),
            flow_order: VecDeque::new(),
            listeners: HashMap::new(),
            listener_sweep_at: MIN_LISTENER_SWEEP,
            growth: Default::default(),
            netns,
            netns_cookies: vec![netns],
            selection: Selection::default(),
            selected: HashSet::new(),
            containers: Tracker::inactive(),
            nats: HashMap::new(),
            nat_lookup: Vec::new(),
            stats: AttributionStats::default(),
            tables_gen: 0,
            last: [None, None],
            last_next: 0,
            metas: Default::default(),
            metas_next: 0,
            nat_meta: PacketMeta::default(),
        }
    }

    fn v4(a: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&a.parse::<Ipv4Addr>().unwrap().octets());
        out
    }

    fn sock_event(kind: bpf::SockKind, cookie: u64, netns: u64, pid: u32) -> bpf::SockEvent {
        bpf::SockEvent {
            kind,
            family: 2,
            protocol: 6,
            sock_type: 1,
            ts_mono_ns: 0,
            cookie,
            netns_cookie: netns,
            task: Some(bpf::TaskContext {
                pid,
                tid: pid,
                uid: 0,
                gid: 0,
                cgroup_id: 0,
                comm: *b"x\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            }),
            local_addr: [0; 16],
            remote_addr: [0; 16],
            local_port: 0,
            remote_port: 0,
            ingress: false,
        }
    }

    /// Ethernet + IPv4 + TCP src:sport -> dst:dport.
    fn frame(src: &str, sport: u16, dst: &str, dport: u16) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[14 + 9] = 6;
        f[26..30].copy_from_slice(&v4(src)[..4]);
        f[30..34].copy_from_slice(&v4(dst)[..4]);
        f[34..36].copy_from_slice(&sport.to_be_bytes());
        f[36..38].copy_from_slice(&dport.to_be_bytes());
        f
    }

    fn packet(data: &[u8], cookie: u64, direction: bpf::Direction) -> bpf::PacketEvent<'_> {
        bpf::PacketEvent {
            nat_trailer: None,
            ct_miss: false,
            ifindex: 1,
            direction,
            ts_mono_ns: 0,
            wire_len: data.len() as u32,
            filter_ret: 262_144,
            rejected: false,
            vlan_reinserted: false,
            copy_failed: false,
            socket_cookie: cookie,
            data,
        }
    }

    /// Issue 11: translated packets are owned by the untranslated end: the originator for
    /// MASQUERADE (both directions, even with the outside peer's socket still attached after
    /// a veth), the responder for a port-forward, its listener before the child socket exists.
    #[test]
    fn translated_packets_belong_to_the_untranslated_end() {
        use bpf::{Direction, SockKind};
        let (cli, node, out, srv) = (
            "198.18.100.2",
            "198.18.101.1",
            "198.18.101.2",
            "198.18.100.3",
        );
        let mut a = empty(1);
        let learn = |a: &mut Attributor, cookie, ns, pid, l: (&str, u16), r: (&str, u16)| {
            a.on_sock_event(&sock_event(SockKind::Create, cookie, ns, pid));
            let mut f = sock_event(SockKind::Flow, cookie, ns, 0);
            f.task = None;
            (f.local_addr, f.local_port) = (v4(l.0), l.1);
            (f.remote_addr, f.remote_port) = (v4(r.0), r.1);
            a.on_sock_event(&f);
        };
        // The container's client and the outside server's accepted socket (both local).
        learn(&mut a, 601, 11, 4_300_001, (cli, 40_000), (out, 80));
        learn(&mut a, 602, 13, 4_300_002, (out, 80), (node, 50_000));
        let sa = |h: &str, p: u16| std::net::SocketAddr::new(h.parse().unwrap(), p);
        let masq = bpf::NatTuples {
            protocol: 6,
            src_nat: true,
            dst_nat: false,
            original: (sa(cli, 40_000), sa(out, 80)),
            reply: (sa(out, 80), sa(node, 50_000)),
        };
        let up = frame(node, 50_000, out, 80);
        let down = frame(out, 80, node, 50_000);
        for (f, cookie, role) in [(&up, 0, Role::Sender), (&down, 602, Role::Receiver)] {
            let p = packet(f, cookie, Direction::In);
            let (s, prov, r) = a.resolve_frame(&p, true, Some(&masq)).unwrap();
            assert_eq!((s.pid, prov, r), (4_300_001, Provenance::Nat, role));
        }
        assert_eq!(a.nat_other_end(&masq, 4_300_001), Some(4_300_002));
        // A port-forward: node:8080 -> srv:80; the server listens, no child socket yet.
        a.on_sock_event(&sock_event(SockKind::Create, 603, 12, 4_300_003));
        for kind in [SockKind::Bind, SockKind::Listen] {
            let mut l = sock_event(kind, 603, 12, 4_300_003);
            (l.local_addr, l.local_port) = (v4(srv), 80);
            a.on_sock_event(&l);
        }
        // Another namespace's listener on the same port (the outside host's server).
        a.on_sock_event(&sock_event(SockKind::Create, 604, 13, 4_300_004));
        let mut l = sock_event(SockKind::Listen, 604, 13, 4_300_004);
        l.local_port = 80;
        a.on_sock_event(&l);
        let fwd = bpf::NatTuples {
            protocol: 6,
            src_nat: false,
            dst_nat: true,
            original: (sa(out, 45_000), sa(node, 8080)),
            reply: (sa(srv, 80), sa(out, 45_000)),
        };
        let syn = frame(out, 45_000, node, 8080);
        let (s, prov, r) = a
            .resolve_frame(&packet(&syn, 0, Direction::In), true, Some(&fwd))
            .unwrap();
        assert_eq!(
            (s.pid, prov, r),
            (4_300_003, Provenance::Nat, Role::Receiver)
        );
        let synack = frame(node, 8080, out, 45_000);
        let (s, _, r) = a
            .resolve_frame(&packet(&synack, 0, Direction::Out), true, Some(&fwd))
            .unwrap();
        assert_eq!((s.pid, r), (4_300_003, Role::Sender));
    }

    /// A port-forward's SYN before the child socket exists, on a Docker node: the container's
    /// server listens on the wildcard (busybox httpd: `[::]:80`, dual-stack) and the outside
    /// host's own server on the same port is bound to its address. Only the wildcard one can
    /// take a packet to the container's address; a second wildcard owner makes it unknown.
    #[test]
    fn a_port_forwards_syn_goes_to_the_wildcard_listener_that_can_take_it() {
        use bpf::{Direction, SockKind};
        let (node, out, srv) = ("198.18.231.1", "198.18.231.2", "198.18.230.2");
        let mut a = empty(1);
        let listen = |a: &mut Attributor, cookie, ns, pid, family, addr: [u8; 16]| {
            a.on_sock_event(&sock_event(SockKind::Create, cookie, ns, pid));
            for kind in [SockKind::Bind, SockKind::Listen] {
                let mut l = sock_event(kind, cookie, ns, pid);
                l.family = family;
                (l.local_addr, l.local_port) = (addr, 80);
                a.on_sock_event(&l);
            }
        };
        listen(&mut a, 701, 12, 4_400_001, 10, [0; 16]);
        listen(&mut a, 702, 13, 4_400_002, 2, v4(out));
        let sa = |h: &str, p: u16| std::net::SocketAddr::new(h.parse().unwrap(), p);
        let fwd = bpf::NatTuples {
            protocol: 6,
            src_nat: false,
            dst_nat: true,
            original: (sa(out, 45_000), sa(node, 8080)),
            reply: (sa(srv, 80), sa(out, 45_000)),
        };
        let syn = frame(out, 45_000, node, 8080);
        let owner = |a: &Attributor| {
            a.resolve_frame(&packet(&syn, 0, Direction::In), true, Some(&fwd))
                .map(|(s, prov, r)| (s.pid, prov, r))
        };
        assert_eq!(
            owner(&a),
            Some((4_400_001, Provenance::Nat, Role::Receiver))
        );
        // Another namespace's wildcard listener on the port (a second container's server):
        // either could be the one, so none is named.
        listen(&mut a, 703, 14, 4_400_003, 2, [0; 16]);
        assert_eq!(owner(&a), None);
    }

    /// Issue 9: a container's packet crosses its veth with the sender's socket attached, so
    /// the host side's ingress (and the peer's eth0 ingress) sees the *sender's* cookie. The
    /// role comes from whose socket it is, in both directions and on every hop.
    #[test]
    fn a_cookie_is_the_sender_when_its_socket_is_the_source_whatever_the_direction() {
        use bpf::{Direction, SockKind};
        let (cli, srv) = ("198.18.7.12", "198.18.7.11");
        let (ns_cli, ns_srv, ns_host) = (11, 12, 1);
        let (c_cookie, s_cookie) = (501, 502);
        let mut a = empty(ns_host);
        // The client's socket and its first packet (cgroup_skb egress, in its namespace).
        a.on_sock_event(&sock_event(SockKind::Create, c_cookie, ns_cli, 4_200_001));
        let mut flow = sock_event(SockKind::Flow, c_cookie, ns_cli, 0);
        flow.task = None;
        (flow.local_addr, flow.local_port) = (v4(cli), 40_000);
        (flow.remote_addr, flow.remote_port) = (v4(srv), 80);
        a.on_sock_event(&flow);
        // The server's accepted child, learnt at ingress (local = the server's end).
        a.on_sock_event(&sock_event(SockKind::Create, s_cookie, ns_srv, 4_200_002));
        let mut flow = sock_event(SockKind::Flow, s_cookie, ns_srv, 0);
        flow.task = None;
        (flow.local_addr, flow.local_port) = (v4(srv), 80);
        (flow.remote_addr, flow.remote_port) = (v4(cli), 40_000);
        flow.ingress = true;
        a.on_sock_event(&flow);

        let request = frame(cli, 40_000, srv, 80);
        let reply = frame(srv, 80, cli, 40_000);
        for dir in [Direction::In, Direction::Out] {
            // Client's eth0 egress, host veth ingress and egress, server's eth0 ingress.
            let p = packet(&request, c_cookie, dir);
            let (s, prov, role) = a.resolve_frame(&p, true, None).unwrap();
            assert_eq!(
                (s.pid, prov, role),
                (4_200_001, Provenance::SocketCookie, Role::Sender)
            );
            let p = packet(&reply, s_cookie, dir);
            let (s, _, role) = a.resolve_frame(&p, true, None).unwrap();
            assert_eq!((s.pid, role), (4_200_002, Role::Sender), "{dir:?}");
            // Hypothetically: a receiving socket attached (it is the packet's destination).
            let p = packet(&reply, c_cookie, dir);
            let (s, _, role) = a.resolve_frame(&p, true, None).unwrap();
            assert_eq!((s.pid, role), (4_200_001, Role::Receiver), "{dir:?}");
            // No socket (loopback, routed): the tuple as sent names the sender.
            let p = packet(&request, 0, dir);
            let (s, prov, role) = a.resolve_frame(&p, true, None).unwrap();
            assert_eq!(
                (s.pid, prov, role),
                (4_200_001, Provenance::Tuple, Role::Sender)
            );
        }
    }

    /// Ethernet + IPv4 `outer_src` > `outer_dst` protocol `proto` carrying `payload`.
    fn outer(proto: u8, src: &str, dst: &str, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[16..18].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        f[14 + 9] = proto;
        f[26..30].copy_from_slice(&v4(src)[..4]);
        f[30..34].copy_from_slice(&v4(dst)[..4]);
        f.extend_from_slice(payload);
        f
    }

    /// Issue 16: an encapsulated packet without a socket (a node's uplink receiving the
    /// tunnel's datagrams) belongs to the owner of its inner conversation; two conversations
    /// in one tunnel (GRE: one outer tuple for all) each get their own owner, not the one the
    /// last-packet cache holds for the outer tuple.
    #[test]
    fn tunneled_packets_belong_to_their_inner_conversation() {
        use bpf::{Direction, SockKind};
        let mut a = empty(1);
        for (cookie, pid, port) in [(11, 4_200_011, 40_000), (12, 4_200_012, 40_001)] {
            a.on_sock_event(&sock_event(SockKind::Create, cookie, 1, pid));
            let mut flow = sock_event(SockKind::Flow, cookie, 1, 0);
            flow.task = None;
            (flow.local_addr, flow.local_port) = (v4("198.19.0.1"), port);
            (flow.remote_addr, flow.remote_port) = (v4("198.19.0.2"), 8080);
            a.on_sock_event(&flow);
        }
        let inner = |port| {
            let mut f = frame("198.19.0.2", 8080, "198.19.0.1", port);
            f[16..18].copy_from_slice(&40u16.to_be_bytes());
            f
        };
        let reply = |port| inner(port)[14..].to_vec();
        let gre = |port| {
            let mut g = vec![0, 0, 0x08, 0];
            g.extend_from_slice(&reply(port));
            outer(47, "198.18.0.2", "198.18.0.1", &g)
        };
        let vxlan = |port| {
            let mut v = vec![0xc3, 0x50, 0x12, 0xb5, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 42, 0];
            v.extend_from_slice(&inner(port));
            let len = (v.len() as u16).to_be_bytes();
            v[4..6].copy_from_slice(&len);
            outer(17, "198.18.0.2", "198.18.0.1", &v)
        };
        for wrap in [&gre as &dyn Fn(u16) -> Vec<u8>, &vxlan] {
            for _ in 0..2 {
                for (port, pid) in [(40_000, 4_200_011), (40_001, 4_200_012)] {
                    let f = wrap(port);
                    let (meta, _) = a.meta_for(&packet(&f, 0, Direction::In), true);
                    let owner = meta.process.as_ref().map(|p| p.pid);
                    assert_eq!(owner, Some(pid), "{port}");
                    assert_eq!(
                        (meta.provenance, meta.role),
                        (Provenance::ReverseTuple, Role::Receiver)
                    );
                }
            }
        }
        // The same datagram to a port that is not a tunnel's stays unowned.
        let mut v = vxlan(40_000);
        v[34 + 2..34 + 4].copy_from_slice(&4790u16.to_be_bytes());
        v[34..36].copy_from_slice(&5000u16.to_be_bytes());
        let (meta, _) = a.meta_for(&packet(&v, 0, Direction::In), true);
        assert!(meta.process.is_none());
    }

    /// A socket whose tuple was not learnt (sock_diag, an evicted flow): its own end decides;
    /// with equal ports on both sides, the address does.
    #[test]
    fn a_cookie_without_a_learnt_tuple_is_placed_by_its_local_end() {
        use bpf::{Direction, SockKind};
        let mut a = empty(1);
        a.on_sock_event(&sock_event(SockKind::Create, 7, 1, 4_200_003));
        let mut bind = sock_event(SockKind::Bind, 7, 1, 4_200_003);
        (bind.local_addr, bind.local_port) = (v4("198.18.7.1"), 5353);
        a.on_sock_event(&bind);
        let out = frame("198.18.7.1", 5353, "198.18.7.2", 5353);
        let back = frame("198.18.7.2", 5353, "198.18.7.1", 5353);
        let role = |a: &Attributor, f: &[u8]| {
            a.resolve_frame(&packet(f, 7, Direction::In), true, None)
                .unwrap()
                .2
        };
        assert_eq!(role(&a, &out), Role::Sender);
        assert_eq!(role(&a, &back), Role::Receiver);
        // A wildcard bind learns its concrete address from later hooks, never the reverse.
        a.set_local(7, "0.0.0.0".parse().unwrap(), 5353);
        assert_eq!(role(&a, &back), Role::Receiver);
    }

    #[test]
    fn tuples_of_tcp_and_icmp_echo() {
        // Ethernet + IPv4 + TCP 198.18.0.1:40000 -> 198.18.0.2:80.
        let mut f = vec![0u8; 14 + 20 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[14 + 9] = 6;
        f[26..30].copy_from_slice(&[198, 18, 0, 1]);
        f[30..34].copy_from_slice(&[198, 18, 0, 2]);
        f[34..36].copy_from_slice(&40000u16.to_be_bytes());
        f[36..38].copy_from_slice(&80u16.to_be_bytes());
        let k = packet_tuple(&f, true).unwrap();
        assert_eq!((k.proto, k.lport, k.rport), (6, 40000, 80));
        assert_eq!(k.reversed().local, "198.18.0.2".parse::<IpAddr>().unwrap());
        // Raw IP + ICMP echo reply id 0x1234: the id in both ports.
        let mut g = vec![0u8; 28];
        g[0] = 0x45;
        g[9] = 1;
        g[20] = 0;
        g[24..26].copy_from_slice(&0x1234u16.to_be_bytes());
        let k = packet_tuple(&g, false).unwrap();
        assert_eq!((k.proto, k.lport, k.rport), (1, 0x1234, 0x1234));
    }

    /// Issue 10: every bound UDP socket is a listener on its port, and a client's entry
    /// outlived its socket, so a churn of UDP clients filled the table (one entry per
    /// ephemeral port ever used). Entries of evicted sockets are swept out; a live server's
    /// stays.
    #[test]
    fn listeners_of_evicted_sockets_are_swept_under_client_churn() {
        use bpf::SockKind;
        let mut a = empty(1);
        let udp = |kind, cookie, pid, port| {
            let mut e = sock_event(kind, cookie, 1, pid);
            e.protocol = 17;
            (e.local_addr, e.local_port) = ([0; 16], port);
            e
        };
        a.on_sock_event(&udp(SockKind::Create, 1, 4_200_100, 0));
        a.on_sock_event(&udp(SockKind::Bind, 1, 4_200_100, 7777));
        let mut most = 0;
        for n in 0..100_000u64 {
            let (cookie, pid, port) = (10 + n, 4_300_000 + n as u32, 32_768 + (n % 28_000) as u16);
            a.on_sock_event(&udp(SockKind::Create, cookie, pid, 0));
            a.on_sock_event(&udp(SockKind::Bind, cookie, pid, port));
            a.on_sock_event(&udp(SockKind::Release, cookie, pid, port));
            most = most.max(a.listeners.len());
        }
        // Live sockets (released ones within their grace) and a quarter more.
        assert!(most <= MAX_RELEASED * 5 / 4 + 2, "{most}");
        let (cookie, s) = a.listener_owner(17, 7777, 1).unwrap();
        assert_eq!((cookie, s.pid), (1, 4_200_100));
    }
}

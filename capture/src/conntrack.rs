//! The owner through NAT from user space: conntrack entries asked of the kernel over ctnetlink
//! (`NETLINK_NETFILTER`, `IPCTNL_MSG_CT_GET`), for what the packet programs could not look up:
//! - every TCP/UDP packet, where the kernel has no `bpf_skb_ct_lookup` kfunc (`--nat netlink`,
//!   or `--nat auto` when the programs loaded without it);
//! - a packet the programs found no entry for (`PacketEvent::ct_miss`): a connection's first
//!   packet at ingress is seen before netfilter makes the entry (a port-forward's SYN on the
//!   uplink), and by the time user space reads it the entry exists — nearly always: a reader
//!   draining a busy ring can read it while the kernel is still taking the packet through
//!   netfilter on another CPU, before the entry is confirmed (ctnetlink shows only confirmed
//!   entries). A miss for a packet younger than [`SETTLE_NS`] is asked once more when the packet
//!   is that old (waiting at most [`SETTLE_BUDGET_NS`] a second).
//!
//! Answers are cached per packet tuple (a NATed connection's tuples never change; a miss is
//! asked again after [`MISS_TTL_NS`]) and queries are rate-limited, so a flood of new tuples
//! costs a bounded number of round trips per second.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use bpf::NatTuples;

const NETLINK_NETFILTER: libc::c_int = 12;
const NFNL_SUBSYS_CTNETLINK: u16 = 1;
const IPCTNL_MSG_CT_GET: u16 = 1;
const NLM_F_REQUEST: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLA_F_NESTED: u16 = 0x8000;
const CTA_TUPLE_ORIG: u16 = 1;
const CTA_TUPLE_REPLY: u16 = 2;
const CTA_STATUS: u16 = 3;
const CTA_TUPLE_IP: u16 = 1;
const CTA_TUPLE_PROTO: u16 = 2;
const CTA_IP_V4_SRC: u16 = 1;
const CTA_IP_V4_DST: u16 = 2;
const CTA_IP_V6_SRC: u16 = 3;
const CTA_IP_V6_DST: u16 = 4;
const CTA_PROTO_NUM: u16 = 1;
const CTA_PROTO_SRC_PORT: u16 = 2;
const CTA_PROTO_DST_PORT: u16 = 3;
const IPS_SRC_NAT: u32 = 16;
const IPS_DST_NAT: u32 = 32;

/// A tuple looked up in vain is asked again after this long.
const MISS_TTL_NS: u64 = 1_000_000_000;
/// Cached answers at most (forgotten all at once when full).
const CACHE_MAX: usize = 65_536;
/// Queries per second at most.
const QUERIES_PER_SEC: u32 = 2_000;
/// A packet the tc ingress hook saw before netfilter made its entry: the entry is confirmed
/// when the packet leaves POSTROUTING (or INPUT), normally tens of microseconds later on the
/// CPU that received it (seen here: a miss for a port-forward's SYN read 79 us after the hook,
/// the entry there 1 ms later). A miss for a packet younger than this is asked again once the
/// packet is this old.
const SETTLE_NS: u64 = 2_000_000;
/// Waiting for entries to settle takes at most this much of each second (2%): where conntrack
/// sees no packets (a namespace without rules) every new tuple misses.
const SETTLE_BUDGET_NS: u64 = 20_000_000;

/// How long to wait before asking again for the entry of a packet `age_ns` old whose lookup
/// missed, with `spent_ns` of this second's budget used (None: ask no more).
fn settle_wait(age_ns: u64, spent_ns: u64) -> Option<u64> {
    let wait = SETTLE_NS.checked_sub(age_ns).filter(|w| *w > 0)?;
    (spent_ns + wait <= SETTLE_BUDGET_NS).then_some(wait)
}

/// CLOCK_MONOTONIC in ns: the clock of the kernel's packet timestamps (bpf_ktime_get_ns).
fn mono_now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// (IP protocol, source, destination): what a conntrack answer is looked up by.
type FlowTuple = (u8, SocketAddr, SocketAddr);

/// A ctnetlink socket in one network namespace and its answers.
pub struct NatLookup {
    sock: OwnedFd,
    /// Ask for every TCP/UDP packet (no kernel lookup), not only for the kernel's misses.
    all: bool,
    cache: HashMap<FlowTuple, (Option<NatTuples>, Instant)>,
    /// The last answer, its tuple and when it was made (CLOCK_MONOTONIC ns): a flow's packets
    /// come in runs, and the packet's own time spares a clock read and a hash per packet.
    last: Option<(FlowTuple, Option<NatTuples>, u64)>,
    seq: u32,
    window: Instant,
    in_window: u32,
    /// Waited for entries to settle in this window (ns).
    settle_spent: u64,
    pub queries: u64,
    /// Misses asked again after the packet settled, and how many of those found the entry.
    pub settled: u64,
    pub settled_found: u64,
}

impl NatLookup {
    /// Opens a ctnetlink socket in the calling thread's network namespace.
    pub fn open(all: bool) -> io::Result<NatLookup> {
        // SAFETY: plain socket(2); the fd is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_NETFILTER,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh socket we own.
        let sock = unsafe { OwnedFd::from_raw_fd(fd) };
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 200_000,
        };
        // SAFETY: valid option value of the right size.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
        }
        Ok(NatLookup {
            sock,
            all,
            cache: HashMap::new(),
            last: None,
            seq: 1,
            window: Instant::now(),
            in_window: 0,
            settle_spent: 0,
            queries: 0,
            settled: 0,
            settled_found: 0,
        })
    }

    /// The NATed connection of a TCP/UDP packet `src -> dst`, if its tuple is not its owner's
    /// view (the kernel programs' rule, `struct ptcap_nat` in events.h). `ct_miss`: the kernel
    /// looked and found nothing. `ts_mono_ns`: the packet's kernel time (0: unknown).
    pub fn lookup(
        &mut self,
        proto: u8,
        src: SocketAddr,
        dst: SocketAddr,
        ct_miss: bool,
        ts_mono_ns: u64,
    ) -> Option<NatTuples> {
        if !(self.all || ct_miss) || !(proto == 6 || proto == 17) {
            return None;
        }
        let key = (proto, src, dst);
        if let Some((k, ans, at)) = &self.last {
            if *k == key && (ans.is_some() || ts_mono_ns.saturating_sub(*at) < MISS_TTL_NS) {
                return *ans;
            }
        }
        let now = Instant::now();
        let now_mono = if ts_mono_ns != 0 {
            ts_mono_ns
        } else {
            mono_now_ns()
        };
        if let Some((ans, at)) = self.cache.get(&key) {
            if ans.is_some() || now.duration_since(*at) < Duration::from_nanos(MISS_TTL_NS) {
                // Its age by the packet clock: what is left of its time to live.
                let age = now.duration_since(*at).as_nanos() as u64;
                self.last = Some((key, *ans, now_mono.saturating_sub(age)));
                return *ans;
            }
        }
        if now.duration_since(self.window) >= Duration::from_secs(1) {
            self.window = now;
            self.in_window = 0;
            self.settle_spent = 0;
        }
        if self.in_window >= QUERIES_PER_SEC {
            return None;
        }
        self.in_window += 1;
        let entry = |l: &mut NatLookup| l.get(proto, src, dst).or_else(|| l.get(proto, dst, src));
        let mut found = entry(self);
        // No entry (not one without NAT: a confirmed entry's NAT is final): perhaps not yet.
        if found.is_none() && ts_mono_ns != 0 {
            let age = mono_now_ns().saturating_sub(ts_mono_ns);
            if let Some(wait) = settle_wait(age, self.settle_spent) {
                self.settle_spent += wait;
                std::thread::sleep(Duration::from_nanos(wait));
                found = entry(self);
                self.settled += 1;
                self.settled_found += u64::from(found.is_some());
            }
        }
        let ans = found
            .flatten()
            .and_then(|n| needs_nat(n, src, dst).then_some(n));
        if self.cache.len() >= CACHE_MAX {
            self.cache.clear();
        }
        self.cache.insert(key, (ans, now));
        self.last = Some((key, ans, now_mono));
        ans
    }

    /// One IPCTNL_MSG_CT_GET for the entry with tuple `src -> dst` (either direction): None
    /// when there is none (or no answer), else its NAT tuples if it is NATed.
    fn get(&mut self, proto: u8, src: SocketAddr, dst: SocketAddr) -> Option<Option<NatTuples>> {
        self.queries += 1;
        let family = if src.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        } as u8;
        let mut msg = Vec::with_capacity(128);
        msg.extend_from_slice(&[0u8; 16]); // nlmsghdr, filled below
        msg.extend_from_slice(&[family, 0, 0, 0]); // nfgenmsg: family, NFNETLINK_V0, res_id
        let tuple = nest(CTA_TUPLE_ORIG, |b| {
            let ip = nest(CTA_TUPLE_IP, |b| match (src.ip(), dst.ip()) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    attr(b, CTA_IP_V4_SRC, &s.octets());
                    attr(b, CTA_IP_V4_DST, &d.octets());
                }
                (s, d) => {
                    attr(b, CTA_IP_V6_SRC, &v6(s).octets());
                    attr(b, CTA_IP_V6_DST, &v6(d).octets());
                }
            });
            b.extend_from_slice(&ip);
            let pr = nest(CTA_TUPLE_PROTO, |b| {
                attr(b, CTA_PROTO_NUM, &[proto]);
                attr(b, CTA_PROTO_SRC_PORT, &src.port().to_be_bytes());
                attr(b, CTA_PROTO_DST_PORT, &dst.port().to_be_bytes());
            });
            b.extend_from_slice(&pr);
        });
        msg.extend_from_slice(&tuple);
        let len = msg.len() as u32;
        self.seq = self.seq.wrapping_add(1);
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[4..6]
            .copy_from_slice(&((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET).to_ne_bytes());
        msg[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        msg[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: msg and addr are valid for the lengths given.
        let sent = unsafe {
            libc::sendto(
                self.sock.as_raw_fd(),
                msg.as_ptr() as *const libc::c_void,
                msg.len(),
                0,
                &addr as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return None;
        }
        let mut buf = vec![0u8; 4096];
        loop {
            // SAFETY: buf is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.sock.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                )
            };
            if n < 16 {
                return None;
            }
            let b = &buf[..n as usize];
            let seq = u32::from_ne_bytes(b[8..12].try_into().ok()?);
            if seq != self.seq {
                continue; // a late answer to an earlier, timed-out query
            }
            let kind = u16::from_ne_bytes([b[4], b[5]]);
            if kind == NLMSG_ERROR {
                return None;
            }
            let len = (u32::from_ne_bytes(b[0..4].try_into().ok()?) as usize).min(b.len());
            return Some(parse_entry(proto, b.get(20..len)?));
        }
    }
}

fn v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V6(v) => v,
        IpAddr::V4(v) => v.to_ipv6_mapped(),
    }
}

fn attr(b: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = 4 + data.len();
    b.extend_from_slice(&(len as u16).to_ne_bytes());
    b.extend_from_slice(&kind.to_ne_bytes());
    b.extend_from_slice(data);
    while b.len() % 4 != 0 {
        b.push(0);
    }
}

fn nest(kind: u16, f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut inner = Vec::new();
    f(&mut inner);
    let mut b = Vec::with_capacity(inner.len() + 4);
    b.extend_from_slice(&((inner.len() + 4) as u16).to_ne_bytes());
    b.extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
    b.extend_from_slice(&inner);
    b
}

/// (kind without flags, payload) of each attribute.
fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let kind = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            return None;
        }
        let data = &b[4..len];
        b = &b[((len + 3) & !3).min(b.len())..];
        Some((kind, data))
    })
}

fn parse_tuple(b: &[u8]) -> Option<(SocketAddr, SocketAddr)> {
    let (mut src, mut dst, mut sport, mut dport) = (None, None, 0u16, 0u16);
    for (k, v) in attrs(b) {
        match k {
            CTA_TUPLE_IP => {
                for (k, v) in attrs(v) {
                    let ip = match v.len() {
                        4 => IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3])),
                        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(v).ok()?)),
                        _ => continue,
                    };
                    match k {
                        CTA_IP_V4_SRC | CTA_IP_V6_SRC => src = Some(ip),
                        CTA_IP_V4_DST | CTA_IP_V6_DST => dst = Some(ip),
                        _ => {}
                    }
                }
            }
            CTA_TUPLE_PROTO => {
                for (k, v) in attrs(v) {
                    let port = || v.get(..2).map(|p| u16::from_be_bytes([p[0], p[1]]));
                    match k {
                        CTA_PROTO_SRC_PORT => sport = port().unwrap_or(0),
                        CTA_PROTO_DST_PORT => dport = port().unwrap_or(0),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Some((SocketAddr::new(src?, sport), SocketAddr::new(dst?, dport)))
}

/// The entry's tuples and NAT bits from a CT_NEW answer's attributes; `None` without NAT.
fn parse_entry(proto: u8, b: &[u8]) -> Option<NatTuples> {
    let (mut orig, mut reply, mut status) = (None, None, 0u32);
    for (k, v) in attrs(b) {
        match k {
            CTA_TUPLE_ORIG => orig = parse_tuple(v),
            CTA_TUPLE_REPLY => reply = parse_tuple(v),
            CTA_STATUS if v.len() >= 4 => status = u32::from_be_bytes(v[..4].try_into().ok()?),
            _ => {}
        }
    }
    if status & (IPS_SRC_NAT | IPS_DST_NAT) == 0 {
        return None;
    }
    Some(NatTuples {
        protocol: proto,
        src_nat: status & IPS_SRC_NAT != 0,
        dst_nat: status & IPS_DST_NAT != 0,
        original: orig?,
        reply: reply?,
    })
}

/// The packet programs' rule (capture.bpf.c, `nat_of`): with SNAT alone a packet in the
/// originator's own form needs nothing; with DNAT every packet of the entry does.
fn needs_nat(n: NatTuples, src: SocketAddr, dst: SocketAddr) -> bool {
    if n.dst_nat {
        return true;
    }
    let (o_src, o_dst) = n.original;
    !((src == o_src && dst == o_dst) || (src == o_dst && dst == o_src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_miss_for_a_fresh_packet_waits_until_it_settled_within_the_budget() {
        // Read 79 us after the hook: asked again when the packet is SETTLE_NS old.
        assert_eq!(settle_wait(79_000, 0), Some(SETTLE_NS - 79_000));
        // Old enough: a miss is a miss.
        assert_eq!(settle_wait(SETTLE_NS, 0), None);
        assert_eq!(settle_wait(5 * SETTLE_NS, 0), None);
        // The budget of the second bounds the waiting.
        assert_eq!(
            settle_wait(0, SETTLE_BUDGET_NS - SETTLE_NS),
            Some(SETTLE_NS)
        );
        assert_eq!(settle_wait(0, SETTLE_BUDGET_NS - SETTLE_NS + 1), None);
    }

    #[test]
    fn entry_attributes_parse_back() {
        let s: SocketAddr = "198.18.100.2:40000".parse().unwrap();
        let d: SocketAddr = "198.18.101.2:80".parse().unwrap();
        let m: SocketAddr = "198.18.101.1:40000".parse().unwrap();
        let tuple = |kind, a: SocketAddr, b: SocketAddr| {
            nest(kind, |x| {
                let (IpAddr::V4(a4), IpAddr::V4(b4)) = (a.ip(), b.ip()) else {
                    unreachable!()
                };
                x.extend_from_slice(&nest(CTA_TUPLE_IP, |y| {
                    attr(y, CTA_IP_V4_SRC, &a4.octets());
                    attr(y, CTA_IP_V4_DST, &b4.octets());
                }));
                x.extend_from_slice(&nest(CTA_TUPLE_PROTO, |y| {
                    attr(y, CTA_PROTO_NUM, &[6]);
                    attr(y, CTA_PROTO_SRC_PORT, &a.port().to_be_bytes());
                    attr(y, CTA_PROTO_DST_PORT, &b.port().to_be_bytes());
                }));
            })
        };
        let mut b = tuple(CTA_TUPLE_ORIG, s, d);
        b.extend_from_slice(&tuple(CTA_TUPLE_REPLY, d, m));
        attr(&mut b, CTA_STATUS, &(IPS_SRC_NAT | 8).to_be_bytes());
        let n = parse_entry(6, &b).unwrap();
        assert_eq!(n.original, (s, d));
        assert_eq!(n.reply, (d, m));
        assert!(n.src_nat && !n.dst_nat);
        assert!(needs_nat(n, m, d));
        assert!(!needs_nat(n, s, d));
        assert!(!needs_nat(n, d, s));
    }
}

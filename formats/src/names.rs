//! Names of addresses, learnt from the packets themselves: the one parser both binaries use.
//!
//! - [`dns_answer`]: the A/AAAA addresses a DNS response gives for the name asked, through
//!   its CNAME chain, each named by the question's name and by the chain's last name.
//! - [`client_hello_sni`] and [`http_host`]: the server name of a TLS ClientHello and the
//!   `Host:` of an HTTP/1 request that begin in one segment.
//! - [`LiveNames`]: the bounded, sequential table of a live capture (ptcap `-v`): what the
//!   DNS answers seen so far name, per client, for their TTL. ptanalyze builds its own,
//!   order-independent table (`analyze::names`) from the same parsers.
//!
//! ```
//! use formats::names::{dns_answer, Client, LiveNames};
//! // api.shop.test A 198.18.3.7, TTL 60 s.
//! let mut msg = vec![0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
//! msg.extend(b"\x03api\x04shop\x04test\x00\x00\x01\x00\x01");
//! msg.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 3, 7]);
//! let mut seen = Vec::new();
//! dns_answer(&msg, |addr, ttl, name| seen.push((addr.to_string(), ttl, name)));
//! assert_eq!(seen, [("198.18.3.7".to_string(), 60, "api.shop.test".to_string())]);
//!
//! let client = Client { container: None, netns: None, pid: None, addr: "198.18.0.1".parse().unwrap() };
//! let mut t = LiveNames::new();
//! t.learn_answer(&msg, 1_000, &client);
//! assert_eq!(&*t.lookup("198.18.3.7".parse().unwrap(), &client, 2_000)[0], "api.shop.test");
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use crate::meta::{PacketMeta, Role};
use crate::pcapng::Direction;
use crate::render::PacketRef;
use crate::wire::dns::{walk_name, DnsPacket};
use crate::wire::flow::{transport_payload, PacketSummary, Transport};

/// How long past its TTL a DNS answer still names its address: clients and their libraries
/// cache beyond the TTL and keep connections (pools, HTTP/2) open for long.
pub const GRACE_NS: u64 = 3600 * 1_000_000_000;

/// The longest a DNS answer names its address: TTLs above a week count as a week.
pub const MAX_TTL_NS: u64 = 7 * 86_400 * 1_000_000_000;

/// Until when an answer received at `ts` (ns) with `ttl` (seconds) names its addresses.
pub fn valid_until(ts: u64, ttl: u32) -> u64 {
    ts.saturating_add((u64::from(ttl) * 1_000_000_000).min(MAX_TTL_NS))
        .saturating_add(GRACE_NS)
}

/// DNS's ports: 53 and multicast DNS's 5353.
pub fn is_dns_port(port: u16) -> bool {
    port == 53 || port == 5353
}

/// A DNS name as shown: lower case, without the final dot; `None` for an empty name, an
/// address literal or one with characters no host name has (so text stays one line).
pub fn clean_name(n: &str) -> Option<String> {
    let n = n.trim().trim_end_matches('.');
    if n.is_empty() || n.len() > 253 || n.parse::<IpAddr>().is_ok() {
        return None;
    }
    if !n
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*'))
    {
        return None;
    }
    Some(n.to_ascii_lowercase())
}

/// The DNS message in a UDP payload, or the one whole message of a TCP segment (after its
/// two-byte length; none when the segment does not hold all of it).
pub fn dns_message(payload: &[u8], tcp: bool) -> Option<&[u8]> {
    if !tcp {
        return Some(payload);
    }
    let len = payload.get(..2)?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    payload.get(2..2 + len)
}

fn read_name(msg: &[u8], at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let end = walk_name(msg, at, |l| {
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(&String::from_utf8_lossy(l));
    })
    .ok()?;
    Some((name.to_ascii_lowercase(), end))
}

/// The addresses a DNS response (no error, one question) gives for the name asked, through
/// its CNAME chain: `each(address, TTL in seconds, name)` for the question's name, then, when
/// a CNAME led there, for the record's own name. Records off the chain (additional data,
/// other names) name nothing; names [`clean_name`] refuses are left out.
pub fn dns_answer(msg: &[u8], mut each: impl FnMut(IpAddr, u32, String)) {
    let Ok(d) = DnsPacket::new_checked(msg) else {
        return;
    };
    if !d.is_response() || d.opcode() != 0 || d.rcode() != 0 || d.qdcount() != 1 {
        return;
    }
    let Some((qname, mut pos)) = read_name(msg, DnsPacket::<&[u8]>::HEADER_LEN) else {
        return;
    };
    pos += 4;
    let mut cnames: BTreeMap<String, String> = BTreeMap::new();
    let mut addrs: Vec<(String, IpAddr, u32)> = Vec::new();
    for _ in 0..d.ancount() {
        let Some((owner, p)) = read_name(msg, pos) else {
            break;
        };
        let Some(h) = msg.get(p..p + 10) else { break };
        let rtype = u16::from_be_bytes([h[0], h[1]]);
        let ttl = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let rdlen = usize::from(u16::from_be_bytes([h[8], h[9]]));
        let rdata_at = p + 10;
        let Some(rdata) = msg.get(rdata_at..rdata_at + rdlen) else {
            break;
        };
        match (rtype, rdlen) {
            (1, 4) => addrs.push((
                owner,
                IpAddr::from([rdata[0], rdata[1], rdata[2], rdata[3]]),
                ttl,
            )),
            (28, 16) => {
                let mut b = [0u8; 16];
                b.copy_from_slice(rdata);
                addrs.push((owner, IpAddr::from(b), ttl));
            }
            (5, _) => {
                if let Some((target, _)) = read_name(msg, rdata_at) {
                    cnames.insert(owner, target);
                }
            }
            _ => {}
        }
        pos = rdata_at + rdlen;
    }
    // The chain from the question's name (bounded: a loop ends it).
    let mut chain: BTreeSet<String> = BTreeSet::new();
    let mut at = qname.clone();
    while chain.insert(at.clone()) {
        match cnames.get(&at) {
            Some(next) => at = next.clone(),
            None => break,
        }
    }
    for (owner, addr, ttl) in addrs {
        if !chain.contains(&owner) {
            continue;
        }
        let mut names = vec![qname.as_str()];
        if owner != qname {
            names.push(owner.as_str());
        }
        for n in names {
            if let Some(n) = clean_name(n) {
                each(addr, ttl, n);
            }
        }
    }
}

/// The server name of a TLS ClientHello that begins in this segment.
pub fn client_hello_sni(p: &[u8]) -> Option<String> {
    // Record: handshake (22), TLS 1.x; handshake: ClientHello (1).
    if p.len() < 9 || p[0] != 22 || p[1] != 3 || p[5] != 1 {
        return None;
    }
    let mut at = 9 + 2 + 32;
    let sid = usize::from(*p.get(at)?);
    at += 1 + sid;
    let suites = usize::from(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]));
    at += 2 + suites;
    let comp = usize::from(*p.get(at)?);
    at += 1 + comp;
    let ext_len = usize::from(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]));
    at += 2;
    let end = (at + ext_len).min(p.len());
    while at + 4 <= end {
        let ty = u16::from_be_bytes([p[at], p[at + 1]]);
        let len = usize::from(u16::from_be_bytes([p[at + 2], p[at + 3]]));
        let body = p.get(at + 4..at + 4 + len)?;
        if ty == 0 {
            // server_name_list: length, then (type, length, name) entries.
            let mut i = 2;
            while i + 3 <= body.len() {
                let nt = body[i];
                let nl = usize::from(u16::from_be_bytes([body[i + 1], body[i + 2]]));
                let name = body.get(i + 3..i + 3 + nl)?;
                if nt == 0 {
                    return std::str::from_utf8(name).ok().map(str::to_string);
                }
                i += 3 + nl;
            }
            return None;
        }
        at += 4 + len;
    }
    None
}

/// The `Host:` of an HTTP/1 request that begins in this segment (without its port).
pub fn http_host(p: &[u8]) -> Option<String> {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"PATCH ",
        b"CONNECT ",
        b"TRACE ",
    ];
    if !METHODS.iter().any(|m| p.starts_with(m)) {
        return None;
    }
    let head = &p[..p.len().min(8192)];
    let text = String::from_utf8_lossy(head);
    for line in text.split("\r\n").skip(1) {
        if line.is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("host") {
            let v = v.trim();
            let host = if let Some(rest) = v.strip_prefix('[') {
                rest.split(']').next().unwrap_or("")
            } else {
                v.rsplit_once(':').map_or(v, |(h, port)| {
                    if port.bytes().all(|b| b.is_ascii_digit()) {
                        h
                    } else {
                        v
                    }
                })
            };
            return Some(host.to_string());
        }
    }
    None
}

/// Who resolved (or who talks): the container and process at the local end when the
/// metadata knows them, the network namespace the packet was seen in, and the address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Client {
    /// The container's id.
    pub container: Option<Arc<str>>,
    /// The network namespace's cookie (ptcap's interfaces know it).
    pub netns: Option<u64>,
    pub pid: Option<u32>,
    pub addr: IpAddr,
}

impl Client {
    /// Whether what `self` resolved holds for `other`: the same container when both are
    /// known (a container is one network namespace); else the same network namespace (when
    /// both are known) and the same address or process (an AAAA asked over IPv4 names the
    /// IPv6 connection the same process makes).
    pub fn covers(&self, other: &Client) -> bool {
        if let (Some(a), Some(b)) = (&self.container, &other.container) {
            return a == b;
        }
        if let (Some(a), Some(b)) = (self.netns, other.netns) {
            if a != b {
                return false;
            }
        }
        self.addr == other.addr || (self.pid.is_some() && self.pid == other.pid)
    }
}

/// The local end of a packet (`Out`: its sender, `In`: its receiver) by the metadata's role,
/// else by the interface direction; `None` when neither is known.
pub fn owner_end(meta: Option<&PacketMeta>, direction: Option<Direction>) -> Option<Direction> {
    match meta.map(|m| m.role) {
        Some(Role::Sender) => Some(Direction::Out),
        Some(Role::Receiver) => Some(Direction::In),
        _ => direction,
    }
}

/// The container and process at one end of a packet (`Out`: the sender, `In`: the receiver):
/// the owner if the owner is that end, else the local peer (both ends of a packet between two
/// local processes are known).
pub fn local_end(
    meta: Option<&PacketMeta>,
    owner: Option<Direction>,
    end: Direction,
) -> (Option<Arc<str>>, Option<u32>) {
    let Some(m) = meta else { return (None, None) };
    let (container, process) = match owner {
        Some(d) if d == end => (m.container.as_ref(), m.process.as_ref()),
        Some(_) => (m.peer.container.as_ref(), m.peer.process.as_ref()),
        None => (None, None),
    };
    (container.map(|c| Arc::from(&*c.id)), process.map(|p| p.pid))
}

/// How many names a live table holds at most (each at most 253 bytes: a few MB).
pub const LIVE_CAPACITY: usize = 8192;
/// How many names (of any clients) one address keeps at most: a lookup scans no more.
pub const LIVE_PER_ADDRESS: usize = 16;

#[derive(Debug, Clone)]
struct LiveEntry {
    /// Insertion number (eviction order).
    id: u64,
    /// Number of the answer that last gave it (newest first in lookups).
    answer: u64,
    name: Arc<str>,
    client: Client,
    until: u64,
}

/// What the DNS answers of a live capture have named so far, in packet order: per address,
/// per client ([`Client::covers`]), until the answer's TTL plus [`GRACE_NS`]. Bounded: at
/// most [`LIVE_CAPACITY`] names (the oldest learnt go first) and [`LIVE_PER_ADDRESS`] per
/// address, so a flood of answers costs bounded memory and bounded lookups.
#[derive(Debug, Clone)]
pub struct LiveNames {
    by_addr: HashMap<IpAddr, Vec<LiveEntry>>,
    /// (address, id) in insertion order; ids of entries already gone are skipped.
    order: VecDeque<(IpAddr, u64)>,
    len: usize,
    capacity: usize,
    next_id: u64,
    answers: u64,
}

impl Default for LiveNames {
    fn default() -> Self {
        LiveNames::with_capacity(LIVE_CAPACITY)
    }
}

impl LiveNames {
    pub fn new() -> LiveNames {
        LiveNames::default()
    }

    /// A table of at most `capacity` names.
    pub fn with_capacity(capacity: usize) -> LiveNames {
        LiveNames {
            by_addr: HashMap::new(),
            order: VecDeque::new(),
            len: 0,
            capacity: capacity.max(1),
            next_id: 0,
            answers: 0,
        }
    }

    /// Names held now.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Learns from one packet: a DNS response from port 53 or 5353 (UDP, or one whole
    /// message in a TCP segment) names its addresses for the end that received it. Other
    /// packets cost a port comparison.
    pub fn observe(
        &mut self,
        pkt: &PacketRef<'_>,
        s: &PacketSummary,
        meta: Option<&PacketMeta>,
        netns: Option<u64>,
    ) {
        let (sport, tcp) = match s.transport {
            Transport::Tcp(t) if t.payload_len > 0 => (t.src_port, true),
            Transport::Udp { src_port, .. } => (src_port, false),
            _ => return,
        };
        if !is_dns_port(sport) || meta.is_some_and(|m| m.drop.is_some()) {
            return;
        }
        let Some(msg) =
            transport_payload(pkt.link_type, pkt.data).and_then(|p| dns_message(p, tcp))
        else {
            return;
        };
        let (container, pid) = local_end(meta, owner_end(meta, pkt.direction), Direction::In);
        let client = Client {
            container,
            netns,
            pid,
            addr: s.dst,
        };
        self.learn_answer(msg, pkt.ts_ns, &client);
    }

    /// Learns the addresses one DNS message names for `client`, received at `ts`.
    pub fn learn_answer(&mut self, msg: &[u8], ts: u64, client: &Client) {
        self.answers += 1;
        let answer = self.answers;
        dns_answer(msg, |addr, ttl, name| {
            self.insert(addr, name, client, answer, valid_until(ts, ttl), ts)
        });
    }

    fn insert(
        &mut self,
        addr: IpAddr,
        name: String,
        client: &Client,
        answer: u64,
        until: u64,
        now: u64,
    ) {
        let list = self.by_addr.entry(addr).or_default();
        let before = list.len();
        list.retain(|e| e.until >= now);
        self.len -= before - list.len();
        if let Some(e) = list
            .iter_mut()
            .find(|e| *e.name == *name && e.client == *client)
        {
            e.until = e.until.max(until);
            e.answer = answer;
            return;
        }
        if list.len() >= LIVE_PER_ADDRESS {
            // The one an answer gave longest ago.
            if let Some(i) = (0..list.len()).min_by_key(|&i| list[i].answer) {
                list.remove(i);
                self.len -= 1;
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        list.push(LiveEntry {
            id,
            answer,
            name: name.into(),
            client: client.clone(),
            until,
        });
        self.len += 1;
        self.order.push_back((addr, id));
        while self.len > self.capacity {
            let Some((a, id)) = self.order.pop_front() else {
                break;
            };
            self.remove(a, id);
        }
        // Ids of entries that went otherwise (expired, pushed out of their address) stay
        // in `order` until here: it holds at most twice the capacity.
        if self.order.len() > 2 * self.capacity {
            let by_addr = &self.by_addr;
            self.order.retain(|(a, id)| {
                by_addr
                    .get(a)
                    .is_some_and(|l| l.iter().any(|e| e.id == *id))
            });
        }
    }

    fn remove(&mut self, addr: IpAddr, id: u64) {
        if let Some(list) = self.by_addr.get_mut(&addr) {
            if let Some(i) = list.iter().position(|e| e.id == id) {
                list.remove(i);
                self.len -= 1;
            }
            if list.is_empty() {
                self.by_addr.remove(&addr);
            }
        }
    }

    /// The names of `addr` for `client` at `now`: newest answer first, in an answer's order
    /// (the asked name, then the chain's last), each once.
    pub fn lookup(&self, addr: IpAddr, client: &Client, now: u64) -> Vec<Arc<str>> {
        let mut hits: Vec<&LiveEntry> = match self.by_addr.get(&addr) {
            Some(l) => l
                .iter()
                .filter(|e| now <= e.until && e.client.covers(client))
                .collect(),
            None => return Vec::new(),
        };
        hits.sort_by_key(|e| (std::cmp::Reverse(e.answer), e.id));
        let mut out: Vec<Arc<str>> = Vec::with_capacity(hits.len());
        for e in hits {
            if !out.contains(&e.name) {
                out.push(e.name.clone());
            }
        }
        out
    }

    /// A remote end of a packet and its names: the address the owner's end talks to, as
    /// that end resolved it (the owner by role, else the interface direction); else the
    /// owner's address as the other end resolved it (a packet between two local processes
    /// has one owner, which need not be the end that resolved). `None` when the table is
    /// empty or neither address has a name for the other end.
    pub fn remote(
        &self,
        pkt: &PacketRef<'_>,
        s: &PacketSummary,
        meta: Option<&PacketMeta>,
        netns: Option<u64>,
    ) -> Option<(IpAddr, Vec<Arc<str>>)> {
        if self.is_empty() {
            return None;
        }
        let owner = owner_end(meta, pkt.direction);
        let ends = match owner {
            Some(Direction::In) => [Direction::In, Direction::Out],
            _ => [Direction::Out, Direction::In],
        };
        for end in ends {
            let (local, remote) = match end {
                Direction::Out => (s.src, s.dst),
                Direction::In => (s.dst, s.src),
            };
            let (container, pid) = local_end(meta, owner, end);
            let client = Client {
                container,
                netns,
                pid,
                addr: local,
            };
            let names = self.lookup(remote, &client, pkt.ts_ns);
            if !names.is_empty() {
                return Some((remote, names));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for l in name.split('.') {
            v.push(l.len() as u8);
            v.extend(l.as_bytes());
        }
        v.push(0);
        v
    }

    /// `name A addr` with `ttl`.
    fn answer(name: &str, addr: [u8; 4], ttl: u32) -> Vec<u8> {
        let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend(q(name));
        m.extend([0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1]);
        m.extend(ttl.to_be_bytes());
        m.extend([0, 4]);
        m.extend(addr);
        m
    }

    fn client(addr: &str, container: Option<&str>) -> Client {
        Client {
            container: container.map(Arc::from),
            netns: Some(1),
            pid: None,
            addr: addr.parse().unwrap(),
        }
    }

    #[test]
    fn cname_chain_in_answer_order() {
        let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        m.extend(q("www.shop.test"));
        m.extend([0, 1, 0, 1]);
        m.extend([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60]);
        let t = q("edge.cdn.test");
        m.extend((t.len() as u16).to_be_bytes());
        let edge_at = m.len() as u8;
        m.extend(t);
        m.extend([0xc0, edge_at, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 198, 18, 3, 7]);
        let mut got = Vec::new();
        dns_answer(&m, |a, ttl, n| got.push(format!("{a} {ttl} {n}")));
        assert_eq!(
            got,
            ["198.18.3.7 30 www.shop.test", "198.18.3.7 30 edge.cdn.test"]
        );
        // Truncated anywhere: no panic, never a name the full answer does not give.
        for cut in 0..m.len() {
            dns_answer(&m[..cut], |a, _, n| {
                assert_eq!(a.to_string(), "198.18.3.7");
                assert!(n == "www.shop.test" || n == "edge.cdn.test");
            });
        }
        assert_eq!(dns_message(&[0, 3, 1, 2], true), None);
        assert_eq!(dns_message(&[0, 2, 1, 2], true), Some(&[1u8, 2][..]));
    }

    #[test]
    fn live_names_per_client_and_ttl() {
        let mut t = LiveNames::new();
        let web1 = client("198.18.0.1", Some("web1"));
        t.learn_answer(&answer("api.shop.test", [198, 18, 3, 7], 60), 10, &web1);
        let api: IpAddr = "198.18.3.7".parse().unwrap();
        assert_eq!(t.lookup(api, &web1, 11), [Arc::from("api.shop.test")]);
        // Another container with the same address: not its name.
        assert!(t
            .lookup(api, &client("198.18.0.1", Some("web2")), 11)
            .is_empty());
        // Without containers: same namespace and address.
        let host = client("198.18.0.9", None);
        t.learn_answer(&answer("db.shop.test", [198, 18, 3, 7], 1), 20, &host);
        assert_eq!(t.lookup(api, &host, 21), [Arc::from("db.shop.test")]);
        let other_ns = Client {
            netns: Some(2),
            ..host.clone()
        };
        assert!(t.lookup(api, &other_ns, 21).is_empty());
        // Past TTL + grace: gone.
        let late = 20 + 1_000_000_000 + GRACE_NS + 1;
        assert!(t.lookup(api, &host, late).is_empty());
        // A newer answer comes first.
        t.learn_answer(&answer("api2.shop.test", [198, 18, 3, 7], 60), 30, &web1);
        assert_eq!(
            t.lookup(api, &web1, 31),
            [Arc::from("api2.shop.test"), Arc::from("api.shop.test")]
        );
    }

    #[test]
    fn live_names_stay_bounded() {
        let mut t = LiveNames::with_capacity(64);
        let c = client("198.18.0.1", None);
        for i in 0..10_000u32 {
            let [_, _, x, y] = i.to_be_bytes();
            t.learn_answer(&answer(&format!("n{i}.test"), [198, 18, x, y], 60), 1, &c);
            // One address, many names.
            t.learn_answer(&answer(&format!("m{i}.test"), [198, 19, 0, 1], 60), 1, &c);
            assert!(t.len() <= 64);
            assert!(t.order.len() <= 2 * 64 + 1);
        }
        let one: IpAddr = "198.19.0.1".parse().unwrap();
        let names = t.lookup(one, &c, 2);
        assert!(names.len() <= LIVE_PER_ADDRESS);
        assert_eq!(&*names[0], "m9999.test");
        // The newest are kept.
        let last: IpAddr = "198.18.39.15".parse().unwrap();
        assert_eq!(t.lookup(last, &c, 2), [Arc::from("n9999.test")]);
        // Repeating one answer refreshes it instead of adding.
        let mut r = LiveNames::with_capacity(8);
        for ts in 0..100 {
            r.learn_answer(&answer("a.test", [198, 18, 0, 7], 60), ts, &c);
        }
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn http_host_and_sni() {
        assert_eq!(
            http_host(b"GET / HTTP/1.1\r\nhost: Api.Shop.test:8080\r\n\r\n"),
            Some("Api.Shop.test".into())
        );
        assert_eq!(http_host(b"HTTP/1.1 200 OK\r\nHost: x\r\n\r\n"), None);
        assert_eq!(client_hello_sni(&[22, 3, 1, 0, 0, 1, 0, 0, 0]), None);
        assert_eq!(clean_name("Www.Shop.Test."), Some("www.shop.test".into()));
        assert_eq!(clean_name("198.18.3.7"), None);
        assert_eq!(clean_name("a\u{1b}b"), None);
    }
}

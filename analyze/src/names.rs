//! Remote names learnt from the capture itself: DNS answers (A, AAAA, through CNAME chains, as
//! the name the client asked for), TLS ClientHello server names and HTTP/1 `Host:` headers;
//! and from a file (`--names-from`: hosts format or a zeek dns.log).
//!
//! A name belongs to an address *as seen by a client*: the container that received the DNS
//! answer (else the process or the client's address), from the answer on, for the answer's
//! TTL plus [`GRACE_NS`]. A server name or host belongs to the flow that carried it.
//!
//! The table is built for the parallel engine: each chunk collects what it learnt, with the
//! packet's time; [`NameTable::merge`] appends, and [`NameTable::finish`] sorts every
//! observation by value, so any chunking and any thread count give the same [`Names`].
//!
//! ```
//! use analyze::names::{NameTable, NameSource};
//! let mut t = NameTable::new();
//! t.add_file_line("198.18.3.7 api.shop.test api");
//! let names = t.finish();
//! let n = names.of_file("198.18.3.7".parse().unwrap());
//! assert_eq!(n[0].name, "api.shop.test");
//! assert_eq!(n[0].source, NameSource::File);
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use formats::names::{clean_name, client_hello_sni, dns_message, http_host, is_dns_port};
pub use formats::names::{GRACE_NS, MAX_TTL_NS};
use formats::pcapng::Direction;
use formats::wire::flow::{inner_transport_payload, transport_payload, PacketSummary, Transport};
use serde::Serialize;

use crate::flows::{Endpoint, FlowRecord, Observed};

// GRACE_NS and MAX_TTL_NS (a TTL above a week counts as a week, so a lookup scans a bounded
// stretch of answers) are formats::names', shared with ptcap's live table.
const MAX_WINDOW_NS: u64 = MAX_TTL_NS + GRACE_NS;

/// How a name was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NameSource {
    Dns,
    Sni,
    Http,
    File,
}

impl NameSource {
    /// As JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::Dns => "dns",
            NameSource::Sni => "sni",
            NameSource::Http => "http",
            NameSource::File => "file",
        }
    }
}

/// One name of an endpoint (JSON: `{"name", "source"}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct NameRecord {
    pub name: String,
    pub source: NameSource,
}

/// Who resolved: the container and process that received the answer, and the client's
/// address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Client {
    container: Option<Arc<str>>,
    pid: Option<u32>,
    addr: IpAddr,
}

/// One name learnt at one time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Learnt {
    ts: u64,
    /// The address named.
    addr: IpAddr,
    name: Arc<str>,
    source: NameSource,
    client: Client,
    /// DNS: valid until (answer time + TTL + grace).
    until: u64,
    /// SNI and HTTP: the flow's client and server ends.
    ends: Option<(Endpoint, Endpoint, u8)>,
}

/// What a run of packets taught (see the module's notes); merged in any grouping.
#[derive(Debug, Clone, Default)]
pub struct NameTable {
    learnt: Vec<Learnt>,
    file: Vec<(IpAddr, Arc<str>)>,
}

impl NameTable {
    pub fn new() -> NameTable {
        NameTable::default()
    }

    /// Learns from one packet, already summarized.
    pub fn observe_summary(&mut self, pkt: &Observed<'_>, s: Option<&PacketSummary>) {
        let Some(s) = s else { return };
        if pkt.meta.drop.is_some() {
            return;
        }
        let (sport, dport) = match s.transport {
            Transport::Tcp(t) if t.payload_len > 0 => (t.src_port, t.dst_port),
            Transport::Udp {
                src_port, dst_port, ..
            } => (src_port, dst_port),
            _ => return,
        };
        // An encapsulated packet's summary is its inner packet's: so is the payload read.
        let payload = if s.tunnel.is_some() {
            inner_transport_payload(pkt.link_type, pkt.data)
        } else {
            transport_payload(pkt.link_type, pkt.data)
        };
        let Some(payload) = payload else {
            return;
        };
        if payload.is_empty() {
            return;
        }
        let tcp = matches!(s.transport, Transport::Tcp(_));
        if is_dns_port(sport) {
            // The receiver of the answer is the client; its container when the metadata's
            // owner is the receiving side.
            let (container, pid) = local_end(pkt, s, Direction::In);
            let client = Client {
                container,
                pid,
                addr: s.dst,
            };
            let Some(msg) = dns_message(payload, tcp) else {
                return;
            };
            dns_answer(msg, pkt.ts_ns, &client, &mut self.learnt);
            return;
        }
        if !tcp {
            return;
        }
        let (name, source) = if let Some(n) = client_hello_sni(payload) {
            (n, NameSource::Sni)
        } else if let Some(h) = http_host(payload) {
            (h, NameSource::Http)
        } else {
            return;
        };
        let Some(name) = clean_name(&name) else {
            return;
        };
        let (container, pid) = local_end(pkt, s, Direction::Out);
        let (c, srv) = (
            Endpoint {
                addr: s.src,
                port: Some(sport),
            },
            Endpoint {
                addr: s.dst,
                port: Some(dport),
            },
        );
        self.learnt.push(Learnt {
            ts: pkt.ts_ns,
            addr: s.dst,
            name: name.into(),
            source,
            client: Client {
                container,
                pid,
                addr: s.src,
            },
            until: pkt.ts_ns,
            ends: Some((c, srv, s.protocol)),
        });
    }

    /// Folds in what a later (or any other) run learnt.
    pub fn merge(&mut self, other: NameTable) {
        self.learnt.extend(other.learnt);
        self.file.extend(other.file);
    }

    /// One line of a hosts file (`ADDR NAME [ALIAS...]`, `#` comments); false when the line
    /// holds neither a mapping nor only a comment.
    pub fn add_file_line(&mut self, line: &str) -> bool {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            return true;
        }
        let mut words = line.split_whitespace();
        let Some(addr) = words.next().and_then(|a| a.parse::<IpAddr>().ok()) else {
            return false;
        };
        let mut any = false;
        for w in words {
            if let Some(n) = clean_name(w) {
                self.file.push((addr, n.into()));
                any = true;
            }
        }
        any
    }

    /// A whole `--names-from` file: a zeek dns.log (it starts with `#separator`), else hosts
    /// format. Errors name the line.
    pub fn add_file(&mut self, text: &str) -> Result<(), String> {
        if text.starts_with("#separator") {
            return self.add_zeek_dns(text);
        }
        for (n, line) in text.lines().enumerate() {
            if !self.add_file_line(line) {
                return Err(format!(
                    "line {}: expected \"ADDRESS NAME...\" (hosts format) or a zeek dns.log",
                    n + 1
                ));
            }
        }
        Ok(())
    }

    /// zeek's dns.log (TSV with a `#fields` header): each answer that is an address is named
    /// by the query, for the client `id.orig_h`, from `ts` on for its TTL plus the grace.
    fn add_zeek_dns(&mut self, text: &str) -> Result<(), String> {
        let mut fields: Vec<&str> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if let Some(f) = line.strip_prefix("#fields\t") {
                fields = f.split('\t').collect();
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let col = |name: &str| -> Option<&str> {
                let i = fields.iter().position(|f| *f == name)?;
                line.split('\t').nth(i)
            };
            let bad = || format!("line {}: not a zeek dns.log record", n + 1);
            let ts: f64 = col("ts").and_then(|t| t.parse().ok()).ok_or_else(bad)?;
            let client: IpAddr = col("id.orig_h")
                .and_then(|a| a.parse().ok())
                .ok_or_else(bad)?;
            let Some(query) = col("query").and_then(clean_name) else {
                continue;
            };
            let answers: Vec<&str> = col("answers").unwrap_or("-").split(',').collect();
            let ttls: Vec<f64> = col("TTLs")
                .unwrap_or("-")
                .split(',')
                .map(|t| t.parse().unwrap_or(0.0))
                .collect();
            let ts_ns = (ts.max(0.0) * 1e9) as u64;
            for (i, a) in answers.iter().enumerate() {
                let Ok(addr) = a.parse::<IpAddr>() else {
                    continue;
                };
                let ttl = ttls.get(i).copied().unwrap_or(0.0).max(0.0);
                self.learnt.push(Learnt {
                    ts: ts_ns,
                    addr,
                    name: query.as_str().into(),
                    source: NameSource::File,
                    client: Client {
                        container: None,
                        pid: None,
                        addr: client,
                    },
                    until: ts_ns
                        .saturating_add(((ttl * 1e9) as u64).min(MAX_TTL_NS))
                        .saturating_add(GRACE_NS),
                    ends: None,
                });
            }
        }
        Ok(())
    }

    /// Everything learnt, in an order that depends only on what was learnt.
    pub fn finish(mut self) -> Names {
        self.learnt.sort_unstable();
        self.learnt.dedup();
        // Repeated answers to one client for one name and address become one entry whose
        // validity spans them all (overlapping windows merge): lookups then scan few entries.
        let mut by_addr: BTreeMap<IpAddr, Vec<Learnt>> = BTreeMap::new();
        let mut own: BTreeMap<OwnKey, Vec<(u64, Arc<str>, NameSource)>> = BTreeMap::new();
        let mut open: BTreeMap<(IpAddr, Client, Arc<str>, NameSource), usize> = BTreeMap::new();
        for l in self.learnt {
            if let Some(k) = l.ends {
                own.entry(k).or_default().push((l.ts, l.name, l.source));
                continue;
            }
            let list = by_addr.entry(l.addr).or_default();
            let key = (l.addr, l.client.clone(), l.name.clone(), l.source);
            if let Some(&i) = open.get(&key) {
                if l.ts <= list[i].until {
                    list[i].until = list[i].until.max(l.until);
                    continue;
                }
            }
            open.insert(key, list.len());
            list.push(l);
        }
        let mut file: BTreeMap<IpAddr, Vec<Arc<str>>> = BTreeMap::new();
        for (a, n) in self.file {
            let v = file.entry(a).or_default();
            if !v.contains(&n) {
                v.push(n);
            }
        }
        Names { by_addr, own, file }
    }
}

/// A flow's client and server ends and protocol: what a server name or host belongs to.
type OwnKey = (Endpoint, Endpoint, u8);

/// The names of a whole run, to look up per flow.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// DNS (and zeek dns.log) entries by address, by answer time.
    by_addr: BTreeMap<IpAddr, Vec<Learnt>>,
    /// Server names and hosts by flow ends, by time.
    own: BTreeMap<OwnKey, Vec<(u64, Arc<str>, NameSource)>>,
    file: BTreeMap<IpAddr, Vec<Arc<str>>>,
}

impl Names {
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty() && self.own.is_empty() && self.file.is_empty()
    }

    /// A hosts file's names of `addr`.
    pub fn of_file(&self, addr: IpAddr) -> Vec<NameRecord> {
        self.file
            .get(&addr)
            .into_iter()
            .flatten()
            .map(|n| NameRecord {
                name: n.to_string(),
                source: NameSource::File,
            })
            .collect()
    }

    /// The names of `target` in a flow from `client` (its container, when known) that lasted
    /// from `first` to `last`: the server names and hosts the flow itself carried, then DNS
    /// answers this client had received before the flow began (newest first) and still
    /// valid, then the file's. Each name once per source.
    #[allow(clippy::too_many_arguments)]
    fn lookup(
        &self,
        target: &Endpoint,
        client: &Endpoint,
        owner: (Option<&str>, Option<u32>),
        proto: u8,
        first: u64,
        last: u64,
        own_only: bool,
    ) -> Vec<NameRecord> {
        let mut out: Vec<NameRecord> = Vec::new();
        let mut push = |name: &str, source: NameSource| {
            if !out.iter().any(|n| n.name == name && n.source == source) {
                out.push(NameRecord {
                    name: name.to_string(),
                    source,
                });
            }
        };
        let same_client = |c: &Client| match (&c.container, owner.0) {
            (Some(a), Some(b)) => &**a == b,
            _ => c.addr == client.addr || (c.pid.is_some() && c.pid == owner.1),
        };
        if let Some(list) = self.own.get(&(*client, *target, proto)) {
            let from = list.partition_point(|e| e.0 < first);
            for (_, name, source) in list[from..].iter().take_while(|e| e.0 <= last) {
                push(name, *source);
            }
        }
        if let Some(list) = self.by_addr.get(&target.addr).filter(|_| !own_only) {
            // Answers before the flow, newest first, as far back as a window can reach.
            let upto = list.partition_point(|l| l.ts <= first);
            for l in list[..upto]
                .iter()
                .rev()
                .take_while(|l| first - l.ts <= MAX_WINDOW_NS)
            {
                if first <= l.until && same_client(&l.client) {
                    push(&l.name, l.source);
                }
            }
        }
        for n in self.file.get(&target.addr).into_iter().flatten() {
            push(n, NameSource::File);
        }
        out
    }

    /// The initiator's and the responder's names of a flow.
    pub fn of_flow(&self, f: &FlowRecord) -> [Vec<NameRecord>; 2] {
        let owner = |s: &crate::flows::SideRecord| {
            let o = s.owner.as_ref();
            (
                o.and_then(|o| o.container.as_ref()).map(|c| c.id.clone()),
                o.and_then(|o| o.process.as_ref()).map(|p| p.pid),
            )
        };
        let (ci, cr) = (owner(&f.orig), owner(&f.resp));
        let resp = self.lookup(
            &f.responder,
            &f.initiator,
            (ci.0.as_deref(), ci.1),
            f.ip_proto,
            f.first_ts_ns,
            f.last_ts_ns,
            false,
        );
        // The initiator as the responder's side knows it: what it resolved, the file.
        let init = self.lookup(
            &f.initiator,
            &f.responder,
            (cr.0.as_deref(), cr.1),
            f.ip_proto,
            f.first_ts_ns,
            f.last_ts_ns,
            false,
        );
        [init, resp]
    }

    /// Fills every flow's names.
    pub fn annotate(&self, flows: &mut [FlowRecord]) {
        if self.is_empty() {
            return;
        }
        for f in flows {
            let [i, r] = self.of_flow(f);
            f.initiator.names = i;
            f.responder.names = r;
        }
    }
}

/// The container and process at one end of a packet (`Out`: the sender, `In`: the receiver),
/// when the metadata knows it (formats::names::local_end, with the owner's end by role, else
/// by the interface or cooked-header direction).
fn local_end(
    pkt: &Observed<'_>,
    s: &PacketSummary,
    end: Direction,
) -> (Option<Arc<str>>, Option<u32>) {
    formats::names::local_end(Some(pkt.meta), pkt.owner_direction(Some(s)), end)
}

/// What a DNS response names (formats::names::dns_answer: each address reached from the
/// question through its CNAME chain, by the question's name and the chain's last name), for
/// `client` from `ts` on.
fn dns_answer(msg: &[u8], ts: u64, client: &Client, out: &mut Vec<Learnt>) {
    formats::names::dns_answer(msg, |addr, ttl, name| {
        out.push(Learnt {
            ts,
            addr,
            name: name.into(),
            source: NameSource::Dns,
            client: client.clone(),
            until: formats::names::valid_until(ts, ttl),
            ends: None,
        })
    });
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

    #[test]
    fn cname_chain_names_the_asked_name() {
        let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0];
        m.extend(q("www.shop.test"));
        m.extend([0, 1, 0, 1]);
        // www.shop.test CNAME edge.cdn.test
        m.extend([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60]);
        let t = q("edge.cdn.test");
        m.extend((t.len() as u16).to_be_bytes());
        let edge_at = m.len();
        m.extend(t);
        m.extend([
            0xc0,
            edge_at as u8,
            0,
            1,
            0,
            1,
            0,
            0,
            0,
            60,
            0,
            4,
            198,
            18,
            3,
            7,
        ]);
        // An unrelated A record is not taken.
        m.extend(q("other.test"));
        m.extend([0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 9, 9]);
        let c = Client {
            container: None,
            pid: None,
            addr: "198.18.0.1".parse().unwrap(),
        };
        let mut out = Vec::new();
        dns_answer(&m, 5, &c, &mut out);
        let got: Vec<(String, String)> = out
            .iter()
            .map(|l| (l.addr.to_string(), l.name.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("198.18.3.7".to_string(), "www.shop.test".to_string()),
                ("198.18.3.7".to_string(), "edge.cdn.test".to_string())
            ]
        );
        assert_eq!(out[0].until, 5 + 60_000_000_000 + GRACE_NS);
    }

    #[test]
    fn http_host_and_sni() {
        assert_eq!(
            http_host(b"GET / HTTP/1.1\r\nUser-Agent: x\r\nhost: Api.Shop.test:8080\r\n\r\n"),
            Some("Api.Shop.test".into())
        );
        assert_eq!(http_host(b"HTTP/1.1 200 OK\r\nHost: x\r\n\r\n"), None);
        let mut ch = vec![22, 3, 1, 0, 0, 1, 0, 0, 0, 3, 3];
        ch.extend([0u8; 32]);
        ch.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
        let name = b"api.shop.test";
        let mut sni = Vec::new();
        sni.extend(((name.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend((name.len() as u16).to_be_bytes());
        sni.extend(name);
        let mut ext = vec![0, 0];
        ext.extend((sni.len() as u16).to_be_bytes());
        ext.extend(sni);
        ch.extend((ext.len() as u16).to_be_bytes());
        ch.extend(ext);
        assert_eq!(client_hello_sni(&ch), Some("api.shop.test".into()));
    }

    /// A DNS answer on a RAW link: `api.shop.test A 198.18.3.7`, TTL 60 s, to 198.18.0.1.
    fn answer_packet() -> Vec<u8> {
        let mut m = vec![0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend(q("api.shop.test"));
        m.extend([
            0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 3, 7,
        ]);
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 3, 53, 198, 18, 0, 1,
        ];
        p.extend(53u16.to_be_bytes());
        p.extend(5000u16.to_be_bytes());
        p.extend(((8 + m.len()) as u16).to_be_bytes());
        p.extend([0, 0]);
        p.extend(m);
        let total = (p.len() as u16).to_be_bytes();
        p[2..4].copy_from_slice(&total);
        p
    }

    #[test]
    fn any_split_and_merge_order_gives_the_same_names() {
        let pkt = answer_packet();
        let meta = formats::meta::PacketMeta::default();
        let times = [1u64, 30, 2_000, 5_000, 5_001, 9_000_000];
        let observe = |t: &mut NameTable, ts_s: u64| {
            let o = Observed {
                ts_ns: ts_s * 1_000_000_000,
                orig_len: pkt.len() as u32,
                link_type: 101,
                data: &pkt,
                interface: None,
                direction: None,
                meta: &meta,
            };
            t.observe_summary(&o, o.summarize().as_ref());
        };
        let mut one = NameTable::new();
        for &t in &times {
            observe(&mut one, t);
        }
        let one = format!("{:?}", one.finish());
        for cut in 0..=times.len() {
            let (mut a, mut b) = (NameTable::new(), NameTable::new());
            for &t in &times[..cut] {
                observe(&mut a, t);
            }
            for &t in &times[cut..] {
                observe(&mut b, t);
            }
            // Either order: the table is a set of observations.
            b.merge(a);
            assert_eq!(format!("{:?}", b.finish()), one, "cut at {cut}");
        }
        // Answers within each other's window merge: 1..5001 s is one entry, 9e6 s another.
        let t = {
            let mut t = NameTable::new();
            for &x in &times {
                observe(&mut t, x);
            }
            t.finish()
        };
        assert_eq!(t.by_addr.values().map(Vec::len).sum::<usize>(), 2);
    }

    #[test]
    fn zeek_dns_log() {
        let log = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tquery\tanswers\tTTLs\n\
                   1700000000.5\tC1\t198.18.0.1\t5000\t198.18.0.53\tapi.shop.test\tedge.cdn.test,198.18.3.7\t60.0,30.0\n";
        let mut t = NameTable::new();
        t.add_file(log).unwrap();
        let n = t.finish();
        let l = &n.by_addr[&"198.18.3.7".parse::<IpAddr>().unwrap()][0];
        assert_eq!(&*l.name, "api.shop.test");
        assert_eq!(l.client.addr.to_string(), "198.18.0.1");
        assert_eq!(l.ts, 1_700_000_000_500_000_000);
        assert_eq!(l.until, l.ts + 30_000_000_000 + GRACE_NS);
    }

    #[test]
    fn hosts_file() {
        let mut t = NameTable::new();
        assert!(t
            .add_file("# c\n198.18.3.7 a.test b.test\n\n::1 localhost\n")
            .is_ok());
        assert!(t.add_file("nonsense\n").is_err());
        let n = t.finish();
        assert_eq!(n.of_file("198.18.3.7".parse().unwrap()).len(), 2);
    }
}

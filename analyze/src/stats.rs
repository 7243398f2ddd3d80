//! Totals and rollups per container, pod, process and interface, and how much of the traffic
//! is attributed to a process (by [`Provenance`]).
//!
//! Rules:
//! - A packet's metadata names the local owner. Its role (`formats::meta::Role`, written by
//!   ptcap) says whether the owner sent or received it; without a role (ptcpdump's files) the
//!   interface direction stands in: `Out` counts as *sent*, `In` as *received*. A packet with
//!   neither is counted in its own `unknown` column. Totals and interfaces count the interface
//!   direction (a container's packet is *In* on the host side of its veth, yet *sent* by it).
//! - The remote endpoint is the destination address of a sent packet and the source of a
//!   received one; with no direction, the destination (ptcap writes the sender's metadata).
//! - Flows are counted by [`FlowKey`] (both directions of a conversation are one flow).
//! - A packet the kernel dropped (ptcap `--drops`: [`PacketMeta::drop`]) is a record of the
//!   drop, not a packet of the traffic (the same packet may also have been captured on the wire
//!   before it was dropped), as `--flows` counts it: it is counted in its owner's, interface's
//!   and the totals' [`Drops`] by reason, and in their flows, remote addresses and times, never
//!   in their packets, bytes, protocols or attribution coverage.
//! - Every figure is a sum, a minimum/maximum or a set union, so [`Rollups::merge`] of chunks
//!   equals one sequential pass.
//!
//! ```
//! use analyze::flows::Observed;
//! use analyze::stats::Rollups;
//! use formats::meta::PacketMeta;
//! let udp = [0x45, 0, 0, 29, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
//!            0x30, 0x39, 0x27, 0x0f, 0, 9, 0, 0, b'x'];
//! let meta = PacketMeta::default();
//! let mut r = Rollups::new();
//! r.observe(&Observed { ts_ns: 1_000, orig_len: 29, link_type: 101, data: &udp,
//!     interface: Some("eth0"), direction: None, meta: &meta });
//! let report = r.finish();
//! assert_eq!((report.totals.packets, report.totals.flows), (1, 1));
//! assert_eq!(report.interfaces[0].name, "eth0");
//! ```

use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasherDefault;
use std::io::{self, Write};
use std::net::IpAddr;

use formats::meta::{PacketMeta, Provenance};
use formats::pcapng::Direction;
use formats::wire::flow::PacketSummary;
use serde::Serialize;

use crate::flows::{clean, write_table, FlowKey, KeyHasher, KeyMap, Observed};

type KeySet<T> = HashSet<T, BuildHasherDefault<KeyHasher>>;

/// Packets and bytes (wire length) one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    pub packets: u64,
    pub bytes: u64,
}

impl Traffic {
    fn add(&mut self, o: Traffic) {
        self.packets += o.packets;
        self.bytes += o.bytes;
    }
}

/// Packets the kernel dropped (ptcap `--drops`), by drop reason; apart from [`Traffic`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drops {
    /// The sum of `by_reason`.
    pub packets: u64,
    /// Reason (`NETFILTER_DROP`, `NO_SOCKET`, ...) to packets, by name.
    pub by_reason: BTreeMap<String, u64>,
}

impl Drops {
    fn count(&mut self, reason: &str) {
        self.packets += 1;
        match self.by_reason.get_mut(reason) {
            Some(n) => *n += 1,
            None => {
                self.by_reason.insert(reason.to_string(), 1);
            }
        }
    }

    fn add(&mut self, o: Drops) {
        self.packets += o.packets;
        for (r, n) in o.by_reason {
            *self.by_reason.entry(r).or_insert(0) += n;
        }
    }

    /// `12 (NETFILTER_DROP 10, NO_SOCKET 2)`: the packets, then each reason by packets
    /// descending (ties by name).
    pub fn short(&self) -> String {
        let mut r: Vec<(&String, &u64)> = self.by_reason.iter().collect();
        r.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let parts: Vec<String> = r
            .iter()
            .map(|(reason, n)| format!("{} {n}", clean(reason)))
            .collect();
        format!("{} ({})", self.packets, parts.join(", "))
    }
}

#[derive(Debug, Clone, Default)]
struct Group {
    sent: Traffic,
    received: Traffic,
    unknown: Traffic,
    first_ts: Option<u64>,
    last_ts: Option<u64>,
    flows: KeySet<FlowKey>,
    remotes: KeySet<IpAddr>,
    drops: Drops,
}

impl Group {
    fn add(&mut self, p: &Seen) {
        match p.drop {
            Some(reason) => self.drops.count(reason),
            None => {
                let t = match p.direction {
                    Some(Direction::Out) => &mut self.sent,
                    Some(Direction::In) => &mut self.received,
                    None => &mut self.unknown,
                };
                t.packets += 1;
                t.bytes += p.bytes;
            }
        }
        self.first_ts = Some(self.first_ts.map_or(p.ts, |f| f.min(p.ts)));
        self.last_ts = Some(self.last_ts.map_or(p.ts, |l| l.max(p.ts)));
        if let Some((key, remote)) = &p.flow {
            self.flows.insert(*key);
            self.remotes.insert(*remote);
        }
    }

    fn absorb(&mut self, o: Group) {
        self.sent.add(o.sent);
        self.received.add(o.received);
        self.unknown.add(o.unknown);
        self.first_ts = match (self.first_ts, o.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = self.last_ts.max(o.last_ts);
        self.flows.extend(o.flows);
        self.remotes.extend(o.remotes);
        self.drops.add(o.drops);
    }
}

/// What every group learns from one packet.
struct Seen<'a> {
    ts: u64,
    bytes: u64,
    direction: Option<Direction>,
    flow: Option<(FlowKey, IpAddr)>,
    /// The kernel dropped it, for this reason: counted in `drops`, not as traffic.
    drop: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, Default)]
struct ProvenanceCount {
    packets: u64,
    with_process: u64,
}

/// Rollups of a run of packets; holds one entry per owner, flow key and remote address.
#[derive(Debug, Clone, Default)]
pub struct Rollups {
    total: Group,
    non_ip: u64,
    /// By container id: (name, figures).
    containers: KeyMap<String, (String, Group)>,
    /// By pod name: (namespace, figures) per namespace.
    pods: KeyMap<String, Vec<(String, Group)>>,
    /// By pid: (comm, exe, figures) per distinct program seen with that pid.
    processes: KeyMap<u32, Vec<(String, String, Group)>>,
    interfaces: KeyMap<String, Group>,
    unnamed_interface: Option<Group>,
    provenance: [ProvenanceCount; Provenance::ALL.len()],
    /// Per IP protocol number (256 entries once a packet with an IP header was seen).
    protocols: Vec<Traffic>,
}

impl Rollups {
    pub fn new() -> Rollups {
        Rollups::default()
    }

    pub fn observe(&mut self, pkt: &Observed<'_>) {
        let s = pkt.summarize();
        self.observe_summary(pkt, s.as_ref());
    }

    /// [`observe`](Self::observe) with the packet already summarized (`pkt.summarize()`).
    pub fn observe_summary(&mut self, pkt: &Observed<'_>, s: Option<&PacketSummary>) {
        // Totals and interfaces count the interface direction; owners count what the owner
        // did (sent or received), which differs on a host-side veth.
        let drop = pkt.meta.drop.as_deref().map(|d| d.reason.as_str());
        let seen_as = |direction: Option<Direction>| Seen {
            ts: pkt.ts_ns,
            bytes: u64::from(pkt.orig_len),
            direction,
            flow: s.map(|s| {
                let remote = if direction == Some(Direction::In) {
                    s.src
                } else {
                    s.dst
                };
                (FlowKey::of(s).0, remote)
            }),
            drop,
        };
        match s {
            // A drop record is no packet of the traffic: only its groups' drops count it.
            _ if drop.is_some() => {}
            None => self.non_ip += 1,
            Some(s) => {
                if self.protocols.is_empty() {
                    self.protocols = vec![Traffic::default(); 256];
                }
                let t = &mut self.protocols[usize::from(s.protocol)];
                t.packets += 1;
                t.bytes += u64::from(pkt.orig_len);
            }
        }
        let on_wire = seen_as(pkt.direction_with(s));
        let seen = seen_as(pkt.owner_direction(s));
        self.total.add(&on_wire);
        let m: &PacketMeta = pkt.meta;
        let pc = &mut self.provenance[m.provenance as usize];
        if drop.is_none() {
            pc.packets += 1;
            pc.with_process += u64::from(m.process.is_some());
        }
        if let Some(p) = &m.process {
            let list = self.processes.entry(p.pid).or_default();
            let at = match list
                .iter()
                .position(|(c, e, _)| *c == p.comm && *e == p.exe)
            {
                Some(i) => i,
                None => {
                    list.push((p.comm.clone(), p.exe.clone(), Group::default()));
                    list.len() - 1
                }
            };
            list[at].2.add(&seen);
        }
        if let Some(c) = &m.container {
            match self.containers.get_mut(c.id.as_str()) {
                Some(g) => g.1.add(&seen),
                None => {
                    let mut g = Group::default();
                    g.add(&seen);
                    self.containers.insert(c.id.clone(), (c.name.clone(), g));
                }
            }
        }
        if let Some(p) = &m.pod {
            let list = match self.pods.get_mut(p.name.as_str()) {
                Some(l) => l,
                None => self.pods.entry(p.name.clone()).or_default(),
            };
            match list.iter_mut().find(|(ns, _)| *ns == p.namespace) {
                Some(g) => g.1.add(&seen),
                None => {
                    let mut g = Group::default();
                    g.add(&seen);
                    list.push((p.namespace.clone(), g));
                }
            }
        }
        match pkt.interface {
            Some(name) => match self.interfaces.get_mut(name) {
                Some(g) => g.add(&on_wire),
                None => {
                    let mut g = Group::default();
                    g.add(&on_wire);
                    self.interfaces.insert(name.to_string(), g);
                }
            },
            None => self
                .unnamed_interface
                .get_or_insert_with(Group::default)
                .add(&on_wire),
        }
    }

    /// Folds in the rollups of another chunk (any order gives the same figures).
    pub fn merge(&mut self, later: Rollups) {
        self.total.absorb(later.total);
        self.non_ip += later.non_ip;
        for (id, (name, g)) in later.containers {
            match self.containers.get_mut(&id) {
                Some(e) => e.1.absorb(g),
                None => {
                    self.containers.insert(id, (name, g));
                }
            }
        }
        for (name, list) in later.pods {
            let mine = self.pods.entry(name).or_default();
            for (ns, g) in list {
                match mine.iter_mut().find(|(n, _)| *n == ns) {
                    Some(e) => e.1.absorb(g),
                    None => mine.push((ns, g)),
                }
            }
        }
        for (pid, list) in later.processes {
            let mine = self.processes.entry(pid).or_default();
            for (comm, exe, g) in list {
                match mine.iter_mut().find(|(c, e, _)| *c == comm && *e == exe) {
                    Some(e) => e.2.absorb(g),
                    None => mine.push((comm, exe, g)),
                }
            }
        }
        for (name, g) in later.interfaces {
            self.interfaces.entry(name).or_default().absorb(g);
        }
        if let Some(g) = later.unnamed_interface {
            self.unnamed_interface
                .get_or_insert_with(Group::default)
                .absorb(g);
        }
        for (a, b) in self.provenance.iter_mut().zip(later.provenance) {
            a.packets += b.packets;
            a.with_process += b.with_process;
        }
        if self.protocols.is_empty() {
            self.protocols = later.protocols;
        } else {
            for (a, b) in self.protocols.iter_mut().zip(later.protocols) {
                a.packets += b.packets;
                a.bytes += b.bytes;
            }
        }
    }

    pub fn finish(self) -> Report {
        let t = &self.total;
        let all = t.sent.packets + t.received.packets + t.unknown.packets;
        let share = |n: u64| if all == 0 { 0.0 } else { n as f64 / all as f64 };
        let with_process: u64 = self.provenance.iter().map(|p| p.with_process).sum();
        let coverage = Coverage {
            packets: all,
            with_process,
            share_with_process: share(with_process),
            by_provenance: Provenance::ALL
                .iter()
                .zip(self.provenance)
                .filter(|(_, c)| c.packets > 0)
                .map(|(p, c)| ProvenanceShare {
                    provenance: *p,
                    packets: c.packets,
                    with_process: c.with_process,
                    share: share(c.packets),
                })
                .collect(),
        };
        let totals = Totals {
            packets: all,
            bytes: t.sent.bytes + t.received.bytes + t.unknown.bytes,
            sent: t.sent,
            received: t.received,
            unknown: t.unknown,
            non_ip_packets: self.non_ip,
            flows: t.flows.len() as u64,
            remote_endpoints: t.remotes.len() as u64,
            first_ts_ns: t.first_ts,
            last_ts_ns: t.last_ts,
            drops: t.drops.clone(),
        };
        let base = |name: String, g: Group| Rollup {
            name,
            id: None,
            namespace: None,
            pid: None,
            comm: None,
            exe: None,
            packets: g.sent.packets + g.received.packets + g.unknown.packets,
            bytes: g.sent.bytes + g.received.bytes + g.unknown.bytes,
            sent: g.sent,
            received: g.received,
            unknown: g.unknown,
            flows: g.flows.len() as u64,
            remote_endpoints: g.remotes.len() as u64,
            first_ts_ns: g.first_ts,
            last_ts_ns: g.last_ts,
            drops: g.drops,
        };
        let containers = sorted(
            self.containers
                .into_iter()
                .map(|(id, (name, g))| {
                    let shown = if name.is_empty() {
                        id.get(..12).unwrap_or(&id).to_string()
                    } else {
                        name
                    };
                    Rollup {
                        id: Some(id),
                        ..base(shown, g)
                    }
                })
                .collect(),
        );
        let pods = sorted(
            self.pods
                .into_iter()
                .flat_map(|(name, list)| {
                    list.into_iter().map(move |(ns, g)| Rollup {
                        namespace: Some(ns.clone()),
                        ..base(format!("{}.{}", name, ns), g)
                    })
                })
                .collect(),
        );
        let processes = sorted(
            self.processes
                .into_iter()
                .flat_map(|(pid, list)| {
                    list.into_iter().map(move |(comm, exe, g)| {
                        let short = if comm.is_empty() {
                            exe.rsplit('/').next().unwrap_or("").to_string()
                        } else {
                            comm.clone()
                        };
                        Rollup {
                            pid: Some(pid),
                            comm: Some(comm),
                            exe: Some(exe),
                            ..base(format!("{short}.{pid}"), g)
                        }
                    })
                })
                .collect(),
        );
        let mut ifs: Vec<Rollup> = self
            .interfaces
            .into_iter()
            .map(|(n, g)| base(n, g))
            .collect();
        if let Some(g) = self.unnamed_interface {
            ifs.push(base(String::new(), g));
        }
        let mut protocols: Vec<ProtocolShare> = self
            .protocols
            .iter()
            .enumerate()
            .filter(|(_, t)| t.packets > 0)
            .map(|(p, t)| ProtocolShare {
                protocol: crate::flows::proto_name(p as u8),
                ip_proto: p as u8,
                packets: t.packets,
                bytes: t.bytes,
            })
            .collect();
        protocols.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.ip_proto.cmp(&b.ip_proto)));
        Report {
            totals,
            coverage,
            protocols,
            containers,
            pods,
            processes,
            interfaces: sorted(ifs),
            destinations: Vec::new(),
            names_of_one_container: Vec::new(),
        }
    }
}

/// Bytes descending, then name and ids, so the order never depends on hashing.
fn sorted(mut v: Vec<Rollup>) -> Vec<Rollup> {
    v.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.pid.cmp(&b.pid))
            .then_with(|| a.exe.cmp(&b.exe))
    });
    v
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub packets: u64,
    pub bytes: u64,
    pub sent: Traffic,
    pub received: Traffic,
    /// Packets with no direction.
    pub unknown: Traffic,
    /// Packets without an IP header we could read (ARP, cut short, other link types).
    pub non_ip_packets: u64,
    pub flows: u64,
    pub remote_endpoints: u64,
    pub first_ts_ns: Option<u64>,
    pub last_ts_ns: Option<u64>,
    /// Packets the kernel dropped: counted here and in flows, remote endpoints and times, not
    /// in packets or bytes.
    pub drops: Drops,
}

/// One container, pod, process or interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollup {
    /// Container: its name (else the id's first 12 characters); pod: `name.namespace`;
    /// process: `comm.pid`; interface: its name (empty when the file names none).
    pub name: String,
    /// Container id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Pod namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    pub packets: u64,
    pub bytes: u64,
    pub sent: Traffic,
    pub received: Traffic,
    pub unknown: Traffic,
    pub flows: u64,
    pub remote_endpoints: u64,
    pub first_ts_ns: Option<u64>,
    pub last_ts_ns: Option<u64>,
    /// Packets the kernel dropped: counted here and in flows, remote endpoints and times, not
    /// in packets or bytes.
    pub drops: Drops,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvenanceShare {
    pub provenance: Provenance,
    pub packets: u64,
    pub with_process: u64,
    /// Of all packets.
    pub share: f64,
}

/// How much of the traffic has a process, and how that was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub packets: u64,
    pub with_process: u64,
    pub share_with_process: f64,
    /// Provenances that occur, in [`Provenance::ALL`] order.
    pub by_provenance: Vec<ProvenanceShare>,
}

/// Everything [`Rollups::finish`] computes; JSON via serde.
/// Packets of one IP protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolShare {
    /// `tcp`, `udp`, `icmp`, `icmp6`, or the number (as flows name protocols).
    pub protocol: String,
    pub ip_proto: u8,
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub totals: Totals,
    pub coverage: Coverage,
    /// Per IP protocol, by bytes descending (packets without an IP header: `non_ip_packets`).
    pub protocols: Vec<ProtocolShare>,
    pub containers: Vec<Rollup>,
    pub pods: Vec<Rollup>,
    pub processes: Vec<Rollup>,
    pub interfaces: Vec<Rollup>,
    /// Per container, pod and process: the remote ends it contacted (it initiated the flow),
    /// by name where one is known, top [`TOP_DESTINATIONS`] by bytes (filled by
    /// [`Report::add_destinations`]).
    pub destinations: Vec<OwnerDestinations>,
    /// Names that only one container contacted (a first cut at "unexpected").
    pub names_of_one_container: Vec<NameOfOne>,
}

/// How many destinations each owner lists.
pub const TOP_DESTINATIONS: usize = 10;

/// Where one owner's flows went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerDestinations {
    /// `container`, `pod` or `process`.
    pub kind: &'static str,
    /// As the rollups name it (container name, `pod.namespace`, `comm.pid`).
    pub owner: String,
    pub destinations: Vec<Destination>,
    /// Destinations beyond the top ones.
    pub more: u64,
}

/// One remote end an owner contacted: its name, else its address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    pub name: String,
    /// `name` is a name (not an address).
    pub named: bool,
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
    /// Packets of these flows the kernel dropped.
    pub drops: u64,
}

/// A name contacted by one container only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameOfOne {
    pub name: String,
    pub container: String,
    pub flows: u64,
    pub bytes: u64,
}

impl Report {
    /// Ranks every owner's destinations from the flows (whose names are filled): each flow
    /// counts for its initiator's container, pod and process, under the responder's first
    /// name (else its address).
    pub fn add_destinations(&mut self, flows: &[crate::flows::FlowRecord]) {
        type Key = (&'static str, String);
        let mut per: BTreeMap<Key, BTreeMap<(bool, String), Destination>> = BTreeMap::new();
        let mut by_name: BTreeMap<String, BTreeMap<String, (u64, u64)>> = BTreeMap::new();
        for f in flows {
            let Some(o) = &f.orig.owner else { continue };
            let (name, named) = match f.responder.names.first() {
                Some(n) => (n.name.clone(), true),
                None => (f.responder.addr.to_string(), false),
            };
            let packets = f.orig.packets + f.resp.packets;
            let bytes = f.orig.bytes + f.resp.bytes;
            let drops = f.orig.dropped_packets + f.resp.dropped_packets;
            let mut owners: Vec<Key> = Vec::new();
            let container = o.container.as_ref().map(|c| {
                if c.name.is_empty() {
                    c.id.get(..12).unwrap_or(&c.id).to_string()
                } else {
                    c.name.clone()
                }
            });
            if let Some(c) = &container {
                owners.push(("container", c.clone()));
                if named {
                    let e = by_name
                        .entry(name.clone())
                        .or_default()
                        .entry(c.clone())
                        .or_default();
                    e.0 += 1;
                    e.1 += bytes;
                }
            }
            if let Some(p) = &o.pod {
                owners.push(("pod", format!("{}.{}", p.name, p.namespace)));
            }
            if let Some(p) = &o.process {
                let short = if p.comm.is_empty() {
                    p.exe.rsplit('/').next().unwrap_or("")
                } else {
                    &p.comm
                };
                owners.push(("process", format!("{short}.{}", p.pid)));
            }
            for k in owners {
                let d = per
                    .entry(k)
                    .or_default()
                    .entry((named, name.clone()))
                    .or_insert_with(|| Destination {
                        name: name.clone(),
                        named,
                        packets: 0,
                        bytes: 0,
                        flows: 0,
                        drops: 0,
                    });
                d.packets += packets;
                d.bytes += bytes;
                d.flows += 1;
                d.drops += drops;
            }
        }
        let rank = |k: &str| match k {
            "container" => 0,
            "pod" => 1,
            _ => 2,
        };
        let mut out: Vec<OwnerDestinations> = per
            .into_iter()
            .map(|((kind, owner), m)| {
                let mut d: Vec<Destination> = m.into_values().collect();
                d.sort_by(|a, b| {
                    b.bytes
                        .cmp(&a.bytes)
                        .then(b.flows.cmp(&a.flows))
                        .then_with(|| a.name.cmp(&b.name))
                });
                let more = d.len().saturating_sub(TOP_DESTINATIONS) as u64;
                d.truncate(TOP_DESTINATIONS);
                OwnerDestinations {
                    kind,
                    owner,
                    destinations: d,
                    more,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            rank(a.kind)
                .cmp(&rank(b.kind))
                .then_with(|| a.owner.cmp(&b.owner))
        });
        self.destinations = out;
        self.names_of_one_container = by_name
            .into_iter()
            .filter(|(_, m)| m.len() == 1)
            .flat_map(|(name, m)| {
                m.into_iter()
                    .map(move |(container, (flows, bytes))| NameOfOne {
                        name: name.clone(),
                        container,
                        flows,
                        bytes,
                    })
            })
            .collect();
    }
}

/// A time as `tcpdump -tttt` prints it (local time; `TZ=UTC` for UTC).
fn ts(t: Option<u64>) -> String {
    t.map(|t| formats::render::local_date_time(t, false))
        .unwrap_or_else(|| "-".into())
}

/// A duration with its unit: `850 us`, `12.345 ms`, `3.064 s`, `2 min 03.5 s`, `1 h 02 min`.
pub fn human_duration(ns: u64) -> String {
    let s = ns as f64 / 1e9;
    if ns < 1_000_000 {
        format!("{} us", ns / 1000)
    } else if ns < 1_000_000_000 {
        format!("{:.3} ms", ns as f64 / 1e6)
    } else if s < 60.0 {
        format!("{s:.3} s")
    } else if s < 3600.0 {
        format!("{} min {:04.1} s", (s / 60.0) as u64, s % 60.0)
    } else {
        let m = (s / 60.0) as u64;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

fn span(first: Option<u64>, last: Option<u64>) -> String {
    match (first, last) {
        (Some(a), Some(b)) => human_duration(b.saturating_sub(a)),
        _ => "-".into(),
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn rollup_table(out: &mut impl Write, title: &str, first: &str, rows: &[Rollup]) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{title}")?;
    let mut t = vec![[
        first,
        "PKTS-OUT",
        "BYTES-OUT",
        "PKTS-IN",
        "BYTES-IN",
        "PKTS-?",
        "BYTES-?",
        "FLOWS",
        "REMOTES",
        "FIRST",
        "LAST",
        "SPAN",
    ]
    .map(String::from)
    .to_vec()];
    // Only a table with drops has their column (a file without drops prints as before).
    let any_drops = rows.iter().any(|r| r.drops.packets > 0);
    if any_drops {
        t[0].push("DROPPED".into());
    }
    for r in rows {
        let name = if r.name.is_empty() { "-" } else { &r.name };
        t.push(vec![
            clean(name),
            r.sent.packets.to_string(),
            r.sent.bytes.to_string(),
            r.received.packets.to_string(),
            r.received.bytes.to_string(),
            r.unknown.packets.to_string(),
            r.unknown.bytes.to_string(),
            r.flows.to_string(),
            r.remote_endpoints.to_string(),
            ts(r.first_ts_ns),
            ts(r.last_ts_ns),
            span(r.first_ts_ns, r.last_ts_ns),
        ]);
        if any_drops {
            let d = if r.drops.packets > 0 {
                r.drops.short()
            } else {
                "-".into()
            };
            t.last_mut().expect("just pushed").push(d);
        }
    }
    write_table(
        out,
        &t,
        &[
            false, true, true, true, true, true, true, true, true, false, false, true,
        ],
    )
}

/// Readable tables: totals, attribution coverage, then containers, pods, processes and
/// interfaces (each sorted by bytes, descending; `?` columns: packets with no direction).
/// With drops in the input, a line `Dropped by the kernel: N (REASON n, ...)` after the
/// totals, and a last column `DROPPED` in each table that has some (`-` in its other rows).
pub fn write_report_text(r: &Report, out: &mut impl Write) -> io::Result<()> {
    let t = &r.totals;
    writeln!(
        out,
        "Totals: {} packets, {} bytes (out {}/{}, in {}/{}, unknown direction {}/{}), \
         {} flows, {} remote addresses, {} non-IP packets\nTime: first {}, last {}, span {}",
        t.packets,
        t.bytes,
        t.sent.packets,
        t.sent.bytes,
        t.received.packets,
        t.received.bytes,
        t.unknown.packets,
        t.unknown.bytes,
        t.flows,
        t.remote_endpoints,
        t.non_ip_packets,
        ts(t.first_ts_ns),
        ts(t.last_ts_ns),
        span(t.first_ts_ns, t.last_ts_ns),
    )?;
    if t.drops.packets > 0 {
        writeln!(
            out,
            "Dropped by the kernel: {}, apart from the packets above",
            t.drops.short()
        )?;
    }
    let c = &r.coverage;
    writeln!(
        out,
        "\nAttribution: {} of {} packets have a process ({})",
        c.with_process,
        c.packets,
        pct(c.share_with_process)
    )?;
    let mut rows = vec![["PROVENANCE", "PACKETS", "SHARE", "WITH-PROCESS"]
        .map(String::from)
        .to_vec()];
    for p in &c.by_provenance {
        rows.push(vec![
            p.provenance.as_str().to_string(),
            p.packets.to_string(),
            pct(p.share),
            p.with_process.to_string(),
        ]);
    }
    write_table(out, &rows, &[false, true, true, true])?;
    if !r.protocols.is_empty() {
        writeln!(out, "\nProtocols")?;
        let all: u64 = r.protocols.iter().map(|p| p.packets).sum();
        let mut rows = vec![["PROTOCOL", "PACKETS", "BYTES", "SHARE"]
            .map(String::from)
            .to_vec()];
        for p in &r.protocols {
            rows.push(vec![
                p.protocol.clone(),
                p.packets.to_string(),
                p.bytes.to_string(),
                pct(p.packets as f64 / all.max(1) as f64),
            ]);
        }
        write_table(out, &rows, &[false, true, true, true])?;
    }
    rollup_table(out, "Containers", "CONTAINER", &r.containers)?;
    rollup_table(out, "Pods", "POD", &r.pods)?;
    rollup_table(out, "Processes", "PROCESS", &r.processes)?;
    rollup_table(out, "Interfaces", "INTERFACE", &r.interfaces)?;
    if !r.destinations.is_empty() {
        writeln!(
            out,
            "\nDestinations (top {TOP_DESTINATIONS} by bytes per owner)"
        )?;
        let mut rows = vec![
            ["OWNER", "DESTINATION", "FLOWS", "PACKETS", "BYTES", "DROPS"]
                .map(String::from)
                .to_vec(),
        ];
        for o in &r.destinations {
            let who = format!("{} {}", o.kind, clean(&o.owner));
            for d in &o.destinations {
                rows.push(vec![
                    who.clone(),
                    clean(&d.name),
                    d.flows.to_string(),
                    d.packets.to_string(),
                    d.bytes.to_string(),
                    d.drops.to_string(),
                ]);
            }
            if o.more > 0 {
                rows.push(vec![
                    who.clone(),
                    format!("({} more)", o.more),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
        }
        write_table(out, &rows, &[false, false, true, true, true, true])?;
    }
    if !r.names_of_one_container.is_empty() {
        writeln!(out, "\nNames contacted by one container only")?;
        let mut rows = vec![["NAME", "CONTAINER", "FLOWS", "BYTES"]
            .map(String::from)
            .to_vec()];
        for n in &r.names_of_one_container {
            rows.push(vec![
                clean(&n.name),
                clean(&n.container),
                n.flows.to_string(),
                n.bytes.to_string(),
            ]);
        }
        write_table(out, &rows, &[false, false, true, true])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use formats::meta::{ContainerInfo, DropInfo, PodInfo, ProcessInfo, Role};

    use super::*;

    /// IPv4 UDP 198.18.0.`src`:`sp` -> 198.18.0.`dst`:`dp` on a RAW link (29 bytes).
    fn udp(src: u8, dst: u8, sp: u16, dp: u16) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 29, 0, 0, 0x40, 0, 64, 17, 0, 0];
        p.extend([198, 18, 0, src, 198, 18, 0, dst]);
        p.extend(sp.to_be_bytes());
        p.extend(dp.to_be_bytes());
        p.extend([0, 9, 0, 0, b'x']);
        p
    }

    fn owner(pid: u32, comm: &str) -> PacketMeta {
        PacketMeta {
            process: Some(Arc::new(ProcessInfo {
                pid,
                comm: comm.into(),
                exe: format!("/usr/bin/{comm}"),
                ..Default::default()
            })),
            container: Some(Arc::new(ContainerInfo {
                id: format!("{pid:064}"),
                name: format!("{comm}-c"),
                ..Default::default()
            })),
            pod: Some(Arc::new(PodInfo {
                name: format!("{comm}-pod"),
                namespace: "default".into(),
                ..Default::default()
            })),
            provenance: Provenance::SocketCookie,
            role: Role::Sender,
            ..Default::default()
        }
    }

    fn dropped(m: &PacketMeta, reason: &str) -> PacketMeta {
        PacketMeta {
            drop: Some(Arc::new(DropInfo {
                reason: reason.into(),
                location: "nft_do_chain+0x46f".into(),
            })),
            ..m.clone()
        }
    }

    struct P {
        ts: u64,
        iface: &'static str,
        dir: Direction,
        meta: PacketMeta,
        data: Vec<u8>,
    }

    /// curl (pid 10) sends 2 packets to .2:80, 3 of its packets to .3:81 are dropped
    /// (NETFILTER_DROP) and 1 to .2:9 (NO_SOCKET); nginx (pid 20) receives 1 packet and has
    /// no drop; one packet without owner.
    fn packets() -> Vec<P> {
        let curl = owner(10, "curl");
        let nginx = PacketMeta {
            role: Role::Receiver,
            ..owner(20, "nginx")
        };
        let p = |ts, iface, dir, meta: &PacketMeta, data| P {
            ts,
            iface,
            dir,
            meta: meta.clone(),
            data,
        };
        let (out, inn) = (Direction::Out, Direction::In);
        vec![
            p(1_000, "eth0", out, &curl, udp(1, 2, 4000, 80)),
            p(
                2_000,
                "br0",
                inn,
                &dropped(&curl, "NETFILTER_DROP"),
                udp(1, 3, 4001, 81),
            ),
            p(3_000, "eth0", out, &curl, udp(1, 2, 4000, 80)),
            p(
                4_000,
                "br0",
                inn,
                &dropped(&curl, "NETFILTER_DROP"),
                udp(1, 3, 4001, 81),
            ),
            p(5_000, "eth0", inn, &nginx, udp(5, 6, 999, 80)),
            p(
                6_000,
                "lo",
                inn,
                &dropped(&curl, "NO_SOCKET"),
                udp(1, 2, 4002, 9),
            ),
            p(7_000, "eth0", out, &PacketMeta::default(), udp(7, 8, 1, 2)),
            p(
                9_000,
                "br0",
                inn,
                &dropped(&curl, "NETFILTER_DROP"),
                udp(1, 3, 4001, 81),
            ),
        ]
    }

    fn observe(r: &mut Rollups, p: &P) {
        r.observe(&Observed {
            ts_ns: p.ts,
            orig_len: p.data.len() as u32,
            link_type: 101,
            data: &p.data,
            interface: Some(p.iface),
            direction: Some(p.dir),
            meta: &p.meta,
        });
    }

    fn report(pkts: &[P]) -> Report {
        let mut r = Rollups::new();
        for p in pkts {
            observe(&mut r, p);
        }
        r.finish()
    }

    fn drops(list: &[(&str, u64)]) -> Drops {
        Drops {
            packets: list.iter().map(|(_, n)| n).sum(),
            by_reason: list.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
        }
    }

    fn text(r: &Report) -> String {
        let mut out = Vec::new();
        write_report_text(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn drops_are_counted_by_reason_apart_from_the_traffic() {
        let r = report(&packets());
        let curl_drops = drops(&[("NETFILTER_DROP", 3), ("NO_SOCKET", 1)]);
        let t = &r.totals;
        // Four packets of traffic (29 bytes each), four drop records.
        assert_eq!((t.packets, t.bytes), (4, 116));
        assert_eq!((t.sent.packets, t.received.packets), (3, 1));
        assert_eq!(t.drops, curl_drops);
        assert_eq!(t.non_ip_packets, 0);
        // The drops' flows and remote addresses count (as --flows lists a flow of only drops),
        // and their times. (Totals take the remote by the interface direction: a drop `In` on
        // br0 names its source, 198.18.0.1.)
        assert_eq!((t.flows, t.remote_endpoints), (5, 4));
        assert_eq!((t.first_ts_ns, t.last_ts_ns), (Some(1_000), Some(9_000)));
        // Protocols and attribution coverage are of the traffic.
        assert_eq!(r.protocols.len(), 1);
        assert_eq!((r.protocols[0].packets, r.protocols[0].bytes), (4, 116));
        assert_eq!((r.coverage.packets, r.coverage.with_process), (4, 3));
        let sc = &r.coverage.by_provenance;
        assert_eq!(sc.len(), 2);
        assert_eq!(
            (sc[1].provenance, sc[1].packets),
            (Provenance::SocketCookie, 3)
        );

        let by_name = |rows: &[Rollup]| -> Vec<(String, u64, u64, Drops)> {
            rows.iter()
                .map(|r| (r.name.clone(), r.packets, r.flows, r.drops.clone()))
                .collect()
        };
        let curl = ("curl.10".to_string(), 2, 3, curl_drops.clone());
        let nginx = ("nginx.20".to_string(), 1, 1, Drops::default());
        assert_eq!(by_name(&r.processes), [curl, nginx]);
        assert_eq!(r.processes[0].remote_endpoints, 2);
        assert_eq!(r.processes[0].last_ts_ns, Some(9_000));
        let c = by_name(&r.containers);
        assert_eq!(c[0], ("curl-c".to_string(), 2, 3, curl_drops.clone()));
        assert_eq!(c[1].3, Drops::default());
        let p = by_name(&r.pods);
        assert_eq!(p[0], ("curl-pod.default".to_string(), 2, 3, curl_drops));
        assert_eq!(p[1].3, Drops::default());
        // Interfaces: the drop's own.
        let i = by_name(&r.interfaces);
        assert_eq!(
            i,
            [
                ("eth0".to_string(), 4, 3, Drops::default()),
                ("br0".to_string(), 0, 1, drops(&[("NETFILTER_DROP", 3)])),
                ("lo".to_string(), 0, 1, drops(&[("NO_SOCKET", 1)])),
            ]
        );
    }

    #[test]
    fn text_shows_drops_only_where_there_are_some() {
        let r = report(&packets());
        let s = text(&r);
        let line = |first: &str| -> &str {
            s.lines()
                .find(|l| l.starts_with(first))
                .unwrap_or_else(|| panic!("{first} in {s}"))
        };
        assert_eq!(
            line("Dropped by the kernel"),
            "Dropped by the kernel: 4 (NETFILTER_DROP 3, NO_SOCKET 1), apart from the packets above"
        );
        for header in ["CONTAINER", "POD", "PROCESS", "INTERFACE"] {
            assert!(line(header).ends_with("  DROPPED"), "{s}");
        }
        assert!(
            line("curl.10 ").ends_with("  4 (NETFILTER_DROP 3, NO_SOCKET 1)"),
            "{s}"
        );
        assert!(
            line("curl-c ").ends_with("  4 (NETFILTER_DROP 3, NO_SOCKET 1)"),
            "{s}"
        );
        assert!(line("curl-pod.default ").ends_with("  4 (NETFILTER_DROP 3, NO_SOCKET 1)"));
        assert!(line("nginx.20 ").ends_with("  -"), "{s}");
        assert!(line("br0 ").ends_with("  3 (NETFILTER_DROP 3)"), "{s}");
        assert!(line("eth0 ").ends_with("  -"), "{s}");

        // Without the drop records: no line, no column, and the same figures of the traffic
        // as with them.
        let traffic: Vec<P> = packets()
            .into_iter()
            .filter(|p| p.meta.drop.is_none())
            .collect();
        let plain = report(&traffic);
        let s = text(&plain);
        assert!(!s.contains("Dropped") && !s.contains("DROPPED"), "{s}");
        assert_eq!(plain.totals.drops, Drops::default());
        assert_eq!(
            (
                plain.totals.packets,
                plain.totals.bytes,
                plain.coverage.clone()
            ),
            (r.totals.packets, r.totals.bytes, r.coverage.clone())
        );
        assert_eq!(plain.protocols, r.protocols);
        // JSON: every group has its (zero) drops.
        let j = serde_json::to_value(&plain).unwrap();
        let zero = serde_json::json!({"packets": 0, "by_reason": {}});
        assert_eq!(j["totals"]["drops"], zero);
        for list in ["containers", "pods", "processes", "interfaces"] {
            for g in j[list].as_array().unwrap() {
                assert_eq!(g["drops"], zero, "{list}");
            }
        }
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(
            j["processes"][0]["drops"],
            serde_json::json!({"packets": 4, "by_reason": {"NETFILTER_DROP": 3, "NO_SOCKET": 1}})
        );
    }

    #[test]
    fn drop_reasons_sort_by_packets_then_name_and_are_cleaned() {
        let d = drops(&[("B", 2), ("A", 2), ("C", 5), ("x\ny", 1)]);
        assert_eq!(d.short(), "10 (C 5, A 2, B 2, x\\x0ay 1)");
    }

    #[test]
    fn merged_chunks_count_the_same_drops() {
        let pkts = packets();
        let seq = report(&pkts);
        for cut in 0..=pkts.len() {
            for cut2 in cut..=pkts.len() {
                let mut parts: Vec<Rollups> = [&pkts[..cut], &pkts[cut..cut2], &pkts[cut2..]]
                    .iter()
                    .map(|chunk| {
                        let mut r = Rollups::new();
                        for p in *chunk {
                            observe(&mut r, p);
                        }
                        r
                    })
                    .collect();
                // Later chunks first, then the earliest: the order does not matter.
                let c = parts.pop().unwrap();
                let mut b = parts.pop().unwrap();
                let mut a = parts.pop().unwrap();
                b.merge(c);
                a.merge(b);
                assert_eq!(a.finish(), seq, "cuts {cut} {cut2}");
            }
        }
    }
}

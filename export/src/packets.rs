//! The packets table: one row per packet (docs/parquet.md, `packets` version 1).

use arrow::record_batch::RecordBatch;

use analyze::table::PacketRow;
use formats::meta::{ContainerInfo, PodInfo, ProcessInfo};
use formats::pcapng::Direction;
use formats::wire::flow::Transport;

use crate::columns::{Column, Kind, Rows, TextKey};

/// The table's name and version, in the files' metadata (`ptcap.schema`).
pub const SCHEMA_VERSION: &str = "packets/1";

use Kind::*;

/// Every column, in order: docs/parquet.md lists the same.
pub const COLUMNS: &[Column] = &[
    ("ts", Ts, false),
    ("file", Text, false),
    ("offset", I64, false),
    ("interface", Text, true),
    ("link_type", I32, false),
    ("direction", Text, true),
    ("len", I32, false),
    ("caplen", I32, false),
    ("src", Text, true),
    ("dst", Text, true),
    ("src_port", I32, true),
    ("dst_port", I32, true),
    ("protocol", Text, true),
    ("ip_proto", I32, true),
    ("ip_len", I32, true),
    ("payload_len", I32, true),
    ("tcp_flags", Text, true),
    ("icmp_type", I32, true),
    ("icmp_code", I32, true),
    ("community_id", Text, true),
    ("provenance", Text, false),
    ("pid", I32, true),
    ("tid", I32, true),
    ("comm", Text, true),
    ("exe", Text, true),
    ("argv", List, true),
    ("uid", I64, true),
    ("gid", I64, true),
    ("thread_name", Text, true),
    ("parent_pid", I32, true),
    ("parent_comm", Text, true),
    ("parent_exe", Text, true),
    ("container_id", Text, true),
    ("container_name", Text, true),
    ("container_image", Text, true),
    ("container_runtime", Text, true),
    ("container_namespace", Text, true),
    ("container_labels", Map, true),
    ("pod_name", Text, true),
    ("pod_namespace", Text, true),
    ("pod_uid", Text, true),
    ("pod_labels", Map, true),
    ("pod_annotations", Map, true),
    ("peer_pid", I32, true),
    ("peer_comm", Text, true),
    ("peer_container_id", Text, true),
    ("peer_container_name", Text, true),
    ("peer_pod_name", Text, true),
    ("peer_pod_namespace", Text, true),
    ("drop_reason", Text, true),
    ("drop_location", Text, true),
    ("nat_direction", Text, true),
    ("nat_original_src", Text, true),
    ("nat_original_sport", I32, true),
    ("nat_original_dst", Text, true),
    ("nat_original_dport", I32, true),
    ("nat_reply_src", Text, true),
    ("nat_reply_sport", I32, true),
    ("nat_reply_dst", Text, true),
    ("nat_reply_dport", I32, true),
    ("nat_snat", Bool, true),
    ("nat_dnat", Bool, true),
];

/// A string field of an optional entity: null when the entity is absent, else as the file
/// gives it (possibly empty, as in the JSON).
fn field<'a, T>(e: Option<&'a T>, f: impl Fn(&'a T) -> &'a str) -> Option<&'a str> {
    e.map(f)
}

fn parent<'a>(r: &mut Rows<'a>, p: Option<&'a ProcessInfo>) {
    r.i32(p.map(|p| p.pid.into()));
    r.text_str(field(p, |p| &p.comm));
    r.text_str(field(p, |p| &p.exe));
}

fn container<'a>(r: &mut Rows<'a>, c: Option<&'a ContainerInfo>) {
    r.text_str(field(c, |c| &c.id));
    r.text_str(field(c, |c| &c.name));
    r.text_str(field(c, |c| &c.image));
    r.text_str(field(c, |c| &c.runtime));
    r.text_str(field(c, |c| &c.namespace));
    r.map(c.map(|c| &c.labels));
}

fn pod<'a>(r: &mut Rows<'a>, p: Option<&'a PodInfo>) {
    r.text_str(field(p, |p| &p.name));
    r.text_str(field(p, |p| &p.namespace));
    r.text_str(field(p, |p| &p.uid));
    r.map(p.map(|p| &p.labels));
    r.map(p.map(|p| &p.annotations));
}

/// A protocol as `--flows` names it (`analyze::flows::proto_name`), without a `String`.
struct Proto(u8);

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            6 => f.write_str("tcp"),
            17 => f.write_str("udp"),
            1 => f.write_str("icmp"),
            58 => f.write_str("icmp6"),
            n => write!(f, "{n}"),
        }
    }
}

/// What a packet's Community ID depends on (`analyze::flows::community_id`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct CidKey {
    src: std::net::IpAddr,
    dst: std::net::IpAddr,
    protocol: u8,
    kind: u8,
    a: u16,
    b: u16,
}

impl CidKey {
    fn of(s: &formats::wire::flow::PacketSummary) -> CidKey {
        let (kind, a, b) = match s.transport {
            Transport::Tcp(t) => (1, t.src_port, t.dst_port),
            Transport::Udp {
                src_port, dst_port, ..
            } => (2, src_port, dst_port),
            Transport::Icmp { msg_type, code, .. } => (3, msg_type.into(), code.into()),
            Transport::None => (0, 0, 0),
        };
        CidKey {
            src: s.src,
            dst: s.dst,
            protocol: s.protocol,
            kind,
            a,
            b,
        }
    }
}

/// The column prefixes of a packet's optional entities, in column order (`Present`'s).
pub(crate) const GROUPS: [&str; 7] = [
    "thread_",
    "parent_",
    "container_",
    "pod_",
    "peer_",
    "drop_",
    "nat_",
];

/// The first column with `prefix` and how many columns have it (they are consecutive).
fn span(prefix: &'static str) -> (&'static str, usize) {
    let mut cols = COLUMNS.iter().filter(|c| c.0.starts_with(prefix));
    let first = cols.next().map_or("", |c| c.0);
    (first, 1 + cols.count())
}

/// Which of a packet's optional entities some packet of a row group has.
#[derive(Default)]
struct Present {
    thread: bool,
    parent: bool,
    container: bool,
    pod: bool,
    peer: bool,
    drop: bool,
    nat: bool,
}

impl Present {
    fn of(packets: &[PacketRow<'_>]) -> Present {
        let mut h = Present::default();
        for p in packets {
            let m = p.meta;
            h.thread |= m.thread.is_some();
            h.parent |= m.parent.is_some();
            h.container |= m.container.is_some();
            h.pod |= m.pod.is_some();
            h.peer |= !m.peer.is_empty();
            h.drop |= m.drop.is_some();
            h.nat |= m.nat.is_some();
        }
        h
    }
}

/// A packet's Community ID, computed when written (once per tuple of a row group).
struct Cid<'s>(&'s formats::wire::flow::PacketSummary);

impl std::fmt::Display for Cid<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&analyze::flows::community_id(0, self.0))
    }
}

/// The rows of `packets`, as one batch.
pub fn batch(schema: arrow::datatypes::SchemaRef, packets: &[PacketRow<'_>]) -> RecordBatch {
    // tcpdump's letters for every flags byte, made once per row group, not once per row.
    let tcp_flags: Vec<String> = (0..=255).map(analyze::run::tcp_flags).collect();
    let mut r = Rows::new(schema, COLUMNS, packets.len());
    // The entities no packet of the group has are null columns, made without a look per row
    // (most captures have no NAT, drops, peers or pods in most groups).
    let has = Present::of(packets);
    let [thread, parent_, container_, pod_, peer_, drop_, nat_] = GROUPS.map(span);
    for (present, (first, len)) in [
        has.thread,
        has.parent,
        has.container,
        has.pod,
        has.peer,
        has.drop,
        has.nat,
    ]
    .into_iter()
    .zip([thread, parent_, container_, pod_, peer_, drop_, nat_])
    {
        if !present {
            r.absent(first, len);
        }
    }
    // A Community ID is a SHA-1 of the tuple: the tuples of the group by number, each ID
    // computed the first time its tuple is written (the packets of a flow repeat it).
    let mut cids: formats::table::IdMap<CidKey, u64> = Default::default();
    let tuple_id = |s: &formats::wire::flow::PacketSummary,
                    cids: &mut formats::table::IdMap<CidKey, u64>| {
        let next = cids.len() as u64;
        *cids.entry(CidKey::of(s)).or_insert(next)
    };
    for p in packets {
        let m = p.meta;
        let ip = p.summary;
        r.ts(p.ts_ns);
        r.text_str(Some(p.file));
        r.i64(Some(p.offset));
        r.text_str(p.interface);
        r.i32(Some(p.link_type.into()));
        let dir = p.direction.or(ip.as_ref().and_then(|s| s.link_direction));
        r.text_str(dir.map(|d| match d {
            Direction::In => "in",
            Direction::Out => "out",
        }));
        r.i32(Some(p.orig_len.into()));
        r.i32(Some(p.data.len() as i64));
        let s = ip.as_ref();
        r.ip(s.map(|s| s.src));
        r.ip(s.map(|s| s.dst));
        let ports = s.and_then(|s| s.ports());
        r.i32(ports.map(|p| p.0.into()));
        r.i32(ports.map(|p| p.1.into()));
        r.text(s.map(|s| (TextKey::Num(s.protocol.into()), Proto(s.protocol))));
        r.i32(s.map(|s| s.protocol.into()));
        r.i32(s.map(|s| s.ip_len.into()));
        let (payload, flags, icmp) = match s.map(|s| s.transport) {
            Some(Transport::Tcp(t)) => (Some(t.payload_len), Some(t.flags), None),
            Some(Transport::Udp { payload_len, .. }) => (Some(payload_len), None, None),
            Some(Transport::Icmp { msg_type, code, .. }) => (None, None, Some((msg_type, code))),
            _ => (None, None, None),
        };
        r.i32(payload.map(Into::into));
        r.text_str(flags.map(|f| tcp_flags[usize::from(f)].as_str()));
        r.i32(icmp.map(|i| i.0.into()));
        r.i32(icmp.map(|i| i.1.into()));
        r.text(s.map(|s| (TextKey::Num(tuple_id(s, &mut cids)), Cid(s))));
        r.text_str(Some(m.provenance.as_str()));
        let proc_ = m.process.as_deref();
        r.i32(proc_.map(|p| p.pid.into()));
        r.i32(m.tid().map(Into::into));
        r.text_str(field(proc_, |p| &p.comm));
        r.text_str(field(proc_, |p| &p.exe));
        r.list(proc_.map(|p| &p.argv));
        r.i64(proc_.and_then(|p| p.uid).map(Into::into));
        r.i64(proc_.and_then(|p| p.gid).map(Into::into));
        r.group(has.thread, thread.1, |r| {
            r.text_str(field(m.thread.as_deref(), |t| &t.name))
        });
        r.group(has.parent, parent_.1, |r| parent(r, m.parent.as_deref()));
        r.group(has.container, container_.1, |r| {
            container(r, m.container.as_deref())
        });
        r.group(has.pod, pod_.1, |r| pod(r, m.pod.as_deref()));
        let peer = &m.peer;
        r.group(has.peer, peer_.1, |r| {
            r.i32(peer.process.as_deref().map(|p| p.pid.into()));
            r.text_str(field(peer.process.as_deref(), |p| &p.comm));
            r.text_str(field(peer.container.as_deref(), |c| &c.id));
            r.text_str(field(peer.container.as_deref(), |c| &c.name));
            r.text_str(field(peer.pod.as_deref(), |p| &p.name));
            r.text_str(field(peer.pod.as_deref(), |p| &p.namespace));
        });
        r.group(has.drop, drop_.1, |r| {
            r.text_str(field(m.drop.as_deref(), |d| &d.reason));
            r.text_str(field(m.drop.as_deref(), |d| &d.location));
        });
        let nat = m.nat.as_deref();
        r.group(has.nat, nat_.1, |r| {
            r.text_str(nat.map(|_| if m.nat_reply { "reply" } else { "original" }));
            for t in [nat.map(|n| n.original), nat.map(|n| n.reply)] {
                r.ip(t.map(|t| t.src));
                r.i32(t.map(|t| t.sport.into()));
                r.ip(t.map(|t| t.dst));
                r.i32(t.map(|t| t.dport.into()));
            }
            r.bool(nat.map(|n| n.snat));
            r.bool(nat.map(|n| n.dnat));
        });
        r.end_row();
    }
    r.finish()
}

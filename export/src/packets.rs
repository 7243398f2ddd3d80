//! The packets table: one row per packet (docs/parquet.md, `packets` version 1).

use arrow::record_batch::RecordBatch;

use analyze::table::PacketRow;
use formats::meta::{ContainerInfo, PodInfo, ProcessInfo};
use formats::pcapng::Direction;
use formats::wire::flow::{summarize, Transport};

use crate::columns::{Column, Kind, Rows};

/// The table's name and version, in the files' metadata (`ptcap.schema`).
pub const SCHEMA_VERSION: &str = "packets/1";

use Kind::*;

/// Every column, in order: docs/parquet.md lists the same.
pub const COLUMNS: &[Column] = &[
    ("ts", Ts, false),
    ("file", Str, false),
    ("offset", I64, false),
    ("interface", Str, true),
    ("link_type", I32, false),
    ("direction", Str, true),
    ("len", I32, false),
    ("caplen", I32, false),
    ("src", Str, true),
    ("dst", Str, true),
    ("src_port", I32, true),
    ("dst_port", I32, true),
    ("protocol", Str, true),
    ("ip_proto", I32, true),
    ("ip_len", I32, true),
    ("payload_len", I32, true),
    ("tcp_flags", Str, true),
    ("icmp_type", I32, true),
    ("icmp_code", I32, true),
    ("community_id", Str, true),
    ("provenance", Str, false),
    ("pid", I32, true),
    ("tid", I32, true),
    ("comm", Str, true),
    ("exe", Str, true),
    ("argv", List, true),
    ("uid", I64, true),
    ("gid", I64, true),
    ("thread_name", Str, true),
    ("parent_pid", I32, true),
    ("parent_comm", Str, true),
    ("parent_exe", Str, true),
    ("container_id", Str, true),
    ("container_name", Str, true),
    ("container_image", Str, true),
    ("container_runtime", Str, true),
    ("container_namespace", Str, true),
    ("container_labels", Map, true),
    ("pod_name", Str, true),
    ("pod_namespace", Str, true),
    ("pod_uid", Str, true),
    ("pod_labels", Map, true),
    ("pod_annotations", Map, true),
    ("peer_pid", I32, true),
    ("peer_comm", Str, true),
    ("peer_container_id", Str, true),
    ("peer_container_name", Str, true),
    ("peer_pod_name", Str, true),
    ("peer_pod_namespace", Str, true),
    ("drop_reason", Str, true),
    ("drop_location", Str, true),
    ("nat_direction", Str, true),
    ("nat_original_src", Str, true),
    ("nat_original_sport", I32, true),
    ("nat_original_dst", Str, true),
    ("nat_original_dport", I32, true),
    ("nat_reply_src", Str, true),
    ("nat_reply_sport", I32, true),
    ("nat_reply_dst", Str, true),
    ("nat_reply_dport", I32, true),
    ("nat_snat", Bool, true),
    ("nat_dnat", Bool, true),
];

/// A string field of an optional entity: null when the entity is absent, else as the file
/// gives it (possibly empty, as in the JSON).
fn field<T>(e: Option<&T>, f: impl Fn(&T) -> &str) -> Option<&str> {
    e.map(f)
}

fn parent(r: &mut Rows, p: Option<&ProcessInfo>) {
    r.i32(p.map(|p| p.pid.into()));
    r.str(field(p, |p| &p.comm));
    r.str(field(p, |p| &p.exe));
}

fn container(r: &mut Rows, c: Option<&ContainerInfo>) {
    r.str(field(c, |c| &c.id));
    r.str(field(c, |c| &c.name));
    r.str(field(c, |c| &c.image));
    r.str(field(c, |c| &c.runtime));
    r.str(field(c, |c| &c.namespace));
    r.map(c.map(|c| &c.labels));
}

fn pod(r: &mut Rows, p: Option<&PodInfo>) {
    r.str(field(p, |p| &p.name));
    r.str(field(p, |p| &p.namespace));
    r.str(field(p, |p| &p.uid));
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

/// The rows of `packets`, as one batch.
pub fn batch(schema: arrow::datatypes::SchemaRef, packets: &[PacketRow<'_>]) -> RecordBatch {
    let mut r = Rows::new(schema, COLUMNS, packets.len());
    // tcpdump's letters for every flags byte, made once per row group, not once per row.
    let tcp_flags: Vec<String> = (0..=255).map(analyze::run::tcp_flags).collect();
    // A Community ID is a SHA-1 of the tuple: computed once per tuple of the group (the
    // packets of a flow repeat it), not once per packet.
    let mut cids: std::collections::HashMap<CidKey, Box<str>> = Default::default();
    for p in packets {
        let m = p.meta;
        let ip = summarize(p.link_type, p.data);
        r.ts(p.ts_ns);
        r.str(Some(p.file));
        r.i64(Some(p.offset));
        r.str(p.interface);
        r.i32(Some(p.link_type.into()));
        let dir = p.direction.or(ip.as_ref().and_then(|s| s.link_direction));
        r.str(dir.map(|d| match d {
            Direction::In => "in",
            Direction::Out => "out",
        }));
        r.i32(Some(p.orig_len.into()));
        r.i32(Some(p.data.len() as i64));
        let s = ip.as_ref();
        r.display(s.map(|s| s.src));
        r.display(s.map(|s| s.dst));
        let ports = s.and_then(|s| s.ports());
        r.i32(ports.map(|p| p.0.into()));
        r.i32(ports.map(|p| p.1.into()));
        r.display(s.map(|s| Proto(s.protocol)));
        r.i32(s.map(|s| s.protocol.into()));
        r.i32(s.map(|s| s.ip_len.into()));
        let (payload, flags, icmp) = match s.map(|s| s.transport) {
            Some(Transport::Tcp(t)) => (Some(t.payload_len), Some(t.flags), None),
            Some(Transport::Udp { payload_len, .. }) => (Some(payload_len), None, None),
            Some(Transport::Icmp { msg_type, code, .. }) => (None, None, Some((msg_type, code))),
            _ => (None, None, None),
        };
        r.i32(payload.map(Into::into));
        r.str(flags.map(|f| tcp_flags[usize::from(f)].as_str()));
        r.i32(icmp.map(|i| i.0.into()));
        r.i32(icmp.map(|i| i.1.into()));
        r.str(s.map(|s| {
            &**cids
                .entry(CidKey::of(s))
                .or_insert_with(|| analyze::flows::community_id(0, s).into())
        }));
        r.str(Some(m.provenance.as_str()));
        let proc_ = m.process.as_deref();
        r.i32(proc_.map(|p| p.pid.into()));
        r.i32(m.tid().map(Into::into));
        r.str(field(proc_, |p| &p.comm));
        r.str(field(proc_, |p| &p.exe));
        r.list(proc_.map(|p| &p.argv));
        r.i64(proc_.and_then(|p| p.uid).map(Into::into));
        r.i64(proc_.and_then(|p| p.gid).map(Into::into));
        r.str(field(m.thread.as_deref(), |t| &t.name));
        parent(&mut r, m.parent.as_deref());
        container(&mut r, m.container.as_deref());
        pod(&mut r, m.pod.as_deref());
        let peer = &m.peer;
        r.i32(peer.process.as_deref().map(|p| p.pid.into()));
        r.str(field(peer.process.as_deref(), |p| &p.comm));
        r.str(field(peer.container.as_deref(), |c| &c.id));
        r.str(field(peer.container.as_deref(), |c| &c.name));
        r.str(field(peer.pod.as_deref(), |p| &p.name));
        r.str(field(peer.pod.as_deref(), |p| &p.namespace));
        r.str(field(m.drop.as_deref(), |d| &d.reason));
        r.str(field(m.drop.as_deref(), |d| &d.location));
        let nat = m.nat.as_deref();
        r.str(nat.map(|_| if m.nat_reply { "reply" } else { "original" }));
        for t in [nat.map(|n| n.original), nat.map(|n| n.reply)] {
            r.display(t.map(|t| t.src));
            r.i32(t.map(|t| t.sport.into()));
            r.display(t.map(|t| t.dst));
            r.i32(t.map(|t| t.dport.into()));
        }
        r.bool(nat.map(|n| n.snat));
        r.bool(nat.map(|n| n.dnat));
        r.end_row();
    }
    r.finish()
}

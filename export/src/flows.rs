//! The flows table: one row per flow, the fields of `--flows --json` flattened
//! (docs/parquet.md, `flows` version 2).

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use analyze::flows::{Endpoint, FlowRecord, SideRecord};

use crate::columns::{Column, Kind, Rows};

/// 2: an encapsulated flow's tuple columns are its inner conversation's, with the `tunnel_*`
/// columns (version 1 keyed such packets by their outer tuple).
pub const SCHEMA_VERSION: &str = "flows/2";

use Kind::*;

/// The columns of one side (`orig_`, `resp_`), after its prefix.
macro_rules! side {
    ($p:literal) => {
        [
            (concat!($p, "packets"), I64, false),
            (concat!($p, "bytes"), I64, false),
            (concat!($p, "ip_bytes"), I64, false),
            (concat!($p, "payload_bytes"), I64, false),
            (concat!($p, "first_ts_ns"), I64, true),
            (concat!($p, "last_ts_ns"), I64, true),
            (concat!($p, "duration_ns"), I64, false),
            (concat!($p, "retransmissions"), I64, false),
            (concat!($p, "attributed_packets"), I64, false),
            (concat!($p, "dropped_packets"), I64, false),
            (concat!($p, "top_drop_reason"), Str, true),
            (concat!($p, "pid"), I32, true),
            (concat!($p, "comm"), Str, true),
            (concat!($p, "exe"), Str, true),
            (concat!($p, "args"), List, true),
            (concat!($p, "container_id"), Str, true),
            (concat!($p, "container_name"), Str, true),
            (concat!($p, "pod_name"), Str, true),
            (concat!($p, "pod_namespace"), Str, true),
            (concat!($p, "provenance"), Str, true),
        ]
    };
}

const HEAD: &[Column] = &[
    ("first_ts", Ts, false),
    ("last_ts", Ts, false),
    ("community_id", Str, false),
    ("reuse", I64, false),
    ("proto", Str, false),
    ("ip_proto", I32, false),
    ("initiator_addr", Str, false),
    ("initiator_port", I32, true),
    ("responder_addr", Str, false),
    ("responder_port", I32, true),
    ("icmp_echo_id", I32, true),
    ("first_ts_ns", I64, false),
    ("last_ts_ns", I64, false),
    ("duration_ns", I64, false),
];
const ORIG: [Column; 20] = side!("orig_");
const RESP: [Column; 20] = side!("resp_");
const TAIL: &[Column] = &[
    ("interfaces", List, false),
    ("nat_initiator_addr", Str, true),
    ("nat_initiator_port", I32, true),
    ("nat_responder_addr", Str, true),
    ("nat_responder_port", I32, true),
    ("nat_snat", Bool, true),
    ("nat_dnat", Bool, true),
    ("tcp_conn_state", Str, true),
    ("tcp_history", Str, true),
    ("tcp_handshake_rtt_ns", I64, true),
    ("tcp_syn_to_synack_ns", I64, true),
    ("tcp_synack_to_ack_ns", I64, true),
    // Added at the end (flows/1 grows at the end only).
    ("initiator_names", Names, false),
    ("responder_names", Names, false),
    // flows/2.
    ("tunnel_kind", Str, true),
    ("tunnel_id", I64, true),
    ("tunnel_initiator_addr", Str, true),
    ("tunnel_responder_addr", Str, true),
];

/// Every column, in order: docs/parquet.md lists the same.
pub fn columns() -> Vec<Column> {
    [HEAD, &ORIG[..], &RESP[..], TAIL].concat()
}

fn endpoint(r: &mut Rows, e: Option<&Endpoint>) {
    r.str(e.map(|e| e.addr.to_string()).as_deref());
    r.i32(e.and_then(|e| e.port).map(Into::into));
}

fn side<'a>(r: &mut Rows<'a>, s: &'a SideRecord) {
    r.i64(Some(s.packets));
    r.i64(Some(s.bytes));
    r.i64(Some(s.ip_bytes));
    r.i64(Some(s.payload_bytes));
    r.i64(s.first_ts_ns);
    r.i64(s.last_ts_ns);
    r.i64(Some(s.duration_ns));
    r.i64(Some(s.retransmissions));
    r.i64(Some(s.attributed_packets));
    r.i64(Some(s.dropped_packets));
    r.str(s.top_drop_reason.as_deref());
    let o = s.owner.as_ref();
    let p = o.and_then(|o| o.process.as_ref());
    r.i32(p.map(|p| p.pid.into()));
    r.str(p.map(|p| p.comm.as_str()));
    r.str(p.map(|p| p.exe.as_str()));
    r.list(p.map(|p| &p.args));
    let c = o.and_then(|o| o.container.as_ref());
    r.str(c.map(|c| c.id.as_str()));
    r.str(c.map(|c| c.name.as_str()));
    let pod = o.and_then(|o| o.pod.as_ref());
    r.str(pod.map(|p| p.name.as_str()));
    r.str(pod.map(|p| p.namespace.as_str()));
    r.str(o.map(|o| o.provenance.as_str()));
}

/// The rows of `flows`, as one batch.
pub fn batch(schema: SchemaRef, flows: &[FlowRecord]) -> RecordBatch {
    let mut r = Rows::new(schema, &columns(), flows.len());
    for f in flows {
        r.ts(f.first_ts_ns);
        r.ts(f.last_ts_ns);
        r.str(Some(&f.community_id));
        r.i64(Some(f.reuse));
        r.str(Some(&f.proto));
        r.i32(Some(f.ip_proto.into()));
        endpoint(&mut r, Some(&f.initiator));
        endpoint(&mut r, Some(&f.responder));
        r.i32(f.icmp_echo_id.map(Into::into));
        r.i64(Some(f.first_ts_ns));
        r.i64(Some(f.last_ts_ns));
        r.i64(Some(f.duration_ns));
        side(&mut r, &f.orig);
        side(&mut r, &f.resp);
        r.list(Some(&f.interfaces));
        let nat = f.nat.as_ref();
        endpoint(&mut r, nat.map(|n| &n.initiator));
        endpoint(&mut r, nat.map(|n| &n.responder));
        r.bool(nat.map(|n| n.snat));
        r.bool(nat.map(|n| n.dnat));
        let tcp = f.tcp.as_ref();
        r.str(tcp.map(|t| t.conn_state));
        r.str(tcp.map(|t| t.history.as_str()));
        r.i64(tcp.and_then(|t| t.handshake_rtt_ns));
        r.i64(tcp.and_then(|t| t.syn_to_synack_ns));
        r.i64(tcp.and_then(|t| t.synack_to_ack_ns));
        for end in [&f.initiator, &f.responder] {
            r.names(
                end.names
                    .iter()
                    .map(|n| (n.name.as_str(), n.source.as_str())),
            );
        }
        let t = f.tunnel.as_ref();
        r.str(t.map(|t| t.kind));
        r.i64(t.and_then(|t| t.id).map(Into::into));
        r.str(t.map(|t| t.initiator.to_string()).as_deref());
        r.str(t.map(|t| t.responder.to_string()).as_deref());
        r.end_row();
    }
    r.finish()
}

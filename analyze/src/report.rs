//! `--report OUT.html`: one self-contained HTML file (style, script and data inline; no URL is
//! ever requested, so it works opened from disk, offline) built from the same pass as
//! `--stats`: a summary, traffic over time per owner, a map of who talked to whom, the top
//! flows as a sortable and filterable table, and drops by reason and owner.
//!
//! The data is aggregated and cut to top-N lists (each with a count of the rest), so the file
//! stays small whatever the capture's size. The page draws its charts as inline SVG with a
//! few hundred lines of its own script (no library): see docs/ARCHITECTURE.md.
//!
//! ```
//! use analyze::report::Timeline;
//! let t = Timeline::default();
//! assert!(t.series(10).1.is_empty());
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use formats::wire::flow::PacketSummary;
use serde::Serialize;

use crate::flows::{with_names, FlowRecord, KeyMap, Observed};
use crate::stats::Report;

/// Flows the table lists (by bytes), series the chart draws, edges the map draws.
pub const TOP_FLOWS: usize = 300;
pub const TOP_SERIES: usize = 8;
pub const TOP_EDGES: usize = 40;
/// Chart points.
pub const BUCKETS: u64 = 120;

const SECOND: u64 = 1_000_000_000;

/// One owner's bytes per bucket.
pub type Series = (String, Vec<u64>);

/// Fine buckets (10 ms) are kept while there are at most this many (owner, bucket) pairs.
const FINE_CAP: usize = 50_000;
const FINE: u64 = 10_000_000;

/// Bytes per owner and second, and per 10 ms for short captures (merged in any order: sums).
/// The fine counts are dropped once they exceed [`FINE_CAP`] pairs; a chunk's pairs are a
/// subset of the whole run's, so whether they survive depends only on the run, not on the
/// chunking.
#[derive(Debug, Clone)]
pub struct Timeline {
    bytes: KeyMap<(String, u64), u64>,
    fine: Option<KeyMap<(String, u64), u64>>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            bytes: KeyMap::default(),
            fine: Some(KeyMap::default()),
        }
    }
}

impl Timeline {
    /// Counts one packet (not a drop record) for its owner: the container, else the
    /// process, else `unattributed`.
    pub fn observe(&mut self, pkt: &Observed<'_>, _s: Option<&PacketSummary>) {
        if pkt.meta.drop.is_some() {
            return;
        }
        let label = owner_label(pkt.meta);
        let n = u64::from(pkt.orig_len);
        if let Some(fine) = &mut self.fine {
            *fine.entry((label.clone(), pkt.ts_ns / FINE)).or_insert(0) += n;
            if fine.len() > FINE_CAP {
                self.fine = None;
            }
        }
        *self.bytes.entry((label, pkt.ts_ns / SECOND)).or_insert(0) += n;
    }

    pub fn merge(&mut self, other: Timeline) {
        for (k, v) in other.bytes {
            *self.bytes.entry(k).or_insert(0) += v;
        }
        self.fine = match (self.fine.take(), other.fine) {
            (Some(mut a), Some(b)) => {
                for (k, v) in b {
                    *a.entry(k).or_insert(0) += v;
                }
                (a.len() <= FINE_CAP).then_some(a)
            }
            _ => None,
        };
    }

    /// (start, bucket width, both in ns), and the top `n` owners by bytes (then `other`),
    /// each with bytes per bucket: 10 ms units for captures shorter than [`BUCKETS`] seconds
    /// (when kept), else seconds.
    pub fn series(&self, n: usize) -> ((u64, u64), Vec<Series>) {
        let span_of = |m: &KeyMap<(String, u64), u64>| {
            Some((m.keys().map(|k| k.1).min()?, m.keys().map(|k| k.1).max()?))
        };
        let short = span_of(&self.bytes).is_some_and(|(lo, hi)| hi - lo < BUCKETS);
        let (map, unit) = match &self.fine {
            Some(f) if short => (f, FINE),
            _ => (&self.bytes, SECOND),
        };
        let Some((lo, hi)) = span_of(map) else {
            return ((0, SECOND), Vec::new());
        };
        let span = hi - lo + 1;
        let width = span.div_ceil(BUCKETS).max(1);
        let buckets = span.div_ceil(width) as usize;
        let mut per: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for ((label, sec), b) in map {
            per.entry(label).or_insert_with(|| vec![0; buckets])[((sec - lo) / width) as usize] +=
                b;
        }
        let mut all: Vec<(String, Vec<u64>)> =
            per.into_iter().map(|(l, v)| (l.to_string(), v)).collect();
        all.sort_by(|a, b| {
            let (x, y) = (a.1.iter().sum::<u64>(), b.1.iter().sum::<u64>());
            y.cmp(&x).then_with(|| a.0.cmp(&b.0))
        });
        if all.len() > n {
            let rest = all.split_off(n);
            let mut other = vec![0; buckets];
            for (_, v) in rest {
                for (o, x) in other.iter_mut().zip(v) {
                    *o += x;
                }
            }
            all.push(("(other)".into(), other));
        }
        ((lo * unit, width * unit), all)
    }
}

fn owner_label(m: &formats::meta::PacketMeta) -> String {
    if let Some(c) = &m.container {
        return if c.name.is_empty() {
            c.id.get(..12).unwrap_or(&c.id).to_string()
        } else {
            c.name.clone()
        };
    }
    if let Some(p) = &m.process {
        return format!("{}.{}", p.short_name(), p.pid);
    }
    "unattributed".into()
}

/// What the report is made of.
pub struct Input<'a> {
    pub stats: &'a Report,
    /// The `--stats --json` object: embedded as is, so the page's figures are its figures.
    pub stats_json: serde_json::Value,
    pub flows: &'a [FlowRecord],
    pub timeline: Timeline,
    pub files: &'a [String],
    pub incomplete: bool,
    pub elapsed: Duration,
}

#[derive(Serialize)]
struct FlowRow {
    proto: String,
    initiator: String,
    responder: String,
    owner: String,
    names: String,
    packets: u64,
    bytes: u64,
    drops: u64,
    state: String,
    start_ns: u64,
    duration_ns: u64,
}

#[derive(Serialize)]
struct Edge {
    from: String,
    /// A local owner (a container or process) rather than a remote name or address.
    to_local: bool,
    to: String,
    bytes: u64,
    flows: u64,
    drops: u64,
}

#[derive(Serialize)]
struct Data<'a> {
    files: &'a [String],
    incomplete: bool,
    elapsed_ms: u64,
    generated_by: String,
    stats: &'a serde_json::Value,
    timeline_start_ns: u64,
    timeline_bucket_ns: u64,
    series: Vec<Series>,
    flows: Vec<FlowRow>,
    flows_total: usize,
    edges: Vec<Edge>,
    edges_total: usize,
}

fn side_owner(s: &crate::flows::SideRecord) -> Option<String> {
    let o = s.owner.as_ref()?;
    Some(match &o.container {
        Some(c) if !c.name.is_empty() => c.name.clone(),
        Some(c) => c.id.get(..12).unwrap_or(&c.id).to_string(),
        None => o
            .process
            .as_ref()
            .map(|p| format!("{}.{}", p.comm, p.pid))
            .unwrap_or_else(|| "?".into()),
    })
}

/// The whole page.
pub fn render(input: &Input<'_>) -> String {
    let mut by_bytes: Vec<&FlowRecord> = input.flows.iter().collect();
    by_bytes.sort_by(|a, b| {
        (b.orig.bytes + b.resp.bytes)
            .cmp(&(a.orig.bytes + a.resp.bytes))
            .then(a.first_ts_ns.cmp(&b.first_ts_ns))
    });
    let flows: Vec<FlowRow> = by_bytes
        .iter()
        .take(TOP_FLOWS)
        .map(|f| {
            let owner = match (side_owner(&f.orig), side_owner(&f.resp)) {
                (Some(a), Some(b)) => format!("{a} → {b}"),
                (Some(a), None) => a,
                (None, Some(b)) => format!("→ {b}"),
                (None, None) => String::new(),
            };
            let mut names: Vec<String> = Vec::new();
            for n in f.responder.names.iter() {
                let s = format!("{} ({})", n.name, source(n.source));
                if !names.contains(&s) {
                    names.push(s);
                }
            }
            FlowRow {
                // An encapsulated flow (its ends are the inner conversation's) names its
                // tunnel: `tcp in vxlan 42`.
                proto: match &f.tunnel {
                    Some(t) => match t.id {
                        Some(id) => format!("{} in {} {id}", f.proto, t.kind),
                        None => format!("{} in {}", f.proto, t.kind),
                    },
                    None => f.proto.clone(),
                },
                initiator: with_names(&f.initiator),
                responder: f.responder.to_string(),
                owner,
                names: names.join(", "),
                packets: f.orig.packets + f.resp.packets,
                bytes: f.orig.bytes + f.resp.bytes,
                drops: f.orig.dropped_packets + f.resp.dropped_packets,
                state: f
                    .tcp
                    .as_ref()
                    .map(|t| t.conn_state.to_string())
                    .unwrap_or_default(),
                start_ns: f.first_ts_ns,
                duration_ns: f.duration_ns,
            }
        })
        .collect();
    // Who talked to whom: each flow from its initiator's owner (else address) to the
    // responder's owner when local, else its first name, else its address.
    let mut edges: BTreeMap<(String, bool, String), (u64, u64, u64)> = BTreeMap::new();
    for f in input.flows {
        let from = side_owner(&f.orig).unwrap_or_else(|| f.initiator.addr.to_string());
        let (to_local, to) = match side_owner(&f.resp) {
            // A local server: its owner, and the name the client used for it.
            Some(o) => match f.responder.names.first() {
                Some(n) => (true, format!("{o} · {}", n.name)),
                None => (true, o),
            },
            None => (
                false,
                f.responder
                    .names
                    .first()
                    .map(|n| n.name.clone())
                    .unwrap_or_else(|| f.responder.addr.to_string()),
            ),
        };
        let e = edges.entry((from, to_local, to)).or_default();
        e.0 += f.orig.bytes + f.resp.bytes;
        e.1 += 1;
        e.2 += f.orig.dropped_packets + f.resp.dropped_packets;
    }
    let edges_total = edges.len();
    let mut edges: Vec<Edge> = edges
        .into_iter()
        .map(|((from, to_local, to), (bytes, flows, drops))| Edge {
            from,
            to_local,
            to,
            bytes,
            flows,
            drops,
        })
        .collect();
    edges.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.drops.cmp(&a.drops))
            .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
    });
    // Dropped edges are what people look for: they stay within the cut.
    let mut kept: Vec<Edge> = Vec::new();
    for (i, e) in edges.into_iter().enumerate() {
        if i < TOP_EDGES || (e.drops > 0 && kept.len() < 2 * TOP_EDGES) {
            kept.push(e);
        }
    }
    let ((start, width), series) = input.timeline.series(TOP_SERIES);
    let data = Data {
        files: input.files,
        incomplete: input.incomplete,
        elapsed_ms: input.elapsed.as_millis() as u64,
        generated_by: format!("ptanalyze {}", env!("CARGO_PKG_VERSION")),
        stats: &input.stats_json,
        timeline_start_ns: start,
        timeline_bucket_ns: width,
        series,
        flows,
        flows_total: input.flows.len(),
        edges: kept,
        edges_total,
    };
    let _ = input.stats;
    // In a <script> element only `</script` and `<!--` could end or confuse it; `<` appears
    // in JSON only inside strings, where \u003c means the same.
    let json = serde_json::to_string(&data)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c");
    let mut page = String::with_capacity(json.len() + PAGE.len() + 64);
    let (head, tail) = PAGE
        .split_once("@DATA@")
        .expect("the template has a data slot");
    page.push_str(head);
    page.push_str(&json);
    page.push_str(tail);
    page
}

fn source(s: crate::names::NameSource) -> &'static str {
    match s {
        crate::names::NameSource::Dns => "dns",
        crate::names::NameSource::Sni => "sni",
        crate::names::NameSource::Http => "http",
        crate::names::NameSource::File => "file",
    }
}

const PAGE: &str = include_str!("report.html");

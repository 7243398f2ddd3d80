//! Wires one run together: open and plan the inputs, compile the filter, scan in parallel,
//! merge by timestamp and hand packets to the output (listing, pcapng, JSON lines).

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, IsTerminal, Write};
use std::ops::Range;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use rayon::ScopeFifo;

use serde::Serialize;

use formats::meta::{ContainerInfo, LateResolutions, PodInfo, ProcessInfo, ThreadInfo};
use formats::pcapng::write::{
    Encoder, FileFormat, InterfaceSpec, PacketFields, PcapngWriter, Prepared, TextSnapshot,
    WriterConfig, PCAP_NO_METADATA,
};
use formats::pcapng::{Direction, ReadError};
use formats::render::{PacketRef, Renderer};

use analyze::flows::{write_flows_text, FlowJson, FlowTable, Observed, Timeouts};
use analyze::names::NameTable;
use analyze::policy::parse::parse_policies;
use analyze::policy::verify::Verification;
use analyze::policy::{self, PolicySet};
use analyze::report::Timeline;
use analyze::stats::{write_report_text, Rollups};

use crate::cli::Cli;
use crate::engine::{
    plan, plan_streaming, shrank, ChunkResult, LateOnDemand, PacketView, Promise, Selection,
    Source, Stream, Work,
};
use crate::filter::Expression;
use crate::input::{self, Input};
use crate::output::{identity_of, OutFile};
use crate::table::{
    part_name, EncodedRows, FlowTableWriter, OutputFormat, PacketRow, PacketTable, Partitioning,
    RowEncoder, Tables, ROW_GROUP_ROWS,
};

/// One line on standard error; a closed or broken stderr is ignored (never a panic). Lines
/// start with the program's name as it was run (`ptcap -r` runs this program as ptcap).
macro_rules! say {
    ($($arg:tt)*) => {{
        let line = format!($($arg)*);
        let _ = writeln!(io::stderr().lock(), "{}", crate::run::named(&line));
    }};
}

static PROGRAM: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

static TABLES: std::sync::OnceLock<&'static dyn Tables> = std::sync::OnceLock::new();

/// Gives the run the writers of `-o FILE.parquet` and `.csv` (the `ptanalyze` binary has them;
/// `ptcap -r` does not).
pub fn set_tables(tables: &'static dyn Tables) {
    let _ = TABLES.set(tables);
}

/// Names the program for its messages (default `ptanalyze`).
pub fn set_program_name(name: &'static str) {
    let _ = PROGRAM.set(name);
}

/// `line` with its leading `ptanalyze: ` replaced by the program's name.
pub fn named(line: &str) -> std::borrow::Cow<'_, str> {
    match (line.strip_prefix("ptanalyze: "), PROGRAM.get()) {
        (Some(rest), Some(name)) if *name != "ptanalyze" => format!("{name}: {rest}").into(),
        _ => line.into(),
    }
}

/// Exit status when standard output cannot be written (a closed pipe: `| head`), after
/// tcpdump 4.99's line (`Unable to write output: Broken pipe`): its S_ERR_ND_WRITE_FILE, as
/// ptcap's.
const EXIT_OUTPUT_LOST: u8 = 14;

/// Exit status when `--verify-policy` finds a violation (for CI pipelines).
const EXIT_VIOLATION: u8 = 3;

/// Why the output stopped before the inputs ended.
enum Stop {
    /// Standard output cannot be written.
    Output(io::Error),
    /// An input shrank under its packets not yet shown: everything before them was.
    Shrank(usize, ReadError),
}

/// A listing line waiting in the listing buffer: which packet it shows.
struct Mark {
    file: usize,
    offset: u64,
    end: u64,
    /// The buffer's length after this packet's text.
    at: usize,
}

/// Bytes of listing text collected before they are written, after checking that the packets
/// they show were still the file's bytes when they were rendered (one `fstat` per input).
const LISTING_FLUSH: usize = 1 << 16;

/// The per-chunk work of a run: JSON lines for packets when asked.
struct Job<'n> {
    names: &'n [String],
    json_packets: bool,
    flows: bool,
    timeouts: Timeouts,
    stats: bool,
    /// Names learnt from the packets (for flows, stats and the report).
    learn_names: bool,
    /// The HTML report's traffic over time.
    timeline: bool,
}

/// A chunk's (and, merged, the run's) flow table, rollups and names learnt.
#[derive(Default)]
struct Acc {
    flows: Option<FlowTable>,
    stats: Option<Rollups>,
    names: Option<NameTable>,
    timeline: Option<Timeline>,
}

impl Acc {
    fn merge(&mut self, later: Acc) {
        if let (Some(a), Some(b)) = (self.flows.as_mut(), later.flows) {
            a.merge(b);
        }
        if let (Some(a), Some(b)) = (self.names.as_mut(), later.names) {
            a.merge(b);
        }
        if let (Some(a), Some(b)) = (self.timeline.as_mut(), later.timeline) {
            a.merge(b);
        }
        if let (Some(a), Some(b)) = (self.stats.as_mut(), later.stats) {
            a.merge(b);
        }
    }
}

#[derive(Serialize)]
struct PacketJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    file: &'a str,
    offset: u64,
    /// RFC 3339, UTC, nanoseconds: exact in any JSON reader (ts_ns above 2^53 is not in jq).
    ts: String,
    ts_sec: u64,
    ts_nsec: u32,
    ts_ns: u64,
    interface: Option<&'a str>,
    link_type: u16,
    len: u32,
    caplen: usize,
    direction: Option<&'static str>,
    #[serde(flatten)]
    ip: Option<IpJson>,
    /// tcpdump's protocol line (`tcpdump -nn -S -t`, without the link-level prefix).
    summary: String,
    provenance: &'static str,
    /// The owner's process, parent, container and pod.
    #[serde(flatten)]
    owner: EndJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tid: Option<u32>,
    /// The thread (`tid`, `name`) when the file names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    thread: Option<&'a ThreadInfo>,
    /// The other end when it is local too (the file records both ends).
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<EndJson<'a>>,
    /// The kernel dropped it (`ptcap --drops`): reason and location.
    #[serde(skip_serializing_if = "Option::is_none")]
    drop: Option<&'a formats::meta::DropInfo>,
    /// The NATed connection, when netfilter rewrote this packet's addresses or ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    nat: Option<NatJson<'a>>,
}

/// A packet's NATed connection: its conntrack tuples and the packet's direction in it.
#[derive(Serialize)]
struct NatJson<'a> {
    #[serde(flatten)]
    conn: &'a formats::meta::NatInfo,
    /// `original` (originator to responder) or `reply`.
    direction: &'static str,
}

/// The IP-level fields of a packet, when it has a readable IP header.
#[derive(Serialize)]
struct IpJson {
    src: String,
    dst: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_port: Option<u16>,
    /// `tcp`, `udp`, `icmp`, `icmp6`, or the protocol number (as flows name it).
    protocol: String,
    ip_proto: u8,
    /// IP length from the header.
    ip_len: u32,
    /// Transport payload bytes (tcpdump's `length N` of TCP and UDP).
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_len: Option<u32>,
    /// TCP flags as tcpdump prints them inside `Flags [...]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp_flags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp_code: Option<u8>,
}

fn ip_json(s: &formats::wire::flow::PacketSummary) -> IpJson {
    use formats::wire::flow::Transport;
    let mut j = IpJson {
        src: s.src.to_string(),
        dst: s.dst.to_string(),
        src_port: None,
        dst_port: None,
        protocol: analyze::flows::proto_name(s.protocol),
        ip_proto: s.protocol,
        ip_len: s.ip_len,
        payload_len: None,
        tcp_flags: None,
        icmp_type: None,
        icmp_code: None,
    };
    match s.transport {
        Transport::Tcp(t) => {
            j.src_port = Some(t.src_port);
            j.dst_port = Some(t.dst_port);
            j.payload_len = Some(t.payload_len);
            j.tcp_flags = Some(tcp_flags(t.flags));
        }
        Transport::Udp {
            src_port,
            dst_port,
            payload_len,
        } => {
            j.src_port = Some(src_port);
            j.dst_port = Some(dst_port);
            j.payload_len = Some(payload_len);
        }
        Transport::Icmp { msg_type, code, .. } => {
            j.icmp_type = Some(msg_type);
            j.icmp_code = Some(code);
        }
        Transport::None => {}
    }
    j
}

/// tcpdump's TCP flag letters (`S`, `F`, `R`, `P`, `.`, `U`, `E`, `W`; `none`).
pub fn tcp_flags(f: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (0x02, 'S'),
        (0x01, 'F'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x10, '.'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}

/// One local end of a packet: its owner, or the other end (`peer`).
#[derive(Serialize)]
struct EndJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<&'a ProcessInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<&'a ProcessInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a ContainerInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod: Option<&'a PodInfo>,
}

/// The last line of every `--json` output.
#[derive(Serialize)]
struct SummaryJson {
    #[serde(rename = "type")]
    kind: &'static str,
    /// Packets read.
    packets: u64,
    /// Packets that passed the filters.
    matched: u64,
    /// Packets written out (listed, or written with -w); fewer than matched after -c.
    output: u64,
    /// The input was damaged: what follows the damage was not read.
    incomplete: bool,
    errors: Vec<String>,
    /// `--verify-policy`: the check's totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<serde_json::Value>,
}

impl Work for Job<'_> {
    type Acc = Acc;
    fn new_acc(&self) -> Acc {
        Acc {
            flows: self.flows.then(|| FlowTable::with_timeouts(self.timeouts)),
            stats: self.stats.then(Rollups::new),
            names: self.learn_names.then(NameTable::new),
            timeline: self.timeline.then(Timeline::default),
        }
    }
    fn observe(&self, acc: &mut Acc, p: &PacketView<'_, '_>, text: &mut Vec<u8>) {
        if acc.flows.is_some() || acc.stats.is_some() {
            let o = Observed {
                ts_ns: p.ts_ns,
                orig_len: p.orig_len,
                link_type: p.link_type,
                data: p.data,
                interface: p.interface_name,
                direction: p.direction,
                meta: p.meta,
            };
            let summary = o.summarize();
            if let Some(f) = acc.flows.as_mut() {
                f.observe_summary(&o, summary.as_ref());
            }
            if let Some(r) = acc.stats.as_mut() {
                r.observe_summary(&o, summary.as_ref());
            }
            if let Some(n) = acc.names.as_mut() {
                n.observe_summary(&o, summary.as_ref());
            }
            if let Some(t) = acc.timeline.as_mut() {
                t.observe(&o, summary.as_ref());
            }
        }
        if self.json_packets {
            let m = p.meta;
            let ip = formats::wire::flow::summarize(p.link_type, p.data);
            let mut line = Vec::with_capacity(128);
            formats::render::protocol_line(&mut line, p.link_type, p.data, p.orig_len);
            let j = PacketJson {
                kind: "packet",
                file: &self.names[p.file],
                offset: p.offset,
                ts: formats::render::rfc3339_utc(p.ts_ns),
                ts_sec: p.ts_ns / 1_000_000_000,
                ts_nsec: (p.ts_ns % 1_000_000_000) as u32,
                ts_ns: p.ts_ns,
                interface: p.interface_name,
                link_type: p.link_type,
                len: p.orig_len,
                caplen: p.data.len(),
                direction: p
                    .direction
                    .or(ip.as_ref().and_then(|s| s.link_direction))
                    .map(|d| match d {
                        Direction::In => "in",
                        Direction::Out => "out",
                    }),
                ip: ip.as_ref().map(ip_json),
                summary: String::from_utf8_lossy(&line).into_owned(),
                provenance: m.provenance.as_str(),
                owner: EndJson {
                    process: m.process.as_deref(),
                    parent: m.parent.as_deref(),
                    container: m.container.as_deref(),
                    pod: m.pod.as_deref(),
                },
                tid: m.tid(),
                thread: m.thread.as_deref(),
                peer: (!m.peer.is_empty()).then_some(EndJson {
                    process: m.peer.process.as_deref(),
                    parent: m.peer.parent.as_deref(),
                    container: m.peer.container.as_deref(),
                    pod: m.peer.pod.as_deref(),
                }),
                drop: m.drop.as_deref(),
                nat: m.nat.as_deref().map(|conn| NatJson {
                    conn,
                    direction: if m.nat_reply { "reply" } else { "original" },
                }),
            };
            // Serializing plain data into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *text, &j);
            text.push(b'\n');
        }
    }
}

/// Where kept packets go, in merged order.
enum Sink<'a> {
    Listing(Renderer, Vec<u8>, Vec<Mark>),
    Json,
    /// `--packets -o FILE.ndjson`: the JSON lines, to FILE.
    JsonFile(io::BufWriter<Box<dyn Write + Send>>),
    /// `--packets -o FILE.parquet|.csv`.
    Table(Box<TableSink<'a>>),
    /// The writer and each input's interface ids in it.
    Pcapng(Box<PcapngWriter<Box<dyn Write + Send>>>, Vec<Arc<Vec<u32>>>),
    Nothing,
}

/// A packet of the `-o` table: kept packet `idx` of a chunk of input `file`.
struct RowRef<'a> {
    chunk: Arc<ChunkResult<'a, Acc>>,
    file: usize,
    idx: usize,
}

/// A row group handed to a pool task for encoding, for the part `part` of the table.
struct RowGroup<'a> {
    rows: Arc<Vec<RowRef<'a>>>,
    part: usize,
    index: usize,
    result: Arc<Promise<io::Result<EncodedRows>>>,
}

/// One file of the `-o` table: the whole table, or with `--partition-by` the rows of one
/// input in one directory.
struct Part<'a> {
    table: Box<dyn PacketTable>,
    encoder: Arc<dyn RowEncoder>,
    /// Rows of the group being filled.
    pending: Vec<RowRef<'a>>,
    /// Row groups handed to encoding, and appended.
    handed: usize,
    appended: usize,
    /// A partition's staged file, committed when the part closes (the whole table's is the
    /// run's).
    file: Option<OutFile>,
    key: PartKey,
    /// No more rows come: finished once its groups are appended.
    closing: bool,
    last_use: u64,
}

/// Which part a row goes to: its input, node and time bucket.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PartKey {
    file: usize,
    node: Option<Arc<str>>,
    bucket: u64,
}

/// Parts open at once with `--partition-by`; opening one more closes the least recently
/// used (a later row of its partition starts a new part file, `STEM-2.EXT`). It bounds the
/// rows held and the files open.
const MAX_OPEN_PARTS: usize = 32;

/// `--partition-by`: where the parts go and how they are named.
struct PartRoute {
    partitioning: Partitioning,
    root: std::path::PathBuf,
    format: OutputFormat,
    /// Each input's part file stem (its file name without the extension, unique).
    stems: Vec<String>,
    /// Part files made per (directory, input), to name the next one.
    made: std::collections::HashMap<(String, usize), u32>,
}

impl PartRoute {
    fn new(
        partitioning: Partitioning,
        root: &str,
        format: OutputFormat,
        names: &[String],
    ) -> PartRoute {
        let mut stems: Vec<String> = Vec::with_capacity(names.len());
        for n in names {
            let base = if n == "-" {
                "stdin".to_string()
            } else {
                std::path::Path::new(n)
                    .file_stem()
                    .map_or("input".into(), |s| s.to_string_lossy().into_owned())
            };
            let mut stem = base.clone();
            let mut k = 2;
            while stems.contains(&stem) {
                stem = format!("{base}-{k}");
                k += 1;
            }
            stems.push(stem);
        }
        PartRoute {
            partitioning,
            root: std::path::PathBuf::from(root),
            format,
            stems,
            made: Default::default(),
        }
    }

    /// Creates the part file of `key` (its directory too) and its table writer.
    fn open<'a>(&mut self, key: PartKey, ts_ns: u64) -> io::Result<Part<'a>> {
        let rel = self.partitioning.dir(key.node.as_deref(), ts_ns);
        let dir = self.root.join(&rel);
        std::fs::create_dir_all(&dir).map_err(|e| annotate(e, &dir))?;
        let n = self.made.entry((rel, key.file)).or_insert(0);
        *n += 1;
        let stem = match *n {
            1 => self.stems[key.file].clone(),
            k => format!("{}-{k}", self.stems[key.file]),
        };
        let ext = match self.format {
            OutputFormat::Csv => "csv",
            _ => "parquet",
        };
        let path = dir.join(part_name(&stem, ext));
        let shown = path.to_string_lossy().into_owned();
        let (f, staged) = OutFile::create(&shown).map_err(|e| annotate(e, &path))?;
        let out: Box<dyn Write + Send> = Box::new(io::BufWriter::with_capacity(1 << 18, f));
        let table = TABLES
            .get()
            .ok_or_else(|| io::Error::other("no table writers"))?
            .packets(self.format, out)
            .map_err(|e| annotate(e, &path))?;
        Ok(Part {
            encoder: table.encoder(),
            table,
            pending: Vec::new(),
            handed: 0,
            appended: 0,
            file: Some(staged),
            key,
            closing: false,
            last_use: 0,
        })
    }
}

/// An error about the file `path`.
fn annotate(e: io::Error, path: &std::path::Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// `--packets -o FILE.parquet|.csv`: rows are collected in output order into groups of
/// `ROW_GROUP_ROWS` per part, encoded by pool tasks and appended in order. Without
/// `--partition-by` there is one part, the file of `-o`; with it, a part per input and
/// partition, each committed (renamed into place, readable) as soon as its input is done.
struct TableSink<'a> {
    names: Arc<Vec<String>>,
    route: Option<PartRoute>,
    /// Parts by number; `None` once finished.
    parts: Vec<Option<Part<'a>>>,
    /// Open (not closing) parts by key.
    open: std::collections::HashMap<PartKey, usize>,
    /// The last row's (input, interface, bucket) and its part: most rows go where the one
    /// before went.
    last: Option<(usize, u32, u64, usize)>,
    /// Full groups not handed yet, with their part.
    full: Vec<(usize, Vec<RowRef<'a>>)>,
    encoding: VecDeque<RowGroup<'a>>,
    /// Row groups handed to encoding and appended, since the start (all parts).
    handed: u64,
    done: u64,
    uses: u64,
    /// The first error opening or finishing a part (reported as the run's write error).
    error: Option<io::Error>,
}

/// The rows of a group as the table writers see them.
fn packet_rows<'r>(rows: &'r [RowRef<'_>], names: &'r [String]) -> Vec<PacketRow<'r>> {
    rows.iter()
        .map(|r| {
            let k = &r.chunk.kept[r.idx];
            PacketRow {
                file: &names[r.file],
                offset: k.offset,
                ts_ns: k.ts_ns,
                interface: r
                    .chunk
                    .interfaces
                    .get(k.interface as usize)
                    .and_then(|i| i.name.as_deref())
                    .filter(|n| !n.is_empty()),
                link_type: k.link_type,
                orig_len: k.orig_len,
                data: k.data,
                direction: k.direction,
                meta: &k.meta,
                summary: k.summary,
            }
        })
        .collect()
}

impl<'a> TableSink<'a> {
    /// The table of `-o`: one part writing to `table`, or the parts of `route`.
    fn new(
        table: Option<Box<dyn PacketTable>>,
        route: Option<PartRoute>,
        names: Vec<String>,
    ) -> TableSink<'a> {
        let key = PartKey {
            file: 0,
            node: None,
            bucket: 0,
        };
        let parts = table
            .map(|table| Part {
                encoder: table.encoder(),
                table,
                pending: Vec::with_capacity(ROW_GROUP_ROWS),
                handed: 0,
                appended: 0,
                file: None,
                key,
                closing: false,
                last_use: 0,
            })
            .into_iter()
            .map(Some)
            .collect();
        TableSink {
            names: Arc::new(names),
            route,
            parts,
            open: Default::default(),
            last: None,
            full: Vec::new(),
            encoding: VecDeque::new(),
            handed: 0,
            done: 0,
            uses: 0,
            error: None,
        }
    }

    /// Takes a row; a group that is full waits for `hand`.
    fn push(&mut self, row: RowRef<'a>) {
        let p = if self.route.is_none() {
            0
        } else {
            match self.route_row(&row) {
                Some(p) => p,
                None => return,
            }
        };
        let Some(part) = self.parts[p].as_mut() else {
            return;
        };
        part.pending.push(row);
        if part.pending.len() == ROW_GROUP_ROWS {
            let next = Vec::with_capacity(ROW_GROUP_ROWS);
            let rows = std::mem::replace(&mut part.pending, next);
            self.full.push((p, rows));
        }
    }

    /// The part of a row with `--partition-by`, opened if need be; `None` after an error.
    fn route_row(&mut self, row: &RowRef<'a>) -> Option<usize> {
        if self.error.is_some() {
            return None;
        }
        let route = self.route.as_mut()?;
        let k = &row.chunk.kept[row.idx];
        let bucket = route.partitioning.bucket(k.ts_ns);
        if let Some((f, i, b, p)) = self.last {
            if f == row.file && i == k.interface && b == bucket {
                return Some(p);
            }
        }
        // A new input: the parts of the inputs before are complete.
        let earlier: Vec<usize> = self
            .open
            .iter()
            .filter(|(key, _)| key.file != row.file)
            .map(|(_, &p)| p)
            .collect();
        for p in earlier {
            self.close(p);
        }
        let node = row
            .chunk
            .interfaces
            .get(k.interface as usize)
            .and_then(|i| i.node.clone());
        let key = PartKey {
            file: row.file,
            node,
            bucket,
        };
        let p = match self.open.get(&key) {
            Some(&p) => p,
            None => {
                if self.open.len() >= MAX_OPEN_PARTS {
                    let lru = self
                        .open
                        .values()
                        .copied()
                        .min_by_key(|&p| self.parts[p].as_ref().map_or(0, |x| x.last_use));
                    if let Some(lru) = lru {
                        self.close(lru);
                    }
                }
                let route = self.route.as_mut()?;
                match route.open(key.clone(), k.ts_ns) {
                    Ok(part) => {
                        self.parts.push(Some(part));
                        let p = self.parts.len() - 1;
                        self.open.insert(key, p);
                        p
                    }
                    Err(e) => {
                        self.error = Some(e);
                        return None;
                    }
                }
            }
        };
        self.uses += 1;
        if let Some(part) = self.parts[p].as_mut() {
            part.last_use = self.uses;
        }
        self.last = Some((row.file, k.interface, bucket, p));
        Some(p)
    }

    /// No more rows for part `p`: its last group waits for `hand`, the part is finished once
    /// its groups are appended.
    fn close(&mut self, p: usize) {
        let Some(part) = self.parts[p].as_mut() else {
            return;
        };
        self.open.remove(&part.key);
        part.closing = true;
        if !part.pending.is_empty() {
            let rows = std::mem::take(&mut part.pending);
            self.full.push((p, rows));
        }
        if self.last.is_some_and(|l| l.3 == p) {
            self.last = None;
        }
    }

    /// Groups being filled (each will be one more handed group).
    fn filling(&self) -> u64 {
        self.parts
            .iter()
            .flatten()
            .filter(|p| !p.pending.is_empty())
            .count() as u64
    }

    /// Hands the full groups (and with `all`, those being filled) to pool tasks.
    fn hand<'sc>(&mut self, scope: &ScopeFifo<'sc>, all: bool)
    where
        'a: 'sc,
    {
        if all {
            for (p, part) in self.parts.iter_mut().enumerate() {
                if let Some(part) = part.as_mut().filter(|x| !x.pending.is_empty()) {
                    self.full.push((p, std::mem::take(&mut part.pending)));
                }
            }
        }
        let full = std::mem::take(&mut self.full);
        for (p, rows) in full {
            self.hand_group(scope, p, rows);
        }
    }

    fn hand_group<'sc>(&mut self, scope: &ScopeFifo<'sc>, p: usize, rows: Vec<RowRef<'a>>)
    where
        'a: 'sc,
    {
        let Some(part) = self.parts[p].as_mut() else {
            return;
        };
        let rows = Arc::new(rows);
        let result = Arc::new(Promise::default());
        let index = part.handed;
        part.handed += 1;
        let (enc, names, promise, task_rows) = (
            Arc::clone(&part.encoder),
            Arc::clone(&self.names),
            Arc::clone(&result),
            Arc::clone(&rows),
        );
        scope.spawn_fifo(move |_| {
            promise.fulfil(|| enc.encode(index, &packet_rows(&task_rows, &names)))
        });
        self.encoding.push_back(RowGroup {
            rows,
            part: p,
            index,
            result,
        });
        self.handed += 1;
    }

    /// Appends the encoded groups in order (all with `wait`, or while too many are in flight),
    /// then finishes the closed parts that are complete.
    /// Rows whose packet the input no longer holds (it shrank) end the table before them.
    fn append_ready(
        &mut self,
        wait: bool,
        inputs: &[&Input],
        error: &mut Option<io::Error>,
        shrank_at: &mut Option<(usize, ReadError)>,
    ) {
        let in_flight = rayon::current_num_threads().max(1) + 1;
        while let Some(front) = self.encoding.front() {
            let r = if wait || self.encoding.len() > in_flight {
                front.result.take()
            } else {
                match front.result.try_take() {
                    Some(r) => r,
                    None => break,
                }
            };
            let Some(group) = self.encoding.pop_front() else {
                break;
            };
            self.done += 1;
            let Some(part) = self.parts[group.part].as_mut() else {
                continue;
            };
            part.appended += 1;
            if error.is_some() || shrank_at.is_some() {
                continue;
            }
            // The encoding task read the packets: they were the file's bytes if the file
            // still holds them now.
            let mut limits: Vec<(usize, u64)> = Vec::new();
            let cut = group.rows.iter().position(|row| {
                let limit = match limits.iter().find(|(f, _)| *f == row.file) {
                    Some(&(_, l)) => l,
                    None => {
                        let l = inputs[row.file].check_size();
                        limits.push((row.file, l));
                        l
                    }
                };
                row.chunk.kept[row.idx].end > limit
            });
            let result = match cut {
                None => r,
                Some(n) => {
                    let row = &group.rows[n];
                    let input = inputs[row.file];
                    *shrank_at = Some((row.file, shrank(input, row.chunk.kept[row.idx].offset)));
                    if n == 0 {
                        continue;
                    }
                    let rows = packet_rows(&group.rows[..n], &self.names);
                    part.encoder.encode(group.index, &rows)
                }
            };
            if let Err(e) = result.and_then(|enc| part.table.append(enc)) {
                *error = Some(e);
            }
        }
        if error.is_none() {
            if let Some(e) = self.error.take() {
                *error = Some(e);
            }
        }
        if error.is_none() && shrank_at.is_none() {
            self.finish_closed(error);
        }
    }

    /// Finishes and commits the closing parts whose every group is appended: from then on
    /// they can be read (by DuckDB or Spark) while the run goes on.
    fn finish_closed(&mut self, error: &mut Option<io::Error>) {
        for slot in self.parts.iter_mut() {
            let done = slot
                .as_ref()
                .is_some_and(|p| p.closing && p.pending.is_empty() && p.appended == p.handed);
            if !done || error.is_some() {
                continue;
            }
            if let Some(part) = slot.take() {
                if let Err(e) = finish_part(part) {
                    *error = Some(e);
                }
            }
        }
    }

    /// Finishes every part (the groups are all appended: after a `settle` with `wait`).
    fn finish(mut self) -> io::Result<()> {
        for slot in self.parts.iter_mut() {
            if let Some(part) = slot.take() {
                finish_part(part)?;
            }
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(())
    }
}

/// Writes what ends a part's file and puts a partition's file in place.
fn finish_part(part: Part<'_>) -> io::Result<()> {
    let Part { table, file, .. } = part;
    table.finish()?;
    match file {
        Some(f) => f.commit(),
        None => Ok(()),
    }
}

/// Packets of one chunk, consecutive in the output, with their entity ids in the output file.
struct Segment<'a> {
    chunk: Arc<ChunkResult<'a, Acc>>,
    file: usize,
    /// Index of the first packet in `chunk.kept`.
    first: usize,
    preps: Vec<Prepared>,
}

/// Packets per segment: the unit of parallel encoding.
const SEGMENT_PACKETS: usize = 4096;

/// A segment's Enhanced Packet Blocks and the metadata options they had to leave out, and
/// after each packet: the blocks' length and the options left out so far.
type Encoded = io::Result<(Vec<u8>, u64, Vec<(usize, u64)>)>;

/// A segment being encoded by a pool task, to be written in order.
struct Encoding<'a> {
    result: Arc<Promise<Encoded>>,
    packets: u64,
    chunk: Arc<ChunkResult<'a, Acc>>,
    file: usize,
    first: usize,
}

/// The sequential part of a run, done as each chunk is finished while the pool reads the
/// chunks ahead: pcapng packets get their entity ids in output order here, are encoded by pool
/// tasks, and are written in order; chunk accumulators are merged in file order; input ranges
/// are released once written.
struct Deferred<'a> {
    sink: Sink<'a>,
    /// Segments with ids given, not yet handed to encoding.
    segments: Vec<Segment<'a>>,
    /// Segments handed to encoding, in output order.
    encoding: VecDeque<Encoding<'a>>,
    /// Segments handed to encoding and segments written, since the start.
    handed: u64,
    done: u64,
    accs: Vec<Acc>,
    acc: Acc,
    /// Finished chunks, not yet scheduled for release.
    finished: Vec<(usize, Range<u64>)>,
    /// (segments that must be written first, input, range).
    releases: VecDeque<(u64, usize, Range<u64>)>,
    /// The first error writing the pcapng output; nothing more is written after it.
    error: Option<io::Error>,
    /// An input shrank under packets not written yet; nothing more is written after them.
    shrank: Option<(usize, ReadError)>,
}

impl<'a> Deferred<'a> {
    /// Takes a kept packet for the pcapng output: its ids now, its bytes at the next settle.
    fn push_packet(&mut self, chunk: &Arc<ChunkResult<'a, Acc>>, file: usize, idx: usize) {
        if let Sink::Table(t) = &mut self.sink {
            t.push(RowRef {
                chunk: Arc::clone(chunk),
                file,
                idx,
            });
            return;
        }
        let Sink::Pcapng(w, _) = &mut self.sink else {
            return;
        };
        let prep = w.prepare(&chunk.kept[idx].meta);
        if let Some(s) = self.segments.last_mut() {
            if Arc::ptr_eq(&s.chunk, chunk)
                && s.first + s.preps.len() == idx
                && s.preps.len() < SEGMENT_PACKETS
            {
                s.preps.push(prep);
                return;
            }
        }
        let mut preps = Vec::with_capacity(SEGMENT_PACKETS.min(chunk.kept.len() - idx));
        preps.push(prep);
        self.segments.push(Segment {
            chunk: chunk.clone(),
            file,
            first: idx,
            preps,
        });
    }

    /// Merges pending accumulators, hands pending segments to pool tasks of `scope`, writes
    /// the encoded ones in order (all of them with `wait`; it also waits while too many are in
    /// flight), and releases the input of chunks whose packets are written.
    fn settle<'sc>(&mut self, scope: &ScopeFifo<'sc>, inputs: &[&Input], wait: bool)
    where
        'a: 'sc,
    {
        for a in self.accs.drain(..) {
            self.acc.merge(a);
        }
        if let Sink::Table(t) = &mut self.sink {
            t.hand(scope, wait);
            // A finished chunk's rows are in groups handed, or in those being filled (the
            // release is a hint to the kernel: a page read again is read from the file).
            let need = t.handed + t.filling();
            self.releases
                .extend(self.finished.drain(..).map(|(f, r)| (need, f, r)));
            t.append_ready(wait, inputs, &mut self.error, &mut self.shrank);
            release_written(&mut self.releases, t.done, inputs);
            return;
        }
        let Sink::Pcapng(w, map) = &mut self.sink else {
            for (f, r) in self.finished.drain(..) {
                inputs[f].release(r.start, r.end);
            }
            return;
        };
        for seg in self.segments.drain(..) {
            let texts = w.snapshot(&seg.preps);
            let enc = w.encoder();
            let ifaces = Arc::clone(&map[seg.file]);
            let result = Arc::new(Promise::default());
            let packets = seg.preps.len() as u64;
            let promise = Arc::clone(&result);
            let (chunk, file, first) = (Arc::clone(&seg.chunk), seg.file, seg.first);
            scope.spawn_fifo(move |_| {
                promise.fulfil(|| encode_segment(&enc, &texts, &ifaces, &seg))
            });
            self.encoding.push_back(Encoding {
                result,
                packets,
                chunk,
                file,
                first,
            });
            self.handed += 1;
        }
        let handed = self.handed;
        self.releases
            .extend(self.finished.drain(..).map(|(f, r)| (handed, f, r)));
        let in_flight = rayon::current_num_threads().max(1) * 4;
        while let Some(front) = self.encoding.front() {
            let r = if wait || self.encoding.len() > in_flight {
                front.result.take()
            } else {
                match front.result.try_take() {
                    Some(r) => r,
                    None => break,
                }
            };
            let Some(seg) = self.encoding.pop_front() else {
                break;
            };
            self.done += 1;
            if self.error.is_none() && self.shrank.is_none() {
                let result = r.and_then(|(buf, skipped, marks)| {
                    // The packets were read by the encoding task: they were the file's bytes
                    // if the file still holds them now.
                    let input = inputs[seg.file];
                    let kept = &seg.chunk.kept[seg.first..seg.first + seg.packets as usize];
                    let limit = input.check_size();
                    if kept.last().is_none_or(|k| k.end <= limit) {
                        return w.write_encoded(&buf, seg.packets, skipped);
                    }
                    let n = kept.iter().take_while(|k| k.end <= limit).count();
                    self.shrank = Some((seg.file, shrank(input, kept[n].offset)));
                    match n.checked_sub(1).map(|i| marks[i]) {
                        Some((len, skipped)) => w.write_encoded(&buf[..len], n as u64, skipped),
                        None => Ok(()),
                    }
                });
                if let Err(e) = result {
                    self.error = Some(e);
                }
            }
            release_written(&mut self.releases, self.done, inputs);
        }
        release_written(&mut self.releases, self.done, inputs);
    }
}

/// Releases the input of chunks whose packets are all written (`done` segments).
fn release_written(
    releases: &mut VecDeque<(u64, usize, Range<u64>)>,
    done: u64,
    inputs: &[&Input],
) {
    while releases.front().is_some_and(|(after, ..)| *after <= done) {
        let (_, f, r) = releases.pop_front().unwrap();
        inputs[f].release(r.start, r.end);
    }
}

/// Encodes one segment's packets: Enhanced Packet Blocks with the ids given in output order.
fn encode_segment(enc: &Encoder, texts: &TextSnapshot, ifaces: &[u32], s: &Segment<'_>) -> Encoded {
    let mut marks = Vec::with_capacity(s.preps.len());
    let kept = &s.chunk.kept[s.first..s.first + s.preps.len()];
    let size: usize = kept.iter().map(|k| k.data.len() + 64).sum();
    let mut buf = Vec::with_capacity(size + size / 2);
    let mut skipped = 0;
    for (k, prep) in kept.iter().zip(&s.preps) {
        let packet = PacketFields {
            iface: ifaces[k.interface as usize],
            ts_ns: k.ts_ns,
            orig_len: k.orig_len,
            data: k.data,
            direction: k.direction,
        };
        skipped += enc.encode_packet(texts, &mut buf, packet, &k.meta, prep)?;
        marks.push((buf.len(), skipped));
    }
    Ok((buf, skipped, marks))
}

/// Progress on stderr, only for a terminal and large inputs.
struct Progress {
    total: u64,
    done: u64,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new(total: u64) -> Option<Progress> {
        (io::stderr().is_terminal() && total > 256 << 20).then(|| Progress {
            total,
            done: 0,
            last: Instant::now(),
            shown: false,
        })
    }
    fn add(&mut self, bytes: u64) {
        self.done += bytes;
        if self.last.elapsed().as_millis() >= 200 {
            self.last = Instant::now();
            self.shown = true;
            let _ = write!(
                io::stderr().lock(),
                "\rptanalyze: {:3}% of {:.2} GiB",
                self.done * 100 / self.total.max(1),
                self.total as f64 / f64::from(1 << 30)
            );
        }
    }
    fn clear(&self) {
        if self.shown {
            let _ = write!(io::stderr().lock(), "\r\x1b[K");
        }
    }
}

/// Totals of a run.
#[derive(Default)]
struct Totals {
    packets: u64,
    matched: u64,
    skipped_links: BTreeMap<(usize, u16), u64>,
    errors: Vec<(usize, ReadError)>,
}

struct Cursor<'a> {
    res: Arc<ChunkResult<'a, Acc>>,
    idx: usize,
}

pub fn run(cli: Cli) -> ExitCode {
    let (names, expr_text) = match cli.resolve_inputs() {
        Ok(x) => x,
        Err(msg) => {
            say!("ptanalyze: {msg}");
            return ExitCode::from(2);
        }
    };
    if let Err(msg) = check_table_flags(&cli) {
        say!("ptanalyze: {msg}");
        return ExitCode::from(2);
    }
    // Before anything is opened, for reading or writing.
    let no_input = output_is_no_input(cli.write.as_deref(), &names)
        .and_then(|()| table_is_no_input(cli.output.as_deref(), &names));
    if let Err(msg) = no_input {
        say!("ptanalyze: {msg}");
        return ExitCode::from(2);
    }
    if !cli.context.is_empty() {
        if let Err(msg) = formats::render::Context::parse(&cli.context) {
            say!("ptanalyze: {msg}");
            return ExitCode::from(2);
        }
    }
    let policies = match cli.verify_policy.as_deref().map(read_policies).transpose() {
        Ok(p) => p,
        Err(msg) => {
            say!("ptanalyze: {msg}");
            return ExitCode::from(2);
        }
    };
    let threads = cli.threads.unwrap_or(0);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => {
            say!("ptanalyze: -j {threads}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut inputs: Vec<Input> = Vec::with_capacity(names.len());
    for name in &names {
        match input::open(name) {
            Ok(i) => inputs.push(i),
            Err(e) => {
                say!("ptanalyze: {name}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // Dropped before `inputs`: the handler stops looking at their mappings first.
    let _watch = input::watch(&mut inputs);
    pool.install(|| {
        run_inputs(
            &cli,
            &names,
            &inputs,
            expr_text.as_deref(),
            policies.as_ref(),
        )
    })
}

/// The policy file of --verify-policy, parsed and validated: the error names the file, the
/// object and the field.
fn read_policies(path: &str) -> Result<PolicySet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--verify-policy {path}: {e}"))?;
    parse_policies(&text).map_err(|e| format!("{path}: {e}"))
}

/// `-o` and `--packets` go together, with `--packets` or `--flows`, and a known extension.
fn check_table_flags(cli: &Cli) -> Result<(), String> {
    if cli.node.is_some() && !cli.partition_by.contains(&crate::table::PartitionKey::Node) {
        return Err(
            "--node names the node of inputs that name none, for --partition-by node; \
                    give --partition-by node too"
                .into(),
        );
    }
    let Some(path) = &cli.output else {
        if !cli.partition_by.is_empty() {
            return Err("--partition-by needs --packets -o DIR.parquet (or DIR.csv)".into());
        }
        if cli.packets {
            return Err("--packets needs -o FILE (.parquet, .csv, .ndjson or .json)".into());
        }
        return Ok(());
    };
    let format = OutputFormat::for_path(path)?;
    if cli.write.is_some() {
        return Err(format!(
            "-o {path} and -w: give one of them (-w writes pcapng)"
        ));
    }
    match (cli.packets, cli.flows) {
        (false, false) => {
            return Err(format!(
                "-o {path}: say which table: --packets (one row per packet) or --flows"
            ))
        }
        (true, true) => {
            return Err(format!(
                "-o {path}: --packets and --flows are two tables: run once for each"
            ))
        }
        _ => {}
    }
    if format != OutputFormat::Ndjson && TABLES.get().is_none() {
        return Err(format!(
            "-o {path}: Parquet and CSV are written by ptanalyze (this program writes .ndjson)"
        ));
    }
    if !cli.partition_by.is_empty() {
        if format == OutputFormat::Ndjson {
            return Err(format!(
                "-o {path} --partition-by: partitions are written as .parquet or .csv parts; \
                 name the directory DIR.parquet or DIR.csv"
            ));
        }
        if cli.flows {
            return Err(
                "--partition-by partitions the --packets table (flows span files and nodes: \
                 --flows -o writes one table)"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Refuses an `-o` file that is one of the inputs (as `-w`).
fn table_is_no_input(output: Option<&str>, inputs: &[String]) -> Result<(), String> {
    let Some(id) = output.and_then(|p| identity_of(p, 1)) else {
        return Ok(());
    };
    match inputs.iter().find(|n| identity_of(n, 0) == Some(id)) {
        Some(n) => Err(format!(
            "-o {} is the input {n} (the same file): refusing to write over a file being read; \
             give another output file",
            output.unwrap_or_default()
        )),
        None => Ok(()),
    }
}

/// Opens `-o`'s file (staged as `-w`'s is: it appears only when complete).
fn open_table_file(path: &str) -> Result<(Box<dyn Write + Send>, OutFile), String> {
    let (f, staged) = OutFile::create(path).map_err(|e| format!("-o {path}: {e}"))?;
    Ok((Box::new(io::BufWriter::with_capacity(1 << 20, f)), staged))
}

/// Makes the directory of `-o DIR --partition-by` (an existing one is written into: the
/// parts of an input replace those an earlier export of it wrote).
fn open_partitioned(path: &str) -> Result<(), String> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_dir()) {
        return Err(format!(
            "-o {path}: exists and is no directory: --partition-by writes a directory of parts; \
             give a new name"
        ));
    }
    std::fs::create_dir_all(path).map_err(|e| format!("-o {path}: {e}"))
}

/// `--flows -o FILE.ndjson`: the `--flows --json` lines, to FILE.
struct NdjsonFlows(Box<dyn Write + Send>);

impl FlowTableWriter for NdjsonFlows {
    fn write(&mut self, flows: &[analyze::flows::FlowRecord]) -> io::Result<()> {
        for r in flows {
            serde_json::to_writer(&mut self.0, &FlowJson::new(r))?;
            self.0.write_all(b"\n")?;
        }
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

/// Refuses an output that is one of the inputs: `-w FILE`, or standard output (a `-w -`, a
/// listing or a report redirected into an input), compared by device and inode, so symlinks,
/// hard links and `/dev/fd/N` are seen through.
fn output_is_no_input(write: Option<&str>, inputs: &[String]) -> Result<(), String> {
    let (what, id) = match write {
        Some(p) if p != "-" => (format!("-w {p}"), identity_of(p, 1)),
        _ => ("standard output".to_string(), identity_of("-", 1)),
    };
    let Some(id) = id else {
        return Ok(());
    };
    match inputs.iter().find(|n| identity_of(n, 0) == Some(id)) {
        Some(n) => Err(format!(
            "{what} is the input {} (the same file): refusing to write over a file being \
             read; give another output file",
            if n == "-" { "- (standard input)" } else { n }
        )),
        None => Ok(()),
    }
}

fn run_inputs(
    cli: &Cli,
    names: &[String],
    inputs: &[Input],
    expr_text: Option<&str>,
    policies: Option<&PolicySet>,
) -> ExitCode {
    let began = Instant::now();
    let mut known_names = NameTable::new();
    if let Some(path) = cli.names_from.as_deref() {
        let read = std::fs::read_to_string(path).map_err(|e| e.to_string());
        if let Err(msg) = read.and_then(|text| known_names.add_file(&text)) {
            say!("ptanalyze: --names-from {path}: {msg}");
            return ExitCode::from(2);
        }
    }
    let mut code = 0u8;
    let mut sources: Vec<Source<'_>> = Vec::new();
    let mut file_names: Vec<String> = Vec::new();
    let mut source_inputs: Vec<&Input> = Vec::new();
    // A listing needs nothing from the whole input: it starts at once (see engine). Owner
    // filters (late resolutions of containers, the --container-id check), reports and -w
    // (every interface, the writer's scope) plan the whole input first.
    let streaming = cli.write.is_none()
        && cli.output.is_none()
        && !(cli.flows
            || cli.stats
            || cli.report.is_some()
            || cli.count_only
            || policies.is_some())
        && cli.owner_filter().is_empty();
    for (name, input) in names.iter().zip(inputs) {
        let planned = match streaming {
            true => plan_streaming(input, cli.chunk_size),
            false => plan(input, cli.chunk_size),
        };
        match planned {
            Ok(s) => {
                sources.push(s);
                file_names.push(name.clone());
                source_inputs.push(input);
            }
            Err(e) => {
                say!("ptanalyze: {name}: {e}");
                code = 1;
            }
        }
    }
    if sources.len() > 1 {
        // Several inputs are one capture: a container reported in one names it in all.
        let mut order: Vec<usize> = (0..sources.len()).collect();
        order.sort_by_key(|&i| sources[i].first_ts);
        let mut late = LateResolutions::default();
        for &i in &order {
            late.merge(&sources[i].late);
        }
        let late = Arc::new(late);
        for s in &mut sources {
            s.set_late_resolutions(&late);
        }
    }
    if let Err(msg) = check_container_ids(&cli.container_id, &sources) {
        say!("ptanalyze: {msg}");
        return ExitCode::from(2);
    }
    let expression = match expr_text {
        Some(text) => {
            let mut links: Vec<u16> = sources
                .iter()
                .flat_map(|s| s.interfaces.iter().map(|i| i.link_type))
                .collect();
            if streaming {
                // Interfaces defined later are not known yet: also every link type the
                // expression may meet in a capture of this kind.
                use formats::pcapng::linktype as lt;
                links.extend([lt::ETHERNET, lt::LINUX_SLL, lt::LINUX_SLL2, lt::RAW]);
                links.extend([lt::NULL, lt::LOOP, lt::IPV4, lt::IPV6]);
            }
            links.sort_unstable();
            links.dedup();
            match Expression::new(text, &links) {
                Ok(e) => Some(e),
                Err(msg) => {
                    say!("ptanalyze: filter expression {text:?}: {msg}");
                    return ExitCode::from(2);
                }
            }
        }
        None => None,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());

    let report = cli.stats || policies.is_some() || (cli.flows && cli.output.is_none());
    let mut out_file: Option<OutFile> = None;
    let mut flow_table: Option<(Box<dyn FlowTableWriter>, OutFile)> = None;
    if let (Some(path), true) = (&cli.output, cli.flows) {
        let opened = open_table_file(path).and_then(|(w, f)| {
            let table: Box<dyn FlowTableWriter> = match OutputFormat::for_path(path)? {
                OutputFormat::Ndjson => Box::new(NdjsonFlows(w)),
                format => TABLES
                    .get()
                    .ok_or("no table writers")?
                    .flows(format, w)
                    .map_err(|e| format!("-o {path}: {e}"))?,
            };
            Ok((table, f))
        });
        match opened {
            Ok(t) => flow_table = Some(t),
            Err(msg) => {
                say!("ptanalyze: {msg}");
                return ExitCode::from(2);
            }
        }
    }
    let sink: Sink = if let (Some(path), true) = (&cli.output, cli.packets) {
        let opened = if cli.partition_by.is_empty() {
            open_table_file(path).and_then(|(w, f)| {
                let sink = match OutputFormat::for_path(path)? {
                    OutputFormat::Ndjson => Sink::JsonFile(io::BufWriter::new(w)),
                    format => {
                        let table = TABLES
                            .get()
                            .ok_or("no table writers")?
                            .packets(format, w)
                            .map_err(|e| format!("-o {path}: {e}"))?;
                        Sink::Table(Box::new(TableSink::new(
                            Some(table),
                            None,
                            file_names.clone(),
                        )))
                    }
                };
                Ok((sink, Some(f)))
            })
        } else {
            open_partitioned(path).map(|()| {
                let partitioning = Partitioning::new(&cli.partition_by, cli.node.as_deref());
                let format = OutputFormat::for_path(path).unwrap_or(OutputFormat::Parquet);
                let route = PartRoute::new(partitioning, path, format, &file_names);
                let sink = TableSink::new(None, Some(route), file_names.clone());
                (Sink::Table(Box::new(sink)), None)
            })
        };
        match opened {
            Ok((s, f)) => {
                out_file = f;
                s
            }
            Err(msg) => {
                say!("ptanalyze: {msg}");
                return ExitCode::from(2);
            }
        }
    } else if let Some(path) = &cli.write {
        if sources.iter().all(|s| s.interfaces.is_empty()) {
            // A section header alone is no capture to tcpdump: write nothing.
            say!("ptanalyze: {path}: not written: no input defines an interface (nothing could be read)");
            code = code.max(1);
            Sink::Nothing
        } else {
            match pcapng_sink(cli, path, &sources) {
                Ok((s, f)) => {
                    out_file = f;
                    s
                }
                Err(msg) => {
                    say!("ptanalyze: {path}: {msg}");
                    return ExitCode::from(2);
                }
            }
        }
    } else if cli.flows || cli.stats || policies.is_some() || cli.report.is_some() || cli.count_only
    {
        // Reports (also `--flows -o TABLE`) and `--report` alone write no listing (the summary
        // line of --json stays).
        Sink::Nothing
    } else if cli.json {
        Sink::Json
    } else {
        Sink::Listing(
            Renderer::new(cli.render_options()),
            Vec::with_capacity(LISTING_FLUSH + 4096),
            Vec::new(),
        )
    };
    let keep = !matches!(sink, Sink::Nothing);
    let selection = Selection {
        owners: cli.owner_filter(),
        expression: expression.as_ref(),
        keep,
        summaries: matches!(sink, Sink::Table(..)),
        direction: cli.direction_filter(),
        interfaces: cli
            .interface
            .iter()
            .filter(|i| *i != "any")
            .cloned()
            .collect(),
    };
    let flush_each = cli.line_buffered || cli.packet_buffered;
    let job = Job {
        names: &file_names,
        json_packets: matches!(sink, Sink::Json | Sink::JsonFile(..)),
        // --stats and the report rank destinations by flow, so they need the flows too.
        flows: cli.flows || cli.stats || cli.report.is_some() || policies.is_some(),
        timeouts: cli.flow_timeout,
        stats: cli.stats || cli.report.is_some(),
        learn_names: cli.flows || cli.stats || cli.report.is_some(),
        timeline: cli.report.is_some(),
    };
    let window = rayon::current_num_threads().max(1) * 3;
    let late = streaming.then(|| LateOnDemand::new(source_inputs.clone(), cli.chunk_size));
    let mut streams: Vec<Stream<'_, '_, Job>> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| Stream::new(i, s, window, late.as_ref()))
        .collect();
    let mut started = vec![false; sources.len()];
    let mut cursors: Vec<Option<Cursor<'_>>> = (0..sources.len()).map(|_| None).collect();
    let mut totals = Totals::default();
    let mut deferred = Deferred {
        sink,
        segments: Vec::new(),
        encoding: VecDeque::new(),
        handed: 0,
        done: 0,
        accs: Vec::new(),
        acc: job.new_acc(),
        finished: Vec::new(),
        releases: VecDeque::new(),
        error: None,
        shrank: None,
    };
    let mut progress = Progress::new(inputs.iter().map(|i| i.bytes().len() as u64).sum());
    let mut remaining = cli.count.unwrap_or(u64::MAX);
    let stop = rayon::in_place_scope_fifo(|scope| {
        let mut ctx = Refill {
            scope,
            streams: &mut streams,
            selection: &selection,
            job: &job,
            inputs: &source_inputs,
        };
        let mut stop = None;
        while remaining > 0 && deferred.error.is_none() && deferred.shrank.is_none() {
            // The input whose next packet is earliest; an input not started yet counts with its
            // first packet's timestamp, so rotated files start one after the other.
            let mut best: Option<(u64, usize)> = None;
            for f in 0..sources.len() {
                let key = if started[f] {
                    match &cursors[f] {
                        Some(c) => c.res.kept[c.idx].ts_ns,
                        None => continue,
                    }
                } else {
                    sources[f].first_ts.unwrap_or(0)
                };
                if best.is_none_or(|(k, _)| key < k) {
                    best = Some((key, f));
                }
            }
            let Some((_, f)) = best else { break };
            if !started[f] {
                started[f] = true;
                ctx.refill(f, &mut cursors, &mut totals, &mut progress, &mut deferred);
                continue;
            }
            let c = cursors[f].as_mut().unwrap();
            let emitted = emit(&mut deferred, &mut out, &sources, f, &c.res, c.idx);
            let emitted = emitted.and_then(|()| match flush_each {
                true => flush_now(&mut deferred.sink, &mut out, &sources),
                false => Ok(()),
            });
            if let Err(s) = emitted {
                stop = Some(s);
                break;
            }
            c.idx += 1;
            remaining -= 1;
            ctx.refill(f, &mut cursors, &mut totals, &mut progress, &mut deferred);
        }
        // Chunks read ahead for an output that stopped early (-c, an error) are not needed.
        for s in ctx.streams.iter() {
            s.cancel();
        }
        deferred.settle(scope, &source_inputs, true);
        if stop.is_none() {
            if let Sink::Listing(_, buf, marks) = &mut deferred.sink {
                stop = flush_listing(buf, marks, &mut out, &sources).err();
            }
        }
        stop
    });
    if let Some(p) = &progress {
        p.clear();
    }
    match stop {
        Some(Stop::Output(e)) => return output_lost(&e),
        Some(Stop::Shrank(f, e)) => totals.errors.push((f, e)),
        None => {}
    }
    let Deferred {
        sink,
        acc,
        error: write_error,
        shrank: shrank_error,
        ..
    } = deferred;
    if let Some((f, e)) = shrank_error {
        totals.errors.push((f, e));
    }
    let incomplete = !totals.errors.is_empty();
    let out_name = match (&cli.output, cli.packets) {
        (Some(path), true) => path.as_str(),
        _ => cli.write.as_deref().unwrap_or("-"),
    };
    if let Some(e) = write_error {
        if e.kind() == io::ErrorKind::BrokenPipe && out_name == "-" {
            // As tcpdump -w - does: the reader has what it wanted.
            return ExitCode::SUCCESS;
        }
        match out_file {
            Some(f) if f.is_staged() => {
                f.discard();
                say!(
                    "ptanalyze: {out_name}: {e}; nothing written (the partial output was removed)"
                );
            }
            _ if !cli.partition_by.is_empty() => say!(
                "ptanalyze: {out_name}: {e}; the part files already in place are complete, \
                 the others were removed"
            ),
            _ => say!("ptanalyze: {out_name}: {e}; the output holds the packets before it"),
        }
        return ExitCode::from(2);
    }
    // The -w output is finished and put in place before the reports go to standard output,
    // so a closed pipe there cannot cost the file.
    let mut sink = sink;
    if matches!(sink, Sink::Pcapng(..)) {
        let Sink::Pcapng(w, _) = std::mem::replace(&mut sink, Sink::Nothing) else {
            unreachable!()
        };
        let finished = w.finish().and_then(|mut inner| inner.flush());
        let finished = finished.and_then(|()| out_file.take().map_or(Ok(()), OutFile::commit));
        if let Err(e) = finished {
            if e.kind() == io::ErrorKind::BrokenPipe && out_name == "-" {
                return ExitCode::SUCCESS;
            }
            say!("ptanalyze: {out_name}: {e}; nothing written");
            return ExitCode::from(2);
        }
    }
    let verify = policies.map(|set| Verify {
        set,
        namespace: &cli.policy_namespace,
    });
    let finished = match std::mem::replace(&mut sink, Sink::Nothing) {
        Sink::JsonFile(mut w) => Some(w.flush()),
        Sink::Table(t) => Some(t.finish()),
        _ => None,
    };
    if let Some(finished) = finished {
        let finished = finished.and_then(|()| out_file.take().map_or(Ok(()), OutFile::commit));
        if let Err(e) = finished {
            if cli.partition_by.is_empty() {
                say!("ptanalyze: {out_name}: {e}; nothing written");
            } else {
                say!("ptanalyze: {out_name}: {e}; the part files already in place are complete");
            }
            return ExitCode::from(2);
        }
    }
    let mut acc = acc;
    if let Some((mut table, file)) = flow_table.take() {
        let path = cli.output.as_deref().unwrap_or_default();
        let mut records = acc.flows.take().map(FlowTable::finish).unwrap_or_default();
        // The names, as the --flows lines get them (write_reports learns them again for
        // --stats and the report).
        let mut learnt = known_names.clone();
        if let Some(n) = acc.names.clone() {
            learnt.merge(n);
        }
        learnt.finish().annotate(&mut records);
        let written = records
            .chunks(ROW_GROUP_ROWS)
            .try_for_each(|c| table.write(c))
            .and_then(|()| table.finish())
            .and_then(|()| file.commit());
        if let Err(e) = written {
            say!("ptanalyze: {path}: {e}; nothing written");
            return ExitCode::from(2);
        }
    }
    let wanted = Wanted {
        // `--flows -o TABLE` wrote the flows to the table: no text or JSON lines of them.
        flows: cli.flows && cli.output.is_none(),
        stats: cli.stats,
        html: cli.report.as_deref(),
        file_names: known_names,
        started: began,
    };
    let reported = write_reports(
        &mut out,
        acc,
        cli.json,
        report,
        incomplete,
        &totals,
        &file_names,
        verify.as_ref(),
        wanted,
    );
    let checked = match reported {
        Ok(v) => v,
        Err(e) => return output_lost(&e),
    };
    let output = cli.count.unwrap_or(u64::MAX) - remaining;
    if cli.count_only {
        // tcpdump --count: the matching packets, -c included.
        let n = totals.matched.min(cli.count.unwrap_or(u64::MAX));
        let _ = writeln!(out, "{n} packet{}", if n == 1 { "" } else { "s" });
    } else if cli.json && cli.write.as_deref() != Some("-") {
        // Every JSON output ends with its summary object.
        let summary = SummaryJson {
            kind: "summary",
            packets: totals.packets,
            matched: totals.matched,
            output,
            incomplete,
            errors: totals
                .errors
                .iter()
                .map(|(f, e)| format!("{}: {e}", file_names[*f]))
                .collect(),
            policy: checked.as_ref().map(policy::verify::summary_json),
        };
        let written = serde_json::to_writer(&mut out, &summary)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            return output_lost(&e);
        }
    }
    if let Err(e) = out.flush() {
        return output_lost(&e);
    }
    for ((f, link), n) in &totals.skipped_links {
        let why = expression
            .as_ref()
            .and_then(|e| e.program(*link).err())
            .unwrap_or("");
        say!(
            "ptanalyze: {}: {n} packets of link type {link} skipped: the filter cannot apply to it ({why})",
            file_names[*f]
        );
    }
    for (f, e) in &totals.errors {
        say!("ptanalyze: {}: {e}", file_names[*f]);
        code = code.max(1);
    }
    if checked.is_some_and(|v| v.violations().next().is_some()) {
        code = EXIT_VIOLATION;
    }
    ExitCode::from(code)
}

/// `--verify-policy`: the policies and the namespace of plain containers.
struct Verify<'a> {
    set: &'a PolicySet,
    namespace: &'a str,
}

/// The `--stats --json` object (the report embeds the same).
fn stats_json(
    report: &analyze::stats::Report,
    incomplete: bool,
    errors: &[String],
) -> serde_json::Value {
    let ts = |t: Option<u64>| t.map(formats::render::rfc3339_utc);
    serde_json::json!({
        "type": "stats",
        "first_ts": ts(report.totals.first_ts_ns),
        "last_ts": ts(report.totals.last_ts_ns),
        "incomplete": incomplete,
        "errors": errors,
        "report": report,
    })
}

/// Which reports the command line asked for (the accumulator may hold more: --stats needs the
/// flows).
struct Wanted<'a> {
    flows: bool,
    stats: bool,
    /// --report OUT.html.
    html: Option<&'a str>,
    /// --names-from, read.
    file_names: NameTable,
    started: std::time::Instant,
}

/// The --flows, --stats, --report and --verify-policy reports, text or JSON, marked
/// incomplete after damage; the policy check's result.
#[allow(clippy::too_many_arguments)]
fn write_reports(
    out: &mut impl Write,
    mut acc: Acc,
    json: bool,
    report: bool,
    incomplete: bool,
    totals: &Totals,
    names: &[String],
    verify: Option<&Verify<'_>>,
    wanted: Wanted<'_>,
) -> io::Result<Option<Verification>> {
    let errors: Vec<String> = totals
        .errors
        .iter()
        .map(|(f, e)| format!("{}: {e}", names[*f]))
        .collect();
    let mut learnt = wanted.file_names;
    if let Some(n) = acc.names.take() {
        learnt.merge(n);
    }
    let learnt = learnt.finish();
    // (Taken only for a policy check: a tuple `(acc.flows.take(), verify)` would take the
    // flows of every other run too.)
    if let Some((flows, v)) = verify.and_then(|v| Some((acc.flows.take()?, v))) {
        let mut records = flows.finish();
        learnt.annotate(&mut records);
        let result = policy::verify::verify(v.set, &records, v.namespace);
        if json {
            policy::verify::write_json(v.set, &records, &result, out)?;
        } else {
            policy::verify::write_text(v.set, &records, &result, out)?;
        }
        if incomplete && !json {
            writeln!(
                out,
                "# incomplete: the input is damaged; packets after the damage were not read"
            )?;
        }
        return Ok(Some(result));
    }
    let mut records = acc.flows.map(FlowTable::finish).unwrap_or_default();
    learnt.annotate(&mut records);
    if wanted.flows {
        if json {
            for r in &records {
                serde_json::to_writer(&mut *out, &FlowJson::new(r))?;
                out.write_all(b"\n")?;
            }
        } else {
            write_flows_text(&records, out)?;
        }
    }
    if let Some(stats) = acc.stats {
        let mut report = stats.finish();
        report.add_destinations(&records);
        if let Some(path) = wanted.html {
            let html = analyze::report::render(&analyze::report::Input {
                stats: &report,
                stats_json: stats_json(&report, incomplete, &errors),
                flows: &records,
                timeline: acc.timeline.take().unwrap_or_default(),
                files: names,
                incomplete,
                elapsed: wanted.started.elapsed(),
            });
            if let Err(e) = std::fs::write(path, html) {
                say!("ptanalyze: --report {path}: {e}");
                return Err(io::Error::other(format!("--report {path}: {e}")));
            }
        }
        if wanted.stats && json {
            serde_json::to_writer(&mut *out, &stats_json(&report, incomplete, &errors))?;
            out.write_all(b"\n")?;
        } else if wanted.stats {
            write_report_text(&report, out)?;
        }
    }
    if incomplete && !json && report {
        writeln!(
            out,
            "# incomplete: the input is damaged; packets after the damage were not read"
        )?;
    }
    Ok(None)
}

/// What refilling a cursor needs besides the cursors and the deferred work.
struct Refill<'r, 'sc, 's, 'a, 'n> {
    scope: &'r ScopeFifo<'sc>,
    streams: &'r mut [Stream<'s, 'a, Job<'n>>],
    selection: &'sc Selection<'sc>,
    job: &'sc Job<'n>,
    inputs: &'r [&'r Input],
}

impl<'sc, 's: 'sc, 'a: 'sc> Refill<'_, 'sc, 's, 'a, '_> {
    /// Makes file f's cursor point at a kept packet, taking chunks as needed; false at its
    /// end. A finished chunk's deferred work (writing, merging, releasing) is done first,
    /// while the pool reads the chunks ahead.
    fn refill(
        &mut self,
        f: usize,
        cursors: &mut [Option<Cursor<'a>>],
        totals: &mut Totals,
        progress: &mut Option<Progress>,
        deferred: &mut Deferred<'a>,
    ) -> bool {
        loop {
            if let Some(c) = &cursors[f] {
                if c.idx < c.res.kept.len() {
                    return true;
                }
            }
            if let Some(done) = cursors[f].take() {
                deferred.finished.push((f, done.res.range.clone()));
                deferred.settle(self.scope, self.inputs, false);
            }
            let next = self.streams[f].next_chunk(self.scope, self.selection, self.job);
            let Some(mut res) = next else {
                return false;
            };
            totals.packets += res.packets;
            totals.matched += res.matched;
            for (l, n) in &res.skipped_links {
                *totals.skipped_links.entry((f, *l)).or_insert(0) += n;
            }
            if let Some(e) = res.error.take() {
                totals.errors.push((f, e));
            }
            deferred.accs.push(std::mem::take(&mut res.acc));
            if let Some(p) = progress.as_mut() {
                p.add(res.bytes);
            }
            cursors[f] = Some(Cursor {
                res: Arc::new(res),
                idx: 0,
            });
        }
    }
}

/// Sends kept packet `idx` of a chunk of input `file` to the sink.
fn emit<'a>(
    deferred: &mut Deferred<'a>,
    out: &mut impl Write,
    sources: &[Source<'_>],
    file: usize,
    chunk: &Arc<ChunkResult<'a, Acc>>,
    idx: usize,
) -> Result<(), Stop> {
    let k = &chunk.kept[idx];
    match &mut deferred.sink {
        Sink::Listing(renderer, buf, marks) => {
            let iface = chunk.interfaces.get(k.interface as usize);
            let pref = PacketRef {
                ts_ns: k.ts_ns,
                link_type: k.link_type,
                data: k.data,
                orig_len: k.orig_len,
                interface: iface
                    .and_then(|i| i.name.as_deref())
                    .filter(|n| !n.is_empty()),
                direction: k.direction,
            };
            renderer.render(buf, &pref, k.meta.has_context().then_some(&k.meta));
            marks.push(Mark {
                file,
                offset: k.offset,
                end: k.end,
                at: buf.len(),
            });
            if buf.len() >= LISTING_FLUSH {
                flush_listing(buf, marks, out, sources)?;
            }
            Ok(())
        }
        // JSON lines were made by the chunk's task, which checked the file after reading.
        Sink::Json => out
            .write_all(&chunk.text[k.text.clone()])
            .map_err(Stop::Output),
        Sink::JsonFile(w) => {
            if let Err(e) = w.write_all(&chunk.text[k.text.clone()]) {
                deferred.error = Some(e);
            }
            Ok(())
        }
        Sink::Pcapng(..) | Sink::Table(..) => {
            deferred.push_packet(chunk, file, idx);
            Ok(())
        }
        Sink::Nothing => Ok(()),
    }
}

/// Writes the listing buffer up to the first packet whose bytes the file no longer holds
/// (rendered from a mapping that shrank: zeros, not the packet), then stops there.
fn flush_listing(
    buf: &mut Vec<u8>,
    marks: &mut Vec<Mark>,
    out: &mut impl Write,
    sources: &[Source<'_>],
) -> Result<(), Stop> {
    let mut limits: Vec<(usize, u64)> = Vec::new();
    let mut cut = None;
    for (i, m) in marks.iter().enumerate() {
        let limit = match limits.iter().find(|(f, _)| *f == m.file) {
            Some(&(_, l)) => l,
            None => {
                let l = sources[m.file].input.check_size();
                limits.push((m.file, l));
                l
            }
        };
        if m.end > limit {
            cut = Some(i);
            break;
        }
    }
    let upto = match cut {
        Some(0) => 0,
        Some(i) => marks[i - 1].at,
        None => buf.len(),
    };
    out.write_all(&buf[..upto]).map_err(Stop::Output)?;
    if let Some(i) = cut {
        let m = &marks[i];
        let input = sources[m.file].input;
        return Err(Stop::Shrank(m.file, shrank(input, m.offset)));
    }
    buf.clear();
    marks.clear();
    Ok(())
}

/// `-l`/`-U`: what is rendered goes out now (checked first, as at every flush).
fn flush_now(
    sink: &mut Sink<'_>,
    out: &mut impl Write,
    sources: &[Source<'_>],
) -> Result<(), Stop> {
    if let Sink::Listing(_, buf, marks) = sink {
        flush_listing(buf, marks, out, sources)?;
    }
    out.flush().map_err(Stop::Output)
}

/// Standard output went away or failed: tcpdump's line and status (as ptcap's).
fn output_lost(e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        say!("ptanalyze: Unable to write output: Broken pipe");
    } else {
        say!("ptanalyze: Unable to write output: {e}");
    }
    ExitCode::from(EXIT_OUTPUT_LOST)
}

/// `--container-id` takes a unique prefix, as docker and ctr do: a prefix that names several
/// containers the inputs define is refused before anything is read. (Comment-only inputs
/// define no containers up front; there a prefix matches every container it starts.)
fn check_container_ids(prefixes: &[String], sources: &[Source<'_>]) -> Result<(), String> {
    for prefix in prefixes {
        let mut hits: Vec<(&str, &str)> = sources
            .iter()
            .flat_map(|s| &s.containers)
            .filter(|c| !c.id.is_empty() && c.id.starts_with(prefix.as_str()))
            .map(|c| (c.id.as_str(), c.name.as_str()))
            .collect();
        hits.sort_unstable();
        hits.dedup_by(|a, b| a.0 == b.0);
        if hits.len() > 1 {
            let shown: Vec<String> = hits
                .iter()
                .take(4)
                .map(|(id, name)| {
                    let short = &id[..id.len().min(12)];
                    if name.is_empty() {
                        short.to_string()
                    } else {
                        format!("{short} ({name})")
                    }
                })
                .collect();
            return Err(format!(
                "--container-id {prefix}: the prefix matches {} containers ({}{}); give more of the id",
                hits.len(),
                shown.join(", "),
                if hits.len() > shown.len() { ", ..." } else { "" }
            ));
        }
    }
    Ok(())
}

fn output_scope(sources: &[Source<'_>], args: &str) -> u32 {
    use std::hash::{Hash, Hasher};
    // FNV-style fold via DefaultHasher with fixed keys (SipHash 1-3, zero key): deterministic.
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    args.hash(&mut h);
    for s in sources {
        s.data.len().hash(&mut h);
        s.data[..s.data.len().min(4096)].hash(&mut h);
    }
    ((h.finish() as u32) & 0x1f_ffff).max(1)
}

/// A pcapng writer with one interface per input interface, link types kept.
fn pcapng_sink(
    cli: &Cli,
    path: &str,
    sources: &[Source<'_>],
) -> Result<(Sink<'static>, Option<OutFile>), String> {
    let mut out_file = None;
    let inner: Box<dyn Write + Send> = if path == "-" {
        Box::new(io::BufWriter::with_capacity(1 << 20, io::stdout()))
    } else {
        let (f, staged) = OutFile::create(path).map_err(|e| e.to_string())?;
        out_file = Some(staged);
        Box::new(io::BufWriter::with_capacity(1 << 20, f))
    };
    let mut cfg = WriterConfig::new("ptanalyze", env!("CARGO_PKG_VERSION"));
    cfg.comments = cli.comment_mode();
    // Packets are prepared (ids given) in batches before their comment texts are taken:
    // entities must not be forgotten in between, and the inputs hold them all anyway.
    cfg.max_entities = usize::MAX;
    cfg.format = FileFormat::for_path(path, cli.nano());
    if cfg.format.is_classic() {
        say!("ptanalyze: {path}: {PCAP_NO_METADATA}");
    }
    // A scope derived from the inputs and the selection, not random: the same run writes the
    // same bytes (whatever -j), and different inputs or filters still get different scopes.
    let what = format!(
        "{:?} {:?} {:?}",
        cli.inputs_and_expression(),
        cli.owner_filter(),
        cli.comments
    );
    cfg.scope = Some(output_scope(sources, &what));
    let all: Vec<_> = sources.iter().flat_map(|s| s.interfaces.iter()).collect();
    // One section is written: it names the inputs' node when they all have the same one.
    let mut nodes = all.iter().map(|i| i.node.as_deref());
    if let Some(Some(first)) = nodes.next() {
        if nodes.all(|n| n == Some(first)) {
            cfg.node = Some(first.to_string());
        }
    }
    let mixed = !cfg.format.is_classic()
        && all.first().is_some_and(|f| {
            all.iter()
                .any(|i| (i.link_type, i.snaplen) != (f.link_type, f.snaplen))
        });
    if mixed {
        cfg.allow_mixed_interfaces = true;
        say!(
            "ptanalyze: {path}: the inputs' interfaces differ in link type or snaplen; written \
             as they are (Wireshark reads them all, tcpdump stops at the first interface that differs)"
        );
    }
    let mut w = PcapngWriter::new(inner, cfg).map_err(|e| e.to_string())?;
    let mut map = Vec::new();
    for s in sources {
        let mut ids = Vec::new();
        for i in &s.interfaces {
            let spec = InterfaceSpec {
                name: i.name.clone().unwrap_or_default(),
                description: i.description.clone(),
                link_type: i.link_type,
                snaplen: i.snaplen,
                filter: i.filter.clone(),
            };
            ids.push(w.add_interface(&spec).map_err(|e| e.to_string())?);
        }
        map.push(Arc::new(ids));
    }
    Ok((Sink::Pcapng(Box::new(w), map), out_file))
}

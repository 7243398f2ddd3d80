//! Tabular exports (`-o FILE.parquet`, `-o FILE.csv`): the rows the run hands out and the
//! writers it hands them to.
//!
//! The writers themselves (Arrow arrays, Parquet and CSV encoding) live in the `export` crate,
//! which only the `ptanalyze` binary links: `ptcap -r` shares this library and must not carry
//! Arrow. The run builds row groups of [`ROW_GROUP_ROWS`] packets in output order, has pool
//! tasks encode them ([`RowEncoder::encode`], in parallel), and appends the encoded groups in
//! order ([`PacketTable::append`]), so the file is the same for any `-j`.

use std::any::Any;
use std::io::{self, Write};
use std::sync::Arc;

use formats::meta::PacketMeta;
use formats::pcapng::Direction;

use crate::flows::FlowRecord;

/// Rows per row group (the last one of a file may have fewer). Fixed, so that a file depends
/// only on its inputs and filters: the unit of parallel encoding, and of memory (a few row
/// groups are in flight at a time).
pub const ROW_GROUP_ROWS: usize = 65_536;

/// The format `-o` writes, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Parquet,
    Csv,
    /// JSON lines, as `--json` prints them (without the summary line).
    Ndjson,
}

impl OutputFormat {
    /// The format named by `path`'s extension (case-insensitive); an error names the known ones.
    pub fn for_path(path: &str) -> Result<OutputFormat, String> {
        let ext = std::path::Path::new(path)
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("parquet") => Ok(OutputFormat::Parquet),
            Some("csv") => Ok(OutputFormat::Csv),
            Some("ndjson" | "json" | "jsonl") => Ok(OutputFormat::Ndjson),
            _ => Err(format!(
                "-o {path}: unknown output format: name the file .parquet, .csv, .ndjson or .json"
            )),
        }
    }
}

/// One exported packet, borrowed from the chunk that read it.
pub struct PacketRow<'a> {
    /// The input file, as named on the command line.
    pub file: &'a str,
    pub offset: u64,
    pub ts_ns: u64,
    pub interface: Option<&'a str>,
    pub link_type: u16,
    pub orig_len: u32,
    pub data: &'a [u8],
    /// The pcapng packet flags' direction (the cooked header's is read from `data`).
    pub direction: Option<Direction>,
    pub meta: &'a PacketMeta,
    /// `formats::wire::flow::summarize(link_type, data)`, made when the packet was read.
    pub summary: Option<formats::wire::flow::PacketSummary>,
}

/// An encoded row group, opaque to the run.
pub type EncodedRows = Box<dyn Any + Send>;

/// Encodes row groups; called from pool tasks, several at once.
pub trait RowEncoder: Send + Sync {
    /// `index`: the row group's place in the file (0, 1, ...).
    fn encode(&self, index: usize, rows: &[PacketRow<'_>]) -> io::Result<EncodedRows>;
}

/// A packet table being written: row groups are appended in output order.
pub trait PacketTable: Send {
    fn encoder(&self) -> Arc<dyn RowEncoder>;
    fn append(&mut self, rows: EncodedRows) -> io::Result<()>;
    /// Writes what ends the file (Parquet's footer) and flushes.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// A flow table being written.
pub trait FlowTableWriter: Send {
    /// Some flows, in report order; called with at most [`ROW_GROUP_ROWS`] at a time.
    fn write(&mut self, flows: &[FlowRecord]) -> io::Result<()>;
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// The writers of the table formats, given to the run by the binary that has them.
pub trait Tables: Sync {
    fn packets(
        &self,
        format: OutputFormat,
        out: Box<dyn Write + Send>,
    ) -> io::Result<Box<dyn PacketTable>>;
    fn flows(
        &self,
        format: OutputFormat,
        out: Box<dyn Write + Send>,
    ) -> io::Result<Box<dyn FlowTableWriter>>;
}

/// A key of `--partition-by`: one directory level of a Hive-style layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PartitionKey {
    /// `node=NAME`: the capturing machine (ptcap's section header), else `--node`.
    Node,
    /// `date=YYYY-MM-DD`: the packet's (a flow's first packet's) UTC date.
    Date,
    /// `hour=HH`: its UTC hour (00-23); implies `date` before it.
    Hour,
}

/// The node of inputs that name none, when `--node` does not say.
pub const UNKNOWN_NODE: &str = "unknown";

/// How `-o DIR --partition-by KEYS` lays rows out: the directory of a row from its node and
/// time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partitioning {
    keys: Vec<PartitionKey>,
    default_node: String,
}

impl Partitioning {
    /// The keys in the order given, each once; `hour` without `date` gets `date` before it.
    pub fn new(keys: &[PartitionKey], node: Option<&str>) -> Partitioning {
        let mut out = Vec::new();
        for &k in keys {
            if k == PartitionKey::Hour && !keys.contains(&PartitionKey::Date) {
                out.push(PartitionKey::Date);
            }
            if !out.contains(&k) {
                out.push(k);
            }
        }
        Partitioning {
            keys: out,
            default_node: node.unwrap_or(UNKNOWN_NODE).to_string(),
        }
    }

    pub fn keys(&self) -> &[PartitionKey] {
        &self.keys
    }

    /// The time bucket of `ts_ns` the directory depends on: the hour or the day since the
    /// epoch (0 when no time key is used). Rows of one bucket and node share a directory.
    pub fn bucket(&self, ts_ns: u64) -> u64 {
        const HOUR: u64 = 3_600_000_000_000;
        if self.keys.contains(&PartitionKey::Hour) {
            ts_ns / HOUR
        } else if self.keys.contains(&PartitionKey::Date) {
            ts_ns / (24 * HOUR)
        } else {
            0
        }
    }

    /// The relative directory of a row: `node=a/date=2026-12-02/hour=14`. `ts_ns` is any
    /// time of the row's bucket.
    pub fn dir(&self, node: Option<&str>, ts_ns: u64) -> String {
        let time = formats::render::rfc3339_utc(ts_ns);
        let parts: Vec<String> = self
            .keys
            .iter()
            .map(|k| match k {
                PartitionKey::Node => {
                    format!("node={}", hive_escape(node.unwrap_or(&self.default_node)))
                }
                PartitionKey::Date => format!("date={}", &time[..10]),
                PartitionKey::Hour => format!("hour={}", &time[11..13]),
            })
            .collect();
        parts.join("/")
    }
}

/// A partition value as Hive writes it: bytes outside `[A-Za-z0-9._-]` as `%XX` (a `/` or
/// `=` in a host name must not make another directory level or key).
pub fn hive_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() || out == "." || out == ".." {
        // Not a directory name of its own.
        out = format!("%{:02X}{}", b'.', &out[out.len().min(1)..]);
    }
    out
}

/// The file name of the part written for input `stem`: `STEM.EXT`, with characters a
/// file name must not have replaced.
pub fn part_name(stem: &str, ext: &str) -> String {
    let clean: String = stem
        .chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect();
    let clean = clean.trim_start_matches('.');
    let clean = if clean.is_empty() { "part" } else { clean };
    format!("{clean}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_implies_date_and_keys_keep_their_order() {
        let p = Partitioning::new(&[PartitionKey::Hour, PartitionKey::Node], None);
        assert_eq!(
            p.keys(),
            [PartitionKey::Date, PartitionKey::Hour, PartitionKey::Node]
        );
        // 2026-12-02T14:05:00Z
        let ts = 1_796_220_300_000_000_000;
        assert_eq!(
            p.dir(Some("node-a"), ts),
            "date=2026-12-02/hour=14/node=node-a"
        );
        assert_eq!(p.dir(None, ts), "date=2026-12-02/hour=14/node=unknown");
        assert_eq!(p.bucket(ts), ts / 3_600_000_000_000);
        let d = Partitioning::new(&[PartitionKey::Node, PartitionKey::Date], Some("edge"));
        assert_eq!(d.dir(None, ts), "node=edge/date=2026-12-02");
        assert_eq!(d.bucket(ts), ts / 86_400_000_000_000);
    }

    #[test]
    fn values_that_would_make_levels_are_escaped() {
        assert_eq!(hive_escape("web-1.example"), "web-1.example");
        assert_eq!(hive_escape("a/b=c d"), "a%2Fb%3Dc%20d");
        assert_eq!(hive_escape(".."), "%2E.");
        assert_eq!(hive_escape(""), "%2E");
        assert_eq!(part_name("../x/.cap", "parquet"), "_x_.cap.parquet");
        assert_eq!(part_name("...", "csv"), "part.csv");
    }
}

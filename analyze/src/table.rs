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

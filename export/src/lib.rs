//! ptanalyze's table writers: the packets and flows of a run as Parquet (through the Apache
//! Arrow project's `arrow` and `parquet` crates) or CSV, for DuckDB, Spark and the like.
//!
//! Only the `ptanalyze` binary links this crate (ptcap, which shares `analyze`, carries no
//! Arrow). The run hands row groups to [`analyze::table::RowEncoder::encode`] from its pool
//! threads and appends the results in order; the columns are docs/parquet.md's.
//!
//! ```no_run
//! analyze::run::set_tables(&export::Writers);
//! // ptanalyze --packets -o packets.parquet capture.pcapng
//! ```

mod columns;
mod csv;
pub mod flows;
pub mod packets;
mod parquet_file;

use std::io::{self, Write};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use analyze::flows::FlowRecord;
use analyze::table::{
    EncodedRows, FlowTableWriter, OutputFormat, PacketRow, PacketTable, RowEncoder, Tables,
};

pub use columns::{schema, Column, Kind};

/// The writers of `-o FILE.parquet` and `-o FILE.csv`.
pub struct Writers;

impl Tables for Writers {
    fn packets(
        &self,
        format: OutputFormat,
        out: Box<dyn Write + Send>,
    ) -> io::Result<Box<dyn PacketTable>> {
        let schema = schema(packets::COLUMNS);
        let sink = Sink::new(format, out, Arc::clone(&schema), packets::SCHEMA_VERSION)?;
        Ok(Box::new(PacketSink {
            encoder: Arc::new(PacketEncoder {
                schema,
                format: sink.encoder(),
            }),
            sink,
        }))
    }

    fn flows(
        &self,
        format: OutputFormat,
        out: Box<dyn Write + Send>,
    ) -> io::Result<Box<dyn FlowTableWriter>> {
        let schema = schema(&flows::columns());
        let sink = Sink::new(format, out, Arc::clone(&schema), flows::SCHEMA_VERSION)?;
        Ok(Box::new(FlowSink {
            schema,
            encoder: sink.encoder(),
            sink,
            groups: 0,
        }))
    }
}

/// Encodes a batch as one row group of the output format.
#[derive(Clone)]
enum BatchEncoder {
    Parquet(Arc<parquet_file::GroupEncoder>),
    Csv,
}

impl BatchEncoder {
    fn encode(
        &self,
        index: usize,
        batch: &arrow::record_batch::RecordBatch,
    ) -> io::Result<Encoded> {
        match self {
            BatchEncoder::Parquet(e) => e.encode(index, batch).map(Encoded::Parquet),
            BatchEncoder::Csv => csv::encode(batch, index == 0).map(Encoded::Csv),
        }
    }
}

enum Encoded {
    Parquet(parquet_file::Group),
    Csv(Vec<u8>),
}

/// The file being written.
enum Sink {
    Parquet(parquet_file::FileWriter),
    Csv(Box<dyn Write + Send>),
}

impl Sink {
    fn new(
        format: OutputFormat,
        out: Box<dyn Write + Send>,
        schema: SchemaRef,
        version: &str,
    ) -> io::Result<Sink> {
        match format {
            OutputFormat::Parquet => Ok(Sink::Parquet(parquet_file::FileWriter::new(
                out, schema, version,
            )?)),
            OutputFormat::Csv => Ok(Sink::Csv(out)),
            OutputFormat::Ndjson => Err(io::Error::other("JSON lines are written by the run")),
        }
    }

    fn encoder(&self) -> BatchEncoder {
        match self {
            Sink::Parquet(w) => BatchEncoder::Parquet(w.encoder()),
            Sink::Csv(_) => BatchEncoder::Csv,
        }
    }

    fn append(&mut self, e: Encoded) -> io::Result<()> {
        match (self, e) {
            (Sink::Parquet(w), Encoded::Parquet(g)) => w.append(g),
            (Sink::Csv(w), Encoded::Csv(b)) => w.write_all(&b),
            _ => Err(io::Error::other("row group of another format")),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Parquet(w) => w.finish(),
            Sink::Csv(mut w) => w.flush(),
        }
    }
}

struct PacketEncoder {
    schema: SchemaRef,
    format: BatchEncoder,
}

impl RowEncoder for PacketEncoder {
    fn encode(&self, index: usize, rows: &[PacketRow<'_>]) -> io::Result<EncodedRows> {
        let batch = packets::batch(Arc::clone(&self.schema), rows);
        Ok(Box::new(self.format.encode(index, &batch)?))
    }
}

struct PacketSink {
    encoder: Arc<PacketEncoder>,
    sink: Sink,
}

impl PacketTable for PacketSink {
    fn encoder(&self) -> Arc<dyn RowEncoder> {
        self.encoder.clone()
    }
    fn append(&mut self, rows: EncodedRows) -> io::Result<()> {
        let e = rows
            .downcast::<Encoded>()
            .map_err(|_| io::Error::other("row group of another writer"))?;
        self.sink.append(*e)
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.sink.finish()
    }
}

struct FlowSink {
    schema: SchemaRef,
    encoder: BatchEncoder,
    sink: Sink,
    groups: usize,
}

impl FlowTableWriter for FlowSink {
    fn write(&mut self, flows: &[FlowRecord]) -> io::Result<()> {
        let batch = flows::batch(Arc::clone(&self.schema), flows);
        let e = self.encoder.encode(self.groups, &batch)?;
        self.groups += 1;
        self.sink.append(e)
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.sink.finish()
    }
}

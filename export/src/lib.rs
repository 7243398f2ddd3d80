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

/// Has the allocator keep what a row group frees for the next one. Each group's arrays and
/// encoded pages are tens of MB of large allocations; glibc hands those back to the kernel
/// when freed (mmap, trim) and the next group faults them in again, zeroed: 8% of the
/// export's time went to those page faults. The memory kept is what the groups in flight
/// use anyway (peak RSS is theirs).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before the pool tasks
    // allocate any row group, and glibc serializes it with allocations.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

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
        keep_freed_memory();
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, TimestampNanosecondType};
    use formats::meta::{ContainerInfo, PacketMeta, ProcessInfo, Provenance};

    fn kind_name(k: Kind) -> &'static str {
        match k {
            Kind::Ts => "timestamp",
            Kind::Str | Kind::Text => "string",
            Kind::I32 => "int32",
            Kind::I64 => "int64",
            Kind::Bool => "bool",
            Kind::List => "list<string>",
            Kind::Map => "map<string,string>",
            Kind::Names => "list<struct<name,source>>",
        }
    }

    /// `(column, type)` rows of docs/parquet.md's section `## name`.
    fn documented(name: &str) -> Vec<(String, String)> {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/parquet.md"))
                .expect("docs/parquet.md");
        let start = text.find(&format!("\n## {name}\n")).expect("section");
        let section = &text[start + 1..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
        section
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(" | ").collect();
                let col = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
                Some((col.to_string(), cells.get(1)?.to_string()))
            })
            .collect()
    }

    fn columns_doc(columns: &[Column]) -> Vec<(String, String)> {
        columns
            .iter()
            .map(|c| (c.0.to_string(), kind_name(c.1).to_string()))
            .collect()
    }

    #[test]
    fn docs_list_every_column_in_order() {
        assert_eq!(documented("packets"), columns_doc(packets::COLUMNS));
        assert_eq!(documented("flows"), columns_doc(&flows::columns()));
    }

    fn meta() -> PacketMeta {
        let mut labels = std::collections::BTreeMap::new();
        labels.insert("app".to_string(), "api".to_string());
        PacketMeta {
            process: Some(Arc::new(ProcessInfo {
                pid: 4242,
                comm: "curl".into(),
                argv: vec!["curl".into(), "-s".into()],
                ..Default::default()
            })),
            container: Some(Arc::new(ContainerInfo {
                id: "ab".repeat(32),
                name: "web1".into(),
                labels,
                ..Default::default()
            })),
            provenance: Provenance::SocketCookie,
            ..Default::default()
        }
    }

    /// An Ethernet/IPv4/TCP SYN from 198.18.0.1:40000 to 198.18.0.2:80.
    fn frame() -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        let mut ip = vec![
            0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
        ];
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[12] = 0x50;
        tcp[13] = 0x02;
        f.append(&mut ip);
        f.append(&mut tcp);
        f
    }

    #[test]
    fn packet_rows_read_back_from_parquet() {
        let (m, plain, data) = (meta(), PacketMeta::default(), frame());
        let rows: Vec<PacketRow<'_>> = (0..3u64)
            .map(|i| PacketRow {
                file: "a.pcapng",
                offset: 100 * i,
                ts_ns: 1_700_000_000_123_456_789 + i,
                interface: Some("eth0"),
                link_type: 1,
                orig_len: data.len() as u32,
                data: &data,
                direction: None,
                meta: if i == 1 { &plain } else { &m },
                summary: formats::wire::flow::summarize(1, &data),
            })
            .collect();
        let path = std::env::temp_dir().join(format!("export-unit-{}.parquet", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let mut table = Writers
            .packets(OutputFormat::Parquet, Box::new(file))
            .unwrap();
        let enc = table.encoder();
        // Two row groups, encoded out of order (as pool tasks may finish), appended in order.
        let second = enc.encode(1, &rows[2..]).unwrap();
        let first = enc.encode(0, &rows[..2]).unwrap();
        table.append(first).unwrap();
        table.append(second).unwrap();
        table.finish().unwrap();

        let f = std::fs::File::open(&path).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 2);
        // Row-group statistics for what readers prune by, none for other text.
        let rg = reader.metadata().row_group(0);
        let stats_of = |name: &str| {
            rg.columns()
                .iter()
                .find(|c| c.column_path().string() == name)
                .map(|c| c.statistics().is_some())
        };
        assert_eq!(stats_of("ts"), Some(true));
        assert_eq!(stats_of("container_name"), Some(true));
        assert_eq!(stats_of("exe"), Some(false));
        let kv = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap();
        assert!(kv
            .iter()
            .any(|k| k.key == "ptcap.schema" && k.value.as_deref() == Some("packets/1")));
        let batches: Vec<_> = reader.build().unwrap().map(Result::unwrap).collect();
        let b = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        assert_eq!(b.num_rows(), 3);
        let ts = b
            .column_by_name("ts")
            .unwrap()
            .as_primitive::<TimestampNanosecondType>();
        assert_eq!(ts.value(2), 1_700_000_000_123_456_791);
        let pid = b
            .column_by_name("pid")
            .unwrap()
            .as_primitive::<arrow::datatypes::Int32Type>();
        assert_eq!(
            (pid.value(0), pid.is_null(1), pid.value(2)),
            (4242, true, 4242)
        );
        let name = b
            .column_by_name("container_name")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(name.value(0), "web1");
        let labels = b.column_by_name("container_labels").unwrap().as_map();
        let entries = labels.value(0);
        assert_eq!(entries.column(0).as_string::<i32>().value(0), "app");
        assert_eq!(entries.column(1).as_string::<i32>().value(0), "api");
        assert!(labels.is_null(1));
        let flags = b.column_by_name("tcp_flags").unwrap().as_string::<i32>();
        assert_eq!(flags.value(0), "S");
        let port = b
            .column_by_name("dst_port")
            .unwrap()
            .as_primitive::<arrow::datatypes::Int32Type>();
        assert_eq!(port.value(1), 80);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn csv_quotes_and_writes_nested_values_as_json() {
        let (m, data) = (meta(), frame());
        let row = PacketRow {
            file: "a,b.pcapng",
            offset: 0,
            ts_ns: 1_700_000_000_000_000_001,
            interface: None,
            link_type: 1,
            orig_len: data.len() as u32,
            data: &data,
            direction: None,
            meta: &m,
            summary: formats::wire::flow::summarize(1, &data),
        };
        let batch = packets::batch(schema(packets::COLUMNS), &[row]);
        let text = String::from_utf8(csv::encode(&batch, true).unwrap()).unwrap();
        let mut lines = text.split("\r\n");
        assert!(lines
            .next()
            .unwrap()
            .starts_with("ts,file,offset,interface,"));
        let line = lines.next().unwrap();
        assert!(
            line.starts_with("2023-11-14T22:13:20.000000001Z,\"a,b.pcapng\",0,,1,"),
            "{line}"
        );
        assert!(line.contains(r#","[""curl"",""-s""]","#), "{line}");
        assert!(line.contains(r#","{""app"":""api""}","#), "{line}");
    }

    /// A packet with every optional entity, and one with none.
    fn full_meta() -> PacketMeta {
        use formats::meta::{DropInfo, NatInfo, Peer, PodInfo, ThreadInfo, Tuple};
        let t = |a: [u8; 4], p| (std::net::IpAddr::from(a), p);
        let ((s, sp), (d, dp)) = (t([198, 18, 0, 1], 40000), t([198, 18, 0, 2], 80));
        let proc_ = |pid, comm: &str| {
            Some(Arc::new(ProcessInfo {
                pid,
                comm: comm.into(),
                ..Default::default()
            }))
        };
        let pod = Some(Arc::new(PodInfo {
            name: "web-0".into(),
            namespace: "shop".into(),
            ..Default::default()
        }));
        let mut m = meta();
        m.thread = Some(Arc::new(ThreadInfo {
            tid: 4243,
            name: "worker".into(),
        }));
        m.parent = proc_(1, "shim");
        m.pod = pod.clone();
        m.peer = Peer {
            process: proc_(77, "nginx"),
            parent: None,
            container: m.container.clone(),
            pod,
        };
        m.drop = Some(Arc::new(DropInfo {
            reason: "NO_SOCKET".into(),
            location: "tcp_v4_rcv+0x10".into(),
        }));
        m.nat = Some(Arc::new(NatInfo {
            proto: 6,
            original: Tuple {
                src: s,
                sport: sp,
                dst: d,
                dport: dp,
            },
            reply: Tuple {
                src: d,
                sport: dp,
                dst: s,
                dport: 30000,
            },
            snat: true,
            dnat: false,
        }));
        m
    }

    #[test]
    fn every_entity_column_is_filled_or_null_whether_or_not_the_group_has_it() {
        let (full, plain, data) = (full_meta(), PacketMeta::default(), frame());
        let row = |m| PacketRow {
            file: "a.pcapng",
            offset: 0,
            ts_ns: 1,
            interface: None,
            link_type: 1,
            orig_len: data.len() as u32,
            data: &data,
            direction: None,
            meta: m,
            summary: formats::wire::flow::summarize(1, &data),
        };
        let entity = |name: &str| packets::GROUPS.iter().any(|p| name.starts_with(p));
        let mixed = packets::batch(schema(packets::COLUMNS), &[row(&full), row(&plain)]);
        let none = packets::batch(schema(packets::COLUMNS), &[row(&plain), row(&plain)]);
        let mut checked = 0;
        for (i, f) in mixed.schema().fields().iter().enumerate() {
            if !entity(f.name()) {
                continue;
            }
            checked += 1;
            let (a, b) = (mixed.column(i), none.column(i));
            assert!(a.is_valid(0), "{} set in the full row", f.name());
            assert!(a.is_null(1), "{} null in the plain row", f.name());
            assert_eq!(
                b.logical_null_count(),
                2,
                "{} null without the entity",
                f.name()
            );
            assert_eq!(a.data_type(), b.data_type(), "{}", f.name());
        }
        assert_eq!(checked, 34);
        let text = |name: &str| {
            let c = arrow::compute::cast(mixed.column_by_name(name).unwrap(), &DataType::Utf8);
            c.unwrap().as_string::<i32>().value(0).to_string()
        };
        assert_eq!(text("thread_name"), "worker");
        assert_eq!(text("parent_comm"), "shim");
        assert_eq!(text("pod_namespace"), "shop");
        assert_eq!(text("peer_comm"), "nginx");
        assert_eq!(text("drop_location"), "tcp_v4_rcv+0x10");
        assert_eq!(text("nat_direction"), "original");
        assert_eq!(text("nat_reply_dst"), "198.18.0.1");
        assert_eq!(text("nat_reply_dport"), "30000");
        assert_eq!(text("nat_snat"), "true");
    }
}

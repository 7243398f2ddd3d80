//! Columns as one table of names and kinds, filled row by row in that order.

use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Int32Builder, Int64Builder, ListBuilder, MapBuilder,
    StringBuilder, StructBuilder, TimestampNanosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

/// A column's kind: its Arrow type and so its Parquet type (docs/parquet.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// TIMESTAMP(NANOS, UTC).
    Ts,
    Str,
    I32,
    I64,
    Bool,
    /// A list of strings.
    List,
    /// A map of string to string.
    Map,
    /// A list of `{name, source}` structs (an endpoint's names).
    Names,
}

/// A column: name, kind, and whether it may be null.
pub type Column = (&'static str, Kind, bool);

enum Builder {
    Ts(TimestampNanosecondBuilder),
    Str(StringBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    Bool(BooleanBuilder),
    List(ListBuilder<StringBuilder>),
    Map(MapBuilder<StringBuilder, StringBuilder>),
    Names(ListBuilder<StructBuilder>),
}

/// The struct of one name: `name` and `source`, both strings.
fn name_struct() -> StructBuilder {
    let fields: Fields = vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
    ]
    .into();
    let builders: Vec<Box<dyn ArrayBuilder>> = vec![
        Box::new(StringBuilder::new()),
        Box::new(StringBuilder::new()),
    ];
    StructBuilder::new(fields, builders)
}

impl Builder {
    fn new(kind: Kind, rows: usize) -> Builder {
        match kind {
            Kind::Ts => {
                Builder::Ts(TimestampNanosecondBuilder::with_capacity(rows).with_timezone("+00:00"))
            }
            Kind::Str => Builder::Str(StringBuilder::with_capacity(rows, rows * 8)),
            Kind::I32 => Builder::I32(Int32Builder::with_capacity(rows)),
            Kind::I64 => Builder::I64(Int64Builder::with_capacity(rows)),
            Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            Kind::List => Builder::List(ListBuilder::new(StringBuilder::new())),
            Kind::Map => Builder::Map(MapBuilder::new(
                None,
                StringBuilder::new(),
                StringBuilder::new(),
            )),
            Kind::Names => Builder::Names(ListBuilder::new(name_struct())),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::List(b) => Arc::new(b.finish()),
            Builder::Map(b) => Arc::new(b.finish()),
            Builder::Names(b) => Arc::new(b.finish()),
        }
    }
}

/// The Arrow schema of `columns`, its types taken from the builders themselves (the list and
/// map layouts are the builders').
pub fn schema(columns: &[Column]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|&(name, kind, nullable)| {
            let t = Builder::new(kind, 0).finish().data_type().clone();
            Field::new(name, t, nullable)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Rows being built: each row appends one value to every column, in the table's order.
pub struct Rows {
    schema: SchemaRef,
    builders: Vec<Builder>,
    /// The next column of the row being appended.
    at: usize,
}

impl Rows {
    pub fn new(schema: SchemaRef, columns: &[Column], rows: usize) -> Rows {
        Rows {
            schema,
            builders: columns.iter().map(|c| Builder::new(c.1, rows)).collect(),
            at: 0,
        }
    }

    fn next(&mut self) -> &mut Builder {
        let b = &mut self.builders[self.at];
        self.at += 1;
        b
    }

    /// Ends a row: every column had its value.
    pub fn end_row(&mut self) {
        debug_assert_eq!(self.at, self.builders.len(), "a row fills every column");
        self.at = 0;
    }

    pub fn ts(&mut self, ns: u64) {
        let Builder::Ts(b) = self.next() else {
            panic!("column kind")
        };
        b.append_value(ns as i64);
    }

    pub fn str(&mut self, v: Option<&str>) {
        let Builder::Str(b) = self.next() else {
            panic!("column kind")
        };
        b.append_option(v);
    }

    /// A value written by its `Display` straight into the column (no `String` per row).
    pub fn display(&mut self, v: Option<impl std::fmt::Display>) {
        let Builder::Str(b) = self.next() else {
            panic!("column kind")
        };
        match v {
            Some(v) => {
                use std::fmt::Write;
                let _ = write!(b, "{v}");
                b.append_value("");
            }
            None => b.append_null(),
        }
    }

    pub fn i32(&mut self, v: Option<i64>) {
        let Builder::I32(b) = self.next() else {
            panic!("column kind")
        };
        b.append_option(v.map(|v| v as i32));
    }

    pub fn i64(&mut self, v: Option<u64>) {
        let Builder::I64(b) = self.next() else {
            panic!("column kind")
        };
        b.append_option(v.map(|v| v as i64));
    }

    pub fn bool(&mut self, v: Option<bool>) {
        let Builder::Bool(b) = self.next() else {
            panic!("column kind")
        };
        b.append_option(v);
    }

    pub fn list<'s>(&mut self, v: Option<impl IntoIterator<Item = &'s String>>) {
        let Builder::List(b) = self.next() else {
            panic!("column kind")
        };
        match v {
            Some(items) => {
                for s in items {
                    b.values().append_value(s);
                }
                b.append(true);
            }
            None => b.append(false),
        }
    }

    /// A list of (name, source) pairs.
    pub fn names<'s>(&mut self, v: impl IntoIterator<Item = (&'s str, &'s str)>) {
        let Builder::Names(b) = self.next() else {
            panic!("column kind")
        };
        let s = b.values();
        for (name, source) in v {
            s.field_builder::<StringBuilder>(0)
                .expect("name field")
                .append_value(name);
            s.field_builder::<StringBuilder>(1)
                .expect("source field")
                .append_value(source);
            s.append(true);
        }
        b.append(true);
    }

    pub fn map<'s>(&mut self, v: Option<impl IntoIterator<Item = (&'s String, &'s String)>>) {
        let Builder::Map(b) = self.next() else {
            panic!("column kind")
        };
        match v {
            Some(entries) => {
                for (k, v) in entries {
                    b.keys().append_value(k);
                    b.values().append_value(v);
                }
                // Appending to a map builder cannot fail when keys and values match.
                let _ = b.append(true);
            }
            None => {
                let _ = b.append(false);
            }
        }
    }

    pub fn finish(mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        // The builders are made from the schema's own columns: the batch always fits it.
        RecordBatch::try_new(self.schema, arrays).expect("columns match the schema")
    }
}

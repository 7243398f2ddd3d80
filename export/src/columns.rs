//! Columns as one table of names and kinds, filled row by row in that order.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayBuilder, ArrayRef, BooleanBuilder, DictionaryArray, Int32Array, Int32Builder,
    Int64Builder, ListBuilder, MapBuilder, StringBuilder, StructBuilder,
    TimestampNanosecondBuilder, UInt32Builder,
};
use arrow::datatypes::{DataType, Field, Fields, Int32Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use formats::table::IdMap;

/// A column's kind: its Arrow type and so its Parquet type (docs/parquet.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// TIMESTAMP(NANOS, UTC).
    Ts,
    Str,
    /// Text that repeats from row to row (an owner's name, an address, a flow's Community
    /// ID): an Arrow dictionary, each distinct value stored once per row group. In Parquet
    /// the same string column as `Str` (BYTE_ARRAY, UTF8).
    Text,
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
    Text(TextBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    Bool(BooleanBuilder),
    List(Dedup<ListBuilder<StringBuilder>>),
    Map(Dedup<MapBuilder<StringBuilder, StringBuilder>>),
    Names(ListBuilder<StructBuilder>),
    /// A column null in every row of the batch ([`Rows::absent`]): one null array.
    Null(DataType),
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

/// What identifies a [`Kind::Text`] value within a row group without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextKey {
    /// A borrowed string by address and length: the rows of a group borrow their values from
    /// entities that all live until the group is built, so one address is one string (and
    /// two copies of one text at two addresses merely give the dictionary the value twice).
    Str(usize, usize),
    V4(u32),
    V6(u128),
    /// A small number a text is made from (a protocol number).
    Num(u64),
}

impl TextKey {
    pub fn of_str(s: &str) -> TextKey {
        TextKey::Str(s.as_ptr() as usize, s.len())
    }

    pub fn of_ip(a: std::net::IpAddr) -> TextKey {
        match a {
            std::net::IpAddr::V4(a) => TextKey::V4(a.into()),
            std::net::IpAddr::V6(a) => TextKey::V6(a.into()),
        }
    }
}

/// A [`Kind::Text`] column: a key per row into the distinct values seen so far.
pub struct TextBuilder {
    keys: Int32Builder,
    values: StringBuilder,
    index: IdMap<TextKey, i32>,
    /// The last row's key and index: runs of one value cost a comparison.
    last: Option<(TextKey, i32)>,
}

impl TextBuilder {
    fn new(rows: usize) -> TextBuilder {
        TextBuilder {
            keys: Int32Builder::with_capacity(rows),
            values: StringBuilder::new(),
            index: IdMap::default(),
            last: None,
        }
    }

    /// A row with the value `key` names, written by `write` when the group has not seen it.
    fn value(&mut self, key: TextKey, write: impl FnOnce(&mut StringBuilder)) {
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let next = self.index.len() as i32;
                let i = *self.index.entry(key).or_insert_with(|| {
                    write(&mut self.values);
                    next
                });
                self.last = Some((key, i));
                i
            }
        };
        self.keys.append_value(i);
    }

    fn null(&mut self) {
        self.keys.append_null();
    }

    fn finish(&mut self) -> ArrayRef {
        let keys: Int32Array = self.keys.finish();
        let values = Arc::new(self.values.finish());
        self.index.clear();
        self.last = None;
        // Every key is an index the values were given: the dictionary is valid by construction.
        Arc::new(DictionaryArray::<Int32Type>::new(keys, values))
    }
}

/// A nested column (a list, a map) whose rows repeat an entity's value: each distinct value
/// (by the address of what it is built from) is built once, and the rows are gathered from
/// those at the end (Arrow's `take`), not appended entry by entry per row.
pub struct Dedup<B> {
    distinct: B,
    index: IdMap<usize, u32>,
    rows: UInt32Builder,
    last: Option<(usize, u32)>,
}

impl<B> Dedup<B> {
    fn new(distinct: B, rows: usize) -> Dedup<B> {
        Dedup {
            distinct,
            index: IdMap::default(),
            rows: UInt32Builder::with_capacity(rows),
            last: None,
        }
    }

    /// A row: the value at address `key`, built into `distinct` by `build` the first time.
    fn row(&mut self, key: Option<usize>, build: impl FnOnce(&mut B)) {
        let Some(key) = key else {
            self.rows.append_null();
            return;
        };
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let next = self.index.len() as u32;
                let distinct = &mut self.distinct;
                let i = *self.index.entry(key).or_insert_with(|| {
                    build(distinct);
                    next
                });
                self.last = Some((key, i));
                i
            }
        };
        self.rows.append_value(i);
    }

    fn finish(&mut self, finish: impl FnOnce(&mut B) -> ArrayRef) -> ArrayRef {
        let distinct = finish(&mut self.distinct);
        let rows = self.rows.finish();
        self.index.clear();
        self.last = None;
        // The indices are positions the distinct values were built at; offsets overflow only
        // past 2 GiB of text in one row group, where the builders before this would have too.
        arrow::compute::take(distinct.as_ref(), &rows, None)
            .expect("rows index the distinct values")
    }
}

impl Builder {
    fn new(kind: Kind, rows: usize) -> Builder {
        match kind {
            Kind::Ts => {
                Builder::Ts(TimestampNanosecondBuilder::with_capacity(rows).with_timezone("+00:00"))
            }
            Kind::Str => Builder::Str(StringBuilder::with_capacity(rows, rows * 8)),
            Kind::Text => Builder::Text(TextBuilder::new(rows)),
            Kind::I32 => Builder::I32(Int32Builder::with_capacity(rows)),
            Kind::I64 => Builder::I64(Int64Builder::with_capacity(rows)),
            Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            Kind::List => Builder::List(Dedup::new(ListBuilder::new(StringBuilder::new()), rows)),
            Kind::Map => Builder::Map(Dedup::new(
                MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()),
                rows,
            )),
            Kind::Names => Builder::Names(ListBuilder::new(name_struct())),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Text(b) => b.finish(),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::List(b) => b.finish(|b| Arc::new(b.finish())),
            Builder::Map(b) => b.finish(|b| Arc::new(b.finish())),
            Builder::Names(b) => Arc::new(b.finish()),
            Builder::Null(_) => unreachable!("null columns are made by Rows::finish"),
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
///
/// `'a` is how long the values given to `Text`, list and map columns live: those columns
/// know a value by its address ([`TextKey::Str`], [`Dedup`]), which is one value only while
/// it cannot be freed and reused, i.e. for as long as the rows are built.
pub struct Rows<'a> {
    schema: SchemaRef,
    builders: Vec<Builder>,
    /// The next column of the row being appended.
    at: usize,
    /// Rows ended so far.
    rows: usize,
    values: std::marker::PhantomData<&'a ()>,
}

impl<'a> Rows<'a> {
    pub fn new(schema: SchemaRef, columns: &[Column], rows: usize) -> Rows<'a> {
        Rows {
            schema,
            builders: columns.iter().map(|c| Builder::new(c.1, rows)).collect(),
            at: 0,
            rows: 0,
            values: std::marker::PhantomData,
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
        self.rows += 1;
    }

    /// Says, before the first row, that the `len` columns from `first` on are null in every
    /// row (an entity no packet of the group has): they become one null array each, which
    /// Parquet writes without looking at the rows, and the rows pass them with
    /// [`group`](Self::group).
    pub fn absent(&mut self, first: &str, len: usize) {
        debug_assert_eq!(self.rows, 0, "absent before the first row");
        let Ok(start) = self.schema.index_of(first) else {
            panic!("no column {first}")
        };
        for i in start..start + len {
            debug_assert!(self.schema.field(i).is_nullable(), "{first}: a null column");
            self.builders[i] = Builder::Null(self.schema.field(i).data_type().clone());
        }
    }

    /// The `len` columns of an entity: filled by `fill` when `present` (the batch has the
    /// entity somewhere), else passed (they were made [`absent`](Self::absent)).
    pub fn group(&mut self, present: bool, len: usize, fill: impl FnOnce(&mut Self)) {
        let start = self.at;
        if present {
            fill(self);
        } else {
            debug_assert!(self.builders[start..start + len]
                .iter()
                .all(|b| matches!(b, Builder::Null(_))));
            self.at += len;
        }
        debug_assert_eq!(self.at - start, len, "a group fills its columns");
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

    /// A string into a `Text` column, known by its address.
    pub fn text_str(&mut self, v: Option<&'a str>) {
        let Builder::Text(b) = self.next() else {
            panic!("column kind")
        };
        match v {
            Some(v) => b.value(TextKey::of_str(v), |w| w.append_value(v)),
            None => b.null(),
        }
    }

    /// A `Text` value made by its `Display` only when the row group has not seen `key`.
    pub fn text(&mut self, v: Option<(TextKey, impl std::fmt::Display)>) {
        let Builder::Text(b) = self.next() else {
            panic!("column kind")
        };
        match v {
            Some((key, v)) => b.value(key, |w| {
                use std::fmt::Write;
                let _ = write!(w, "{v}");
                w.append_value("");
            }),
            None => b.null(),
        }
    }

    /// An address into a `Text` column.
    pub fn ip(&mut self, v: Option<std::net::IpAddr>) {
        self.text(v.map(|a| (TextKey::of_ip(a), a)));
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

    pub fn list(&mut self, v: Option<&'a Vec<String>>) {
        let Builder::List(b) = self.next() else {
            panic!("column kind")
        };
        b.row(v.map(|v| v as *const Vec<String> as usize), |b| {
            for s in v.into_iter().flatten() {
                b.values().append_value(s);
            }
            b.append(true);
        });
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

    pub fn map(&mut self, v: Option<&'a std::collections::BTreeMap<String, String>>) {
        let Builder::Map(b) = self.next() else {
            panic!("column kind")
        };
        b.row(v.map(|v| v as *const _ as usize), |b| {
            for (k, v) in v.into_iter().flatten() {
                b.keys().append_value(k);
                b.values().append_value(v);
            }
            // Appending to a map builder cannot fail when keys and values match.
            let _ = b.append(true);
        });
    }

    pub fn finish(mut self) -> RecordBatch {
        let rows = self.rows;
        let arrays: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| match b {
                Builder::Null(t) => arrow::array::new_null_array(t, rows),
                b => b.finish(),
            })
            .collect();
        // The builders are made from the schema's own columns: the batch always fits it.
        RecordBatch::try_new(self.schema, arrays).expect("columns match the schema")
    }
}

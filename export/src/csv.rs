//! CSV (RFC 4180): one line per row; lists and maps as JSON text (`["a","b"]`, `{"k":"v"}`:
//! exact, where Arrow's display form would be ambiguous); null is an empty field; times as
//! RFC 3339 in UTC.

use std::io;

use arrow::array::{Array, AsArray, StringArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// A list or map cell as JSON; `None` for other columns.
fn nested_json(column: &dyn Array, row: usize) -> Option<String> {
    let strings = |a: &dyn Array| -> Vec<String> {
        let s: &StringArray = a.as_string();
        (0..s.len()).map(|i| s.value(i).to_string()).collect()
    };
    match column.data_type() {
        DataType::List(f) if matches!(f.data_type(), DataType::Struct(_)) => {
            // A list of structs of strings (an endpoint's names): `[{"name":..,"source":..}]`.
            let items = column.as_list::<i32>().value(row);
            let st = items.as_struct();
            let names: Vec<String> = st.column_names().iter().map(|n| n.to_string()).collect();
            let cols: Vec<Vec<String>> = st.columns().iter().map(|c| strings(c.as_ref())).collect();
            let objects: Vec<serde_json::Value> = (0..st.len())
                .map(|i| {
                    let o: serde_json::Map<String, serde_json::Value> = names
                        .iter()
                        .zip(&cols)
                        .map(|(n, c)| (n.clone(), serde_json::Value::String(c[i].clone())))
                        .collect();
                    serde_json::Value::Object(o)
                })
                .collect();
            Some(serde_json::Value::Array(objects).to_string())
        }
        DataType::List(_) => {
            let items = strings(column.as_list::<i32>().value(row).as_ref());
            Some(serde_json::to_string(&items).unwrap_or_default())
        }
        DataType::Map(..) => {
            let entries = column.as_map().value(row);
            let keys = strings(entries.column(0).as_ref());
            let values = strings(entries.column(1).as_ref());
            let map: serde_json::Map<String, serde_json::Value> = keys
                .into_iter()
                .zip(values.into_iter().map(serde_json::Value::String))
                .collect();
            Some(serde_json::Value::Object(map).to_string())
        }
        _ => None,
    }
}

/// A field, quoted when it holds a comma, a quote or a line break.
fn field(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// The rows of `batch`, with the header line first when `header`.
pub fn encode(batch: &RecordBatch, header: bool) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(batch.num_rows() * 256);
    if header {
        for (i, f) in batch.schema().fields().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            field(&mut out, f.name());
        }
        out.extend_from_slice(b"\r\n");
    }
    let options = FormatOptions::default();
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io::Error::other)?;
    let mut cell = String::new();
    for row in 0..batch.num_rows() {
        for (i, f) in formatters.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let column = batch.column(i);
            if column.is_null(row) {
                continue;
            }
            cell.clear();
            match nested_json(column.as_ref(), row) {
                Some(json) => cell = json,
                None => {
                    use std::fmt::Write;
                    let _ = write!(cell, "{}", f.value(row));
                }
            }
            field(&mut out, &cell);
        }
        out.extend_from_slice(b"\r\n");
    }
    Ok(out)
}

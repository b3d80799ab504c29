//! The Parquet files of `--export parquet`: the low-level column writer of the `parquet`
//! crate over the export's typed tables (cargo feature `parquet`).

use super::{Table, Values};
use crate::error::AnalyzeError;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::path::Path;
use std::sync::Arc;

fn err(path: &Path, e: impl std::fmt::Display) -> AnalyzeError {
    AnalyzeError::Export {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Writes a file with `schema`'s columns; `groups` calls its argument once per row group.
pub fn write_tables(
    path: &Path,
    schema: &Table,
    groups: impl FnOnce(&mut dyn FnMut(&Table) -> Result<(), AnalyzeError>) -> Result<(), AnalyzeError>,
) -> Result<(), AnalyzeError> {
    // Every declared column as written: nullable ones optional, the others required.
    let mut declared = schema.clone();
    for c in &mut declared.columns {
        c.values = match &c.values {
            Values::I64(_) => Values::I64(Vec::new()),
            Values::F64(_) => Values::F64(Vec::new()),
            Values::Utf8(_) => Values::Utf8(Vec::new()),
            Values::Bool(_) => Values::Bool(Vec::new()),
        };
    }
    let message = declared.message_type();
    let parsed = Arc::new(parse_message_type(&message).map_err(|e| err(path, e))?);
    let file = std::fs::File::create(path).map_err(|cause| AnalyzeError::Write {
        path: path.to_path_buf(),
        cause,
    })?;
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, parsed, props).map_err(|e| err(path, e))?;
    let mut emit = |t: &Table| -> Result<(), AnalyzeError> {
        let mut rg = writer.next_row_group().map_err(|e| err(path, e))?;
        for (c, d) in t.columns.iter().zip(&declared.columns) {
            let Some(mut w) = rg.next_column().map_err(|e| err(path, e))? else {
                return Err(err(path, "fewer columns in the file than in the table"));
            };
            let optional = d.nullable;
            let defs =
                |present: Vec<bool>| -> Vec<i16> { present.into_iter().map(i16::from).collect() };
            let result = match &c.values {
                Values::I64(v) => {
                    let vals: Vec<i64> = v.iter().flatten().copied().collect();
                    let levels = defs(v.iter().map(Option::is_some).collect());
                    check_required(optional, vals.len(), v.len(), &c.name, path)?;
                    w.typed::<Int64Type>()
                        .write_batch(&vals, optional.then_some(&levels[..]), None)
                }
                Values::F64(v) => {
                    let vals: Vec<f64> = v.iter().flatten().copied().collect();
                    let levels = defs(v.iter().map(Option::is_some).collect());
                    check_required(optional, vals.len(), v.len(), &c.name, path)?;
                    w.typed::<DoubleType>().write_batch(
                        &vals,
                        optional.then_some(&levels[..]),
                        None,
                    )
                }
                Values::Utf8(v) => {
                    let vals: Vec<ByteArray> = v
                        .iter()
                        .flatten()
                        .map(|s| ByteArray::from(s.as_str()))
                        .collect();
                    let levels = defs(v.iter().map(Option::is_some).collect());
                    check_required(optional, vals.len(), v.len(), &c.name, path)?;
                    w.typed::<ByteArrayType>().write_batch(
                        &vals,
                        optional.then_some(&levels[..]),
                        None,
                    )
                }
                Values::Bool(v) => {
                    let vals: Vec<bool> = v.iter().flatten().copied().collect();
                    let levels = defs(v.iter().map(Option::is_some).collect());
                    check_required(optional, vals.len(), v.len(), &c.name, path)?;
                    w.typed::<BoolType>()
                        .write_batch(&vals, optional.then_some(&levels[..]), None)
                }
            };
            result.map_err(|e| err(path, e))?;
            w.close().map_err(|e| err(path, e))?;
        }
        rg.close().map_err(|e| err(path, e))?;
        Ok(())
    };
    groups(&mut emit)?;
    writer.close().map_err(|e| err(path, e))?;
    Ok(())
}

fn check_required(
    optional: bool,
    present: usize,
    rows: usize,
    name: &str,
    path: &Path,
) -> Result<(), AnalyzeError> {
    if optional || present == rows {
        Ok(())
    } else {
        Err(err(
            path,
            format!("column `{name}` is required but has nulls"),
        ))
    }
}

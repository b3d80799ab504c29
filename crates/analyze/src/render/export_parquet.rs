//! The Parquet files of `--export parquet`: the low-level column writer of the `parquet`
//! crate over the export's typed tables (cargo feature `parquet`). A column's kind gives its
//! physical type (`Int`: INT64, `Float`: DOUBLE, `Text`: UTF8 BYTE_ARRAY, `Bool`: BOOLEAN),
//! its nullability whether it is OPTIONAL or REQUIRED. A cell missing, of another kind, a
//! count beyond INT64 or a float that is not finite is written as null.

use crate::error::AnalyzeError;
use crate::table::{Cell, Column, Kind, Table};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DataType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::parser::parse_message_type;
use std::path::Path;
use std::sync::Arc;

fn err(path: &Path, e: impl std::fmt::Display) -> AnalyzeError {
    AnalyzeError::Export {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The Parquet schema of the named columns, in the parquet crate's message syntax.
pub fn message_type(name: &str, columns: &[Column]) -> String {
    let mut s = format!("message {name} {{\n");
    for c in columns {
        let Some(col) = &c.name else { continue };
        let rep = if c.nullable { "OPTIONAL" } else { "REQUIRED" };
        let ty = match c.kind {
            Kind::Int => "INT64",
            Kind::Float => "DOUBLE",
            Kind::Text => "BYTE_ARRAY",
            Kind::Bool => "BOOLEAN",
        };
        let annot = if c.kind == Kind::Text { " (UTF8)" } else { "" };
        s += &format!("  {rep} {ty} {col}{annot};\n");
    }
    s + "}\n"
}

/// Writes a file named `name` inside with `schema`'s named columns; `groups` calls its
/// argument once per row group (a table of the same columns).
pub fn write_tables(
    path: &Path,
    name: &str,
    schema: &Table,
    groups: impl FnOnce(&mut dyn FnMut(&Table) -> Result<(), AnalyzeError>) -> Result<(), AnalyzeError>,
) -> Result<(), AnalyzeError> {
    let message = message_type(name, &schema.columns);
    let parsed = Arc::new(parse_message_type(&message).map_err(|e| err(path, e))?);
    let file = std::fs::File::create(path).map_err(|cause| AnalyzeError::Write {
        path: path.to_path_buf(),
        cause,
    })?;
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, parsed, props).map_err(|e| err(path, e))?;
    let mut emit = |t: &Table| -> Result<(), AnalyzeError> {
        let mut rg = writer.next_row_group().map_err(|e| err(path, e))?;
        for (i, c) in schema.columns.iter().enumerate() {
            let Some(col) = &c.name else { continue };
            let Some(mut w) = rg.next_column().map_err(|e| err(path, e))? else {
                return Err(err(path, "fewer columns in the file than in the table"));
            };
            let cells = t.rows.iter().map(|r| &r[i]);
            match c.kind {
                Kind::Int => write_column::<Int64Type>(&mut w, cells.map(int), c, col, path),
                Kind::Float => write_column::<DoubleType>(&mut w, cells.map(float), c, col, path),
                Kind::Text => write_column::<ByteArrayType>(&mut w, cells.map(text), c, col, path),
                Kind::Bool => write_column::<BoolType>(&mut w, cells.map(boolean), c, col, path),
            }?;
            w.close().map_err(|e| err(path, e))?;
        }
        rg.close().map_err(|e| err(path, e))?;
        Ok(())
    };
    groups(&mut emit)?;
    writer.close().map_err(|e| err(path, e))?;
    Ok(())
}

fn int(c: &Cell) -> Option<i64> {
    match c {
        Cell::Int(v) => v.and_then(|v| v.try_into().ok()),
        _ => None,
    }
}

fn float(c: &Cell) -> Option<f64> {
    match c {
        Cell::Float(v) => v.filter(|f| f.is_finite()),
        _ => None,
    }
}

fn text(c: &Cell) -> Option<ByteArray> {
    match c {
        Cell::Text(v) => v.as_deref().map(ByteArray::from),
        _ => None,
    }
}

fn boolean(c: &Cell) -> Option<bool> {
    match c {
        Cell::Bool(v) => *v,
        _ => None,
    }
}

/// One column chunk: the present values, and definition levels when the column is optional.
fn write_column<T: DataType>(
    w: &mut SerializedColumnWriter<'_>,
    values: impl Iterator<Item = Option<T::T>>,
    c: &Column,
    name: &str,
    path: &Path,
) -> Result<(), AnalyzeError> {
    let (mut vals, mut levels) = (Vec::new(), Vec::new());
    for v in values {
        levels.push(i16::from(v.is_some()));
        vals.extend(v);
    }
    if !c.nullable && vals.len() != levels.len() {
        return Err(err(
            path,
            format!("column `{name}` is required but has nulls"),
        ));
    }
    (w.typed::<T>())
        .write_batch(&vals, c.nullable.then_some(&levels[..]), None)
        .map(|_| ())
        .map_err(|e| err(path, e))
}

//! One table type and its writers. A table is columns (a name for the raw outputs, with its
//! unit; a label for reading; a kind) and rows of typed cells. Each output has one writer:
//! aligned plain text for the terminal (the analysis summary, `bench`'s and `cost`'s tables,
//! the probe table), Markdown and HTML read the labelled columns, formatted for reading
//! ([`Read`], with [`crate::units`]); CSV reads the named columns raw (full precision, empty
//! where nothing was measured). A table of text columns ([`Table::new`]) reads the same both
//! ways. Typed outputs (the Parquet export) read the named columns' kinds and nullability.

use crate::units;
use std::borrow::Cow;

/// What a column's cells hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    Bool,
}

/// The unit of a column's raw values (its name says it too: `latency_median_ns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    None,
    Ns,
    Bytes,
    /// A share, 0 to 1.
    Fraction,
    /// MACs per second.
    MacsPerS,
    BytesPerS,
    Celsius,
    /// A count (params, MACs, runs).
    Count,
    /// One quantity over another of the same unit.
    Ratio,
}

/// How a column's cells are formatted for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// As in the raw outputs.
    Plain,
    /// Nanoseconds as milliseconds, 3 decimals.
    MsOfNs,
    /// A count with an SI suffix.
    Si,
    /// A fraction as a percentage, 1 decimal.
    Pct,
    /// A number with this many decimals.
    Fixed(usize),
    /// Degrees Celsius with a sign: `+1.2 °C`.
    SignedCelsius,
    /// A ratio with 2 decimals and an `x`: `1.25x`.
    Times,
    /// A number with a sign and this many decimals: `+1.2`.
    Signed(usize),
    /// Per second in giga per second, 2 decimals (GMAC/s, GB/s).
    GigaOfPerS,
    /// Nanoseconds as microseconds, 2 decimals.
    UsOfNs,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The raw outputs' header (CSV); `None`: for reading only.
    pub name: Option<String>,
    /// The reading outputs' header (terminal, Markdown, HTML); `None`: raw outputs only.
    pub label: Option<String>,
    pub kind: Kind,
    pub unit: Unit,
    pub read: Read,
    /// Whether a cell may be missing; typed outputs declare it (CSV writes an empty cell).
    pub nullable: bool,
}

impl Column {
    /// A text column, the same header everywhere.
    pub fn text(header: &str) -> Column {
        Column {
            name: Some(header.into()),
            label: Some(header.into()),
            kind: Kind::Text,
            unit: Unit::None,
            read: Read::Plain,
            nullable: true,
        }
    }

    /// A column named `name` in the raw outputs and `label` for reading.
    pub fn new(name: &str, label: &str, kind: Kind, unit: Unit, read: Read) -> Column {
        Column {
            name: Some(name.into()),
            label: Some(label.into()),
            kind,
            unit,
            read,
            nullable: true,
        }
    }

    /// Integer nanoseconds, read as milliseconds.
    pub fn ns(name: &str, label: &str) -> Column {
        Column::new(name, label, Kind::Int, Unit::Ns, Read::MsOfNs)
    }

    /// A column of the raw outputs only, its unit in its name.
    pub fn raw(name: &str, kind: Kind) -> Column {
        Column::new(name, "", kind, Unit::None, Read::Plain).raw_only()
    }

    /// The same column, never missing.
    pub fn required(self) -> Column {
        Column {
            nullable: false,
            ..self
        }
    }

    /// The same column, in the raw outputs only.
    pub fn raw_only(self) -> Column {
        Column {
            label: None,
            ..self
        }
    }

    /// The same column, for reading only.
    pub fn reading_only(self) -> Column {
        Column { name: None, ..self }
    }
}

/// A column and how a row's cell of it is read from the row's source `T`: a table defined
/// column by column, each with its value ([`Table::of`]).
pub struct Def<T> {
    pub column: Column,
    pub cell: fn(&T) -> Cell,
}

/// One cell; `None`: not measured (`n/a` for reading, empty in the raw outputs).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<u64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    /// Not measured, and why (the reason for reading, empty in the raw outputs).
    Absent(String),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(Some(s.into()))
    }

    /// The raw form: full precision, empty when missing.
    pub fn raw(&self) -> String {
        match self {
            Cell::Text(t) => t.clone().unwrap_or_default(),
            Cell::Int(v) => v.map_or(String::new(), |v| v.to_string()),
            Cell::Float(v) => v.map_or(String::new(), |v| format!("{v}")),
            Cell::Bool(v) => v.map_or(String::new(), |v| v.to_string()),
            Cell::Absent(_) => String::new(),
        }
    }

    /// The form for reading, in `read`; `n/a` when missing.
    pub fn reading(&self, read: Read) -> String {
        let number = |v: f64| match read {
            Read::Plain => format!("{v}"),
            Read::MsOfNs => units::ms_of_ns(v),
            Read::Si => units::si(v as u64),
            Read::Pct => units::pct(v),
            Read::Fixed(d) => format!("{v:.d$}"),
            Read::SignedCelsius => format!("{v:+.1} °C"),
            Read::Times => format!("{v:.2}x"),
            Read::Signed(d) => format!("{v:+.d$}"),
            Read::GigaOfPerS => units::giga_of_per_s(Some(v)),
            Read::UsOfNs => units::us_of_ns(Some(v)),
        };
        match self {
            Cell::Text(t) => t.clone().unwrap_or_else(|| "n/a".into()),
            Cell::Int(Some(v)) => match read {
                Read::Plain => v.to_string(),
                Read::Si => units::si(*v),
                _ => number(*v as f64),
            },
            Cell::Float(Some(v)) => number(*v),
            Cell::Bool(Some(v)) => v.to_string(),
            Cell::Int(None) | Cell::Float(None) | Cell::Bool(None) => "n/a".into(),
            Cell::Absent(why) => why.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// Headers and rows of text, as one kind of output shows a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// How a column's cells are aligned in plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One column of a plain-text layout: its alignment, its width at least (it widens to its
/// longest cell) and the text between it and the column before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub align: Align,
    pub min_width: usize,
    pub gap: &'static str,
}

impl Col {
    pub const fn left(min_width: usize) -> Col {
        Col {
            align: Align::Left,
            min_width,
            gap: " ",
        }
    }

    pub const fn right(min_width: usize) -> Col {
        Col {
            align: Align::Right,
            min_width,
            gap: " ",
        }
    }

    /// The same column with `gap` before it.
    pub const fn after(self, gap: &'static str) -> Col {
        Col { gap, ..self }
    }
}

/// A plain-text layout: the columns (those past the list: right-aligned, one space before),
/// text before every line, and whether a rule of dashes follows the header. Trailing spaces
/// are cut from every line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub cols: Vec<Col>,
    pub indent: &'static str,
    pub rule: bool,
}

impl Layout {
    /// The analysis's tables: the first column left, the others right, two spaces apart, a
    /// rule under the header.
    pub fn report(columns: usize) -> Layout {
        let cols = (0..columns)
            .map(|i| match i {
                0 => Col::left(0),
                _ => Col::right(0).after("  "),
            })
            .collect();
        Layout {
            cols,
            indent: "",
            rule: true,
        }
    }

    fn col(&self, i: usize) -> Col {
        self.cols.get(i).copied().unwrap_or(Col::right(0))
    }
}

impl Table {
    /// A table of text columns, `headers` everywhere.
    pub fn new(headers: &[&str]) -> Self {
        Self::typed(headers.iter().map(|h| Column::text(h)).collect())
    }

    pub fn typed(columns: Vec<Column>) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// A table of `defs`' columns, one row per item of `rows`.
    pub fn of<T>(defs: &[Def<T>], rows: impl IntoIterator<Item = T>) -> Self {
        let mut t = Self::typed(defs.iter().map(|d| d.column.clone()).collect());
        for r in rows {
            t.rows.push(defs.iter().map(|d| (d.cell)(&r)).collect());
        }
        t
    }

    /// Appends a row of text cells, padded or cut to the number of columns.
    pub fn row(&mut self, cells: Vec<String>) {
        self.push(cells.into_iter().map(Cell::text).collect());
    }

    /// Appends a row, padded (with empty text) or cut to the number of columns.
    pub fn push(&mut self, mut cells: Vec<Cell>) {
        cells.resize(self.columns.len(), Cell::text(""));
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The labelled columns, formatted for reading (terminal, Markdown, HTML).
    pub fn reading(&self) -> Shown {
        self.shown(|c| c.label.as_deref(), |cell, col| cell.reading(col.read))
    }

    /// The named columns, raw (CSV).
    pub fn raw(&self) -> Shown {
        self.shown(|c| c.name.as_deref(), |cell, _| cell.raw())
    }

    /// The columns that `header` gives a header, each cell as `text` writes it.
    fn shown(
        &self,
        header: impl Fn(&Column) -> Option<&str>,
        text: impl Fn(&Cell, &Column) -> String,
    ) -> Shown {
        let cols: Vec<(usize, &str)> = (self.columns.iter().enumerate())
            .filter_map(|(i, c)| Some((i, header(c)?)))
            .collect();
        let rows = self.rows.iter().map(|r| {
            let cells = cols.iter().map(|&(i, _)| text(&r[i], &self.columns[i]));
            cells.collect()
        });
        Shown {
            headers: cols.iter().map(|(_, h)| h.to_string()).collect(),
            rows: rows.collect(),
        }
    }

    /// Plain text in [`Layout::report`].
    pub fn to_text(&self) -> String {
        let s = self.reading();
        s.to_text_in(&Layout::report(s.headers.len()))
    }

    /// Plain text in `layout` (see [`Shown::to_text_in`]).
    pub fn to_text_in(&self, layout: &Layout) -> String {
        self.reading().to_text_in(layout)
    }

    pub fn to_markdown(&self) -> String {
        self.reading().to_markdown()
    }

    pub fn to_csv(&self) -> String {
        let headers: Vec<String> = self.columns.iter().filter_map(|c| c.name.clone()).collect();
        csv_line(&headers) + &self.csv_rows()
    }

    /// The CSV lines of the rows alone (a table written in parts after its header).
    pub fn csv_rows(&self) -> String {
        let named: Vec<usize> = (self.columns.iter().enumerate())
            .filter_map(|(i, c)| c.name.as_ref().map(|_| i))
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            for (k, &i) in named.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out += &csv_field(&row[i].raw());
            }
            out.push('\n');
        }
        out
    }
}

impl Shown {
    /// Plain text in `layout`: each column as wide as its widest cell, at least its minimum.
    pub fn to_text_in(&self, layout: &Layout) -> String {
        let mut widths: Vec<usize> = (0..self.headers.len())
            .map(|i| layout.col(i).min_width)
            .collect();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = layout.indent.to_string();
            for (i, (cell, &width)) in cells.iter().zip(&widths).enumerate() {
                let col = layout.col(i);
                if i > 0 {
                    out += col.gap;
                }
                match col.align {
                    Align::Left => out += &format!("{cell:<width$}"),
                    Align::Right => out += &format!("{cell:>width$}"),
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.headers);
        if layout.rule {
            let rule: Vec<String> = widths.iter().map(|n| "-".repeat(*n)).collect();
            out += &line(&rule);
        }
        for row in &self.rows {
            out += &line(row);
        }
        out
    }

    pub fn to_markdown(&self) -> String {
        let escape = |c: &String| c.replace('|', "\\|");
        let mut out = format!(
            "| {} |\n",
            self.headers
                .iter()
                .map(escape)
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let align: Vec<&str> = (0..self.headers.len())
            .map(|i| if i == 0 { "---" } else { "---:" })
            .collect();
        out += &format!("| {} |\n", align.join(" | "));
        for row in &self.rows {
            out += &format!(
                "| {} |\n",
                row.iter().map(escape).collect::<Vec<_>>().join(" | ")
            );
        }
        out
    }
}

/// A CSV cell: quoted (its quotes doubled) when it holds a comma, a quote or a line break.
pub fn csv_field(cell: &str) -> Cow<'_, str> {
    if cell.contains([',', '"', '\n']) {
        Cow::Owned(format!("\"{}\"", cell.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(cell)
    }
}

/// One CSV line of `cells`, with its line break.
pub fn csv_line(cells: &[String]) -> String {
    let fields: Vec<Cow<str>> = cells.iter().map(|c| csv_field(c)).collect();
    fields.join(",") + "\n"
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;

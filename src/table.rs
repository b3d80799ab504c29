//! One table type and its writers: aligned plain text for the terminal (the analysis summary,
//! `bench`'s and `cost`'s tables, the probe table), Markdown and CSV. Cells are text already
//! formatted (see [`crate::units`]); a writer only lays them out.

use std::borrow::Cow;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
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
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row, padded or cut to the number of headers.
    pub fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Plain text in [`Layout::report`].
    pub fn to_text(&self) -> String {
        self.to_text_in(&Layout::report(self.headers.len()))
    }

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

    pub fn to_csv(&self) -> String {
        let mut out = csv_line(&self.headers);
        for row in &self.rows {
            out += &csv_line(row);
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
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["model", "ms"]);
        t.row(vec!["a,b".into(), "1.000".into()]);
        t.row(vec!["long|name".into()]);
        t
    }

    #[test]
    fn renders_three_ways() {
        let t = sample();
        assert_eq!(
            t.to_text(),
            "model         ms\n---------  -----\na,b        1.000\nlong|name\n"
        );
        assert!(t.to_markdown().contains("| long\\|name |  |"));
        assert_eq!(t.to_csv(), "model,ms\n\"a,b\",1.000\nlong|name,\n");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn a_layout_sets_alignment_minimum_widths_gaps_and_indent() {
        let mut t = Table::new(&["name", "kind", "n", "note"]);
        t.row(vec!["a".into(), "x".into(), "1".into(), "first".into()]);
        t.row(vec![
            "bbbbbb".into(),
            "y".into(),
            "22".into(),
            String::new(),
        ]);
        let layout = Layout {
            cols: vec![
                Col::left(4),
                Col::right(3),
                Col::left(0),
                Col::left(0).after("  "),
            ],
            indent: "  ",
            rule: false,
        };
        assert_eq!(
            t.to_text_in(&layout),
            "  name   kind n   note\n  a         x 1   first\n  bbbbbb    y 22\n"
        );
    }
}

//! A small table type rendered three ways (aligned plain text for the terminal, Markdown for
//! report.md, CSV), and the number formats every table shares. Missing counter data prints
//! as "not measured" in text and as an empty cell in CSV.

/// Text printed where a counter was null or absent.
pub const NOT_MEASURED: &str = "not measured";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
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

    fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                w[i] = w[i].max(cell.chars().count());
            }
        }
        w
    }

    /// Columns separated by two spaces; the first column left-aligned, the others right-aligned.
    pub fn to_text(&self) -> String {
        let w = self.widths();
        let line = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == 0 {
                        format!("{c:<width$}", width = w[i])
                    } else {
                        format!("{c:>width$}", width = w[i])
                    }
                })
                .collect();
            parts.join("  ").trim_end().to_string() + "\n"
        };
        let mut out = line(&self.headers);
        let rule: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
        out += &(rule.join("  ") + "\n");
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
        let quote = |c: &String| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        };
        let mut out = self.headers.iter().map(quote).collect::<Vec<_>>().join(",") + "\n";
        for row in &self.rows {
            out += &(row.iter().map(quote).collect::<Vec<_>>().join(",") + "\n");
        }
        out
    }
}

/// Nanoseconds as milliseconds with 3 decimals.
pub fn ms(ns: f64) -> String {
    format!("{:.3}", ns / 1e6)
}

/// A fraction as a percentage with 1 decimal.
pub fn pct(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// A count in millions with 2 decimals.
pub fn millions(count: u64) -> String {
    format!("{:.2}", count as f64 / 1e6)
}

/// A count with 3 significant digits and an SI suffix: 546, 22.7k, 25.6M, 4.11G.
pub fn si(count: u64) -> String {
    let v = count as f64;
    let (scaled, suffix) = match count {
        0..1_000 => return count.to_string(),
        1_000..1_000_000 => (v / 1e3, "k"),
        1_000_000..1_000_000_000 => (v / 1e6, "M"),
        _ => (v / 1e9, "G"),
    };
    let decimals = if scaled >= 100.0 {
        0
    } else if scaled >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.decimals$}{suffix}")
}

/// A float with `decimals`, or [`NOT_MEASURED`].
pub fn measured(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| NOT_MEASURED.to_string(), |v| format!("{v:.decimals$}"))
}

/// A float with `decimals`, or "n/a".
pub fn or_na(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.decimals$}"))
}

/// A float for CSV: full precision, empty when missing.
pub fn csv_num(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| format!("{v}"))
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
    }

    #[test]
    fn formats_carry_units_and_missing_values() {
        assert_eq!(ms(1_234_567.0), "1.235");
        assert_eq!(pct(0.1234), "12.3%");
        assert_eq!(measured(None, 2), NOT_MEASURED);
        assert_eq!(measured(Some(1.0), 2), "1.00");
        assert_eq!(csv_num(None), "");
        assert_eq!(si(546), "546");
        assert_eq!(si(22_688), "22.7k");
        assert_eq!(si(25_557_032), "25.6M");
        assert_eq!(si(4_110_000_000), "4.11G");
        assert_eq!(si(999_999), "1000k"); // rounding at a suffix boundary keeps the lower suffix
    }
}

//! The report's tables: the crate's one [`Table`] type (plain text for the terminal, Markdown
//! for report.md, CSV) with the units of [`crate::units`], and how a missing value prints:
//! "not measured" for counter data in text, an empty cell in CSV.

/// Text printed where a counter was null or absent.
pub const NOT_MEASURED: &str = "not measured";

pub use crate::table::Table;
pub use crate::units::{millions, ms_of_ns as ms, pct, si};

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

    #[test]
    fn missing_values_print_by_output() {
        assert_eq!(measured(None, 2), NOT_MEASURED);
        assert_eq!(measured(Some(1.0), 2), "1.00");
        assert_eq!(or_na(None, 2), "n/a");
        assert_eq!(csv_num(None), "");
        assert_eq!(csv_num(Some(0.5)), "0.5");
    }
}

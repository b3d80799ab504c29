//! Tests of `export`.

use super::*;

#[test]
fn counter_columns_are_identifiers() {
    assert_eq!(counter_column("cache-misses"), "counter_cache_misses");
    assert_eq!(counter_column("r17"), "counter_r17");
    assert_eq!(counter_column("L1D.refill"), "counter_l1d_refill");
}

#[test]
fn rows_fill_every_column() {
    let mut t = Table::new(
        "t",
        &[col("a", Kind::I64, false), col("b", Kind::Utf8, true)],
    );
    t.push(vec![i(3), s("x")]);
    t.push(vec![i(4)]);
    assert_eq!(t.rows, 2);
    assert_eq!(
        t.columns[1].values,
        Values::Utf8(vec![Some("x".into()), None])
    );
    let m = t.message_type();
    assert!(m.contains("REQUIRED INT64 a;"), "{m}");
    assert!(m.contains("OPTIONAL BYTE_ARRAY b (UTF8);"), "{m}");
    t.clear();
    assert_eq!(t.rows, 0);
}

#[test]
fn without_the_feature_the_error_names_it() {
    let r = check_available(ExportFormat::Parquet);
    if cfg!(feature = "parquet") {
        assert!(r.is_ok());
    } else {
        let e = r.unwrap_err().to_string();
        assert!(e.contains("--features parquet"), "{e}");
    }
}

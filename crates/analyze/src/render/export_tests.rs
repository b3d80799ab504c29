//! Tests of `export`.

use super::*;

#[test]
fn columns_declare_kind_and_nullability() {
    let t = schema(&[("a", Kind::Int, false), ("b", Kind::Text, true)]);
    assert!(!t.columns[0].nullable && t.columns[1].nullable);
    assert_eq!(t.columns[1].name.as_deref(), Some("b"));
    assert_eq!(t.columns[1].label, None);
}

#[cfg(feature = "parquet")]
#[test]
fn the_parquet_schema_follows_the_columns() {
    let t = schema(&[("a", Kind::Int, false), ("b", Kind::Text, true)]);
    let m = parquet_io::message_type("t", &t.columns);
    assert!(m.contains("REQUIRED INT64 a;"), "{m}");
    assert!(m.contains("OPTIONAL BYTE_ARRAY b (UTF8);"), "{m}");
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

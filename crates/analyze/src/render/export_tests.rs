//! Tests of `export`.

use super::*;

fn sample() -> Table {
    let defs: [Def<u64>; 2] = [
        col("a", Kind::Int, false, |v| i(*v)),
        col("b", Kind::Text, true, |v| os((*v > 1).then_some("big"))),
    ];
    Table::of(&defs, [1, 2])
}

#[test]
fn columns_declare_kind_and_nullability() {
    let t = sample();
    assert!(!t.columns[0].nullable && t.columns[1].nullable);
    assert_eq!(t.columns[1].name.as_deref(), Some("b"));
    assert_eq!(t.columns[1].label, None);
    assert_eq!(t.to_csv(), "a,b\n1,\n2,big\n");
}

#[cfg(feature = "parquet")]
#[test]
fn the_parquet_schema_follows_the_columns() {
    let t = sample();
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

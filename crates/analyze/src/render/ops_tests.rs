//! Tests of `ops`.

use super::*;

#[test]
fn counter_columns_are_identifiers() {
    assert_eq!(counter_column("cache-misses"), "counter_cache_misses");
    assert_eq!(counter_column("r17"), "counter_r17");
    assert_eq!(counter_column("L1D.refill"), "counter_l1d_refill");
}

#[test]
fn each_output_selects_its_columns_under_its_names() {
    let data = Dataset::default();
    let csv = Selection::new(Output::Csv, &data).schema;
    let export = Selection::new(Output::Export, &data).schema;
    let names =
        |t: &Table| -> Vec<String> { t.columns.iter().filter_map(|c| c.name.clone()).collect() };
    let (csv, export) = (names(&csv), names(&export));
    assert_eq!(&csv[..4], ["device", "model", "order", "node"]);
    assert_eq!(&export[..4], ["model_id", "run_id", "board", "model"]);
    assert!(csv.contains(&"ipc".to_string()) && !export.contains(&"ipc".to_string()));
    assert!(export.contains(&"above_bound_ns".into()) && !csv.contains(&"model_id".into()));
}

//! Tests of `record`.

use super::*;

/// The committed schema must match the types; regenerate with
/// `UPDATE_SCHEMA=1 cargo test -p hiddencost-record` after a change (and bump SCHEMA_VERSION unless
/// the change only adds fields).
#[test]
fn committed_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/record.schema.json");
    let generated = json_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/record.schema.json is stale: UPDATE_SCHEMA=1 cargo test -p hiddencost-record"
    );
}

#[test]
fn type_is_the_first_key() {
    let r = Record::Error(ErrorRecord {
        model: "m".into(),
        message: "boom".into(),
    });
    let line = serde_json::to_string(&r).unwrap();
    assert!(line.starts_with(r#"{"type":"error","#), "{line}");
    let back: Record = serde_json::from_str(&line).unwrap();
    assert_eq!(back, r);
}

#[test]
fn unavailable_counter_is_null() {
    let mut counters = BTreeMap::new();
    counters.insert("cycles".to_string(), None);
    counters.insert(
        "task-clock".to_string(),
        Some(CounterValue {
            median: 5,
            running_ratio: 1.0,
        }),
    );
    let v = serde_json::to_value(&counters).unwrap();
    assert!(v["cycles"].is_null());
    assert_eq!(v["task-clock"]["median"], 5);
}

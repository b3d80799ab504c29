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

#[test]
fn a_version_1_cost_reads_its_packed_and_scratch_bytes_as_zero() {
    let v1 = r#"{"params":1,"macs":2,"thop_macs":2,"flops":4,"bytes_read":10,"weight_bytes":4,"bytes_written":6}"#;
    let c: Cost = serde_json::from_str(v1).unwrap();
    assert_eq!(
        (
            c.packed_const_bytes,
            c.scratch_bytes_read,
            c.scratch_bytes_written
        ),
        (0, 0, 0)
    );
    assert_eq!((c.traffic_read_bytes(), c.traffic_written_bytes()), (10, 6));
    let v2 = Cost {
        packed_const_bytes: 100,
        scratch_bytes_read: 20,
        scratch_bytes_written: 30,
        ..c
    };
    assert_eq!(v2.traffic_bytes(), 10 + 100 + 20 + 6 + 30);
}

//! Chrome/Perfetto trace JSON of one inference per model (loadable in ui.perfetto.dev or
//! chrome://tracing): one complete ("X") slice per executed op, laid out back to back in op
//! `order` with its median wall time, counters and costs as args. Each device is one process
//! (pid), named by a metadata event, so one file compares the same model across devices.

use crate::analyze::load::{Dataset, ModelRun};
use serde_json::{Value, json};

/// The trace of `runs` (the same model, one per device) as a JSON value.
pub fn chrome_trace(data: &Dataset, runs: &[&ModelRun]) -> Value {
    let mut events = Vec::new();
    for (pid, run) in runs.iter().enumerate() {
        let pid = pid + 1;
        let device = data.device_label(run);
        events.push(
            json!({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
            "args": {"name": format!("{} on {device}", run.model.model)}}),
        );
        events.push(
            json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": 0,
            "args": {"name": "inference (median op times)"}}),
        );
        let mut ops: Vec<_> = run.ops.iter().collect();
        ops.sort_by_key(|o| (o.order, o.node_id));
        let mut ts_ns: u64 = 0;
        for op in ops {
            let mut args = serde_json::Map::new();
            args.insert("op".into(), json!(op.op));
            args.insert("node".into(), json!(op.node));
            args.insert("source_node".into(), json!(op.source_node));
            args.insert("source_op".into(), json!(op.source_op));
            args.insert("order".into(), json!(op.order));
            args.insert("wall_ns_median".into(), json!(op.wall_ns.median));
            args.insert("wall_ns_min".into(), json!(op.wall_ns.min));
            args.insert("wall_ns_max".into(), json!(op.wall_ns.max));
            args.insert("macs".into(), json!(op.cost.macs));
            args.insert("bytes_read".into(), json!(op.cost.bytes_read));
            args.insert("bytes_written".into(), json!(op.cost.bytes_written));
            for (event, value) in &op.counters {
                let v = value.map_or(json!("not measured"), |c| json!(c.median));
                args.insert(event.clone(), v);
            }
            events.push(json!({
                "name": op.op,
                "cat": op.category,
                "ph": "X",
                "ts": ts_ns as f64 / 1000.0,
                "dur": op.wall_ns.median as f64 / 1000.0,
                "pid": pid,
                "tid": 0,
                "args": Value::Object(args),
            }));
            ts_ns += op.wall_ns.median;
        }
    }
    json!({"traceEvents": events, "displayTimeUnit": "ns"})
}

/// A file name for a model's trace: `trace_<model>.json` with unsafe characters replaced.
pub fn file_name(model: &str) -> String {
    let safe: String = model
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("trace_{safe}.json")
}

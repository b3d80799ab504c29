//! Chrome/Perfetto trace JSON of one inference per model (loadable in ui.perfetto.dev or
//! chrome://tracing): one complete ("X") slice per executed op, laid out back to back in op
//! `order` with its median wall time, counters and costs as args. Each device is one process
//! (pid), named by a metadata event, so one file compares the same model across devices.
//!
//! [`write_chrome_trace`] streams the file (a fleet's trace holds every board's ops: hundreds of
//! thousands of events); [`chrome_trace`] builds the same document as a value, and the two are
//! tested to give the same bytes.

use crate::load::{Dataset, ModelRun};
use serde_json::{Value, json};
use std::io::{self, Write};

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
                args.insert(event.to_string(), v);
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
            ts_ns = ts_ns.saturating_add(op.wall_ns.median);
        }
    }
    json!({"traceEvents": events, "displayTimeUnit": "ns"})
}

/// One value of an op's `args`.
enum Arg<'a> {
    Str(&'a str),
    OptStr(Option<&'a str>),
    Num(u64),
}

/// Writes `value` as serde_json writes it (the same escapes and number formats as
/// [`chrome_trace`]'s `to_string`).
fn json_to(w: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value).map_err(io::Error::other)
}

/// [`chrome_trace`]`(data, runs).to_string()`, written into `w` event by event: object keys in
/// serde_json's (sorted) order, a counter named like a fixed arg replacing it, as there.
pub fn write_chrome_trace(
    data: &Dataset,
    runs: &[&ModelRun],
    w: &mut impl Write,
) -> io::Result<()> {
    w.write_all(br#"{"displayTimeUnit":"ns","traceEvents":["#)?;
    let mut first = true;
    let mut args: Vec<(&str, Arg)> = Vec::new();
    for (pid, run) in runs.iter().enumerate() {
        let pid = pid + 1;
        let device = data.device_label(run);
        let process = format!("{} on {device}", run.model.model);
        for (name, value) in [
            ("process_name", process.as_str()),
            ("thread_name", "inference (median op times)"),
        ] {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            w.write_all(br#"{"args":{"name":"#)?;
            json_to(w, &value)?;
            w.write_all(br#"},"name":"#)?;
            json_to(w, &name)?;
            write!(w, r#","ph":"M","pid":{pid},"tid":0}}"#)?;
        }
        let mut ops: Vec<_> = run.ops.iter().collect();
        ops.sort_by_key(|o| (o.order, o.node_id));
        let mut ts_ns: u64 = 0;
        for op in ops {
            args.clear();
            args.push(("op", Arg::Str(&op.op)));
            args.push(("node", Arg::Str(&op.node)));
            args.push(("source_node", Arg::OptStr(op.source_node.as_deref())));
            args.push(("source_op", Arg::OptStr(op.source_op.as_deref())));
            args.push(("order", Arg::Num(op.order as u64)));
            args.push(("wall_ns_median", Arg::Num(op.wall_ns.median)));
            args.push(("wall_ns_min", Arg::Num(op.wall_ns.min)));
            args.push(("wall_ns_max", Arg::Num(op.wall_ns.max)));
            args.push(("macs", Arg::Num(op.cost.macs)));
            args.push(("bytes_read", Arg::Num(op.cost.bytes_read)));
            args.push(("bytes_written", Arg::Num(op.cost.bytes_written)));
            for (event, value) in &op.counters {
                let v = value.map_or(Arg::Str("not measured"), |c| Arg::Num(c.median));
                args.push((event, v));
            }
            // Sorted by key, the last of equal keys kept: a map's insert.
            args.sort_by(|a, b| a.0.cmp(b.0));
            w.write_all(if first { b"{" } else { b",{" })?;
            first = false;
            w.write_all(br#""args":{"#)?;
            let mut sep = "";
            for (i, (key, value)) in args.iter().enumerate() {
                if args.get(i + 1).is_some_and(|next| next.0 == *key) {
                    continue;
                }
                w.write_all(sep.as_bytes())?;
                sep = ",";
                json_to(w, key)?;
                w.write_all(b":")?;
                match value {
                    Arg::Str(s) => json_to(w, s)?,
                    Arg::OptStr(s) => json_to(w, s)?,
                    Arg::Num(n) => write!(w, "{n}")?,
                }
            }
            w.write_all(br#"},"cat":"#)?;
            json_to(w, &op.category)?;
            w.write_all(br#","dur":"#)?;
            json_to(w, &(op.wall_ns.median as f64 / 1000.0))?;
            w.write_all(br#","name":"#)?;
            json_to(w, &op.op)?;
            write!(w, r#","ph":"X","pid":{pid},"tid":0,"ts":"#)?;
            json_to(w, &(ts_ns as f64 / 1000.0))?;
            w.write_all(b"}")?;
            ts_ns = ts_ns.saturating_add(op.wall_ns.median);
        }
    }
    w.write_all(b"]}")
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

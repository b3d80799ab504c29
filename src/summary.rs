//! Human-readable tables for the terminal, computed from records only: per model, time by
//! executed op type (like TFLite benchmark_model's "summary by node type") and by category, and
//! a closing table of models.

use crate::record::{ModelRecord, NodeRecord, OpRecord};
use crate::table::{Col, Layout, Table};
use crate::units::ms_of_ns;
use std::collections::BTreeMap;
use std::fmt::Write;

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Rows (key, count, total ns) sorted by time, descending.
fn by_key<'a>(
    ops: &[&'a OpRecord],
    key: impl Fn(&'a OpRecord) -> &'a str,
) -> Vec<(&'a str, usize, u64)> {
    let mut acc: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for op in ops {
        let e = acc.entry(key(op)).or_default();
        e.0 += 1;
        e.1 += op.wall_ns.median;
    }
    let mut rows: Vec<_> = acc.into_iter().map(|(k, (n, t))| (k, n, t)).collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    rows
}

fn table(out: &mut String, title: &str, rows: &[(&str, usize, u64)]) {
    let total: u64 = rows.iter().map(|r| r.2).sum::<u64>().max(1);
    let mut t = Table::new(&[title, "count", "median ms", "%", "cdf %"]);
    let mut cdf = 0.0;
    for (k, n, ns) in rows {
        let pct = 100.0 * *ns as f64 / total as f64;
        cdf += pct;
        t.row(vec![
            k.to_string(),
            n.to_string(),
            ms_of_ns(*ns as f64),
            format!("{pct:.2}"),
            format!("{cdf:.2}"),
        ]);
    }
    let cols = vec![
        Col::left(28),
        Col::right(6),
        Col::right(11),
        Col::right(7),
        Col::right(7),
    ];
    out.push_str(&t.to_text_in(&Layout {
        cols,
        indent: "  ",
        rule: false,
    }));
}

/// The per-model tables and the models table.
pub fn render(models: &[ModelRecord], ops: &[OpRecord]) -> String {
    let mut out = String::new();
    for m in models {
        let mine: Vec<&OpRecord> = ops.iter().filter(|o| o.model == m.model).collect();
        let _ = writeln!(
            out,
            "\n{}: median {:.3} ms over {} runs; per-op sum {:.3} ms",
            m.model,
            ms(m.latency_ns.median),
            m.runs,
            ms(m.sum_op_wall_median_ns)
        );
        if let (Some(u), Some(r)) = (m.unattributed_median_ns, m.counter_read_median_ns) {
            let _ = writeln!(
                out,
                "  per-op run: median {:.3} ms; of a run (medians): in no op (tract dispatch, \
                 allocation) {:.3} ms, counter reads {:.3} ms",
                ms(m.profiled_latency_median_ns),
                ms(u),
                ms(r)
            );
        }
        if let Some(p) = &m.paired {
            let o = &p.profiled_over_clean;
            let _ = writeln!(
                out,
                "  per-op/clean: {:.3} [{:.3}-{:.3}] ({:.0}% interval of the median over {} {} \
                 pairs of runs)",
                o.median,
                o.low,
                o.high,
                o.confidence * 100.0,
                o.pairs,
                p.schedule
            );
        }
        for w in &m.warnings {
            let _ = writeln!(out, "  warning ({}): {}", w.kind, w.message);
        }
        table(&mut out, "executed op", &by_key(&mine, |o| o.op.as_str()));
        table(
            &mut out,
            "category",
            &by_key(&mine, |o| o.category.as_str()),
        );
        let hosts: Vec<&&OpRecord> = mine
            .iter()
            .filter(|o| !o.fused_sources.is_empty())
            .collect();
        if !hosts.is_empty() {
            let fused: usize = hosts.iter().map(|o| o.fused_sources.len()).sum();
            let ns: u64 = hosts.iter().map(|o| o.wall_ns.median).sum();
            let total: u64 = mine.iter().map(|o| o.wall_ns.median).sum::<u64>().max(1);
            let _ = writeln!(
                out,
                "  {fused} source node(s) with no op of their own (a BatchNorm fused into its \
                 ReLU's chain) run inside {} op(s) counted under their own category: {:.3} ms, \
                 {:.2}% of op time",
                hosts.len(),
                ms(ns),
                100.0 * ns as f64 / total as f64
            );
        }
    }
    if models.is_empty() {
        return out; // every model failed: their errors were said already, no empty table
    }
    let mut t = Table::new(&[
        "model",
        "params",
        "MACs",
        "thop MACs",
        "median ms",
        "p90 ms",
        "ops/e2e",
    ]);
    for m in models {
        let ratio = m.sum_op_wall_median_ns as f64 / m.latency_ns.median.max(1) as f64;
        t.row(vec![
            m.model.clone(),
            m.cost.params.to_string(),
            m.cost.macs.to_string(),
            m.cost.thop_macs.to_string(),
            ms_of_ns(m.latency_ns.median as f64),
            ms_of_ns(m.latency_ns.p90 as f64),
            format!("{ratio:.2}"),
        ]);
    }
    let mut cols = vec![Col::left(20), Col::right(12)];
    cols.extend([
        Col::right(14),
        Col::right(14),
        Col::right(11),
        Col::right(11),
    ]);
    cols.push(Col::right(8));
    out.push('\n');
    out.push_str(&t.to_text_in(&Layout {
        cols,
        indent: "",
        rule: false,
    }));
    out
}

/// Table of static costs per source node, for `hiddencost cost` without --json: columns widen
/// to the longest node name and op type (torch.onnx.export names run past 80 characters).
pub fn render_cost(nodes: &[NodeRecord]) -> String {
    let mut t = Table::new(&[
        "node",
        "op",
        "params",
        "MACs",
        "thop MACs",
        "bytes read",
        "bytes written",
    ]);
    for n in nodes {
        let c = &n.cost;
        let mut row = vec![n.node.clone(), n.op_type.clone()];
        row.extend(
            [c.params, c.macs, c.thop_macs, c.bytes_read, c.bytes_written].map(|v| v.to_string()),
        );
        t.row(row);
    }
    let mut cols = vec![Col::left(36), Col::left(20), Col::right(10)];
    cols.extend([Col::right(12); 4]);
    t.to_text_in(&Layout {
        cols,
        indent: "",
        rule: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Cost;

    fn node(name: &str, op: &str, params: u64, macs: u64) -> NodeRecord {
        NodeRecord {
            model: "m".into(),
            node: name.into(),
            op_type: op.into(),
            category: "conv".into(),
            input_shapes: vec![],
            output_shapes: vec![],
            cost: Cost {
                params,
                macs,
                thop_macs: macs,
                bytes_read: 12,
                bytes_written: 3,
                ..Cost::default()
            },
        }
    }

    #[test]
    fn cost_table_columns_widen_to_the_longest_node_name() {
        let long = "/features/features.10/block/block.2/fc1/Conv_long_name";
        let text = render_cost(&[node("stem", "Conv", 216, 13824), node(long, "Conv", 7, 8)]);
        let name_w = long.len();
        let expected = [
            format!(
                "{:<name_w$} {:<20} {:>10} {:>12} {:>12} {:>12} {:>13}",
                "node", "op", "params", "MACs", "thop MACs", "bytes read", "bytes written"
            ),
            format!(
                "{:<name_w$} {:<20} {:>10} {:>12} {:>12} {:>12} {:>13}",
                "stem", "Conv", 216, 13824, 13824, 12, 3
            ),
            format!(
                "{long} {:<20} {:>10} {:>12} {:>12} {:>12} {:>13}",
                "Conv", 7, 8, 8, 12, 3
            ),
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
        // Every line is as long as the header: the columns line up.
        let len = expected[0].len();
        assert!(text.lines().all(|l| l.len() == len), "{text}");
        assert!(name_w > 36, "longer than the old fixed column");
    }
}

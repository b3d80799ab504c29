//! The report's tables, each built from the analysis alone: formatted for reading
//! ([`Table::to_text`], [`Table::to_markdown`]) or raw for CSV (full-precision numbers, units in
//! the column names, empty cells where nothing was measured).

use super::load::{Dataset, ModelRun};
use super::metrics::{Agg, ModelMetrics, RATIOS, Ratio, fraction, ordered_keys};
use super::report::Analysis;
use super::tables::{Table, csv_num, measured, ms, or_na, pct, si};
use std::collections::BTreeMap;

/// Governor of the pinned CPU, else the distinct governors joined by "/".
pub fn governor(run: &ModelRun) -> String {
    let freq = &run.header.context.cpufreq;
    let pinned = run
        .header
        .options
        .cpu
        .and_then(|c| freq.iter().find(|f| f.cpu == c));
    if let Some(g) = pinned.and_then(|f| f.governor.clone()) {
        return g;
    }
    let mut all: Vec<String> = freq.iter().filter_map(|f| f.governor.clone()).collect();
    all.sort();
    all.dedup();
    if all.is_empty() {
        "n/a".into()
    } else {
        all.join("/")
    }
}

/// Largest temperature rise (°C) of any thermal zone between the run's start and this model.
pub fn thermal_drift_c(run: &ModelRun) -> Option<f64> {
    let start = &run.header.context.thermal;
    run.model
        .thermal_end
        .iter()
        .filter_map(|end| {
            let s = start.iter().find(|s| s.zone == end.zone)?;
            Some((end.millicelsius? - s.millicelsius?) as f64 / 1000.0)
        })
        .reduce(f64::max)
}

fn gmacs(run: &ModelRun) -> Option<f64> {
    let ns = run.model.latency_ns.median;
    (ns > 0).then(|| run.model.cost.macs as f64 / ns as f64)
}

fn ratio_of(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

pub fn models_table(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device",
        "model",
        "median ms",
        "p90 ms",
        "params",
        "MACs",
        "thop MACs",
        "GMAC/s",
        "sum ops/e2e",
        "hidden (exec)",
        "hidden (src)",
        "governor",
        "temp drift",
    ]);
    for (run, m) in data.runs.iter().zip(&a.metrics) {
        t.row(vec![
            data.device_label(run).into(),
            run.model.model.clone(),
            ms(run.model.latency_ns.median as f64),
            ms(run.model.latency_ns.p90 as f64),
            si(run.model.cost.params),
            si(run.model.cost.macs),
            si(run.model.cost.thop_macs),
            or_na(gmacs(run), 2),
            or_na(
                ratio_of(run.model.sum_op_wall_median_ns, run.model.latency_ns.median),
                2,
            ),
            pct(m.hidden_executed_share()),
            pct(m.hidden_source_share()),
            governor(run),
            thermal_drift_c(run).map_or("n/a".into(), |d| format!("{d:+.1} °C")),
        ]);
    }
    t
}

pub fn models_csv(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device",
        "model",
        "source",
        "latency_median_ns",
        "latency_p90_ns",
        "latency_min_ns",
        "runs",
        "params",
        "macs",
        "thop_macs",
        "flops",
        "gmac_per_s",
        "sum_op_wall_median_ns",
        "profiled_latency_median_ns",
        "sum_ops_over_e2e",
        "hidden_share_executed",
        "hidden_share_source",
        "top1_accuracy_pct",
        "governor",
        "thermal_drift_c",
        "source_nodes",
        "executed_nodes",
        "peak_rss_bytes",
    ]);
    for (run, m) in data.runs.iter().zip(&a.metrics) {
        let r = &run.model;
        t.row(vec![
            data.device_label(run).into(),
            r.model.clone(),
            r.source.clone(),
            r.latency_ns.median.to_string(),
            r.latency_ns.p90.to_string(),
            r.latency_ns.min.to_string(),
            r.runs.to_string(),
            r.cost.params.to_string(),
            r.cost.macs.to_string(),
            r.cost.thop_macs.to_string(),
            r.cost.flops.to_string(),
            csv_num(gmacs(run)),
            r.sum_op_wall_median_ns.to_string(),
            r.profiled_latency_median_ns.to_string(),
            csv_num(ratio_of(r.sum_op_wall_median_ns, r.latency_ns.median)),
            csv_num(Some(m.hidden_executed_share())),
            csv_num(Some(m.hidden_source_share())),
            csv_num(data.accuracy_pct(run)),
            governor(run),
            csv_num(thermal_drift_c(run)),
            r.source_nodes.to_string(),
            r.executed_nodes.to_string(),
            r.peak_rss_bytes.map_or(String::new(), |b| b.to_string()),
        ]);
    }
    t
}

/// Which view of [`ModelMetrics`] a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Executed,
    Source,
}

impl View {
    pub fn name(self) -> &'static str {
        match self {
            View::Executed => "executed",
            View::Source => "source",
        }
    }

    pub fn of(self, m: &ModelMetrics) -> &BTreeMap<String, Agg> {
        match self {
            View::Executed => &m.executed,
            View::Source => &m.source,
        }
    }
}

/// Categories present in a view over all models, in display order.
pub fn view_categories(a: &Analysis, view: View) -> Vec<String> {
    ordered_keys(a.metrics.iter().flat_map(|m| view.of(m).keys()))
}

pub fn shares_table(a: &Analysis, data: &Dataset, view: View) -> Table {
    let cats = view_categories(a, view);
    let mut headers = vec!["device", "model"];
    headers.extend(cats.iter().map(String::as_str));
    headers.push("hidden");
    let mut t = Table::new(&headers);
    for (run, m) in data.runs.iter().zip(&a.metrics) {
        let map = view.of(m);
        let mut row = vec![data.device_label(run).to_string(), run.model.model.clone()];
        for c in &cats {
            row.push(pct(fraction(
                map.get(c).map_or(0, |x| x.wall_ns),
                m.total.wall_ns,
            )));
        }
        row.push(pct(match view {
            View::Executed => m.hidden_executed_share(),
            View::Source => m.hidden_source_share(),
        }));
        t.row(row);
    }
    t
}

pub fn shares_csv(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device", "model", "view", "category", "ops", "time_ns", "share",
    ]);
    for (run, m) in data.runs.iter().zip(&a.metrics) {
        for view in [View::Executed, View::Source] {
            for (cat, share) in m.shares(view.of(m)) {
                let agg = &view.of(m)[&cat];
                t.row(vec![
                    data.device_label(run).into(),
                    run.model.model.clone(),
                    view.name().into(),
                    cat,
                    agg.ops.to_string(),
                    agg.wall_ns.to_string(),
                    share.to_string(),
                ]);
            }
        }
    }
    t
}

/// Per device, the executed-view categories summed over all its models.
pub fn device_categories(
    a: &Analysis,
    data: &Dataset,
) -> Vec<(String, Agg, BTreeMap<String, Agg>)> {
    data.devices
        .iter()
        .enumerate()
        .map(|(d, dev)| {
            let mut total = Agg::default();
            let mut cats: BTreeMap<String, Agg> = BTreeMap::new();
            for (run, m) in data
                .runs
                .iter()
                .zip(&a.metrics)
                .filter(|(r, _)| r.device == d)
            {
                let _ = run;
                total.merge(&m.total);
                for (c, agg) in &m.executed {
                    cats.entry(c.clone()).or_default().merge(agg);
                }
            }
            (dev.label.clone(), total, cats)
        })
        .collect()
}

fn why_row(first: Vec<String>, agg: &Agg, total_ns: u64) -> Vec<String> {
    let mut row = first;
    row.push(agg.ops.to_string());
    row.push(pct(fraction(agg.wall_ns, total_ns)));
    row.push(or_na(agg.macs_per_s().map(|v| v / 1e9), 2));
    for r in [
        Ratio::Ipc,
        Ratio::CacheMpki,
        Ratio::L1dMpki,
        Ratio::BytesPerCycle,
        Ratio::MacsPerCycle,
    ] {
        row.push(measured(agg.ratio(r), 2));
    }
    row
}

const WHY_HEADERS: [&str; 8] = [
    "ops",
    "time share",
    "GMAC/s",
    "IPC",
    "cache miss/kinstr",
    "L1D miss/kinstr",
    "bytes/cycle",
    "MACs/cycle",
];

/// Per device and executed category: time share and counter ratios over all models.
pub fn why_table(a: &Analysis, data: &Dataset) -> Table {
    let mut headers = vec!["device", "category"];
    headers.extend(WHY_HEADERS);
    let mut t = Table::new(&headers);
    for (device, total, cats) in device_categories(a, data) {
        for c in ordered_keys(cats.keys()) {
            t.row(why_row(
                vec![device.clone(), c.clone()],
                &cats[&c],
                total.wall_ns,
            ));
        }
        t.row(why_row(
            vec![device.clone(), "all".into()],
            &total,
            total.wall_ns,
        ));
    }
    t
}

/// Per device, the `n` executed op types that took the most time over all models.
pub fn top_ops_table(a: &Analysis, data: &Dataset, n: usize) -> Table {
    let mut headers = vec!["device", "op"];
    headers.extend(WHY_HEADERS);
    let mut t = Table::new(&headers);
    for (d, dev) in data.devices.iter().enumerate() {
        let mut by_op: BTreeMap<String, Agg> = BTreeMap::new();
        let mut total = Agg::default();
        for (_, m) in data
            .runs
            .iter()
            .zip(&a.metrics)
            .filter(|(r, _)| r.device == d)
        {
            total.merge(&m.total);
            for (op, agg) in &m.by_op {
                by_op.entry(op.clone()).or_default().merge(agg);
            }
        }
        let mut ops: Vec<(&String, &Agg)> = by_op.iter().collect();
        ops.sort_by(|x, y| y.1.wall_ns.cmp(&x.1.wall_ns).then(x.0.cmp(y.0)));
        for (op, agg) in ops.into_iter().take(n) {
            t.row(why_row(
                vec![dev.label.clone(), op.clone()],
                agg,
                total.wall_ns,
            ));
        }
    }
    t
}

/// Per model, view and category: every counter ratio, raw.
pub fn why_csv(a: &Analysis, data: &Dataset) -> Table {
    let mut headers = vec![
        "device",
        "model",
        "view",
        "category",
        "ops",
        "time_ns",
        "macs",
        "bytes_moved",
        "gmac_per_s",
        "min_running_ratio",
    ];
    headers.extend(RATIOS.iter().map(|r| r.csv_name()));
    let mut t = Table::new(&headers);
    for (run, m) in data.runs.iter().zip(&a.metrics) {
        let groups = [
            ("executed", &m.executed),
            ("source", &m.source),
            ("op", &m.by_op),
        ];
        for (view, map) in groups {
            for c in ordered_keys(map.keys()) {
                let agg = &map[&c];
                let mut row = vec![
                    data.device_label(run).to_string(),
                    run.model.model.clone(),
                    view.into(),
                    c.clone(),
                    agg.ops.to_string(),
                    agg.wall_ns.to_string(),
                    agg.macs.to_string(),
                    agg.bytes_moved.to_string(),
                    csv_num(agg.macs_per_s().map(|v| v / 1e9)),
                    csv_num(agg.min_running_ratio),
                ];
                row.extend(RATIOS.iter().map(|r| csv_num(agg.ratio(*r))));
                t.row(row);
            }
        }
    }
    t
}

/// Median latency (ms) of each model on each device, and the ratio to the first device.
pub fn devices_table(data: &Dataset) -> Table {
    let labels: Vec<&str> = data.devices.iter().map(|d| d.label.as_str()).collect();
    let mut headers = vec!["model".to_string()];
    headers.extend(labels.iter().map(|l| format!("{l} ms")));
    headers.extend(labels.iter().skip(1).map(|l| format!("{l}/{}", labels[0])));
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&refs);
    for (model, per_device) in latency_by_device(data) {
        let mut row = vec![model];
        row.extend(per_device.iter().map(|v| v.map_or("-".into(), ms)));
        let base = per_device.first().copied().flatten();
        for v in per_device.iter().skip(1) {
            row.push(match (v, base) {
                (Some(v), Some(b)) if b > 0.0 => format!("{:.2}x", v / b),
                _ => "-".into(),
            });
        }
        t.row(row);
    }
    t
}

/// Model names in first-seen order, each with its median latency (ns) per device.
pub fn latency_by_device(data: &Dataset) -> Vec<(String, Vec<Option<f64>>)> {
    let mut models: Vec<String> = Vec::new();
    for r in &data.runs {
        if !models.contains(&r.model.model) {
            models.push(r.model.model.clone());
        }
    }
    models
        .into_iter()
        .map(|m| {
            let per: Vec<Option<f64>> = (0..data.devices.len())
                .map(|d| {
                    data.runs
                        .iter()
                        .find(|r| r.device == d && r.model.model == m)
                        .map(|r| r.model.latency_ns.median as f64)
                })
                .collect();
            (m, per)
        })
        .collect()
}

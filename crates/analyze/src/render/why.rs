//! The tables of the report's "why" section: per category and per op, the time above the
//! machine's roofs, the limiters, the roofs themselves, and counter ratios; counters.csv with
//! every number raw (ops.csv is [`super::ops`]).

use super::names;
use super::reasons;
use super::table::{Table, csv_num, measured, or_na, pct};
use crate::compute::Analysis;
use crate::compute::bounds::{BoundAgg, ModelBounds, spread};
use crate::compute::metrics::{Agg, EXPLAINING, RATIOS, Ratio, fraction, ordered_keys};
use crate::load::Dataset;
use crate::load::Op;
use crate::record::Spread;
use crate::units::bytes;
use std::collections::BTreeMap;

/// Op types listed in the "top ops" table, per device.
pub const TOP_OPS: usize = 10;

fn why_row(first: Vec<String>, agg: &Agg, total_ns: u64, above: Option<&BoundAgg>) -> Vec<String> {
    let mut row = first;
    row.push(agg.ops.to_string());
    row.push(pct(fraction(agg.wall_ns, total_ns)));
    row.push(above.map_or("n/a".into(), |b| pct(b.above_share())));
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

const WHY_HEADERS: [&str; 9] = [
    "ops",
    "time share",
    "above roofs",
    "GMAC/s",
    "IPC",
    "cache miss/kinstr",
    "L1D miss/kinstr",
    "bytes/cycle",
    "MACs/cycle",
];

/// Per device and executed category: time share, the share of the category's time above the
/// roofs, and counter ratios over all models.
pub fn why_table(a: &Analysis, data: &Dataset) -> Table {
    let mut headers = vec!["device", "category"];
    headers.extend(WHY_HEADERS);
    let mut t = Table::new(&headers);
    for (dev, totals) in data.devices.iter().zip(a.device_categories(data)) {
        let bounded = totals.bounded_models > 0;
        for c in ordered_keys(totals.categories.keys()) {
            let above = totals.category_bounds.get(&c).filter(|_| bounded);
            t.row(why_row(
                vec![dev.label.clone(), c.clone()],
                &totals.categories[&c],
                totals.total.wall_ns,
                above,
            ));
        }
        t.row(why_row(
            vec![dev.label.clone(), "all".into()],
            &totals.total,
            totals.total.wall_ns,
            bounded.then_some(&totals.bounds),
        ));
    }
    t
}

/// Per device and executed category, the derived counter metrics that explain an op's cost
/// (stall shares, measured traffic over compulsory bytes, SIMD share, loads and stores and
/// instructions per MAC and per byte); `None` when no device counted any of their events.
pub fn explaining_table(a: &Analysis, data: &Dataset) -> Option<Table> {
    let mut headers = vec!["device", "category", "time share"];
    headers.extend(EXPLAINING.iter().map(|r| r.label()));
    let mut t = Table::new(&headers);
    let mut any = false;
    for (dev, totals) in data.devices.iter().zip(a.device_categories(data)) {
        if EXPLAINING.iter().all(|r| totals.total.ratio(*r).is_none()) {
            continue;
        }
        any = true;
        let mut rows: Vec<(String, &Agg)> = ordered_keys(totals.categories.keys())
            .into_iter()
            .map(|c| {
                let agg = &totals.categories[&c];
                (c, agg)
            })
            .collect();
        rows.push(("all".into(), &totals.total));
        for (c, agg) in rows {
            let mut row = vec![
                dev.label.clone(),
                c,
                pct(fraction(agg.wall_ns, totals.total.wall_ns)),
            ];
            row.extend(EXPLAINING.iter().map(|r| match r {
                Ratio::FrontendStallShare | Ratio::BackendStallShare | Ratio::SimdShare => {
                    agg.ratio(*r).map_or_else(|| measured(None, 0), pct)
                }
                _ => measured(agg.ratio(*r), 2),
            }));
            t.row(row);
        }
    }
    any.then_some(t)
}

/// Per device, the `n` executed op types that took the most time over all models.
pub fn top_ops_table(a: &Analysis, data: &Dataset, n: usize) -> Table {
    let mut headers = vec!["device", "op"];
    headers.extend(WHY_HEADERS.iter().filter(|h| **h != "above roofs"));
    let mut t = Table::new(&headers);
    for (dev, totals) in data.devices.iter().zip(a.device_categories(data)) {
        let mut ops: Vec<(&String, &Agg)> = totals.ops.iter().collect();
        ops.sort_by(|x, y| y.1.wall_ns.cmp(&x.1.wall_ns).then(x.0.cmp(y.0)));
        for (op, agg) in ops.into_iter().take(n) {
            let mut row = why_row(
                vec![dev.label.clone(), op.clone()],
                agg,
                totals.total.wall_ns,
                None,
            );
            row.remove(4);
            t.row(row);
        }
    }
    t
}

/// The machine roofs of each device (from the first of its runs that has them): the value the
/// bounds use (the 10th percentile counted from the best, `Spread::robust_max` and
/// `robust_min`), the best repeat and the median.
pub fn roofs_table(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device", "roof", "used", "best", "median", "spread", "repeats", "detail",
    ]);
    for (d, dev) in data.devices.iter().enumerate() {
        let Some(run) = data
            .runs
            .iter()
            .find(|r| r.device == d && r.header.machine.is_some())
        else {
            let why = a
                .of_device(data, d)
                .find_map(|(_, _, b)| b.as_ref().err().map(reasons::no_roofs))
                .unwrap_or_default();
            t.row(vec![dev.label.clone(), "none".into(), why]);
            continue;
        };
        let Some(m) = &run.header.machine else {
            continue;
        };
        let spread_pct = |s: &Spread| pct(spread(s));
        let mut row = |roof: String, s: &Spread, scale: f64, unit: &str, detail: String| {
            t.row(vec![
                dev.label.clone(),
                roof,
                format!("{:.2} {unit}", s.robust_max() / scale),
                format!("{:.2} {unit}", s.max / scale),
                format!("{:.2} {unit}", s.median / scale),
                spread_pct(s),
                s.repeats.to_string(),
                detail,
            ]);
        };
        for mm in m.matmul.iter().chain(&m.matmul_threads) {
            row(
                format!("matmul peak, {} thread(s)", mm.threads),
                &mm.macs_per_s,
                1e9,
                "GMAC/s",
                format!("kernel {}, {}x{}x{}", mm.kernel, mm.m, mm.k, mm.n),
            );
        }
        for b in &m.bandwidth {
            let cap = b.capacity_bytes.map_or("main memory".to_string(), |c| {
                format!("capacity {} ({})", bytes(c), b.capacity_from)
            });
            let detail = format!("working set {}, {cap}", bytes(b.working_set_bytes));
            row(
                format!("{} read", b.level),
                &b.read_bytes_per_s,
                1e9,
                "GB/s",
                detail.clone(),
            );
            row(
                format!("{} write", b.level),
                &b.write_bytes_per_s,
                1e9,
                "GB/s",
                detail.clone(),
            );
            row(
                format!("{} copy", b.level),
                &b.copy_bytes_per_s,
                1e9,
                "GB/s",
                detail,
            );
        }
        if let Some(f) = &m.dispatch_floor_ns {
            // The floor's best repeat is its lowest.
            t.row(vec![
                dev.label.clone(),
                "dispatch floor".into(),
                format!("{:.0} ns", f.robust_min()),
                format!("{:.0} ns", f.min),
                format!("{:.0} ns", f.median),
                spread_pct(f),
                f.repeats.to_string(),
                "one trivially small op through the plan and per-op hook".into(),
            ]);
        }
        for c in &m.counter_reads {
            t.row(vec![
                dev.label.clone(),
                format!("counter read, pass {}", c.pass),
                format!("{:.0} ns", c.read_ns.median),
                format!("{:.0} ns", c.read_ns.min),
                format!("{:.0} ns", c.read_ns.median),
                spread_pct(&c.read_ns),
                c.read_ns.repeats.to_string(),
                c.events.join(", "),
            ]);
        }
    }
    t
}

/// Per device and limiter: how many ops, their share of op time and of the time above roofs.
pub fn limiters_table(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device",
        "limiter",
        "ops",
        "time share",
        "share of above-roof time",
        "above roofs",
    ]);
    for (d, dev) in data.devices.iter().enumerate() {
        let mut by: BTreeMap<String, BoundAgg> = Default::default();
        let mut total = BoundAgg::default();
        for (_, _, b) in a.of_device(data, d) {
            let Ok(b) = b else { continue };
            total.merge(&b.total);
            for (l, agg) in &b.by_limiter {
                by.entry(names::limiter(l)).or_default().merge(agg);
            }
        }
        for (l, agg) in &by {
            t.row(vec![
                dev.label.clone(),
                l.clone(),
                agg.ops.to_string(),
                pct(share(agg.measured_ns, total.measured_ns)),
                pct(share(agg.above_ns, total.above_ns)),
                pct(agg.above_share()),
            ]);
        }
    }
    t
}

fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

/// One op with its bound, for the per-op tables.
struct Bounded<'a> {
    device: &'a str,
    model: &'a str,
    op: &'a Op,
    bounds: &'a ModelBounds,
    ix: usize,
}

fn counter_ratio(op: &Op, r: Ratio) -> Option<f64> {
    let mut agg = Agg::default();
    agg.add(op);
    agg.ratio(r)
}

/// Per device, the `n` ops with the most time above their bound (all models), with the
/// bound's terms and, where counters exist, the op's counter ratios beside it.
pub fn top_excess_table(a: &Analysis, data: &Dataset, n: usize) -> Table {
    let mut t = Table::new(&[
        "device",
        "model",
        "node",
        "op",
        "category",
        "limiter",
        "measured µs",
        "bound µs",
        "above µs",
        "x bound",
        "GMAC/s",
        "IPC",
        "cache miss/kinstr",
    ]);
    for (d, dev) in data.devices.iter().enumerate() {
        let mut all: Vec<Bounded> = Vec::new();
        for (run, _, b) in a.of_device(data, d) {
            let Ok(b) = b else { continue };
            for (ix, op) in run.ops.iter().enumerate() {
                all.push(Bounded {
                    device: &dev.label,
                    model: &run.model.model,
                    op,
                    bounds: b,
                    ix,
                });
            }
        }
        all.sort_by(|x, y| {
            let (ex, ey) = (x.bounds.ops[x.ix].above_ns(), y.bounds.ops[y.ix].above_ns());
            ey.total_cmp(&ex)
                .then(x.model.cmp(y.model))
                .then(x.ix.cmp(&y.ix))
        });
        for b in all.into_iter().take(n) {
            t.row(bounded_row(&b));
        }
    }
    t
}

fn bounded_row(b: &Bounded) -> Vec<String> {
    let ob = &b.bounds.ops[b.ix];
    let op = b.op;
    let us = |ns: f64| format!("{:.1}", ns / 1e3);
    let rate = (op.cost.macs > 0 && op.wall_ns.median > 0)
        .then(|| op.cost.macs as f64 / op.wall_ns.median as f64);
    vec![
        b.device.to_string(),
        b.model.to_string(),
        op.node.to_string(),
        op.op.to_string(),
        op.category.to_string(),
        names::limiter_of(&b.bounds.roofs, ob.limiter),
        us(op.wall_ns.median as f64),
        us(ob.bound_ns),
        us(ob.above_ns()),
        format!("{:.1}", ob.times_bound()),
        or_na(rate, 2),
        measured(counter_ratio(op, Ratio::Ipc), 2),
        measured(counter_ratio(op, Ratio::CacheMpki), 2),
    ]
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

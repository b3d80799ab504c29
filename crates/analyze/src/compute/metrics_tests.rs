//! Tests of `metrics` (its fixtures are shared with other compute tests).

use super::*;
use crate::load::op::Interner;
use crate::record::{Cost, CounterValue, OpRecord, WallNs};

/// The records in the form `load` keeps them.
pub(crate) fn compact(ops: &[OpRecord]) -> Vec<Op> {
    let mut names = Interner::default();
    ops.iter().map(|o| names.op(o.clone())).collect()
}

pub(crate) fn op(
    name: &str,
    category: &str,
    src: Option<(&str, &str)>,
    macs: u64,
    ns: u64,
) -> OpRecord {
    OpRecord {
        model: "m".into(),
        node_id: 0,
        node: name.into(),
        op: name.into(),
        source_node: src.map(|s| s.0.to_string()),
        source_op: None,
        category: category.into(),
        source_category: src.map(|s| s.1.to_string()),
        fused_sources: vec![],
        input_shapes: vec![],
        output_shapes: vec![],
        order: 0,
        cost: Cost {
            macs,
            bytes_read: 100,
            bytes_written: 28,
            ..Cost::default()
        },
        wall_ns: WallNs {
            median: ns,
            min: ns,
            max: ns,
        },
        counters: BTreeMap::new(),
    }
}

fn with_counters(mut o: OpRecord, cycles: Option<u64>, instructions: Option<u64>) -> OpRecord {
    let v = |x: Option<u64>| {
        x.map(|median| CounterValue {
            median,
            running_ratio: 1.0,
        })
    };
    o.counters.insert("cycles".into(), v(cycles));
    o.counters.insert("instructions".into(), v(instructions));
    o
}

fn sample_ops() -> Vec<OpRecord> {
    vec![
        op("OptMatMul", "conv", Some(("c1", "conv")), 1000, 600),
        op("LazyIm2col", "tensor", Some(("c1", "conv")), 0, 200),
        op(
            "OptBinChain",
            "activation",
            Some(("r1", "activation")),
            0,
            100,
        ),
        op("Reshape", "tensor", None, 0, 100),
    ]
}

#[test]
fn shares_sum_to_one_in_both_views() {
    let m = ModelMetrics::compute(&[], &compact(&sample_ops()));
    for view in [&m.executed, &m.source] {
        let total: f64 = m.shares(view).iter().map(|(_, s)| s).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }
    let exec = m.shares(&m.executed);
    assert_eq!(exec[0], ("conv".to_string(), 0.6));
    let src = m.shares(&m.source);
    assert_eq!(src.last().unwrap(), &(UNATTRIBUTED.to_string(), 0.1));
    assert_eq!(src[0], ("conv".to_string(), 0.8));
}

#[test]
fn hidden_share_differs_between_views() {
    let m = ModelMetrics::compute(&[], &compact(&sample_ops()));
    // Executed: im2col, activation and reshape have no MACs.
    assert!((m.hidden_executed_share() - 0.4).abs() < 1e-12);
    // Source: im2col belongs to conv c1 (which has MACs); activation and unattributed do not.
    assert!((m.hidden_source_share() - 0.2).abs() < 1e-12);
}

#[test]
fn ratios_skip_unmeasured_ops() {
    let ops = vec![
        with_counters(op("A", "conv", None, 3000, 1000), Some(1500), Some(3000)),
        with_counters(op("B", "tensor", None, 0, 1000), None, Some(10)),
    ];
    let m = ModelMetrics::compute(&[], &compact(&ops));
    assert_eq!(m.total.ratio(Ratio::Ipc), Some(2.0));
    assert_eq!(m.total.ratio(Ratio::MacsPerCycle), Some(2.0));
    assert_eq!(m.executed["tensor"].ratio(Ratio::Ipc), None);
    assert_eq!(m.executed["conv"].ratio(Ratio::ClockGhz), Some(1.5));
    let none = ModelMetrics::compute(&[], &compact(&sample_ops()));
    assert_eq!(none.total.ratio(Ratio::CacheMpki), None);
}

fn with_arm(mut o: OpRecord, counts: &[(&str, u64)]) -> OpRecord {
    for &(name, median) in counts {
        let v = CounterValue {
            median,
            running_ratio: 1.0,
        };
        o.counters.insert(name.into(), Some(v));
    }
    o
}

#[test]
fn derived_metrics_from_arm_events_are_exact() {
    // a conv with 120 MACs and 128 tensor bytes (op() gives 100 read + 28 written), and a
    // copy with no MACs, counted with `--events all` on a Cortex-A76
    let conv = with_arm(
        op("C", "conv", None, 120, 1000),
        &[
            ("cpu_cycles", 1000),
            ("inst_retired", 600),
            ("stall_frontend", 100),
            ("stall_backend", 400),
            ("l2d_cache_refill", 4),
            ("inst_spec", 800),
            ("ase_spec", 200),
            ("ld_spec", 40),
            ("st_spec", 20),
        ],
    );
    let copy = with_arm(
        op("T", "tensor", None, 0, 1000),
        &[
            ("cpu_cycles", 1000),
            ("inst_retired", 256),
            ("stall_frontend", 0),
            ("stall_backend", 600),
            ("l2d_cache_refill", 20),
        ],
    );
    let m = ModelMetrics::compute(&[], &compact(&[conv, copy]));
    let c = &m.executed["conv"];
    assert_eq!(c.ratio(Ratio::FrontendStallShare), Some(0.1));
    assert_eq!(c.ratio(Ratio::BackendStallShare), Some(0.4));
    assert_eq!(c.ratio(Ratio::L2TrafficOverCompulsory), Some(2.0)); // 4 x 64 / 128
    assert_eq!(c.ratio(Ratio::SimdShare), Some(0.25));
    assert_eq!(c.ratio(Ratio::LoadsStoresPerMac), Some(0.5));
    assert_eq!(c.ratio(Ratio::InstructionsPerMac), Some(5.0));
    assert_eq!(c.ratio(Ratio::InstructionsPerByte), Some(600.0 / 128.0));
    assert_eq!(c.ratio(Ratio::Ipc), Some(0.6), "inst_retired / cpu_cycles");
    let t = &m.executed["tensor"];
    assert_eq!(t.ratio(Ratio::L2TrafficOverCompulsory), Some(10.0)); // 20 x 64 / 128
    assert_eq!(
        t.ratio(Ratio::InstructionsPerMac),
        None,
        "no MACs: not a ratio"
    );
    assert_eq!(t.ratio(Ratio::SimdShare), None, "not counted");
    // over the model: sums of both sides, over the ops where both were counted
    assert_eq!(m.total.ratio(Ratio::BackendStallShare), Some(0.5)); // 1000 / 2000
    assert_eq!(m.total.ratio(Ratio::L2TrafficOverCompulsory), Some(6.0)); // 1536 / 256
    assert_eq!(m.total.ratio(Ratio::InstructionsPerMac), Some(5.0));
    // a Cortex-A53 counts retired loads and stores instead
    let a53 = with_arm(
        op("C", "conv", None, 100, 10),
        &[("ld_retired", 30), ("st_retired", 10)],
    );
    let m = ModelMetrics::compute(&[], &compact(&[a53]));
    assert_eq!(m.total.ratio(Ratio::LoadsStoresPerMac), Some(0.4));
}

#[test]
fn ordered_keys_put_known_categories_first() {
    let keys: Vec<String> = ["zeta", UNATTRIBUTED, "pool", "conv"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        ordered_keys(&keys),
        vec!["conv", "pool", "zeta", UNATTRIBUTED]
    );
}

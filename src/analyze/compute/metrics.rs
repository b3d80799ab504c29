//! From op records to numbers: time per category in the executed and the source view, the
//! "hidden" share (time in ops with zero MACs), and counter ratios (IPC, misses per
//! kilo-instruction, bytes and MACs per cycle).
//!
//! A ratio is summed over the ops where both of its sides were measured (a `null` counter is
//! "not measured", never 0), then divided: IPC of a category = Σ instructions / Σ cycles.

use crate::record::{NodeRecord, OpRecord};
use std::collections::{BTreeMap, HashMap};

pub use crate::record::CATEGORIES;

/// Source-view row for op records with no `source_node`.
pub const UNATTRIBUTED: &str = "unattributed";

/// A counter-derived ratio. `num` and `den` name either a counter event or a cost field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ratio {
    /// instructions / cycles.
    Ipc,
    /// cache-misses per 1000 instructions.
    CacheMpki,
    /// l1d-read-misses per 1000 instructions.
    L1dMpki,
    /// branch-misses per 1000 instructions.
    BranchMpki,
    /// (bytes_read + bytes_written) / cycles: static tensor bytes, not measured DRAM traffic.
    BytesPerCycle,
    /// MACs / cycles.
    MacsPerCycle,
    /// cycles / wall ns: the effective clock in GHz while the op ran.
    ClockGhz,
}

pub const RATIOS: [Ratio; 7] = [
    Ratio::Ipc,
    Ratio::CacheMpki,
    Ratio::L1dMpki,
    Ratio::BranchMpki,
    Ratio::BytesPerCycle,
    Ratio::MacsPerCycle,
    Ratio::ClockGhz,
];

impl Ratio {
    pub fn label(self) -> &'static str {
        match self {
            Ratio::Ipc => "IPC",
            Ratio::CacheMpki => "cache miss/kinstr",
            Ratio::L1dMpki => "L1D miss/kinstr",
            Ratio::BranchMpki => "branch miss/kinstr",
            Ratio::BytesPerCycle => "bytes/cycle",
            Ratio::MacsPerCycle => "MACs/cycle",
            Ratio::ClockGhz => "clock GHz",
        }
    }

    /// Column name in CSV files.
    pub fn csv_name(self) -> &'static str {
        match self {
            Ratio::Ipc => "ipc",
            Ratio::CacheMpki => "cache_misses_per_kinstr",
            Ratio::L1dMpki => "l1d_read_misses_per_kinstr",
            Ratio::BranchMpki => "branch_misses_per_kinstr",
            Ratio::BytesPerCycle => "bytes_per_cycle",
            Ratio::MacsPerCycle => "macs_per_cycle",
            Ratio::ClockGhz => "clock_ghz",
        }
    }

    /// (numerator, denominator) of one op, `None` when a needed counter is null or absent.
    fn sides(self, op: &OpRecord) -> Option<(f64, f64)> {
        let c = |name: &str| counter(op, name).map(|v| v as f64);
        let bytes = (op.cost.bytes_read + op.cost.bytes_written) as f64;
        match self {
            Ratio::Ipc => Some((c("instructions")?, c("cycles")?)),
            Ratio::CacheMpki => Some((c("cache-misses")? * 1000.0, c("instructions")?)),
            Ratio::L1dMpki => Some((c("l1d-read-misses")? * 1000.0, c("instructions")?)),
            Ratio::BranchMpki => Some((c("branch-misses")? * 1000.0, c("instructions")?)),
            Ratio::BytesPerCycle => Some((bytes, c("cycles")?)),
            Ratio::MacsPerCycle => Some((op.cost.macs as f64, c("cycles")?)),
            Ratio::ClockGhz => Some((c("cycles")?, op.wall_ns.median as f64)),
        }
    }
}

/// Median of one counter for one op; `None` if it was not measured.
pub fn counter(op: &OpRecord, event: &str) -> Option<u64> {
    op.counters.get(event).copied().flatten().map(|v| v.median)
}

/// Sums over a set of op records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Agg {
    pub ops: usize,
    pub wall_ns: u64,
    pub macs: u64,
    pub bytes_moved: u64,
    /// (Σ numerator, Σ denominator) per [`RATIOS`] entry, over ops with both sides measured.
    sums: [(f64, f64); RATIOS.len()],
    /// Lowest counter running ratio seen (below 1.0: multiplexed, the counts are estimates).
    pub min_running_ratio: Option<f64>,
}

impl Agg {
    pub fn add(&mut self, op: &OpRecord) {
        self.ops += 1;
        self.wall_ns += op.wall_ns.median;
        self.macs += op.cost.macs;
        self.bytes_moved += op.cost.bytes_read + op.cost.bytes_written;
        for (slot, ratio) in self.sums.iter_mut().zip(RATIOS) {
            if let Some((n, d)) = ratio.sides(op) {
                slot.0 += n;
                slot.1 += d;
            }
        }
        for value in op.counters.values().flatten() {
            let r = value.running_ratio;
            self.min_running_ratio = Some(self.min_running_ratio.map_or(r, |m: f64| m.min(r)));
        }
    }

    pub fn merge(&mut self, other: &Agg) {
        self.ops += other.ops;
        self.wall_ns += other.wall_ns;
        self.macs += other.macs;
        self.bytes_moved += other.bytes_moved;
        for (a, b) in self.sums.iter_mut().zip(other.sums) {
            a.0 += b.0;
            a.1 += b.1;
        }
        if let Some(r) = other.min_running_ratio {
            self.min_running_ratio = Some(self.min_running_ratio.map_or(r, |m| m.min(r)));
        }
    }

    /// The ratio, or `None` ("not measured") when no op had both sides.
    pub fn ratio(&self, ratio: Ratio) -> Option<f64> {
        let ix = RATIOS.iter().position(|r| *r == ratio)?;
        let (n, d) = self.sums[ix];
        (d > 0.0).then(|| n / d)
    }

    /// Achieved MACs per second (GMAC/s = this / 1e9), from median wall time.
    pub fn macs_per_s(&self) -> Option<f64> {
        (self.wall_ns > 0).then(|| self.macs as f64 / self.wall_ns as f64 * 1e9)
    }

    /// MACs per byte of tensor traffic (the roofline's arithmetic intensity).
    pub fn macs_per_byte(&self) -> Option<f64> {
        (self.bytes_moved > 0).then(|| self.macs as f64 / self.bytes_moved as f64)
    }
}

/// Where one model's time goes.
#[derive(Debug, Clone, Default)]
pub struct ModelMetrics {
    pub total: Agg,
    /// Executed view: by the tract op's `category`.
    pub executed: BTreeMap<String, Agg>,
    /// Source view: by the source ONNX node's category ([`UNATTRIBUTED`] when none).
    pub source: BTreeMap<String, Agg>,
    /// By executed op name (e.g. "OptMatMul").
    pub by_op: BTreeMap<String, Agg>,
    /// Time in executed ops whose own MACs are 0.
    pub hidden_executed_ns: u64,
    /// Time in ops whose source node has 0 MACs, plus unattributed ops.
    pub hidden_source_ns: u64,
    /// Ops that also do the work of a BatchNormalization fused into them (`fused_sources`
    /// naming a batchnorm node: tract's `OptBinChain(Mul+Add+Max)` named after a ReLU), which
    /// the executed view counts under the op's own category.
    pub fused_batchnorm: Agg,
    /// The BatchNormalization nodes those ops do.
    pub fused_batchnorm_nodes: usize,
}

impl ModelMetrics {
    pub fn compute(nodes: &[NodeRecord], ops: &[OpRecord]) -> Self {
        let node_by_name: HashMap<&str, &NodeRecord> =
            nodes.iter().map(|n| (n.node.as_str(), n)).collect();
        // MACs per source node: static cost if known, else what its executed ops carry.
        let mut source_macs: HashMap<&str, u64> = HashMap::new();
        for op in ops {
            if let Some(src) = op.source_node.as_deref() {
                let static_macs = node_by_name.get(src).map(|n| n.cost.macs);
                let entry = source_macs.entry(src).or_insert(static_macs.unwrap_or(0));
                if static_macs.is_none() {
                    *entry += op.cost.macs;
                }
            }
        }
        let mut m = ModelMetrics::default();
        for op in ops {
            m.total.add(op);
            m.executed.entry(op.category.clone()).or_default().add(op);
            m.by_op.entry(op.op.clone()).or_default().add(op);
            let source_category = source_category(op, &node_by_name);
            m.source.entry(source_category).or_default().add(op);
            if op.cost.macs == 0 {
                m.hidden_executed_ns += op.wall_ns.median;
            }
            let src_macs = op
                .source_node
                .as_deref()
                .and_then(|s| source_macs.get(s))
                .copied();
            if src_macs.unwrap_or(0) == 0 {
                m.hidden_source_ns += op.wall_ns.median;
            }
            let bns = op
                .fused_sources
                .iter()
                .filter(|s| {
                    node_by_name
                        .get(s.as_str())
                        .is_none_or(|n| n.category == "batchnorm")
                })
                .count();
            if bns > 0 {
                m.fused_batchnorm.add(op);
                m.fused_batchnorm_nodes += bns;
            }
        }
        m
    }

    /// Share of op time of each key of `view`, in display order; shares sum to 1 when any op
    /// took time.
    pub fn shares(&self, view: &BTreeMap<String, Agg>) -> Vec<(String, f64)> {
        ordered_keys(view.keys())
            .into_iter()
            .map(|k| {
                let ns = view.get(&k).map_or(0, |a| a.wall_ns);
                (k, fraction(ns, self.total.wall_ns))
            })
            .collect()
    }

    pub fn hidden_executed_share(&self) -> f64 {
        fraction(self.hidden_executed_ns, self.total.wall_ns)
    }

    pub fn hidden_source_share(&self) -> f64 {
        fraction(self.hidden_source_ns, self.total.wall_ns)
    }
}

/// Source category of an op: its own `source_category`, else its source node's, else
/// [`UNATTRIBUTED`] (no source node) or "other".
pub fn source_category(op: &OpRecord, nodes: &HashMap<&str, &NodeRecord>) -> String {
    let Some(src) = op.source_node.as_deref() else {
        return UNATTRIBUTED.to_string();
    };
    if let Some(c) = &op.source_category {
        return c.clone();
    }
    nodes
        .get(src)
        .map_or_else(|| "other".to_string(), |n| n.category.clone())
}

/// `part / whole`, 0 when whole is 0.
pub fn fraction(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Known categories in [`CATEGORIES`] order, then unknown ones alphabetically, then
/// [`UNATTRIBUTED`].
pub fn ordered_keys<'a>(keys: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut keys: Vec<String> = keys.into_iter().cloned().collect();
    keys.sort_by_key(|k| {
        let rank = CATEGORIES
            .iter()
            .position(|c| c == k)
            .unwrap_or(if k == UNATTRIBUTED {
                CATEGORIES.len() + 1
            } else {
                CATEGORIES.len()
            });
        (rank, k.clone())
    });
    keys.dedup();
    keys
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::record::{Cost, CounterValue, WallNs};

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
        let m = ModelMetrics::compute(&[], &sample_ops());
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
        let m = ModelMetrics::compute(&[], &sample_ops());
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
        let m = ModelMetrics::compute(&[], &ops);
        assert_eq!(m.total.ratio(Ratio::Ipc), Some(2.0));
        assert_eq!(m.total.ratio(Ratio::MacsPerCycle), Some(2.0));
        assert_eq!(m.executed["tensor"].ratio(Ratio::Ipc), None);
        assert_eq!(m.executed["conv"].ratio(Ratio::ClockGhz), Some(1.5));
        let none = ModelMetrics::compute(&[], &sample_ops());
        assert_eq!(none.total.ratio(Ratio::CacheMpki), None);
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
}

//! From op records to numbers: time per category in the executed and the source view, the
//! "hidden" share (time in ops with zero MACs), and counter ratios (IPC, misses per
//! kilo-instruction, bytes and MACs per cycle).
//!
//! A ratio is summed over the ops where both of its sides were measured (a `null` counter is
//! "not measured", never 0), then divided: IPC of a category = Σ instructions / Σ cycles.

use crate::load::Op;
use crate::record::NodeRecord;
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
    /// Frontend stall cycles / cycles (`stall_frontend` on Arm, `stalled-cycles-frontend`).
    FrontendStallShare,
    /// Backend stall cycles / cycles (`stall_backend`, `stalled-cycles-backend`).
    BackendStallShare,
    /// L2 refills x [`LINE_BYTES`] / the op's tensor bytes: measured traffic from beyond L2
    /// over the compulsory traffic (above 1: data fetched more than once).
    L2TrafficOverCompulsory,
    /// Advanced SIMD instructions / all instructions, both speculative (`ase_spec` /
    /// `inst_spec`).
    SimdShare,
    /// Loads and stores / MACs (`ld_spec` + `st_spec`, or the retired `ld_retired` +
    /// `st_retired` of a Cortex-A53).
    LoadsStoresPerMac,
    /// Instructions / MACs.
    InstructionsPerMac,
    /// Instructions / tensor bytes.
    InstructionsPerByte,
}

/// Bytes per L2 refill: the cache line of every Arm core tabulated in `counters::sets`
/// (Cortex-A53, A55, A72, A76, Neoverse N1: 64-byte lines).
pub const LINE_BYTES: f64 = 64.0;

pub const RATIOS: [Ratio; 14] = [
    Ratio::Ipc,
    Ratio::CacheMpki,
    Ratio::L1dMpki,
    Ratio::BranchMpki,
    Ratio::BytesPerCycle,
    Ratio::MacsPerCycle,
    Ratio::ClockGhz,
    Ratio::FrontendStallShare,
    Ratio::BackendStallShare,
    Ratio::L2TrafficOverCompulsory,
    Ratio::SimdShare,
    Ratio::LoadsStoresPerMac,
    Ratio::InstructionsPerMac,
    Ratio::InstructionsPerByte,
];

/// The derived metrics of the "counters that explain" table: the last seven of [`RATIOS`],
/// from the front-end stall share on.
pub const EXPLAINING: &[Ratio] = RATIOS.split_at(RATIOS.len() - 7).1;

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
            Ratio::FrontendStallShare => "frontend stalls",
            Ratio::BackendStallShare => "backend stalls",
            Ratio::L2TrafficOverCompulsory => "L2 traffic/compulsory",
            Ratio::SimdShare => "SIMD share",
            Ratio::LoadsStoresPerMac => "ld+st/MAC",
            Ratio::InstructionsPerMac => "instr/MAC",
            Ratio::InstructionsPerByte => "instr/byte",
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
            Ratio::FrontendStallShare => "frontend_stall_share",
            Ratio::BackendStallShare => "backend_stall_share",
            Ratio::L2TrafficOverCompulsory => "l2_traffic_over_compulsory",
            Ratio::SimdShare => "simd_share",
            Ratio::LoadsStoresPerMac => "loads_stores_per_mac",
            Ratio::InstructionsPerMac => "instructions_per_mac",
            Ratio::InstructionsPerByte => "instructions_per_byte",
        }
    }

    /// (numerator, denominator) of one op, `None` when a needed counter is null or absent.
    fn sides(self, op: &Op) -> Option<(f64, f64)> {
        let c = |name: &str| counter(op, name).map(|v| v as f64);
        // the generic name, else the Armv8 one (`--events stalls` on an Arm core)
        let either = |generic: &str, arm: &str| c(generic).or_else(|| c(arm));
        let cycles = || either("cycles", "cpu_cycles");
        let instructions = || either("instructions", "inst_retired");
        let bytes = op.cost.traffic_bytes() as f64;
        let macs = op.cost.macs as f64;
        let nonzero = |x: f64| (x > 0.0).then_some(x);
        match self {
            Ratio::Ipc => Some((instructions()?, cycles()?)),
            Ratio::CacheMpki => Some((c("cache-misses")? * 1000.0, instructions()?)),
            Ratio::L1dMpki => Some((c("l1d-read-misses")? * 1000.0, instructions()?)),
            Ratio::BranchMpki => Some((c("branch-misses")? * 1000.0, instructions()?)),
            Ratio::BytesPerCycle => Some((bytes, cycles()?)),
            Ratio::MacsPerCycle => Some((macs, cycles()?)),
            Ratio::ClockGhz => Some((cycles()?, op.wall_ns.median as f64)),
            Ratio::FrontendStallShare => Some((
                either("stalled-cycles-frontend", "stall_frontend")?,
                cycles()?,
            )),
            Ratio::BackendStallShare => Some((
                either("stalled-cycles-backend", "stall_backend")?,
                cycles()?,
            )),
            Ratio::L2TrafficOverCompulsory => {
                Some((c("l2d_cache_refill")? * LINE_BYTES, nonzero(bytes)?))
            }
            Ratio::SimdShare => Some((c("ase_spec")?, c("inst_spec")?)),
            Ratio::LoadsStoresPerMac => {
                let spec = c("ld_spec").zip(c("st_spec"));
                let retired = || c("ld_retired").zip(c("st_retired"));
                let (ld, st) = spec.or_else(retired)?;
                Some((ld + st, nonzero(macs)?))
            }
            Ratio::InstructionsPerMac => Some((instructions()?, nonzero(macs)?)),
            Ratio::InstructionsPerByte => Some((instructions()?, nonzero(bytes)?)),
        }
    }
}

/// Median of one counter for one op; `None` if it was not measured.
pub fn counter(op: &Op, event: &str) -> Option<u64> {
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
    pub fn add(&mut self, op: &Op) {
        self.ops += 1;
        self.wall_ns = self.wall_ns.saturating_add(op.wall_ns.median);
        self.macs = self.macs.saturating_add(op.cost.macs);
        self.bytes_moved = self.bytes_moved.saturating_add(op.cost.traffic_bytes());
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
        self.wall_ns = self.wall_ns.saturating_add(other.wall_ns);
        self.macs = self.macs.saturating_add(other.macs);
        self.bytes_moved = self.bytes_moved.saturating_add(other.bytes_moved);
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
    pub fn compute(nodes: &[NodeRecord], ops: &[Op]) -> Self {
        let node_by_name: HashMap<&str, &NodeRecord> =
            nodes.iter().map(|n| (n.node.as_str(), n)).collect();
        // MACs per source node: static cost if known, else what its executed ops carry.
        let mut source_macs: HashMap<&str, u64> = HashMap::new();
        for op in ops {
            if let Some(src) = op.source_node.as_deref() {
                let static_macs = node_by_name.get(src).map(|n| n.cost.macs);
                let entry = source_macs.entry(src).or_insert(static_macs.unwrap_or(0));
                if static_macs.is_none() {
                    *entry = entry.saturating_add(op.cost.macs);
                }
            }
        }
        let mut m = ModelMetrics::default();
        // One op's sums, merged into each group: the same sums as adding the op to each.
        let add = |map: &mut BTreeMap<String, Agg>, key: &str, one: &Agg| match map.get_mut(key) {
            Some(agg) => agg.merge(one),
            None => {
                map.insert(key.to_string(), one.clone());
            }
        };
        for op in ops {
            let mut one = Agg::default();
            one.add(op);
            m.total.merge(&one);
            add(&mut m.executed, &op.category, &one);
            add(&mut m.by_op, &op.op, &one);
            add(&mut m.source, &source_category(op, &node_by_name), &one);
            if op.cost.macs == 0 {
                m.hidden_executed_ns = m.hidden_executed_ns.saturating_add(op.wall_ns.median);
            }
            let src_macs = op
                .source_node
                .as_deref()
                .and_then(|s| source_macs.get(s))
                .copied();
            if src_macs.unwrap_or(0) == 0 {
                m.hidden_source_ns = m.hidden_source_ns.saturating_add(op.wall_ns.median);
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
                m.fused_batchnorm.merge(&one);
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
pub fn source_category(op: &Op, nodes: &HashMap<&str, &NodeRecord>) -> String {
    let Some(src) = op.source_node.as_deref() else {
        return UNATTRIBUTED.to_string();
    };
    if let Some(c) = &op.source_category {
        return c.to_string();
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
#[path = "metrics_tests.rs"]
pub(crate) mod tests;

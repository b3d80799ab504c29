//! The header's `machine` object: what the machine probe measured (docs/records.md, "The
//! machine probe").

use super::NoiseWarning;
#[cfg(test)]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One figure of the probe, measured `repeats` times, in the figure's own unit: the median, the
/// extremes and the quartiles and deciles of its repeats.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub repeats: usize,
    /// The 10th, 25th, 75th and 90th percentiles of the repeats, linearly interpolated between
    /// the closest ranks (a rate measured as a time: the rate of the time's percentile). The
    /// probe's warnings use them: a spread that one preempted repeat does not own. Absent in
    /// older logs.
    #[serde(default)]
    pub p10: Option<f64>,
    #[serde(default)]
    pub p25: Option<f64>,
    #[serde(default)]
    pub p75: Option<f64>,
    #[serde(default)]
    pub p90: Option<f64>,
    /// 95% confidence intervals of `p10` and `p90` ([low, high], in the figure's unit): the
    /// repeats at the ranks that bracket the percentile with 95% confidence whatever the
    /// distribution (the count of repeats below it is binomial). The probe warns when the one
    /// the bounds use reaches far from it. Absent in older logs.
    #[serde(default)]
    pub p10_interval: Option<[f64; 2]>,
    #[serde(default)]
    pub p90_interval: Option<[f64; 2]>,
}

impl Spread {
    /// The highest rate the roofs use: the 90th percentile, a rate at least a tenth of the
    /// repeats reached, so one fast repeat does not own it; the best repeat (`max`) in a log
    /// without percentiles.
    pub fn robust_max(&self) -> f64 {
        self.p90.unwrap_or(self.max)
    }

    /// The lowest time the floor uses: the 10th percentile; `min` without percentiles.
    pub fn robust_min(&self) -> f64 {
        self.p10.unwrap_or(self.min)
    }
}

/// What the machine can do, measured by the probe (see docs/records.md).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct Machine {
    /// Time the probe took, and the budget it was given.
    pub elapsed_ns: u64,
    pub budget_ns: u64,
    /// Peak f32 MAC rate of tract's own matmul kernel on one thread.
    pub matmul: Option<MatmulProbe>,
    /// The same on the matmul pool, when the run uses `--threads N` (N > 1).
    pub matmul_threads: Option<MatmulProbe>,
    /// Peak integer MAC rate (i8 x i8 accumulated in i32) of the kernel tract selects for an
    /// integer matmul (MatMulInteger, ConvInteger, QLinearConv...) on one thread: the roof of
    /// ops with `int8_macs`. Absent in older logs (their int8 ops have no compute bound).
    #[serde(default)]
    pub matmul_int8: Option<MatmulProbe>,
    /// The same on the matmul pool, when the run uses `--threads N` (N > 1).
    #[serde(default)]
    pub matmul_int8_threads: Option<MatmulProbe>,
    /// Data and unified caches of CPU 0, from sysfs (empty where sysfs does not say).
    pub caches: Vec<CacheLevel>,
    /// Sustained bandwidth per memory level, smallest working set first (L1, L2, L3 where
    /// present, then DRAM), on one thread.
    pub bandwidth: Vec<BandwidthProbe>,
    /// Wall time of one trivially small op through the same plan and per-op hook as a model's
    /// ops: what any op costs at the least.
    pub dispatch_floor_ns: Option<Spread>,
    /// Time of one read of each counter group, one entry per per-op pass.
    pub counter_reads: Vec<CounterReadProbe>,
    /// Figures whose used value is uncertain or that another process took the CPU from,
    /// figures cut short by the budget, probes that could not run.
    pub warnings: Vec<NoiseWarning>,
}

impl Machine {
    /// The record as one JSON object (what `hiddencost probe --json` prints).
    pub fn to_json(&self) -> String {
        // Serializing a plain data struct into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Peak MAC rate of a matrix product through tract (the kernel tract selects for it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct MatmulProbe {
    /// Name of the matmul kernel tract selected, e.g. `fma_mmm_f32_16x6`.
    pub kernel: String,
    pub threads: usize,
    /// The product's shape: (m x k) times (k x n).
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// Multiply-accumulates per second of the matmul op alone, on the operands `operands`.
    pub macs_per_s: Spread,
    /// The operands' element type: `f32`, or `i8` (i8 x i8 accumulated in i32). Absent in
    /// older logs, whose only matmul figures are f32.
    #[serde(default)]
    pub operands: Option<String>,
    /// Instruction-set features the kernel needs, as tract declares them, joined by `+`
    /// (`avx2+fma`, `dotprod`; `any` for a kernel that runs anywhere its architecture does).
    /// Absent in older logs.
    #[serde(default)]
    pub kernel_isa: Option<String>,
    /// On aarch64, whether the kernel uses the dot-product extension (SDOT, FEAT_DotProd,
    /// `asimddp` in /proc/cpuinfo): tract's i8 kernel is the SDOT one where the CPU has it,
    /// the SMLAL 8x8 one otherwise. `null` on other architectures and in older logs.
    #[serde(default)]
    pub dot_product: Option<bool>,
}

/// One cache level as sysfs describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct CacheLevel {
    pub level: u8,
    /// `Data` or `Unified`.
    pub kind: String,
    pub size_bytes: u64,
    pub line_bytes: Option<u64>,
    /// CPUs sharing it (from `shared_cpu_list`).
    pub shared_cpus: Option<usize>,
}

/// Sustained bandwidth for a working set that fits one memory level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct BandwidthProbe {
    /// `L1`, `L2`, `L3` or `DRAM`.
    pub level: String,
    /// The level's capacity (the cache size); `null` for DRAM. Analysis gives an op the first
    /// level whose capacity holds its working set.
    pub capacity_bytes: Option<u64>,
    /// `sysfs` when the capacity was read, `assumed` when sysfs had no cache sizes.
    pub capacity_from: String,
    /// Size of the buffer the probe streamed.
    pub working_set_bytes: u64,
    pub read_bytes_per_s: Spread,
    pub write_bytes_per_s: Spread,
    /// Bytes read plus bytes written per second by a copy.
    pub copy_bytes_per_s: Spread,
}

/// Cost of reading one counter group once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct CounterReadProbe {
    pub pass: usize,
    pub events: Vec<String>,
    pub read_ns: Spread,
    /// How the group is read: `user`, `syscall` or `fake` (as `counter_access`). Absent in
    /// older logs (`syscall`).
    #[serde(default)]
    pub method: Option<String>,
}

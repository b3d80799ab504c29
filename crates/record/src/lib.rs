//! The record types: the one contract between measuring and analysis.
//!
//! A log is JSON lines. Every line is one [`Record`], tagged by `"type"` (always the first key).
//! The first line of a run is a [`Header`]; then, per model, the static cost of each source ONNX
//! node ([`NodeRecord`]s), the measured executed ops ([`OpRecord`]s) and one [`ModelRecord`]; or
//! an [`ErrorRecord`] when the model could not be measured. A complete run ends with [`EndRecord`].
//! `hiddencost cost` writes the same [`NodeRecord`]s followed by one [`ModelCostRecord`].
//! Field names carry their units (`wall_ns`, `bytes_read`). The schema is documented in
//! `docs/records.md` and `docs/record.schema.json`; any change that is not purely additive bumps
//! [`SCHEMA_VERSION`].
//!
//! Architecture invariant: these are plain data. Nothing here knows tract or perf_event, so the
//! analysis side can read logs without either.

#[cfg(test)]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod machine;
mod metadata;
pub mod table;
pub mod units;
pub use machine::{BandwidthProbe, CacheLevel, CounterReadProbe, Machine, MatmulProbe, Spread};
pub use metadata::{Metadata, ProbeKind, RewriteMetadata, SweepMetadata, ZooMetadata};

/// Version of the record schema written in every header.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest schema version the readers still take: version 1 lacks the cost fields of
/// packed constants and scratch (read as 0) and counts packed operands in `bytes_read` and
/// `bytes_written`, so an op's total traffic is the same sum in both.
pub const MIN_SCHEMA_VERSION: u32 = 1;

/// The op categories of `category` / `source_category`, in report order.
pub const CATEGORIES: [&str; 10] = [
    "conv",
    "batchnorm",
    "activation",
    "concat",
    "add",
    "pool",
    "linear",
    "tensor",
    "quantize",
    "other",
];

/// One line of a log.
// The header (with the machine probe's figures) is the largest variant by far, but there is
// one per run and records are built one at a time: boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Header(Header),
    Node(NodeRecord),
    ModelCost(ModelCostRecord),
    Op(OpRecord),
    Model(ModelRecord),
    Error(ErrorRecord),
    /// Last line of a complete run: its absence tells a reader the run was cut short.
    End(EndRecord),
}

/// First line of every run: what ran, where, and with which counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct Header {
    pub schema_version: u32,
    pub tool: String,
    pub tool_version: String,
    pub tract_version: String,
    /// Start of the run, RFC 3339 UTC.
    pub timestamp: String,
    pub options: RunOptions,
    pub context: Context,
    /// Every requested event, whether it could be opened, and in which pass it is counted.
    pub events: Vec<EventStatus>,
    /// Number of per-op passes each model runs (one per counter group).
    pub passes: usize,
    /// Which threads the counters count: the calling thread only (`--threads 1`), or also the
    /// matmul pool's threads (inherited counters, `--threads N`). Absent in older logs.
    #[serde(default)]
    pub counted_threads: Option<String>,
    /// How the counters were read at op boundaries. Absent in older logs (all `syscall`).
    #[serde(default)]
    pub counter_access: Option<CounterAccess>,
    /// The machine's own limits, measured on the device before the models (`hiddencost
    /// probe`): the roofs every op's bound is computed from. `null` when the probe was skipped
    /// (`--probe-budget 0`); absent in older logs.
    #[serde(default)]
    pub machine: Option<Machine>,
}

/// How the per-op counter reads were made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct CounterAccess {
    /// `--counter-reads` as given: `auto` (user space where allowed) or `syscall`.
    pub requested: String,
    /// Per pass (index = pass): `user` (hardware counters read with `mrs` through the perf
    /// mmap page, arm64), `syscall` (one `read(2)` of the group) or `fake`. With `user`, the
    /// software events have a pass of their own, read with `read(2)`.
    pub passes: Vec<String>,
    /// Why the hardware counters were read with `read(2)`, when they were (e.g.
    /// "kernel.perf_user_access is 0 ...", "implemented for arm64 only").
    pub syscall_reason: Option<String>,
}

/// The options a run was made with, as the runner saw them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct RunOptions {
    pub models: Vec<String>,
    /// Fixed input shape, if given on the command line.
    pub input_shape: Option<Vec<usize>>,
    /// `none`, `declutter` or `full`.
    pub optimize: String,
    pub warmup: usize,
    pub runs: usize,
    pub events: Vec<String>,
    /// CPU the process was pinned to (`--cpu`).
    pub cpu: Option<usize>,
    pub fake_counters: bool,
    /// Threads tract's matrix products run on (`--threads`; 1 in older logs).
    #[serde(default = "one")]
    pub threads: usize,
    /// How clean and per-op runs were ordered (`--schedule`): `interleaved` (after a shared
    /// warm-up, each round runs one clean run and one run of every per-op pass, the order
    /// reversed every other round) or `separate` (all clean runs, then each pass's runs;
    /// older logs).
    #[serde(default = "separate")]
    pub schedule: String,
}

fn one() -> usize {
    1
}

fn separate() -> String {
    "separate".into()
}

/// The machine a run happened on. Every field is best effort: `null` when unreadable.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct Context {
    pub hostname: Option<String>,
    /// Board model from the device tree or DMI (e.g. "Raspberry Pi 4 Model B Rev 1.4").
    pub device_model: Option<String>,
    pub kernel_release: Option<String>,
    pub kernel_version: Option<String>,
    pub arch: String,
    /// "model name" from /proc/cpuinfo (x86) or a name derived from implementer/part (Arm).
    pub cpu_model: Option<String>,
    pub cpu_implementer: Option<String>,
    /// "CPU part" from /proc/cpuinfo (0xd08 is Cortex-A72).
    pub cpu_part: Option<String>,
    pub cpu_count: usize,
    pub memory_total_bytes: Option<u64>,
    /// cpufreq governor per CPU (index = CPU number), `null` where there is no cpufreq.
    pub cpufreq: Vec<CpuFreq>,
    pub thermal: Vec<ThermalZone>,
    /// Whether user space may read perf counters without privilege (/proc/sys/kernel/perf_event_paranoid).
    pub perf_event_paranoid: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct CpuFreq {
    pub cpu: usize,
    pub governor: Option<String>,
    pub cur_khz: Option<u64>,
    pub min_khz: Option<u64>,
    pub max_khz: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct ThermalZone {
    pub zone: String,
    pub kind: Option<String>,
    pub millicelsius: Option<i64>,
}

/// Whether one requested counter could be opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct EventStatus {
    pub name: String,
    /// `hardware`, `cache`, `raw` or `software`.
    pub kind: String,
    pub available: bool,
    /// Why not, e.g. "perf_event_open: ENOENT (no such event on this CPU or VM)".
    pub reason: Option<String>,
    /// Which per-op pass counts it (0-based), when available.
    pub pass: Option<usize>,
}

/// Static cost of one node or one whole model. Counts are per inference.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct Cost {
    /// Trainable parameters, as PyTorch counts them (BatchNorm: scale and bias; not running stats).
    pub params: u64,
    /// Multiply-accumulates of Conv, Gemm and MatMul, and of their quantized forms
    /// (QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger). Everything else has 0 MACs.
    pub macs: u64,
    /// Of `macs`, those done on 8-bit integer operands: the quantized ops' in the source view,
    /// integer kernels' in the executed view. A QDQ conv that the runtime runs in f32 after
    /// dequantizing its weights has 0. 0 in logs written before it existed.
    #[serde(default)]
    pub int8_macs: u64,
    /// What thop 0.1.1 would report for the PyTorch module this node came from.
    pub thop_macs: u64,
    /// Floating-point operations: 2 per MAC, plus one per element for bias, elementwise and
    /// normalisation arithmetic (see docs/records.md for each op).
    pub flops: u64,
    /// Bytes of every plain (unpacked) input tensor, activations and constants. Executed ops:
    /// packed operands are counted in the fields below instead.
    pub bytes_read: u64,
    /// Bytes of plain constant inputs (weights, biases, BN statistics): a subset of `bytes_read`.
    pub weight_bytes: u64,
    /// Bytes of every plain output tensor.
    pub bytes_written: u64,
    /// Executed ops: bytes of the constant operands the kernel reads in packed form, the packed
    /// weights tract holds inside a matmul or conv kernel or feeds it from a constant; apart from
    /// `bytes_read`. 0 for source nodes and in schema version 1 logs.
    #[serde(default)]
    pub packed_const_bytes: u64,
    /// Executed ops: bytes of im2col and packing buffers the op reads (a packed input made by
    /// another op, or panels it gathered itself); apart from `bytes_read`. 0 in version 1 logs.
    #[serde(default)]
    pub scratch_bytes_read: u64,
    /// Executed ops: bytes of im2col and packing buffers the op fills (a packed output, or the
    /// panels a kernel gathers from a lazy im2col's input); apart from `bytes_written`. 0 in
    /// version 1 logs.
    #[serde(default)]
    pub scratch_bytes_written: u64,
}

impl Cost {
    /// Every byte the op reads: plain inputs, packed constants and scratch.
    pub fn traffic_read_bytes(&self) -> u64 {
        self.bytes_read
            .saturating_add(self.packed_const_bytes)
            .saturating_add(self.scratch_bytes_read)
    }

    /// Every byte the op writes: plain outputs and scratch.
    pub fn traffic_written_bytes(&self) -> u64 {
        self.bytes_written
            .saturating_add(self.scratch_bytes_written)
    }

    /// Every byte the op moves, read and written.
    pub fn traffic_bytes(&self) -> u64 {
        self.traffic_read_bytes()
            .saturating_add(self.traffic_written_bytes())
    }
}

/// Distribution of a duration over runs, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct LatencyNs {
    pub min: u64,
    pub median: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
    pub stddev: f64,
}

/// Per-op wall time over runs, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct WallNs {
    pub median: u64,
    pub min: u64,
    pub max: u64,
}

/// One counter for one op: median delta over runs, and how much of the time it was scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct CounterValue {
    pub median: u64,
    /// Sum over runs of time_running / sum of time_enabled for this op's interval. 1.0 means
    /// the counter ran all the time (no multiplexing); below 1.0 the median is an estimate.
    pub running_ratio: f64,
}

/// Static cost of one source ONNX node, from the graph and its inferred shapes (no run needed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct NodeRecord {
    pub model: String,
    /// Node name as tract names it: the ONNX name, else its first output's name.
    pub node: String,
    /// ONNX op type, e.g. "Conv".
    pub op_type: String,
    pub category: String,
    pub input_shapes: Vec<Vec<usize>>,
    pub output_shapes: Vec<Vec<usize>>,
    #[serde(flatten)]
    pub cost: Cost,
}

/// Static totals of one model, as `hiddencost cost` prints them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct ModelCostRecord {
    pub model: String,
    pub source: String,
    pub input_shape: Vec<usize>,
    pub output_shapes: Vec<Vec<usize>>,
    pub source_nodes: usize,
    #[serde(flatten)]
    pub cost: Cost,
}

/// One executed tract node of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct OpRecord {
    pub model: String,
    /// Node id in the executed (optimized) tract model.
    pub node_id: usize,
    /// Node name in the executed model (tract derives it from the source node's name).
    pub node: String,
    /// Executed tract op, e.g. "OptMatMul", "LazyIm2col", "OptBinChain".
    pub op: String,
    /// Source ONNX node this executed node came from (see docs/records.md for the rule), if any.
    pub source_node: Option<String>,
    /// ONNX op type of `source_node`, e.g. "Conv".
    pub source_op: Option<String>,
    /// Category of the executed op: conv, batchnorm, activation, concat, add, pool, linear,
    /// tensor, other.
    pub category: String,
    /// Category of the source ONNX op.
    pub source_category: Option<String>,
    /// Source nodes with no op of their own whose work this op does: a BatchNormalization
    /// tract fused into the chain named after the next op (`OptBinChain(Mul+Add+Max)` of a
    /// ReLU). Left out when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fused_sources: Vec<String>,
    pub input_shapes: Vec<Vec<usize>>,
    pub output_shapes: Vec<Vec<usize>>,
    /// Position in execution order.
    pub order: usize,
    #[serde(flatten)]
    pub cost: Cost,
    pub wall_ns: WallNs,
    /// Per event name; `null` for an event that could not be opened.
    pub counters: BTreeMap<String, Option<CounterValue>>,
}

/// One model's totals, written after its op records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct ModelRecord {
    pub model: String,
    /// Where it came from: a path, or `zoo:NAME`.
    pub source: String,
    pub input_shape: Vec<usize>,
    pub output_shapes: Vec<Vec<usize>>,
    pub optimize: String,
    /// Source ONNX nodes, and nodes actually executed after optimization.
    pub source_nodes: usize,
    pub executed_nodes: usize,
    #[serde(flatten)]
    pub cost: Cost,
    /// Clean end-to-end latency: runs with no per-op hook.
    pub latency_ns: LatencyNs,
    pub runs: usize,
    pub warmup: usize,
    /// Sum over ops of their median wall time in the per-op passes.
    pub sum_op_wall_median_ns: u64,
    /// Median end-to-end time of a per-op (instrumented) run.
    pub profiled_latency_median_ns: u64,
    /// Median over per-op runs of the time in no operator: end-to-end minus the ops' wall times
    /// minus `counter_read_median_ns` (tract's dispatch, allocation, input and output handling).
    /// Absent in older logs.
    #[serde(default)]
    pub unattributed_median_ns: Option<u64>,
    /// Median over per-op runs of the time spent reading counters (one read per op boundary):
    /// the profiler's own cost inside a per-op run. Absent in older logs.
    #[serde(default)]
    pub counter_read_median_ns: Option<u64>,
    /// Per event: median over per-op runs of the count from the run's first op to its last
    /// (the sum of the ops' counts of a run); `null` for an event not counted.
    #[serde(default)]
    pub counter_totals: BTreeMap<String, Option<u64>>,
    /// The per-op runs against the clean runs, pair by pair (absent in older logs).
    #[serde(default)]
    pub paired: Option<Paired>,
    /// What may make this model's numbers noisy: a clean pass that varies too much or drifts,
    /// a cpufreq governor other than `performance`, a temperature rise (see docs/records.md).
    #[serde(default)]
    pub warnings: Vec<NoiseWarning>,
    /// Peak resident set size while this model was measured (VmHWM, reset per model when the
    /// kernel allows it).
    pub peak_rss_bytes: Option<u64>,
    pub load_ns: u64,
    pub thermal_end: Vec<ThermalZone>,
    /// Extra per-model facts: a zoo network's published errors, a design probe's family.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// The ratios of per-op runs to clean runs, each over pairs of runs: round `r`'s run of a per-op
/// pass against round `r`'s clean run (adjacent runs with `schedule` = `interleaved`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct Paired {
    /// `interleaved` or `separate` (then pairs share an index, not a moment: drift between the
    /// passes lands in the ratios).
    pub schedule: String,
    /// End-to-end time of a per-op run / its clean run: what profiling costs.
    pub profiled_over_clean: RatioInterval,
    /// Sum of the ops' wall times in a per-op run / its clean run: how much of an inference the
    /// op records account for.
    pub sum_op_over_clean: RatioInterval,
}

/// The median of a ratio over pairs of runs, with a distribution-free confidence interval for
/// it (order statistics of the ratios: no assumption about their distribution).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct RatioInterval {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    /// Probability that `[low, high]` holds the true median: the smallest above 0.95 that the
    /// pair count allows, lower with fewer than 6 pairs (`[min, max]`).
    pub confidence: f64,
    pub pairs: usize,
}

/// One reason to distrust a model's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct NoiseWarning {
    /// `cv` (clean-pass coefficient of variation over the threshold), `drift` (the clean runs'
    /// last quarter moved away from their first), `profiled` (per-op runs much slower than
    /// their clean runs), `cpu` (task-clock well below wall time: another process had the
    /// CPU), `governor` (cpufreq governor not `performance`) or `temperature` (a thermal zone
    /// rose during the model).
    pub kind: String,
    /// What was seen, with the numbers and the threshold.
    pub message: String,
}

/// A model (or the run) that failed, and what the user can do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct ErrorRecord {
    /// The model name or path the error is about, or "run" for run-wide errors.
    pub model: String,
    pub message: String,
}

/// Marks the end of a complete run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct EndRecord {
    pub models_ok: usize,
    pub models_failed: usize,
    pub elapsed_ns: u64,
}

/// JSON Schema of one log line, as committed in docs/record.schema.json (generated in test
/// builds only: schemars is a dev-dependency, which keeps it out of the first release build).
#[cfg(test)]
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Record);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;

//! Synthetic bench logs with a known ground truth, for the analysis tests and benchmarks.
//!
//! A synthetic model is a stack of blocks (Conv, BatchNorm, Relu, an Add every second block)
//! closed by a GlobalAveragePool and a Gemm. Each conv executes as two ops (LazyIm2col, a
//! zero-MAC tensor op, and OptMatMul); one Reshape per model has no source node. Op times are a
//! linear function of the op's cost with per-category rates of the [`SynthDevice`], plus an
//! optional deterministic jitter, so a node-level model can recover them and a MACs-only model
//! cannot. Counters, when on, are derived from the times (1.5 cycles per ns).

use hiddencost::record::*;
use std::collections::BTreeMap;

/// A made-up machine: its context and how fast it runs each kind of work.
#[derive(Debug, Clone)]
pub struct SynthDevice {
    pub device_model: Option<String>,
    pub cpu_model: Option<String>,
    pub hostname: Option<String>,
    /// Write counter values (else every counter is `null`).
    pub counters: bool,
    pub ns_per_mac: f64,
    pub ns_per_byte: f64,
    pub ns_per_op: f64,
    /// Relative amplitude of the deterministic per-op jitter (0 for exact times).
    pub jitter: f64,
    /// Write the probe's machine roofs into the header (see [`synth_machine`]).
    pub machine: bool,
}

impl SynthDevice {
    /// The same device `factor` times slower: every rate (per MAC, per byte, per op) scaled.
    pub fn slower(mut self, factor: f64) -> Self {
        self.ns_per_mac *= factor;
        self.ns_per_byte *= factor;
        self.ns_per_op *= factor;
        self
    }

    pub fn pi4() -> Self {
        SynthDevice {
            device_model: Some("Raspberry Pi 4 Model B Rev 1.4".into()),
            cpu_model: Some("Cortex-A72".into()),
            hostname: Some("pi".into()),
            counters: true,
            ns_per_mac: 0.12,
            ns_per_byte: 0.9,
            ns_per_op: 4000.0,
            jitter: 0.0,
            machine: true,
        }
    }

    pub fn laptop() -> Self {
        SynthDevice {
            device_model: None,
            cpu_model: Some("Intel(R) Core(TM) i7-1165G7 CPU @ 2.80GHz".into()),
            hostname: Some("laptop".into()),
            counters: false,
            ns_per_mac: 0.01,
            ns_per_byte: 0.1,
            ns_per_op: 500.0,
            jitter: 0.0,
            machine: false,
        }
    }
}

/// A made-up CNN.
#[derive(Debug, Clone)]
pub struct SynthModel {
    pub name: String,
    pub blocks: usize,
    pub channels: usize,
    /// Feature map height = width.
    pub spatial: usize,
    pub top1_error_pct: Option<f64>,
}

impl SynthModel {
    pub fn new(name: &str, blocks: usize, channels: usize, spatial: usize) -> Self {
        SynthModel {
            name: name.into(),
            blocks,
            channels,
            spatial,
            top1_error_pct: None,
        }
    }
}

/// A complete run: header, per model its nodes, ops and model record, then end.
pub fn synth_log(device: &SynthDevice, models: &[SynthModel]) -> Vec<Record> {
    let mut out = vec![Record::Header(header(device, models))];
    for m in models {
        out.extend(model_records(device, m));
    }
    out.push(Record::End(EndRecord {
        models_ok: models.len(),
        models_failed: 0,
        elapsed_ns: 1_000_000_000,
    }));
    out
}

/// JSON lines, one record per line, newline-terminated.
pub fn to_jsonl(records: &[Record]) -> String {
    let mut s = String::new();
    for r in records {
        // Serializing these plain structs cannot fail; skip a record rather than panic.
        if let Ok(line) = serde_json::to_string(r) {
            s.push_str(&line);
            s.push('\n');
        }
    }
    s
}

pub const SYNTH_EVENTS: [&str; 5] = [
    "cycles",
    "instructions",
    "cache-misses",
    "branch-misses",
    "task-clock",
];

fn header(device: &SynthDevice, models: &[SynthModel]) -> Header {
    Header {
        schema_version: SCHEMA_VERSION,
        tool: "hiddencost".into(),
        tool_version: "synthetic".into(),
        tract_version: "0.23.9".into(),
        timestamp: "2026-01-01T00:00:00Z".into(),
        options: RunOptions {
            models: models.iter().map(|m| m.name.clone()).collect(),
            input_shape: None,
            optimize: "full".into(),
            warmup: 1,
            runs: 5,
            events: SYNTH_EVENTS.iter().map(|e| e.to_string()).collect(),
            cpu: Some(0),
            fake_counters: false,
            threads: 1,
            schedule: "interleaved".into(),
        },
        context: Context {
            hostname: device.hostname.clone(),
            device_model: device.device_model.clone(),
            arch: "aarch64".into(),
            cpu_model: device.cpu_model.clone(),
            cpu_count: 4,
            cpufreq: vec![CpuFreq {
                cpu: 0,
                governor: Some("performance".into()),
                cur_khz: Some(1_500_000),
                min_khz: None,
                max_khz: None,
            }],
            thermal: vec![ThermalZone {
                zone: "thermal_zone0".into(),
                kind: Some("cpu-thermal".into()),
                millicelsius: Some(45_000),
            }],
            ..Context::default()
        },
        events: SYNTH_EVENTS
            .iter()
            .map(|e| EventStatus {
                name: e.to_string(),
                kind: if *e == "task-clock" {
                    "software"
                } else {
                    "hardware"
                }
                .into(),
                available: device.counters,
                reason: (!device.counters)
                    .then(|| "perf_event_open: ENOENT (no such event on this CPU or VM)".into()),
                pass: device.counters.then_some(0),
            })
            .collect(),
        passes: 1,
        counted_threads: Some("calling thread".into()),
        counter_access: None,
        machine: device.machine.then(|| synth_machine(device)),
    }
}

/// A figure whose best repeat is `best` and which varied by 3%.
fn repeated(best: f64) -> Spread {
    Spread {
        median: best * 0.99,
        min: best * 0.97,
        max: best,
        repeats: 5,
        ..Default::default()
    }
}

/// Roofs that match the device's rates exactly: peak = 1 / ns_per_mac, every level's read and
/// write bandwidth = 1 / ns_per_byte, floor = ns_per_op (its fastest repeat). An op's time is
/// `ns_per_mac * macs + ns_per_byte * (read + written) + ns_per_op`, so its bound is
/// `max(ns_per_mac * macs, ns_per_byte * max(read, written)) + ns_per_op` and its excess is
/// known exactly.
pub fn synth_machine(device: &SynthDevice) -> Machine {
    let bw = 1e9 / device.ns_per_byte;
    let level = |name: &str, capacity: Option<u64>| BandwidthProbe {
        level: name.into(),
        capacity_bytes: capacity,
        capacity_from: "sysfs".into(),
        working_set_bytes: capacity.map_or(64 << 20, |c| c / 2),
        read_bytes_per_s: repeated(bw),
        write_bytes_per_s: repeated(bw),
        copy_bytes_per_s: repeated(bw),
    };
    Machine {
        elapsed_ns: 900_000_000,
        budget_ns: 3_000_000_000,
        matmul: Some(MatmulProbe {
            kernel: "arm64simd_mmm_f32_8x8".into(),
            threads: 1,
            m: 256,
            k: 256,
            n: 256,
            macs_per_s: repeated(1e9 / device.ns_per_mac),
            operands: Some("f32".into()),
            kernel_isa: None,
            dot_product: None,
        }),
        matmul_threads: None,
        matmul_int8: None,
        matmul_int8_threads: None,
        caches: vec![CacheLevel {
            level: 1,
            kind: "Data".into(),
            size_bytes: 32 << 10,
            line_bytes: Some(64),
            shared_cpus: Some(1),
        }],
        bandwidth: vec![
            level("L1", Some(32 << 10)),
            level("L2", Some(1 << 20)),
            level("DRAM", None),
        ],
        dispatch_floor_ns: Some(Spread {
            median: device.ns_per_op * 1.02,
            min: device.ns_per_op,
            max: device.ns_per_op * 1.05,
            repeats: 5,
            ..Default::default()
        }),
        counter_reads: Vec::new(),
        warnings: Vec::new(),
    }
}

struct Builder<'a> {
    device: &'a SynthDevice,
    model: &'a str,
    nodes: Vec<NodeRecord>,
    ops: Vec<OpRecord>,
}

impl Builder<'_> {
    fn node(&mut self, name: &str, op_type: &str, category: &str, cost: Cost, shape: &[usize]) {
        self.nodes.push(NodeRecord {
            model: self.model.into(),
            node: name.into(),
            op_type: op_type.into(),
            category: category.into(),
            input_shapes: vec![shape.to_vec()],
            output_shapes: vec![shape.to_vec()],
            cost,
        });
    }

    /// An executed op; `src` = (source node, source op, source category).
    fn op(&mut self, op: &str, category: &str, src: Option<(&str, &str, &str)>, cost: Cost) {
        let d = self.device;
        let order = self.ops.len();
        let base = d.ns_per_mac * cost.macs as f64
            + d.ns_per_byte * (cost.bytes_read + cost.bytes_written) as f64
            + d.ns_per_op;
        let wobble = ((order as u64).wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0 - 0.5;
        let ns = (base * (1.0 + d.jitter * wobble)).max(1.0) as u64;
        let cycles = ns * 3 / 2;
        let ipc_x10: u64 = if category == "conv" { 25 } else { 8 };
        let mut counters = BTreeMap::new();
        for e in SYNTH_EVENTS {
            let v = match e {
                "cycles" => cycles,
                "instructions" => cycles * ipc_x10 / 10,
                "cache-misses" => (cost.bytes_read + cost.bytes_written) / 64,
                "branch-misses" => cycles / 200,
                _ => ns,
            };
            counters.insert(
                e.to_string(),
                d.counters.then_some(CounterValue {
                    median: v,
                    running_ratio: 1.0,
                }),
            );
        }
        self.ops.push(OpRecord {
            model: self.model.into(),
            node_id: order,
            node: src.map_or_else(|| format!("{op}.{order}"), |s| format!("{}.{op}", s.0)),
            op: op.into(),
            source_node: src.map(|s| s.0.to_string()),
            source_op: src.map(|s| s.1.to_string()),
            category: category.into(),
            source_category: src.map(|s| s.2.to_string()),
            fused_sources: vec![],
            input_shapes: vec![],
            output_shapes: vec![],
            order,
            cost,
            wall_ns: WallNs {
                median: ns,
                min: ns * 98 / 100,
                max: ns * 11 / 10,
            },
            counters,
        });
    }
}

fn model_records(device: &SynthDevice, m: &SynthModel) -> Vec<Record> {
    let mut b = Builder {
        device,
        model: &m.name,
        nodes: Vec::new(),
        ops: Vec::new(),
    };
    let (c, hw) = (m.channels as u64, (m.spatial * m.spatial) as u64);
    let act = 4 * c * hw;
    let shape = [1, m.channels, m.spatial, m.spatial];
    let mut total = Cost::default();
    let add = |t: &mut Cost, x: Cost| {
        t.params += x.params;
        t.macs += x.macs;
        t.thop_macs += x.thop_macs;
        t.flops += x.flops;
        t.bytes_read += x.bytes_read;
        t.weight_bytes += x.weight_bytes;
        t.bytes_written += x.bytes_written;
    };
    for i in 0..m.blocks {
        let (conv, bn, relu) = (format!("conv{i}"), format!("bn{i}"), format!("relu{i}"));
        let w = 4 * c * c * 9;
        let macs = c * c * 9 * hw;
        let conv_cost = Cost {
            params: c * c * 9,
            macs,
            thop_macs: macs,
            flops: 2 * macs,
            bytes_read: act + w,
            weight_bytes: w,
            bytes_written: act,
            ..Cost::default()
        };
        b.node(&conv, "Conv", "conv", conv_cost, &shape);
        b.op(
            "LazyIm2col",
            "tensor",
            Some((&conv, "Conv", "conv")),
            Cost {
                bytes_read: act,
                bytes_written: 9 * act,
                ..Cost::default()
            },
        );
        b.op(
            "OptMatMul",
            "conv",
            Some((&conv, "Conv", "conv")),
            conv_cost,
        );
        let ew = Cost {
            flops: c * hw,
            bytes_read: act,
            bytes_written: act,
            ..Cost::default()
        };
        let bn_cost = Cost {
            params: 2 * c,
            bytes_read: act + 16 * c,
            weight_bytes: 16 * c,
            ..ew
        };
        b.node(&bn, "BatchNormalization", "batchnorm", bn_cost, &shape);
        b.op(
            "OptBinChain",
            "batchnorm",
            Some((&bn, "BatchNormalization", "batchnorm")),
            bn_cost,
        );
        b.node(&relu, "Relu", "activation", ew, &shape);
        b.op("Max", "activation", Some((&relu, "Relu", "activation")), ew);
        add(&mut total, conv_cost);
        add(&mut total, bn_cost);
        add(&mut total, ew);
        if i % 2 == 1 {
            let add_name = format!("add{i}");
            let add_cost = Cost {
                flops: c * hw,
                bytes_read: 2 * act,
                bytes_written: act,
                ..Cost::default()
            };
            b.node(&add_name, "Add", "add", add_cost, &shape);
            b.op(
                "TypedBinOp",
                "add",
                Some((&add_name, "Add", "add")),
                add_cost,
            );
            add(&mut total, add_cost);
        }
    }
    let pool_cost = Cost {
        flops: c * hw,
        bytes_read: act,
        bytes_written: 4 * c,
        ..Cost::default()
    };
    b.node("pool", "GlobalAveragePool", "pool", pool_cost, &shape);
    b.op(
        "Reduce<Sum>",
        "pool",
        Some(("pool", "GlobalAveragePool", "pool")),
        pool_cost,
    );
    b.op(
        "Reshape",
        "tensor",
        None,
        Cost {
            bytes_read: 4 * c,
            bytes_written: 4 * c,
            ..Cost::default()
        },
    );
    let fc_macs = c * 100;
    let fc = Cost {
        params: fc_macs + 100,
        macs: fc_macs,
        thop_macs: fc_macs,
        flops: 2 * fc_macs + 100,
        bytes_read: 4 * (c + fc_macs + 100),
        weight_bytes: 4 * (fc_macs + 100),
        bytes_written: 400,
        ..Cost::default()
    };
    b.node("fc", "Gemm", "linear", fc, &[1, 100]);
    b.op("OptMatMul", "linear", Some(("fc", "Gemm", "linear")), fc);
    add(&mut total, pool_cost);
    add(&mut total, fc);
    let sum_ns: u64 = b.ops.iter().map(|o| o.wall_ns.median).sum();
    let median = sum_ns * 95 / 100;
    let metadata = hiddencost::record::Metadata {
        top1_error: m.top1_error_pct,
        ..Default::default()
    };
    let model = ModelRecord {
        model: m.name.clone(),
        source: format!("synthetic:{}", m.name),
        input_shape: vec![1, 3, m.spatial, m.spatial],
        output_shapes: vec![vec![1, 100]],
        optimize: "full".into(),
        source_nodes: b.nodes.len(),
        executed_nodes: b.ops.len(),
        cost: total,
        latency_ns: LatencyNs {
            min: median * 97 / 100,
            median,
            p90: median * 104 / 100,
            p99: median * 108 / 100,
            max: median * 110 / 100,
            mean: median as f64 * 1.01,
            stddev: median as f64 * 0.02,
        },
        runs: 5,
        warmup: 1,
        sum_op_wall_median_ns: sum_ns,
        profiled_latency_median_ns: sum_ns * 102 / 100,
        unattributed_median_ns: Some(sum_ns / 100),
        counter_read_median_ns: Some(sum_ns / 100),
        counter_totals: BTreeMap::new(),
        // 5 rounds: the interval is [min, max] of the rounds' ratios (93.75% coverage)
        paired: Some(Paired {
            schedule: "interleaved".into(),
            profiled_over_clean: RatioInterval {
                median: 1.074,
                low: 1.06,
                high: 1.09,
                confidence: 0.9375,
                pairs: 5,
            },
            sum_op_over_clean: RatioInterval {
                median: 1.053,
                low: 1.04,
                high: 1.07,
                confidence: 0.9375,
                pairs: 5,
            },
        }),
        warnings: Vec::new(),
        peak_rss_bytes: Some(50_000_000),
        load_ns: 1_000_000,
        thermal_end: vec![ThermalZone {
            zone: "thermal_zone0".into(),
            kind: Some("cpu-thermal".into()),
            millicelsius: Some(47_500),
        }],
        metadata,
    };
    let mut out: Vec<Record> = b.nodes.into_iter().map(Record::Node).collect();
    out.extend(b.ops.into_iter().map(Record::Op));
    out.push(Record::Model(model));
    out
}

/// Ten models of different shapes (deep-narrow vs shallow-wide), with made-up errors.
pub fn ten_models() -> Vec<SynthModel> {
    let shapes = [
        (4, 64, 16),
        (8, 32, 16),
        (2, 128, 8),
        (16, 16, 32),
        (6, 48, 16),
        (3, 96, 8),
        (12, 24, 16),
        (5, 64, 8),
        (10, 40, 8),
        (20, 8, 32),
    ];
    shapes
        .iter()
        .enumerate()
        .map(|(i, &(blocks, channels, spatial))| SynthModel {
            name: format!("net{i}"),
            blocks,
            channels,
            spatial,
            top1_error_pct: Some(20.0 + (i * 7 % 13) as f64),
        })
        .collect()
}

/// The ten-model synthetic Pi 4 log, written to a temporary file and loaded: the dataset the
/// latency-model tests share.
pub fn pi4_dataset() -> hiddencost::analyze::load::Dataset {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("pi.jsonl");
    std::fs::write(
        &path,
        to_jsonl(&synth_log(&SynthDevice::pi4(), &ten_models())),
    )
    .expect("writing the synthetic log");
    hiddencost::analyze::load::load_logs(&[path]).expect("the synthetic log loads")
}

/// Board `i` of a synthetic fleet of Pi 4s: hostname `pi0000`, ..., every rate within ±2% of
/// [`SynthDevice::pi4`]'s (deterministic in `i`), so the boards differ a little and agree.
pub fn fleet_board(i: usize) -> SynthDevice {
    let wobble = ((i as u64).wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0 - 0.5;
    let mut d = SynthDevice::pi4().slower(1.0 + 0.04 * wobble);
    d.hostname = Some(format!("pi{i:04}"));
    d
}

/// Plants an outlier's causes in a run: its header's cpufreq governor, and the temperature at
/// the end of every model (the header says 45 °C at the start).
pub fn plant_governor_and_heat(records: &mut [Record], governor: &str, end_millicelsius: i64) {
    for r in records {
        match r {
            Record::Header(h) => {
                for f in &mut h.context.cpufreq {
                    f.governor = Some(governor.to_string());
                }
            }
            Record::Model(m) => {
                for z in &mut m.thermal_end {
                    z.millicelsius = Some(end_millicelsius);
                }
            }
            _ => {}
        }
    }
}

/// Sets the clean median latency of model `model` in a run (and nothing else).
pub fn set_latency_median(records: &mut [Record], model: &str, median_ns: u64) {
    for r in records {
        if let Record::Model(m) = r
            && m.model == model
        {
            m.latency_ns.median = median_ns;
        }
    }
}

/// `m` measured again as rewrite `rewrite` of model `of` (named `of+rewrite`), changed at
/// `places` places: 20 runs, median `median_ns` and a p90 1.2816% above it (a relative sigma
/// of 1%).
pub fn rewrite_model(
    m: &ModelRecord,
    of: &str,
    rewrite: &str,
    median_ns: u64,
    places: u64,
) -> ModelRecord {
    let mut m = m.clone();
    m.model = format!("{of}+{rewrite}");
    m.runs = 20;
    m.latency_ns.median = median_ns;
    m.latency_ns.p90 = median_ns + median_ns * 12_816 / 1_000_000;
    m.metadata.rewrite = Some(RewriteMetadata {
        rewrite: rewrite.into(),
        of: of.into(),
        places,
    });
    m
}

//! Fuzzing ONNX loading, costing and one inference (issue #15, item 8), on stable Rust.
//!
//! Each case is a small graph that `arbitrary` builds from pseudo-random bytes: a chain of up
//! to eight ops drawn from the ones CNN exports use, each with attributes and constant inputs
//! that are often hostile (0, negative, 2^20..2^63, mismatched weight shapes), on an input of
//! up to four dims that may be 0 or huge. Every case must end as a model or an error: loaded,
//! costed and run once, or refused; a panic inside tract is caught (as `bench` does); an abort
//! or a hang is the failure. `fuzz_worker` (ignored: it needs the case range from its parent)
//! runs the cases in a child process, so `fuzz_onnx_bounded` sees an abort or a hang as the
//! child's death and names the case to replay: `HIDDENCOST_FUZZ_FROM=N HIDDENCOST_FUZZ_CASES=1
//! cargo test --test fuzz_onnx -- --ignored --nocapture fuzz_worker` (with
//! `HIDDENCOST_FUZZ_SAVE=DIR`, each case's model and spec are written there). `cargo test`
//! runs a few thousand cases; the heavy tier (`bash tests/run.sh heavy`) runs 100,000:
//! `HIDDENCOST_FUZZ_CASES=100000 cargo test --test fuzz_onnx fuzz_onnx_bounded`. A run of 10,000
//! cases or more is split over one worker per core, each a range of its own.
//!
//! Found crashes are kept as models in `tests/fuzz/onnx/` (the corpus), each run through
//! `bench` by `every_kept_crash_is_an_error_or_a_model`.

mod common;
use common::*;
#[allow(dead_code)] // only a few of the constructors are needed here
#[path = "../src/zoo/proto.rs"]
mod proto;

#[path = "fuzz/bytes.rs"]
mod bytes;
use bytes::case_bytes;

use arbitrary::{Arbitrary, Unstructured};
use hiddencost::counters::fake;
use hiddencost::model::{self, ModelSource, Optimize};
use hiddencost::runner::{self, RunConfig};
use prost::Message;
use proto::{attr_int, attr_ints, tensor_f32, tensor_i64, value_info_f32};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    ValueInfoProto,
};

/// Cases of the bounded run in `cargo test` (a debug build: a few seconds on 2 cores); the heavy
/// tier of tests/run.sh sets HIDDENCOST_FUZZ_CASES=100000.
const DEFAULT_CASES: u64 = 3_000;

/// From this many cases on, the run is split over one worker process per core.
const CASES_PER_WORKER_AT_LEAST: u64 = 5_000;

/// A number as hostile input gives them.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Wild {
    Small(u8),
    Zero,
    Negative(i8),
    Huge(u8),
}

impl Wild {
    fn value(self) -> i64 {
        match self {
            Wild::Small(v) => (v % 7) as i64 + 1,
            Wild::Zero => 0,
            Wild::Negative(v) => -((v as i64).abs() % 5) - 1,
            Wild::Huge(v) => 1i64 << (20 + v % 43),
        }
    }
}

fn values(v: &[Wild], at_most: usize) -> Vec<i64> {
    v.iter().take(at_most).map(|w| w.value()).collect()
}

#[derive(Arbitrary, Debug)]
enum Op {
    Conv {
        kernel: Wild,
        stride: Wild,
        dilation: Wild,
        pad: Wild,
        group: Wild,
        out: u8,
        weight_in: Wild,
    },
    MaxPool {
        kernel: Wild,
        stride: Wild,
        pad: Wild,
    },
    AveragePool {
        kernel: Wild,
        stride: Wild,
    },
    GlobalAveragePool,
    Relu,
    BatchNormalization {
        channels: Wild,
    },
    Add {
        earlier: u8,
    },
    Concat {
        earlier: u8,
        axis: Wild,
    },
    Reshape {
        shape: Vec<Wild>,
    },
    Transpose {
        perm: Vec<Wild>,
    },
    Flatten {
        axis: Wild,
    },
    Gemm {
        inner: Wild,
        out: u8,
    },
    MatMul {
        inner: Wild,
        out: u8,
    },
    Expand {
        shape: Vec<Wild>,
    },
    Resize {
        scales: Vec<u8>,
    },
    Slice {
        start: Wild,
        end: Wild,
        axis: Wild,
    },
    Pad {
        pads: Vec<Wild>,
    },
    Split {
        axis: Wild,
    },
    Softmax {
        axis: Wild,
    },
    ConstantOfShape {
        shape: Vec<Wild>,
    },
    Tile {
        repeats: Vec<Wild>,
    },
    Gather {
        axis: Wild,
        index: Wild,
    },
    Unsqueeze {
        axis: Wild,
    },
    Squeeze {
        axis: Wild,
    },
}

#[derive(Arbitrary, Debug)]
struct Spec {
    input: Vec<Wild>,
    ops: Vec<Op>,
}

/// A float tensor of `dims`, its data only when that is small (else its bytes do not match).
fn weight(name: &str, dims: &[i64]) -> TensorProto {
    let n = dims
        .iter()
        .try_fold(1i64, |a, &d| a.checked_mul(d))
        .unwrap_or(-1);
    let mut t = if (0..=4096).contains(&n) {
        tensor_f32(name, &[], &vec![0.01; n as usize])
    } else {
        tensor_f32(name, &[], &[0.0])
    };
    t.dims = dims.to_vec();
    t
}

fn ints_tensor(name: &str, v: &[i64]) -> TensorProto {
    let mut t = tensor_i64(&[v.len()], v);
    t.name = name.into();
    t
}

/// The ONNX model of a spec.
fn build(spec: &Spec) -> Vec<u8> {
    let mut input: Vec<usize> = spec
        .input
        .iter()
        .take(4)
        .map(|w| w.value().clamp(0, 1 << 40) as usize)
        .collect();
    if input.is_empty() {
        input = vec![1, 3, 8, 8];
    }
    let mut nodes = Vec::new();
    let mut inits: Vec<TensorProto> = Vec::new();
    let mut outputs = vec!["input".to_string()];
    for (i, op) in spec.ops.iter().take(8).enumerate() {
        let x = outputs.last().cloned().unwrap_or_default();
        let out = format!("t{i}");
        let c = |s: &str| format!("{s}{i}");
        let earlier = |e: u8| outputs[e as usize % outputs.len()].clone();
        let (op_type, inputs, attributes): (&str, Vec<String>, Vec<AttributeProto>) = match op {
            Op::Conv {
                kernel,
                stride,
                dilation,
                pad,
                group,
                out: o,
                weight_in,
            } => {
                let k = kernel.value();
                inits.push(weight(
                    &c("w"),
                    &[(*o % 9) as i64 + 1, weight_in.value(), k, k],
                ));
                let attrs = vec![
                    attr_ints("strides", &[stride.value(), stride.value()]),
                    attr_ints("dilations", &[dilation.value(), 1]),
                    attr_ints("pads", &[pad.value(), 0, pad.value(), 0]),
                    attr_int("group", group.value()),
                ];
                ("Conv", vec![x, c("w")], attrs)
            }
            Op::MaxPool {
                kernel,
                stride,
                pad,
            } => (
                "MaxPool",
                vec![x],
                vec![
                    attr_ints("kernel_shape", &[kernel.value(), kernel.value()]),
                    attr_ints("strides", &[stride.value(), stride.value()]),
                    attr_ints("pads", &[pad.value(); 4]),
                ],
            ),
            Op::AveragePool { kernel, stride } => (
                "AveragePool",
                vec![x],
                vec![
                    attr_ints("kernel_shape", &[kernel.value(), kernel.value()]),
                    attr_ints("strides", &[stride.value(), stride.value()]),
                ],
            ),
            Op::GlobalAveragePool => ("GlobalAveragePool", vec![x], vec![]),
            Op::Relu => ("Relu", vec![x], vec![]),
            Op::BatchNormalization { channels } => {
                for s in ["scale", "bias", "mean", "var"] {
                    inits.push(weight(&c(s), &[channels.value()]));
                }
                let ins = ["scale", "bias", "mean", "var"].map(c);
                let mut all = vec![x];
                all.extend(ins);
                ("BatchNormalization", all, vec![])
            }
            Op::Add { earlier: e } => ("Add", vec![x, earlier(*e)], vec![]),
            Op::Concat { earlier: e, axis } => (
                "Concat",
                vec![x, earlier(*e)],
                vec![attr_int("axis", axis.value() % 5)],
            ),
            Op::Reshape { shape } => {
                inits.push(ints_tensor(&c("shape"), &values(shape, 5)));
                ("Reshape", vec![x, c("shape")], vec![])
            }
            Op::Transpose { perm } => (
                "Transpose",
                vec![x],
                vec![attr_ints(
                    "perm",
                    &values(perm, 5).iter().map(|p| p % 5).collect::<Vec<_>>(),
                )],
            ),
            Op::Flatten { axis } => ("Flatten", vec![x], vec![attr_int("axis", axis.value() % 5)]),
            Op::Gemm { inner, out: o } => {
                inits.push(weight(&c("w"), &[inner.value(), (*o % 9) as i64 + 1]));
                ("Gemm", vec![x, c("w")], vec![])
            }
            Op::MatMul { inner, out: o } => {
                inits.push(weight(&c("w"), &[inner.value(), (*o % 9) as i64 + 1]));
                ("MatMul", vec![x, c("w")], vec![])
            }
            Op::Expand { shape } => {
                inits.push(ints_tensor(&c("shape"), &values(shape, 5)));
                ("Expand", vec![x, c("shape")], vec![])
            }
            Op::Resize { scales } => {
                let s: Vec<f32> = scales.iter().take(4).map(|&v| v as f32 / 16.0).collect();
                inits.push(tensor_f32(&c("roi"), &[0], &[]));
                inits.push(tensor_f32(&c("scales"), &[s.len()], &s));
                ("Resize", vec![x, c("roi"), c("scales")], vec![])
            }
            Op::Slice { start, end, axis } => {
                inits.push(ints_tensor(&c("starts"), &[start.value()]));
                inits.push(ints_tensor(&c("ends"), &[end.value()]));
                inits.push(ints_tensor(&c("axes"), &[axis.value() % 5]));
                ("Slice", vec![x, c("starts"), c("ends"), c("axes")], vec![])
            }
            Op::Pad { pads } => {
                inits.push(ints_tensor(&c("pads"), &values(pads, 8)));
                ("Pad", vec![x, c("pads")], vec![])
            }
            Op::Split { axis } => ("Split", vec![x], vec![attr_int("axis", axis.value() % 5)]),
            Op::Softmax { axis } => ("Softmax", vec![x], vec![attr_int("axis", axis.value() % 5)]),
            Op::ConstantOfShape { shape } => {
                inits.push(ints_tensor(&c("shape"), &values(shape, 5)));
                ("ConstantOfShape", vec![c("shape")], vec![])
            }
            Op::Tile { repeats } => {
                inits.push(ints_tensor(&c("repeats"), &values(repeats, 5)));
                ("Tile", vec![x, c("repeats")], vec![])
            }
            Op::Gather { axis, index } => {
                inits.push(ints_tensor(&c("index"), &[index.value()]));
                (
                    "Gather",
                    vec![x, c("index")],
                    vec![attr_int("axis", axis.value() % 5)],
                )
            }
            Op::Unsqueeze { axis } => {
                inits.push(ints_tensor(&c("axes"), &[axis.value() % 5]));
                ("Unsqueeze", vec![x, c("axes")], vec![])
            }
            Op::Squeeze { axis } => {
                inits.push(ints_tensor(&c("axes"), &[axis.value() % 5]));
                ("Squeeze", vec![x, c("axes")], vec![])
            }
        };
        nodes.push(NodeProto {
            name: format!("{op_type}_{i}"),
            op_type: op_type.into(),
            input: inputs,
            output: vec![out.clone()],
            attribute: attributes,
            ..Default::default()
        });
        outputs.push(out);
    }
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(GraphProto {
            name: "fuzz".into(),
            node: nodes,
            initializer: inits,
            input: vec![value_info_f32("input", &input)],
            output: vec![ValueInfoProto {
                name: outputs.last().cloned().unwrap_or_default(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// What happened to one model: loaded and ran, refused (with the reason), or tract panicked.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ran,
    Refused,
    Panicked,
}

fn run_model(name: &str, bytes: Vec<u8>) -> Outcome {
    let src = ModelSource::Bytes {
        name: name.into(),
        source: format!("fuzz:{name}"),
        bytes: Arc::new(bytes),
    };
    match catch_unwind(|| model::load_static(&src, None)) {
        Err(_) => return Outcome::Panicked,
        Ok(Err(_)) => {}
        Ok(Ok(_)) => {}
    }
    let loaded = match catch_unwind(|| model::load(&src, None, Optimize::Full)) {
        Err(_) => return Outcome::Panicked,
        Ok(Err(_)) => return Outcome::Refused,
        Ok(Ok(m)) => m,
    };
    let mut counters = fake::open(&[]);
    let cfg = RunConfig {
        warmup: 0,
        runs: 1,
        schedule: Default::default(),
    };
    match catch_unwind(AssertUnwindSafe(|| {
        runner::measure(&loaded, &mut counters, cfg)
    })) {
        Err(_) => Outcome::Panicked,
        Ok(Err(_)) => Outcome::Refused,
        Ok(Ok(_)) => Outcome::Ran,
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "the child process of fuzz_onnx_bounded, which passes it the cases to run"]
fn fuzz_worker() {
    let from = env_u64("HIDDENCOST_FUZZ_FROM", 0);
    let cases = env_u64("HIDDENCOST_FUZZ_CASES", DEFAULT_CASES);
    // tract's panics are expected and caught: keep their messages off the output.
    std::panic::set_hook(Box::new(|_| {}));
    let mut tally = [0usize; 3];
    for n in from..from + cases {
        eprintln!("case {n}");
        let bytes = case_bytes(n, 512);
        let Ok(spec) = Spec::arbitrary(&mut Unstructured::new(&bytes)) else {
            continue;
        };
        let model = build(&spec);
        if let Some(dir) = std::env::var_os("HIDDENCOST_FUZZ_SAVE") {
            // To keep a case (tests/fuzz/onnx/) or to look at it: its model and its spec.
            let dir = std::path::Path::new(&dir);
            std::fs::write(dir.join(format!("case{n}.onnx")), &model).unwrap();
            std::fs::write(dir.join(format!("case{n}.txt")), format!("{spec:#?}\n")).unwrap();
        }
        let outcome = run_model(&format!("case{n}"), model);
        tally[outcome as usize] += 1;
    }
    println!(
        "fuzz: cases {from}..{}: {} ran, {} refused, {} panicked inside tract (caught)",
        from + cases,
        tally[0],
        tally[1],
        tally[2]
    );
}

/// Runs cases `from..from + cases` in a child process (`fuzz_worker`); its output.
fn fuzz_in_child(from: u64, cases: u64) -> std::process::Output {
    assert_cmd::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "fuzz_worker", "--nocapture"])
        .env("HIDDENCOST_FUZZ_FROM", from.to_string())
        .env("HIDDENCOST_FUZZ_CASES", cases.to_string())
        // Large but legitimate models are refused rather than run: a case stays quick.
        .env(
            hiddencost::context::MEMORY_CAP_ENV,
            (64u64 << 20).to_string(),
        )
        .timeout(std::time::Duration::from_secs(60 + cases / 50))
        .output()
        .unwrap()
}

/// The ran, refused and panicked counts of a worker's summary line.
fn tally_of(summary: &str) -> [usize; 3] {
    [" ran, ", " refused, ", " panicked "].map(|needle| {
        summary
            .split(needle)
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    })
}

#[test]
fn fuzz_onnx_bounded() {
    let from = env_u64("HIDDENCOST_FUZZ_FROM", 0);
    let cases = env_u64("HIDDENCOST_FUZZ_CASES", DEFAULT_CASES);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let workers = (cases / CASES_PER_WORKER_AT_LEAST).clamp(1, cores);
    let per_worker = cases.div_ceil(workers);
    let ranges: Vec<(u64, u64)> = (0..workers)
        .map(|w| w * per_worker)
        .map(|skip| (from + skip, per_worker.min(cases - skip)))
        .collect();
    let outputs: Vec<std::process::Output> = std::thread::scope(|s| {
        let running: Vec<_> = ranges
            .iter()
            .map(|&(start, n)| s.spawn(move || fuzz_in_child(start, n)))
            .collect();
        running.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut tally = [0usize; 3];
    for (out, (start, n)) in outputs.iter().zip(&ranges) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| l.starts_with("case "));
        assert!(
            out.status.success(),
            "the fuzz worker of cases {start}..{} died ({:?}) at {last:?}: replay it with \
             HIDDENCOST_FUZZ_FROM=N HIDDENCOST_FUZZ_CASES=1; stderr tail: {}",
            start + n,
            out.status,
            stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let summary = stdout
            .lines()
            .find(|l| l.starts_with("fuzz: "))
            .unwrap_or("");
        println!("{summary}");
        for (all, one) in tally.iter_mut().zip(tally_of(summary)) {
            *all += one;
        }
    }
    let summary = format!(
        "fuzz: cases {from}..{}: {} ran, {} refused, {} panicked inside tract (caught)",
        from + cases,
        tally[0],
        tally[1],
        tally[2]
    );
    if workers > 1 {
        println!("{summary}");
    }
    // The generator reaches every outcome: not a run where every case is refused at once.
    for (count, needle) in tally.iter().zip([" ran, ", " refused, "]) {
        assert!(*count > 0, "no case{needle}: {summary}");
    }
}

#[test]
fn every_kept_crash_is_an_error_or_a_model() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/onnx");
    let mut kept: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .collect();
    kept.sort();
    assert!(!kept.is_empty(), "no kept crash in {}", dir.display());
    for path in kept {
        let out = hiddencost()
            .timeout(CASE_TIMEOUT)
            .arg("bench")
            .arg(&path)
            .args(["--runs", "1", "--fake-counters", "--probe-budget", "0"])
            .args(["--out", "-"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}: {:?} {stderr}",
            path.display(),
            out.status
        );
        let recs = records(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(
            of_type(&recs, "model").len() + of_type(&recs, "error").len(),
            1,
            "{}: {recs:?}",
            path.display()
        );
        assert_eq!(recs.last().unwrap()["type"], "end");
    }
}

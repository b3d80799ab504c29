//! The one error type of analysis and prediction (the lowest layer: every other module may use
//! it). Bad lines inside a log are not errors: they become skip notes and analysis goes on.

use std::path::PathBuf;

/// Everything that stops analysis or prediction. Bad lines inside a log are not errors: they
/// become [`super::load::SkipNote`]s and analysis goes on.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("no log given: pass one or more JSONL logs written by `hiddencost bench --out LOG`")]
    NoLogs,
    #[error("cannot read {path}: {cause}; check the path and its permissions")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "the logs need more memory than this machine has: after {} of {path} (line {line}), \
         analyze holds {}, {share_pct}% of the {} available (loading may take {load_pct}%, the \
         report needs the rest); analyze fewer logs at a time (a model or a device each), or \
         on a machine with more memory",
        size(*read_bytes), size(*held_bytes), size(*available_bytes)
    )]
    OutOfMemory {
        path: PathBuf,
        line: usize,
        read_bytes: u64,
        held_bytes: u64,
        available_bytes: u64,
        share_pct: u64,
        load_pct: u64,
    },
    #[error(
        "no usable model measurement in {files} log(s); a log needs a header line and, per \
         model, a `model` record (re-run `hiddencost bench`){notes}"
    )]
    NoModels { files: usize, notes: String },
    #[error("cannot write {path}: {cause}; check that --out names a writable directory")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{path} is one of the inputs ({input}), and hiddencost never writes over its input: \
         choose another --out, or move the input out of it"
    )]
    OutputIsInput { path: PathBuf, input: PathBuf },
    #[error(
        "{path} exists and no earlier `analyze` or `validate` wrote it (its folder's {manifest} \
         does not list it), so it is left as it is: move or delete it (an older hiddencost's \
         outputs are not listed: delete them once), or choose another --out"
    )]
    NotOurs {
        path: PathBuf,
        manifest: &'static str,
    },
    #[error(
        "{path}: not a hiddencost fit file ({reason}); make one with `hiddencost analyze LOG \
         --out DIR` and pass DIR/fit.json"
    )]
    FitFormat { path: PathBuf, reason: String },
    #[error("no node records to predict from: pass the output of `hiddencost cost MODEL --json`")]
    NoNodes,
    #[error("{path}:{line}: {reason}; expected `hiddencost cost MODEL --json` output")]
    CostFormat {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("device `{device}` is not in the fit file; it has: {available}")]
    UnknownDevice { device: String, available: String },
    #[error("the fit file has several devices ({available}): choose one with --device")]
    AmbiguousDevice { available: String },
    #[error("device `{device}` has no usable latency model: {reason}")]
    NotFitted { device: String, reason: String },
    #[error(
        "{path} holds no device to predict on: the logs `analyze` fitted it from had no model \
         with node records and a positive clean latency (its report lists the models left \
         out); analyze logs with measured models (`hiddencost bench MODEL --out LOG`)"
    )]
    EmptyFit { path: PathBuf },
    #[error(
        "device `{device}`: the {predictor} predicts {latency_ns} ns for this model, which no \
         latency can be: its coefficients do not fit this model; refit with `hiddencost \
         analyze` from logs that hold models like it"
    )]
    BadPrediction {
        device: String,
        predictor: &'static str,
        latency_ns: f64,
    },
    #[error(
        "--export {format}: this hiddencost was built without the `{feature}` feature; rebuild \
         with `cargo build --release --features {feature}` (or `cargo run --release --features \
         {feature} -- analyze ...`)"
    )]
    ExportUnavailable {
        format: &'static str,
        feature: &'static str,
    },
    #[error("cannot write {path}: {reason}")]
    Export { path: PathBuf, reason: String },
}

/// What makes a fit file's latency model unusable (a hand-edited fit.json may be).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BadFit {
    #[error("scale {0} is not a finite positive number")]
    Scale(f64),
    #[error("node-model coefficients of `{0}` are not finite non-negative numbers")]
    NodeCoefficients(String),
    #[error("MACs-only coefficients are not finite non-negative numbers")]
    MacsOnly,
    #[error("kernel coefficients of `{0}` are not finite non-negative numbers")]
    Coefficients(String),
    #[error("end_to_end coefficients are not finite non-negative numbers")]
    EndToEnd,
    #[error("nearest.k is 0")]
    NearestK,
    #[error(
        "nearest calls of `{kernel}`: more than {max}, or a time that is not a finite \
         non-negative number"
    )]
    NearestCalls { kernel: String, max: usize },
}

/// Why a fit.json that `analyze` writes cannot predict, said when it is written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitGap {
    #[error(
        "fit.json holds no device, so `predict` and `validate` cannot use it: no model had node \
         records and a positive clean latency ({left_out})"
    )]
    NoDevice { left_out: String },
    #[error("fit.json, device `{device}`: {cause}; `predict` refuses it")]
    Unusable { device: String, cause: BadFit },
    #[error(
        "fit.json, device `{device}`: the {predictor} predicts {latency_ns} ns for `{model}`, \
         one of the models it was fitted on; `predict` refuses such a prediction"
    )]
    NoLatency {
        device: String,
        predictor: &'static str,
        model: String,
        latency_ns: f64,
    },
    #[error("fit.json cannot be read back ({reason}); `predict` refuses it")]
    Unreadable { reason: String },
}

/// Bytes for a message: in GiB, MiB or KiB, whichever keeps the number at 1 or more.
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0x4000_0000.. => format!("{:.2} GiB", b / f64::from(1u32 << 30)),
        0x10_0000.. => format!("{:.1} MiB", b / f64::from(1u32 << 20)),
        _ => format!("{:.0} KiB", b / 1024.0),
    }
}

//! Fuzzing log parsing and analysis (issue #15, item 8), on stable Rust: valid logs whose
//! values `arbitrary` replaces with hostile ones (0, -1, 2^64 - 1, 1e308, fractions, empty and
//! long strings, null, empty arrays and objects, the wrong type), so that most lines still
//! parse as records and reach the analysis, where byte damage (`any_byte_soup_never_panics`
//! in analyze_load.rs) stops at the parser. Every case must load, compute and, every tenth,
//! render its report without a panic. More cases: `HIDDENCOST_FUZZ_CASES=20000 cargo test
//! --release --test fuzz_logs`.

mod analyze_common;

#[path = "fuzz/bytes.rs"]
mod bytes;
use bytes::case_bytes;

use arbitrary::{Arbitrary, Unstructured};
use hiddencost::analyze::{Analysis, AnalyzeOptions, analyze, load};
use serde_json::Value;

const DEFAULT_CASES: u64 = 600;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Hostile {
    Zero,
    MinusOne,
    MaxU64,
    Huge,
    Fraction,
    Empty,
    Long,
    Null,
    EmptyArray,
    EmptyObject,
    True,
}

impl Hostile {
    fn value(self) -> Value {
        match self {
            Hostile::Zero => 0.into(),
            Hostile::MinusOne => (-1).into(),
            Hostile::MaxU64 => u64::MAX.into(),
            Hostile::Huge => 1e308.into(),
            Hostile::Fraction => 0.5.into(),
            Hostile::Empty => "".into(),
            Hostile::Long => "x".repeat(10_000).into(),
            Hostile::Null => Value::Null,
            Hostile::EmptyArray => Value::Array(vec![]),
            Hostile::EmptyObject => Value::Object(Default::default()),
            Hostile::True => true.into(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    /// Replace the `leaf`-th leaf (in document order) of line `line` by a hostile value.
    Value { line: u16, leaf: u16, to: Hostile },
    /// Copy line `from` over line `to` (a record twice, or in the wrong place).
    Duplicate { from: u16, to: u16 },
    /// Drop a line.
    Drop { line: u16 },
}

/// Every leaf (not an object or a non-empty array) of `v`, in document order.
fn leaves(v: &mut Value) -> Vec<&mut Value> {
    let leaf = match &*v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => true,
    };
    if leaf {
        return vec![v];
    }
    match v {
        Value::Object(m) => m.values_mut().flat_map(leaves).collect(),
        Value::Array(a) => a.iter_mut().flat_map(leaves).collect(),
        _ => Vec::new(),
    }
}

fn mutate(lines: &mut Vec<Value>, m: &Mutation) {
    if lines.is_empty() {
        return;
    }
    let n = lines.len();
    match *m {
        Mutation::Value { line, leaf, to } => {
            let mut all = leaves(&mut lines[line as usize % n]);
            let count = all.len();
            if let Some(slot) = all.get_mut(leaf as usize % count.max(1)) {
                **slot = to.value();
            }
        }
        Mutation::Duplicate { from, to } => {
            lines[to as usize % n] = lines[from as usize % n].clone();
        }
        Mutation::Drop { line } => {
            lines.remove(line as usize % n);
        }
    }
}

#[test]
fn fuzz_logs_bounded() {
    let cases: u64 = std::env::var("HIDDENCOST_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    // Two devices (one with counters and the probe's roofs) and three models each.
    let (pi, laptop) = (
        analyze_common::synth::SynthDevice::pi4(),
        analyze_common::synth::SynthDevice::laptop(),
    );
    let models: Vec<_> = (0..3)
        .map(|i| analyze_common::synth::SynthModel::new(&format!("m{i}"), 2 + i, 8, 4))
        .collect();
    let mut good: Vec<Value> = Vec::new();
    for device in [&pi, &laptop] {
        let text =
            analyze_common::synth::to_jsonl(&analyze_common::synth::synth_log(device, &models));
        good.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.jsonl");
    let (mut loaded, mut with_runs) = (0, 0);
    for n in 0..cases {
        let bytes = case_bytes(n, 256);
        let mut u = Unstructured::new(&bytes);
        let Ok(mutations) = Vec::<Mutation>::arbitrary(&mut u) else {
            continue;
        };
        let mut lines = good.clone();
        for m in mutations.iter().take(6) {
            mutate(&mut lines, m);
        }
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let Ok(data) = load::load_logs(std::slice::from_ref(&path)) else {
            continue;
        };
        loaded += 1;
        with_runs += !data.runs.is_empty() as usize;
        drop(Analysis::compute(&data));
        if n % 10 == 0 {
            let _ = analyze(&AnalyzeOptions {
                logs: vec![path.clone()],
                out_dir: dir.path().join("out"),
                accuracy_csv: None,
                memory_available_bytes: None,
            });
        }
    }
    println!("fuzz: {cases} cases, {loaded} loaded, {with_runs} with models analysed");
    assert!(
        with_runs > cases as usize / 2,
        "most cases keep models to analyse: {with_runs} of {cases}"
    );
}

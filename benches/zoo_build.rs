//! How long building a zoo model in memory takes, next to one tract inference of it.
//!
//! `cargo bench --bench zoo_build [-- NAME...]`. Per model: the time to build the proto (best of
//! three), to encode it to bytes, to load it through tract (parse, optimize, plan), and one
//! inference (median of three runs after one warmup), then build / inference. The zoo's promise
//! is that building costs well under one inference; this prints the evidence, it asserts nothing.

use std::time::{Duration, Instant};
use tract_onnx::prelude::*;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> TractResult<()> {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let opts = hiddencost::zoo::ZooOptions::default();
    println!("| model | build ms | encode ms | tract load ms | inference ms | build / inference |");
    println!("|---|---:|---:|---:|---:|---:|");
    for name in hiddencost::zoo::NAMES {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let (build, proto) = best_of(3, || hiddencost::zoo::build(name, &opts));
        let proto = proto?;
        let (encode, _bytes) = best_of(3, || hiddencost::zoo::to_bytes(&proto));
        let start = Instant::now();
        let model = tract_onnx::onnx()
            .model_for_proto_model(&proto)?
            .into_optimized()?
            .into_runnable()?;
        let load = start.elapsed();
        let input: TValue =
            Tensor::from(tract_ndarray::Array4::<f32>::from_elem((1, 3, 32, 32), 0.5)).into();
        model.run(tvec!(input.clone()))?; // warmup
        let mut runs = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            model.run(tvec!(input.clone()))?;
            runs.push(start.elapsed());
        }
        runs.sort();
        let infer = runs[1];
        println!(
            "| {name} | {:.1} | {:.1} | {:.0} | {:.1} | {:.3} |",
            ms(build),
            ms(encode),
            ms(load),
            ms(infer),
            build.as_secs_f64() / infer.as_secs_f64()
        );
    }
    Ok(())
}

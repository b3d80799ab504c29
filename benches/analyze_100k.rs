//! Times `hiddencost analyze` on a synthesized log of about 100k op records (ten models of
//! ~2200 blocks, one device with counters): load, analysis and writing every output file.
//!
//! Run: `cargo bench --bench analyze_100k` (prints one line per phase; no harness).

use hiddencost::analyze::Analysis;
#[allow(dead_code)] // the tests use the rest of it
#[path = "../tests/analyze_common/synth.rs"]
mod synth;
use hiddencost::analyze::{AnalyzeOptions, analyze, load};
use hiddencost::record::Record;
use std::time::Instant;
use synth::{SynthDevice, SynthModel, synth_log, to_jsonl};

fn main() {
    let models: Vec<SynthModel> = (0..10)
        .map(|i| SynthModel::new(&format!("net{i}"), 2200 + 10 * i, 16 + 4 * i, 8))
        .collect();
    let mut device = SynthDevice::pi4();
    device.jitter = 0.2;
    let records = synth_log(&device, &models);
    let ops = records
        .iter()
        .filter(|r| matches!(r, Record::Op(_)))
        .count();
    let text = to_jsonl(&records);
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("100k.jsonl");
    std::fs::write(&log, &text).expect("write the synthetic log");
    println!(
        "log: {} records, {ops} op records, {:.1} MB",
        records.len(),
        text.len() as f64 / 1e6
    );

    let t = Instant::now();
    let data = load::load_logs(std::slice::from_ref(&log)).expect("load");
    println!("load:    {:.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let analysis = Analysis::compute(&data);
    println!(
        "compute: {:.3} s (metrics, correlations, fit with leave-one-model-out)",
        t.elapsed().as_secs_f64()
    );
    drop(analysis);

    let opts = AnalyzeOptions {
        logs: vec![log],
        out_dir: dir.path().join("out"),
        accuracy_csv: None,
        memory_available_bytes: None,
    };
    let mut best_s = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        let summary = analyze(&opts).expect("analyze");
        best_s = best_s.min(t.elapsed().as_secs_f64());
        assert!(summary.skipped.is_empty());
    }
    println!(
        "analyze (load + compute + write all files), best of 3: {best_s:.3} s for {ops} op records"
    );
    let mut files: Vec<(u64, String)> = std::fs::read_dir(&opts.out_dir)
        .expect("the report directory")
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.metadata().ok()?.len(), e.file_name().into_string().ok()?)))
        .collect();
    files.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = files.iter().map(|f| f.0).sum();
    let largest: Vec<String> = files
        .iter()
        .take(4)
        .map(|(n, f)| format!("{f} {:.1} MB", *n as f64 / 1e6))
        .collect();
    println!(
        "written: {} files, {:.1} MB; largest {}",
        files.len(),
        total as f64 / 1e6,
        largest.join(", ")
    );
}

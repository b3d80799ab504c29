//! Times `hiddencost analyze` on synthesized logs of many small model records (a fleet of
//! boards, or one board over many models): load, analysis and writing every output file, for
//! each count of models given (default 1000, 2000 and 4000 models of 4 blocks, ~20 ops each).
//! Doubling the models should about double every phase.
//!
//! Run: `cargo bench --bench analyze_models [-- COUNTS]`, e.g. `-- 10000 100000`.

use hiddencost::analyze::{Analysis, AnalyzeOptions, analyze, load};
#[allow(dead_code)] // the tests use the rest of it
#[path = "../tests/analyze_common/synth.rs"]
mod synth;
use std::time::Instant;
use synth::{SynthDevice, SynthModel, synth_log, to_jsonl};

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![1000, 2000, 4000]
    } else {
        counts
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    for n in counts {
        let models: Vec<SynthModel> = (0..n)
            .map(|i| SynthModel::new(&format!("net{i}"), 2 + i % 5, 8 + 4 * (i % 7), 8))
            .collect();
        let records = synth_log(&SynthDevice::pi4(), &models);
        let record_count = records.len();
        let text = to_jsonl(&records);
        drop(records);
        let log = dir.path().join(format!("{n}.jsonl"));
        std::fs::write(&log, &text).expect("write the synthetic log");
        let log_mb = text.len() as f64 / 1e6;
        // Only what analyze itself holds is in memory while it is timed.
        drop(text);
        let t = Instant::now();
        let data = load::load_logs(std::slice::from_ref(&log)).expect("load");
        let load_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        drop(Analysis::compute(&data));
        let compute_s = t.elapsed().as_secs_f64();
        drop(data);
        let opts = AnalyzeOptions {
            logs: vec![log],
            out_dir: dir.path().join(format!("out{n}")),
            accuracy_csv: None,
            memory_available_bytes: None,
        };
        let t = Instant::now();
        let summary = analyze(&opts).expect("analyze");
        let all_s = t.elapsed().as_secs_f64();
        assert!(summary.skipped.is_empty());
        println!(
            "{n} models ({record_count} records, {log_mb:.1} MB): load {load_s:.2} s, compute \
             {compute_s:.2} s, analyze end to end {all_s:.2} s; peak RSS {}",
            hiddencost::context::peak_rss_bytes()
                .map_or("unknown".into(), |b| format!("{:.1} GB", b as f64 / 1e9))
        );
    }
}

//! What to change: a made-up model with three rewrites measured beside it as it is, in one log
//! as `study` writes it. Savings, noise bands and verdicts are exact; the changes are ranked;
//! the Finding leads the Findings with the largest saving; the section and advise.csv are
//! written; a log without rewrites gets none of them.

mod analyze_common;

use analyze_common::synth::{SynthDevice, SynthModel, synth_log, to_jsonl};
use hiddencost::analyze::compute::advise::Verdict;
use hiddencost::analyze::load::load_logs;
use hiddencost::analyze::render::{advise, markdown, report};
use hiddencost::analyze::{Analysis, AnalyzeOptions, analyze};
use hiddencost::record::*;

const MODEL: &str = "net";

/// (rewrite, clean median ns, factor on its activation ops' time).
const REWRITES: [(&str, u64, f64); 4] = [
    ("as-is", 10_000_000, 1.0),
    ("max-pool", 10_500_000, 1.0),
    ("relu", 9_000_000, 0.25),
    ("fold-bn", 10_050_000, 1.0),
];

/// The model's records again, as rewrite `rewrite` of it: renamed, with the rewrite's
/// metadata, its median (and a p90 1.2816% above it: a relative sigma of 1%), its activation
/// ops' time scaled.
fn rewrite_of(records: &[Record], rewrite: &str, median: u64, activation: f64) -> Vec<Record> {
    let name = format!("{MODEL}+{rewrite}");
    records
        .iter()
        .filter_map(|r| match r {
            Record::Node(n) => Some(Record::Node(NodeRecord {
                model: name.clone(),
                ..n.clone()
            })),
            Record::Op(o) => {
                let mut o = o.clone();
                o.model = name.clone();
                if o.category == "activation" {
                    let scale = |v: u64| (v as f64 * activation) as u64;
                    o.wall_ns.median = scale(o.wall_ns.median);
                    o.wall_ns.min = scale(o.wall_ns.min);
                    o.wall_ns.max = scale(o.wall_ns.max);
                }
                Some(Record::Op(o))
            }
            Record::Model(m) => {
                let mut m = m.clone();
                m.model = name.clone();
                m.runs = 20;
                m.latency_ns.median = median;
                m.latency_ns.p90 = median + median * 12_816 / 1_000_000;
                m.metadata.rewrite = Some(RewriteMetadata {
                    rewrite: rewrite.into(),
                    of: MODEL.into(),
                    places: if rewrite == "as-is" { 0 } else { 3 },
                });
                Some(Record::Model(m))
            }
            _ => None,
        })
        .collect()
}

fn study_log(with_rewrites: bool) -> String {
    let synth = synth_log(&SynthDevice::pi4(), &[SynthModel::new(MODEL, 3, 16, 8)]);
    let (end, body) = synth.split_last().unwrap();
    let mut records = body.to_vec();
    if with_rewrites {
        for (rewrite, median, activation) in REWRITES {
            records.extend(rewrite_of(&body[1..], rewrite, median, activation));
        }
    }
    records.push(end.clone());
    to_jsonl(&records)
}

fn analysis(with_rewrites: bool) -> (hiddencost::analyze::load::Dataset, Analysis) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.jsonl");
    std::fs::write(&path, study_log(with_rewrites)).unwrap();
    let data = load_logs(&[path]).unwrap();
    let a = Analysis::compute(&data);
    (data, a)
}

#[test]
fn savings_noise_and_verdicts_are_exact_and_ranked() {
    let (data, a) = analysis(true);
    // The rewrites are kept apart: the model's own run is the only model.
    assert_eq!((data.runs.len(), data.rewrites.len()), (1, 4));
    assert_eq!(a.advice.len(), 1);
    let m = &a.advice[0];
    assert_eq!(m.model, MODEL);
    let got: Vec<(&str, i64, Verdict)> = m
        .changes
        .iter()
        .map(|c| (c.rewrite.as_str(), c.saved_ns, c.verdict))
        .collect();
    assert_eq!(
        got,
        [
            ("relu", 1_000_000, Verdict::Faster),
            ("fold-bn", -50_000, Verdict::Same),
            ("max-pool", -500_000, Verdict::Slower),
        ]
    );
    // Each median's relative standard error: 1.2533 * 1% / sqrt(20); the band is two standard
    // errors of the ratio: 2 * sqrt(2) of it.
    let noise = 2.0 * 2f64.sqrt() * 1.2533 * 0.01 / 20f64.sqrt();
    let relu = &m.changes[0];
    assert!(
        (relu.noise.unwrap() - noise).abs() < 1e-6,
        "{:?}",
        relu.noise
    );
    assert!((relu.saving - 0.1).abs() < 1e-12);
    assert_eq!((relu.as_is_ns, relu.rewritten_ns), (10_000_000, 9_000_000));
    // The activation ops lost three quarters of their time, the move listed first.
    let first = &relu.categories[0];
    assert_eq!(first.category, "activation");
    assert_eq!(first.rewritten_ns * 4, first.as_is_ns);
    let (category, bound) = relu.target.as_ref().unwrap();
    assert_eq!(category, "activation");
    assert!(bound.measured_ns > 0.0);
    // Without design probes there is no probe evidence.
    assert!(relu.probe.is_none());
}

#[test]
fn the_largest_saving_leads_the_findings_and_the_section_and_csv_are_written() {
    let (data, a) = analysis(true);
    let f = a.findings[0].changes.as_ref().unwrap();
    assert_eq!((f.models, f.changes, f.faster, f.slower), (1, 3, 1, 1));
    assert_eq!(f.never_faster, ["fold-bn", "max-pool"]);
    let md = markdown::render(&report::report(&a, &data, &[], &[]));
    let findings = md.split("## ").find(|s| s.starts_with("Findings")).unwrap();
    let first = findings.lines().find(|l| l.starts_with("- ")).unwrap();
    assert!(
        first.starts_with(
            "- **What to change.** 3 rewrite(s) of 1 model(s) measured on this device, each \
             against the model as it is: 1 saved time beyond the noise; the largest: net with \
             every other activation to ReLU saves 1.000 ms (10.0%"
        ),
        "{first}"
    );
    assert!(md.contains(&format!("## {}", advise::H_ADVICE)));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.jsonl");
    std::fs::write(&path, study_log(true)).unwrap();
    let out = dir.path().join("out");
    let summary = analyze(&AnalyzeOptions {
        logs: vec![path],
        out_dir: out.clone(),
        accuracy_csv: None,
    })
    .unwrap();
    let csv = std::fs::read_to_string(out.join("advise.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].contains(",net,relu,3,10000000,9000000,1000000,"),
        "{}",
        lines[1]
    );
    assert!(summary.advice.starts_with("net on "), "{}", summary.advice);
    assert!(
        summary
            .advice
            .contains("1. every other activation to ReLU (3 places): 1.000 ms saved (10.0%")
    );
}

#[test]
fn a_log_without_rewrites_has_no_advice() {
    let (data, a) = analysis(false);
    assert!(a.advice.is_empty() && a.findings[0].changes.is_none());
    let md = markdown::render(&report::report(&a, &data, &[], &[]));
    assert!(!md.contains(advise::H_ADVICE));
    assert!(advise::csv_files(&a, &data).is_empty());
}

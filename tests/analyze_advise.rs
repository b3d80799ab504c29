//! What to change: a made-up model with three rewrites measured between two runs of it as it
//! is, in one log as `study` writes it. Savings, noise bands and verdicts are exact; the changes are ranked;
//! the Finding leads the Findings with the largest saving; the section and advise.csv are
//! written; a log without rewrites gets none of them.

mod analyze_common;

use analyze_common::synth::{SynthDevice, SynthModel, rewrite_model, synth_log, to_jsonl};
use hiddencost::analyze::Analysis;
use hiddencost::analyze::compute::advise::Verdict;
use hiddencost::analyze::render::{advise, markdown, report};
use hiddencost::record::*;

const MODEL: &str = "net";

/// (rewrite, clean median ns, factor on its activation ops' time), in log order: the machine
/// drifts by 2% from the as-is run before the group to the one after it.
const REWRITES: [(&str, u64, f64); 5] = [
    ("as-is", 10_000_000, 1.0),
    ("max-pool", 10_500_000, 1.0),
    ("relu", 9_000_000, 0.25),
    ("fold-bn", 10_050_000, 1.0),
    ("as-is-after", 10_200_000, 1.0),
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
                let places = if rewrite.starts_with("as-is") { 0 } else { 3 };
                Some(Record::Model(rewrite_model(
                    m, MODEL, rewrite, median, places,
                )))
            }
            _ => None,
        })
        .collect()
}

/// The model, then (with `rewrites`) the first `rewrites` of [`REWRITES`].
fn study_log(rewrites: usize) -> String {
    let synth = synth_log(&SynthDevice::pi4(), &[SynthModel::new(MODEL, 3, 16, 8)]);
    let (end, body) = synth.split_last().unwrap();
    let mut records = body.to_vec();
    for (rewrite, median, activation) in &REWRITES[..rewrites] {
        records.extend(rewrite_of(&body[1..], rewrite, *median, *activation));
    }
    records.push(end.clone());
    to_jsonl(&records)
}

fn analysis(rewrites: usize) -> (hiddencost::analyze::load::Dataset, Analysis) {
    analyze_common::load_text(&study_log(rewrites))
}

#[test]
fn savings_noise_and_verdicts_are_exact_and_ranked() {
    let (data, a) = analysis(REWRITES.len());
    // The rewrites are kept apart: the model's own run is the only model.
    assert_eq!((data.runs.len(), data.rewrites.len()), (1, 5));
    assert_eq!(a.advice.len(), 1);
    let m = &a.advice[0];
    assert_eq!(
        (m.model.as_str(), m.as_is, m.as_is_after),
        (MODEL, 0, Some(4))
    );
    // Each change against the as-is latency at its place: 10 ms before, 10.2 ms after, three
    // changes between, so 10.05, 10.10 and 10.15 ms.
    let got: Vec<(&str, u64, i64, Verdict)> = m
        .changes
        .iter()
        .map(|c| (c.rewrite.as_str(), c.as_is_ns, c.saved_ns, c.verdict))
        .collect();
    assert_eq!(
        got,
        [
            ("relu", 10_100_000, 1_100_000, Verdict::Faster),
            ("fold-bn", 10_150_000, 100_000, Verdict::Same),
            ("max-pool", 10_050_000, -450_000, Verdict::Slower),
        ]
    );
    // Each median's relative standard error: 1.2533 * 1% / sqrt(20); the band is two standard
    // errors of the ratio, 2 * sqrt(2) of it, plus the 2% drift.
    let noise = 2.0 * 2f64.sqrt() * 1.2533 * 0.01 / 20f64.sqrt() + 0.02;
    let relu = &m.changes[0];
    assert!(
        (relu.noise.unwrap() - noise).abs() < 1e-6,
        "{:?}",
        relu.noise
    );
    assert_eq!(relu.drift, Some(0.02));
    assert!((relu.saving - 1.1 / 10.1).abs() < 1e-9);
    assert_eq!(relu.rewritten_ns, 9_000_000);
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

/// A log cut short before the as-is run after the group: each change against the run before,
/// and no drift term.
#[test]
fn without_the_run_after_the_run_before_is_the_reference() {
    let (_, a) = analysis(REWRITES.len() - 1);
    let m = &a.advice[0];
    assert_eq!(m.as_is_after, None);
    let relu = &m.changes[0];
    assert_eq!(
        (relu.as_is_ns, relu.saved_ns, relu.drift),
        (10_000_000, 1_000_000, None)
    );
    let noise = 2.0 * 2f64.sqrt() * 1.2533 * 0.01 / 20f64.sqrt();
    assert!((relu.noise.unwrap() - noise).abs() < 1e-6);
    // 50 us slower than 10 ms is within 0.8% of noise.
    assert_eq!(m.changes[1].verdict, Verdict::Same);
}

#[test]
fn the_largest_saving_leads_the_findings_and_the_section_and_csv_are_written() {
    let (data, a) = analysis(REWRITES.len());
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
             every other activation to ReLU saves 1.100 ms (10.9%"
        ),
        "{first}"
    );
    assert!(md.contains(&format!("## {}", advise::H_ADVICE)));

    let (_dir, out, summary) = analyze_common::analyze_text(&study_log(REWRITES.len()));
    let csv = std::fs::read_to_string(out.join("advise.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].contains(",net,relu,3,10100000,9000000,1100000,"),
        "{}",
        lines[1]
    );
    assert!(summary.advice.starts_with("net on "), "{}", summary.advice);
    assert!(
        summary
            .advice
            .contains("1. every other activation to ReLU (3 places): 1.100 ms saved (10.9%")
    );
}

#[test]
fn a_log_without_rewrites_has_no_advice() {
    let (data, a) = analysis(0);
    assert!(a.advice.is_empty() && a.findings[0].changes.is_none());
    let md = markdown::render(&report::report(&a, &data, &[], &[]));
    assert!(!md.contains(advise::H_ADVICE));
    assert!(advise::csv_files(&a, &data).is_empty());
}

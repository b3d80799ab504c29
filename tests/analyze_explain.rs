//! Explaining, not only describing: every op's bound from the machine roofs in its log, the
//! time above them, the Findings that answer the study's questions (or say why they cannot),
//! and report.html. The synthetic "Pi 4" has roofs that match its rates exactly, so every
//! op's bound and excess are known; the synthetic "laptop" and the golden zoo log have none.

mod analyze_common;
use analyze_common as common;
use analyze_common::synth::{SynthDevice, synth_log, ten_models, to_jsonl};

use hiddencost::analyze::compute::bounds::VIEW_OPS;
use hiddencost::analyze::compute::findings::{Answer, Verdict};
use hiddencost::analyze::load::{Dataset, load_logs};
use hiddencost::analyze::render::names;
use hiddencost::analyze::render::reasons::why as words;
use hiddencost::analyze::{Analysis, AnalyzeOptions, analyze};
use hiddencost::record::{NoiseWarning, Record};
use std::path::{Path, PathBuf};

fn write_log(dir: &Path, name: &str, records: &[Record]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, to_jsonl(records)).unwrap();
    path
}

/// `hiddencost analyze LOGS --out OUT`.
fn report_of(logs: Vec<PathBuf>, out: PathBuf) -> hiddencost::analyze::AnalyzeSummary {
    analyze(&AnalyzeOptions {
        logs,
        out_dir: out,
        accuracy_csv: None,
        memory_available_bytes: None,
    })
    .unwrap()
}

fn pi_data(dir: &Path) -> Dataset {
    let log = write_log(
        dir,
        "pi.jsonl",
        &synth_log(&SynthDevice::pi4(), &ten_models()),
    );
    load_logs(&[log]).unwrap()
}

#[test]
fn every_op_gets_its_exact_bound_limiter_and_excess() {
    let dir = tempfile::tempdir().unwrap();
    let data = pi_data(dir.path());
    let a = Analysis::compute(&data);
    let d = SynthDevice::pi4();
    let mut limiters = std::collections::BTreeSet::new();
    for (run, b) in data.runs.iter().zip(&a.bounds) {
        let b = b.as_ref().expect("the synthetic Pi's header has roofs");
        assert_eq!(b.ops.len(), run.ops.len());
        for (op, ob) in run.ops.iter().zip(&b.ops) {
            let c = &op.cost;
            let compute = d.ns_per_mac * c.macs as f64;
            let memory = if VIEW_OPS.contains(&op.op.as_str()) {
                0.0
            } else {
                d.ns_per_byte * c.bytes_read.max(c.bytes_written) as f64
            };
            let bound = compute.max(memory) + d.ns_per_op;
            let measured = op.wall_ns.median as f64;
            assert!(
                (ob.bound_ns - bound).abs() < bound * 1e-9,
                "{}: {} vs {bound}",
                op.node,
                ob.bound_ns
            );
            // Times are whole nanoseconds: the excess is exact up to that rounding.
            assert!((ob.excess_ns - (measured - bound)).abs() < 1e-6);
            assert!(
                ob.excess_ns > -1.0,
                "{}: no op is faster than physics",
                op.node
            );
            let expect = if d.ns_per_op > compute.max(memory) {
                "overhead"
            } else if compute >= memory {
                "compute"
            } else {
                "memory"
            };
            assert!(
                names::limiter_of(&b.roofs, ob.limiter).starts_with(expect),
                "{}",
                op.node
            );
            limiters.insert(names::limiter_of(&b.roofs, ob.limiter));
        }
        assert!(b.below_bound.is_empty() && b.over_peak.is_empty());
        let above: f64 = b.ops.iter().map(|o| o.above_ns()).sum();
        assert!((b.total.above_ns - above).abs() < 1e-6);
    }
    // The working sets span the levels: im2col outputs need L2, small ops stay in L1.
    assert!(limiters.contains("compute") && limiters.contains("memory:L2"));
    assert!(
        limiters.contains("memory:L1") && limiters.contains("overhead"),
        "{limiters:?}"
    );
}

/// `log` loaded and analysed, and the index of model `net1`'s run in it.
fn analysed_net1(log: &Path) -> (Dataset, Analysis, usize) {
    let data = load_logs(&[log.to_path_buf()]).unwrap();
    let a = Analysis::compute(&data);
    let net1 = data
        .runs
        .iter()
        .position(|r| r.model.model == "net1")
        .unwrap();
    (data, a, net1)
}

#[test]
fn a_reshape_carrying_a_merged_convs_macs_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = synth_log(&SynthDevice::pi4(), &ten_models()[..3]);
    // The merged-conv bug of issue #11: a 0.7 µs IntoShape with 16.8M MACs.
    for r in records.iter_mut() {
        if let Record::Op(op) = r
            && op.model == "net1"
            && op.op == "Max"
        {
            op.op = "IntoShape".into();
            op.category = "tensor".into();
            op.cost.macs = 16_800_000;
            op.wall_ns.median = 700;
            break;
        }
    }
    let log = write_log(dir.path(), "merged.jsonl", &records);
    let (data, a, net1) = analysed_net1(&log);
    let b = a.bounds[net1].as_ref().unwrap();
    assert_eq!(b.over_peak.len(), 1);
    let op = &data.runs[net1].ops[b.over_peak[0]];
    assert_eq!(op.op, "IntoShape");
    assert!(b.below_bound.contains(&b.over_peak[0]));
    let out = dir.path().join("out");
    report_of(vec![log], out.clone());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("1 op(s) that compute no MACs run above the peak MAC rate"),
        "{md}"
    );
}

/// Three synthetic Pi 4 models, net1's first conv with MACs at `times` the probe's peak;
/// its analysis and report.md.
fn with_a_fast_conv(dir: &std::path::Path, times: f64) -> (Dataset, Analysis, usize, String) {
    let mut records = synth_log(&SynthDevice::pi4(), &ten_models()[..3]);
    let mut peak = 0.0;
    for r in records.iter_mut() {
        if let Record::Header(h) = r {
            peak = h
                .machine
                .as_ref()
                .unwrap()
                .matmul
                .as_ref()
                .unwrap()
                .macs_per_s
                .max;
        }
        if let Record::Op(op) = r
            && op.model == "net1"
            && op.category == "conv"
            && op.cost.macs > 0
        {
            op.wall_ns.median = (op.cost.macs as f64 / (times * peak) * 1e9).max(1.0) as u64;
            break;
        }
    }
    let log = write_log(dir, "beaten.jsonl", &records);
    let (data, a, net1) = analysed_net1(&log);
    let out = dir.join("out");
    report_of(vec![log], out.clone());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    (data, a, net1, md)
}

#[test]
fn a_kernel_faster_than_the_probes_peak_raises_its_models_roof() {
    // A busy VM's probe caught a slow moment: a conv at 1.5x its peak.
    let dir = tempfile::tempdir().unwrap();
    let (data, a, net1, md) = with_a_fast_conv(dir.path(), 1.5);
    let b = a.bounds[net1].as_ref().unwrap();
    assert!(b.over_peak.is_empty(), "{:?}", b.over_peak);
    assert_eq!(b.peak_beaten.len(), 1);
    let conv = b.peak_beaten[0];
    assert_eq!(data.runs[net1].ops[conv].category, "conv");
    assert!(b.peak_raised() && b.above_raised_peak().is_empty());
    assert!((b.roofs.peak_macs_per_s / b.probe_peak_macs_per_s - 1.5).abs() < 0.01);
    assert!(!b.below_bound.contains(&conv));
    // The other models keep the probe's roof.
    for (run, other) in data.runs.iter().zip(&a.bounds) {
        if run.model.model != "net1" {
            assert!(
                !other.as_ref().unwrap().peak_raised(),
                "{}",
                run.model.model
            );
        }
    }
    assert!(md.contains("**Roofs raised by the run**"), "{md}");
    assert!(
        md.contains("1 kernel op(s) ran above the probe's peak of") && md.contains("(up to 1.50x)"),
        "{md}"
    );
    assert!(!md.contains("Bounds that do not hold"), "{md}");
}

#[test]
fn a_kernel_far_above_the_probes_peak_is_a_bound_that_does_not_hold() {
    // 3x the peak: likelier overcounted MACs than a slow probe; the roof stays the probe's.
    let dir = tempfile::tempdir().unwrap();
    let (data, a, net1, md) = with_a_fast_conv(dir.path(), 3.0);
    let b = a.bounds[net1].as_ref().unwrap();
    assert!(b.over_peak.is_empty(), "{:?}", b.over_peak);
    assert_eq!(b.above_raised_peak(), b.peak_beaten);
    assert_eq!(data.runs[net1].ops[b.peak_beaten[0]].category, "conv");
    assert!(!b.peak_raised());
    assert!(
        md.contains("1 kernel op(s) above 2x the probe's peak MAC rate (up to 3.0x)"),
        "{md}"
    );
    assert!(!md.contains("attributed wrongly"), "{md}");
    assert!(!md.contains("Roofs raised by the run"), "{md}");
}

#[test]
fn findings_answer_rq1_to_rq3_with_numbers_and_say_why_not_rq4() {
    let dir = tempfile::tempdir().unwrap();
    let data = pi_data(dir.path());
    let a = Analysis::compute(&data);
    let f = &a.findings[0];
    assert_eq!(f.models, 10);
    let rq1 = f.rq1.as_ref().expect("ten models answer RQ1");
    // Synthetic times are linear in MACs *and* bytes: MACs alone do not explain them.
    assert!((rq1.macs.r - 0.6574651402798547).abs() < 1e-9);
    assert_eq!(rq1.verdict, Answer::Is(Verdict::DoesNotFollow));
    assert!(rq1.gmacs_highest.1 > rq1.gmacs_lowest.1);
    let rq2 = f.rq2.as_ref().unwrap();
    assert!(rq2.hidden_share > 0.5, "im2col, BN and ReLU carry no MACs");
    assert_eq!(rq2.hidden_ops[0].0, "LazyIm2col");
    let above = rq2.above.as_ref().expect("the Pi has roofs");
    assert_eq!(above.models, 10);
    assert!(above.share > 0.0 && above.share < 1.0);
    let rq3 = f.rq3.as_ref().unwrap();
    assert_eq!(rq3.models.len(), 10);
    assert!(
        rq3.models
            .windows(2)
            .all(|w| w[0].hidden_share >= w[1].hidden_share)
    );
    assert!(matches!(&f.rq4, Answer::CannotSay(why) if words(why).contains("design probes")));

    let out = dir.path().join("out");
    let summary = report_of(vec![dir.path().join("pi.jsonl")], out.clone());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let first_section = md.lines().find(|l| l.starts_with("## ")).unwrap();
    assert_eq!(first_section, "## Findings", "findings come first");
    for (q, number) in [
        ("RQ1.", "Pearson r = 0.66"),
        ("RQ2.", "of op time is in ops with no MACs"),
        ("RQ3.", "in zero-MAC ops"),
        ("RQ4.", "Not answered"),
    ] {
        let line = md
            .lines()
            .find(|l| l.contains(q))
            .unwrap_or_else(|| panic!("{q}"));
        assert!(line.contains(number), "{line}");
    }
    assert!(md.contains("[Figure 2](#4-figure-2-do-size-and-macs-predict-time)"));
    assert!(summary.terminal.starts_with("Findings\n"));
}

#[test]
fn findings_say_when_the_data_cannot_answer() {
    let dir = tempfile::tempdir().unwrap();
    // Two models on the laptop (no roofs): too few for a correlation, no bounds.
    let two = synth_log(&SynthDevice::laptop(), &ten_models()[..2]);
    let log = write_log(dir.path(), "two.jsonl", &two);
    let a = Analysis::compute(&load_logs(&[log]).unwrap());
    let f = &a.findings[0];
    assert!(matches!(&f.rq1, Answer::CannotSay(w) if words(w).contains("at least 3 models")));
    let rq2 = f.rq2.as_ref().unwrap();
    assert!(matches!(&rq2.above, Answer::CannotSay(w) if words(w).contains("no machine roofs")));
    assert!(f.rq3.as_ref().is_some(), "two models can be compared");

    // Noise that could flip the answer: every model warned, with a wide min..p90.
    let mut noisy = synth_log(&SynthDevice::pi4(), &ten_models());
    for r in noisy.iter_mut() {
        if let Record::Model(m) = r {
            m.warnings.push(NoiseWarning {
                kind: "cv".into(),
                message: "clean-pass CV 40% above 5%".into(),
            });
            m.latency_ns.min = m.latency_ns.median / 4;
            m.latency_ns.p90 = m.latency_ns.median * 4;
        }
    }
    let log = write_log(dir.path(), "noisy.jsonl", &noisy);
    let a = Analysis::compute(&load_logs(&[log]).unwrap());
    let rq1 = a.findings[0].rq1.as_ref().unwrap();
    let (lo, hi) = rq1.r_under_noise.unwrap();
    assert!(lo < hi);
    assert!(
        matches!(&rq1.verdict, Answer::CannotSay(w) if words(w).contains("noise warnings")),
        "{:?}",
        rq1.verdict
    );
    assert_eq!(a.findings[0].warned_models.len(), 10);
}

#[test]
fn light_models_are_split_off_at_the_largest_gap_in_macs() {
    let dir = tempfile::tempdir().unwrap();
    let summary = report_of(vec![common::golden("zoo_vm.jsonl")], dir.path().join("out"));
    let data = load_logs(&[common::golden("zoo_vm.jsonl")]).unwrap();
    let a = Analysis::compute(&data);
    let rq1 = a.findings[0].rq1.as_ref().unwrap();
    let light = rq1.light.as_ref().expect("the zoo has four light models");
    let mut names = light.models.clone();
    names.sort();
    assert_eq!(
        names,
        ["mobilenet", "mobilenetv2", "shufflenet", "shufflenetv2"]
    );
    assert!(light.next_macs as f64 / light.max_macs as f64 > 2.0);
    // This golden log predates the probe: the report says so instead of a number.
    let rq2 = a.findings[0].rq2.as_ref().unwrap();
    assert!(matches!(rq2.above, Answer::CannotSay(_)));
    assert!(
        summary
            .terminal
            .contains("Time above the roofs: not computed")
    );
    assert!(a.bounds.iter().all(|b| b.is_err()));
    let roofline =
        std::fs::read_to_string(dir.path().join("out/roofline_intel-xeon-processor.svg")).unwrap();
    assert!(roofline.contains("empirical roof: best observed"));
}

/// The report of `records` (a log of the synthetic Pi 4) in a temporary folder: the folder,
/// the report's, and its roofline, checked as XML.
fn pi_roofline(records: &[Record]) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), "pi.jsonl", records);
    let out = dir.path().join("out");
    report_of(vec![log], out.clone());
    let svg = std::fs::read_to_string(out.join("roofline_rpi4b.svg")).unwrap();
    common::xml::check(&svg).unwrap();
    (dir, out, svg)
}

#[test]
fn the_roofline_draws_the_measured_roofs() {
    let (_dir, out, svg) = pi_roofline(&synth_log(&SynthDevice::pi4(), &ten_models()));
    // 1 / 0.12 ns per MAC = 8.3 GMAC/s; 1 / 0.9 ns per byte = 1.1 GB/s at every level.
    assert!(
        svg.contains("peak 8.3 GMAC/s (arm64simd_mmm_f32_8x8, 1 thread(s))"),
        "{svg}"
    );
    assert!(svg.contains("DRAM read 1.1 GB/s"));
    assert!(!svg.contains("empirical roof"));
    assert!(
        !svg.contains("int8 peak"),
        "no integer peak without int8 ops"
    );
    let ops_csv = std::fs::read_to_string(out.join("ops.csv")).unwrap();
    let header: Vec<&str> = ops_csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "limiter").unwrap();
    let rows: Vec<&str> = ops_csv.lines().skip(1).collect();
    assert!(
        rows.iter()
            .all(|l| !l.split(',').nth(col).unwrap().is_empty())
    );
}

#[test]
fn the_roofline_draws_the_integer_peak_of_a_device_with_int8_ops() {
    let mut records = synth_log(&SynthDevice::pi4(), &ten_models());
    let mut quantized = false;
    for r in &mut records {
        match r {
            Record::Header(h) => {
                let m = h.machine.as_mut().unwrap();
                let mut int8 = m.matmul.clone().unwrap();
                int8.kernel = "arm64simd_mmm_i32_8x8_dot".into();
                int8.operands = Some("i8".into());
                int8.macs_per_s = hiddencost::record::Spread {
                    median: 1.9e9,
                    min: 1.8e9,
                    max: 2e9,
                    repeats: 5,
                    ..Default::default()
                };
                m.matmul_int8 = Some(int8);
            }
            Record::Op(o) if o.cost.macs > 0 && !quantized => {
                o.cost.int8_macs = o.cost.macs;
                quantized = true;
            }
            _ => {}
        }
    }
    assert!(quantized);
    let (_dir, _, svg) = pi_roofline(&records);
    assert!(
        svg.contains("int8 peak 2.00 GMAC/s (arm64simd_mmm_i32_8x8_dot, 1 thread(s))"),
        "{svg}"
    );
    assert!(svg.contains("peak 8.3 GMAC/s (arm64simd_mmm_f32_8x8, 1 thread(s))"));
}

#[test]
fn report_html_is_self_contained_and_says_what_report_md_says() {
    let dir = tempfile::tempdir().unwrap();
    let (pi, laptop) = common::synth_logs();
    let (a, b) = (dir.path().join("pi.jsonl"), dir.path().join("laptop.jsonl"));
    std::fs::write(&a, pi).unwrap();
    std::fs::write(&b, laptop).unwrap();
    let out = dir.path().join("out");
    report_of(vec![a, b], out.clone());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for external in ["src=", "href=\"http", "url(", "<script", "@import"] {
        assert!(
            !html.contains(external),
            "{external}: the page fetches nothing"
        );
    }
    // Every chart report.md links is inline in report.html.
    let charts = md.lines().filter(|l| l.starts_with("![")).count();
    assert!(charts >= 9, "{charts}");
    assert_eq!(html.matches("<svg ").count(), charts);
    assert_eq!(html.matches("<figure id=\"chart-").count(), charts);
    // Same headings in the same order.
    let md_headings: Vec<String> = md
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(String::from)
        .collect();
    let html_headings: Vec<String> = html
        .lines()
        .filter_map(|l| l.strip_prefix("<h2 id=\""))
        .filter_map(|l| {
            Some(
                l.split_once("\">")?
                    .1
                    .trim_end_matches("</h2>")
                    .replace("&apos;", "'"),
            )
        })
        .collect();
    assert_eq!(md_headings, html_headings);
    assert_eq!(md_headings[0], "Findings");
    // Ids are unique in the page even though every chart has a series named after a category.
    let ids: Vec<&str> = html
        .split(" id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids");
    let xml_like = html
        .replace("<!DOCTYPE html>", "")
        .replace("<meta charset=\"utf-8\">", "<meta charset=\"utf-8\"/>");
    let xml_like = xml_like.replace(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>",
    );
    common::xml::check(&xml_like).unwrap_or_else(|e| panic!("report.html is not well-formed: {e}"));
}

#[test]
fn figure2_labels_of_the_zoo_do_not_overlap() {
    use hiddencost::analyze::render::chart::labels::text_box;
    let dir = tempfile::tempdir().unwrap();
    report_of(vec![common::golden("zoo_vm.jsonl")], dir.path().join("out"));
    for pair in [
        "time_vs_macs",
        "time_vs_params",
        "accuracy_vs_time",
        "size_vs_macs",
    ] {
        let svg = std::fs::read_to_string(dir.path().join(format!("out/fig2_{pair}.svg"))).unwrap();
        assert!(
            svg.contains("log scale"),
            "{pair}: ten zoo models span decades"
        );
        let attr = |el: &str, name: &str| -> String {
            let start = el.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            el[start..].split('"').next().unwrap().to_string()
        };
        let boxes: Vec<_> = svg
            .split("<text ")
            .skip(1)
            .filter(|el| el.contains("class=\"point-label\""))
            .map(|el| {
                let text = el.split('>').nth(1).unwrap().split('<').next().unwrap();
                text_box(
                    attr(el, "x").parse().unwrap(),
                    attr(el, "y").parse().unwrap(),
                    &attr(el, "text-anchor"),
                    text,
                )
            })
            .collect();
        assert_eq!(boxes.len(), 10, "{pair}: a label (or a number) per model");
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(!a.overlaps(b), "{pair}: {a:?} overlaps {b:?}");
            }
        }
    }
}

//! Tests of [`super`] (findings.rs).

use super::*;
use crate::compute::sweep::{SweepFamily, SweepVariant};

fn family(device: usize, name: &str, has_baseline: bool, variants: usize) -> SweepFamily {
    let v = SweepVariant {
        run: 0,
        variant: "v".into(),
        choice: String::new(),
        params: String::new(),
        baseline: false,
        macs: 1,
        runs: 10,
        median_ns: 1,
        spread: 0.0,
        ns_per_mac: None,
        ratio: None,
        ns_per_mac_ratio: None,
        noise: None,
        relative_se: None,
    };
    SweepFamily {
        device,
        family: name.into(),
        variants: vec![v; variants],
        has_baseline,
    }
}

fn advice(device: usize, family: &str, saving: f64) -> Advice {
    Advice {
        device,
        family: family.into(),
        variant: family.to_string() + "-" + &saving.to_string(),
        choice: String::new(),
        baseline_choice: String::new(),
        saving,
        noise: 0.01,
        saved_ns: (saving * 1000.0) as i64,
    }
}

#[test]
fn rq4_takes_this_devices_ranked_advice_and_names_the_flat_families() {
    let sweep = SweepAnalysis {
        families: vec![
            family(0, "conv_type", true, 6),
            family(0, "merge", true, 2),
            family(0, "kernel_size", true, 3),
            family(0, "spatial", false, 4),
            family(1, "conv_type", true, 6),
        ],
        advice: vec![
            advice(1, "conv_type", 0.9),
            advice(0, "conv_type", 0.5),
            advice(0, "conv_type", 0.4),
            advice(0, "conv_type", 0.3),
            advice(0, "conv_type", 0.2),
        ],
        costs: vec![advice(0, "merge", -0.2)],
    };
    let Answer::Is(r) = rq4(&sweep, 0) else {
        panic!("answered")
    };
    assert_eq!(
        r.families, 3,
        "the family without a baseline is not counted"
    );
    assert_eq!(r.variants, 11);
    assert_eq!(r.advice_total, 4);
    let savings: Vec<f64> = r.advice.iter().map(|a| a.saving).collect();
    assert_eq!(savings, [0.5, 0.4, 0.3], "the first TOP, in rank order");
    assert_eq!(r.costs_total, 1);
    assert_eq!(r.flat, ["kernel_size"]);
}

#[test]
fn rq4_cannot_say_without_probes_or_without_a_baseline() {
    let none = SweepAnalysis::default();
    assert_eq!(rq4(&none, 0), Answer::CannotSay(Why::NoDesignProbes));
    let unmeasured = SweepAnalysis {
        families: vec![family(0, "merge", false, 1)],
        ..SweepAnalysis::default()
    };
    assert_eq!(
        rq4(&unmeasured, 0),
        Answer::CannotSay(Why::NoBaseline { families: 1 })
    );
}

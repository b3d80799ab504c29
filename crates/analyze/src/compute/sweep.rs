//! RQ4, the design probes of `hiddencost sweep`: per device and design family, each variant's
//! latency and ns/MAC relative to the family baseline, with the noise of that ratio; then the
//! advice, the design choices that save the most time at equal MACs, ranked.
//!
//! Noise: a median of `n` runs with standard deviation `sigma` has a standard error of about
//! `1.2533 sigma / sqrt(n)` (the median of a normal sample). `sigma` is estimated robustly from
//! the spread between the median and the 90th percentile (`(p90 - median) / 1.2816`, as for a
//! normal sample), not from the sample standard deviation, which a single preempted run on a
//! busy machine inflates many times. The ratio of two medians then has a relative standard
//! error of `sqrt(se_v^2 + se_b^2)`, and the noise is two of those (about a 95% band). A saving
//! smaller than its noise is no advice.

use crate::load::{Dataset, ModelRun};
use crate::record::ProbeKind;
use std::collections::BTreeMap;

/// Standard error of a sample median in units of sigma / sqrt(n), for a normal sample.
const MEDIAN_SE: f64 = 1.2533;
/// The 90th percentile of a normal sample lies this many standard deviations above its median.
const P90_SIGMAS: f64 = 1.2816;
/// Noise bands are this many standard errors wide.
pub const NOISE_SIGMAS: f64 = 2.0;

/// One measured variant.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepVariant {
    /// Index into `Dataset::probes`.
    pub run: usize,
    pub variant: String,
    pub choice: String,
    pub params: String,
    pub baseline: bool,
    pub macs: u64,
    pub runs: usize,
    pub median_ns: u64,
    /// p90 over min of the clean runs, relative to the median: the spread over repeats.
    pub spread: f64,
    pub ns_per_mac: Option<f64>,
    /// Latency over the baseline's (`None` without a measured baseline).
    pub ratio: Option<f64>,
    /// ns/MAC over the baseline's.
    pub ns_per_mac_ratio: Option<f64>,
    /// Relative noise of `ratio` (see the module header).
    pub noise: Option<f64>,
    /// Relative standard error of the variant's median.
    pub relative_se: Option<f64>,
}

/// One design family measured on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepFamily {
    pub device: usize,
    pub family: String,
    /// The baseline first, then the other variants in log order.
    pub variants: Vec<SweepVariant>,
    /// Whether the baseline was measured (else no ratios).
    pub has_baseline: bool,
}

/// One item of the advice: a variant faster than its baseline by more than the noise.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    pub device: usize,
    pub family: String,
    pub variant: String,
    pub choice: String,
    pub baseline_choice: String,
    /// 1 - latency ratio.
    pub saving: f64,
    pub noise: f64,
    pub saved_ns: i64,
}

/// RQ4's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepAnalysis {
    pub families: Vec<SweepFamily>,
    /// Ranked: the largest saving first.
    pub advice: Vec<Advice>,
    /// Variants slower than their baseline by more than the noise: choices to avoid, the
    /// largest cost first.
    pub costs: Vec<Advice>,
}

/// The noise of the ratio of two medians from their relative standard errors: two standard
/// errors of the ratio (see the module header); `None` when either is unknown.
pub fn ratio_noise(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(NOISE_SIGMAS * (a? * a? + b? * b?).sqrt())
}

/// Relative standard error of a run's clean median (see the module header).
pub fn relative_se(run: &ModelRun) -> Option<f64> {
    let l = &run.model.latency_ns;
    let n = run.model.runs.max(1) as f64;
    let sigma = l.p90.saturating_sub(l.median) as f64 / P90_SIGMAS;
    (l.median > 0).then(|| MEDIAN_SE * (sigma / l.median as f64) / n.sqrt())
}

fn variant_of(ix: usize, run: &ModelRun) -> SweepVariant {
    let l = &run.model.latency_ns;
    let median = l.median;
    let macs = run.model.cost.macs;
    let sweep = run.model.metadata.sweep.as_ref();
    SweepVariant {
        run: ix,
        variant: sweep.map_or(&run.model.model, |s| &s.variant).clone(),
        choice: sweep.map(|s| s.choice.clone()).unwrap_or_default(),
        params: sweep.map(|s| s.params.clone()).unwrap_or_default(),
        baseline: sweep.is_some_and(|s| s.baseline),
        macs,
        runs: run.model.runs,
        median_ns: median,
        spread: if median > 0 {
            l.p90.saturating_sub(l.min) as f64 / median as f64
        } else {
            0.0
        },
        ns_per_mac: (macs > 0).then(|| median as f64 / macs as f64),
        ratio: None,
        ns_per_mac_ratio: None,
        noise: None,
        relative_se: relative_se(run),
    }
}

/// The design families of every device (kernel probes left out: they have no baseline), with
/// ratios against each family's baseline, and the advice.
pub fn compute(data: &Dataset) -> SweepAnalysis {
    // (device, family) -> run indices, in log order.
    let mut groups: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    for (ix, run) in data.probes.iter().enumerate() {
        let sweep = run.model.metadata.sweep.as_ref();
        if let Some(family) = sweep
            .filter(|s| s.kind == ProbeKind::Design)
            .map(|s| &s.family)
        {
            groups
                .entry((run.device, family.to_string()))
                .or_default()
                .push(ix);
        }
    }
    let mut out = SweepAnalysis::default();
    for ((device, family), ixs) in groups {
        let mut variants: Vec<SweepVariant> = ixs
            .iter()
            .map(|&ix| variant_of(ix, &data.probes[ix]))
            .collect();
        // The baseline first (the last one measured, if a log holds it twice).
        if let Some(b) = variants.iter().rposition(|v| v.baseline) {
            let base = variants.remove(b);
            variants.retain(|v| !v.baseline);
            variants.insert(0, base);
        }
        let has_baseline = variants.first().is_some_and(|v| v.baseline);
        if has_baseline {
            let base = variants[0].clone();
            for v in &mut variants {
                if base.median_ns > 0 {
                    v.ratio = Some(v.median_ns as f64 / base.median_ns as f64);
                }
                v.ns_per_mac_ratio = match (v.ns_per_mac, base.ns_per_mac) {
                    (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                    _ => None,
                };
                v.noise = ratio_noise(v.relative_se, base.relative_se);
            }
            for v in variants.iter().skip(1) {
                let (Some(ratio), Some(noise)) = (v.ratio, v.noise) else {
                    continue;
                };
                let item = Advice {
                    device,
                    family: family.clone(),
                    variant: v.variant.clone(),
                    choice: v.choice.clone(),
                    baseline_choice: base.choice.clone(),
                    saving: 1.0 - ratio,
                    noise,
                    saved_ns: base.median_ns as i64 - v.median_ns as i64,
                };
                if item.saving > noise {
                    out.advice.push(item);
                } else if -item.saving > noise {
                    out.costs.push(item);
                }
            }
        }
        out.families.push(SweepFamily {
            device,
            family,
            variants,
            has_baseline,
        });
    }
    let by_saving = |a: &Advice, b: &Advice| b.saving.total_cmp(&a.saving);
    out.advice.sort_by(by_saving);
    out.costs.sort_by(|a, b| a.saving.total_cmp(&b.saving));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Dataset;
    use crate::record::{Header, ModelRecord, Record, SweepMetadata};
    use std::rc::Rc;

    fn golden() -> (Header, ModelRecord) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/golden/zoo_vm.jsonl"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut header = None;
        let mut model = None;
        for line in text.lines() {
            match serde_json::from_str(line) {
                Ok(Record::Header(h)) if header.is_none() => header = Some(h),
                Ok(Record::Model(m)) if model.is_none() => model = Some(m),
                _ => {}
            }
        }
        (header.unwrap(), model.unwrap())
    }

    fn run(
        header: &Rc<Header>,
        base: &ModelRecord,
        family: &str,
        variant: &str,
        baseline: bool,
        median: u64,
        sigma: f64,
    ) -> ModelRun {
        let mut m = base.clone();
        m.model = format!("{family}.{variant}");
        m.runs = 20;
        m.cost.macs = 1_000_000;
        m.latency_ns.median = median;
        m.latency_ns.mean = median as f64;
        // One outlier run makes the sample deviation large; the noise must not follow it.
        m.latency_ns.stddev = 50.0 * sigma;
        m.latency_ns.min = median.saturating_sub(10);
        m.latency_ns.p90 = median + (P90_SIGMAS * sigma).round() as u64;
        m.metadata.sweep = Some(SweepMetadata {
            family: family.into(),
            kind: ProbeKind::Design,
            variant: variant.into(),
            baseline,
            choice: format!("{variant} choice"),
            params: String::new(),
            macs_target: None,
            op: None,
        });
        ModelRun {
            device: 0,
            log: "sweep.jsonl".into(),
            line: 1,
            header: header.clone(),
            nodes: Default::default(),
            ops: Vec::new(),
            model: m,
        }
    }

    #[test]
    fn ratios_against_the_baseline_and_advice_ranked_by_saving_beyond_noise() {
        let (h, m) = golden();
        let h = Rc::new(h);
        let mut data = Dataset {
            probes: vec![
                run(&h, &m, "conv_type", "grouped_g4", false, 600_000, 6_000.0),
                run(&h, &m, "conv_type", "dense", true, 1_000_000, 10_000.0),
                run(&h, &m, "conv_type", "noisy", false, 950_000, 400_000.0),
                run(&h, &m, "conv_type", "slow", false, 1_500_000, 10_000.0),
                run(&h, &m, "merge", "add", true, 1_000_000, 1_000.0),
                run(&h, &m, "merge", "concat", false, 900_000, 1_000.0),
            ],
            ..Dataset::default()
        };
        let mut kernel = run(&h, &m, "kernels", "conv_c16", false, 5, 0.0);
        if let Some(s) = kernel.model.metadata.sweep.as_mut() {
            s.kind = ProbeKind::Kernel;
        }
        data.probes.push(kernel);
        let a = compute(&data);
        assert_eq!(a.families.len(), 2, "kernel probes are no family");
        let conv = &a.families[0];
        assert_eq!(conv.family, "conv_type");
        assert_eq!(conv.variants[0].variant, "dense", "the baseline first");
        assert_eq!(conv.variants[0].ratio, Some(1.0));
        let g4 = &conv.variants[1];
        assert!((g4.ratio.unwrap() - 0.6).abs() < 1e-12);
        assert!((g4.ns_per_mac_ratio.unwrap() - 0.6).abs() < 1e-12);
        assert!((g4.ns_per_mac.unwrap() - 0.6).abs() < 1e-12);
        // 2 * 1.2533 * sqrt(0.01^2 + 0.01^2) / sqrt(20)
        let noise = 2.0 * 1.2533 * (2.0f64 * 1e-4).sqrt() / 20f64.sqrt();
        assert!(
            (g4.noise.unwrap() - noise).abs() < 1e-6,
            "{:?} {noise}",
            g4.noise
        );
        let p90_above = (P90_SIGMAS * 6_000.0f64).round();
        assert!((g4.spread - (p90_above + 10.0) / 600_000.0).abs() < 1e-12);
        let ranked: Vec<&str> = a.advice.iter().map(|x| x.variant.as_str()).collect();
        assert_eq!(
            ranked,
            ["grouped_g4", "concat"],
            "noisy is within its noise"
        );
        assert_eq!(a.advice[0].saved_ns, 400_000);
        assert_eq!(a.advice[0].baseline_choice, "dense choice");
        assert_eq!(a.costs.len(), 1);
        assert_eq!(a.costs[0].variant, "slow");
        assert!((a.costs[0].saving + 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_family_without_its_baseline_has_no_ratios_and_no_advice() {
        let (h, m) = golden();
        let h = Rc::new(h);
        let data = Dataset {
            probes: vec![run(&h, &m, "merge", "concat", false, 900_000, 1_000.0)],
            ..Dataset::default()
        };
        let a = compute(&data);
        assert!(!a.families[0].has_baseline);
        assert_eq!(a.families[0].variants[0].ratio, None);
        assert!(a.advice.is_empty());
    }
}

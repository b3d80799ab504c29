//! Noise checks: the warnings a model record carries when its numbers may not be trustworthy.
//!
//! Six checks, each from facts read during the run (no measurement of its own):
//! - **cv**: the clean pass's coefficient of variation (stddev / mean of the `runs` end-to-end
//!   times) above [`CV_WARN`];
//! - **drift**: the clean runs moved during the model: the median of their last quarter (in run
//!   order) differs from the median of their first quarter by more than [`DRIFT_WARN`], and at
//!   least [`DRIFT_ORDERED`] of the (first, last) pairs of runs are ordered that way (a shift,
//!   not two noisy quarters); a machine warming up, throttling or getting busier. Separate from
//!   `cv`: a steady drift can keep the coefficient of variation low, and noise without a trend
//!   is not a drift. With interleaved runs both sides of every pair drifted alike, so the paired
//!   ratios still hold; the latency itself is then the median over changing conditions;
//! - **profiled**: the per-op runs much slower than the clean runs they are paired with (the
//!   paired median of per-op / clean above [`PROFILED_WARN`]): the hook costs more than the
//!   per-op times can ignore (many tiny ops, slow counter reads), or, with `separate`, the
//!   machine changed between the passes;
//! - **cpu**: the process ran less than [`CPU_SHARE_WARN`] of the per-op runs' wall time
//!   (`task-clock` over the run / its end-to-end time, medians): another process took the CPU,
//!   and every op's wall time holds some of its time;
//! - **governor**: a cpufreq governor other than `performance` on a CPU the benchmark may run on
//!   (the pinned CPU with `--cpu`, else every CPU); machines without cpufreq (most VMs) have
//!   nothing to check;
//! - **temperature**: a thermal zone that rose by [`TEMP_RISE_WARN_MILLICELSIUS`] or more between
//!   the start and the end of the model, or ended at [`TEMP_HOT_MILLICELSIUS`] or above (a
//!   Raspberry Pi 4 starts throttling at 80 °C).

use crate::record::{CpuFreq, LatencyNs, NoiseWarning, ThermalZone};

/// Coefficient of variation of the clean pass above which a model is flagged as noisy.
pub const CV_WARN: f64 = 0.05;
/// Relative change between the medians of the first and the last quarter of the clean runs
/// above which a model is flagged as drifting.
pub const DRIFT_WARN: f64 = 0.05;
/// Share of (first-quarter run, last-quarter run) pairs that must be ordered in the direction
/// of the change for a drift to be flagged.
pub const DRIFT_ORDERED: f64 = 0.9;
/// Paired per-op / clean ratio above which the per-op runs are flagged as disturbed.
pub const PROFILED_WARN: f64 = 1.2;
/// Share of the per-op runs' wall time on the CPU (`task-clock` / wall) below which another
/// process is taken to have had the CPU.
pub const CPU_SHARE_WARN: f64 = 0.9;
/// Fewest runs in a quarter for the drift check (8 runs in all).
pub const DRIFT_MIN_QUARTER: usize = 2;
/// A rise of a thermal zone over one model that is flagged.
pub const TEMP_RISE_WARN_MILLICELSIUS: i64 = 5_000;
/// An end temperature that is flagged: the Pi 4 firmware's soft throttling limit.
pub const TEMP_HOT_MILLICELSIUS: i64 = 80_000;

/// What one model's measurement saw, for [`check`].
pub struct Observed<'a> {
    pub latency: &'a LatencyNs,
    /// The clean runs' end-to-end times, in run order.
    pub clean_ns: &'a [u64],
    /// The paired median of per-op run / clean run, when measured.
    pub profiled_over_clean: Option<f64>,
    /// Median `task-clock` of a per-op run over its median end-to-end time, when task-clock
    /// was counted.
    pub cpu_share: Option<f64>,
    pub cpufreq: &'a [CpuFreq],
    /// `--cpu`, when pinned.
    pub cpu: Option<usize>,
    pub thermal_start: &'a [ThermalZone],
    pub thermal_end: &'a [ThermalZone],
}

/// Coefficient of variation (stddev / mean), 0 for an empty or zero distribution.
pub fn cv(latency: &LatencyNs) -> f64 {
    if latency.mean > 0.0 {
        latency.stddev / latency.mean
    } else {
        0.0
    }
}

/// How the clean runs drifted: the relative change from the first quarter's median to the last
/// quarter's (in run order), and the share of (first, last) pairs of runs ordered in that
/// direction; `None` with fewer than [`DRIFT_MIN_QUARTER`] runs per quarter.
pub fn drift(clean_ns: &[u64]) -> Option<(f64, f64)> {
    let q = clean_ns.len() / 4;
    if q < DRIFT_MIN_QUARTER {
        return None;
    }
    let mut first = clean_ns[..q].to_vec();
    let mut last = clean_ns[clean_ns.len() - q..].to_vec();
    first.sort_unstable();
    last.sort_unstable();
    let (m0, m1) = (
        crate::stats::percentile(&first, 50.0),
        crate::stats::percentile(&last, 50.0),
    );
    if m0 == 0 {
        return None;
    }
    let change = m1 as f64 / m0 as f64 - 1.0;
    // pairs (a, b), a from the first quarter and b from the last, with b > a (or b < a for a
    // speed-up): one pass over both sorted quarters
    let mut ordered = 0u64;
    let mut i = 0;
    for &b in &last {
        if change >= 0.0 {
            while i < q && first[i] < b {
                i += 1;
            }
            ordered += i as u64; // first[..i] < b
        } else {
            while i < q && first[i] <= b {
                i += 1;
            }
            ordered += (q - i) as u64; // first[i..] > b
        }
    }
    Some((change, ordered as f64 / (q * q) as f64))
}

pub fn check(o: &Observed) -> Vec<NoiseWarning> {
    let mut out = Vec::new();
    let cv = cv(o.latency);
    if cv > CV_WARN {
        out.push(NoiseWarning {
            kind: "cv".into(),
            message: format!(
                "clean pass varies: coefficient of variation {:.1}% (threshold {:.0}%); \
                 another process or frequency changes may be disturbing the run",
                cv * 100.0,
                CV_WARN * 100.0
            ),
        });
    }
    if let Some((change, ordered)) =
        drift(o.clean_ns).filter(|&(c, s)| c.abs() > DRIFT_WARN && s >= DRIFT_ORDERED)
    {
        out.push(NoiseWarning {
            kind: "drift".into(),
            message: format!(
                "clean runs drifted: the last quarter's median is {:+.1}% from the first                  quarter's (threshold {:.0}%; {:.0}% of their pairs ordered that way); the                  machine changed during the model (heat, frequency, another process)",
                change * 100.0,
                DRIFT_WARN * 100.0,
                ordered * 100.0
            ),
        });
    }
    if let Some(r) = o.profiled_over_clean.filter(|&r| r > PROFILED_WARN) {
        out.push(NoiseWarning {
            kind: "profiled".into(),
            message: format!(
                "per-op runs are {r:.2}x their paired clean runs (threshold {PROFILED_WARN}): \
                 the ops' times include that much measuring (see counter_read_median_ns and \
                 unattributed_median_ns), or the machine changed between the passes"
            ),
        });
    }
    if let Some(s) = o.cpu_share.filter(|&s| s < CPU_SHARE_WARN) {
        out.push(NoiseWarning {
            kind: "cpu".into(),
            message: format!(
                "the process was on the CPU for {:.0}% of the per-op runs' wall time \
                 (task-clock / wall, threshold {:.0}%): another process took the CPU, and the \
                 ops' wall times include its time; pin with --cpu to an idle core",
                s * 100.0,
                CPU_SHARE_WARN * 100.0
            ),
        });
    }
    let mut slow: Vec<String> = o
        .cpufreq
        .iter()
        .filter(|f| o.cpu.is_none_or(|c| c == f.cpu))
        .filter_map(|f| {
            let g = f.governor.as_deref()?;
            (g != "performance").then(|| format!("CPU {} `{g}`", f.cpu))
        })
        .collect();
    if !slow.is_empty() {
        slow.dedup();
        out.push(NoiseWarning {
            kind: "governor".into(),
            message: format!(
                "cpufreq governor is not `performance` ({}): the clock may change during the \
                 run; set it with `cpupower frequency-set -g performance`",
                slow.join(", ")
            ),
        });
    }
    for end in o.thermal_end {
        let Some(t1) = end.millicelsius else { continue };
        let t0 = o
            .thermal_start
            .iter()
            .find(|z| z.zone == end.zone)
            .and_then(|z| z.millicelsius);
        let name = end.kind.as_deref().unwrap_or(&end.zone);
        if let Some(t0) = t0.filter(|t0| t1 - t0 >= TEMP_RISE_WARN_MILLICELSIUS) {
            out.push(NoiseWarning {
                kind: "temperature".into(),
                message: format!(
                    "{name} rose from {:.1} °C to {:.1} °C during the model (threshold +{} °C): \
                     let the board cool down or add a heatsink",
                    t0 as f64 / 1000.0,
                    t1 as f64 / 1000.0,
                    TEMP_RISE_WARN_MILLICELSIUS / 1000
                ),
            });
        } else if t1 >= TEMP_HOT_MILLICELSIUS {
            out.push(NoiseWarning {
                kind: "temperature".into(),
                message: format!(
                    "{name} at {:.1} °C at the end of the model (threshold {} °C): the CPU \
                     may be throttling",
                    t1 as f64 / 1000.0,
                    TEMP_HOT_MILLICELSIUS / 1000
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latency(mean: f64, stddev: f64) -> LatencyNs {
        LatencyNs {
            mean,
            stddev,
            ..LatencyNs::default()
        }
    }

    fn freq(cpu: usize, governor: &str) -> CpuFreq {
        CpuFreq {
            cpu,
            governor: Some(governor.into()),
            cur_khz: None,
            min_khz: None,
            max_khz: None,
        }
    }

    fn zone(mc: i64) -> ThermalZone {
        ThermalZone {
            zone: "thermal_zone0".into(),
            kind: Some("cpu-thermal".into()),
            millicelsius: Some(mc),
        }
    }

    fn kinds(o: &Observed) -> Vec<String> {
        check(o).into_iter().map(|w| w.kind).collect()
    }

    #[test]
    fn quiet_run_has_no_warning() {
        let l = latency(1000.0, 10.0);
        let f = [freq(0, "performance"), freq(1, "performance")];
        let (t0, t1) = ([zone(50_000)], [zone(54_999)]);
        let o = Observed {
            latency: &l,
            clean_ns: &[],
            profiled_over_clean: None,
            cpu_share: None,
            cpufreq: &f,
            cpu: None,
            thermal_start: &t0,
            thermal_end: &t1,
        };
        assert!(check(&o).is_empty(), "{:?}", check(&o));
    }

    #[test]
    fn each_check_fires_on_its_own() {
        let noisy = latency(1000.0, 60.0);
        let calm = latency(1000.0, 50.0); // exactly 5%: not above the threshold
        let perf = [freq(0, "performance")];
        let ondemand = [freq(0, "performance"), freq(3, "ondemand")];
        let (cool, warm, hot) = ([zone(50_000)], [zone(55_000)], [zone(81_000)]);
        let obs = |l, f, s, e| Observed {
            latency: l,
            clean_ns: &[],
            profiled_over_clean: None,
            cpu_share: None,
            cpufreq: f,
            cpu: None,
            thermal_start: s,
            thermal_end: e,
        };
        assert_eq!(kinds(&obs(&noisy, &perf, &cool, &cool)), ["cv"]);
        assert!(kinds(&obs(&calm, &perf, &cool, &cool)).is_empty());
        // One warning, whose message holds `needle`: its kind.
        let one = |w: Vec<NoiseWarning>, needle: &str| {
            assert_eq!(w.len(), 1);
            assert!(w[0].message.contains(needle), "{}", w[0].message);
            w[0].kind.clone()
        };
        let kind = one(
            check(&obs(&calm, &ondemand, &cool, &cool)),
            "CPU 3 `ondemand`",
        );
        assert_eq!(kind, "governor");
        one(
            check(&obs(&calm, &perf, &cool, &warm)),
            "50.0 °C to 55.0 °C",
        );
        // Hot but steady: flagged for the absolute limit, not the rise.
        one(check(&obs(&calm, &perf, &hot, &hot)), "81.0 °C at the end");
        // Falling temperature, or a zone without a start reading: nothing.
        assert!(kinds(&obs(&calm, &perf, &warm, &cool)).is_empty());
        assert!(kinds(&obs(&calm, &perf, &[], &warm)).is_empty());
    }

    #[test]
    fn pinned_cpu_only_checks_its_governor() {
        let l = latency(1000.0, 0.0);
        let f = [freq(0, "performance"), freq(1, "powersave")];
        let o = |cpu| Observed {
            latency: &l,
            clean_ns: &[],
            profiled_over_clean: None,
            cpu_share: None,
            cpufreq: &f,
            cpu,
            thermal_start: &[],
            thermal_end: &[],
        };
        assert!(kinds(&o(Some(0))).is_empty());
        assert_eq!(kinds(&o(Some(1))), ["governor"]);
        assert_eq!(kinds(&o(None)), ["governor"]);
    }

    #[test]
    fn cv_of_an_empty_distribution_is_zero() {
        assert_eq!(cv(&LatencyNs::default()), 0.0);
        assert!((cv(&latency(200.0, 10.0)) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn drift_is_a_shift_between_the_first_and_last_quarter() {
        // 12 runs: a steady 1,000 ns, then the last quarter 8% slower
        let mut slower = vec![1000u64; 9];
        slower.extend([1080, 1079, 1081]);
        let (change, ordered) = drift(&slower).unwrap();
        assert!((change - 0.08).abs() < 1e-12, "{change}");
        assert_eq!(ordered, 1.0);
        // faster at the end: -10%, every pair ordered
        let faster = [
            1000, 1001, 999, 1000, 1000, 1000, 1000, 1000, 900, 901, 899, 900,
        ];
        let (change, ordered) = drift(&faster).unwrap();
        assert!((change + 0.1).abs() < 1e-12, "{change}");
        assert_eq!(ordered, 1.0);
        // noisy quarters whose medians differ by 6% but overlap: 6 of 9 pairs ordered
        let noisy = [
            900, 1000, 1200, 1000, 1000, 1000, 1000, 1000, 1000, 950, 1060, 1300,
        ];
        let (change, ordered) = drift(&noisy).unwrap();
        assert!((change - 0.06).abs() < 1e-12, "{change}");
        assert!((ordered - 6.0 / 9.0).abs() < 1e-12, "{ordered}");
        // fewer than 8 runs: no quarter to compare
        assert!(drift(&[1000, 1000, 1000, 1000, 1100, 1100, 1100]).is_none());

        let l = latency(1000.0, 10.0);
        let o = |clean_ns| Observed {
            latency: &l,
            clean_ns,
            profiled_over_clean: None,
            cpu_share: None,
            cpufreq: &[],
            cpu: None,
            thermal_start: &[],
            thermal_end: &[],
        };
        let w = check(&o(&slower));
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].kind, "drift");
        assert!(w[0].message.contains("+8.0%"), "{}", w[0].message);
        assert_eq!(kinds(&o(&faster)), ["drift"]);
        assert!(
            kinds(&o(&noisy)).is_empty(),
            "overlapping quarters are noise"
        );
        // a 4% shift, every pair ordered: under the threshold
        let mut small = vec![1000u64; 9];
        small.extend([1040, 1040, 1040]);
        assert!(kinds(&o(&small)).is_empty());
    }

    #[test]
    fn a_slow_or_crowded_per_op_pass_is_flagged() {
        let l = latency(1000.0, 10.0);
        let o = |profiled_over_clean, cpu_share| Observed {
            latency: &l,
            clean_ns: &[],
            profiled_over_clean,
            cpu_share,
            cpufreq: &[],
            cpu: None,
            thermal_start: &[],
            thermal_end: &[],
        };
        assert!(
            kinds(&o(Some(1.2), Some(0.9))).is_empty(),
            "at the thresholds"
        );
        assert!(
            kinds(&o(None, None)).is_empty(),
            "not measured: nothing to say"
        );
        let w = check(&o(Some(1.5), None));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, "profiled");
        assert!(w[0].message.contains("1.50x"), "{}", w[0].message);
        let w = check(&o(Some(1.0), Some(0.25)));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, "cpu");
        assert!(w[0].message.contains("25%"), "{}", w[0].message);
        assert_eq!(kinds(&o(Some(1.3), Some(0.5))), ["profiled", "cpu"]);
    }
}

//! Noise checks: the warnings a model record carries when its numbers may not be trustworthy.
//!
//! Three checks, each from facts read during the run (no measurement of its own):
//! - **cv**: the clean pass's coefficient of variation (stddev / mean of the `runs` end-to-end
//!   times) above [`CV_WARN`];
//! - **governor**: a cpufreq governor other than `performance` on a CPU the benchmark may run on
//!   (the pinned CPU with `--cpu`, else every CPU); machines without cpufreq (most VMs) have
//!   nothing to check;
//! - **temperature**: a thermal zone that rose by [`TEMP_RISE_WARN_MILLICELSIUS`] or more between
//!   the start and the end of the model, or ended at [`TEMP_HOT_MILLICELSIUS`] or above (a
//!   Raspberry Pi 4 starts throttling at 80 °C).

use crate::record::{CpuFreq, LatencyNs, NoiseWarning, ThermalZone};

/// Coefficient of variation of the clean pass above which a model is flagged as noisy.
pub const CV_WARN: f64 = 0.05;
/// A rise of a thermal zone over one model that is flagged.
pub const TEMP_RISE_WARN_MILLICELSIUS: i64 = 5_000;
/// An end temperature that is flagged: the Pi 4 firmware's soft throttling limit.
pub const TEMP_HOT_MILLICELSIUS: i64 = 80_000;

/// What one model's measurement saw, for [`check`].
pub struct Observed<'a> {
    pub latency: &'a LatencyNs,
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
            cpufreq: f,
            cpu: None,
            thermal_start: s,
            thermal_end: e,
        };
        assert_eq!(kinds(&obs(&noisy, &perf, &cool, &cool)), ["cv"]);
        assert!(kinds(&obs(&calm, &perf, &cool, &cool)).is_empty());
        let w = check(&obs(&calm, &ondemand, &cool, &cool));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, "governor");
        assert!(
            w[0].message.contains("CPU 3 `ondemand`"),
            "{}",
            w[0].message
        );
        let w = check(&obs(&calm, &perf, &cool, &warm));
        assert_eq!(w.len(), 1);
        assert!(
            w[0].message.contains("50.0 °C to 55.0 °C"),
            "{}",
            w[0].message
        );
        // Hot but steady: flagged for the absolute limit, not the rise.
        let w = check(&obs(&calm, &perf, &hot, &hot));
        assert_eq!(w.len(), 1);
        assert!(
            w[0].message.contains("81.0 °C at the end"),
            "{}",
            w[0].message
        );
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
}

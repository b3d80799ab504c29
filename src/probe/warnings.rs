//! The probe's warnings: a figure the bounds cannot trust, one another process took the CPU
//! from, one the budget cut short, a part that could not run.

use super::share::OnCpu;
use crate::budget::figures::{Budget, MIN_REPEATS};
pub use crate::noise::CPU_SHARE_WARN;

/// Wall time below which a figure's CPU share is not judged (see [`Warnings::check_share`]).
pub const MIN_SHARE_WALL_NS: u64 = 50_000_000;
use crate::record::{NoiseWarning, Spread};

/// A figure whose used value is uncertain by more than this fraction (see `Used`) gets a
/// warning.
pub const SPREAD_WARN: f64 = 0.10;

/// Which value of a figure's repeats the bounds use: the 10th percentile counted from the best
/// (`Spread::robust_max` of a rate, `robust_min` of a time) for roofs and the floor, a value at
/// least a tenth of the repeats reached, so one fast repeat does not own it; the median for a
/// counter read's cost.
///
/// A percentile is uncertain when its 95% interval (`p90_interval`, `p10_interval`: the ranks
/// that bracket it whatever the distribution) reaches further than [`SPREAD_WARN`] of it on
/// either side: the repeats near the best scatter, or too few were taken to place it. A median
/// is uncertain when the interquartile range is wider than [`SPREAD_WARN`] of it. Neither moves
/// with one preempted slow repeat, which only the range (max - min) would see, nor with one
/// lone fast repeat.
#[derive(Clone, Copy, Debug)]
pub(super) enum Used {
    Highest,
    Lowest,
    Median,
}

/// How uncertain a figure's used value is: the value, the interval it was judged by, and how
/// far the interval reaches from the value on its farther side, as a fraction of the value
/// (for a median, the interquartile range's width).
#[derive(Debug, PartialEq)]
pub(super) struct Uncertainty {
    pub used: f64,
    pub low: f64,
    pub high: f64,
    pub fraction: f64,
}

impl Used {
    /// The uncertainty of the value of `s` the bounds use; `None` without percentiles and
    /// their intervals (a spread from an older log) or for a value that is not positive.
    pub(super) fn uncertainty(self, s: &Spread) -> Option<Uncertainty> {
        let (used, [low, high]) = match self {
            Used::Highest => (s.p90?, s.p90_interval?),
            Used::Lowest => (s.p10?, s.p10_interval?),
            Used::Median => (s.median, [s.p25?, s.p75?]),
        };
        let reach = match self {
            Used::Highest | Used::Lowest => (used - low).max(high - used),
            Used::Median => high - low,
        };
        (used > 0.0 && used.is_finite()).then(|| Uncertainty {
            used,
            low,
            high,
            fraction: reach / used,
        })
    }
}

/// Collects the warnings of a probe as it goes.
pub(super) struct Warnings(pub(super) Vec<NoiseWarning>);

impl Warnings {
    pub(super) fn add(&mut self, message: String) {
        log::warn!("probe: {message}");
        self.0.push(NoiseWarning {
            kind: "probe".into(),
            message,
        });
    }

    /// The deadline of the next figure, or `None` (and a warning) when the budget is spent
    /// before it starts: a figure never starts past the budget.
    pub(super) fn slice(&mut self, b: &mut Budget, weight: f64, figure: &str) -> Option<u64> {
        let deadline = b.slice(weight);
        if b.remaining_ns() == 0 {
            self.add(format!(
                "{figure}: not measured, the probe's budget was spent before it"
            ));
            return None;
        }
        Some(deadline)
    }

    /// Warns when the figure of `s` the bounds use is uncertain (see [`Used`]) or `s` has fewer
    /// than [`MIN_REPEATS`] repeats.
    pub(super) fn check(&mut self, figure: &str, s: &Spread, used: Used) {
        let uncertainty = used.uncertainty(s);
        log::debug!(
            "{figure}: {used:?} {uncertainty:?} over {} repeats",
            s.repeats
        );
        if let Some(u) = uncertainty.filter(|u| u.fraction > SPREAD_WARN) {
            let pct = u.fraction * 100.0;
            let threshold = SPREAD_WARN * 100.0;
            self.add(match used {
                Used::Highest | Used::Lowest => format!(
                    "{figure}: the value the bounds use, the 10th percentile counted from the \
                     best of its {} repeats ({:.3e}), is uncertain by {pct:.0}% (its 95% \
                     interval from the repeats' ranks is {:.3e} to {:.3e}; threshold \
                     {threshold:.0}%): the repeats near the best scatter (another process or \
                     frequency changes moved them) or too few were taken, so the bounds built \
                     on it are uncertain",
                    s.repeats, u.used, u.low, u.high,
                ),
                Used::Median => format!(
                    "{figure}: the interquartile range of its {} repeats is {pct:.0}% of their \
                     median (25th percentile {:.3e}, 75th {:.3e}, median {:.3e}; threshold \
                     {threshold:.0}%): another process or frequency changes moved half of its \
                     repeats, so the median the bounds use is uncertain",
                    s.repeats, u.low, u.high, u.used,
                ),
            });
        }
        self.check_repeats(figure, s.repeats);
    }

    /// [`Warnings::check`] of a memory level's streams (read, write, copy: rates, their
    /// [`Used::Highest`]), with one warning for the level naming each uncertain stream.
    pub(super) fn check_level(&mut self, figure: &str, streams: &[(&str, &Spread)]) {
        let mut uncertain = Vec::new();
        for (what, s) in streams {
            let u = Used::Highest.uncertainty(s);
            log::debug!("{figure} {what}: {u:?} over {} repeats", s.repeats);
            if let Some(u) = u.filter(|u| u.fraction > SPREAD_WARN) {
                uncertain.push(format!(
                    "{what} {:.3e} B/s by {:.0}% ({:.3e} to {:.3e})",
                    u.used,
                    u.fraction * 100.0,
                    u.low,
                    u.high
                ));
            }
        }
        let repeats = streams.iter().map(|(_, s)| s.repeats).min().unwrap_or(0);
        if !uncertain.is_empty() {
            self.add(format!(
                "{figure}: the values the bounds use, the 10th percentile counted from the best \
                 of {repeats} repeats, are uncertain: {} (each one's 95% interval from the \
                 repeats' ranks, and how far it reaches from the value; threshold {:.0}%): the \
                 repeats near the best scatter (another process, another tenant of a shared \
                 cache or memory, or frequency changes moved them) or too few were taken, so \
                 the bounds built on them are uncertain",
                uncertain.join(", "),
                SPREAD_WARN * 100.0
            ));
        }
        self.check_repeats(figure, repeats);
    }

    /// Warns when a figure got fewer than [`MIN_REPEATS`] repeats.
    fn check_repeats(&mut self, figure: &str, repeats: usize) {
        if repeats < MIN_REPEATS {
            self.add(format!(
                "{figure}: only {repeats} repeat(s) within the probe budget (at least \
                 {MIN_REPEATS} wanted): its spread means little; give the probe a larger budget"
            ));
        }
    }

    /// Warns when the thread that measured `figure` was on the CPU for less than
    /// [`CPU_SHARE_WARN`] of its wall time. Only one-thread figures of at least
    /// [`MIN_SHARE_WALL_NS`] are judged: a pool's threads wait on each other and on the
    /// single-thread parts of a run, so their CPU time over wall x threads is low on an idle
    /// machine too (55-80% here), and on a shorter figure one time slice of another process is
    /// already a tenth of it.
    pub(super) fn check_share(&mut self, figure: &str, on_cpu: OnCpu, threads: usize) {
        let share = on_cpu.share(threads);
        log::debug!("{figure}: {on_cpu:?} on {threads} thread(s), CPU share {share:?}");
        if threads > 1 || on_cpu.wall_ns < MIN_SHARE_WALL_NS {
            return;
        }
        let Some(share) = share.filter(|&s| s < CPU_SHARE_WARN) else {
            return;
        };
        self.add(format!(
            "{figure}: the probe was on the CPU for {:.0}% of the figure's {:.3} s (thread CPU \
             time / wall, threshold {:.0}%): another process took the CPU during this figure, \
             so its repeats hold some of that process's time and the bounds built on it are \
             uncertain; probe an idle machine",
            share * 100.0,
            on_cpu.wall_ns as f64 * 1e-9,
            CPU_SHARE_WARN * 100.0
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rate figure of 101 repeats: its best `max`, its 90th percentile `p90` and that
    /// percentile's 95% interval `interval`, its slowest repeat `min`.
    fn rates(max: f64, p90: f64, interval: [f64; 2], min: f64) -> Spread {
        Spread {
            median: p90 * 0.9,
            min,
            max,
            repeats: 101,
            p10: Some(min.max(p90 * 0.8)),
            p25: Some(p90 * 0.85),
            p75: Some(p90 * 0.97),
            p90: Some(p90),
            p10_interval: Some([min, p90 * 0.85]),
            p90_interval: Some(interval),
        }
    }

    #[test]
    fn lone_repeats_do_not_warn_and_scattered_best_ones_do() {
        let mut w = Warnings(Vec::new());
        // One preempted repeat (min 40): the range is 65% of the 90th percentile.
        w.check(
            "preempted",
            &rates(105.0, 100.0, [97.0, 102.0], 40.0),
            Used::Highest,
        );
        // One lone fast repeat 25% above the 90th percentile, which stays well placed.
        w.check(
            "fluke",
            &rates(125.0, 100.0, [97.0, 102.0], 90.0),
            Used::Highest,
        );
        // An interval 13% wide that reaches 7% at most on either side.
        w.check(
            "straddling",
            &rates(110.0, 100.0, [93.0, 106.0], 80.0),
            Used::Highest,
        );
        assert!(w.0.is_empty(), "{:?}", w.0);
        // The repeats near the best scatter: the 90th percentile's interval reaches 12% below.
        w.check(
            "scattered",
            &rates(110.0, 100.0, [88.0, 105.0], 80.0),
            Used::Highest,
        );
        assert_eq!(w.0.len(), 1, "{:?}", w.0);
        assert!(
            w.0[0].message.starts_with(
                "scattered: the value the bounds use, the 10th percentile counted from the \
                 best of its 101 repeats (1.000e2), is uncertain by 12% (its 95% interval \
                 from the repeats' ranks is 8.800e1 to 1.050e2; threshold 10%)"
            ) && w.0[0].message.contains("bounds built on it are uncertain"),
            "{}",
            w.0[0].message
        );
    }

    #[test]
    fn a_floor_is_judged_on_its_10th_percentile_and_a_read_on_its_quartiles() {
        let mut w = Warnings(Vec::new());
        // Times: the best is the lowest. One repeat at 2x the floor and one lone fast one do
        // not warn; a 10th percentile whose interval reaches 11% above it does.
        let floor = Spread {
            median: 120.0,
            min: 60.0,
            max: 200.0,
            repeats: 101,
            p10: Some(105.0),
            p25: Some(110.0),
            p75: Some(130.0),
            p90: Some(150.0),
            p10_interval: Some([101.0, 108.0]),
            p90_interval: Some([140.0, 170.0]),
        };
        w.check("floor", &floor, Used::Lowest);
        assert!(w.0.is_empty(), "{:?}", w.0);
        w.check(
            "slow floor",
            &Spread {
                p10: Some(110.0),
                p10_interval: Some([100.0, 122.0]),
                ..floor
            },
            Used::Lowest,
        );
        // A median-used read: quartiles 110-130 around 120 (17%) warn, 118-122 do not, however
        // far the extremes.
        w.check("read", &floor, Used::Median);
        let tight = Spread {
            p25: Some(118.0),
            p75: Some(122.0),
            ..floor
        };
        w.check("tight read", &tight, Used::Median);
        let messages: Vec<_> = w.0.iter().map(|n| n.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with(
                "slow floor: the value the bounds use, the 10th percentile counted from the \
                 best of its 101 repeats (1.100e2), is uncertain by 11%"
            ),
            "{}",
            messages[0]
        );
        assert!(
            messages[1].starts_with(
                "read: the interquartile range of its 101 repeats is 17% of their median \
                 (25th percentile 1.100e2, 75th 1.300e2, median 1.200e2; threshold 10%)"
            ),
            "{}",
            messages[1]
        );
    }

    #[test]
    fn too_few_repeats_and_a_spread_without_percentiles() {
        let mut w = Warnings(Vec::new());
        let old = Spread {
            median: 50.0,
            min: 10.0,
            max: 100.0,
            repeats: 2,
            ..Default::default()
        };
        assert_eq!(Used::Highest.uncertainty(&old), None);
        w.check("short", &old, Used::Highest);
        assert_eq!(w.0.len(), 1, "{:?}", w.0);
        assert!(w.0[0].message.contains("short: only 2 repeat(s)"));
    }

    #[test]
    fn a_level_warns_once_for_its_uncertain_streams() {
        let mut w = Warnings(Vec::new());
        let sound = rates(105.0, 100.0, [97.0, 102.0], 40.0);
        let scattered = rates(110.0, 100.0, [80.0, 105.0], 70.0);
        w.check_level("L2 bandwidth", &[("read", &sound), ("write", &sound)]);
        assert!(w.0.is_empty(), "{:?}", w.0);
        let streams = [
            ("read", &scattered),
            ("write", &sound),
            ("copy", &scattered),
        ];
        w.check_level("L3 bandwidth", &streams);
        let messages: Vec<_> = w.0.iter().map(|n| n.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with(
                "L3 bandwidth: the values the bounds use, the 10th percentile counted from the \
                 best of 101 repeats, are uncertain: read 1.000e2 B/s by 20% (8.000e1 to \
                 1.050e2), copy 1.000e2 B/s by 20% (8.000e1 to 1.050e2) (each one's"
            ),
            "{}",
            messages[0]
        );
    }

    #[test]
    fn a_low_cpu_share_warns_and_a_quiet_figure_does_not() {
        let mut w = Warnings(Vec::new());
        let on_cpu = |cpu_ns, wall_ns| OnCpu { cpu_ns, wall_ns };
        w.check_share("quiet", on_cpu(99_000_000, 100_000_000), 1);
        w.check_share("pool", on_cpu(190_000_000, 100_000_000), 2);
        w.check_share("nothing measured", on_cpu(0, 0), 1);
        // A pool's share is not judged (its threads wait on each other), nor a figure too
        // short for a share to mean anything.
        w.check_share("pool", on_cpu(110_000_000, 100_000_000), 2);
        w.check_share("short", on_cpu(800_000, 1_000_000), 1);
        assert!(w.0.is_empty(), "{:?}", w.0);
        // Beside two busy loops on two CPUs the probe gets about two thirds of one.
        w.check_share("busy", on_cpu(67_000_000, 100_000_000), 1);
        let messages: Vec<_> = w.0.iter().map(|n| n.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with(
                "busy: the probe was on the CPU for 67% of the figure's 0.100 s (thread CPU \
                 time / wall, threshold 90%): another process took the CPU during this figure"
            ),
            "{}",
            messages[0]
        );
    }
}

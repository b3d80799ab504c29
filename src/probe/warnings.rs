//! The probe's warnings: a figure the bounds cannot trust, one the budget cut short, a part
//! that could not run.

use crate::budget::figures::{Budget, MIN_REPEATS};
use crate::record::{NoiseWarning, Spread};

/// A figure whose median repeat is further than this fraction from the value the bounds use
/// gets a warning.
pub const SPREAD_WARN: f64 = 0.10;

/// Which value of a figure's repeats the bounds use: the best (highest rate, shortest time) for
/// roofs and the floor, the median for a counter read's cost. That value is uncertain when
/// the median repeat is far from it: most repeats were slowed, not one. A repeat preempted on
/// a shared machine moves the range, not this, so one outlier does not warn.
#[derive(Clone, Copy)]
pub(super) enum Used {
    Highest,
    Lowest,
    Median,
}

impl Used {
    /// The value used, and how far the median is from the best repeat, as a fraction of the
    /// median (for `Median`: from the fastest repeat, how much slowing the median holds).
    pub(super) fn uncertainty(self, s: &Spread) -> (f64, f64) {
        if s.median <= 0.0 || !s.median.is_finite() {
            return (s.median, 0.0);
        }
        match self {
            Used::Highest => (s.max, (s.max - s.median) / s.median),
            Used::Lowest => (s.min, (s.median - s.min) / s.median),
            Used::Median => (s.median, (s.median - s.min) / s.median),
        }
    }

    fn said(self) -> &'static str {
        match self {
            Used::Highest => "best",
            Used::Lowest => "best",
            Used::Median => "fastest",
        }
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
        let (best, uncertainty) = used.uncertainty(s);
        if uncertainty > SPREAD_WARN {
            self.add(format!(
                "{figure}: the median of its {} repeats is {:.0}% from the {} the bounds use \
                 (median {:.3e}, {} {:.3e}; threshold {:.0}%): another process or frequency \
                 changes slowed most of its repeats, so the bounds built on it are uncertain",
                s.repeats,
                uncertainty * 100.0,
                used.said(),
                s.median,
                used.said(),
                best,
                SPREAD_WARN * 100.0
            ));
        }
        if s.repeats < MIN_REPEATS {
            self.add(format!(
                "{figure}: only {} repeat(s) within the probe budget (at least {MIN_REPEATS} \
                 wanted): its spread means little; give the probe a larger budget",
                s.repeats
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_for_spread_and_for_too_few_repeats() {
        let mut w = Warnings(Vec::new());
        // One preempted repeat (min 40) does not make a best-of figure uncertain.
        let quiet = Spread {
            median: 100.0,
            min: 40.0,
            max: 105.0,
            repeats: 9,
        };
        w.check("quiet", &quiet, Used::Highest);
        assert!(w.0.is_empty(), "{:?}", w.0);
        // Most repeats slowed: the median is 25% below the best rate, or above the best time.
        w.check(
            "noisy",
            &Spread {
                max: 125.0,
                ..quiet
            },
            Used::Highest,
        );
        w.check("slow floor", &quiet, Used::Lowest);
        w.check(
            "short",
            &Spread {
                repeats: 2,
                ..quiet
            },
            Used::Highest,
        );
        assert_eq!(w.0.len(), 3, "{:?}", w.0);
        assert!(
            w.0[0]
                .message
                .contains("noisy: the median of its 9 repeats is 25% from the best")
                && w.0[0].message.contains("bounds built on it are uncertain"),
            "{}",
            w.0[0].message
        );
        assert!(
            w.0[1]
                .message
                .contains("slow floor: the median of its 9 repeats is 60%")
        );
        assert!(w.0[2].message.contains("only 2 repeat(s)"));
    }
}

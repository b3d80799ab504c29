//! The machine probe's budget: how its figures share it and are repeated within it.
//!
//! The budget is split between the figures by weight, in order: when a figure starts, it gets
//! its weight's share of what is *left* (so time a fast figure did not use goes to the ones
//! after it). Within its slice a figure is sampled up to its maximum number of repeats, and
//! stops early when the next sample is predicted to end past the slice's deadline (the
//! prediction is the longest sample so far). The first sample always runs, so one figure can
//! overshoot its slice by at most one sample. A [`Clock`] is injected so that this logic is
//! tested without timing anything.

use super::Clock;
use crate::record::Spread;
use crate::stats;

/// Confidence of a spread's percentile intervals (`Spread::p10_interval`, `p90_interval`).
pub const PERCENTILE_CONFIDENCE: f64 = 0.95;

/// Fewer repeats than this and a figure is reported as cut short by the budget.
pub const MIN_REPEATS: usize = 3;

/// The total budget, and the weights of the figures still to come.
pub struct Budget<'c> {
    clock: &'c dyn Clock,
    start_ns: u64,
    total_ns: u64,
    weight_left: f64,
}

impl<'c> Budget<'c> {
    /// A budget of `total_ns` from now, to be shared by figures whose weights sum to
    /// `total_weight`.
    pub fn new(clock: &'c dyn Clock, total_ns: u64, total_weight: f64) -> Budget<'c> {
        Budget {
            clock,
            start_ns: clock.now_ns(),
            total_ns,
            weight_left: total_weight,
        }
    }

    pub fn clock(&self) -> &'c dyn Clock {
        self.clock
    }

    pub fn elapsed_ns(&self) -> u64 {
        self.clock.now_ns().saturating_sub(self.start_ns)
    }

    pub fn remaining_ns(&self) -> u64 {
        self.total_ns.saturating_sub(self.elapsed_ns())
    }

    /// The deadline (clock time) of the next figure, of weight `weight`: its share of the time
    /// left. The weight is then spent, whether or not the figure uses all of its slice.
    pub fn slice(&mut self, weight: f64) -> u64 {
        let share = if self.weight_left > 0.0 {
            (weight / self.weight_left).clamp(0.0, 1.0)
        } else {
            1.0
        };
        self.weight_left = (self.weight_left - weight).max(0.0);
        self.clock.now_ns() + (self.remaining_ns() as f64 * share) as u64
    }
}

/// How many repeats a figure got, and whether the deadline stopped it before its maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeated {
    pub repeats: usize,
    pub stopped_by_deadline: bool,
}

/// Calls `sample` until it has made `max` repeats or the next call is predicted to end after
/// `deadline_ns`. The first call always happens. `sample` returns how many repeats it made
/// (the caller keeps the values: one call may sample several figures at once); an error ends
/// the figure.
pub fn repeat<E>(
    clock: &dyn Clock,
    deadline_ns: u64,
    max: usize,
    mut sample: impl FnMut() -> Result<usize, E>,
) -> Result<Repeated, E> {
    let mut repeats = 0;
    let mut longest_ns = 0u64;
    loop {
        let t0 = clock.now_ns();
        repeats += sample()?.max(1);
        let t1 = clock.now_ns();
        longest_ns = longest_ns.max(t1.saturating_sub(t0));
        if repeats >= max {
            return Ok(Repeated {
                repeats,
                stopped_by_deadline: false,
            });
        }
        if t1.saturating_add(longest_ns) > deadline_ns {
            return Ok(Repeated {
                repeats,
                stopped_by_deadline: true,
            });
        }
    }
}

/// How many timed runs fit before `deadline_ns` for a measurement whose cost is `fixed_ns`
/// plus `per_run_ns` per run, at least 1 and at most `max`.
pub fn runs_within(
    now_ns: u64,
    deadline_ns: u64,
    fixed_ns: u64,
    per_run_ns: u64,
    max: usize,
) -> usize {
    let left = deadline_ns.saturating_sub(now_ns).saturating_sub(fixed_ns);
    let fit = left.checked_div(per_run_ns).unwrap_or(max as u64);
    (fit as usize).clamp(1, max.max(1))
}

/// Median (nearest rank, the lower middle of an even count: a value that was measured), min,
/// max, the interpolated 10th, 25th, 75th and 90th percentiles of `values` and the 95%
/// intervals of the 10th and 90th; `None` for no values or a value that is not finite.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    spread_of_sorted(&v)
}

/// [`spread`] of values already in ascending order.
pub fn spread_of_sorted(v: &[f64]) -> Option<Spread> {
    if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let at = |p: f64| Some(stats::interpolated(v, p));
    Some(Spread {
        median: v[(v.len() - 1) / 2],
        min: v[0],
        max: v[v.len() - 1],
        repeats: v.len(),
        p10: at(10.0),
        p25: at(25.0),
        p75: at(75.0),
        p90: at(90.0),
        p10_interval: stats::quantile_interval(v, 0.1, PERCENTILE_CONFIDENCE),
        p90_interval: stats::quantile_interval(v, 0.9, PERCENTILE_CONFIDENCE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A clock that moves only when told to.
    struct Fake(Cell<u64>);

    impl Clock for Fake {
        fn now_ns(&self) -> u64 {
            self.0.get()
        }
    }

    impl Fake {
        fn advance(&self, ns: u64) {
            self.0.set(self.0.get() + ns);
        }
    }

    #[test]
    fn spread_of_samples() {
        let s = spread(&[5.0, 1.0, 4.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.repeats), (2.0, 1.0, 5.0, 4));
        assert_eq!(spread(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(spread(&[7.0]).unwrap().repeats, 1);
        assert_eq!(spread(&[]), None);
        assert_eq!(spread(&[1.0, f64::NAN]), None);
        assert_eq!(spread(&[1.0, f64::INFINITY]), None);
        // Percentiles between ranks: 11 values 0..=100 step 10 have p10 = 10, p25 = 25.
        let s = spread(&(0..=10).rev().map(|i| i as f64 * 10.0).collect::<Vec<_>>()).unwrap();
        assert_eq!(
            (s.p10, s.p25, s.p75, s.p90),
            (Some(10.0), Some(25.0), Some(75.0), Some(90.0))
        );
        assert_eq!(s.median, 50.0);
        // Their 95% intervals, from the ranks of the binomial (stats::quantile_interval).
        let s = spread(&(1..=101).rev().map(f64::from).collect::<Vec<_>>()).unwrap();
        assert_eq!(
            (s.p10_interval, s.p90_interval),
            (Some([5.0, 17.0]), Some([85.0, 97.0]))
        );
    }

    #[test]
    fn slices_share_what_is_left_by_weight() {
        let clock = Fake(Cell::new(1_000));
        let mut b = Budget::new(&clock, 1_000, 4.0);
        // first figure: weight 1 of 4 -> a quarter of 1000 ns
        assert_eq!(b.slice(1.0), 1_000 + 250);
        // it used only 50 ns: the next one (weight 1 of the 3 left) gets a third of 950
        clock.advance(50);
        assert_eq!(b.slice(1.0), 1_050 + 316);
        // the last one gets everything that is left, even past its weight
        clock.advance(100);
        assert_eq!(b.slice(2.0), 1_150 + 850);
        assert_eq!(b.remaining_ns(), 850);
        // past the budget, slices are empty
        clock.advance(10_000);
        assert_eq!(b.remaining_ns(), 0);
        assert_eq!(b.slice(1.0), clock.now_ns());
    }

    #[test]
    fn repeats_stop_at_max_or_before_the_deadline() {
        let clock = Fake(Cell::new(0));
        let step = |ns| {
            clock.advance(ns);
            Ok::<usize, ()>(1)
        };
        // 10 ns per sample, deadline far away: stops at max
        let r = repeat(&clock, 1_000_000, 11, || step(10)).unwrap();
        assert_eq!(r.repeats, 11);
        assert!(!r.stopped_by_deadline);
        assert_eq!(clock.now_ns(), 110);

        // 100 ns per sample, 450 ns left: 4 samples end at 400, a fifth would end at 500
        let start = clock.now_ns();
        let r = repeat(&clock, start + 450, 11, || step(100)).unwrap();
        assert_eq!(r.repeats, 4);
        assert!(r.stopped_by_deadline);
        assert!(clock.now_ns() <= start + 450, "never past the deadline");

        // a tinier budget gives fewer repeats, never zero
        let start = clock.now_ns();
        let r = repeat(&clock, start + 50, 11, || step(100)).unwrap();
        assert_eq!(r.repeats, 1, "the first sample always runs");

        // a sample slower than the ones before: the prediction uses the longest so far
        let start = clock.now_ns();
        let mut ns = [10, 300, 10, 10].into_iter();
        let r = repeat(&clock, start + 500, 11, || step(ns.next().unwrap_or(10))).unwrap();
        assert_eq!(r.repeats, 2, "after 310 ns, another 300 would end past 500");
    }

    #[test]
    fn batches_are_counted_and_errors_end_the_figure() {
        let clock = Fake(Cell::new(0));
        let r = repeat::<()>(&clock, u64::MAX, 5, || {
            clock.advance(1);
            Ok(2)
        })
        .unwrap();
        assert_eq!(r.repeats, 6, "three calls of two");
        let mut calls = 0;
        let r = repeat(&clock, u64::MAX, 5, || {
            calls += 1;
            if calls == 2 { Err("boom") } else { Ok(1) }
        });
        assert_eq!(r, Err("boom"));
    }

    #[test]
    fn runs_that_fit_a_slice() {
        // 1000 ns left, 100 fixed, 100 per run: 9 runs
        assert_eq!(runs_within(0, 1_000, 100, 100, 15), 9);
        assert_eq!(runs_within(0, 1_000, 100, 100, 5), 5, "at most max");
        assert_eq!(runs_within(2_000, 1_000, 100, 100, 5), 1, "at least one");
        assert_eq!(runs_within(0, 1_000, 0, 0, 7), 7, "free runs: max");
    }
}

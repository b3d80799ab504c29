//! How the sweep fits its `--budget`: a pilot run of each variant estimates what a measured run
//! of it costs, the runs per variant are the most that let every variant fit, and before each
//! variant the clock decides whether it still fits; the first that does not ends the sweep (the
//! rest are named in an error record). Pure: the clock and the measurement are passed in, so the
//! tests drive it with a fake clock.

use super::{Clock, Monotonic};
use std::time::Duration;

/// Share of the budget the pilot runs may take; variants left without a pilot are estimated
/// from the others.
pub const PILOT_SHARE: f64 = 0.3;

/// What one pilot run of a variant saw (the model's own record, measured with one round).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pilot {
    /// Wall time of the whole pilot: load, node records, the rounds, the record.
    pub elapsed_ns: u64,
    /// Rounds it ran: warm-up plus timed runs (each a clean run and one run per counter pass).
    pub rounds: u64,
    /// Median clean inference.
    pub clean_ns: u64,
    /// Median inference with the per-op hook (one counter pass).
    pub profiled_ns: u64,
    /// Per-op passes per round (counter groups).
    pub passes: u64,
}

/// What measuring one variant costs: a fixed part (loading and optimizing the model, the
/// records) and one part per round (warm-up or timed: a clean run and the per-op passes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub fixed_ns: u64,
    pub round_ns: u64,
}

impl Estimate {
    pub fn from_pilot(p: &Pilot) -> Estimate {
        let round_ns = p.clean_ns + p.passes.max(1) * p.profiled_ns;
        let rounds_ns = round_ns.saturating_mul(p.rounds);
        Estimate {
            fixed_ns: p.elapsed_ns.saturating_sub(rounds_ns),
            round_ns,
        }
    }

    /// Expected wall time of a measured run with `warmup` and `runs` rounds.
    pub fn cost_ns(&self, warmup: usize, runs: usize) -> u64 {
        self.fixed_ns
            .saturating_add(self.round_ns.saturating_mul((warmup + runs) as u64))
    }
}

/// Estimates for every variant: its own pilot's, or for a variant without one (its pilot
/// failed or the pilot share of the budget ran out) the largest of its family's, else the
/// largest of all (a guess on the safe side); `None` when no pilot at all succeeded.
pub fn fill(pilots: &[Option<Estimate>], families: &[&str]) -> Option<Vec<Estimate>> {
    let largest = |it: &mut dyn Iterator<Item = Estimate>| it.max_by_key(|e| e.cost_ns(0, 20));
    let overall = largest(&mut pilots.iter().flatten().copied())?;
    Some(
        pilots
            .iter()
            .enumerate()
            .map(|(ix, p)| {
                p.or_else(|| {
                    let family = families.get(ix);
                    let mut same = pilots
                        .iter()
                        .zip(families)
                        .filter(|(_, f)| Some(*f) == family)
                        .filter_map(|(e, _)| *e);
                    largest(&mut same)
                })
                .unwrap_or(overall)
            })
            .collect(),
    )
}

/// The most timed runs per variant, from `min_runs` to `max_runs`, with which all variants fit
/// in `available`; `min_runs` if even that does not fit (the variants that do not fit are then
/// skipped at run time).
pub fn choose_runs(
    estimates: &[Estimate],
    warmup: usize,
    available: Duration,
    min_runs: usize,
    max_runs: usize,
) -> usize {
    let min_runs = min_runs.max(1).min(max_runs.max(1));
    let available_ns = available.as_nanos().min(u64::MAX as u128) as u64;
    let total = |runs: usize| -> u64 {
        estimates
            .iter()
            .map(|e| e.cost_ns(warmup, runs))
            .fold(0u64, u64::saturating_add)
    };
    // Costs grow with runs: the largest fitting count by bisection.
    let (mut lo, mut hi) = (min_runs, max_runs.max(min_runs));
    if total(lo) > available_ns {
        return min_runs;
    }
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if total(mid) <= available_ns {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Whether a variant whose measurement is estimated at `cost_ns` still fits, started
/// `elapsed` into a sweep of `budget`. A variant is only started if its estimate fits, so the
/// sweep overruns the budget by no more than one variant's misestimate; the first that does
/// not fit ends the sweep.
pub fn fits(elapsed: Duration, cost_ns: u64, budget: Duration) -> bool {
    elapsed.saturating_add(Duration::from_nanos(cost_ns)) <= budget
}

/// The end of a sweep's budget on the real clock (started with the sweep).
pub struct Deadline {
    clock: Monotonic,
    budget: Duration,
}

impl Deadline {
    pub fn new(clock: Monotonic, budget: Duration) -> Deadline {
        Deadline { clock, budget }
    }

    /// [`fits`] now.
    pub fn fits(&self, cost_ns: u64) -> bool {
        fits(elapsed(&self.clock), cost_ns, self.budget)
    }
}

/// Time on `clock` since it started.
pub fn elapsed(clock: &dyn Clock) -> Duration {
    Duration::from_nanos(clock.now_ns())
}

/// Runs `pilot` on variants 0.. while the clock is below `limit`; `None` for a variant whose
/// pilot failed (`Ok(None)`) or was not run.
pub fn pilots<E>(
    n: usize,
    limit: Duration,
    clock: &dyn Clock,
    pilot: &mut dyn FnMut(usize) -> Result<Option<Pilot>, E>,
) -> Result<Vec<Option<Estimate>>, E> {
    let mut out = vec![None; n];
    for (ix, slot) in out.iter_mut().enumerate() {
        if elapsed(clock) >= limit {
            break;
        }
        *slot = pilot(ix)?.as_ref().map(Estimate::from_pilot);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const MS: u64 = 1_000_000;

    fn est(fixed_ms: u64, round_ms: u64) -> Estimate {
        Estimate {
            fixed_ns: fixed_ms * MS,
            round_ns: round_ms * MS,
        }
    }

    #[test]
    fn a_pilot_splits_into_fixed_and_per_round_costs() {
        let p = Pilot {
            elapsed_ns: 50 * MS,
            rounds: 2,
            clean_ns: 2 * MS,
            profiled_ns: 3 * MS,
            passes: 2,
        };
        let e = Estimate::from_pilot(&p);
        assert_eq!(e.round_ns, 8 * MS, "one clean run and two per-op passes");
        assert_eq!(e.fixed_ns, 34 * MS);
        assert_eq!(e.cost_ns(5, 20), 34 * MS + 25 * 8 * MS);
        // A pilot faster than its own rounds (clock granularity) leaves no negative fixed part.
        let fast = Pilot {
            elapsed_ns: MS,
            ..p
        };
        assert_eq!(Estimate::from_pilot(&fast).fixed_ns, 0);
    }

    #[test]
    fn runs_are_the_most_that_fit_between_the_bounds() {
        let e = [est(10, 1), est(10, 2)];
        let ms = Duration::from_millis;
        // (warm-up, time available, min, max, runs); with no warm-up 20 + 3 r ms, and warm-up
        // rounds count: 20 + 3 (5 + r) ms.
        for (warmup, available, min, max, runs, why) in [
            (0, ms(20 + 3 * 17), 5, 100, 17, "17 rounds exactly"),
            (0, ms(20 + 3 * 17 + 2), 5, 100, 17, "17 rounds and a little"),
            (0, ms(20 + 3 * 18), 5, 100, 18, "18 rounds exactly"),
            (0, Duration::from_secs(100), 5, 30, 30, "capped at max"),
            (0, ms(1), 5, 30, 5, "floor at min"),
            (5, ms(20 + 3 * 17), 5, 100, 12, "warm-up rounds count"),
            (0, Duration::from_secs(1), 50, 10, 10, "min above max"),
        ] {
            assert_eq!(choose_runs(&e, warmup, available, min, max), runs, "{why}");
        }
    }

    #[test]
    fn missing_pilots_take_the_largest_of_their_family_then_of_all() {
        let pilots = [
            Some(est(1, 1)),
            Some(est(1, 3)),
            None,
            Some(est(2, 1)),
            None,
        ];
        let families = ["a", "a", "a", "b", "c"];
        let filled = fill(&pilots, &families).unwrap();
        assert_eq!(filled[2], est(1, 3));
        assert_eq!(
            filled[4],
            est(1, 3),
            "no pilot in family c: the largest of all"
        );
        assert_eq!(filled[3], est(2, 1));
        assert!(fill(&[None, None], &["a", "a"]).is_none());
    }

    /// A fake clock that measuring advances by each variant's true cost.
    struct Fake {
        t: Cell<Duration>,
    }

    impl Clock for Fake {
        fn now_ns(&self) -> u64 {
            self.t.get().as_nanos() as u64
        }
    }

    /// The sweep's loop on the fake clock: variants measured while they fit; the indices
    /// left out.
    fn execute(
        costs: &[u64],
        budget: Duration,
        clock: &Fake,
        measure: &mut dyn FnMut(usize),
    ) -> Vec<usize> {
        for (ix, &cost) in costs.iter().enumerate() {
            if !fits(clock.t.get(), cost, budget) {
                return (ix..costs.len()).collect();
            }
            measure(ix);
        }
        Vec::new()
    }

    #[test]
    fn the_sweep_stops_at_the_first_variant_that_no_longer_fits() {
        let clock = Fake {
            t: Cell::new(Duration::from_secs(1)),
        };
        let costs = [2 * 1000 * MS, 3 * 1000 * MS, 1000 * MS, 1000 * MS];
        let mut measured = Vec::new();
        let skipped = execute(&costs, Duration::from_secs(6), &clock, &mut |ix| {
            measured.push(ix);
            clock.t.set(clock.t.get() + Duration::from_nanos(costs[ix]));
        });
        // 1 s + 2 s = 3 s; + 3 s = 6 s (fits exactly); the next 1 s would end at 7 s.
        assert_eq!(measured, [0, 1]);
        assert_eq!(skipped, [2, 3]);
        assert!(clock.t.get() <= Duration::from_secs(6));
    }

    #[test]
    fn an_overrun_is_at_most_one_variants_misestimate() {
        let clock = Fake {
            t: Cell::new(Duration::ZERO),
        };
        // Each estimated at 1 s, each actually takes 1.5 s.
        let costs = [1000 * MS; 10];
        let skipped = execute(&costs, Duration::from_secs(5), &clock, &mut |_| {
            clock.t.set(clock.t.get() + Duration::from_millis(1500));
        });
        // Started at 0, 1.5, 3.0 (ends 4.5); 4.5 + 1 > 5: stop.
        assert_eq!(skipped.len(), 7);
        assert!(clock.t.get() <= Duration::from_secs(5) + Duration::from_millis(500));
    }

    #[test]
    fn pilots_stop_at_their_share_and_failures_have_no_estimate() {
        let clock = Fake {
            t: Cell::new(Duration::ZERO),
        };
        let got = pilots::<()>(5, Duration::from_secs(2), &clock, &mut |ix| {
            clock.t.set(clock.t.get() + Duration::from_secs(1));
            Ok((ix != 1).then_some(Pilot {
                elapsed_ns: 1000 * MS,
                rounds: 1,
                clean_ns: MS,
                profiled_ns: MS,
                passes: 1,
            }))
        })
        .unwrap();
        assert!(got[0].is_some());
        assert!(got[1].is_none(), "a failed pilot");
        assert!(got[2..].iter().all(Option::is_none), "out of pilot time");
    }
}

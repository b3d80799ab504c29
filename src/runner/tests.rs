//! Tests of `runner`.

use super::*;
use crate::counters::{DEFAULT_EVENTS, fake, parse_events};

#[test]
fn sample_memory_grows_with_runs_ops_and_events() {
    let none = fake::open(&[]);
    // one pass without counters: 3 words per op and run, 2 per run of totals, and
    // 5 series of one word per run (clean, profiled, op sum, unattributed, counter reads)
    assert_eq!(sample_bytes(10, 100, &none), Some(8 * (3000 + 200 + 500)));
    let default = fake::open(&parse_events(DEFAULT_EVENTS).unwrap());
    let bytes = sample_bytes(2000, 30_000, &default).unwrap();
    // the 30,000 runs of a 2,000-op model: gigabytes, which `measure` must check
    assert!(bytes > 1 << 30, "{bytes}");
    assert_eq!(sample_bytes(2000, 1 << 62, &default), None, "overflow");
    assert_eq!(sample_bytes(usize::MAX, usize::MAX, &none), None);
}

#[test]
fn interleaved_rounds_alternate_their_order_and_separate_runs_the_passes_apart() {
    let order = |s, runs, passes| run_order(s, runs, passes).collect::<Vec<_>>();
    let (c, p0, p1) = (None, Some(0), Some(1));
    assert_eq!(
        order(Schedule::Interleaved, 3, 2),
        [
            (0, c),
            (0, p0),
            (0, p1),
            (1, p1),
            (1, p0),
            (1, c),
            (2, c),
            (2, p0),
            (2, p1)
        ]
    );
    assert_eq!(
        order(Schedule::Separate, 2, 2),
        [(0, c), (1, c), (0, p0), (1, p0), (0, p1), (1, p1)]
    );
    // one pass: clean and per-op runs alternate, each clean run next to its pair
    assert_eq!(
        order(Schedule::Interleaved, 2, 1),
        [(0, c), (0, p0), (1, p0), (1, c)]
    );
    // every (round, run) exactly once, whatever the sizes
    for s in [Schedule::Interleaved, Schedule::Separate] {
        for (runs, passes) in [(1, 1), (5, 1), (4, 3), (7, 2)] {
            let mut all = order(s, runs, passes);
            all.sort();
            let mut want: Vec<_> = (0..runs)
                .flat_map(|r| {
                    std::iter::once((r, None)).chain((0..passes).map(move |p| (r, Some(p))))
                })
                .collect();
            want.sort();
            assert_eq!(all, want, "{s:?} {runs} {passes}");
        }
    }
}

fn measurement(clean_ns: Vec<u64>, profiled_ns: Vec<u64>, op_sum_ns: Vec<u64>) -> Measurement {
    Measurement {
        clean_ns,
        profiled_ns,
        op_sum_ns,
        unattributed_ns: Vec::new(),
        counter_read_ns: Vec::new(),
        ops: Vec::new(),
        op_wall_spread_ns: Vec::new(),
        run_totals: BTreeMap::new(),
        failed_passes: Vec::new(),
    }
}

#[test]
fn paired_ratios_divide_each_round_by_its_own_clean_run() {
    // The machine slows down by 10% per round; profiling costs exactly 2% in every round.
    // Apart, the medians would compare different moments; paired, the cost is exact.
    let clean: Vec<u64> = (0..8).map(|r| 1_000_000 + 100_000 * r).collect();
    let profiled: Vec<u64> = clean.iter().map(|c| c * 102 / 100).collect();
    let ops: Vec<u64> = clean.iter().map(|c| c * 90 / 100).collect();
    let p = paired(&measurement(clean, profiled, ops), Schedule::Interleaved).unwrap();
    assert_eq!(p.schedule, "interleaved");
    let o = p.profiled_over_clean;
    assert_eq!((o.pairs, o.median, o.low, o.high), (8, 1.02, 1.02, 1.02));
    // 8 pairs: only [min, max] reaches 95% (1 - 2/256)
    assert!(
        (o.confidence - (1.0 - 2.0 / 256.0)).abs() < 1e-12,
        "{}",
        o.confidence
    );
    assert_eq!(p.sum_op_over_clean.median, 0.9);

    // Two passes: a round's ratio is the mean of its two runs over its clean run.
    let clean = vec![100, 200, 400, 1000, 1000, 1000];
    let pass0 = [110, 220, 440, 1100, 1100, 1100]; // 1.10 each
    let pass1 = [130, 260, 520, 1300, 1300, 1300]; // 1.30 each
    let profiled: Vec<u64> = pass0.iter().chain(&pass1).copied().collect();
    let p = paired(
        &measurement(clean, profiled.clone(), profiled),
        Schedule::Separate,
    )
    .unwrap();
    assert_eq!(p.schedule, "separate");
    assert_eq!(p.profiled_over_clean.pairs, 6);
    assert!((p.profiled_over_clean.median - 1.2).abs() < 1e-12);
    assert!((p.profiled_over_clean.low - 1.2).abs() < 1e-12);

    // No runs, or a clean run of 0 ns (skipped): no interval / one pair fewer.
    assert!(paired(&measurement(vec![], vec![], vec![]), Schedule::Interleaved).is_none());
    let p = paired(
        &measurement(vec![0, 10], vec![5, 11], vec![1, 1]),
        Schedule::Interleaved,
    );
    assert_eq!(p.unwrap().profiled_over_clean.pairs, 1);
}

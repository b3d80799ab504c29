//! Tests of `ops`.

use super::*;
use crate::budget::Monotonic;
use crate::counters::{fake, parse_events};

#[test]
fn matmul_measures_the_largest_and_the_smallest_cube_and_keeps_the_faster() {
    // fake counters: two passes for the default events
    let mut counters = fake::open(&parse_events(crate::counters::DEFAULT_EVENTS).unwrap());
    let clock = Monotonic::new();
    let measured = cubes(Operands::F32, 1, &mut counters, &clock, u64::MAX, 11).unwrap();
    let sides: Vec<_> = measured.iter().map(|(mm, _)| (mm.m, mm.k, mm.n)).collect();
    assert_eq!(
        sides,
        [(240, 240, 240), (96, 96, 96)],
        "all the time in the world: the largest, then the smallest"
    );
    for (mm, aside) in &measured {
        assert_eq!(aside.note, None, "{mm:?}");
        assert!(
            aside.on_cpu.cpu_ns > 0 && aside.on_cpu.wall_ns > 0,
            "{aside:?}"
        );
        assert!(!mm.kernel.is_empty());
        assert_eq!(
            mm.macs_per_s.repeats, 12,
            "6 runs x 2 passes for 11 repeats"
        );
        let s = mm.macs_per_s;
        assert!(
            s.min > 0.0 && s.min <= s.median && s.median <= s.max,
            "{s:?}"
        );
        // Rates from times: the percentiles are ordered as rates, within the extremes.
        let q = [s.p10, s.p25, s.p75, s.p90].map(|p| p.unwrap_or(f64::NAN));
        assert!(
            s.min <= q[0] && q[0] <= q[1] && q[1] <= q[2] && q[2] <= q[3] && q[3] <= s.max,
            "{s:?}"
        );
    }
    // which cube wins depends on the machine (either can): the peak is the better best run
    let (peak, _) = matmul(Operands::F32, 1, &mut counters, &clock, u64::MAX, 11).unwrap();
    assert!([240, 96].contains(&peak.m), "{peak:?}");
    assert_eq!(peak.macs_per_s.repeats, 12);
}

#[test]
fn the_peak_is_the_cube_with_the_best_run() {
    let probe = |side, median, max| MatmulProbe {
        kernel: "k".into(),
        threads: 1,
        m: side,
        k: side,
        n: side,
        macs_per_s: Spread {
            median,
            min: 1.0,
            max,
            repeats: 3,
            ..Default::default()
        },
        operands: None,
        kernel_isa: None,
        dot_product: None,
    };
    let pick = |a, b| fastest(vec![(a, ()), (b, ())]).map(|(p, ())| p.m);
    // the best run decides, not the median
    assert_eq!(pick(probe(240, 9.0, 10.0), probe(96, 5.0, 12.0)), Some(96));
    assert_eq!(
        pick(probe(240, 9.0, 12.0), probe(96, 11.0, 10.0)),
        Some(240)
    );
    assert_eq!(
        pick(probe(240, 9.0, 10.0), probe(96, 9.0, 10.0)),
        Some(240),
        "a tie: the first"
    );
    assert_eq!(fastest(Vec::<(MatmulProbe, ())>::new()), None);
}

#[test]
fn the_side_fits_the_slice() {
    // 1 us per inference of 48^3, all of it in the matmul, one pass: the figure is 66
    // inferences (3 in the first measurement, 1 + 31 x 2 in the second); 240^3 is 125x
    // that: 8.25 ms, within 10 ms; 192^3 (64x: 4.2 ms) within 5 ms; 96^3 (8x) within 1 ms
    assert_eq!(side_for(0, 1_000, 1_000, 10_000_000, 1), 240);
    assert_eq!(side_for(0, 1_000, 1_000, 5_000_000, 1), 192);
    assert_eq!(side_for(0, 1_000, 1_000, 1_000_000, 1), 96);
    // three passes: 134 inferences, 16.8 ms at 240^3, 8.6 ms at 192^3
    assert_eq!(side_for(0, 1_000, 1_000, 10_000_000, 3), 192);
    // time outside the matmul grows as the square: 240^3 fits where the cube rule says 192
    assert_eq!(side_for(0, 1_000, 100, 10_000_000, 3), 240);
    // the call's own time counts twice: 4 ms + 8.25 ms is over 10 ms
    assert_eq!(side_for(2_000_000, 1_000, 1_000, 10_000_000, 1), 192);
    // emulation: 1.2 ms per small inference (0.1 GMAC/s) and 0.8 s left: 96^3 (0.6 s)
    assert_eq!(side_for(0, 1_200_000, 1_100_000, 800_000_000, 1), 96);
    assert_eq!(
        side_for(0, u64::MAX / 4, 0, 1, 1),
        96,
        "the smallest when none fits, never the calibration's 48"
    );
}

#[test]
fn past_the_deadline_the_calibration_run_is_the_figure() {
    let mut counters = fake::open(&parse_events("cycles").unwrap());
    let clock = Monotonic::new();
    let (floor, _) = dispatch_floor(&mut counters, &clock, 0, 15).unwrap();
    assert_eq!(floor.repeats, counters.passes(), "one run per pass");
    assert!(floor.median > 0.0);
}

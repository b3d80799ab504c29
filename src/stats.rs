//! Order statistics over measured samples. Percentiles use the nearest-rank rule on the sorted
//! samples (the median of an even count is the lower middle value), so every reported figure is
//! one that was actually measured; [`interpolated`], for the probe's spreads, is the exception.

use crate::record::{LatencyNs, RatioInterval, WallNs};

/// Nearest-rank percentile of sorted samples; 0 for none.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The `p`th percentile (0 to 100) of `sorted` (ascending, none NaN), linearly interpolated
/// between the two closest ranks (rank `p / 100 x (n - 1)` counted from 0): with few values it
/// still tells the second best from the best, where a nearest rank would be the best itself.
/// 0 for no values.
pub fn interpolated(sorted: &[f64], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let rank = (p / 100.0).clamp(0.0, 1.0) * last as f64;
    let below = rank.floor() as usize;
    let above = (below + 1).min(last);
    let low = sorted[below.min(last)];
    low + (sorted[above] - low) * (rank - below as f64)
}

/// Full latency distribution of a set of samples (sorts them in place).
pub fn latency(samples: &mut [u64]) -> LatencyNs {
    samples.sort_unstable();
    if samples.is_empty() {
        return LatencyNs::default();
    }
    let n = samples.len() as f64;
    let mean = samples.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = samples
        .iter()
        .map(|&x| (x as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    LatencyNs {
        min: samples[0],
        median: percentile(samples, 50.0),
        p90: percentile(samples, 90.0),
        p99: percentile(samples, 99.0),
        max: samples[samples.len() - 1],
        mean,
        stddev: var.sqrt(),
    }
}

/// Median, min and max (sorts in place).
pub fn wall(samples: &mut [u64]) -> WallNs {
    samples.sort_unstable();
    WallNs {
        median: percentile(samples, 50.0),
        min: samples.first().copied().unwrap_or(0),
        max: samples.last().copied().unwrap_or(0),
    }
}

/// Coverage asked of a median's interval: 95%.
pub const MEDIAN_CONFIDENCE: f64 = 0.95;

/// The median of `values` (the lower middle one for an even count, as [`percentile`]) and a
/// distribution-free interval for it: `[x(k), x(n+1-k)]` of the sorted values holds the true
/// median with probability `1 - 2 P(B <= k-1)`, `B ~ Binomial(n, 1/2)` (each value falls below
/// the median with probability 1/2, whatever the distribution). `k` is the largest rank whose
/// coverage is still at least `confidence`; with too few values for that, `[min, max]` and the
/// coverage it has. `None` for no values or a NaN among them.
pub fn median_interval(values: &[f64], confidence: f64) -> Option<RatioInterval> {
    let mut v = values.to_vec();
    if v.is_empty() || v.iter().any(|x| x.is_nan()) {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    // B is symmetric: the upper rank mirrors the lower one.
    let (k, _, below) = quantile_ranks(n, 0.5, confidence);
    Some(RatioInterval {
        median: v[n.div_ceil(2) - 1],
        low: v[k - 1],
        high: v[n - k],
        confidence: (1.0 - 2.0 * below).max(0.0),
        pairs: n,
    })
}

/// A distribution-free interval for the `q`th quantile (0 < q < 1) of the distribution that
/// `sorted` (ascending, none NaN) was drawn from: `[x(r), x(s)]` of `quantile_ranks`. For
/// 101 values and q = 0.9 that is ranks 85 to 97 (counted from 1): the four highest values
/// are outside it, so one lone extreme value does not widen it. `None` for no values or q
/// outside (0, 1).
pub fn quantile_interval(sorted: &[f64], q: f64, confidence: f64) -> Option<[f64; 2]> {
    if sorted.is_empty() || !(q > 0.0 && q < 1.0) {
        return None;
    }
    let (low, high, _) = quantile_ranks(sorted.len(), q, confidence);
    Some([sorted[low - 1], sorted[high - 1]])
}

/// The ranks `(r, s)` (counted from 1) of `n` sorted values that bracket their `q`th quantile
/// with `confidence`, and `P(B <= r - 1)`. The count `B` of values below the quantile is
/// Binomial(n, q) whatever the distribution: `r` is the highest rank with `P(B <= r - 1) <=
/// (1 - confidence) / 2` and `s` the lowest with `P(B <= s - 1) >= (1 + confidence) / 2`
/// (1 and `n` at the ends when too few values reach that). `n` > 0, 0 < q < 1.
fn quantile_ranks(n: usize, q: f64, confidence: f64) -> (usize, usize, f64) {
    let tail = (1.0 - confidence) / 2.0;
    // ln P(B = j), from j = 0 up; the cdf summed as it goes (no overflow for any n).
    let (ln_q, ln_rest) = (q.ln(), (1.0 - q).ln());
    let mut ln_term = n as f64 * ln_rest;
    let mut cdf = 0.0;
    let (mut low, mut high, mut below) = (1, n, ln_term.exp());
    for j in 0..n {
        cdf += ln_term.exp(); // P(B <= j), what rank j + 1 is judged by
        ln_term += ((n - j) as f64).ln() - ((j + 1) as f64).ln() + ln_q - ln_rest;
        if cdf <= tail {
            (low, below) = (j + 1, cdf);
        }
        if cdf >= 1.0 - tail {
            high = j + 1;
            break;
        }
    }
    (low, high, below)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s: Vec<u64> = (1..=10).collect();
        assert_eq!(percentile(&s, 50.0), 5);
        assert_eq!(percentile(&s, 90.0), 9);
        assert_eq!(percentile(&s, 99.0), 10);
        assert_eq!(percentile(&s, 0.0), 1);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn interpolated_percentiles() {
        // 7 values: p90 lies 40% of the way from the second best to the best.
        let s = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 16.0];
        assert!((interpolated(&s, 90.0) - 10.0).abs() < 1e-12);
        assert_eq!(interpolated(&s, 50.0), 4.0);
        assert_eq!(
            (interpolated(&s, 0.0), interpolated(&s, 100.0)),
            (1.0, 16.0)
        );
        assert_eq!(
            (interpolated(&[7.0], 25.0), interpolated(&[], 25.0)),
            (7.0, 0.0)
        );
    }

    #[test]
    fn quantile_interval_takes_the_ranks_of_the_binomial() {
        let v: Vec<f64> = (1..=101).map(f64::from).collect();
        // B ~ Binomial(101, 0.9): P(B <= 84) = 0.023, P(B <= 85) = 0.043;
        // P(B <= 95) = 0.946, P(B <= 96) = 0.978
        assert_eq!(quantile_interval(&v, 0.9, 0.95), Some([85.0, 97.0]));
        assert_eq!(quantile_interval(&v, 0.1, 0.95), Some([5.0, 17.0]));
        // the median of 30 values: ranks 10 and 21, as median_interval
        let v: Vec<f64> = (1..=30).map(f64::from).collect();
        assert_eq!(quantile_interval(&v, 0.5, 0.95), Some([10.0, 21.0]));
        // 7 values: the 90th percentile's interval reaches the best
        let v: Vec<f64> = (1..=7).map(f64::from).collect();
        assert_eq!(quantile_interval(&v, 0.9, 0.95).map(|i| i[1]), Some(7.0));
        assert_eq!(quantile_interval(&[3.0], 0.9, 0.95), Some([3.0, 3.0]));
        assert_eq!(quantile_interval(&[], 0.9, 0.95), None);
        assert_eq!(quantile_interval(&[1.0, 2.0], 1.0, 0.95), None);
    }

    #[test]
    fn latency_distribution() {
        let mut s = vec![4, 2, 8, 6];
        let l = latency(&mut s);
        assert_eq!((l.min, l.median, l.p90, l.max), (2, 4, 8, 8));
        assert_eq!(l.mean, 5.0);
        assert!((l.stddev - 5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn median_interval_takes_the_ranks_of_the_binomial_table() {
        // n = 30: the 95% interval of the median is [x(10), x(21)], coverage 0.9572
        let v: Vec<f64> = (1..=30).rev().map(f64::from).collect();
        let i = median_interval(&v, MEDIAN_CONFIDENCE).unwrap();
        assert_eq!((i.median, i.low, i.high, i.pairs), (15.0, 10.0, 21.0, 30));
        assert!((i.confidence - 0.957_226).abs() < 1e-6, "{}", i.confidence);
        // n = 6: only [min, max] reaches 95% (1 - 2/64 = 0.96875)
        let v: Vec<f64> = (1..=6).map(f64::from).collect();
        let i = median_interval(&v, MEDIAN_CONFIDENCE).unwrap();
        assert_eq!((i.median, i.low, i.high), (3.0, 1.0, 6.0));
        assert!((i.confidence - 0.968_75).abs() < 1e-12);
        // n = 5: [min, max] covers 1 - 2/32 = 0.9375 only, and says so
        let i = median_interval(&[5.0, 1.0, 3.0, 2.0, 4.0], MEDIAN_CONFIDENCE).unwrap();
        assert_eq!((i.median, i.low, i.high), (3.0, 1.0, 5.0));
        assert!((i.confidence - 0.9375).abs() < 1e-12);
        // n = 100: ranks 40 and 61 (coverage 0.9648)
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let i = median_interval(&v, MEDIAN_CONFIDENCE).unwrap();
        assert_eq!((i.low, i.high), (40.0, 61.0));
        assert!((i.confidence - 0.964_8).abs() < 1e-4, "{}", i.confidence);
        // one value: no coverage at all; none or NaN: no interval
        let i = median_interval(&[2.0], MEDIAN_CONFIDENCE).unwrap();
        assert_eq!(
            (i.median, i.low, i.high, i.confidence),
            (2.0, 2.0, 2.0, 0.0)
        );
        assert!(median_interval(&[], MEDIAN_CONFIDENCE).is_none());
        assert!(median_interval(&[1.0, f64::NAN], MEDIAN_CONFIDENCE).is_none());
        // 100,000 pairs: no overflow, and the interval is narrow around the middle
        let v: Vec<f64> = (1..=100_000).map(f64::from).collect();
        let i = median_interval(&v, MEDIAN_CONFIDENCE).unwrap();
        assert!(i.low > 49_600.0 && i.high < 50_400.0, "{i:?}");
        assert!(i.confidence >= MEDIAN_CONFIDENCE);
    }
}

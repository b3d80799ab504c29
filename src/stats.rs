//! Order statistics over measured samples. Percentiles use the nearest-rank rule on the sorted
//! samples (the median of an even count is the lower middle value), so every reported figure is
//! one that was actually measured.

use crate::record::{LatencyNs, WallNs};

/// Nearest-rank percentile of sorted samples; 0 for none.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
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
    fn latency_distribution() {
        let mut s = vec![4, 2, 8, 6];
        let l = latency(&mut s);
        assert_eq!((l.min, l.median, l.p90, l.max), (2, 4, 8, 8));
        assert_eq!(l.mean, 5.0);
        assert!((l.stddev - 5f64.sqrt()).abs() < 1e-12);
    }
}

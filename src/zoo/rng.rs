//! Deterministic weights: a splitmix64 stream turned into uniform floats.
//!
//! The zoo measures speed, not accuracy, but the values still matter: denormals and infinities
//! run at different speeds from ordinary floats on most CPUs. Weights are therefore drawn to the
//! scale of a trained network (see [`super::builder`]), from a stream that depends only on the
//! seed and on the order in which layers are built, so the same seed gives the same bytes on
//! every machine. Uniform draws are used throughout: a uniform on `[-a, a)` with
//! `a = sqrt(3) * std` has the wanted standard deviation, costs one multiply per value, and keeps
//! building the largest model (VGG16, 34M parameters) well under a second.

/// A splitmix64 generator (Steele, Lea and Flood 2014): tiny, fast, and good enough for weights.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        // Mixed with a constant so that seed 0 does not start from an all-zero state.
        Self {
            state: seed ^ 0x6869_6464_656e_636f,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `n` values uniform on `[center - half_width, center + half_width)`.
    ///
    /// Each 64-bit draw gives two 24-bit mantissas, the precision of an f32.
    pub(crate) fn uniform(&mut self, n: usize, center: f32, half_width: f32) -> Vec<f32> {
        const SCALE: f32 = 2.0 / (1u32 << 24) as f32;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let bits = self.next_u64();
            let a = (bits >> 40) as f32 * SCALE - 1.0;
            out.push(center + half_width * a);
            if out.len() < n {
                let b = (bits & 0x00ff_ffff) as f32 * SCALE - 1.0;
                out.push(center + half_width * b);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_stream_and_bounded() {
        let a = Rng::new(7).uniform(1001, 0.0, 2.0);
        let b = Rng::new(7).uniform(1001, 0.0, 2.0);
        let c = Rng::new(8).uniform(1001, 0.0, 2.0);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|v| (-2.0..2.0).contains(v)));
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        let var = a.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / a.len() as f32;
        // U(-2, 2) has variance 4/3.
        assert!(mean.abs() < 0.15, "mean {mean}");
        assert!((var - 4.0 / 3.0).abs() < 0.15, "variance {var}");
    }
}

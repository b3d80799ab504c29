//! Deterministic weights: a splitmix64 stream turned into uniform floats.
//!
//! The zoo measures speed, not accuracy, but the values still matter: denormals and infinities
//! run at different speeds from ordinary floats on most CPUs. Weights are therefore drawn to the
//! scale of a trained network (see [`super::builder`]), from a stream that depends only on the
//! seed and on the order in which layers are built, so the same seed gives the same bytes on
//! every machine. Uniform draws are used throughout: a uniform on `[-a, a)` with
//! `a = sqrt(3) * std` has the wanted standard deviation and costs a few integer operations per
//! value, so that building a model costs little next to running it.

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
    /// Each call draws a 64-bit key from the splitmix64 stream; element `i` is then a 32-bit
    /// integer hash of `i` under that key (counter-based, as in Philox or Threefry, but with
    /// Wellons' `lowbias32`), whose top 24 bits make the mantissa. Elements are independent of
    /// each other, so the loop vectorizes: building VGG16's 34M weights is memory-bound.
    pub(crate) fn uniform(&mut self, n: usize, center: f32, half_width: f32) -> Vec<f32> {
        let stream = self.stream(center, half_width);
        (0..n).map(|i| stream.at(i)).collect()
    }

    /// The same values as [`Self::uniform`], written straight into little-endian f32 bytes
    /// (ONNX `raw_data`): one pass over fresh memory instead of two.
    pub(crate) fn uniform_le_bytes(&mut self, n: usize, center: f32, half_width: f32) -> Vec<u8> {
        let stream = self.stream(center, half_width);
        let mut raw = vec![0u8; n * 4];
        for (i, bytes) in raw.chunks_exact_mut(4).enumerate() {
            bytes.copy_from_slice(&stream.at(i).to_le_bytes());
        }
        raw
    }

    fn stream(&mut self, center: f32, half_width: f32) -> Stream {
        let key = self.next_u64();
        Stream {
            k1: key as u32,
            k2: (key >> 32) as u32,
            center,
            half_width,
        }
    }
}

/// One tensor's values: element `i` is a keyed hash of `i`.
struct Stream {
    k1: u32,
    k2: u32,
    center: f32,
    half_width: f32,
}

impl Stream {
    #[inline(always)]
    fn at(&self, i: usize) -> f32 {
        const SCALE: f32 = 2.0 / (1u32 << 24) as f32;
        let h = lowbias32((i as u32) ^ self.k1) ^ self.k2;
        self.center + self.half_width * ((h >> 8) as f32 * SCALE - 1.0)
    }
}

/// Chris Wellons' `lowbias32` integer hash: a bijection on u32 with low bias.
#[inline(always)]
fn lowbias32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
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
        let bytes = Rng::new(7).uniform_le_bytes(1001, 0.0, 2.0);
        let from_bytes: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(from_bytes, a);
        assert!(a.iter().all(|v| (-2.0..2.0).contains(v)));
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        let var = a.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / a.len() as f32;
        // U(-2, 2) has variance 4/3.
        assert!(mean.abs() < 0.15, "mean {mean}");
        assert!((var - 4.0 / 3.0).abs() < 0.15, "variance {var}");
    }
}

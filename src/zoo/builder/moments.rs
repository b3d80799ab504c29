//! Rough activation statistics, so that each convolution can scale its weights to its input.
//!
//! A trained network's BatchNorms see roughly normalized data. Random weights only do if each
//! layer is scaled to what actually reaches it: a ReLU halves the mean square of a centred
//! input, a residual Add sums two, a max pool raises the mean. The builder carries a (mean, mean
//! square) estimate per tensor, treating every element as Gaussian, and draws each convolution's
//! weights so that its output has a mean square of about 1.

/// Mean and mean square of a tensor's elements, propagated with Gaussian approximations.
#[derive(Debug, Clone, Copy)]
pub(super) struct Moments {
    pub(super) mean: f32,
    pub(super) ms: f32,
}

impl Moments {
    pub(super) const UNIT: Moments = Moments { mean: 0.0, ms: 1.0 };

    pub(super) fn var(self) -> f32 {
        (self.ms - self.mean * self.mean).max(1e-12)
    }

    /// `max(x, 0)` of a Gaussian with these moments.
    pub(super) fn relu(self) -> Moments {
        let (mu, sigma) = (self.mean, self.var().sqrt());
        let z = mu / sigma;
        let cdf = 0.5 * (1.0 + erf(z / std::f32::consts::SQRT_2));
        let pdf = (-0.5 * z * z).exp() / (2.0 * std::f32::consts::PI).sqrt();
        Moments {
            mean: mu * cdf + sigma * pdf,
            ms: (mu * mu + sigma * sigma) * cdf + mu * sigma * pdf,
        }
    }

    /// A mean over many correlated values: same mean, half the spread.
    pub(super) fn averaged(self) -> Moments {
        Moments {
            mean: self.mean,
            ms: self.mean * self.mean + self.var() / 2.0,
        }
    }
}

/// The error function (Abramowitz and Stegun 7.1.26, error below 1.5e-7).
fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_7 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    (1.0 - poly * (-x * x).exp()).copysign(x)
}

#[cfg(test)]
mod tests {
    use super::{Moments, erf};

    #[test]
    fn relu_of_a_centred_gaussian_halves_its_mean_square() {
        let m = Moments::UNIT.relu();
        assert!((m.ms - 0.5).abs() < 1e-4, "{m:?}");
        assert!((m.mean - 0.398_942_3).abs() < 1e-4, "{m:?}"); // 1 / sqrt(2 pi)
        assert!((erf(1.0) - 0.842_700_8).abs() < 1e-6);
        assert!((erf(-0.5) + 0.520_499_9).abs() < 1e-6);
        let shifted = Moments {
            mean: 3.0,
            ms: 10.0,
        }
        .relu(); // almost all positive
        assert!((shifted.ms - 10.0).abs() < 0.05, "{shifted:?}");
    }
}

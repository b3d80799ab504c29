//! Time budgets, one place for both: the machine probe's figures share the probe's budget
//! ([`figures`]), and the sweep fits its variants' runs into the sweep's ([`runs`]). Both are
//! pure: the clock is passed in ([`Clock`]), so the tests drive them on a fake one.

pub mod figures;
pub mod runs;

use std::time::Instant;

/// A monotonic clock in nanoseconds.
pub trait Clock {
    fn now_ns(&self) -> u64;
}

/// The real clock: `Instant` since the probe started.
pub struct Monotonic(Instant);

impl Monotonic {
    pub fn new() -> Monotonic {
        Monotonic(Instant::now())
    }
}

impl Default for Monotonic {
    fn default() -> Self {
        Monotonic::new()
    }
}

impl Clock for Monotonic {
    fn now_ns(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

//! An answer of the Findings, or why the data cannot give one ([`Why`]: a value; the report
//! words it).

use super::bounds::NoRoofs;

/// Either an answer, or why the data cannot give one.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<T> {
    Is(T),
    CannotSay(Why),
}

/// Why the data cannot answer a question (the report words it).
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// RQ4: the logs hold no design probes (`hiddencost sweep`) from this device.
    NoDesignProbes,
    /// RQ4: none of the device's `families` design families has its baseline measured.
    NoBaseline { families: usize },
    /// RQ1: no model of the device was measured.
    NoModel,
    /// RQ1: a correlation needs at least 3 models; the device has `models`.
    TooFewModels { models: usize },
    /// RQ1: MACs or latency are the same for every model.
    Constant,
    /// RQ1: r (time vs MACs) moves from `r_low` to `r_high` when the warned models vary within
    /// their own spread, across a verdict's threshold.
    NoiseFlips { r_low: f64, r_high: f64 },
    /// RQ1: no model has a latency.
    NoLatency,
    /// No two consecutive models (by MACs) are [`super::findings::LIGHT_GAP`] or more apart.
    NoLightGroup,
    /// Only `light` models below the largest gap in MACs (`gap` times): a correlation needs 3.
    FewLightModels { light: usize, gap: f64 },
    /// RQ2: no op time was measured on this device.
    NoOpTime,
    /// RQ2's time above the roofs: no run of the device has roofs (why, for one of them).
    NoRoofs(Option<NoRoofs>),
    /// RQ3: comparing architectures needs at least 2 models; the device has `models`.
    TooFewArchitectures { models: usize },
}

impl<T> Answer<T> {
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Answer::Is(t) => Some(t),
            Answer::CannotSay(_) => None,
        }
    }
}

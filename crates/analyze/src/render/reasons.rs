//! The reasons compute gives instead of an answer, in words: why a run has no roofs
//! ([`NoRoofs`]) and why a question of the Findings cannot be answered ([`Why`]).

use crate::compute::bounds::NoRoofs;
use crate::compute::findings::{LIGHT_GAP, Why};

/// Why a run has no roofs, as a clause.
pub fn no_roofs(r: &NoRoofs) -> String {
    match r {
        NoRoofs::NoProbe => {
            "the log has no machine roofs: its bench skipped the probe, or predates it".into()
        }
        NoRoofs::NoThreadsPeak { threads } => {
            format!("the run used {threads} threads but the probe has no matmul peak on them")
        }
        NoRoofs::NoMatmulPeak => "the probe has no matmul peak".into(),
        NoRoofs::PeakNotPositive => "the matmul peak is not positive".into(),
        NoRoofs::NoDispatchFloor => "the probe has no dispatch floor".into(),
        NoRoofs::NoBandwidth => "the probe has no bandwidth figure".into(),
    }
}

/// Why a question cannot be answered, as a clause.
pub fn why(w: &Why) -> String {
    match w {
        Why::NoDesignProbes => "these logs hold no design probes from this device (variants at \
                                equal MACs that differ in one design choice): run `hiddencost \
                                sweep` on it and analyze its log with these"
            .into(),
        Why::NoBaseline { families } => format!(
            "none of this device's {families} design families has its baseline measured (the \
             sweep stopped before it, or it failed), so no variant has a ratio"
        ),
        Why::NoModel => "no model measured".into(),
        Why::TooFewModels { models } => {
            format!("a correlation needs at least 3 models; this device has {models}")
        }
        Why::Constant => {
            "MACs or latency are the same for every model: no correlation to compute".into()
        }
        Why::NoiseFlips { r_low, r_high } => format!(
            "r moves from {r_low:.2} to {r_high:.2} when the models with noise warnings vary \
             within their own measured spread (min to p90): re-run them on a quiet machine"
        ),
        Why::NoLatency => "no model has a latency".into(),
        Why::NoLightGroup => format!(
            "no light group: no two consecutive models (by MACs) are {LIGHT_GAP}x or more apart"
        ),
        Why::FewLightModels { light, gap } => format!(
            "only {light} model(s) below the largest gap in MACs ({gap:.1}x): a correlation \
             needs 3"
        ),
        Why::NoOpTime => "no op time was measured on this device".into(),
        Why::NoRoofs(r) => r.as_ref().map_or("no machine roofs".into(), no_roofs),
        Why::TooFewArchitectures { models } => format!(
            "comparing architectures needs at least 2 models on a device; this one has {models}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_what_is_missing() {
        assert!(why(&Why::NoDesignProbes).contains("`hiddencost sweep`"));
        assert_eq!(
            why(&Why::NoRoofs(Some(NoRoofs::NoThreadsPeak { threads: 4 }))),
            "the run used 4 threads but the probe has no matmul peak on them"
        );
        assert_eq!(why(&Why::NoRoofs(None)), "no machine roofs");
        assert_eq!(
            why(&Why::FewLightModels {
                light: 2,
                gap: 3.04
            }),
            "only 2 model(s) below the largest gap in MACs (3.0x): a correlation needs 3"
        );
    }
}

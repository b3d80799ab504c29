//! The words for compute's names: a limiter (`memory:L2`) and a board class
//! (`Raspberry Pi 4 Model B / Cortex-A72`).

use crate::compute::bounds::{ComputeRoof, Limiter, LimiterName, Roofs};
use crate::compute::fleet::ClassName;

/// `compute`, `memory:` and the level's name, or `overhead`.
pub fn limiter(l: &LimiterName) -> String {
    match l {
        LimiterName::Compute => "compute".into(),
        LimiterName::Memory(level) => format!("memory:{level}"),
        LimiterName::Overhead => "overhead".into(),
    }
}

/// The words of `l`, a limiter of a bound on `roofs`.
pub fn limiter_of(roofs: &Roofs, l: Limiter) -> String {
    limiter(&roofs.limiter_name(l))
}

/// The peak an op's compute term used (`f32`, `int8`, `int8 unmeasured`: the op has int8
/// MACs and the probe no integer roof, so they are not bounded); `None` for an op without MACs.
pub fn compute_roof(r: ComputeRoof) -> Option<&'static str> {
    match r {
        ComputeRoof::None => None,
        ComputeRoof::F32 => Some("f32"),
        ComputeRoof::Int8 => Some("int8"),
        ComputeRoof::Int8Unmeasured => Some("int8 unmeasured"),
    }
}

/// The board and the CPU joined by ` / `, whichever is known, or the architecture.
pub fn class(c: &ClassName) -> String {
    match c {
        ClassName::Board {
            board: Some(b),
            cpu: Some(c),
        } => format!("{b} / {c}"),
        ClassName::Board { board, cpu } => board.clone().or(cpu.clone()).unwrap_or_default(),
        ClassName::Arch(a) => a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_words() {
        assert_eq!(limiter(&LimiterName::Memory("L2".into())), "memory:L2");
        assert_eq!(compute_roof(ComputeRoof::Int8), Some("int8"));
        assert_eq!(
            compute_roof(ComputeRoof::Int8Unmeasured),
            Some("int8 unmeasured")
        );
        assert_eq!(compute_roof(ComputeRoof::None), None);
        let pi = ClassName::Board {
            board: Some("Raspberry Pi 4 Model B".into()),
            cpu: Some("Cortex-A72".into()),
        };
        assert_eq!(class(&pi), "Raspberry Pi 4 Model B / Cortex-A72");
        let cpu = ClassName::Board {
            board: None,
            cpu: Some("Cortex-A53".into()),
        };
        assert_eq!(class(&cpu), "Cortex-A53");
        assert_eq!(class(&ClassName::Arch("aarch64".into())), "aarch64");
    }
}

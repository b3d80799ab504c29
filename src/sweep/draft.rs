//! A family before sizing: what `families` and `kernels` both describe and the MAC search
//! sizes.

use super::blocks::{Block, Size};

/// One family's description before sizing.
pub(super) struct Draft {
    pub(super) name: &'static str,
    pub(super) question: &'static str,
    /// (variant name, design choice, block, the size it would have without matching, what the
    /// search may change). The first is the baseline.
    pub(super) variants: Vec<(String, String, Block, Size, Free)>,
}

/// Which size parameters the MAC search may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Free {
    /// None: the design choice itself keeps MACs equal (or it is a kernel probe).
    Nothing,
    /// Channels (in steps of `step`) and, to fine-tune, the spatial size by up to 3 each way.
    Channels { step: usize },
    /// The spatial size only (the channel count is the design choice).
    Spatial,
}

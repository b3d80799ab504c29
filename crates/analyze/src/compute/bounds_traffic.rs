//! The bytes an executed op moves, as its bound charges them (see the module doc of
//! [`super`]).

use super::PART_READ_OPS;
use crate::record::Cost;

/// The bytes an executed op moves, as its bound charges them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    /// Plain inputs (what a part-reading op writes out, at most), packed constants, and the
    /// scratch another op filled for it.
    pub read: u64,
    /// Plain outputs and the scratch it fills for another op.
    pub written: u64,
    /// Panels it fills and reads itself (a kernel gathering a lazy im2col's panels): the
    /// smaller of its scratch read and written.
    pub own: u64,
    /// What must be resident while it runs: `read` and `written`, with a part-reading op's
    /// whole input (the tensor it slices lives where its size puts it).
    pub working_set: u64,
}

impl Traffic {
    pub fn of(op: &str, cost: &Cost) -> Traffic {
        let plain_read = if PART_READ_OPS.iter().any(|p| op.starts_with(p)) {
            cost.bytes_read.min(cost.bytes_written)
        } else {
            cost.bytes_read
        };
        let own = cost.scratch_bytes_read.min(cost.scratch_bytes_written);
        let other_read = cost
            .packed_const_bytes
            .saturating_add(cost.scratch_bytes_read - own);
        let written = cost
            .bytes_written
            .saturating_add(cost.scratch_bytes_written - own);
        Traffic {
            read: plain_read.saturating_add(other_read),
            written,
            own,
            working_set: cost
                .bytes_read
                .saturating_add(other_read)
                .saturating_add(written),
        }
    }
}

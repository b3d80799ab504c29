//! What the machine could have done: a lower bound for every executed op from the roofs its
//! log's probe measured on the device (the header's `machine` object), the limit that sets it,
//! and the time above it that neither MACs nor bytes explain.
//!
//! For an op with `macs` multiply-accumulates that reads `read` bytes and writes `written`
//! bytes (its plain tensors, the packed constants its kernel holds, and the im2col and packing
//! scratch another op filled for it or it fills for another), and fills and reads `own` bytes
//! of panels it gathers itself (a lazy im2col's: the smaller of its scratch read and written):
//!
//! ```text
//! compute_ns = (macs - int8_macs) / peak + int8_macs / int8_peak
//! memory_ns  = max(read / read_bandwidth(L) + own / read_bandwidth(L1),
//!                  written / write_bandwidth(L) + own / write_bandwidth(L1))
//! bound_ns   = max(compute_ns, memory_ns) + floor
//! ```
//!
//! where `L` is the first memory level whose capacity holds the op's working set (`read` +
//! `written`, with the whole input of an op reading part of it: a GEMV's 64 MiB of packed
//! weights put it in DRAM), `L1` the first level (a gathered panel is one kernel tile's,
//! reused at once), `peak` the matmul probe's rate on the threads the run used, the bandwidths
//! those at level `L` (a copy reads and writes: half its rate is a read rate and a write rate
//! the machine demonstrably reached, so each roof is the best of the two), and `floor` the
//! dispatch floor (a trivially small op through the same plan and hook, or the run's fastest op
//! if that is faster). Each figure is the 10th percentile of its repeats counted from the best
//! (`Spread::robust_max` of a rate, `robust_min` of a time): a value a tenth of the repeats
//! reached, which one lone fast repeat does not own (the best repeat itself in a log without
//! percentiles). Ops that tract evaluates without moving their data ([`VIEW_OPS`]) get no
//! memory term, and ops that read only part of their input ([`PART_READ_OPS`]) are charged for
//! what they write. Every term takes the probe's figure from the fast side, so the bound stays
//! a lower bound within the figures' spread: an op measured below it is reported, never
//! hidden. The limiter is the largest term: `compute`, `memory:L` or `overhead` (the floor).
//!
//! MACs on 8-bit integer operands (`int8_macs`: QLinearConv, ConvInteger, MatMulInteger...)
//! are bounded by the integer matmul probe's peak (`int8_peak`, `machine.matmul_int8`), not the
//! f32 one: on the x86 VM tract's integer kernel runs 87 times slower than its f32 one, and an
//! f32 roof would make every integer op look far above its bound. A log whose probe has no
//! integer roof (older logs) leaves those MACs out of the compute term and says so
//! ([`ComputeRoof::Int8Unmeasured`]): the bound is then memory and floor only, still a lower
//! bound, and never silently the f32 roof's.

use crate::record::{Cost, Header, Machine, MatmulProbe, Spread};
use std::collections::BTreeMap;

#[path = "bounds_traffic.rs"]
mod traffic;
pub use traffic::Traffic;
#[path = "bounds_model.rs"]
mod model;
pub use model::model_bounds;

/// The level name of main memory.
pub const DRAM: &str = "DRAM";

/// Executed ops that need not move their bytes: tract 0.23.9 evaluates them by changing the
/// tensor's geometry in place (`IntoShape`, and `AddAxis`, `RmAxis`, `Reshape` of `AxisOp`;
/// they copy only when their input is shared) or by describing the im2col matrix for the
/// kernel to read (`LazyIm2col`). Their static bytes are what they would move if they copied,
/// so their memory term is 0 and their bound is the floor.
pub const VIEW_OPS: [&str; 5] = ["IntoShape", "AddAxis", "RmAxis", "Reshape", "LazyIm2col"];

/// Executed categories whose ops compute MACs (tract's matmul, conv and depthwise kernels take
/// their source op's category): a MAC rate above the peak on one of these means the probe's
/// matmul is not the machine's fastest code for it; on any other op, that MACs landed on an
/// op that does not compute them.
pub const KERNEL_CATEGORIES: [&str; 2] = ["conv", "linear"];

/// Executed ops that read only the part of their input they write out (a slice of it, the
/// gathered rows): their compulsory read is their bytes written, not the whole input tensor
/// their static `bytes_read` counts.
pub const PART_READ_OPS: [&str; 4] = ["Slice", "StridedSlice", "DynSlice", "Gather"];

/// How far above the probe's peak a model's fastest kernel may raise the roof of its bounds.
/// Within it, the probe most likely caught the machine at a slower moment than the model's run
/// (a shared VM: in CI a probe's best of 40.7 GMAC/s, spread 15.5%, then InceptionV4's 1x1
/// convs at 47-49) or its matmul is not the fastest code for that kernel (under QEMU's
/// emulation, kernels ran at up to 1.9x the probe's figure); beyond it, overcounted MACs are
/// likelier (a kernel split into pieces with all the MACs on one runs at pieces x the rate),
/// and the probe's roof is kept.
pub const PEAK_RAISE_LIMIT: f64 = 2.0;

/// The compute roof an op's bound used (the ops table's `compute_roof` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputeRoof {
    /// The op has no MACs: no compute term.
    None,
    /// The f32 matmul peak.
    F32,
    /// The integer matmul peak, for its `int8_macs` (any other MACs at the f32 peak).
    Int8,
    /// The op has `int8_macs` and the run's probe has no integer peak: they have no compute
    /// term, and the op's bound is not a compute bound.
    Int8Unmeasured,
}

/// The integer matmul peak of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Roof {
    /// The integer matmul probe's rate on the run's threads (`Spread::robust_max`), MACs per
    /// second.
    pub peak_macs_per_s: f64,
    /// (max - min) / median of its repeats.
    pub peak_spread: f64,
    pub kernel: String,
}

impl Int8Roof {
    fn of(probe: Option<&MatmulProbe>) -> Option<Int8Roof> {
        let p = probe?;
        Some(Int8Roof {
            peak_macs_per_s: usable(&p.macs_per_s)?,
            peak_spread: spread(&p.macs_per_s),
            kernel: p.kernel.clone(),
        })
    }
}

/// One memory level's roof.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub name: String,
    /// Cache size; `None` for DRAM (holds everything).
    pub capacity_bytes: Option<u64>,
    pub read_bytes_per_s: f64,
    pub write_bytes_per_s: f64,
    /// Relative spread of the read and write figures, the larger one.
    pub spread: f64,
}

/// The roofs of one run, taken from its header's `machine` object.
#[derive(Debug, Clone, PartialEq)]
pub struct Roofs {
    /// The matmul probe's rate on the run's threads (`Spread::robust_max`), MACs per second.
    pub peak_macs_per_s: f64,
    /// (max - min) / median of the peak's repeats.
    pub peak_spread: f64,
    pub kernel: String,
    pub threads: usize,
    /// The integer matmul peak on the same threads; `None` when the probe has none.
    pub int8: Option<Int8Roof>,
    /// Smallest capacity first; the last level holds everything.
    pub levels: Vec<Level>,
    /// The dispatch floor (`Spread::robust_min`; in a model's bounds, or the model's fastest op
    /// if that is faster).
    pub floor_ns: f64,
    pub floor_spread: f64,
}

/// Which term sets an op's bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Limiter {
    Compute,
    /// Index into [`Roofs::levels`].
    Memory(usize),
    Overhead,
}

/// A limiter as the runs of a device share it: memory by its level's name (`L2`, `DRAM`), as
/// two runs' roofs need not list the same levels. Ordered as its words sort (`compute`,
/// `memory:DRAM`, `memory:L1`, ..., `overhead`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LimiterName {
    Compute,
    Memory(String),
    Overhead,
}

/// The bound of one op.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpBound {
    /// The compute term: MACs over the peak of [`OpBound::roof`].
    pub compute_ns: f64,
    pub roof: ComputeRoof,
    pub memory_ns: f64,
    /// Index into [`Roofs::levels`] of the level holding the op's working set.
    pub level: usize,
    pub floor_ns: f64,
    pub bound_ns: f64,
    pub limiter: Limiter,
    /// Measured (median wall) minus bound; negative when the op ran faster than its bound.
    pub excess_ns: f64,
}

impl OpBound {
    /// Measured time over the bound (1.0: at the roof).
    pub fn times_bound(&self) -> f64 {
        let measured = self.bound_ns + self.excess_ns;
        if self.bound_ns > 0.0 {
            measured / self.bound_ns
        } else {
            f64::INFINITY
        }
    }

    /// Time above the bound, 0 for an op at or below it.
    pub fn above_ns(&self) -> f64 {
        self.excess_ns.max(0.0)
    }
}

/// Sums of bounds over a set of ops.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BoundAgg {
    pub ops: usize,
    pub measured_ns: f64,
    pub bound_ns: f64,
    /// Σ of the ops' time above their bounds.
    pub above_ns: f64,
}

impl BoundAgg {
    fn add(&mut self, measured_ns: f64, b: &OpBound) {
        self.ops += 1;
        self.measured_ns += measured_ns;
        self.bound_ns += b.bound_ns;
        self.above_ns += b.above_ns();
    }

    pub fn merge(&mut self, other: &BoundAgg) {
        self.ops += other.ops;
        self.measured_ns += other.measured_ns;
        self.bound_ns += other.bound_ns;
        self.above_ns += other.above_ns;
    }

    /// Share of the measured time that is above the bounds.
    pub fn above_share(&self) -> f64 {
        if self.measured_ns > 0.0 {
            self.above_ns / self.measured_ns
        } else {
            0.0
        }
    }
}

/// One model's ops against the roofs of its run.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBounds {
    /// The roofs the bounds use: the run's, with the floor lowered to the model's fastest op
    /// and the peak raised to its fastest kernel when they beat the probe's.
    pub roofs: Roofs,
    /// The probe's peak, before any raise (equal to `roofs.peak_macs_per_s` when none).
    pub probe_peak_macs_per_s: f64,
    /// Parallel to the run's op records.
    pub ops: Vec<OpBound>,
    pub total: BoundAgg,
    /// By executed category.
    pub by_category: BTreeMap<String, BoundAgg>,
    /// By limiter.
    pub by_limiter: BTreeMap<LimiterName, BoundAgg>,
    /// Ops measured faster than their bound beyond the probe's spread.
    pub below_bound: Vec<usize>,
    /// Ops outside [`KERNEL_CATEGORIES`] whose MAC rate exceeds the peak by more than the
    /// probe's spread: their MACs are attributed wrongly.
    pub over_peak: Vec<usize>,
    /// Kernel ops (in [`KERNEL_CATEGORIES`]) whose MAC rate exceeds the probe's peak by more
    /// than its spread: the probe caught a slower moment of the machine, or its matmul is not
    /// the fastest code for them (as under QEMU's emulation, where an instruction's cost
    /// depends on the code and data around it), or their MACs are overcounted. Those within
    /// [`PEAK_RAISE_LIMIT`] of it are under the raised roof; the others are not.
    pub peak_beaten: Vec<usize>,
    /// Parallel to the ops: MAC rate of the median, MACs per second (0 without MACs).
    pub rates: Vec<f64>,
    /// Ops with `int8_macs` whose run has no integer roof: their compute is not bounded
    /// ([`ComputeRoof::Int8Unmeasured`]).
    pub int8_unbounded: Vec<usize>,
}

impl ModelBounds {
    /// Whether the model's fastest kernel raised the roof above the probe's peak.
    pub fn peak_raised(&self) -> bool {
        self.roofs.peak_macs_per_s > self.probe_peak_macs_per_s
    }

    /// The kernel ops above even the raised roof (beyond [`PEAK_RAISE_LIMIT`]); an integer
    /// op's roof is never raised, so one above its peak is above it.
    pub fn above_raised_peak(&self) -> Vec<usize> {
        self.peak_beaten
            .iter()
            .copied()
            .filter(|&i| {
                self.ops[i].roof == ComputeRoof::Int8 || self.rates[i] > self.roofs.peak_macs_per_s
            })
            .collect()
    }
}

/// Why a run has no roofs (the report words it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoofs {
    /// The header has no machine record: the bench skipped the probe, or predates it.
    NoProbe,
    /// The run used `threads` threads, and the probe has no matmul peak on them.
    NoThreadsPeak {
        threads: usize,
    },
    NoMatmulPeak,
    PeakNotPositive,
    NoDispatchFloor,
    NoBandwidth,
}

impl Roofs {
    /// The roofs of a run, or why there are none.
    pub fn of(header: &Header) -> Result<Roofs, NoRoofs> {
        let Some(machine) = &header.machine else {
            return Err(NoRoofs::NoProbe);
        };
        Self::from_machine(machine, header.options.threads)
    }

    pub fn from_machine(machine: &Machine, threads: usize) -> Result<Roofs, NoRoofs> {
        // A run on N threads is bounded by the pool's peak, never by one thread's.
        let matmul = if threads > 1 {
            machine
                .matmul_threads
                .as_ref()
                .ok_or(NoRoofs::NoThreadsPeak { threads })?
        } else {
            machine.matmul.as_ref().ok_or(NoRoofs::NoMatmulPeak)?
        };
        let peak = usable(&matmul.macs_per_s).ok_or(NoRoofs::PeakNotPositive)?;
        let int8 = Int8Roof::of(if threads > 1 {
            machine.matmul_int8_threads.as_ref()
        } else {
            machine.matmul_int8.as_ref()
        });
        let floor = machine
            .dispatch_floor_ns
            .as_ref()
            .filter(|s| s.robust_min().is_finite() && s.robust_min() >= 0.0)
            .ok_or(NoRoofs::NoDispatchFloor)?;
        let mut levels: Vec<Level> = machine
            .bandwidth
            .iter()
            .filter_map(|b| {
                let half_copy = usable(&b.copy_bytes_per_s).unwrap_or(0.0) / 2.0;
                Some(Level {
                    name: b.level.clone(),
                    capacity_bytes: b.capacity_bytes,
                    read_bytes_per_s: usable(&b.read_bytes_per_s)?.max(half_copy),
                    write_bytes_per_s: usable(&b.write_bytes_per_s)?.max(half_copy),
                    spread: spread(&b.read_bytes_per_s).max(spread(&b.write_bytes_per_s)),
                })
            })
            .collect();
        levels.sort_by_key(|l| l.capacity_bytes.unwrap_or(u64::MAX));
        let Some(last) = levels.last_mut() else {
            return Err(NoRoofs::NoBandwidth);
        };
        // Whatever the last level measured stands for everything larger.
        last.capacity_bytes = None;
        Ok(Roofs {
            peak_macs_per_s: peak,
            peak_spread: spread(&matmul.macs_per_s),
            kernel: matmul.kernel.clone(),
            threads: matmul.threads,
            int8,
            levels,
            floor_ns: floor.robust_min(),
            floor_spread: spread(floor),
        })
    }

    /// Index of the first level whose capacity holds `working_set_bytes`.
    pub fn level_for(&self, working_set_bytes: u64) -> usize {
        self.levels
            .iter()
            .position(|l| l.capacity_bytes.is_none_or(|c| working_set_bytes <= c))
            .unwrap_or(self.levels.len().saturating_sub(1))
    }

    /// `limiter` with its memory level named.
    pub fn limiter_name(&self, limiter: Limiter) -> LimiterName {
        match limiter {
            Limiter::Compute => LimiterName::Compute,
            Limiter::Memory(l) => LimiterName::Memory(self.levels[l].name.clone()),
            Limiter::Overhead => LimiterName::Overhead,
        }
    }

    /// The bound of executed op `op` of this cost, measured at `measured_ns`.
    pub fn bound(&self, op: &str, cost: &Cost, measured_ns: f64) -> OpBound {
        let int8_macs = cost.int8_macs.min(cost.macs);
        let f32_ns = (cost.macs - int8_macs) as f64 / self.peak_macs_per_s * 1e9;
        let (int8_ns, roof) = match (&self.int8, int8_macs, cost.macs) {
            (_, _, 0) => (0.0, ComputeRoof::None),
            (_, 0, _) => (0.0, ComputeRoof::F32),
            (Some(r), n, _) => (n as f64 / r.peak_macs_per_s * 1e9, ComputeRoof::Int8),
            (None, _, _) => (0.0, ComputeRoof::Int8Unmeasured),
        };
        let compute_ns = f32_ns + int8_ns;
        let t = Traffic::of(op, cost);
        let level = self.level_for(t.working_set);
        let (l, l1) = (&self.levels[level], &self.levels[0]);
        let memory_ns = if VIEW_OPS.contains(&op) {
            0.0
        } else {
            let own = t.own as f64;
            let read_ns = t.read as f64 / l.read_bytes_per_s + own / l1.read_bytes_per_s;
            let write_ns = t.written as f64 / l.write_bytes_per_s + own / l1.write_bytes_per_s;
            read_ns.max(write_ns) * 1e9
        };
        let work_ns = compute_ns.max(memory_ns);
        let limiter = if self.floor_ns > work_ns {
            Limiter::Overhead
        } else if compute_ns >= memory_ns {
            Limiter::Compute
        } else {
            Limiter::Memory(level)
        };
        let bound_ns = work_ns + self.floor_ns;
        OpBound {
            compute_ns,
            roof,
            memory_ns,
            level,
            floor_ns: self.floor_ns,
            bound_ns,
            limiter,
            excess_ns: measured_ns - bound_ns,
        }
    }

    /// Relative spread of the figures an op's bound was built from.
    fn tolerance(&self, b: &OpBound) -> f64 {
        let level = self.levels[b.level].spread;
        let peak = match (b.roof, &self.int8) {
            (ComputeRoof::Int8, Some(r)) => r.peak_spread,
            _ => self.peak_spread,
        };
        peak.max(level).max(self.floor_spread)
    }

    /// The peak that bounds `cost`'s MACs and its spread: the integer one for an op with
    /// `int8_macs` (`None` without an integer roof), the f32 one otherwise.
    pub fn peak_for(&self, cost: &Cost) -> Option<(f64, f64)> {
        if cost.int8_macs == 0 {
            return Some((self.peak_macs_per_s, self.peak_spread));
        }
        (self.int8.as_ref()).map(|r| (r.peak_macs_per_s, r.peak_spread))
    }
}

/// The rate a roof uses (`Spread::robust_max`: the 90th percentile of the repeats, the best in
/// an older log), when it is a positive number.
fn usable(s: &Spread) -> Option<f64> {
    let v = s.robust_max();
    (v.is_finite() && v > 0.0).then_some(v)
}

/// (max - min) / median, 0 when undefined.
pub fn spread(s: &Spread) -> f64 {
    let v = (s.max - s.min) / s.median;
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

#[cfg(test)]
#[path = "bounds_tests.rs"]
mod tests;

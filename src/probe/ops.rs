//! Figures measured through tract exactly as a model's ops are: the graph is loaded with
//! `model::load` at `Optimize::Full` and run by `runner::measure` (the same plan, per-op hook,
//! timer and counter groups), and one executed op's wall time is taken from its op record.
//!
//! - Matmul peak: one MatMul with a constant right-hand side. tract packs the input in an
//!   executed op of its own (`OptMatMulPack`) and the constant once at load time, so the
//!   `OptMatMul` op's time is the kernel's (plus storing C). The cube's side is the largest
//!   of [`MATMUL_SIDES`] whose measurement fits the figure's slice (judged from a calibration
//!   run of [`CALIBRATION_SIDE`]; at least 96 when none fits), rounded up to a multiple of the
//!   selected kernel's tile (mr x nr) if need be, so every tile is full.
//! - Integer matmul peak: the same cubes on 8-bit integers ([`Operands::I8`]: a QuantizeLinear
//!   of the input, executed on its own, then MatMulInteger with a constant i8 right-hand side),
//!   which tract runs as an integer `OptMatMul` on its i8 x i8 -> i32 kernel (on aarch64 the
//!   SDOT one where the CPU has the dot-product extension).
//! - Dispatch floor: one Relu on one element: what any op costs at the least through the plan
//!   and the hook.
//!
//! Budget: a first `measure` with one run calibrates the time of one inference; a second one
//! then gets as many runs as fit the figure's slice (at most enough for the figure's maximum
//! repeats). The figure is the op's median, min, max and percentiles of wall time over every
//! recorded run of every counter pass; if the slice has no room for the second `measure`, the
//! first one's. Each `measure` call is bracketed by CPU clock reads (`share`).

use super::graphs;
pub use super::graphs::Operands;
use super::share::{OnCpu, Stopwatch};
use crate::budget::Clock;
use crate::budget::figures as budget;
use crate::counters::CounterSet;
use crate::model::{self, LoadedModel, ModelSource, Optimize};
use crate::record::{MatmulProbe, Spread};
use crate::runner::{self, RunConfig};
use std::panic::{AssertUnwindSafe, catch_unwind};
use tract_core::ops::matmul::optimized::OptMatMul;

/// Sides of the matmul cube, largest first: multiples of 48, which every common f32 tile
/// (16x6, 8x8, 12x8, 16x4, 24x8...) divides. The largest is 13.8 M MACs (0.7 MiB of operands);
/// a machine too slow for it within the figure's slice (QEMU's emulation: about 0.05 GMAC/s)
/// gets a smaller one, never less than 96^3, even when that overruns the slice: tract runs a
/// product of fewer than 64 tiles and 2^21 MACs on the calling thread alone (tract-linalg's
/// threading thresholds), which 48^3 is with 16x6 or 8x8 tiles, so on the pool it would
/// measure one thread; one smallest cube for both keeps a slow machine's single-thread and
/// pool figures comparable.
pub const MATMUL_SIDES: [usize; 4] = [240, 192, 144, 96];

/// The cube measured first, once, to judge how fast the machine is.
pub const CALIBRATION_SIDE: usize = 48;

/// Share of the matmul slice for the largest cube that fits it; the smallest cube (96^3) gets
/// the rest, and the figure is the cube with the better best run. On the x86 VM the larger
/// cube wins (240^3 45.9 GMAC/s, 96^3 26.7-38.2 in two debug-build probes); under QEMU's
/// emulation the smaller one can (in qemu-user there, 96^3 reached 0.147 GMAC/s, 144^3 0.134).
const LARGER_CUBE_SHARE: f64 = 0.7;

/// Runs the chosen side must leave room for in the figure's slice. The peak is the best run,
/// and a run's time moves: in qemu-user on the x86 VM (beside a build) the same 240^3 product
/// took between 0.05 and 0.12 GMAC/s; a probe there that chose 144^3 for 4 repeats (the rule
/// was "a first measurement in a quarter of the slice") measured a best of 0.075 GMAC/s, and
/// 51 of MobileNet's and ShuffleNetV2's kernels then ran faster.
pub const MATMUL_TARGET_RUNS: usize = 31;

/// The largest side whose whole figure fits `left_ns`: the first measurement (one clean
/// inference plus, per pass, a warm-up and a recorded one), then [`MATMUL_TARGET_RUNS`] runs
/// (each a clean inference and one per pass, plus a warm-up per pass), and the call's own
/// `overhead_ns` twice; the smallest side when none fits. An inference of
/// [`CALIBRATION_SIDE`] took `small_inference_ns`, `small_matmul_ns` of it in the OptMatMul op:
/// that part is scaled by the cube of the sides, the rest (packing, dispatch) by their square,
/// which over-estimates it.
pub fn side_for(
    overhead_ns: u64,
    small_inference_ns: u64,
    small_matmul_ns: u64,
    left_ns: u64,
    passes: usize,
) -> usize {
    let small = CALIBRATION_SIDE;
    let matmul = small_matmul_ns.min(small_inference_ns) as f64;
    let rest = small_inference_ns as f64 - matmul;
    let inferences = (1 + 2 * passes + passes + MATMUL_TARGET_RUNS * (1 + passes)) as f64;
    MATMUL_SIDES
        .into_iter()
        .find(|&side| {
            let x = side as f64 / small as f64;
            2.0 * overhead_ns as f64 + inferences * (matmul * x.powi(3) + rest * x.powi(2))
                <= left_ns as f64
        })
        .unwrap_or(MATMUL_SIDES[MATMUL_SIDES.len() - 1])
}

#[derive(Debug, thiserror::Error)]
pub enum OpProbeError {
    #[error("{what}: {cause}")]
    Tract { what: &'static str, cause: String },
    #[error("{what}: tract panicked")]
    Panic { what: &'static str },
    #[error("{what}: the executed plan has no {op} op (ops: {ops})")]
    NoOp {
        what: &'static str,
        op: &'static str,
        ops: String,
    },
}

fn load(what: &'static str, src: &ModelSource) -> Result<LoadedModel, OpProbeError> {
    match catch_unwind(|| model::load(src, None, Optimize::Full)) {
        Ok(Ok(m)) => Ok(m),
        Ok(Err(e)) => Err(OpProbeError::Tract {
            what,
            cause: e.to_string(),
        }),
        Err(_) => Err(OpProbeError::Panic { what }),
    }
}

/// What one `runner::measure` of a graph gave: the op's wall times over every recorded run of
/// every pass, the median of those runs' end-to-end times (a warm inference, with the hook),
/// the time the call took, and the CPU time it got.
struct Measured {
    wall: Spread,
    inference_ns: u64,
    call_ns: u64,
    on_cpu: OnCpu,
}

impl Measured {
    /// The call's time outside its inferences (one clean inference per run, and per pass a
    /// warm-up and one per run): state set-up and the op records.
    fn overhead_ns(&self, runs: usize, passes: usize) -> u64 {
        let inferences = (runs + passes * (runs + 1)) as u64;
        self.call_ns
            .saturating_sub(inferences.saturating_mul(self.inference_ns))
    }
}

fn measure_once(
    what: &'static str,
    loaded: &LoadedModel,
    slot: usize,
    counters: &mut CounterSet,
    clock: &dyn Clock,
    runs: usize,
) -> Result<Measured, OpProbeError> {
    let cfg = RunConfig {
        warmup: 0,
        runs,
        schedule: runner::Schedule::Interleaved,
    };
    let t0 = clock.now_ns();
    let stopwatch = Stopwatch::for_tract();
    let measured = catch_unwind(AssertUnwindSafe(|| runner::measure(loaded, counters, cfg)));
    let on_cpu = stopwatch.stop();
    let call_ns = clock.now_ns().saturating_sub(t0);
    match measured {
        Ok(Ok(mut m)) => {
            // A recorded per-op run is warm (each pass runs one unrecorded first); the clean
            // pass's first inference pays one-time set-up (tract's lazy cache detection...).
            m.profiled_ns.sort_unstable();
            Ok(Measured {
                wall: m.op_wall_spread_ns.get(slot).copied().unwrap_or_default(),
                inference_ns: crate::stats::percentile(&m.profiled_ns, 50.0),
                call_ns,
                on_cpu,
            })
        }
        Ok(Err(e)) => Err(OpProbeError::Tract {
            what,
            cause: e.to_string(),
        }),
        Err(_) => Err(OpProbeError::Panic { what }),
    }
}

/// One executed op's wall times over a measurement that fits before `deadline_ns`: a first
/// `measure` with one run, then, if the slice has room, one with as many runs as fit; and the
/// CPU time the measurements got.
fn op_wall(
    what: &'static str,
    loaded: &LoadedModel,
    slot: usize,
    counters: &mut CounterSet,
    clock: &dyn Clock,
    deadline_ns: u64,
    max_repeats: usize,
) -> Result<(Spread, OnCpu), OpProbeError> {
    let passes = counters.passes();
    let first = measure_once(what, loaded, slot, counters, clock, 1)?;
    let now = clock.now_ns();
    // R runs cost R clean inferences plus, per pass, R + 1, plus the call's own time.
    let fixed_ns = first.overhead_ns(1, passes) + passes as u64 * first.inference_ns;
    let per_run_ns = (1 + passes as u64) * first.inference_ns;
    let wanted = max_repeats.div_ceil(passes);
    if now + fixed_ns + per_run_ns > deadline_ns || wanted <= 1 {
        return Ok((first.wall, first.on_cpu));
    }
    let runs = budget::runs_within(now, deadline_ns, fixed_ns, per_run_ns, wanted);
    let second = measure_once(what, loaded, slot, counters, clock, runs)?;
    Ok((second.wall, first.on_cpu.plus(second.on_cpu)))
}

fn ops_of(m: &LoadedModel) -> String {
    m.exec
        .iter()
        .map(|e| e.op.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The executed OptMatMul of a loaded matmul graph and the kernel tract picked for it.
struct Kernel {
    slot: usize,
    name: String,
    /// The instruction-set features it needs (`avx2+fma`; `any`).
    isa: String,
    /// Whether it needs the aarch64 dot-product extension; `None` on other architectures.
    dot_product: Option<bool>,
    /// The kernel's tile (mr x nr) and the product's m and n as the kernel sees them.
    tile: (usize, usize),
    mn: (usize, usize),
}

impl Kernel {
    fn of(m: &LoadedModel, what: &'static str) -> Result<Kernel, OpProbeError> {
        let no_op = || OpProbeError::NoOp {
            what,
            op: "OptMatMul",
            ops: ops_of(m),
        };
        let slot = m
            .exec
            .iter()
            .position(|e| e.op == "OptMatMul")
            .ok_or_else(no_op)?;
        let node = m.plan.model().node(m.exec[slot].node_id);
        let op = node.op_as::<OptMatMul>().ok_or_else(no_op)?;
        let (Ok(mm), Ok(nn)) = (
            usize::try_from(op.m().to_i64().unwrap_or(-1)),
            usize::try_from(op.n().to_i64().unwrap_or(-1)),
        ) else {
            return Err(no_op());
        };
        let mode = op.mode_picker.pick(nn).map_err(|e| OpProbeError::Tract {
            what,
            cause: e.to_string(),
        })?;
        let kernel = op.mmm.get(mode).ok_or_else(no_op)?;
        let isa = kernel.isa();
        let dot_product = cfg!(target_arch = "aarch64")
            .then(|| isa.needs.contains(&tract_linalg::isa::Isa::Aarch64DotProd));
        Ok(Kernel {
            slot,
            name: kernel.name().to_string(),
            isa: format!("{isa:?}"),
            dot_product,
            tile: (kernel.mr().max(1), kernel.nr().max(1)),
            mn: (mm, nn),
        })
    }

    fn full(&self) -> bool {
        self.mn.0.is_multiple_of(self.tile.0) && self.mn.1.is_multiple_of(self.tile.1)
    }

    /// Least common multiple of the tile's sides: a cube side that fills it.
    fn side(&self) -> usize {
        let (a, b) = self.tile;
        let (mut x, mut y) = (a, b);
        while y != 0 {
            (x, y) = (y, x % y);
        }
        a / x * b
    }
}

/// What comes with a matmul figure besides its record: a note when its cube could not be made
/// to fill the kernel's tiles, and the CPU time its measurements got (for the CPU share).
#[derive(Debug, Default)]
pub struct Aside {
    pub note: Option<String>,
    pub on_cpu: OnCpu,
}

/// Peak MAC rate of tract's matmul kernel for `operands`, on the executor in use (the caller
/// picks it): the cube of `cubes` with the better best run, its note, and the CPU time of
/// every measurement of the figure (the calibration's and both cubes').
pub fn matmul(
    operands: Operands,
    threads: usize,
    counters: &mut CounterSet,
    clock: &dyn Clock,
    deadline_ns: u64,
    max_repeats: usize,
) -> Result<(MatmulProbe, Aside), OpProbeError> {
    let what = operands.what();
    let measured = cubes(operands, threads, counters, clock, deadline_ns, max_repeats)?;
    let on_cpu = (measured.iter()).fold(OnCpu::default(), |sum, (_, a)| sum.plus(a.on_cpu));
    if let [larger, smaller] = &measured[..] {
        log::debug!(
            "{what}: 90th percentile {:.3e} MAC/s at {}^3, {:.3e} at {}^3",
            larger.0.macs_per_s.robust_max(),
            larger.0.m,
            smaller.0.macs_per_s.robust_max(),
            smaller.0.m
        );
    }
    let (probe, aside) = fastest(measured).ok_or(OpProbeError::NoOp {
        what,
        op: "OptMatMul",
        ops: String::new(),
    })?;
    Ok((probe, Aside { on_cpu, ..aside }))
}

/// The probe with the highest rate the roofs use (`Spread::robust_max`); the first of equals.
fn fastest<T>(measured: Vec<(MatmulProbe, T)>) -> Option<(MatmulProbe, T)> {
    measured.into_iter().reduce(|best, next| {
        if next.0.macs_per_s.robust_max() > best.0.macs_per_s.robust_max() {
            next
        } else {
            best
        }
    })
}

/// The cubes measured for the peak: the largest side that fits most of the slice (judged
/// from a calibration run), then the smallest side with the rest; only the smallest when
/// that is the largest that fits. The calibration's CPU time goes with the first cube.
fn cubes(
    operands: Operands,
    threads: usize,
    counters: &mut CounterSet,
    clock: &dyn Clock,
    deadline_ns: u64,
    max_repeats: usize,
) -> Result<Vec<(MatmulProbe, Aside)>, OpProbeError> {
    let what = operands.what();
    // How fast is this machine? One measurement of a small cube says which side fits.
    let small = CALIBRATION_SIDE;
    let small_model = load(what, &operands.graph(small))?;
    let small_slot = Kernel::of(&small_model, what)?.slot;
    let calibration = measure_once(what, &small_model, small_slot, counters, clock, 1)?;
    let now = clock.now_ns();
    let left_ns = deadline_ns.saturating_sub(now);
    let smallest = MATMUL_SIDES[MATMUL_SIDES.len() - 1];
    // The chosen cube gets most of the slice, the smallest the rest.
    let larger_ns = (left_ns as f64 * LARGER_CUBE_SHARE) as u64;
    let side = side_for(
        calibration.overhead_ns(1, counters.passes()),
        calibration.inference_ns,
        calibration.wall.median as u64,
        larger_ns,
        counters.passes(),
    );
    log::debug!(
        "{what}: {small}^3 took {} ns per inference ({} ns in the matmul), {} ns in all; \
         {left_ns} ns left: side {side}",
        calibration.inference_ns,
        calibration.wall.median,
        calibration.call_ns,
    );
    drop(small_model);
    let with_calibration = |(probe, aside): (MatmulProbe, Aside)| {
        let on_cpu = calibration.on_cpu.plus(aside.on_cpu);
        (probe, Aside { on_cpu, ..aside })
    };
    if side == smallest {
        return Ok(vec![with_calibration(cube(
            operands,
            side,
            threads,
            counters,
            clock,
            deadline_ns,
            max_repeats,
        )?)]);
    }
    let larger = cube(
        operands,
        side,
        threads,
        counters,
        clock,
        now.saturating_add(larger_ns),
        max_repeats,
    )?;
    let smaller = cube(
        operands,
        smallest,
        threads,
        counters,
        clock,
        deadline_ns,
        max_repeats,
    )?;
    Ok(vec![with_calibration(larger), smaller])
}

/// One cube of `side`, rounded up to fill the kernel's tiles, measured until `deadline_ns`.
fn cube(
    operands: Operands,
    mut side: usize,
    threads: usize,
    counters: &mut CounterSet,
    clock: &dyn Clock,
    deadline_ns: u64,
    max_repeats: usize,
) -> Result<(MatmulProbe, Aside), OpProbeError> {
    let what = operands.what();
    let mut loaded = load(what, &operands.graph(side))?;
    let mut kernel = Kernel::of(&loaded, what)?;
    if !kernel.full() {
        side = side.div_ceil(kernel.side()) * kernel.side();
        loaded = load(what, &operands.graph(side))?;
        kernel = Kernel::of(&loaded, what)?;
    }
    let note = (!kernel.full()).then(|| {
        format!(
            "{what}: {side}^3 does not fill the {}x{} tiles of {}: the peak is underestimated",
            kernel.tile.0, kernel.tile.1, kernel.name
        )
    });
    log::debug!(
        "{what}: {side}^3 on {} ({}x{} tiles), executed ops {}",
        kernel.name,
        kernel.tile.0,
        kernel.tile.1,
        ops_of(&loaded)
    );
    let slot = kernel.slot;
    let (wall, on_cpu) = op_wall(
        what,
        &loaded,
        slot,
        counters,
        clock,
        deadline_ns,
        max_repeats,
    )?;
    let macs = (side * side * side) as f64;
    let rate = |ns: f64| macs * 1e9 / ns.max(1.0);
    Ok((
        MatmulProbe {
            kernel: kernel.name,
            threads,
            m: side,
            k: side,
            n: side,
            // The fastest run is the highest rate: the percentiles swap sides.
            macs_per_s: Spread {
                median: rate(wall.median),
                min: rate(wall.max),
                max: rate(wall.min),
                repeats: wall.repeats,
                p10: wall.p90.map(rate),
                p25: wall.p75.map(rate),
                p75: wall.p25.map(rate),
                p90: wall.p10.map(rate),
                p10_interval: wall.p90_interval.map(|[lo, hi]| [rate(hi), rate(lo)]),
                p90_interval: wall.p10_interval.map(|[lo, hi]| [rate(hi), rate(lo)]),
            },
            operands: Some(operands.as_str().into()),
            kernel_isa: Some(kernel.isa),
            dot_product: kernel.dot_product,
        },
        Aside { note, on_cpu },
    ))
}

/// Wall time of one Relu on one element through the plan and the per-op hook, and the CPU
/// time its measurements got.
pub fn dispatch_floor(
    counters: &mut CounterSet,
    clock: &dyn Clock,
    deadline_ns: u64,
    max_repeats: usize,
) -> Result<(Spread, OnCpu), OpProbeError> {
    let what = "dispatch floor probe";
    let loaded = load(what, &graphs::tiny_op())?;
    if loaded.exec.len() != 1 {
        log::debug!("{what}: executed ops {}", ops_of(&loaded));
    }
    let slot = loaded.exec.len().checked_sub(1).ok_or(OpProbeError::NoOp {
        what,
        op: "Relu",
        ops: ops_of(&loaded),
    })?;
    op_wall(
        what,
        &loaded,
        slot,
        counters,
        clock,
        deadline_ns,
        max_repeats,
    )
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;

//! The probe: the machine's own limits, measured on the device in a few seconds before the
//! models, for the header's `machine` object (`hiddencost probe` prints them).
//!
//! Figures, in order: the peak f32 MAC rate of tract's matmul kernel on one thread and on the
//! matmul pool ([`ops`]), the same for its integer (i8 x i8 -> i32) kernel, the dispatch floor of one trivial op ([`ops`]), the cost of one read
//! of each counter group, and the sustained read, write and copy bandwidth of each cache
//! level and of DRAM ([`memory`], levels from [`caches`]). Each figure is repeated within its
//! share of the budget (`crate::budget::figures`) and recorded with its spread. A figure whose
//! value the bounds use is uncertain by more than [`SPREAD_WARN`] (`Used`: a 10th percentile
//! counted from the best whose 95% interval reaches far from it, a median with a wide
//! interquartile range),
//! one whose threads were on the CPU for less than [`CPU_SHARE_WARN`] of its wall time
//! ([`share`]), one cut short by the budget, and a part that could not run become warnings in
//! `machine.warnings` (and `log::warn!`), never a panic. The probe stops as soon
//! as every figure has its repeats: about 2.3 s of its default 3 s on the x86 VM, most of it
//! DRAM's 61 repeats.

pub mod caches;
pub mod graphs;
pub mod memory;
pub mod ops;
pub mod share;
pub mod table;
mod warnings;

use crate::budget::figures::{self as budget, Budget};
use crate::budget::{Clock, Monotonic};
use crate::counters::{CounterSet, MAX_GROUP_EVENTS};
use crate::record::{CounterReadProbe, Machine, NoiseWarning};
use ops::Operands;
use share::Stopwatch;
use std::path::Path;
use std::time::Duration;
use tract_linalg::multithread::{self, Executor};
pub use warnings::{CPU_SHARE_WARN, SPREAD_WARN};
use warnings::{Used, Warnings};

/// Most repeats of a counter read (each read figure averages [`READS_PER_SAMPLE`] reads).
pub const MAX_REPEATS: usize = 11;
/// Most repeats (recorded runs) of a matmul figure. Its peak is the best run, and a machine's
/// clock moves (a shared VM, a board that boosts): on the x86 VM, 11 runs gave a best of
/// 31.8 GMAC/s and a ResNet50 conv then ran at 40.2; 101 runs (about 50 ms there; the figure's
/// slice of the budget bounds them on a slow machine) gave 46.9, above every op of the zoo.
pub const MATMUL_MAX_REPEATS: usize = 101;
/// Most repeats of the dispatch floor (one op is cheap: more repeats, a lower best).
pub const FLOOR_MAX_REPEATS: usize = 101;
/// Most repeats of each bandwidth stream: the fewest for which the 95% interval of the 90th
/// percentile, the value the roofs use, leaves out the best repeat (ranks 50 to 60 of 61), so
/// that one lone fast repeat does not make the figure uncertain. DRAM's samples are the
/// probe's longest (one pass each): on a slow machine its slice gives it fewer.
pub const BANDWIDTH_MAX_REPEATS: usize = 61;
/// Counter reads timed together in one sample (one read is near the clock's resolution).
pub const READS_PER_SAMPLE: u32 = 64;

/// A probe that overran its budget by more than this fraction of it gets a warning (a few
/// milliseconds over, as a figure's last sample on a loaded machine gives, do not).
const OVERRUN_WARN: f64 = 0.10;

/// Shares of the budget, by figure.
const W_MATMUL: f64 = 2.0;
/// The integer matmul's share: smaller than the f32 one's, as the integer peak only bounds
/// quantized ops (and its cube shrinks to fit the slice on a machine where it is slow).
const W_MATMUL_INT8: f64 = 1.0;
const W_FLOOR: f64 = 1.0;
const W_COUNTERS: f64 = 0.5;
const W_CACHE: f64 = 1.0;
const W_DRAM: f64 = 2.0;

/// Plain options of a probe (the CLI and `bench` convert theirs into this).
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub budget: Duration,
    /// Threads of the matmul pool that is tract's default executor; with more than one, the
    /// matmul peak is measured again on it (`matmul_threads`).
    pub threads: usize,
}

/// Where the probe reads the machine's description (a seam for tests).
pub struct Sources<'a> {
    pub clock: &'a dyn Clock,
    /// Directory of CPU 0's `index*` cache entries.
    pub caches: &'a Path,
    /// Text of /proc/meminfo (empty if unreadable).
    pub meminfo: String,
}

/// Runs the probe on this machine, with the run's counter groups. Never panics: a panic in a
/// part the probe does not already guard becomes a warning of an otherwise empty record.
pub fn run(opts: &ProbeOptions, counters: &mut CounterSet) -> Machine {
    let clock = Monotonic::new();
    let sources = Sources {
        clock: &clock,
        caches: Path::new(caches::SYSFS_CPU0_CACHES),
        meminfo: std::fs::read_to_string("/proc/meminfo").unwrap_or_default(),
    };
    let probed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_with(opts, counters, &sources)
    }));
    probed.unwrap_or_else(|_| {
        let message = "the probe panicked: no machine figures".to_string();
        log::error!("{message}");
        Machine {
            elapsed_ns: clock.now_ns(),
            budget_ns: opts.budget.as_nanos().min(u64::MAX as u128) as u64,
            warnings: vec![NoiseWarning {
                kind: "probe".into(),
                message,
            }],
            ..Default::default()
        }
    })
}

/// `1 thread`, `4 threads`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// [`run`] with the clock and the machine's files given.
pub fn run_with(opts: &ProbeOptions, counters: &mut CounterSet, src: &Sources) -> Machine {
    let caches_found = caches::read_caches(src.caches);
    let (levels, dram_note) =
        caches::levels(&caches_found, caches::mem_available_bytes(&src.meminfo));
    let pool = match multithread::current_tract_executor() {
        Executor::SingleThread => None,
        pool => (opts.threads > 1).then_some(pool),
    };
    let weights = (W_MATMUL + W_MATMUL_INT8) * (1.0 + pool.is_some() as u8 as f64)
        + W_FLOOR
        + if counters.groups.is_empty() {
            0.0
        } else {
            W_COUNTERS
        }
        + levels
            .iter()
            .map(|l| if l.name == "DRAM" { W_DRAM } else { W_CACHE })
            .sum::<f64>();
    let total_ns = opts.budget.as_nanos().min(u64::MAX as u128) as u64;
    let mut b = Budget::new(src.clock, total_ns, weights);
    let mut warnings = Warnings(Vec::new());
    if let Some(note) = dram_note {
        warnings.add(note);
    }
    if opts.threads > 1 && pool.is_none() {
        warnings.add(format!(
            "no matmul pool of {} threads is running: matmul_threads and matmul_int8_threads \
             not measured",
            opts.threads
        ));
    }

    let mut matmul_on = |operands: Operands,
                         executor: Executor,
                         threads: usize,
                         b: &mut Budget,
                         w: &mut Warnings| {
        let (name, weight) = match operands {
            Operands::F32 => ("matmul", W_MATMUL),
            Operands::I8 => ("int8 matmul", W_MATMUL_INT8),
        };
        let figure = format!("{name} on {}", plural(threads, "thread"));
        let deadline = w.slice(b, weight, &figure)?;
        let measured = multithread::multithread_tract_scope(executor, || {
            let (c, clock) = (&mut *counters, src.clock);
            ops::matmul(operands, threads, c, clock, deadline, MATMUL_MAX_REPEATS)
        });
        match measured {
            Ok((mm, aside)) => {
                if let Some(note) = aside.note {
                    w.add(note);
                }
                w.check(
                    &format!("{figure}: MAC rate"),
                    &mm.macs_per_s,
                    Used::Highest,
                );
                w.check_share(&figure, aside.on_cpu, threads);
                Some(mm)
            }
            Err(e) => {
                w.add(e.to_string());
                None
            }
        }
    };
    let (w, one) = (&mut warnings, Executor::SingleThread);
    let matmul = matmul_on(Operands::F32, one.clone(), 1, &mut b, w);
    let matmul_threads =
        (pool.clone()).and_then(|p| matmul_on(Operands::F32, p, opts.threads, &mut b, w));
    let matmul_int8 = matmul_on(Operands::I8, one, 1, &mut b, w);
    let matmul_int8_threads =
        pool.and_then(|p| matmul_on(Operands::I8, p, opts.threads, &mut b, w));

    let figure = "dispatch floor";
    let dispatch_floor_ns = warnings
        .slice(&mut b, W_FLOOR, figure)
        .and_then(|deadline| {
            match ops::dispatch_floor(counters, src.clock, deadline, FLOOR_MAX_REPEATS) {
                Ok((s, on_cpu)) => {
                    warnings.check(figure, &s, Used::Lowest);
                    warnings.check_share(figure, on_cpu, 1);
                    Some(s)
                }
                Err(e) => {
                    warnings.add(e.to_string());
                    None
                }
            }
        });

    let counter_reads = match counters.groups.is_empty() {
        true => Vec::new(),
        false => match warnings.slice(&mut b, W_COUNTERS, "counter reads") {
            Some(deadline) => counter_reads(counters, src.clock, deadline, &mut warnings),
            None => Vec::new(),
        },
    };

    let mut bandwidth = Vec::new();
    for level in &levels {
        let weight = if level.name == "DRAM" {
            W_DRAM
        } else {
            W_CACHE
        };
        let figure = format!("{} bandwidth", level.name);
        let Some(deadline) = warnings.slice(&mut b, weight, &figure) else {
            continue;
        };
        let stopwatch = Stopwatch::thread();
        match memory::measure(level, src.clock, deadline, BANDWIDTH_MAX_REPEATS) {
            Ok((probe, _)) => {
                warnings.check_share(&figure, stopwatch.stop(), 1);
                warnings.check_level(
                    &figure,
                    &[
                        ("read", &probe.read_bytes_per_s),
                        ("write", &probe.write_bytes_per_s),
                        ("copy", &probe.copy_bytes_per_s),
                    ],
                );
                bandwidth.push(probe);
            }
            Err(e) => warnings.add(e.to_string()),
        }
    }

    let elapsed_ns = b.elapsed_ns();
    if elapsed_ns as f64 > total_ns as f64 * (1.0 + OVERRUN_WARN) {
        warnings.add(format!(
            "the probe took {:.3} s, {:.0}% over its budget of {:.3} s (a figure's first \
             sample is never cut, and a loaded machine stretches the last sample of a figure)",
            elapsed_ns as f64 * 1e-9,
            (elapsed_ns as f64 / total_ns as f64 - 1.0) * 100.0,
            total_ns as f64 * 1e-9
        ));
    }
    Machine {
        elapsed_ns,
        budget_ns: total_ns,
        matmul,
        matmul_threads,
        matmul_int8,
        matmul_int8_threads,
        caches: caches_found,
        bandwidth,
        dispatch_floor_ns,
        counter_reads,
        warnings: warnings.0,
    }
}

/// Time of one read of each counter group (enabled, as in a per-op pass), in ns.
fn counter_reads(
    counters: &mut CounterSet,
    clock: &dyn Clock,
    deadline_ns: u64,
    warnings: &mut Warnings,
) -> Vec<CounterReadProbe> {
    let names = counters.names();
    let groups = counters.groups.len();
    let mut out = Vec::with_capacity(groups);
    for (pass, group) in counters.groups.iter_mut().enumerate() {
        let now = clock.now_ns();
        let slice_end = now + deadline_ns.saturating_sub(now) / (groups - pass) as u64;
        let mut buf = [0u64; MAX_GROUP_EVENTS + 2];
        let mut samples = Vec::with_capacity(MAX_REPEATS);
        let stopwatch = Stopwatch::thread();
        let measured = group.enable().and_then(|()| {
            budget::repeat(clock, slice_end, MAX_REPEATS, || {
                let t0 = clock.now_ns();
                for _ in 0..READS_PER_SAMPLE {
                    group.read(&mut buf)?;
                }
                let ns = clock.now_ns().saturating_sub(t0);
                samples.push(ns as f64 / READS_PER_SAMPLE as f64);
                Ok(1)
            })
        });
        let _ = group.disable();
        let on_cpu = stopwatch.stop();
        let events: Vec<String> = group
            .events()
            .iter()
            .map(|&e| names.get(e).cloned().unwrap_or_default())
            .collect();
        match measured.map(|_| budget::spread(&samples)) {
            Ok(Some(read_ns)) => {
                let figure = format!("counter read (pass {pass})");
                warnings.check(&figure, &read_ns, Used::Median);
                warnings.check_share(&figure, on_cpu, 1);
                out.push(CounterReadProbe {
                    pass,
                    events,
                    read_ns,
                    method: Some(group.method().into()),
                });
            }
            Ok(None) => {}
            Err(e) => warnings.add(format!(
                "counter read (pass {pass}): {}; not measured",
                crate::counters::describe_errno(&e)
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::{DEFAULT_EVENTS, fake, parse_events};

    fn sources<'a>(clock: &'a dyn Clock, caches: &'a Path, meminfo: &str) -> Sources<'a> {
        Sources {
            clock,
            caches,
            meminfo: meminfo.into(),
        }
    }

    #[test]
    fn a_probe_without_sysfs_caches_assumes_them_and_warns_about_dram() {
        let clock = Monotonic::new();
        let tmp = tempfile::tempdir().unwrap();
        let mut counters = fake::open(&parse_events(DEFAULT_EVENTS).unwrap());
        // 4 MiB available: an eighth of it is less than twice the assumed L2: no DRAM figure
        let src = sources(&clock, tmp.path(), "MemAvailable: 4096 kB\n");
        let opts = ProbeOptions {
            budget: Duration::from_millis(300),
            threads: 1,
        };
        let m = run_with(&opts, &mut counters, &src);
        assert!(m.caches.is_empty());
        let levels: Vec<_> = m.bandwidth.iter().map(|b| b.level.as_str()).collect();
        assert_eq!(levels, ["L1", "L2"]);
        assert!(m.bandwidth.iter().all(|b| b.capacity_from == "assumed"));
        assert!(
            m.warnings
                .iter()
                .any(|w| w.message.contains("DRAM bandwidth not measured")),
            "{:?}",
            m.warnings
        );
        assert!(m.warnings.iter().all(|w| w.kind == "probe"));
        assert!(m.matmul.is_some() && m.dispatch_floor_ns.is_some());
        assert_eq!(m.matmul_threads, None);
        let int8 = m.matmul_int8.as_ref().expect("the integer matmul figure");
        assert_eq!(int8.operands.as_deref(), Some("i8"));
        assert_eq!(m.matmul.as_ref().unwrap().operands.as_deref(), Some("f32"));
        assert!(
            int8.kernel.contains("i32"),
            "an i32-accumulating kernel: {int8:?}"
        );
        assert_eq!(int8.dot_product.is_some(), cfg!(target_arch = "aarch64"));
        assert_eq!(m.matmul_int8_threads, None);
        // the fake counters: two groups, each read measured
        let passes: Vec<_> = m.counter_reads.iter().map(|c| c.pass).collect();
        assert_eq!(passes, [0, 1]);
        assert_eq!(m.counter_reads[1].events[0], "branch-instructions");
        assert_eq!(m.budget_ns, 300_000_000);
    }

    #[test]
    fn a_smaller_budget_gives_fewer_repeats() {
        let tmp = tempfile::tempdir().unwrap();
        let probe = |budget_ms| {
            let clock = Monotonic::new();
            let mut counters = fake::open(&parse_events("cycles").unwrap());
            let src = sources(&clock, tmp.path(), "MemAvailable: 4096 kB\n");
            let opts = ProbeOptions {
                budget: Duration::from_millis(budget_ms),
                threads: 1,
            };
            run_with(&opts, &mut counters, &src)
        };
        let repeats = |m: &Machine| {
            m.bandwidth
                .iter()
                .map(|b| b.read_bytes_per_s.repeats)
                .sum::<usize>()
        };
        // A zero budget starts no figure, and says so; a generous one lets the two cache
        // levels reach their maximum (and the probe stops when they have).
        let none = probe(0);
        assert_eq!(repeats(&none), 0);
        assert_eq!(none.matmul, None);
        let spent = none
            .warnings
            .iter()
            .filter(|w| w.message.contains("budget was spent"));
        assert_eq!(spent.count(), 6, "{:?}", none.warnings);
        let generous = probe(30_000);
        assert_eq!(repeats(&generous), 2 * BANDWIDTH_MAX_REPEATS);
        let over =
            |m: &Machine| (m.warnings.iter()).any(|w| w.message.contains("% over its budget of"));
        assert!(!over(&generous), "{:?}", generous.warnings);
        // A budget shorter than a first sample, which is never cut: far over, and said.
        let tiny = probe(1);
        assert!(tiny.elapsed_ns > 2_000_000 && over(&tiny), "{tiny:?}");
    }
}

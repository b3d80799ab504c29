//! PID 1's sweep (`hiddencost.sweep=all|FAMILY,...`): the design probes instead of the models,
//! into the same sinks, with the run's settings (runs as the most per variant, events, optimize,
//! threads, probe) and `hiddencost.sweep_budget` seconds for the whole sweep.

use super::InitConfig;
use crate::bench::Event;
use crate::sink::Sink;
use crate::sweep::{self, run::Phase, run::SweepOptions};
use std::io::Write;

/// Runs the sweep `families` names; returns whether to power off at the end.
pub(super) fn run(
    cfg: &InitConfig,
    families: &str,
    notes: &[String],
    sink: &mut Sink,
) -> Result<bool, String> {
    let selected = sweep::select(families).map_err(|e| e.to_string())?;
    let variants: Vec<sweep::Variant> = selected.into_iter().flat_map(|f| f.variants).collect();
    let opts = SweepOptions {
        bench: cfg.bench_options(Vec::new(), Default::default(), notes.to_vec())?,
        threads: cfg.threads,
        budget: cfg.sweep_budget,
        seed: 0,
    };
    super::console(&format!(
        "sweep {families}: {} variants in {} s",
        variants.len(),
        cfg.sweep_budget.as_secs_f64()
    ));
    let n = variants.len();
    // As for the models: a line per variant as it starts, and one LAVA result line as it ends.
    let done = sweep::run::run(&variants, &opts, sink, &mut |phase| match phase {
        Phase::Pilot { .. } => {}
        Phase::Measure(Event::Start { index, name }) => {
            super::console(&format!("variant {}/{n} {name}", index + 1));
        }
        Phase::Measure(Event::Done { name, result, .. }) => {
            let _ = writeln!(std::io::stderr(), "{}", super::result_line(name, result));
        }
    })
    .map_err(|e| e.to_string())?;
    super::console(&format!(
        "sweep: {} variant(s) measured at {} runs, {} failed, {} left out by the budget; records on {}",
        done.outcome.models.len(),
        done.runs,
        done.outcome.errors.len(),
        done.skipped.len(),
        sink.label()
    ));
    Ok(cfg.poweroff)
}

//! PID 1's sweep (`hiddencost.sweep=all|FAMILY,...`): the design probes instead of the models,
//! into the same sinks, with the run's settings (runs as the most per variant, events, optimize,
//! threads, probe) and `hiddencost.sweep_budget` seconds for the whole sweep.

use super::{Console, InitConfig};
use crate::sink::Sink;
use crate::sweep;

/// Runs the sweep `families` names; returns whether to power off at the end.
pub(super) fn run(
    cfg: &InitConfig,
    families: &str,
    notes: &[String],
    sink: &mut Sink,
) -> anyhow::Result<bool> {
    let selected = sweep::select(families)?;
    let variants: Vec<sweep::Variant> = selected.into_iter().flat_map(|f| f.variants).collect();
    let Some(budget) = cfg.run.sweep_budget else {
        super::console(&format!(
            "sweep {families}: sweep_budget is 0, nothing to run"
        ));
        return Ok(cfg.poweroff);
    };
    super::console(&format!(
        "sweep {families}: {} variants in {} s",
        variants.len(),
        budget.as_secs_f64()
    ));
    // As for the models: a line per variant as it starts, and one LAVA result line as it ends.
    let mut progress = Console::default();
    let done = sweep::run::run(&variants, &cfg.run, budget, notes, sink, &mut progress)?;
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

//! `hiddencost sweep`: its arguments and the command (design probes at matched MACs, or
//! `--list` of them).

use super::{
    CounterReadsArg, EventList, OptimizeArg, ScheduleArg, Seconds, parse_event_list, parse_seconds,
};
use crate::bench::{BenchOptions, Event};
use crate::counters;
use crate::sink::{Sink, Target};
use crate::summary;
use crate::sweep::{self, run::Phase, run::SweepOptions};
use anyhow::{Context, Result};
use clap::Args;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Families to run: `all`, or comma-separated names (`--list` shows them).
    #[arg(long, default_value = "all", value_name = "all|FAMILY,...")]
    pub families: String,
    /// Print the families and their variants with their MACs (by the cost module), run nothing.
    #[arg(long)]
    pub list: bool,
    /// Seconds the whole sweep may take, machine probe and pilot runs included: the runs per
    /// variant are chosen to fit, and variants that no longer fit are left out (an error
    /// record names them).
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = parse_budget)]
    pub budget: Seconds,
    /// Where records go: FILE, `-` (stdout), or serial:/dev/ttyX[@baud]. Default: a new file
    /// under results/.
    #[arg(long, value_name = "TARGET")]
    pub out: Option<String>,
    /// Most timed inferences per variant (fewer when the budget needs it, never below 5).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Untimed whole inferences before the timed ones.
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// How far tract optimizes the graphs.
    #[arg(long, value_enum, default_value = "full")]
    pub optimize: OptimizeArg,
    /// Order of the clean and per-op runs, as for `bench`.
    #[arg(long, value_enum, default_value = "interleaved")]
    pub schedule: ScheduleArg,
    /// Counters to read around each op, as for `bench`.
    #[arg(long, default_value = counters::DEFAULT_EVENTS, value_parser = parse_event_list)]
    pub events: EventList,
    /// How the counters are read at each op boundary, as for `bench`.
    #[arg(long, value_enum, default_value = "auto")]
    pub counter_reads: CounterReadsArg,
    /// Pin the sweep to this CPU.
    #[arg(long)]
    pub cpu: Option<usize>,
    /// Threads for tract's matrix products, as for `bench`.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Seed of the micro-models' weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Deterministic fake counters (for tests).
    #[arg(long, hide = true)]
    pub fake_counters: bool,
    /// Seconds the machine probe may take before the variants (part of the budget); 0 skips it.
    #[arg(long, value_name = "SECONDS", default_value = "3", value_parser = parse_seconds)]
    pub probe_budget: Seconds,
}

fn parse_budget(s: &str) -> Result<Seconds, String> {
    let max = sweep::run::MAX_BUDGET_SECONDS;
    match s.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x <= max => Ok(Seconds(Duration::from_secs_f64(x))),
        _ => Err(format!(
            "`{s}` is not a number of seconds above 0 and up to {max}"
        )),
    }
}

pub(super) fn sweep_cmd(args: SweepArgs) -> Result<i32> {
    let families = sweep::select(&args.families)?;
    if args.list {
        super::commands::say(&list(&families)?)?;
        return Ok(0);
    }
    let variants: Vec<sweep::Variant> = families.into_iter().flat_map(|f| f.variants).collect();
    let target = Target::parse(
        &args
            .out
            .unwrap_or_else(|| format!("{}-sweep.jsonl", super::commands::default_stem())),
    )?;
    let opts = SweepOptions {
        bench: BenchOptions {
            models: Vec::new(),
            metadata: Default::default(),
            input_shape: None,
            optimize: args.optimize.into(),
            warmup: args.warmup,
            runs: args.runs as usize,
            schedule: args.schedule.into(),
            events: args.events.0,
            counter_reads: args.counter_reads.into(),
            cpu: args.cpu,
            fake_counters: args.fake_counters,
            notes: Vec::new(),
            probe_budget: (!args.probe_budget.0.is_zero()).then_some(args.probe_budget.0),
        },
        threads: args.threads as usize,
        budget: args.budget.0,
        seed: args.seed,
    };
    super::commands::pin(args.cpu, args.threads)?;
    let mut sink = Sink::open(&target)?;
    log::info!("writing records to {}", sink.label());
    let bar = indicatif::ProgressBar::new(variants.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let done = sweep::run::run(&variants, &opts, &mut sink, &mut |phase| match phase {
        Phase::Pilot { index, name } => {
            bar.set_position(index as u64);
            bar.set_message(format!("pilot {name}"));
        }
        Phase::Measure(Event::Start { index, name }) => {
            bar.set_position(index as u64);
            bar.set_message(name.to_string());
        }
        Phase::Measure(Event::Done { .. }) => {}
    })
    .context("the sweep could not write its records")?;
    bar.finish_and_clear();
    if target != Target::Stdout {
        let table = summary::render(&done.outcome.models, &done.outcome.ops);
        let skipped = if done.skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; {} left out by the budget (see the error record)",
                done.skipped.len()
            )
        };
        super::commands::say(&format!(
            "{table}\nsweep: {} variant(s) at {} timed runs each (planned {:.1} s of {:.1} s \
             left after the probe and pilots){skipped}\nrecords: {}\n",
            done.outcome.models.len(),
            done.runs,
            done.planned.as_secs_f64(),
            done.available.as_secs_f64(),
            sink.label()
        ))?;
    }
    Ok(if done.outcome.errors.is_empty() { 0 } else { 1 })
}

/// The families and variants with MACs by the cost module on the built graph, and each
/// variant's difference from its baseline.
fn list(families: &[sweep::Family]) -> Result<String> {
    let mut out = String::new();
    for f in families {
        out += &format!("{} ({}): {}\n", f.name, f.kind.as_str(), f.question);
        out += &format!(
            "  {:<22} {:<46} {:<24} {:>12} {:>8}\n",
            "variant", "choice", "params", "MACs", "vs base"
        );
        let mut base: Option<u64> = None;
        for v in &f.variants {
            let (src, _) = sweep::source(v, 0)?;
            let macs = crate::model::load_static(&src, None)?.totals.macs;
            let delta = match (v.baseline, base) {
                (true, _) => {
                    base = Some(macs);
                    "base".to_string()
                }
                (false, Some(b)) if b > 0 => {
                    format!("{:+.2}%", (macs as f64 / b as f64 - 1.0) * 100.0)
                }
                _ => "-".to_string(),
            };
            let name = if v.baseline {
                format!("{} *", v.name)
            } else {
                v.name.clone()
            };
            out += &format!(
                "  {:<22} {:<46} {:<24} {:>12} {:>8}\n",
                name,
                v.choice,
                v.params(),
                macs,
                delta
            );
        }
        out += "\n";
    }
    out += "* baseline. MACs are the cost module's on the built graph (what the records carry); \
            every design variant is within 2% of its baseline.\n";
    Ok(out)
}

//! `hiddencost sweep`: its arguments and the command (design probes at matched MACs, or
//! `--list` of them).

use super::common::{Bar, default_stem, pin, say};
use super::{RunArgs, Seconds, defaults, parse_out, parse_positive_sweep_budget};
use crate::settings::Settings;
use crate::sink::{Sink, Target};
use crate::summary;
use crate::sweep;
use anyhow::{Context, Result};
use clap::Args;

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
    #[arg(long, visible_alias = "sweep-budget", value_name = "SECONDS", default_value_t = Seconds::from(defaults().sweep_budget), value_parser = parse_positive_sweep_budget)]
    pub budget: Seconds,
    /// Where records go: FILE, `-` (stdout), or `serial:/dev/ttyX[@baud]`. Default: a new file
    /// under results/.
    #[arg(long, value_name = "TARGET", value_parser = parse_out)]
    pub out: Option<String>,
    /// Seed of the micro-models' weights.
    #[arg(long, default_value_t = defaults().seed)]
    pub seed: u64,
    #[command(flatten)]
    pub run: RunArgs,
}

pub(super) fn sweep_cmd(args: SweepArgs) -> Result<i32> {
    let families = sweep::select(&args.families)?;
    if args.list {
        say(&list(&families)?)?;
        return Ok(0);
    }
    let variants: Vec<sweep::Variant> = families.into_iter().flat_map(|f| f.variants).collect();
    let target = Target::parse(
        &args
            .out
            .unwrap_or_else(|| format!("{}-sweep.jsonl", default_stem())),
    )?;
    let mut settings = Settings::default();
    args.run.apply(&mut settings);
    settings.seed = args.seed;
    pin(settings.cpu, settings.threads)?;
    let mut sink = Sink::open(&target)?;
    log::info!("writing records to {}", sink.label());
    let mut bar = Bar::new();
    let done = sweep::run::run(
        &variants,
        &settings,
        args.budget.0,
        &[],
        &mut sink,
        &mut bar,
    )
    .context("the sweep could not write its records")?;
    bar.finish();
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
        say(&format!(
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

//! What each command does once its arguments are parsed: plain option structs in, an exit
//! code out; errors get their context here, at the edge.

use super::common::{Bar, default_stem, pin, say};
use super::{BenchArgs, Cli, Command, ProbeArgs, ZooCommand};
#[cfg(feature = "analyze")]
use super::{PredictArgs, StudyArgs, ValidateArgs};
#[cfg(feature = "analyze")]
use crate::analyze::{
    self,
    compute::kernels::{KernelCall, rows},
};
use crate::probe;
use crate::session::{self, Session};
use crate::settings::Settings;
use crate::sink::{Sink, Target};
#[cfg(feature = "analyze")]
use crate::study;
use crate::summary;
#[cfg(feature = "analyze")]
use crate::zoo;
use crate::zoo::ZooOptions;
use anyhow::Result;
#[cfg(feature = "analyze")]
use anyhow::{Context, bail};
#[cfg(feature = "analyze")]
use std::path::PathBuf;

/// Runs the parsed command; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Bench(args) => bench_cmd(args),
        Command::Cost(args) => super::cost::cost_cmd(args),
        Command::Zoo(ZooCommand::List { json }) => super::zoo::zoo_list(json),
        Command::Zoo(ZooCommand::Export {
            dir,
            names,
            zoo,
            int8,
        }) => {
            let opts = ZooOptions {
                seed: zoo.seed,
                fold_bn: zoo.fold_bn,
            };
            super::zoo::zoo_export(&dir, &names, opts, int8)
        }
        #[cfg(feature = "analyze")]
        Command::Analyze(args) => {
            let export = args.export.map(|e| match e {
                super::ExportArg::Parquet => analyze::ExportFormat::Parquet,
            });
            analyze_cmd(args.logs, args.out, args.accuracy, export)
        }
        #[cfg(feature = "analyze")]
        Command::Predict(args) => predict_cmd(args),
        #[cfg(feature = "analyze")]
        Command::Validate(args) => validate_cmd(args),
        #[cfg(feature = "analyze")]
        Command::Study(args) => study_cmd(args, cli.quiet, Say::Summary),
        #[cfg(feature = "analyze")]
        Command::Advise(args) => study_cmd(args, cli.quiet, Say::Advice),
        Command::Probe(args) => probe_cmd(args),
        Command::Sweep(args) => super::sweep::sweep_cmd(args),
        #[cfg(feature = "analyze")]
        Command::LavaRecords { log } => lava_records_cmd(&log),
    }
}

/// The records of a LAVA job log on stdout; exit 2 when some entries could not be read (the
/// readable ones are printed all the same).
#[cfg(feature = "analyze")]
fn lava_records_cmd(log: &std::path::Path) -> Result<i32> {
    use crate::analyze::load::{lava, read_file};
    use std::io::Write;
    let bytes = read_file(log)?;
    if lava::is_block_style_lava_log(&bytes) {
        anyhow::bail!("{}: {}", log.display(), lava::BLOCK_STYLE_HINT);
    }
    if !lava::is_lava_log(&bytes) {
        anyhow::bail!(
            "{}: not a LAVA job log (none of its first lines is an entry `- {{\"dt\": ..., \"lvl\": ...}}`); \
             a JSON-lines log needs no extraction",
            log.display()
        );
    }
    let x = lava::extract(&bytes);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for record in x.records() {
        out.write_all(record.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    for issue in &x.issues {
        eprintln!("{}:{}: {}; skipped", log.display(), issue.line, issue.error);
    }
    for line in &x.too_long {
        eprintln!(
            "{}:{line}: LAVA replaced this serial line by `{}` (entry of 100,000 characters or \
             more): lost in LAVA",
            log.display(),
            lava::TOO_LONG_MARK
        );
    }
    Ok(if x.issues.is_empty() && x.too_long.is_empty() {
        0
    } else {
        2
    })
}

fn bench_cmd(args: BenchArgs) -> Result<i32> {
    let target = Target::parse(
        &args
            .out
            .unwrap_or_else(|| format!("{}.jsonl", default_stem())),
    )?;
    let (outcome, label) = measure(&args.measure.settings(), &target)?;
    if target != Target::Stdout {
        let table = summary::render(&outcome.models, &outcome.ops);
        say(&format!("{table}\nrecords: {label}\n"))?;
    }
    Ok(if outcome.errors.is_empty() { 0 } else { 1 })
}

#[cfg(feature = "analyze")]
fn study_cmd(args: StudyArgs, quiet: bool, said: Say) -> Result<i32> {
    let dir = args.out.unwrap_or_else(|| PathBuf::from(default_stem()));
    let log = dir.join("bench.jsonl");
    // Appended to, an earlier study's log would be analysed with this one's as one study.
    if log.exists() {
        bail!(
            "{} already holds a study's log; give --out a new directory (or move that one away)",
            dir.display()
        );
    }
    let mut settings = args.measure.settings();
    settings.sweep_budget = (!args.sweep_budget.0.is_zero()).then_some(args.sweep_budget.0);
    settings.eager = !args.no_eager;
    settings.rewrites = !args.no_rewrites;
    settings.int8 = args.int8;
    if !quiet {
        eprintln!("{}", study_plan(&settings, &dir));
    }
    let jobs = session::of_settings(&settings);
    pin(settings.cpu, settings.threads)?;
    let mut sink = Sink::open(&Target::File(log.clone()))?;
    log::info!("writing records to {}", sink.label());
    let mut bar = Bar::new();
    let variants = study::variants();
    let done = study::run(&settings, jobs, &variants, &[], &mut sink, &mut bar)?;
    bar.finish();
    say(&summary::render(&done.models.models, &done.models.ops))?;
    if let Some(sweep) = &done.sweep {
        say(&format!(
            "design probes: {} measured at {} timed runs each, {} failed, {} left out by the \
             sweep budget\n",
            sweep.outcome.models.len(),
            sweep.runs,
            sweep.outcome.errors.len(),
            sweep.skipped.len()
        ))?;
    }
    if let Some(rewrites) = &done.rewrites {
        say(&format!(
            "rewrites: {} measured (each model's as-is run included), {} failed\n",
            rewrites.models.len(),
            rewrites.errors.len()
        ))?;
    }
    if let Some(eager) = &done.eager {
        say(&format!(
            "eager (--optimize none): {} model(s) measured, {} failed\n",
            eager.models.len(),
            eager.errors.len()
        ))?;
    }
    if done.models.models.is_empty() {
        bail!(
            "no model could be measured, so there is nothing to analyze (see {})",
            log.display()
        );
    }
    let report = dir.join("report");
    let summary = analyze::analyze_with(
        &analyze::AnalyzeOptions {
            logs: vec![log],
            out_dir: report.clone(),
            accuracy_csv: args.accuracy,
            memory_available_bytes: crate::context::memory_available_bytes(),
        },
        None,
    )?;
    let text = match said {
        Say::Summary => summary.to_string(),
        Say::Advice if summary.advice.is_empty() => {
            "Nothing to change was found: no model has a place any rewrite changes (an \
             activation other than ReLU, average pooling, a BatchNorm after a conv, a channel \
             shuffle), or none could be measured.\n"
                .to_string()
        }
        Say::Advice => summary.advice.clone(),
    };
    say(&format!(
        "{text}\nreport: {}\n",
        report.join("report.md").display()
    ))?;
    Ok(if done.failed() { 1 } else { 0 })
}

/// What `study` prints once analysed: the summary's tables, or (`advise`) what to change.
#[cfg(feature = "analyze")]
#[derive(Debug, Clone, Copy)]
enum Say {
    Summary,
    Advice,
}

/// What `study` is about to do.
#[cfg(feature = "analyze")]
fn study_plan(s: &Settings, dir: &std::path::Path) -> String {
    let n = if s.models.is_empty() {
        zoo::all().len()
    } else {
        s.models.len()
    };
    let mut steps = Vec::new();
    if let Some(budget) = s.probe_budget {
        steps.push(format!(
            "probe this machine (up to {} s)",
            budget.as_secs_f64()
        ));
    }
    if let Some(budget) = s.sweep_budget {
        steps.push(format!(
            "run the design probes (up to {} s)",
            budget.as_secs_f64()
        ));
    }
    steps.push(format!(
        "benchmark {n} model(s) ({} warm-up and {} timed runs, clean and per-op, {})",
        s.warmup,
        s.runs,
        s.schedule.as_str()
    ));
    if s.rewrites {
        steps.push("benchmark each model's rewrites, each beside the model as it is".into());
    }
    if s.int8 {
        // What it adds: one measurement per model in its rewrite group, or three (the as-is
        // runs around it) when there is no group otherwise.
        let runs = if s.rewrites { n } else { 3 * n };
        steps.push(format!(
            "benchmark each model's int8 form (QDQ) beside it: {runs} more model measurement(s), \
             each longer than its model's (tract loads a QDQ graph slower, and may run it \
             slower)"
        ));
    }
    if s.eager && s.optimize != crate::model::Optimize::None {
        steps.push("benchmark them again eager (--optimize none)".into());
    }
    steps.push(format!(
        "write the report to {}",
        dir.join("report").display()
    ));
    format!("study: {}", steps.join(", then "))
}

/// Benchmarks what `settings` names into `target`, with a progress bar on a terminal.
fn measure(settings: &Settings, target: &Target) -> Result<(session::Outcome, String)> {
    let jobs = session::of_settings(settings);
    pin(settings.cpu, settings.threads)?;
    let mut sink = Sink::open(target)?;
    log::info!("writing records to {}", sink.label());
    let mut bar = Bar::new();
    let outcome = session::bench(settings, jobs, &[], &mut sink, &mut bar)?;
    bar.finish();
    Ok((outcome, sink.label().to_string()))
}

fn probe_cmd(args: ProbeArgs) -> Result<i32> {
    let json = args.json;
    let settings = args.settings();
    pin(settings.cpu, settings.threads)?;
    let budget = settings.probe_budget.unwrap_or_default();
    let machine = Session::open(&settings).probe(budget, &mut session::Quiet);
    if json {
        say(&format!("{}\n", machine.to_json()))?;
    } else {
        say(&probe::table::render(&machine))?;
    }
    let measured_nothing = machine.matmul.is_none()
        && machine.bandwidth.is_empty()
        && machine.dispatch_floor_ns.is_none();
    Ok(if measured_nothing { 1 } else { 0 })
}

#[cfg(feature = "analyze")]
fn analyze_cmd(
    logs: Vec<PathBuf>,
    out_dir: PathBuf,
    accuracy_csv: Option<PathBuf>,
    export: Option<analyze::ExportFormat>,
) -> Result<i32> {
    let opts = analyze::AnalyzeOptions {
        logs,
        out_dir: out_dir.clone(),
        accuracy_csv,
        memory_available_bytes: crate::context::memory_available_bytes(),
    };
    let summary = analyze::analyze_with(&opts, export)?;
    say(&format!(
        "{summary}\nreport: {}\n",
        out_dir.join("report.md").display()
    ))?;
    Ok(0)
}

#[cfg(feature = "analyze")]
fn predict_cmd(args: PredictArgs) -> Result<i32> {
    let settings = args.model.settings();
    let input_shape = settings.input_shape.as_deref();
    let jobs = session::of_settings(&settings);
    let [job] = jobs.as_slice() else {
        bail!("predict takes exactly one model (a file or zoo:NAME)");
    };
    if let Err(e) = &job.metadata {
        bail!("{e}");
    }
    let src = &job.source;
    // The kernel model needs the executed kernels: tract's optimized plan (as `bench` runs
    // it), costed without running. If tract cannot plan the model, the node model still can.
    let (name, nodes, kernels) =
        match crate::model::load(src, input_shape, crate::model::Optimize::Full) {
            Ok(loaded) => {
                let kernels: Vec<KernelCall> = loaded
                    .exec
                    .iter()
                    .map(|e| KernelCall {
                        op: e.op.clone(),
                        category: e.category.to_string(),
                        cost: e.cost,
                        output_rows: e.output_shapes.first().map_or(1, |s| rows(s)),
                    })
                    .collect();
                let nodes = session::node_records(&loaded.info.name, &loaded.info.sources);
                (loaded.info.name, nodes, Some(kernels))
            }
            Err(e) => {
                log::warn!("no executed kernels, so no kernel-model prediction: {e}");
                let st = crate::model::load_static(src, input_shape)?;
                let nodes = session::node_records(&st.name, &st.sources);
                (st.name, nodes, None)
            }
        };
    let prediction = analyze::predict_kernels(
        &nodes,
        kernels.as_deref(),
        &args.fit,
        args.device.as_deref(),
    )?;
    say(&format!("{name}: {prediction}\n"))?;
    Ok(0)
}

#[cfg(feature = "analyze")]
fn validate_cmd(args: ValidateArgs) -> Result<i32> {
    let out = analyze::validate(
        &args.fit,
        &args.logs,
        args.device.as_deref(),
        crate::context::memory_available_bytes(),
    )?;
    for note in &out.notes {
        log::warn!("{note}");
    }
    // Written (or refused) before anything is printed: a refused --out prints only why.
    let written = match &args.out {
        Some(dir) => {
            let inputs: Vec<&std::path::Path> = args
                .logs
                .iter()
                .chain([&args.fit])
                .map(PathBuf::as_path)
                .collect();
            analyze::predict::write_validation(&out, dir, &inputs)
                .with_context(|| format!("validate --out {}", dir.display()))?
        }
        None => Vec::new(),
    };
    say(&out.markdown)?;
    if let Some(md) = written.first() {
        say(&format!("written: {}\n", md.display()))?;
    }
    Ok(0)
}

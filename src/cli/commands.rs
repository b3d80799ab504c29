//! What each command does once its arguments are parsed: plain option structs in, an exit
//! code out; errors get their context here, at the edge.

use super::{
    BenchArgs, Cli, Command, CostArgs, MeasureArgs, PredictArgs, ProbeArgs, StudyArgs,
    ValidateArgs, ZooCommand,
};
use crate::analyze;
use crate::analyze::compute::kernels::{KernelCall, rows};
use crate::bench::{self, BenchOptions};
use crate::probe::{self, ProbeOptions};
use crate::record::{ModelCostRecord, Record};
use crate::sink::{Sink, Target};
use crate::summary;
use crate::zoo::{self, ZooOptions};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

/// `results/<UTC time>-<host>`: a new name per run, for a log file or a study directory.
pub(super) fn default_stem() -> String {
    let stamp = crate::context::rfc3339(std::time::SystemTime::now()).replace(':', "-");
    let host = crate::context::read()
        .hostname
        .unwrap_or_else(|| "host".into());
    format!("results/{stamp}-{host}")
}

/// Runs the parsed command; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Bench(args) => bench_cmd(args),
        Command::Cost(args) => cost_cmd(args),
        Command::Zoo(ZooCommand::List { json }) => zoo_list(json),
        Command::Zoo(ZooCommand::Export { dir, names, zoo }) => {
            zoo_export(&dir, &names, zoo.into())
        }
        Command::Analyze(args) => {
            let export = args.export.map(|e| match e {
                super::ExportArg::Parquet => analyze::ExportFormat::Parquet,
            });
            analyze_cmd(args.logs, args.out, args.accuracy, export)
        }
        Command::Predict(args) => predict_cmd(args),
        Command::Validate(args) => validate_cmd(args),
        Command::Study(args) => study_cmd(args, cli.quiet),
        Command::Probe(args) => probe_cmd(args),
        Command::Sweep(args) => super::sweep::sweep_cmd(args),
        Command::LavaRecords { log } => lava_records_cmd(&log),
    }
}

/// The records of a LAVA job log on stdout; exit 2 when some entries could not be read (the
/// readable ones are printed all the same).
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
    let (outcome, label) = measure(args.measure, &target)?;
    if target != Target::Stdout {
        let table = summary::render(&outcome.models, &outcome.ops);
        say(&format!("{table}\nrecords: {label}\n"))?;
    }
    Ok(if outcome.errors.is_empty() { 0 } else { 1 })
}

fn study_cmd(args: StudyArgs, quiet: bool) -> Result<i32> {
    let dir = args.out.unwrap_or_else(|| PathBuf::from(default_stem()));
    let log = dir.join("bench.jsonl");
    if !quiet {
        eprintln!("{}", study_plan(&args.measure, &dir));
    }
    let (outcome, _) = measure(args.measure, &Target::File(log.clone()))?;
    say(&summary::render(&outcome.models, &outcome.ops))?;
    if outcome.models.is_empty() {
        bail!(
            "no model could be measured, so there is nothing to analyze (see {})",
            log.display()
        );
    }
    analyze_cmd(vec![log], dir.join("report"), args.accuracy, None)?;
    Ok(if outcome.errors.is_empty() { 0 } else { 1 })
}

/// What `study` is about to do, and how long the default study took where it was measured.
fn study_plan(m: &MeasureArgs, dir: &std::path::Path) -> String {
    let n = if m.model.models.is_empty() {
        zoo::all().len()
    } else {
        m.model.models.len()
    };
    let probe = if m.probe_budget.0.is_zero() {
        String::new()
    } else {
        format!(
            "probe this machine (up to {} s), then ",
            m.probe_budget.0.as_secs_f64()
        )
    };
    let measured = if m.model.models.is_empty() && m.warmup == 5 && m.runs == 20 {
        "; the whole zoo took 40 s on a 2-core x86-64 VM"
    } else {
        ""
    };
    format!(
        "study: {probe}benchmark {n} model(s) ({} warm-up and {} timed runs, clean and per-op, \
         {}{measured}), then write the report to {}",
        m.warmup,
        m.runs,
        crate::runner::Schedule::from(m.schedule).as_str(),
        dir.join("report").display()
    )
}

/// Benchmarks what `args` names into `target`, with a progress bar on a terminal.
fn measure(args: MeasureArgs, target: &Target) -> Result<(bench::Outcome, String)> {
    let (models, metadata) = bench::models_and_metadata(&args.model.models, &args.model.zoo.into());
    let opts = BenchOptions {
        models,
        metadata,
        input_shape: args.model.input_shape.clone().map(|s| s.0),
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
    };
    pin(args.cpu, args.threads)?;
    let mut sink = Sink::open(target)?;
    log::info!("writing records to {}", sink.label());
    let bar = indicatif::ProgressBar::new(opts.models.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut progress = |event: bench::Event| {
        if let bench::Event::Start { index, name } = event {
            bar.set_position(index as u64);
            bar.set_message(name.to_string());
        }
    };
    let outcome = bench::run_threaded(&opts, args.threads as usize, &mut sink, &mut progress)?;
    bar.finish_and_clear();
    Ok((outcome, sink.label().to_string()))
}

/// Pins the process to `cpu` (`--cpu`), warning that a matmul pool then shares it.
pub(super) fn pin(cpu: Option<usize>, threads: u64) -> Result<()> {
    let Some(cpu) = cpu else {
        return Ok(());
    };
    if threads > 1 {
        log::warn!(
            "--cpu {cpu} also pins the {threads} matmul threads to CPU {cpu}: they take turns"
        );
    }
    if cpu >= rustix::thread::CpuSet::MAX_CPU {
        bail!(
            "cannot pin to CPU {cpu} (--cpu): CPU numbers go up to {}",
            rustix::thread::CpuSet::MAX_CPU - 1
        );
    }
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set)
        .with_context(|| format!("cannot pin to CPU {cpu} (--cpu)"))
}

fn probe_cmd(args: ProbeArgs) -> Result<i32> {
    pin(args.cpu, args.threads)?;
    let threads = args.threads as usize;
    let mut counters = bench::open_counters(
        &args.events.0,
        args.fake_counters,
        threads,
        args.counter_reads.into(),
    );
    let mut running = 1;
    if threads > 1 {
        match bench::matmul_pool(threads) {
            Ok(()) => running = threads,
            Err(message) => log::error!("{message}"),
        }
    }
    let opts = ProbeOptions {
        budget: args.budget.0,
        threads: running,
    };
    let machine = probe::run(&opts, &mut counters);
    tract_linalg::multithread::set_default_executor(
        tract_linalg::multithread::Executor::SingleThread,
    );
    if args.json {
        say(&format!("{}\n", machine.to_json()))?;
    } else {
        say(&probe::table::render(&machine))?;
    }
    let measured_nothing = machine.matmul.is_none()
        && machine.bandwidth.is_empty()
        && machine.dispatch_floor_ns.is_none();
    Ok(if measured_nothing { 1 } else { 0 })
}

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
    };
    let summary = analyze::analyze_with(&opts, export)?;
    say(&format!(
        "{summary}\nreport: {}\n",
        out_dir.join("report.md").display()
    ))?;
    Ok(0)
}

fn predict_cmd(args: PredictArgs) -> Result<i32> {
    let input_shape = args.model.input_shape.as_ref().map(|s| s.0.as_slice());
    let resolved = bench::resolve(&args.model.models, &args.model.zoo.into());
    if resolved.len() != 1 {
        bail!("predict takes exactly one model (a file or zoo:NAME)");
    }
    let (src, meta) = &resolved[0];
    meta.clone().map_err(anyhow::Error::msg)?;
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
                let nodes = bench::node_records(&loaded.info.name, &loaded.info.sources);
                (loaded.info.name, nodes, Some(kernels))
            }
            Err(e) => {
                log::warn!("no executed kernels, so no kernel-model prediction: {e}");
                let st = crate::model::load_static(src, input_shape)?;
                let nodes = bench::node_records(&st.name, &st.sources);
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

fn validate_cmd(args: ValidateArgs) -> Result<i32> {
    let out = analyze::validate(&args.fit, &args.logs, args.device.as_deref())?;
    for note in &out.notes {
        log::warn!("{note}");
    }
    say(&out.markdown)?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, text) in [
            ("validation.md", &out.markdown),
            ("validation.csv", &out.csv),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        say(&format!(
            "written: {}\n",
            dir.join("validation.md").display()
        ))?;
    }
    Ok(0)
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
pub(super) fn say(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

fn cost_cmd(args: CostArgs) -> Result<i32> {
    let mut failed = 0;
    let mut sink = Sink::from_writer(Box::new(std::io::stdout()), "stdout");
    let input_shape = args.model.input_shape.as_ref().map(|s| s.0.as_slice());
    for (src, meta) in bench::resolve(&args.model.models, &args.model.zoo.into()) {
        let loaded = meta
            .and_then(|_| crate::model::load_static(&src, input_shape).map_err(|e| e.to_string()));
        let st = match loaded {
            Ok(st) => st,
            Err(message) => {
                log::error!("{message}");
                failed += 1;
                continue;
            }
        };
        let nodes = bench::node_records(&st.name, &st.sources);
        if args.json {
            for n in nodes {
                sink.write(&Record::Node(n))?;
            }
            sink.write(&Record::ModelCost(model_cost(&st)))?;
        } else {
            let t = st.totals;
            say(&format!(
                "{} ({}), input {:?}\n{}total: {} params, {} MACs, {} thop MACs, {} FLOPs, \
                 {} bytes read, {} bytes written\n\n",
                st.name,
                st.source,
                st.input_shape,
                summary::render_cost(&nodes),
                t.params,
                t.macs,
                t.thop_macs,
                t.flops,
                t.bytes_read,
                t.bytes_written
            ))?;
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn model_cost(st: &crate::model::StaticModel) -> ModelCostRecord {
    ModelCostRecord {
        model: st.name.clone(),
        source: st.source.clone(),
        input_shape: st.input_shape.clone(),
        output_shapes: st.output_shapes.clone(),
        source_nodes: st.sources.len(),
        cost: st.totals,
    }
}

fn zoo_list(json: bool) -> Result<i32> {
    let mut sink = Sink::from_writer(Box::new(std::io::stdout()), "stdout");
    let mut table = format!(
        "{:<14} {:>11} {:>11} {:>14} {:>14} {:>14} {:>8} {:>8}\n",
        "name", "params", "PyTorch", "MACs", "thop MACs", "PyTorch thop", "top-1 %", "top-5 %"
    );
    for info in zoo::all() {
        let (src, meta) = bench::zoo_source(info.name, &ZooOptions::default())?;
        let st = crate::model::load_static(&src, None)?;
        if json {
            sink.write(&Record::ModelCost(model_cost(&st)))?;
            continue;
        }
        let u = |k: &str| meta.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        table += &format!(
            "{:<14} {:>11} {:>11} {:>14} {:>14} {:>14} {:>8.2} {:>8.2}\n",
            info.name,
            st.totals.params,
            u("pytorch_params"),
            st.totals.macs,
            st.totals.thop_macs,
            u("pytorch_thop_macs"),
            info.top1_error,
            info.top5_error
        );
    }
    if !json {
        table += "\nparams, MACs and thop MACs are computed from the ONNX graph; the PyTorch \
                  columns are those of the reference modules (thop does not see functional \
                  pooling). Errors: CIFAR-100 test set, as published by pytorch-cifar100.\n";
        say(&table)?;
    }
    Ok(0)
}

fn zoo_export(dir: &std::path::Path, names: &[String], opts: ZooOptions) -> Result<i32> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let names: Vec<&str> = if names.is_empty() {
        zoo::NAMES.to_vec()
    } else {
        names
            .iter()
            .map(|n| n.strip_prefix("zoo:").unwrap_or(n))
            .collect()
    };
    let mut written = String::new();
    for name in names {
        let proto = zoo::build(name, &opts)?;
        let path = dir.join(format!("{}.onnx", name.to_ascii_lowercase()));
        std::fs::write(&path, zoo::to_bytes(&proto))
            .with_context(|| format!("cannot write {}", path.display()))?;
        written += &format!("{}\n", path.display());
    }
    say(&written)?;
    Ok(0)
}

//! One model measured into records: its node records, the clean and per-op runs (the
//! runner), its op records and its model record with the noise warnings, each written to the
//! sink as soon as it exists. tract never takes the run down: a panic while loading or running
//! a model becomes that model's error.

use super::{Job, JobError, Outcome, Run};
use crate::context;
use crate::counters::CounterSet;
use crate::model::{self, ModelError};
use crate::noise;
use crate::record::*;
use crate::runner::{self, RunError};
use crate::settings::Settings;
use crate::sink::{Sink, SinkError};
use crate::stats;
use std::time::Instant;

/// Why a model could not be measured: the message of its error record.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error(transparent)]
    Job(#[from] JobError),
    #[error(transparent)]
    Load(#[from] ModelError),
    /// A panic inside tract, caught (a hostile model must not take the run down).
    #[error("{model}: tract panicked while {doing} it")]
    Panicked { model: String, doing: &'static str },
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Measures `job` into `sink` and `outcome`. The outer `Result` is the sink's, the inner one
/// the model's (its error record is the caller's to write).
pub(super) fn model(
    job: &Job,
    run: Run,
    settings: &Settings,
    counters: &mut CounterSet,
    sink: &mut Sink,
    outcome: &mut Outcome,
) -> Result<Result<(), MeasureError>, SinkError> {
    let src = &job.source;
    let cfg = run.config;
    let metadata = match &job.metadata {
        Err(e) => return Ok(Err(e.clone().into())),
        Ok(meta) => meta.clone(),
    };
    let peak_reset = context::reset_peak_rss();
    let t_load = Instant::now();
    // tract must never take the run down: a panic on a hostile model becomes an error record.
    let loaded = std::panic::catch_unwind(|| {
        model::load(src, settings.input_shape.as_deref(), run.optimize)
    });
    let loaded = match loaded {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return Ok(Err(e.into())),
        Err(_) => {
            return Ok(Err(MeasureError::Panicked {
                model: src.label(),
                doing: "loading",
            }));
        }
    };
    let load_ns = t_load.elapsed().as_nanos() as u64;
    for node in super::node_records(&loaded.info.name, &loaded.info.sources) {
        sink.write(&Record::Node(node))?;
    }
    log::info!(
        "{}: {} source nodes, {} executed nodes, {} MACs",
        loaded.info.name,
        loaded.info.sources.len(),
        loaded.exec.len(),
        loaded.info.totals.macs
    );
    let cpufreq_start = context::read().cpufreq;
    let thermal_start = context::thermal();
    let measured = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runner::measure(&loaded, counters, cfg)
    }));
    let mut m = match measured {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return Ok(Err(e.into())),
        Err(_) => {
            return Ok(Err(MeasureError::Panicked {
                model: src.label(),
                doing: "running",
            }));
        }
    };
    for op in &m.ops {
        sink.write(&Record::Op(op.clone()))?;
    }
    let sum_op_wall_median_ns = m.ops.iter().map(|o| o.wall_ns.median).sum();
    let paired = runner::paired(&m, cfg.schedule);
    let clean_in_order = m.clean_ns.clone();
    m.profiled_ns.sort_unstable();
    m.unattributed_ns.sort_unstable();
    m.counter_read_ns.sort_unstable();
    let latency_ns = stats::latency(&mut m.clean_ns);
    let thermal_end = context::thermal();
    let warnings = noise::check(&noise::Observed {
        latency: &latency_ns,
        clean_ns: &clean_in_order,
        profiled_over_clean: paired.as_ref().map(|p| p.profiled_over_clean.median),
        cpu_share: cpu_share(&m, settings.fake_counters),
        cpufreq: &cpufreq_start,
        cpu: settings.cpu,
        thermal_start: &thermal_start,
        thermal_end: &thermal_end,
    });
    // tract's optimize-level fallback (model::load) first.
    let fallback = loaded.fallback.iter().map(|message| NoiseWarning {
        kind: "optimize".into(),
        message: message.clone(),
    });
    let warnings: Vec<NoiseWarning> = fallback.chain(warnings).collect();
    for w in &warnings {
        log::warn!("{}: {}", loaded.info.name, w.message);
    }
    let record = ModelRecord {
        model: loaded.info.name.clone(),
        source: loaded.info.source.clone(),
        input_shape: loaded.info.input_shape.clone(),
        output_shapes: loaded.info.output_shapes.clone(),
        optimize: loaded.optimize.as_str().into(),
        source_nodes: loaded.info.sources.len(),
        executed_nodes: loaded.exec.len(),
        cost: loaded.info.totals,
        latency_ns,
        runs: cfg.runs,
        warmup: cfg.warmup,
        sum_op_wall_median_ns,
        profiled_latency_median_ns: stats::percentile(&m.profiled_ns, 50.0),
        unattributed_median_ns: Some(stats::percentile(&m.unattributed_ns, 50.0)),
        counter_read_median_ns: Some(stats::percentile(&m.counter_read_ns, 50.0)),
        counter_totals: std::mem::take(&mut m.run_totals),
        paired,
        warnings,
        peak_rss_bytes: context::peak_rss_bytes(),
        load_ns,
        thermal_end,
        metadata,
    };
    if !peak_reset {
        log::debug!("peak RSS could not be reset: it is the process peak so far");
    }
    sink.write(&Record::Model(record.clone()))?;
    outcome.ops.extend(m.ops);
    outcome.models.push(record);
    Ok(Ok(()))
}

/// Median task-clock of a per-op run over its median end-to-end time (`profiled_ns` sorted):
/// the share of the runs the process was on the CPU; `None` without task-clock, or with fake
/// counters (they count no time).
fn cpu_share(m: &runner::Measurement, fake: bool) -> Option<f64> {
    if fake {
        return None;
    }
    let task_ns = m.run_totals.get("task-clock").copied().flatten()?;
    let wall_ns = stats::percentile(&m.profiled_ns, 50.0);
    (wall_ns > 0).then(|| task_ns as f64 / wall_ns as f64)
}

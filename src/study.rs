//! The main job's measurement, in one session and one log: the machine probe, the design
//! probes (the sweep) within their budget, the models at the settings' optimize level, each
//! model's rewrites (`rewrite`: what a design change saves, measured), then the same models
//! eager (`--optimize none`: each ONNX node on its own, as the paper's PyTorch ran them). One
//! analysis of that log answers RQ1-RQ4, says what tract's graph optimizations removed and what
//! each change saves. `study`, `advise` and the card's default run measure through it.

use crate::budget::Monotonic;
use crate::model::Optimize;
use crate::session::{AllJobs, Job, Outcome, Pass, Progress, Session, rewrite_jobs};
use crate::settings::Settings;
use crate::sink::{Sink, SinkError};
use crate::sweep::{
    self, Variant,
    run::{SweepOutcome, SweepPlan},
};

/// What a study measured.
#[derive(Debug, Default)]
pub struct StudyOutcome {
    /// The design probes; `None` without a sweep budget.
    pub sweep: Option<SweepOutcome>,
    pub models: Outcome,
    /// The models' rewrites, each group beside its model as it is; `None` when not asked for.
    pub rewrites: Option<Outcome>,
    /// The models eager; `None` when not asked for, or when the models already ran eager.
    pub eager: Option<Outcome>,
}

impl StudyOutcome {
    /// Whether any model or design probe failed.
    pub fn failed(&self) -> bool {
        let sweep = self.sweep.as_ref().map(|s| &s.outcome);
        [
            Some(&self.models),
            sweep,
            self.rewrites.as_ref(),
            self.eager.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|o| !o.errors.is_empty())
    }
}

/// Every design probe of the sweep, in its order (the kernel family last).
pub fn variants() -> Vec<Variant> {
    sweep::all().into_iter().flat_map(|f| f.variants).collect()
}

/// Measures a study of `jobs` into `sink`: the probe (`probe_budget`), the sweep's `variants`
/// (within `sweep_budget`), the jobs, their rewrites (`rewrites`) and int8 forms (`int8`: one
/// more in each model's rewrite group, alone in it without `rewrites`), then the jobs eager
/// (`eager`, unless `optimize` is already none); the run's `notes` after the header. Only a
/// sink failure is an `Err`.
pub fn run(
    settings: &Settings,
    jobs: Vec<Job>,
    variants: &[Variant],
    notes: &[String],
    sink: &mut Sink,
    progress: &mut dyn Progress,
) -> Result<StudyOutcome, SinkError> {
    let mut session = Session::open(settings);
    let machine = settings
        .probe_budget
        .map(|budget| session.probe(budget, progress));
    let sweep_budget = settings.sweep_budget.filter(|_| !variants.is_empty());
    let mut labels = match sweep_budget {
        Some(_) => sweep::run::labels(variants),
        None => Vec::new(),
    };
    labels.extend(jobs.iter().map(|j| j.source.label()));
    session.start(sink, labels, machine, notes)?;
    let sweep = match sweep_budget {
        Some(total) => {
            let clock = Monotonic::new();
            let mut plan = SweepPlan::pilot(&mut session, variants, clock, total, progress)?;
            let outcome = session.run(&mut plan, sink, progress)?;
            Some(plan.outcome(outcome))
        }
        None => None,
    };
    let eager_jobs = (settings.eager && settings.optimize != Optimize::None).then(|| jobs.clone());
    let given = jobs.clone();
    let models = session.run(
        &mut AllJobs::new(jobs, settings, Pass::Models),
        sink,
        progress,
    )?;
    let rewrites = match settings.rewrites || settings.int8 {
        true => {
            // Only the models that ran: a model that failed fails its rewrites the same way.
            let ran: Vec<Job> = given
                .into_iter()
                .filter(|j| models.models.iter().any(|m| m.model == j.source.name()))
                .collect();
            let jobs = rewrite_jobs(&ran, settings.rewrites, settings.int8);
            let mut plan = AllJobs::new(jobs, settings, Pass::Rewrites);
            Some(session.run(&mut plan, sink, progress)?)
        }
        false => None,
    };
    let eager = match eager_jobs {
        Some(jobs) => {
            let mut plan = AllJobs::new(jobs, settings, Pass::Eager);
            Some(session.run(&mut plan, sink, progress)?)
        }
        None => None,
    };
    session.finish(sink)?;
    Ok(StudyOutcome {
        sweep,
        models,
        rewrites,
        eager,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;
    use crate::session::Quiet;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A writer whose bytes the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn study(settings: &Settings, variants: &[Variant]) -> (StudyOutcome, Vec<Record>) {
        let out = Shared::default();
        let mut sink = Sink::from_writer(Box::new(out.clone()), "test");
        let model = concat!(env!("CARGO_MANIFEST_DIR"), "/models/tiny_cnn.onnx");
        let jobs = vec![Job::path(model)];
        let done = run(settings, jobs, variants, &[], &mut sink, &mut Quiet).unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let records = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (done, records)
    }

    fn settings() -> Settings {
        Settings {
            fake_counters: true,
            runs: 2,
            warmup: 0,
            probe_budget: None,
            // Ample for two micro-models: the budget is not what this test is about.
            sweep_budget: Some(Duration::from_secs(300)),
            ..Settings::default()
        }
    }

    /// What each model record of the log is, in log order: a design probe, a model, or the
    /// model eager.
    fn kinds(records: &[Record]) -> Vec<String> {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Model(m) if m.metadata.sweep.is_some() => {
                    Some(format!("probe {}", m.model))
                }
                Record::Model(m) if m.metadata.rewrite.is_some() => {
                    Some(format!("rewrite {}", m.model))
                }
                Record::Model(m) => Some(format!("{} {}", m.optimize, m.model)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_session_holds_the_design_probes_the_models_their_rewrites_and_the_models_eager() {
        let merge = merge_variants();
        let (done, records) = study(&settings(), &merge);
        assert_eq!(
            kinds(&records),
            [
                "probe merge.add",
                "probe merge.concat",
                "full tiny_cnn",
                "rewrite tiny_cnn+as-is",
                "rewrite tiny_cnn+relu",
                "rewrite tiny_cnn+global-max-pool",
                "rewrite tiny_cnn+fold-bn",
                "rewrite tiny_cnn+as-is-after",
                "none tiny_cnn"
            ]
        );
        assert!(matches!(records.first(), Some(Record::Header(_))));
        assert!(matches!(records.last(), Some(Record::End(e)) if e.models_ok == 9));
        // Each rewrite says what it rewrote and where; the as-is run changes nothing.
        let rewrites: Vec<(String, String, u64)> = records
            .iter()
            .filter_map(|r| match r {
                Record::Model(m) => m.metadata.rewrite.as_ref(),
                _ => None,
            })
            .map(|r| (r.rewrite.clone(), r.of.clone(), r.places))
            .collect();
        let of = |r: &str, n: u64| (r.to_string(), "tiny_cnn".to_string(), n);
        // tiny_cnn (models/make_fixtures.py): a Clip(0, 6) after the residual Add, one
        // GlobalAveragePool, one BatchNorm after the stem conv.
        assert_eq!(
            rewrites,
            [
                of("as-is", 0),
                of("relu", 1),
                of("global-max-pool", 1),
                of("fold-bn", 1),
                of("as-is-after", 0)
            ]
        );
        let Some(Record::Header(h)) = records.first() else {
            unreachable!()
        };
        assert_eq!(
            h.options.models,
            ["sweep:merge.add", "sweep:merge.concat", model_label()]
        );
        assert!(!done.failed());
        assert_eq!(done.sweep.map(|s| s.outcome.models.len()), Some(2));
        assert_eq!(done.rewrites.map(|e| e.models.len()), Some(5));
        assert_eq!(done.eager.map(|e| e.models.len()), Some(1));
    }

    /// The two variants of the `merge` family: the smallest sweep there is.
    fn merge_variants() -> Vec<Variant> {
        sweep::select("merge")
            .unwrap()
            .into_iter()
            .flat_map(|f| f.variants)
            .collect()
    }

    fn model_label() -> &'static str {
        concat!(env!("CARGO_MANIFEST_DIR"), "/models/tiny_cnn.onnx")
    }

    /// `int8` adds the model's int8 form to its rewrite group, after the other rewrites and
    /// before the as-is run after them; without the other rewrites it is alone between the two
    /// as-is runs. tiny_cnn quantizes its three convs and its Gemm.
    #[test]
    fn int8_is_measured_in_the_rewrite_group_with_or_without_the_other_rewrites() {
        let mut s = settings();
        s.sweep_budget = None;
        s.eager = false;
        s.int8 = true;
        let (done, records) = study(&s, &[]);
        assert_eq!(
            kinds(&records),
            [
                "full tiny_cnn",
                "rewrite tiny_cnn+as-is",
                "rewrite tiny_cnn+relu",
                "rewrite tiny_cnn+global-max-pool",
                "rewrite tiny_cnn+fold-bn",
                "rewrite tiny_cnn+int8",
                "rewrite tiny_cnn+as-is-after",
            ]
        );
        assert!(!done.failed());
        let places = records.iter().find_map(|r| match r {
            Record::Model(m) if m.model == "tiny_cnn+int8" => {
                m.metadata.rewrite.as_ref().map(|r| r.places)
            }
            _ => None,
        });
        assert_eq!(places, Some(4));
        s.rewrites = false;
        assert_eq!(
            kinds(&study(&s, &[]).1),
            [
                "full tiny_cnn",
                "rewrite tiny_cnn+as-is",
                "rewrite tiny_cnn+int8",
                "rewrite tiny_cnn+as-is-after",
            ]
        );
    }

    #[test]
    fn no_sweep_budget_no_rewrites_no_eager_and_an_eager_main_run_leave_their_part_out() {
        let merge = merge_variants();
        let mut s = settings();
        s.sweep_budget = None;
        s.eager = false;
        s.rewrites = false;
        assert_eq!(kinds(&study(&s, &merge).1), ["full tiny_cnn"]);
        // Already eager: measuring it eager again would say nothing new.
        s.eager = true;
        s.optimize = Optimize::None;
        let (done, records) = study(&s, &merge);
        assert_eq!(kinds(&records), ["none tiny_cnn"]);
        assert!(done.sweep.is_none() && done.rewrites.is_none() && done.eager.is_none());
    }
}

//! Tests of the latency models: fold mechanics, no leakage of the held-out model, coefficient
//! recovery on synthetic logs, fit.json errors and cost output the predictor refuses.

mod analyze_common;

use analyze_common::synth::pi4_dataset as pi_dataset;
use hiddencost::analyze::compute::fit::{FitFile, Score, fit_all, fit_macs_only};
use hiddencost::analyze::compute::kernels::KernelCall;
use hiddencost::analyze::load::ModelRun;
use hiddencost::analyze::predict::parse_cost_output;
use hiddencost::analyze::{AnalyzeError, predict};
use hiddencost::record::Record;
use std::path::Path;

#[test]
fn each_fold_is_the_fit_on_every_other_model() {
    // The folds come from sums over all models minus the held-out one's: the same numbers as
    // fitting the other models afresh, which is what a fold means.
    let data = pi_dataset();
    let (fit, _) = fit_all(&data);
    let v = fit.devices[0].validation.as_ref().unwrap();
    assert_eq!(v.per_model.len(), data.runs.len());
    for (held, h) in data.runs.iter().zip(&v.per_model) {
        assert_eq!(h.model, held.model.model);
        let mut others = data.clone();
        others.runs.retain(|r| r.model.model != held.model.model);
        let (refit, _) = fit_all(&others);
        let d = &refit.devices[0];
        assert!(!d.models.contains(&held.model.model));
        let node = predict::predict_with(&held.nodes, d).unwrap().latency_ns;
        let macs = d.macs_only.latency_ns(held.model.cost.macs);
        for (fold, fresh) in [(h.node_model_ns, node), (h.macs_only_ns, macs)] {
            assert!(
                ((fold - fresh) / fresh).abs() < 1e-9,
                "{}: fold {fold} vs refit {fresh}",
                h.model
            );
        }
    }
}

#[test]
fn held_out_model_does_not_leak_into_its_fold() {
    let mut data = pi_dataset();
    // Triple net3's measured latency: a fold that saw it would be pulled towards the new value.
    let net3 = data
        .runs
        .iter_mut()
        .find(|r| r.model.model == "net3")
        .unwrap();
    let original_ns = net3.model.latency_ns.median as f64;
    net3.model.latency_ns.median *= 3;
    let (fit, left_out) = fit_all(&data);
    assert!(left_out.is_empty());
    let v = fit.devices[0].validation.as_ref().unwrap();
    let h = v.per_model.iter().find(|h| h.model == "net3").unwrap();
    assert_eq!(h.measured_ns, original_ns * 3.0);
    assert!(
        ((h.node_model_ns - original_ns) / original_ns).abs() < 0.01,
        "{h:?}"
    );
    assert_eq!(v.per_model.len(), 10);
    assert!(v.node_model.within_10pct < 10, "net3 is now mispredicted");
}

#[test]
fn recovers_the_synthetic_rates() {
    let data = pi_dataset();
    let (fit, _) = fit_all(&data);
    let d = &fit.devices[0];
    assert_eq!(d.device, "rpi4b");
    assert_eq!(d.models.len(), 10);
    let conv = &d.categories["conv"];
    // Synthetic Pi: 0.12 ns per MAC, two executed ops of 4000 ns overhead per conv node.
    assert!((conv.ns_per_mac - 0.12).abs() < 0.12 * 0.01, "{conv:?}");
    assert!((conv.ns_per_node - 8000.0).abs() < 80.0, "{conv:?}");
    // Clean latency is 95% of the per-op sum; the unattributed Reshape makes it a bit more.
    assert!(d.scale > 0.95 && d.scale < 0.96, "{}", d.scale);
    let v = d.validation.as_ref().unwrap();
    assert_eq!(v.node_model.within_10pct, 10);
    assert!(v.node_model.mape_pct < 1.0);
    for c in d.categories.values().chain([&d.default]) {
        let all = [
            c.ns_per_mac,
            c.ns_per_byte_read,
            c.ns_per_byte_written,
            c.ns_per_weight_byte,
            c.ns_per_node,
        ];
        assert!(all.iter().all(|x| *x >= 0.0 && x.is_finite()), "{c:?}");
    }
}

#[test]
fn macs_only_is_a_line_through_the_models() {
    let data = pi_dataset();
    let runs: Vec<&ModelRun> = data.runs.iter().collect();
    let m = fit_macs_only(&runs);
    // Same least-squares line as an independent closed form: slope = cov(x,y)/var(x).
    let xs: Vec<f64> = runs.iter().map(|r| r.model.cost.macs as f64).collect();
    let ys: Vec<f64> = runs
        .iter()
        .map(|r| r.model.latency_ns.median as f64)
        .collect();
    let (mx, my) = (xs.iter().sum::<f64>() / 10.0, ys.iter().sum::<f64>() / 10.0);
    let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let var: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let slope = cov / var;
    let intercept = my - slope * mx;
    assert!(
        slope > 0.0 && intercept > 0.0,
        "the unconstrained line is feasible here"
    );
    assert!(
        (m.ns_per_mac - slope).abs() < slope * 1e-6,
        "{m:?} vs {slope}"
    );
    assert!(
        (m.intercept_ns - intercept).abs() < intercept.abs() * 1e-5 + 1.0,
        "{m:?} vs {intercept}"
    );
}

#[test]
fn too_few_models_fit_without_validation() {
    let mut data = pi_dataset();
    data.runs.truncate(2);
    let (fit, _) = fit_all(&data);
    assert!(fit.devices[0].validation.is_none());
    data.runs[0].nodes = Default::default();
    let (_, left_out) = fit_all(&data);
    assert_eq!(left_out[0].why, "no node records");
}

#[test]
fn fit_file_errors_say_how_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = pi_dataset();
    let (fit, _) = fit_all(&data);
    let nodes = data.runs[0].nodes.clone();
    let path = dir.path().join("fit.json");
    std::fs::write(&path, serde_json::to_string(&fit).unwrap()).unwrap();
    let p = predict(&nodes, &path).unwrap();
    assert_eq!(p.device, "rpi4b");
    assert!(matches!(predict(&[], &path), Err(AnalyzeError::NoNodes)));
    let mut wrong = fit.clone();
    wrong.version = 99;
    std::fs::write(&path, serde_json::to_string(&wrong).unwrap()).unwrap();
    let msg = predict(&nodes, &path).unwrap_err().to_string();
    assert!(
        msg.contains("version 99") && msg.contains("hiddencost analyze LOG --out DIR"),
        "{msg}"
    );
    std::fs::write(&path, "{\"devices\": 3}").unwrap();
    assert!(matches!(
        predict(&nodes, &path),
        Err(AnalyzeError::FitFormat { .. })
    ));
}

#[test]
fn cost_output_of_two_models_is_refused() {
    let data = pi_dataset();
    let mut text = String::new();
    for r in &data.runs[..2] {
        text += &serde_json::to_string(&Record::Node(r.nodes[0].clone())).unwrap();
        text.push('\n');
    }
    let err = parse_cost_output(Path::new("c.jsonl"), &text)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("c.jsonl:2: nodes of several models"),
        "{err}"
    );
    assert!(matches!(
        parse_cost_output(Path::new("c"), "\n"),
        Err(AnalyzeError::NoNodes)
    ));
}

/// The pi dataset's fit written to DIR/fit.json after `edit`, and the text `predict` prints for
/// `nodes` (with `kernels` when given).
fn predict_text(
    data: &hiddencost::analyze::load::Dataset,
    nodes: &[hiddencost::record::NodeRecord],
    kernels: Option<&[KernelCall]>,
    edit: impl FnOnce(&mut FitFile),
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (mut fit, _) = fit_all(data);
    edit(&mut fit);
    let path = dir.path().join("fit.json");
    std::fs::write(&path, serde_json::to_string(&fit).unwrap()).unwrap();
    predict::predict_kernels(nodes, kernels, &path, None)
        .unwrap()
        .to_string()
}

/// Sets a validation's three scores (MAPE %, models within ±10%).
fn scores(fit: &mut FitFile, kernel: Option<(f64, usize)>, node: (f64, usize), macs: (f64, usize)) {
    let v = fit.devices[0].validation.as_mut().unwrap();
    let s = |(mape_pct, within_10pct)| Score {
        mape_pct,
        within_10pct,
    };
    v.kernel_model = kernel.map(s);
    v.node_model = s(node);
    v.macs_only = s(macs);
}

#[test]
fn predict_leads_with_the_predictor_that_validates_best_and_scores_them_all() {
    let data = pi_dataset();
    let run = &data.runs[0];
    assert_eq!(run.model.model, "net0");
    // As fitted: the node model validates best (the synthetic nodes follow its form exactly);
    // no kernels given, so the kernel model is scored but predicts nothing here.
    let text = predict_text(&data, &run.nodes, None, |_| {});
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..7],
        [
            "Predicted latency on rpi4b (node model): 8.893 ms (16 source nodes, 37.76 MMACs)",
            "Leave-one-model-out on rpi4b, best first: MAPE and models within ±10% over the 10 \
             models the fit holds (device-wide figures, not this model's error)",
            "predictor     predicted ms   MAPE  within ±10%  this model held out",
            "------------  ------------  -----  -----------  -------------------",
            "node model           8.893   0.0%        10/10                -0.0%",
            "kernel model           n/a   6.1%         7/10                +7.4%",
            "MACs only           13.119  47.5%         2/10               +71.5%",
        ],
        "{text}"
    );
    assert_eq!(
        lines[7],
        "This model is one of them: its last column is its own error when the fit left it out"
    );
    assert!(
        text.ends_with("No kernel-model prediction: no executed kernels given\n"),
        "{text}"
    );

    // MACs alone validates best: it is the prediction, and the report says so.
    let text = predict_text(&data, &run.nodes, None, |f| {
        scores(f, Some((8.0, 7)), (12.5, 6), (5.0, 9))
    });
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..8],
        [
            "Predicted latency on rpi4b (MACs only): 13.119 ms (16 source nodes, 37.76 MMACs)",
            "MACs alone validates best on rpi4b: no cost model in this fit beats it on the models \
             it was fitted on, so it is the prediction; the models below are baselines to read, \
             not to trust more",
            "Leave-one-model-out on rpi4b, best first: MAPE and models within ±10% over the 10 \
             models the fit holds (device-wide figures, not this model's error)",
            "predictor     predicted ms   MAPE  within ±10%  this model held out",
            "------------  ------------  -----  -----------  -------------------",
            "MACs only           13.119   5.0%         9/10               +71.5%",
            "kernel model           n/a   8.0%         7/10                +7.4%",
            "node model           8.893  12.5%         6/10                -0.0%",
        ],
        "{text}"
    );
    // A tie goes to MACs only, the simplest.
    let text = predict_text(&data, &run.nodes, None, |f| {
        scores(f, None, (5.0, 9), (5.0, 9))
    });
    assert!(
        text.starts_with("Predicted latency on rpi4b (MACs only): 13.119 ms"),
        "{text}"
    );

    // The kernel model validates best but has no kernels here: the next best leads.
    let text = predict_text(&data, &run.nodes, None, |f| {
        scores(f, Some((1.0, 10)), (2.0, 10), (3.0, 10))
    });
    assert!(
        text.starts_with("Predicted latency on rpi4b (node model): 8.893 ms"),
        "{text}"
    );

    // With the model's executed kernels, the kernel model leads when it validates best.
    let kernels: Vec<KernelCall> = run.ops.iter().map(KernelCall::of).collect();
    let text = predict_text(&data, &run.nodes, Some(&kernels), |f| {
        scores(f, Some((1.0, 10)), (2.0, 10), (3.0, 10))
    });
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Predicted latency on rpi4b (kernel model): 8.893 ms (21 executed kernels, 16 source \
         nodes, 37.76 MMACs)",
        "{text}"
    );
    assert_eq!(
        lines[4], "kernel model         8.893  1.0%        10/10                +7.4%",
        "{text}"
    );
    assert!(text.contains("Kernel model by kernel type:"), "{text}");

    // A model the fit has not seen: the device figures, no column of its own.
    let mut other = run.nodes.to_vec();
    for n in &mut other {
        n.model = "never_fitted".into();
    }
    let text = predict_text(&data, &other, None, |_| {});
    assert_eq!(
        text.lines().nth(2),
        Some("predictor     predicted ms   MAPE  within ±10%"),
        "{text}"
    );
    assert!(!text.contains("This model is one of them"), "{text}");

    // A fit without the kernel model's score (older files) ranks the two it has; an
    // unvalidated fit says so and ranks nothing.
    let text = predict_text(&data, &run.nodes, None, |f| {
        scores(f, None, (12.5, 6), (5.0, 9))
    });
    assert!(!text.contains("kernel model  "), "{text}");
    let text = predict_text(&data, &run.nodes, None, |f| f.devices[0].validation = None);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "Predicted latency on rpi4b (node model): 8.893 ms (16 source nodes, 37.76 MMACs)",
            "Not validated: the fit has fewer than 3 models on rpi4b, so no figure says which \
             predictor to trust",
            "predictor     predicted ms",
        ],
        "{text}"
    );
}

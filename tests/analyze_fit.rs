//! Tests of the latency models: fold mechanics, no leakage of the held-out model, coefficient
//! recovery on synthetic logs, fit.json errors and cost output the predictor refuses.

mod analyze_common;

use analyze_common::synth::pi4_dataset as pi_dataset;
use hiddencost::analyze::compute::fit::{fit_all, fit_macs_only};
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

#[test]
fn predict_says_the_mape_is_the_devices_and_gives_a_fitted_models_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = pi_dataset();
    let (fit, _) = fit_all(&data);
    let path = dir.path().join("fit.json");
    std::fs::write(&path, serde_json::to_string(&fit).unwrap()).unwrap();
    let v = fit.devices[0].validation.as_ref().unwrap();
    let held = &v.per_model[0];
    let run = data
        .runs
        .iter()
        .find(|r| r.model.model == held.model)
        .unwrap();
    let text = predict(&run.nodes, &path).unwrap().to_string();
    let device_line = format!(
        "Node model's leave-one-model-out MAPE on rpi4b: {:.1}% over the {} models it was \
         fitted on (a device-wide figure, not this model's error)",
        v.node_model.mape_pct,
        data.runs.len()
    );
    let own = 100.0 * (held.node_model_ns - held.measured_ns) / held.measured_ns;
    let own_line = format!(
        "This model is one of them: held out of the fit, it was predicted {own:+.1}% off its \
         measured latency"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[2], device_line, "{text}");
    assert_eq!(lines[3], own_line, "{text}");
    assert!(!text.contains("MAPE of this model"), "{text}");
    // A model the fit has not seen gets the device figure only.
    let mut other = run.nodes.to_vec();
    for n in &mut other {
        n.model = "never_fitted".into();
    }
    let text = predict(&other, &path).unwrap().to_string();
    assert!(text.contains(&device_line), "{text}");
    assert!(!text.contains("This model is one of them"), "{text}");
}

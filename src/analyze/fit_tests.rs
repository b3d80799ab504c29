//! Tests of the latency models: fold mechanics, no leakage of the held-out model, coefficient
//! recovery on synthetic logs, and fit.json errors.

use super::*;
use crate::analyze::synth::pi4_dataset as pi_dataset;

#[test]
fn each_fold_holds_out_exactly_one_model() {
    let folds = lomo_folds(5);
    assert_eq!(folds.len(), 5);
    for (held, train) in &folds {
        assert_eq!(train.len(), 4);
        assert!(!train.contains(held));
        assert!((0..5).filter(|i| i != held).all(|i| train.contains(&i)));
    }
    let held: Vec<usize> = folds.iter().map(|f| f.0).collect();
    assert_eq!(held, vec![0, 1, 2, 3, 4]);
    assert!(lomo_folds(0).is_empty());
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
    data.runs[0].nodes.clear();
    let (_, left_out) = fit_all(&data);
    assert_eq!(left_out[0].2, "no node records");
}

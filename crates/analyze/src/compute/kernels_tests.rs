//! Tests of `kernels`.

use super::*;

fn cost(macs: u64, flops: u64, read: u64, written: u64) -> Cost {
    Cost {
        macs,
        flops,
        bytes_read: read,
        bytes_written: written,
        ..Cost::default()
    }
}

fn call(op: &str, category: &str, c: Cost) -> KernelCall {
    KernelCall {
        op: op.into(),
        category: category.into(),
        cost: c,
        // independent of the other features (a residue of the bytes read)
        output_rows: c.bytes_read % 97 + 1,
    }
}

const KNEES: CacheKnees = CacheKnees {
    l1_bytes: Some(32 * 1024),
    l2_bytes: Some(512 * 1024),
    l3_bytes: None,
};

/// Known coefficients: a matmul at 0.03 ns/MAC + 0.002 ns/byte read + 0.001 ns/byte
/// written + 0.004 ns/byte beyond L1 + 0.02 beyond L2 + 800 ns/call, a pool at 1.5
/// ns/FLOP + 0.01 ns/byte written + 300 ns/call; exact data, so the fit must recover them.
fn synthetic() -> (Vec<TrainingModel>, KernelCoefficients, KernelCoefficients) {
    let mm = KernelCoefficients {
        ns_per_mac: 0.03,
        ns_per_byte_read: 0.002,
        ns_per_byte_written: 0.001,
        ns_per_byte_beyond_l1: 0.004,
        ns_per_byte_beyond_l2: 0.02,
        ns_per_call: 800.0,
        ..KernelCoefficients::default()
    };
    let pool = KernelCoefficients {
        ns_per_flop_other: 1.5,
        ns_per_byte_written: 0.01,
        ns_per_call: 300.0,
        ..KernelCoefficients::default()
    };
    let mut models = Vec::new();
    for i in 0..40u64 {
        let m = cost(
            1000 + 7919 * i * i,
            2 * (1000 + 7919 * i * i),
            500 + 60_000 * (i % 7) + 1000 * i,
            300 + 1499 * i * (i % 5),
        );
        let p = cost(0, 900 + 401 * i * (i % 3), 400 + 77 * i, 100 + 211 * i * i);
        let (m, p) = (call("OptMatMul", "conv", m), call("OptMaxPool", "pool", p));
        let mut calls = vec![
            (m.clone(), mm.call_ns(&features(&m, &KNEES))),
            (p.clone(), pool.call_ns(&features(&p, &KNEES))),
        ];
        if i % 4 == 0 {
            // a third, cheap call in every fourth model: the op count varies
            let r = 1000 + 10 * i;
            calls.push((
                call("IntoShape", "tensor", cost(0, 0, r, 0)),
                400.0 + 0.01 * r as f64,
            ));
        }
        let sum: f64 = calls.iter().map(|(_, ns)| ns).sum();
        models.push(TrainingModel {
            // clean = 0.9 · Σ ops + 500 ns per op + 2 µs
            latency_ns: 0.9 * sum + 500.0 * calls.len() as f64 + 2000.0,
            calls,
            sum_op_ns: sum,
        });
    }
    (models, mm, pool)
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1e-12)
}

#[test]
fn recovers_known_coefficients_from_exact_data() {
    let (models, mm, pool) = synthetic();
    let fit = fit(&models, KNEES).unwrap();
    for (name, want) in [("OptMatMul", mm), ("OptMaxPool", pool)] {
        let got = fit.kernels[name].as_array();
        for (j, (g, w)) in got.iter().zip(want.as_array()).enumerate() {
            // zero coefficients within 1e-5 ns per unit of zero, the others within 1e-5 relative
            let ok = if w == 0.0 {
                g.abs() < 1e-5
            } else {
                close(*g, w, 1e-5)
            };
            assert!(ok, "{name} {}: got {g}, want {w}", FEATURES[j].0);
        }
        assert!(fit.kernels[name].train_mape_pct < 1e-3);
    }
    let e = fit.end_to_end;
    assert!(close(e.per_op_scale, 0.9, 1e-6), "{e:?}");
    assert!(close(e.ns_per_executed_op, 500.0, 1e-4), "{e:?}");
    assert!(close(e.ns_per_inference, 2000.0, 1e-4), "{e:?}");
    assert_eq!((fit.calls, fit.models), (90, 40));
}

#[test]
fn prediction_sums_shares_and_overhead() {
    let (models, mm, _) = synthetic();
    let mut fit = fit(&models, KNEES).unwrap();
    let c = cost(2_000_000, 4_000_000, 600_000, 100_000);
    let calls = vec![call("OptMatMul", "conv", c), call("OptMatMul", "linear", c)];
    // The types with enough calls are predicted from their nearest training calls.
    let near = fit.nearest.as_ref().expect("both types have 40 calls");
    let one = near
        .call_ns("OptMatMul", "conv", &near_call(&calls[0], 0.0))
        .unwrap()
        .0;
    let p = fit.predict(&calls);
    assert!(close(
        p.latency_ns,
        0.9 * 2.0 * one + 2.0 * 500.0 + 2000.0,
        1e-6
    ));
    // Without that part, from the linear coefficients.
    fit.nearest = None;
    let p = fit.predict(&calls);
    let one = mm.call_ns(&features(&calls[0], &KNEES));
    assert!(close(
        p.latency_ns,
        0.9 * 2.0 * one + 2.0 * 500.0 + 2000.0,
        1e-6
    ));
    assert_eq!(p.shares.len(), 1, "one kernel type");
    assert_eq!(p.shares[0].calls, 2);
    assert!(close(p.overhead_ns, 3000.0, 1e-4));
    assert!(p.fallbacks().is_empty());
}

#[test]
fn unseen_kernels_fall_back_to_their_category_then_to_all_calls() {
    let (mut models, _, _) = synthetic();
    // a conv-category type with too few calls for a fit of its own
    for m in models.iter_mut().take(MIN_SAMPLES - 1) {
        let c = cost(5000, 10000, 4000, 4000);
        m.calls.push((call("DepthWiseConv", "conv", c), 3000.0));
    }
    let fit = fit(&models, KNEES).unwrap();
    assert!(!fit.kernels.contains_key("DepthWiseConv"));
    let calls = [
        call("DepthWiseConv", "conv", cost(1, 2, 3, 4)),
        call("OptBinChain(Mul+Add+Max)", "activation", cost(0, 9, 9, 9)),
        call("OptMatMul", "conv", cost(1, 2, 3, 4)),
    ];
    let p = fit.predict(&calls);
    let via = |k: &str| p.shares.iter().find(|s| s.kernel == k).unwrap().via.clone();
    assert_eq!(via("DepthWiseConv"), Via::Category("conv".into()));
    assert_eq!(via("OptBinChain"), Via::Pooled);
    assert_eq!(via("OptMatMul"), Via::Kernel);
    assert_eq!(p.fallbacks().len(), 2);
    // the category fit is the one over the conv calls: OptMatMul's 40 and these 9
    assert_eq!(fit.categories["conv"].samples, 40 + MIN_SAMPLES - 1);
    assert_eq!(fit.pooled.samples, 90 + MIN_SAMPLES - 1);
}

#[test]
fn kernel_types_drop_argument_lists() {
    assert_eq!(kernel_type("OptBinChain(Mul+Add+Max)"), "OptBinChain");
    assert_eq!(kernel_type("Reduce<Sum>"), "Reduce<Sum>");
    assert_eq!(kernel_type("OptMatMul"), "OptMatMul");
}

#[test]
fn piecewise_features_bend_at_the_cache_knees() {
    let f = |c: Cost| features(&call("Pad", "tensor", c), &KNEES);
    assert_eq!(f(cost(0, 0, 16 * 1024, 8 * 1024))[6..9], [0.0, 0.0, 0.0]);
    assert_eq!(
        f(cost(0, 0, 64 * 1024, 64 * 1024))[6..9],
        [131072.0, 0.0, 0.0]
    );
    let big = f(cost(0, 0, 1 << 20, 0));
    assert_eq!(big[6..9], [1048576.0, 1048576.0, 0.0], "no L3 knee given");
    assert_eq!(f(cost(10, 30, 0, 0))[..2], [10.0, 10.0]);
    assert_eq!(rows(&[1, 32, 34, 34]), 32 * 34);
    assert_eq!(rows(&[7]), 1);
    assert_eq!(rows(&[]), 1);
}

#[test]
fn no_calls_no_model_and_bad_coefficients_are_refused() {
    assert!(fit(&[], KNEES).is_none());
    let (models, _, _) = synthetic();
    let mut fit = fit(&models, KNEES).unwrap();
    assert!(fit.check().is_ok());
    fit.kernels.get_mut("OptMatMul").unwrap().ns_per_mac = f64::NAN;
    assert!(matches!(fit.check(), Err(BadFit::Coefficients(k)) if k.contains("OptMatMul")));
}

#[test]
fn integer_calls_are_a_kernel_of_their_own() {
    // The synthetic models' OptMatMul at 0.03 ns/MAC, plus in each an integer OptMatMul
    // (int8 MACs) 100 times slower per MAC: 3 ns/MAC + 2000 ns/call.
    let (mut models, mm, _) = synthetic();
    let int8 = KernelCoefficients {
        ns_per_mac: 3.0,
        ns_per_call: 2000.0,
        ..KernelCoefficients::default()
    };
    for (i, m) in models.iter_mut().enumerate() {
        let macs = 5000 + 3001 * i as u64;
        let c = call(
            "OptMatMul",
            "conv",
            Cost {
                int8_macs: macs,
                ..cost(macs, 2 * macs, 0, 0)
            },
        );
        let ns = int8.call_ns(&features(&c, &KNEES));
        m.calls.push((c, ns));
    }
    let fit = fit(&models, KNEES).unwrap();
    let keys: Vec<&str> = fit.kernels.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["IntoShape", "OptMatMul", "OptMatMul[i8]", "OptMaxPool"]
    );
    assert_eq!(fit.kernels["OptMatMul[i8]"].samples, 40);
    assert_eq!(
        fit.kernels["OptMatMul"].samples, 40,
        "the f32 fit is untouched"
    );
    assert!(close(
        fit.kernels["OptMatMul"].ns_per_mac,
        mm.ns_per_mac,
        1e-5
    ));
    assert!(close(fit.kernels["OptMatMul[i8]"].ns_per_mac, 3.0, 1e-5));
    assert_eq!(fit.categories["conv[i8]"].samples, 40);
    // A prediction names the integer kernel and uses its fit (or its nearest calls).
    let macs = 50_000;
    let c = call(
        "OptMatMul",
        "conv",
        Cost {
            int8_macs: macs,
            ..cost(macs, 2 * macs, 0, 0)
        },
    );
    assert_eq!(c.kernel_key(), "OptMatMul[i8]");
    assert_eq!(c.category_key(), "conv[i8]");
    let (ns, via) = fit.call_ns_via(&c);
    assert_eq!(via, Via::Kernel);
    assert!(close(ns, 3.0 * macs as f64 + 2000.0, 0.05), "{ns}");
    let p = fit.predict(std::slice::from_ref(&c));
    assert_eq!(p.shares[0].kernel, "OptMatMul[i8]");
    // The same call on f32 operands is the f32 kernel's.
    let f = call("OptMatMul", "conv", cost(macs, 2 * macs, 0, 0));
    assert_eq!(
        (f.kernel_key(), f.category_key()),
        ("OptMatMul".into(), "conv".into())
    );
}

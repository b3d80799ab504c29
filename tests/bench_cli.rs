//! `hiddencost bench` end to end on the committed fixtures, with fake counters for exact numbers.

mod common;
use common::*;
use serde_json::Value;

fn bench_stdout(args: &[&str]) -> (Vec<Value>, String) {
    let out = hiddencost()
        .arg("bench")
        .args(args)
        .args(["--out", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "bench failed: {stderr}");
    (records(&String::from_utf8_lossy(&out.stdout)), stderr)
}

#[test]
fn tiny_cnn_record_stream_is_complete_and_ordered() {
    let (recs, _) = bench_stdout(&[
        &model("tiny_cnn.onnx"),
        "--runs",
        "3",
        "--warmup",
        "1",
        "--fake-counters",
    ]);
    let types: Vec<&str> = recs.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "header");
    assert_eq!(*types.last().unwrap(), "end");
    // node records first, then op records, then the model record
    let first_op = types.iter().position(|t| *t == "op").unwrap();
    assert!(types[1..first_op].iter().all(|t| *t == "node"));
    assert_eq!(types.iter().filter(|t| **t == "node").count(), 12);
    assert_eq!(types[types.len() - 2], "model");

    let header = &recs[0];
    assert_eq!(header["schema_version"], hiddencost::record::SCHEMA_VERSION);
    assert_eq!(header["tract_version"], "0.23.9");
    assert_eq!(
        header["passes"], 2,
        "7 PMU events over a 4-counter fake PMU"
    );
    assert!(header["context"]["kernel_release"].is_string());
    assert_eq!(header["options"]["runs"], 3);

    let model = &of_type(&recs, "model")[0];
    assert_eq!(model["params"], 546);
    assert_eq!(model["macs"], 22688);
    assert_eq!(model["thop_macs"], 25008);
    assert_eq!(model["runs"], 3);
    assert_eq!(model["input_shape"], serde_json::json!([1, 3, 8, 8]));
    assert_eq!(model["output_shapes"], serde_json::json!([[1, 10]]));
    let lat = &model["latency_ns"];
    assert!(lat["min"].as_u64().unwrap() <= lat["median"].as_u64().unwrap());
    assert!(lat["median"].as_u64().unwrap() <= lat["max"].as_u64().unwrap());
    assert!(model["peak_rss_bytes"].as_u64().unwrap() > 0);

    let end = recs.last().unwrap();
    assert_eq!(
        (end["models_ok"].as_u64(), end["models_failed"].as_u64()),
        (Some(1), Some(0))
    );
}

#[test]
fn fake_counters_give_exact_per_op_deltas() {
    let (recs, _) = bench_stdout(&[&model("tiny_cnn.onnx"), "--runs", "2", "--fake-counters"]);
    let ops = of_type(&recs, "op");
    assert!(!ops.is_empty());
    // Event e (index in the header's list) reads (e+1)*1000 per op; see counters::fake.
    let names = event_names(&recs[0]);
    for op in &ops {
        for (e, name) in names.iter().enumerate() {
            let c = &op["counters"][name];
            assert_eq!(
                c["median"],
                (e as u64 + 1) * 1000,
                "{name} in {}",
                op["node"]
            );
            assert_eq!(c["running_ratio"], 1.0);
        }
        assert!(op["wall_ns"]["median"].as_u64().unwrap() > 0);
    }
    // One counter read per op boundary: a run's first read, then one after each op. The ops'
    // counts therefore add up to the run's total, which is executed ops x (e+1)*1000 (two reads
    // per op would make the total twice as large).
    let m = &of_type(&recs, "model")[0];
    let n = m["executed_nodes"].as_u64().unwrap();
    assert_eq!(ops.len() as u64, n);
    for (e, name) in names.iter().enumerate() {
        let sum: u64 = ops
            .iter()
            .map(|o| o["counters"][name]["median"].as_u64().unwrap())
            .sum();
        assert_eq!(m["counter_totals"][name], sum, "{name}");
        assert_eq!(sum, n * (e as u64 + 1) * 1000, "{name}");
    }
    // Time outside ops and in counter reads is reported, not hidden.
    assert!(m["unattributed_median_ns"].is_u64(), "{m}");
    assert!(m["counter_read_median_ns"].is_u64(), "{m}");
    assert!(m["warnings"].is_array(), "{m}");
    // The source view covers every executed op and MACs land once per source node.
    let macs: u64 = ops.iter().map(|o| o["macs"].as_u64().unwrap()).sum();
    assert_eq!(macs, 22688);
    assert!(ops.iter().all(|o| o["source_node"].is_string()));
}

#[test]
fn both_views_and_categories_in_full_optimization() {
    let (recs, _) = bench_stdout(&[&model("tiny_cnn.onnx"), "--runs", "1", "--fake-counters"]);
    let ops = of_type(&recs, "op");
    let find = |op: &str| ops.iter().find(|o| o["op"] == op).copied();
    let im2col = find("LazyIm2col").expect("a lowered conv has an im2col");
    assert_eq!(im2col["category"], "tensor");
    assert_eq!(im2col["source_op"], "Conv");
    assert_eq!(im2col["source_category"], "conv");
    let concat = find("Concat").unwrap();
    assert_eq!(concat["category"], "concat");
    let fc = ops
        .iter()
        .find(|o| o["source_node"] == "fc" && o["op"] == "OptMatMul")
        .unwrap();
    assert_eq!(fc["category"], "linear");
    assert_eq!(fc["macs"], 160);
}

#[test]
fn optimize_none_runs_every_source_op_on_its_own() {
    let (recs, _) = bench_stdout(&[
        &model("tiny_cnn.onnx"),
        "--runs",
        "1",
        "--fake-counters",
        "--optimize",
        "none",
    ]);
    let ops = of_type(&recs, "op");
    let cats: Vec<&str> = ops
        .iter()
        .map(|o| o["category"].as_str().unwrap())
        .collect();
    for c in [
        "conv",
        "batchnorm",
        "activation",
        "add",
        "concat",
        "pool",
        "linear",
        "tensor",
    ] {
        assert!(cats.contains(&c), "no {c} op in {cats:?}");
    }
    assert_eq!(recs[0]["options"]["optimize"], "none");
    let (full, _) = bench_stdout(&[&model("tiny_cnn.onnx"), "--runs", "1", "--fake-counters"]);
    // declutter folds BatchNormalization into the conv: no batchnorm op is left
    assert!(
        of_type(&full, "op")
            .iter()
            .all(|o| o["category"] != "batchnorm")
    );
}

#[test]
fn real_counters_degrade_gracefully() {
    // Whatever this machine offers (a VM: software events only), every requested event is
    // either counted or null with a reason in the header, and the run succeeds.
    // A counted event has its run total; a software event per op only where a PMU event
    // shares its group read by read(2) (a group of software events only, as beside user
    // reads, is read per run, not per op).
    let (recs, _) = bench_stdout(&[&model("shuffle.onnx"), "--runs", "2"]);
    let events = recs[0]["events"].as_array().unwrap();
    assert_eq!(events.len(), 10);
    let pmu = events
        .iter()
        .any(|e| e["available"] == true && e["kind"] != "software");
    let user = recs[0]["counter_access"]["passes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "user");
    let totals = &of_type(&recs, "model")[0]["counter_totals"];
    for ev in events {
        let name = ev["name"].as_str().unwrap();
        let available = ev["available"].as_bool().unwrap();
        assert_eq!(available, ev["reason"].is_null(), "{ev}");
        if !available {
            assert!(
                ev["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("perf_event_open: E"),
                "{ev}"
            );
        }
        assert_eq!(totals[name].is_null(), !available, "{name}");
        let per_op = available && (ev["kind"] != "software" || (pmu && !user));
        for op in of_type(&recs, "op") {
            assert_eq!(op["counters"][name].is_null(), !per_op, "{name}");
        }
    }
}

/// The header says how the counters were read, per pass; with real counters on this machine
/// (no arm64 user access) every pass is `syscall`, and where hardware counters opened the
/// reason is given; `--counter-reads syscall` is recorded as asked.
#[test]
fn the_header_says_how_counters_were_read() {
    for (extra, requested) in [
        (&[][..], "auto"),
        (&["--counter-reads", "syscall"][..], "syscall"),
    ] {
        let mut args = vec![model("shuffle.onnx"), "--runs".into(), "1".into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (recs, _) = bench_stdout(&args);
        let access = &recs[0]["counter_access"];
        assert_eq!(access["requested"], requested, "{access}");
        let passes = access["passes"].as_array().unwrap();
        assert_eq!(
            passes.len() as u64,
            recs[0]["passes"].as_u64().unwrap(),
            "{access}"
        );
        let hardware_open = recs[0]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["available"] == true && e["kind"] != "software");
        // (On arm64 with `auto`, `user` is possible: tests/qemu/check_serial.py checks it.)
        if !cfg!(target_arch = "aarch64") || requested == "syscall" {
            assert!(passes.iter().all(|p| p == "syscall"), "{access}");
            if hardware_open {
                let why = access["syscall_reason"].as_str().unwrap();
                let expected = if requested == "syscall" {
                    "--counter-reads syscall"
                } else {
                    "arm64 only"
                };
                assert!(why.contains(expected), "{why}");
            }
        }
    }
    // With fake counters every pass says so.
    let (recs, _) = bench_stdout(&[&model("shuffle.onnx"), "--runs", "1", "--fake-counters"]);
    let passes = recs[0]["counter_access"]["passes"].as_array().unwrap();
    assert!(
        !passes.is_empty() && passes.iter().all(|p| p == "fake"),
        "{passes:?}"
    );
    let out = hiddencost()
        .args([
            "bench",
            &model("shuffle.onnx"),
            "--counter-reads",
            "mrs",
            "--out",
            "-",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad --counter-reads is a usage error"
    );
}

#[test]
fn input_shape_overrides_a_dynamic_batch() {
    let (recs, _) = bench_stdout(&[
        &model("tiny_cnn_dynamic.onnx"),
        "--input-shape",
        "2,3,8,8",
        "--runs",
        "1",
        "--fake-counters",
    ]);
    let m = &of_type(&recs, "model")[0];
    assert_eq!(m["input_shape"], serde_json::json!([2, 3, 8, 8]));
    assert_eq!(m["output_shapes"], serde_json::json!([[2, 10]]));
    assert_eq!(m["macs"], 2 * 22688);
}

#[test]
fn default_output_is_a_new_file_under_results_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = hiddencost()
        .current_dir(dir.path())
        .args([
            "bench",
            &model("tiny_cnn.onnx"),
            "--runs",
            "2",
            "--fake-counters",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("executed op") && stdout.contains("OptMatMul"),
        "{stdout}"
    );
    assert!(stdout.contains("category"));
    // The time outside ops and the profiler's reads are a line of their own.
    assert!(
        stdout.contains("in no op (tract dispatch, allocation)")
            && stdout.contains("counter reads"),
        "{stdout}"
    );
    let files: Vec<_> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    let recs = records(&text);
    assert_eq!(recs.last().unwrap()["type"], "end");
}

#[test]
fn cost_json_prints_node_records_and_totals_without_running() {
    let recs = cost_json("tiny_cnn.onnx");
    let nodes = of_type(&recs, "node");
    assert_eq!(nodes.len(), 12);
    let conv = nodes.iter().find(|n| n["node"] == "stem/conv").unwrap();
    assert_eq!(conv["macs"], 8 * 8 * 8 * 3 * 9);
    assert_eq!(conv["params"], 8 * 27 + 8);
    let dw = nodes.iter().find(|n| n["node"] == "block/dwconv").unwrap();
    assert_eq!(dw["macs"], 8 * 8 * 8 * 9, "depthwise: in/groups = 1");
    let bn = nodes
        .iter()
        .find(|n| n["op_type"] == "BatchNormalization")
        .unwrap();
    assert_eq!(
        (bn["params"].as_u64(), bn["macs"].as_u64()),
        (Some(16), Some(0))
    );
    assert_eq!(bn["thop_macs"], 4 * 512);
    let total = &of_type(&recs, "model_cost")[0];
    assert_eq!(total["params"], 546);
    assert_eq!(total["thop_macs"], 25008);
    let sum: u64 = nodes.iter().map(|n| n["macs"].as_u64().unwrap()).sum();
    assert_eq!(total["macs"], sum);
}

#[test]
fn cpu_pinning_is_applied_and_recorded() {
    let (recs, _) = bench_stdout(&[
        &model("shuffle.onnx"),
        "--runs",
        "1",
        "--fake-counters",
        "--cpu",
        "0",
    ]);
    assert_eq!(recs[0]["options"]["cpu"], 0);
    // Beyond the kernel's affinity mask: a usage error with the limit; within it but absent:
    // the pin fails.
    for (cpu, code, says) in [
        ("4096", 2, "a CPU number from 0 to 1023"),
        ("1000", 1, "cannot pin to CPU 1000"),
    ] {
        let out = hiddencost()
            .args(["bench", &model("shuffle.onnx"), "--cpu", cpu, "--out", "-"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "--cpu {cpu}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "--cpu {cpu}: {stderr}");
    }
}

#[test]
fn threads_are_accepted_recorded_and_counted() {
    let (one, _) = bench_stdout(&[&model("tiny_cnn.onnx"), "--runs", "1", "--fake-counters"]);
    assert_eq!(one[0]["options"]["threads"], 1);
    let single = one[0]["counted_threads"].as_str().unwrap();
    assert!(
        single.contains("calling thread") && !single.contains("pool"),
        "{single}"
    );

    let (two, _) = bench_stdout(&[&model("tiny_cnn.onnx"), "--runs", "2", "--threads", "2"]);
    assert_eq!(two[0]["options"]["threads"], 2);
    let machine = &two[0]["machine"];
    assert_eq!(machine["matmul"]["threads"], 1);
    assert_eq!(
        machine["matmul_threads"]["threads"], 2,
        "the probe ran on the pool too"
    );
    assert!(one[0]["machine"]["matmul_threads"].is_null());
    let counted = two[0]["counted_threads"].as_str().unwrap();
    assert!(
        counted.contains("2 threads of the matmul pool"),
        "{counted}"
    );
    let m = &of_type(&two, "model")[0];
    assert_eq!(m["macs"], 22688);
    assert_eq!(two.last().unwrap()["models_ok"], 1);
    // Same model, same graph: the pool changes where matmuls run, not what runs.
    let ops1 = of_type(&one, "op").len();
    assert_eq!(of_type(&two, "op").len(), ops1);
}

#[test]
fn the_header_carries_the_machine_probe_or_null_when_skipped() {
    let (recs, _) = bench_stdout(&[
        &model("tiny_cnn.onnx"),
        "--runs",
        "1",
        "--fake-counters",
        "--probe-budget",
        "1",
    ]);
    let header = &recs[0];
    let machine: hiddencost::record::Machine =
        serde_json::from_value(header["machine"].clone()).expect("a machine record");
    assert_eq!(machine.budget_ns, 1_000_000_000);
    assert!(machine.matmul.is_some() && machine.dispatch_floor_ns.is_some());
    assert_eq!(
        machine.bandwidth.last().map(|b| b.level.as_str()),
        Some("DRAM")
    );
    assert_eq!(
        machine.counter_reads.len(),
        header["passes"].as_u64().unwrap() as usize,
        "one counter-read figure per pass"
    );

    let (skipped, _) = bench_stdout(&[
        &model("tiny_cnn.onnx"),
        "--runs",
        "1",
        "--fake-counters",
        "--probe-budget",
        "0",
    ]);
    let header = skipped[0].as_object().unwrap();
    assert!(header["machine"].is_null(), "{:?}", header["machine"]);
    assert_eq!(of_type(&skipped, "model").len(), 1);
}

#[test]
fn paired_ratios_and_the_schedule_are_recorded() {
    for (schedule, flag) in [("interleaved", None), ("separate", Some("separate"))] {
        let mut args = vec![
            model("tiny_cnn.onnx"),
            "--runs".into(),
            "7".into(),
            "--warmup".into(),
            "1".into(),
            "--fake-counters".into(),
            "--probe-budget".into(),
            "0".into(),
        ];
        if let Some(f) = flag {
            args.extend(["--schedule".into(), f.into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (recs, _) = bench_stdout(&args);
        assert_eq!(recs[0]["options"]["schedule"], schedule);
        let model = &of_type(&recs, "model")[0];
        let paired = &model["paired"];
        assert_eq!(paired["schedule"], schedule);
        let (o, s) = (&paired["profiled_over_clean"], &paired["sum_op_over_clean"]);
        // one pair per round (the two fake-counter passes are averaged within a round)
        assert_eq!(o["pairs"], 7);
        assert_eq!(s["pairs"], 7);
        let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
        for r in [o, s] {
            assert!(
                f(r, "low") <= f(r, "median") && f(r, "median") <= f(r, "high"),
                "{r}"
            );
            // 7 pairs: [x(1), x(7)] is the only interval above 95% (1 - 2/128)
            assert!(
                (f(r, "confidence") - (1.0 - 2.0 / 128.0)).abs() < 1e-12,
                "{r}"
            );
        }
        // the ops of a run are inside it: round by round, and so in the medians
        assert!(f(s, "median") <= f(o, "median"), "{paired}");
        assert!(f(s, "high") <= f(o, "high"), "{paired}");
    }
    let out = hiddencost()
        .args(["bench", &model("tiny_cnn.onnx"), "--schedule", "random"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad --schedule is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interleaved"));
}

/// A busy loop pinned to the benchmark's CPU takes about half of it: the per-op runs must show
/// the context switches it causes (kernel-side events, counted in the kernel), and the model a
/// `cpu` warning (task-clock well below wall time).
#[test]
fn a_busy_neighbour_on_the_cpu_is_counted_and_warned_about() {
    let cpu = std::thread::available_parallelism().map_or(1, |n| n.get()) - 1;
    let mut busy = std::process::Command::new("taskset")
        .args(["-c", &cpu.to_string(), "sh", "-c", "while :; do :; done"])
        .spawn()
        .expect("taskset (util-linux) runs the busy loop");
    let (recs, _) = bench_stdout(&[
        "zoo:mobilenet",
        "--cpu",
        &cpu.to_string(),
        "--runs",
        "5",
        "--warmup",
        "1",
        "--probe-budget",
        "0",
    ]);
    busy.kill().unwrap();
    busy.wait().unwrap();
    let header = &recs[0];
    let status = |name: &str| {
        header["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()
            .clone()
    };
    let model = &of_type(&recs, "model")[0];
    let switches = status("context-switches");
    if switches["available"] == true {
        let n = model["counter_totals"]["context-switches"]
            .as_u64()
            .unwrap();
        assert!(
            n > 0,
            "a shared CPU, and no context switch counted: {model}"
        );
    } else {
        // Unprivileged with kernel.perf_event_paranoid 2: said so, never a silent 0.
        let reason = switches["reason"].as_str().unwrap();
        assert!(reason.contains("needs kernel counting"), "{reason}");
        assert!(model["counter_totals"]["context-switches"].is_null());
    }
    assert_eq!(status("task-clock")["available"], true, "{header}");
    let kinds: Vec<&str> = model["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"cpu"), "{kinds:?}: {model}");
}

/// `--events all` through bench and analyze with fake counters: every op reads event `e` as
/// (e + 1) x 1000 (src/counters/fake.rs), so the derived metrics are exact. On x86 the set is
/// the generic events: cache-references (0) ... cycles (7), instructions (8),
/// stalled-cycles-frontend (9), stalled-cycles-backend (10), branch-misses (11).
#[test]
fn event_sets_reach_the_report_as_derived_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("all.jsonl");
    bench_into(
        &log,
        &[
            &model("tiny_cnn.onnx"),
            "--runs",
            "2",
            "--warmup",
            "0",
            "--fake-counters",
            "--events",
            "all",
            "--probe-budget",
            "0",
        ],
    );
    let recs = records(&std::fs::read_to_string(&log).unwrap());
    let names = event_names(&recs[0]);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(
            names[7..12],
            [
                "cycles",
                "instructions",
                "stalled-cycles-frontend",
                "stalled-cycles-backend",
                "branch-misses"
            ]
        );
    }
    let report = dir.path().join("report");
    analyze_into(&[&log], &report);
    let csv = std::fs::read_to_string(report.join("counters.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (fe, be) = (col("frontend_stall_share"), col("backend_stall_share"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!rows.is_empty());
    if cfg!(target_arch = "x86_64") {
        for r in &rows {
            assert_eq!(
                (r[fe], r[be]),
                ("1.25", "1.375"),
                "10000 / 8000 and 11000 / 8000"
            );
        }
        let md = std::fs::read_to_string(report.join("report.md")).unwrap();
        assert!(md.contains("### Counters that explain"), "{md}");
        assert!(
            md.contains("| 125.0% | 137.5% |"),
            "stall shares in the table"
        );
    }
}

/// A group of software events only is read once before and once after each run, not per op:
/// the ops carry no counts for its events, the model record has their run totals (the fake
/// counters advance one step per read: event `e` counts `(e + 1) * 1000` between two reads),
/// and no time goes to counter reads. Beside a PMU event the same software events ride in the
/// group read at every op boundary, and the ops have them.
#[test]
fn software_events_alone_are_read_per_run_not_per_op() {
    let bench = |events: &str| {
        let tiny = model("tiny_cnn.onnx");
        let args = [
            &tiny,
            "--runs",
            "3",
            "--fake-counters",
            "--probe-budget",
            "0",
        ];
        bench_stdout(&[&args[..], &["--events", events]].concat()).0
    };
    let recs = bench("");
    assert_eq!(recs[0]["passes"], 1);
    let names = event_names(&recs[0]);
    assert_eq!(names, ["task-clock", "page-faults", "context-switches"]);
    let ops = of_type(&recs, "op");
    assert!(!ops.is_empty());
    for op in &ops {
        for name in &names {
            assert!(op["counters"][name].is_null(), "{}: {name}", op["node"]);
        }
    }
    let record = &of_type(&recs, "model")[0];
    for (e, name) in names.iter().enumerate() {
        assert_eq!(
            record["counter_totals"][name],
            (e as u64 + 1) * 1000,
            "{name}"
        );
    }
    assert_eq!(record["counter_read_median_ns"], 0);

    let recs = bench("cycles");
    for op in of_type(&recs, "op") {
        assert_eq!(op["counters"]["cycles"]["median"], 1000);
        assert_eq!(op["counters"]["task-clock"]["median"], 2000);
    }
}

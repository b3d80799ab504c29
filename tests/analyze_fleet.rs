//! The fleet report: many boards, the same models. A planted outlier board is found with its
//! reasons; median and spread are exact on a hand case; the section and CSVs are written; the
//! Parquet export reads back with the parquet crate's own reader (feature `parquet`); the CLI
//! end to end.

mod analyze_common;

use analyze_common::synth::{
    SynthDevice, SynthModel, fleet_board, plant_governor_and_heat, set_latency_median, synth_log,
    to_jsonl,
};
use hiddencost::analyze::compute::fleet::{Reason, RoofKind};
use hiddencost::analyze::load::load_logs;
use hiddencost::analyze::render::names;
use hiddencost::analyze::{Analysis, AnalyzeOptions, analyze};
use std::path::{Path, PathBuf};

fn models() -> Vec<SynthModel> {
    vec![
        SynthModel::new("alpha", 3, 16, 8),
        SynthModel::new("beta", 5, 8, 8),
    ]
}

/// `boards` Pi 4 boards (board `slow` 1.6x slower, on `powersave` and 20 °C hotter at the end)
/// and two laptops, one log per board; returns the paths.
fn fleet_logs(dir: &Path, boards: usize, slow: usize) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for i in 0..boards {
        let mut d = fleet_board(i);
        if i == slow {
            d = d.slower(1.6);
        }
        let mut records = synth_log(&d, &models());
        if i == slow {
            plant_governor_and_heat(&mut records, "powersave", 65_000);
        }
        let p = dir.join(format!("board{i}.jsonl"));
        std::fs::write(&p, to_jsonl(&records)).unwrap();
        paths.push(p);
    }
    for i in 0..2 {
        let mut d = SynthDevice::laptop();
        d.hostname = Some(format!("laptop{i}"));
        let p = dir.join(format!("laptop{i}.jsonl"));
        std::fs::write(&p, to_jsonl(&synth_log(&d, &models()))).unwrap();
        paths.push(p);
    }
    paths
}

#[test]
fn planted_outlier_is_found_with_its_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet_logs(dir.path(), 12, 7);
    let data = load_logs(&paths).unwrap();
    assert_eq!(data.devices.len(), 14);
    let a = Analysis::compute(&data);
    let fleet = a.fleet.as_ref().expect("a fleet with 14 boards");
    assert_eq!(fleet.classes.len(), 2, "{:?}", fleet.classes);
    let pi = fleet
        .classes
        .iter()
        .position(|c| names::class(&c.name) == "Raspberry Pi 4 Model B / Cortex-A72")
        .expect("the Pi 4 class");
    assert_eq!(fleet.classes[pi].boards.len(), 12);
    let slow_device = data
        .devices
        .iter()
        .position(|d| d.context.hostname.as_deref() == Some("pi0007"))
        .unwrap();
    // Two models x two classes.
    assert_eq!(fleet.models.len(), 4);
    for s in &fleet.models {
        if s.class != pi {
            // Two laptops: too few boards to call one an outlier.
            assert_eq!(s.boards.len(), 2);
            assert!(s.outliers.is_empty());
            continue;
        }
        assert_eq!(s.boards.len(), 12);
        assert_eq!(
            s.outliers.len(),
            1,
            "{}: exactly the planted board: {:?}",
            s.model,
            s.outliers
        );
        let o = &s.outliers[0];
        assert_eq!(o.device, slow_device);
        assert!(o.ratio > 1.5 && o.ratio < 1.7, "ratio {}", o.ratio);
        assert!(o.robust_z > 3.5);
        assert!(
            o.reasons
                .contains(&Reason::Governor("powersave".to_string())),
            "{:?}",
            o.reasons
        );
        assert!(
            o.reasons
                .iter()
                .any(|r| matches!(r, Reason::Drift(c) if (*c - 20.0).abs() < 1e-9)),
            "{:?}",
            o.reasons
        );
        assert!(
            o.reasons
                .iter()
                .any(|r| matches!(r, Reason::Roof(RoofKind::Peak, x) if *x < 0.7)),
            "the slow board's probe measured a lower peak: {:?}",
            o.reasons
        );
        // The others sit within the boards' ±2%.
        assert!(s.max_ns / s.min_ns > 1.5);
        assert!(s.q3_ns / s.q1_ns < 1.05);
    }
    let b = &fleet.boards[slow_device];
    assert_eq!(b.governors, vec!["powersave".to_string()]);
    assert!(b.roofs.peak_macs_per_s.is_some());
    // Laptops log no roofs: said so, not made up.
    let laptop = data
        .devices
        .iter()
        .position(|d| d.context.hostname.as_deref() == Some("laptop0"))
        .unwrap();
    assert!(fleet.boards[laptop].roofs.peak_macs_per_s.is_none());
    assert!(fleet.boards[laptop].no_roofs.is_some());
}

#[test]
fn median_and_spread_are_exact_on_a_hand_case() {
    let dir = tempfile::tempdir().unwrap();
    let ms = [10u64, 20, 30, 40, 1000];
    let mut paths = Vec::new();
    for (i, m) in ms.iter().enumerate() {
        let mut records = synth_log(&fleet_board(i), &[SynthModel::new("a", 2, 8, 4)]);
        set_latency_median(&mut records, "a", m * 1_000_000);
        let p = dir.path().join(format!("b{i}.jsonl"));
        std::fs::write(&p, to_jsonl(&records)).unwrap();
        paths.push(p);
    }
    let data = load_logs(&paths).unwrap();
    let a = Analysis::compute(&data);
    let f = a.fleet.unwrap();
    assert_eq!(f.models.len(), 1);
    let s = &f.models[0];
    assert_eq!(s.median_ns, 30e6);
    assert_eq!(s.min_ns, 10e6);
    assert_eq!(s.max_ns, 1000e6);
    assert_eq!(s.q1_ns, 20e6);
    assert_eq!(s.q3_ns, 40e6);
    // |x - 30| = 20, 10, 0, 10, 970: median 10.
    assert_eq!(s.mad_ns, 10e6);
    assert_eq!(s.outliers.len(), 1);
    let o = &s.outliers[0];
    assert_eq!(o.latency_ns, 1000e6);
    assert!((o.robust_z - 970.0 / (1.4826 * 10.0)).abs() < 1e-9);
    // 10 ms: z = -20 / 14.8 = -1.35, not an outlier.
    assert!(s.outliers.iter().all(|o| o.latency_ns != 10e6));
}

#[test]
fn one_board_has_no_fleet_section() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("one.jsonl");
    std::fs::write(&p, to_jsonl(&synth_log(&fleet_board(0), &models()))).unwrap();
    let out = dir.path().join("out");
    analyze(&AnalyzeOptions {
        logs: vec![p],
        out_dir: out.clone(),
        accuracy_csv: None,
        memory_available_bytes: None,
    })
    .unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("Fleet"), "one board, no fleet section");
    assert!(!out.join("fleet_models.csv").exists());
}

#[test]
fn report_and_csvs_show_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet_logs(dir.path(), 30, 3);
    let out = dir.path().join("out");
    analyze(&AnalyzeOptions {
        logs: paths,
        out_dir: out.clone(),
        accuracy_csv: None,
        memory_available_bytes: None,
    })
    .unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("## 9. Fleet: the same models on many boards"),
        "{md}"
    );
    let fleet_part = &md[md.find("## 9. Fleet").unwrap()..];
    // 32 boards: the boards table lists only the outlier board, every board is in the CSV.
    assert!(fleet_part.contains("32 boards"), "{fleet_part}");
    assert!(fleet_part.contains("rpi4b-pi0003"), "{fleet_part}");
    assert!(!fleet_part.contains("rpi4b-pi0004 |"), "{fleet_part}");
    assert!(fleet_part.contains("governor powersave"), "{fleet_part}");
    // Too many devices for a column each in "Devices compared".
    assert!(md.contains("too many for a column each"));
    let csv = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    assert_eq!(csv("fleet_boards.csv").lines().count(), 1 + 32);
    assert_eq!(csv("fleet_models.csv").lines().count(), 1 + 4);
    let outliers = csv("fleet_outliers.csv");
    assert_eq!(outliers.lines().count(), 1 + 2, "{outliers}");
    assert!(outliers.lines().skip(1).all(|l| l.contains("rpi4b-pi0003")));
}

fn ops_in(paths: &[PathBuf]) -> usize {
    paths
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with(r#"{"type":"op""#))
                .count()
        })
        .sum()
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_export_reads_back() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet_logs(dir.path(), 5, 2);
    let out = dir.path().join("out");
    let summary = hiddencost::analyze::analyze_with(
        &AnalyzeOptions {
            logs: paths.clone(),
            out_dir: out.clone(),
            accuracy_csv: None,
            memory_available_bytes: None,
        },
        Some(hiddencost::analyze::ExportFormat::Parquet),
    )
    .unwrap();
    for f in ["ops.parquet", "models.parquet", "runs.parquet"] {
        assert!(summary.files_written.contains(&out.join(f)), "{f}");
    }
    let open = |name: &str| {
        SerializedFileReader::new(std::fs::File::open(out.join(name)).unwrap()).unwrap()
    };
    let rows = |r: &SerializedFileReader<std::fs::File>| r.metadata().file_metadata().num_rows();
    let ops = open("ops.parquet");
    assert_eq!(rows(&ops) as usize, ops_in(&paths));
    let models = open("models.parquet");
    assert_eq!(rows(&models), 7 * 2);
    assert_eq!(rows(&open("runs.parquet")), 7);
    // The first model row is the first log's first model, with its latency.
    let data = load_logs(&paths).unwrap();
    let schema = models.metadata().file_metadata().schema_descr_ptr();
    let col = |name: &str| {
        (0..schema.num_columns())
            .find(|&i| schema.column(i).name() == name)
            .unwrap()
    };
    let first = models.get_row_iter(None).unwrap().next().unwrap().unwrap();
    assert_eq!(
        first.get_string(col("model")).unwrap(),
        &data.runs[0].model.model
    );
    assert_eq!(
        first.get_long(col("latency_median_ns")).unwrap(),
        data.runs[0].model.latency_ns.median as i64
    );
    let outliers: usize = models
        .get_row_iter(None)
        .unwrap()
        .filter(|r| r.as_ref().unwrap().get_bool(col("fleet_outlier")).unwrap())
        .count();
    assert_eq!(outliers, 2, "the planted board, for both models");
    // A counter column per event, with the op's value.
    let op_schema = ops.metadata().file_metadata().schema_descr_ptr();
    let cycles = (0..op_schema.num_columns())
        .find(|&i| op_schema.column(i).name() == "counter_cycles")
        .expect("counter_cycles column");
    let op0 = ops.get_row_iter(None).unwrap().next().unwrap().unwrap();
    let want = data.runs[0].ops[0].counters["cycles"].unwrap().median as i64;
    assert_eq!(op0.get_long(cycles).unwrap(), want);
}

#[test]
fn cli_fleet_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet_logs(dir.path(), 4, 1);
    let out = dir.path().join("out");
    let mut cmd = assert_cmd::Command::cargo_bin("hiddencost").unwrap();
    cmd.arg("analyze")
        .args(&paths)
        .arg("--out")
        .arg(&out)
        .args(["--export", "parquet"]);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if cfg!(feature = "parquet") {
        assert!(output.status.success(), "{stderr}");
        assert!(out.join("ops.parquet").is_file());
        assert!(out.join("fleet_models.csv").is_file());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("Fleet: per model and board class"),
            "{stdout}"
        );
    } else {
        assert!(!output.status.success());
        assert!(stderr.contains("--features parquet"), "{stderr}");
        // Nothing was written: the build's limit is found before any work.
        assert!(!out.join("report.md").exists());
    }
    // Without --export the fleet report works in any build.
    let out2 = dir.path().join("out2");
    assert_cmd::Command::cargo_bin("hiddencost")
        .unwrap()
        .arg("analyze")
        .args(&paths)
        .arg("--out")
        .arg(&out2)
        .assert()
        .success();
    assert!(out2.join("fleet_outliers.csv").is_file());
    let _ = ops_in(&paths);
}

#[test]
fn boards_all_of_different_kinds_are_no_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let pi = dir.path().join("pi.jsonl");
    let laptop = dir.path().join("laptop.jsonl");
    std::fs::write(&pi, to_jsonl(&synth_log(&fleet_board(0), &models()))).unwrap();
    std::fs::write(
        &laptop,
        to_jsonl(&synth_log(&SynthDevice::laptop(), &models())),
    )
    .unwrap();
    let data = load_logs(&[pi, laptop]).unwrap();
    assert_eq!(data.devices.len(), 2);
    assert!(Analysis::compute(&data).fleet.is_none());
}

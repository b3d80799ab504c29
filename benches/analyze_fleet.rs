//! Times `hiddencost analyze` over a synthetic fleet: BOARDS Pi 4 boards (default 1,000), one
//! log each, the same ten models of about 300 executed ops each on every board (about 3M op
//! records at 1,000 boards), one board planted 1.6x slower on `powersave`. Runs the release
//! binary under `/usr/bin/time -v` without and with `--export parquet` (the latter when built
//! with `--features parquet`) and prints wall time and peak RSS of each, and checks the planted
//! board is the fleet report's outlier.
//!
//! Run: `cargo bench --features parquet --bench analyze_fleet [-- BOARDS]`. With
//! `ANALYZE_FLEET_KEEP=DIR` the logs are written into DIR and left there (to profile `analyze`
//! on them again); otherwise into a temporary directory, removed at the end. With
//! `ANALYZE_FLEET_ONE_FILE=1` every board's runs go into one log (`fleet.jsonl`), as a serial
//! capture of many runs would: what peak memory against the size of one large log is about.

#[allow(dead_code)] // the tests use the rest of it
#[path = "../tests/analyze_common/synth.rs"]
mod synth;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use synth::{SynthModel, fleet_board, plant_governor_and_heat, synth_log};

const SLOW: usize = 7;

/// Ten models; blocks 62-71 make 285-325 executed ops each.
fn models() -> Vec<SynthModel> {
    (0..10)
        .map(|j| SynthModel::new(&format!("net{j}"), 62 + j, 8 + 4 * (j % 4), 4))
        .collect()
}

fn write_fleet(dir: &Path, boards: usize, one_file: bool) -> (Vec<PathBuf>, usize, u64) {
    let models = models();
    let mut paths = Vec::with_capacity(boards);
    let (mut ops, mut bytes) = (0usize, 0u64);
    let create =
        |path: &Path| std::io::BufWriter::new(std::fs::File::create(path).expect("create a log"));
    let mut one = one_file.then(|| {
        let path = dir.join("fleet.jsonl");
        paths.push(path.clone());
        create(&path)
    });
    for i in 0..boards {
        let mut d = fleet_board(i);
        if i == SLOW {
            d = d.slower(1.6);
        }
        let mut records = synth_log(&d, &models);
        if i == SLOW {
            plant_governor_and_heat(&mut records, "powersave", 65_000);
        }
        let path = dir.join(format!("board{i:04}.jsonl"));
        let mut own = None;
        let f = match &mut one {
            Some(f) => f,
            None => own.insert(create(&path)),
        };
        for r in &records {
            if matches!(r, hiddencost::record::Record::Op(_)) {
                ops += 1;
            }
            let line = serde_json::to_string(r).expect("a record serializes");
            bytes += line.len() as u64 + 1;
            writeln!(f, "{line}").expect("write a log");
        }
        f.flush().expect("write a log");
        if own.is_some() {
            paths.push(path);
        }
    }
    (paths, ops, bytes)
}

/// (wall seconds, peak RSS bytes) of one `analyze` under `/usr/bin/time -v`.
fn timed(logs: &[PathBuf], out: &Path, export: bool) -> (f64, u64) {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg(env!("CARGO_BIN_EXE_hiddencost"))
        .arg("-q")
        .arg("analyze")
        .args(logs)
        .arg("--out")
        .arg(out);
    if export {
        cmd.args(["--export", "parquet"]);
    }
    let t = Instant::now();
    let output = cmd
        .output()
        .expect("run /usr/bin/time -v hiddencost analyze");
    let wall = t.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "analyze failed: {stderr}");
    let rss_kb: u64 = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("/usr/bin/time -v prints the maximum resident set size");
    (wall, rss_kb * 1024)
}

fn main() {
    let boards: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let temp = tempfile::tempdir().expect("temporary directory");
    let keep = std::env::var_os("ANALYZE_FLEET_KEEP").map(PathBuf::from);
    if let Some(k) = &keep {
        std::fs::create_dir_all(k).expect("create ANALYZE_FLEET_KEEP");
    }
    let dir = keep.as_deref().unwrap_or(temp.path());
    let t = Instant::now();
    let one_file = std::env::var_os("ANALYZE_FLEET_ONE_FILE").is_some_and(|v| v == "1");
    let (logs, ops, bytes) = write_fleet(dir, boards, one_file);
    println!(
        "fleet: {boards} boards x 10 models, {ops} op records, {:.2} GB of logs in {} file(s) \
         (written in {:.0} s)",
        bytes as f64 / 1e9,
        logs.len(),
        t.elapsed().as_secs_f64()
    );
    let modes: &[bool] = if cfg!(feature = "parquet") {
        &[false, true]
    } else {
        println!("built without --features parquet: the export run is left out");
        &[false]
    };
    for &export in modes {
        let out = dir.join(if export { "out-export" } else { "out" });
        let (wall, rss) = timed(&logs, &out, export);
        println!(
            "analyze{}: {wall:.1} s, peak RSS {:.2} GB, {:.2} times the logs' size",
            if export { " --export parquet" } else { "" },
            rss as f64 / 1e9,
            rss as f64 / bytes as f64
        );
        let outliers =
            std::fs::read_to_string(out.join("fleet_outliers.csv")).expect("fleet_outliers.csv");
        let rows: Vec<&str> = outliers.lines().skip(1).collect();
        assert!(
            !rows.is_empty() && rows.iter().all(|r| r.contains(&format!("pi{SLOW:04}"))),
            "the planted board is the only outlier: {rows:?}"
        );
        if export {
            let size = |f: &str| std::fs::metadata(out.join(f)).map_or(0, |m| m.len());
            println!(
                "  ops.parquet {:.0} MB, models.parquet {:.1} MB, runs.parquet {:.2} MB",
                size("ops.parquet") as f64 / 1e6,
                size("models.parquet") as f64 / 1e6,
                size("runs.parquet") as f64 / 1e6
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

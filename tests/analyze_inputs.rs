//! `analyze` and its files: it never writes over its input or a file it did not write, and it
//! reads logs the ways Unix hands them over.

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// `hiddencost analyze ARGS... --out DIR`: exit code, stdout and stderr.
fn analyze(args: &[&Path], dir: &Path) -> (Option<i32>, String, String) {
    outcome(hiddencost().arg("analyze").args(args).arg("--out").arg(dir))
}

#[test]
fn a_log_named_like_an_output_is_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    std::fs::create_dir(&out).unwrap();
    let log = out.join("fit.json");
    let original = std::fs::read(golden("fake.jsonl")).unwrap();
    std::fs::write(&log, &original).unwrap();
    let (code, _, stderr) = analyze(&[&log], &out);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("fit.json is one of the inputs"), "{stderr}");
    assert_eq!(std::fs::read(&log).unwrap(), original, "the log is intact");
    assert!(
        !out.join("report.md").exists(),
        "nothing written once refused"
    );
}

#[test]
fn a_file_analyze_did_not_write_is_kept_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("report.md"), "my notes\n").unwrap();
    let (code, _, stderr) = analyze(&[&golden("fake.jsonl")], &out);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("report.md exists and no earlier `analyze` or `validate` wrote it"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        "my notes\n"
    );
    // Its own output from an earlier run is written over.
    let fresh = dir.path().join("fresh");
    for _ in 0..2 {
        let (code, _, stderr) = analyze(&[&golden("fake.jsonl")], &fresh);
        assert_eq!(code, Some(0), "{stderr}");
    }
}

#[test]
fn compressed_logs_and_a_pipe_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let plain = golden("fake.jsonl");
    let gz = dir.path().join("fake.jsonl.gz");
    let zst = dir.path().join("fake.jsonl.zst");
    let text = std::fs::read(&plain).unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzip, &text).unwrap();
    std::fs::write(&gz, gzip.finish().unwrap()).unwrap();
    let zstd =
        ruzstd::encoding::compress_to_vec(&text[..], ruzstd::encoding::CompressionLevel::Fastest);
    std::fs::write(&zst, zstd).unwrap();
    let (code, stdout, stderr) = analyze(&[&gz, &zst], &dir.path().join("out"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("measured again"),
        "both read as the same log: {stdout}"
    );
    // A pipe, as `analyze <(zcat log.jsonl.gz)` gives one: /dev/stdin here.
    let out = hiddencost()
        .timeout(CASE_TIMEOUT)
        .args(["analyze", "/dev/stdin", "--out"])
        .arg(dir.path().join("piped"))
        .pipe_stdin(&gz)
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let models = std::fs::read_to_string(dir.path().join("piped/models.csv")).unwrap();
    assert!(models.contains("tiny_cnn"), "{models}");
}

#[test]
fn a_log_with_nothing_usable_shows_the_first_notes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bad.jsonl");
    std::fs::write(&log, "{\"type\":\"node\"}\n{\"type\":\"op\"}\n").unwrap();
    let (code, _, stderr) = analyze(&[&log], &dir.path().join("out"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("What was skipped (2 of 2 note(s)):"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.jsonl:1: invalid `node` record"),
        "{stderr}"
    );
    assert!(!stderr.contains("notes above"), "{stderr}");
}

/// `copies` of the zoo log one after the other: each a run of the same ten models on the same
/// device (each copy measures them again), 3.4 MB each, so that runs cross the chunks a log is
/// read in.
fn zoo_copies(dir: &Path, copies: usize) -> PathBuf {
    let text = std::fs::read(golden("zoo_vm.jsonl")).unwrap();
    let path = dir.join("zoo_again.jsonl");
    std::fs::write(&path, text.repeat(copies)).unwrap();
    path
}

#[test]
fn a_log_of_many_chunks_loads_as_its_runs_do_one_by_one() {
    use hiddencost::analyze::load::load_logs;
    let dir = tempfile::tempdir().unwrap();
    let once = load_logs(&[golden("zoo_vm.jsonl")]).unwrap();
    let many = load_logs(&[zoo_copies(dir.path(), 6)]).unwrap();
    assert_eq!(many.runs.len(), once.runs.len());
    for (a, b) in many.runs.iter().zip(&once.runs) {
        assert_eq!(a.model.model, b.model.model);
        assert_eq!(
            a.ops, b.ops,
            "{}: every op whole, across chunks",
            a.model.model
        );
    }
    let again = many
        .notes
        .iter()
        .filter(|n| n.reason.contains("measured again"))
        .count();
    assert_eq!(again, 5 * once.runs.len(), "{:?}", many.notes);
}

#[test]
fn logs_larger_than_the_memory_left_stop_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = zoo_copies(dir.path(), 6);
    let (code, _, stderr) = outcome(
        hiddencost()
            .env("HIDDENCOST_MEMORY_BYTES", "4000000")
            .arg("analyze")
            .arg(&log)
            .arg("--out")
            .arg(dir.path().join("out")),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("the logs need more memory than this machine has: after "),
        "{stderr}"
    );
    assert!(stderr.contains("analyze fewer logs at a time"), "{stderr}");
    assert!(!dir.path().join("out/report.md").exists());
}

#[test]
fn a_compressed_log_cut_short_gives_its_whole_lines_and_says_where_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(golden("zoo_vm.jsonl")).unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzip, &text).unwrap();
    let mut packed = gzip.finish().unwrap();
    packed.truncate(packed.len() / 2);
    let gz = dir.path().join("cut.jsonl.gz");
    std::fs::write(&gz, packed).unwrap();
    let (code, stdout, stderr) = analyze(&[&gz], &dir.path().join("out"));
    assert_eq!(code, Some(0), "{stderr}");
    let models = std::fs::read_to_string(dir.path().join("out/models.csv")).unwrap();
    assert!(
        models.lines().count() > 2,
        "the models before the cut: {models}"
    );
    assert!(
        stdout.contains(
            "the file could not be read from here on (gzip data that cannot be decompressed"
        ),
        "{stdout}"
    );
}

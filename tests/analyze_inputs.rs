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
    let out = hiddencost()
        .timeout(CASE_TIMEOUT)
        .arg("analyze")
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
        stderr.contains("report.md exists and no earlier `analyze` wrote it"),
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

use super::*;

/// A fresh folder under the system's temporary folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("hiddencost-outdir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn an_input_is_never_written_over_whatever_its_name() {
    let s = Scratch::new("input");
    let log = s.0.join("fit.json");
    std::fs::write(&log, "the log\n").unwrap();
    // Also listed as ours: identity, not the manifest, decides.
    std::fs::write(s.0.join(MANIFEST), "fit.json\nreport.md\n").unwrap();
    let mut out = OutDir::open(&s.0, &[&log]).unwrap();
    let e = out.claim(["models.csv", "fit.json"]).unwrap_err();
    assert!(matches!(&e, AnalyzeError::OutputIsInput { path, .. } if path.ends_with("fit.json")));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "the log\n");
    assert!(
        !s.0.join("models.csv").exists(),
        "nothing written on refusal"
    );

    // A hard link under another name is the same file.
    let elsewhere = Scratch::new("input-link");
    let other = elsewhere.0.join("log.jsonl");
    std::fs::write(&other, "another log\n").unwrap();
    std::fs::hard_link(&other, s.0.join("report.md")).unwrap();
    let mut out = OutDir::open(&s.0, &[&other]).unwrap();
    let e = out.claim(["report.md"]).unwrap_err();
    assert!(e.to_string().contains("is one of the inputs"), "{e}");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "another log\n");
}

#[test]
fn a_file_analyze_did_not_write_is_refused_and_kept() {
    let s = Scratch::new("foreign");
    std::fs::write(s.0.join("report.md"), "my notes\n").unwrap();
    let mut out = OutDir::open(&s.0, &[]).unwrap();
    let e = out.claim(["report.md"]).unwrap_err();
    assert!(matches!(&e, AnalyzeError::NotOurs { path, .. } if path.ends_with("report.md")));
    assert!(e.to_string().contains(MANIFEST), "{e}");
    assert_eq!(
        std::fs::read_to_string(s.0.join("report.md")).unwrap(),
        "my notes\n"
    );
}

#[test]
fn files_of_an_earlier_run_are_written_over_and_stay_listed() {
    let s = Scratch::new("rerun");
    let mut out = OutDir::open(&s.0, &[]).unwrap();
    out.claim(["report.md", "trace_a.json"]).unwrap();
    out.write("report.md", b"one").unwrap();
    out.write("trace_a.json", b"{}").unwrap();
    let mut again = OutDir::open(&s.0, &[]).unwrap();
    again.claim(["report.md"]).unwrap();
    again.write("report.md", b"two").unwrap();
    assert_eq!(
        std::fs::read_to_string(s.0.join("report.md")).unwrap(),
        "two"
    );
    let listed = std::fs::read_to_string(s.0.join(MANIFEST)).unwrap();
    assert_eq!(listed, "report.md\ntrace_a.json\n");
}

#[test]
fn the_manifest_names_files_inside_the_folder_only() {
    assert!(is_plain_name("report.md"));
    for bad in ["", ".", "..", "../x", "/etc/passwd", MANIFEST] {
        assert!(!is_plain_name(bad), "{bad}");
    }
}

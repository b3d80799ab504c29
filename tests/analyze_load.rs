//! Bad input: every damaged or foreign line is skipped with file:line and a reason, the rest is
//! analysed, nothing panics.

mod analyze_common;
use analyze_common as common;

use hiddencost::analyze::load::load_logs;
use hiddencost::analyze::{AnalyzeError, AnalyzeOptions, analyze};
use hiddencost::record::{MIN_SCHEMA_VERSION, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(String::from).collect()
}

/// Line number (1-based) of the first line of `text` with `"type":"<kind>"`.
fn line_of(text: &[String], kind: &str) -> usize {
    text.iter()
        .position(|l| l.contains(&format!("\"type\":\"{kind}\"")))
        .unwrap()
        + 1
}

#[test]
fn truncated_last_line_is_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let full = common::small_log();
    let mut ls = lines(&full);
    ls.pop(); // the end record
    let model_b = ls.pop().unwrap(); // model b's model record, cut in the middle (power cut)
    let text = ls.join("\n") + "\n" + &model_b[..model_b.len() / 2];
    let path = write(dir.path(), "cut.jsonl", &text);
    let data = load_logs(std::slice::from_ref(&path)).unwrap();
    assert_eq!(data.runs.len(), 1, "model a is complete, b is not");
    assert_eq!(data.runs[0].model.model, "a");
    let notes: Vec<String> = data.notes.iter().map(|n| n.to_string()).collect();
    let last = ls.len() + 1;
    let p = path.display();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with(&format!("{p}:{last}: truncated last line"))),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("model `b`") && n.contains("without a model record")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with(&format!("{p}:1: run has no end record"))),
        "{notes:#?}"
    );
}

#[test]
fn kernel_console_lines_on_the_serial_capture_are_one_note() {
    let dir = tempfile::tempdir().unwrap();
    let clean = common::small_log();
    let mut ls = lines(&clean);
    ls.insert(0, "[    2.910555] Run /init as init process".into());
    ls.insert(3, "hiddencost: model 1 a".into());
    ls.push("hiddencost: HIDDENCOST-END".into());
    let mixed = write(dir.path(), "serial.log", &(ls.join("\n") + "\n"));
    let plain = write(dir.path(), "plain.jsonl", &clean);
    let data = load_logs(&[mixed]).unwrap();
    let reference = load_logs(&[plain]).unwrap();
    assert_eq!(data.runs.len(), reference.runs.len());
    assert_eq!(data.notes.len(), 1, "{:#?}", data.notes);
    assert_eq!(data.notes[0].line, 1);
    assert!(
        data.notes[0].reason.starts_with("3 console line(s)"),
        "{}",
        data.notes[0].reason
    );
}

#[test]
fn garbage_and_unknown_lines_are_skipped_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut ls = lines(&common::small_log());
    let at = line_of(&ls, "model"); // before model a's record
    ls.insert(at - 1, "\u{1}\u{2}garbage{{{".into());
    ls.insert(at, r#"{"type":"gpu_counter","x":1}"#.into());
    ls.insert(at + 1, r#"{"type":"op","model":"a"}"#.into());
    ls.insert(at + 2, "[1,2,3]".into());
    let path = write(dir.path(), "g.jsonl", &(ls.join("\n") + "\n"));
    let data = load_logs(&[path]).unwrap();
    assert_eq!(data.runs.len(), 2);
    let by_line: Vec<(usize, &str)> = data
        .notes
        .iter()
        .map(|n| (n.line, n.reason.as_str()))
        .collect();
    assert_eq!(by_line.len(), 4, "{by_line:#?}");
    assert_eq!(by_line[0].0, at);
    assert!(by_line[0].1.starts_with("corrupted line: not JSON"));
    assert_eq!(by_line[1].0, at + 1);
    assert!(
        by_line[1]
            .1
            .starts_with("unknown record type `gpu_counter`")
    );
    assert_eq!(by_line[2].0, at + 2);
    assert!(
        by_line[2]
            .1
            .starts_with("invalid `op` record: missing field"),
        "{}",
        by_line[2].1
    );
    assert_eq!(by_line[3].0, at + 3);
    assert!(by_line[3].1.starts_with("not a record"));
}

#[test]
fn unknown_schema_version_skips_that_run_only() {
    let dir = tempfile::tempdir().unwrap();
    let good = common::small_log();
    let (now, next) = (SCHEMA_VERSION, SCHEMA_VERSION + 1);
    let future = good.replacen(
        &format!("\"schema_version\":{now}"),
        &format!("\"schema_version\":{next}"),
        1,
    );
    let n_future = future.lines().count();
    // Mixed versions in one file: a future run, then a current one.
    let path = write(dir.path(), "mixed.jsonl", &(future + &good));
    let data = load_logs(&[path]).unwrap();
    assert_eq!(data.runs.len(), 2, "the current run is used");
    assert_eq!(
        data.runs[0].line,
        n_future + line_of(&lines(&good), "model")
    );
    let notes: Vec<String> = data
        .notes
        .iter()
        .map(|n| format!("{}: {}", n.line, n.reason))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(notes[0].starts_with(&format!(
        "1: header skipped: schema_version {next}, this hiddencost reads {MIN_SCHEMA_VERSION} to {now}"
    )));
    assert!(notes[1].starts_with(&format!(
        "2: lines 2-{n_future}: {} records skipped",
        n_future - 1
    )));
}

#[test]
fn records_before_a_header_and_error_records_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    let ls = lines(&common::small_log());
    let text = format!(
        "{}\n{}\n{}\n",
        ls[1],
        ls[0],
        r#"{"type":"error","model":"x.onnx","message":"x.onnx: dynamic shape; pass --input-shape"}"#
    );
    let path = write(dir.path(), "h.jsonl", &text);
    let data = load_logs(&[path]).unwrap();
    assert!(data.runs.is_empty());
    assert_eq!(data.failed.len(), 1);
    let reasons: Vec<&str> = data.notes.iter().map(|n| n.reason.as_str()).collect();
    assert!(reasons[0].starts_with("record before any header"));
    assert!(reasons[1].contains("model `x.onnx` failed in the bench: x.onnx: dynamic shape"));
    assert!(reasons[2].starts_with("run has no end record"));
}

#[test]
fn nothing_usable_is_an_error_that_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "junk.jsonl", "{not json\n\0\0\0");
    let opts = AnalyzeOptions {
        logs: vec![path],
        out_dir: dir.path().join("out"),
        accuracy_csv: None,
        memory_available_bytes: None,
    };
    let err = analyze(&opts).unwrap_err();
    assert!(matches!(err, AnalyzeError::NoModels { .. }));
    let msg = err.to_string();
    assert!(msg.contains("junk.jsonl:1: corrupted line"), "{msg}");
    let missing = AnalyzeOptions {
        logs: vec![dir.path().join("nope.jsonl")],
        ..opts.clone()
    };
    let msg = analyze(&missing).unwrap_err().to_string();
    assert!(
        msg.starts_with("cannot read") && msg.contains("nope.jsonl"),
        "{msg}"
    );
    let none = AnalyzeOptions {
        logs: vec![],
        ..opts
    };
    assert!(matches!(analyze(&none), Err(AnalyzeError::NoLogs)));
}

#[test]
fn any_byte_soup_never_panics() {
    // Deterministic pseudo-random damage of a valid log: cut, flip and duplicate bytes.
    let dir = tempfile::tempdir().unwrap();
    let good = common::small_log().into_bytes();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..200 {
        let mut bytes = good.clone();
        for _ in 0..(1 + round % 8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state as usize) % bytes.len();
            match state % 3 {
                0 => bytes.truncate(at.max(1)),
                1 => bytes[at] = (state >> 32) as u8,
                _ => bytes.insert(at, b'\n'),
            }
        }
        let path = dir.path().join("soup.jsonl");
        std::fs::write(&path, &bytes).unwrap();
        let opts = AnalyzeOptions {
            logs: vec![path],
            out_dir: dir.path().join("out"),
            accuracy_csv: None,
            memory_available_bytes: None,
        };
        let _ = analyze(&opts);
    }
}

#[test]
fn a_log_with_no_counters_is_analysed() {
    let data = load_logs(&[common::golden("real.jsonl")]).unwrap();
    assert_eq!(data.runs.len(), 3);
    let cycles_measured = data
        .runs
        .iter()
        .flat_map(|r| &r.ops)
        .any(|o| o.counters.get("cycles").copied().flatten().is_some());
    assert!(
        !cycles_measured,
        "the golden real log was made without PMU access"
    );
}

#[test]
fn a_byte_order_mark_is_not_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let text = common::small_log();
    let plain = load_logs(&[write(dir.path(), "plain.jsonl", &text)]).unwrap();
    let bom = load_logs(&[write(dir.path(), "bom.jsonl", &format!("\u{feff}{text}"))]).unwrap();
    assert_eq!(bom.runs.len(), plain.runs.len());
    assert_eq!(bom.runs.len(), 2);
    assert_eq!(bom.notes.len(), plain.notes.len(), "{:?}", bom.notes);
}

#[test]
fn a_fifo_is_read_without_waiting_and_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Nobody writes the FIFO: it reads as empty at once instead of waiting for a writer.
    let data = load_logs(std::slice::from_ref(&fifo)).unwrap();
    assert!(data.is_empty());
    let e = load_logs(&[dir.path().to_path_buf()]).unwrap_err();
    assert!(matches!(e, AnalyzeError::Read { .. }), "{e}");
    assert!(
        e.to_string().contains("a directory, not a regular file"),
        "{e}"
    );
}

#[test]
fn a_model_measured_again_keeps_the_later_measurement_in_its_place() {
    // Two files from the same board: a and b, then b and c; b's second measurement is used,
    // after a and before c, with a note naming where the first one was.
    use common::synth::{SynthDevice, SynthModel, synth_log, to_jsonl};
    let dir = tempfile::tempdir().unwrap();
    let first = to_jsonl(&synth_log(
        &SynthDevice::pi4(),
        &[SynthModel::new("a", 2, 8, 4), SynthModel::new("b", 3, 8, 4)],
    ));
    let mut slower = SynthDevice::pi4();
    slower.ns_per_mac *= 2.0;
    let second = to_jsonl(&synth_log(
        &slower,
        &[SynthModel::new("b", 3, 8, 4), SynthModel::new("c", 2, 8, 4)],
    ));
    let paths = [
        write(dir.path(), "1.jsonl", &first),
        write(dir.path(), "2.jsonl", &second),
    ];
    let data = load_logs(&paths).unwrap();
    let names: Vec<&str> = data.runs.iter().map(|r| r.model.model.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(data.devices.len(), 1);
    assert_eq!(data.runs[1].log, paths[1], "the later b");
    let notes: Vec<String> = data.notes.iter().map(|n| n.to_string()).collect();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].starts_with(&paths[0].display().to_string())
            && notes[0].contains("model `b`")
            && notes[0].contains("measured again at"),
        "{notes:#?}"
    );
}

#[test]
fn a_count_no_measurement_can_have_skips_its_record() {
    // An op record whose wall time is 2^64 - 1 ns (a hand-edited or damaged log): skipped
    // with a note, so no sum of the analysis overflows; the rest is analysed.
    let dir = tempfile::tempdir().unwrap();
    let mut ls = lines(&common::small_log());
    let op = ls
        .iter()
        .position(|l| l.contains("\"type\":\"op\""))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&ls[op]).unwrap();
    v["wall_ns"]["median"] = u64::MAX.into();
    ls[op] = v.to_string();
    let path = write(dir.path(), "huge.jsonl", &(ls.join("\n") + "\n"));
    let data = load_logs(std::slice::from_ref(&path)).unwrap();
    assert_eq!(data.runs.len(), 2, "both models still analysed");
    let notes: Vec<String> = data.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes.iter().any(
            |n| n.starts_with(&format!("{}:{}:", path.display(), op + 1))
                && n.contains("`wall_ns.median` is 18446744073709551615")
        ),
        "{notes:#?}"
    );
    drop(hiddencost::analyze::Analysis::compute(&data));
}

#[test]
fn real_models_far_beyond_the_zoo_are_kept_and_limits_follow_units() {
    // A CIFAR ResNet50 at a 4096 x 4096 input: 21 x 10^12 MACs by `hiddencost cost`, and
    // minutes per run. Kept; a cost above 2^52 or a time above 2^46 ns is not, and the note
    // names the limit's unit.
    let dir = tempfile::tempdir().unwrap();
    let ls = lines(&common::small_log());
    let op = ls
        .iter()
        .position(|l| l.contains("\"type\":\"op\""))
        .unwrap();
    let model = ls
        .iter()
        .position(|l| l.contains("\"type\":\"model\""))
        .unwrap();
    let with = |edit: &dyn Fn(&mut serde_json::Value, &mut serde_json::Value)| {
        let mut ls = ls.clone();
        let mut o: serde_json::Value = serde_json::from_str(&ls[op]).unwrap();
        let mut m: serde_json::Value = serde_json::from_str(&ls[model]).unwrap();
        edit(&mut o, &mut m);
        ls[op] = o.to_string();
        ls[model] = m.to_string();
        ls.join("\n") + "\n"
    };
    let big = with(&|o, m| {
        o["macs"] = 21_000_000_000_000u64.into();
        m["macs"] = 21_000_000_000_000u64.into();
        o["wall_ns"]["median"] = 1_500_000_000_000u64.into(); // 25 minutes, above 2^40 ns
        m["latency_ns"]["median"] = 1_500_000_000_000u64.into();
    });
    let path = write(dir.path(), "big.jsonl", &big);
    let data = load_logs(std::slice::from_ref(&path)).unwrap();
    assert_eq!(data.runs.len(), 2);
    let notes: Vec<String> = data.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        !notes
            .iter()
            .any(|n| n.contains("more than any measurement")),
        "{notes:#?}"
    );
    drop(hiddencost::analyze::Analysis::compute(&data));

    for (name, edit, said) in [
        (
            "macs.jsonl",
            &(|o: &mut serde_json::Value, _: &mut serde_json::Value| {
                o["macs"] = ((1u64 << 52) + 1).into()
            }) as &dyn Fn(&mut serde_json::Value, &mut serde_json::Value),
            "`macs` is 4503599627370497, more than any measurement can hold (at most 2^52 MACs, \
             FLOPs, params or bytes)",
        ),
        (
            "ns.jsonl",
            &|o: &mut serde_json::Value, _: &mut serde_json::Value| {
                o["wall_ns"]["max"] = ((1u64 << 46) + 1).into()
            },
            "`wall_ns.max` is 70368744177665, more than any measurement can hold (at most 2^46 \
             ns, 19.5 hours)",
        ),
    ] {
        let path = write(dir.path(), name, &with(edit));
        let data = load_logs(std::slice::from_ref(&path)).unwrap();
        let notes: Vec<String> = data.notes.iter().map(|n| n.to_string()).collect();
        assert!(notes.iter().any(|n| n.contains(said)), "{name}: {notes:#?}");
    }
    // A model record out of bounds takes its model's node and op records along, said so, and
    // does not call the measurement cut short.
    let path = write(
        dir.path(),
        "model.jsonl",
        &with(&|_, m| m["latency_ns"]["p99"] = u64::MAX.into()),
    );
    let data = load_logs(std::slice::from_ref(&path)).unwrap();
    assert_eq!(data.runs.len(), 1);
    let notes: Vec<String> = data.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`latency_ns.p99` is 18446744073709551615")
                && n.contains("the record is skipped, with the model's")),
        "{notes:#?}"
    );
    assert!(!notes.iter().any(|n| n.contains("cut short")), "{notes:#?}");
}

#[test]
fn a_version_1_log_loads_with_no_packed_or_scratch_bytes() {
    let text = std::fs::read_to_string(common::golden("real.jsonl")).unwrap();
    assert!(text.starts_with(r#"{"type":"header","schema_version":1,"#));
    let data = load_logs(&[common::golden("real.jsonl")]).unwrap();
    // Its one note is the model the bench itself failed on, not a version skip.
    assert!(
        data.notes
            .iter()
            .all(|n| n.reason.contains("failed in the bench")),
        "{:#?}",
        data.notes
    );
    assert_eq!(data.runs.len(), 3);
    let ops = data.runs.iter().flat_map(|r| &r.ops);
    assert!(ops.clone().count() > 0);
    for op in ops {
        let c = &op.cost;
        assert_eq!(
            (
                c.packed_const_bytes,
                c.scratch_bytes_read,
                c.scratch_bytes_written
            ),
            (0, 0, 0)
        );
    }
}

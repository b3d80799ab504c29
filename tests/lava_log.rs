//! LAVA job logs (issue 14 item 2): the golden QEMU log's JSON lines, sent over a "serial
//! line" with kernel console lines between them, written the way LAVA writes a job log
//! (docs/analysis.md "What LAVA writes" says what was read in LAVA's source), come back out of
//! `hiddencost lava-records` byte for byte, and `hiddencost analyze` on the LAVA log writes the
//! same counters.csv and models.csv as on the JSON lines.

mod common;
use common::*;
use std::fmt::Write as _;
use std::path::Path;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/qemu_virt_icount.jsonl"
);

/// A string as PyYAML's dumper writes it with `default_style='"'` (allow_unicode off): the
/// named escapes, `\xXX`, `\uXXXX`, `\UXXXXXXXX` for everything outside printable ASCII.
fn yaml_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        let named = match ch {
            '\0' => Some('0'),
            '\x07' => Some('a'),
            '\x08' => Some('b'),
            '\t' => Some('t'),
            '\n' => Some('n'),
            '\x0b' => Some('v'),
            '\x0c' => Some('f'),
            '\r' => Some('r'),
            '\x1b' => Some('e'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '\u{85}' => Some('N'),
            '\u{a0}' => Some('_'),
            '\u{2028}' => Some('L'),
            '\u{2029}' => Some('P'),
            _ => None,
        };
        match (named, ch as u32) {
            (Some(c), _) => write!(out, "\\{c}").unwrap(),
            (None, 0x20..=0x7e) => out.push(ch),
            (None, c @ ..=0xff) => write!(out, "\\x{c:02X}").unwrap(),
            (None, c @ ..=0xffff) => write!(out, "\\u{c:04X}").unwrap(),
            (None, c) => write!(out, "\\U{c:08X}").unwrap(),
        }
    }
    out.push('"');
    out
}

/// One entry line as LAVA's `dump` writes it (sorted keys, flow style, all double-quoted).
fn entry(n: usize, lvl: &str, msg: &str) -> String {
    let dt = format!(
        "2026-12-02T14:{:02}:{:02}.{:06}+00:00",
        n / 60000 % 60,
        n / 1000 % 60,
        n % 1000 * 997
    );
    format!(
        "{{\"dt\": {}, \"lvl\": {}, \"msg\": {}}}",
        yaml_quoted(&dt),
        yaml_quoted(lvl),
        yaml_quoted(msg)
    )
}

/// What the dispatcher's ShellLogger does with the bytes read from the serial line: keep a
/// partial line, split whole ones on `\r\r\n`, `\r\n` or `\n`, drop ESC, log each as `target`.
struct ShellLogger {
    partial: String,
    entries: Vec<String>,
}

impl ShellLogger {
    fn write(&mut self, chunk: &str) {
        self.partial.push_str(chunk);
        while let Some(end) = self.partial.find('\n') {
            let mut line: String = self.partial.drain(..=end).collect();
            line.pop();
            while line.ends_with('\r') {
                line.pop();
            }
            let line = line.replace('\x1b', "");
            let n = self.entries.len();
            self.entries.push(entry(n, "target", &line));
        }
    }
}

/// The golden JSON lines on a serial console (`\r\n` line ends, kernel lines between
/// records, read in odd-sized chunks), then written as LAVA does: the server's log.yaml
/// (`- ` entries, dispatcher info lines and a result around the device's) and lava-run's
/// stderr (the same entries unprefixed).
fn lava_logs(card: &str) -> (String, String) {
    let mut serial = String::new();
    for (ix, line) in card.lines().enumerate() {
        if ix % 97 == 0 {
            write!(
                serial,
                "[ {:4}.{:06}] random: crng init done \"{}\" \\ é\r\n",
                ix / 10,
                ix,
                ix
            )
            .unwrap();
        }
        serial.push_str(line);
        serial.push_str("\r\n");
    }
    serial.push_str("\x1b[0m[  999.000000] reboot: Power down\r\n");
    let mut shell = ShellLogger {
        partial: String::new(),
        entries: vec![
            entry(0, "info", "lava-dispatcher, installed at version: 2026.01"),
            entry(
                1,
                "debug",
                "start: 2.1 qemu-boot (timeout 00:10:00) [common]",
            ),
        ],
    };
    let bytes = serial.as_bytes();
    let mut at = 0;
    let mut size = 1;
    while at < bytes.len() {
        let mut end = (at + size).min(bytes.len());
        while !serial.is_char_boundary(end) {
            end += 1;
        }
        shell.write(&serial[at..end]);
        at = end;
        size = size * 7 % 4093 + 1;
    }
    shell.entries.push(
        "{\"dt\": \"2026-12-02T15:00:00.000000+00:00\", \"lvl\": \"results\", \"msg\": \
         {\"case\": \"job\", \"definition\": \"lava\", \"duration\": !!float \"12.5\", \
         \"extra\": [\"a\", \"b\"], \"result\": \"pass\"}}"
            .to_string(),
    );
    let server: String = shell.entries.iter().map(|e| format!("- {e}\n")).collect();
    let stderr: String = shell.entries.iter().map(|e| format!("{e}\n")).collect();
    (server, stderr)
}

fn records(log: &Path) -> (Vec<u8>, String, Option<i32>) {
    let out = hiddencost().arg("lava-records").arg(log).output().unwrap();
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn analyze(log: &Path, dir: &Path) -> String {
    let out = hiddencost()
        .arg("analyze")
        .arg(log)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn records_come_back_byte_for_byte_and_analyze_agrees() {
    let card = std::fs::read_to_string(GOLDEN).unwrap();
    let (server, stderr) = lava_logs(&card);
    assert!(
        server.contains("\\\"type\\\":\\\"header\\\""),
        "quotes escaped"
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("log.yaml", &server), ("lava-run.stderr", &stderr)] {
        let log = dir.path().join(name);
        std::fs::write(&log, text).unwrap();
        let (out, err, code) = records(&log);
        assert_eq!(code, Some(0), "{err}");
        assert!(out == card.as_bytes(), "{name}: extracted records differ");

        let a = dir.path().join(format!("{name}.jsonl.out"));
        let b = dir.path().join(format!("{name}.out"));
        analyze(Path::new(GOLDEN), &a);
        let summary = analyze(&log, &b);
        assert!(
            summary.contains("serial line(s) of the device that are not records"),
            "{summary}"
        );
        for csv in ["counters.csv", "models.csv"] {
            let x = std::fs::read(a.join(csv)).unwrap();
            let y = std::fs::read(b.join(csv)).unwrap();
            assert!(
                x == y,
                "{name}: {csv} differs between the JSON lines and the LAVA log"
            );
        }
    }
}

#[test]
fn damaged_lava_logs_keep_what_can_be_read() {
    let card = std::fs::read_to_string(GOLDEN).unwrap();
    let (server, _) = lava_logs(&card);
    let lines: Vec<&str> = server.lines().collect();
    let dir = tempfile::tempdir().unwrap();

    // Cut mid-entry (the server's file copied while the job ran): the records before it.
    let cut = &server[..server.len() * 2 / 3];
    let log = dir.path().join("cut.yaml");
    std::fs::write(&log, cut).unwrap();
    let (out, err, code) = records(&log);
    assert_eq!(code, Some(2));
    assert!(err.contains("cut short"), "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(card.starts_with(&out) && out.lines().count() > 500);
    let summary = analyze(&log, &dir.path().join("cut"));
    assert!(summary.contains("LAVA log entry unreadable"), "{summary}");

    // A garbled entry, a bad escape and a line LAVA found too long, in the middle: the other
    // records are all there, and each bad line is named.
    let mut damaged: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let at: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("\\\"type\\\""))
        .collect();
    let (a, b, c) = (at[100], at[200], at[300]);
    damaged[a] = "- {\"dt\": \"x\", \"lvl\": \"target\" \"msg\": \"{}\"}".into();
    damaged[b] = damaged[b].replacen("\\\"", "\\q", 1);
    damaged[c] = format!("- {}", entry(0, "target", "<line way too long ...>"));
    let log = dir.path().join("damaged.yaml");
    std::fs::write(&log, damaged.join("\n") + "\n").unwrap();
    let (out, err, code) = records(&log);
    assert_eq!(code, Some(2));
    for needle in [
        format!(":{}: malformed entry", a + 1),
        format!(":{}: bad escape `\\q`", b + 1),
        format!(":{}: LAVA replaced", c + 1),
    ] {
        assert!(err.contains(&needle), "{needle}: {err}");
    }
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.lines().count(), card.lines().count() - 3);
    assert!(out.lines().all(|l| card.lines().any(|c| c == l)));

    // The block style other log backends serve: said, not misread.
    let log = dir.path().join("block.yaml");
    std::fs::write(
        &log,
        "- dt: '2026-12-02T14:00:00'\n  lvl: target\n  msg: '{}'\n",
    )
    .unwrap();
    let (_, err, code) = records(&log);
    assert_eq!(code, Some(1));
    assert!(err.contains("block style"), "{err}");

    // Not a LAVA log: a clear error, and analyze still reads JSON lines as before.
    let (_, err, code) = records(Path::new(GOLDEN));
    assert_eq!(code, Some(1));
    assert!(err.contains("not a LAVA job log"), "{err}");
}

/// The same with PyYAML's own dumpers (libyaml's and the pure-Python one), run by
/// tests/lava_log.py with the parameters of LAVA's `dump()`. Needs a python3 with PyYAML
/// (tests/run.sh puts its virtual environment first on PATH, PyYAML pinned there).
#[test]
fn records_come_back_from_pyyaml_dumped_logs() {
    let has_yaml = std::process::Command::new("python3")
        .args(["-c", "import yaml"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_yaml,
        "python3 on PATH has no PyYAML: run the tests with `bash tests/run.sh` (its \
         target/test-venv has it), or `pip install pyyaml`"
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lava_log.py");
    let dir = tempfile::tempdir().unwrap();
    for dumper in ["libyaml", "pure"] {
        let log = dir.path().join(format!("{dumper}.yaml"));
        let expected = dir.path().join(format!("{dumper}.jsonl"));
        let status = std::process::Command::new("python3")
            .arg(script)
            .arg(GOLDEN)
            .arg(&log)
            .arg(&expected)
            .args((dumper == "pure").then_some("pure"))
            .status()
            .unwrap();
        assert!(status.success());
        let (out, err, code) = records(&log);
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains("lost in LAVA") && err.lines().count() == 1,
            "{err}"
        );
        let expected = std::fs::read(&expected).unwrap();
        assert!(out == expected, "{dumper}: extracted records differ");
    }
}

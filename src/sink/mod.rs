//! Where records go: a file, stdout, or a serial port (raw 8N1). Each record is serialized to one
//! line and written and flushed at once, so a power cut loses at most the line being written.
//!
//! Architecture invariant: only this module and `record` know JSON.

mod serial;

use crate::record::Record;
pub use serial::{STALL_LIMIT, SerialPort};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub const DEFAULT_BAUD: u32 = 115_200;
/// Slowest serial line taken: below it a study's log takes hours to cross (at 9600 baud, 960
/// bytes a second); 0 would hang up the line.
pub const MIN_BAUD: u32 = 9_600;
/// Fastest serial line taken: the fastest rate Linux's termios names (B4000000).
pub const MAX_BAUD: u32 = 4_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File(PathBuf),
    Stdout,
    Serial { device: PathBuf, baud: u32 },
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("bad --out `{0}`: use a file path, `-` for stdout, or serial:/dev/ttyX[@baud]")]
    BadTarget(String),
    #[error(
        "bad --out `{target}`: baud rate `{baud}` is not from {MIN_BAUD} to {MAX_BAUD} (0 hangs \
         up the line, slower lines take hours per log); the default is {DEFAULT_BAUD}"
    )]
    BadBaud { target: String, baud: String },
    #[error("cannot open output {target}: {cause}")]
    Open {
        target: String,
        cause: std::io::Error,
    },
    #[error("serial port {device}: {what}: {cause}; is the adapter plugged in?")]
    Serial {
        device: String,
        what: &'static str,
        cause: std::io::Error,
    },
    #[error(
        "--out {target} is {kind}, not a regular file: give a file path, `-` for stdout, or \
         serial:/dev/ttyX[@baud] for a serial port"
    )]
    NotAFile { target: String, kind: &'static str },
    #[error(
        "--out {target} exists and is not a hiddencost log (it does not start with a header \
         record): records are appended to a log, never to another file; give a new path"
    )]
    NotALog { target: String },
    #[error("the reader of {target} closed it (broken pipe): no more records reach it")]
    BrokenPipe { target: String },
    #[error(
        "{target} took no data for {} s (nobody reads the line, or flow control holds it): \
         the records from here on are not on it",
        STALL_LIMIT.as_secs()
    )]
    Stalled { target: String },
    #[error("writing to {target} failed: {cause} (disk full, or device unplugged?)")]
    Write {
        target: String,
        cause: std::io::Error,
    },
}

impl Target {
    /// Parses `--out`: `-`, `serial:/dev/ttyAMA0[@115200]`, or a file path.
    pub fn parse(s: &str) -> Result<Target, SinkError> {
        if s == "-" {
            return Ok(Target::Stdout);
        }
        if let Some(rest) = s.strip_prefix("serial:") {
            let (device, baud) = match rest.rsplit_once('@') {
                Some((d, b)) => match b.parse::<u32>() {
                    Ok(baud) if (MIN_BAUD..=MAX_BAUD).contains(&baud) => (d, baud),
                    _ => {
                        return Err(SinkError::BadBaud {
                            target: s.into(),
                            baud: b.into(),
                        });
                    }
                },
                None => (rest, DEFAULT_BAUD),
            };
            if device.is_empty() {
                return Err(SinkError::BadTarget(s.into()));
            }
            return Ok(Target::Serial {
                device: device.into(),
                baud,
            });
        }
        if s.is_empty() {
            return Err(SinkError::BadTarget(s.into()));
        }
        Ok(Target::File(s.into()))
    }

    pub fn label(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Stdout => "stdout".into(),
            Target::Serial { device, baud } => format!("serial:{}@{baud}", device.display()),
        }
    }
}

/// One open output.
struct Output {
    label: String,
    out: Box<dyn Write + Send>,
    /// Kept for fsync when the output is a file.
    file: Option<File>,
}

/// An open destination for records: one output, or several written alike (PID 1 mode writes
/// the serial port and the card). An output that fails is dropped with a warning and the others
/// go on; the error is returned when none is left.
pub struct Sink {
    outputs: Vec<Output>,
    line: String,
    pub records_written: u64,
}

fn open_output(target: &Target) -> Result<Output, SinkError> {
    let label = target.label();
    let open_err = |cause| SinkError::Open {
        target: label.clone(),
        cause,
    };
    let (out, file): (Box<dyn Write + Send>, Option<File>) = match target {
        Target::Stdout => (Box::new(std::io::stdout()), None),
        Target::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(open_err)?;
            }
            check_appendable(path, &label)?;
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(open_err)?;
            let sync = f.try_clone().map_err(open_err)?;
            (Box::new(f), Some(sync))
        }
        Target::Serial { device, baud } => (Box::new(SerialPort::open(device, *baud)?), None),
    };
    Ok(Output { label, out, file })
}

/// What every log starts with: its header record, as `record` serializes it.
const LOG_START: &[u8] = br#"{"type":"header""#;

/// An existing `--out` must be a character device (`/dev/null`, `/dev/full`, a terminal) or a
/// regular file that is empty or starts like a log (or like the start of one, cut short):
/// opening a FIFO would block, writing a block device would overwrite a disk, and appending to
/// another file would spoil it without a word.
/// What a file that is not a regular one is, for refusals that name it.
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    match () {
        _ if t.is_file() => "a regular file",
        _ if t.is_dir() => "a directory",
        _ if t.is_fifo() => "a FIFO (named pipe)",
        _ if t.is_block_device() => "a block device",
        _ if t.is_char_device() => "a character device",
        _ if t.is_socket() => "a socket",
        _ => "neither a file nor a directory",
    }
}

fn check_appendable(path: &Path, label: &str) -> Result<(), SinkError> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(cause) => {
            return Err(SinkError::Open {
                target: label.into(),
                cause,
            });
        }
    };
    if meta.file_type().is_char_device() {
        return Ok(());
    }
    if !meta.is_file() {
        return Err(SinkError::NotAFile {
            target: label.into(),
            kind: file_kind(&meta),
        });
    }
    let mut start = Vec::with_capacity(LOG_START.len());
    File::open(path)
        .and_then(|f| f.take(LOG_START.len() as u64).read_to_end(&mut start))
        .map_err(|cause| SinkError::Open {
            target: label.into(),
            cause,
        })?;
    if start[..] != LOG_START[..start.len()] {
        return Err(SinkError::NotALog {
            target: label.into(),
        });
    }
    Ok(())
}

impl Output {
    fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.out.write_all(line)?;
        self.out.flush()
    }

    fn sync(&self) -> std::io::Result<()> {
        match self.file.as_ref().map(File::sync_all) {
            // Character devices and pipes cannot be synced (EINVAL, e.g. /dev/null): fine.
            Some(Err(e)) if e.raw_os_error() == Some(22) => Ok(()),
            Some(r) => r,
            None => Ok(()),
        }
    }
}

impl Sink {
    pub fn open(target: &Target) -> Result<Sink, SinkError> {
        Self::open_all(std::slice::from_ref(target))
    }

    /// Opens every target (stdout if there is none); fails if any cannot be opened.
    pub fn open_all(targets: &[Target]) -> Result<Sink, SinkError> {
        let outputs = if targets.is_empty() {
            vec![open_output(&Target::Stdout)?]
        } else {
            targets
                .iter()
                .map(open_output)
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(Self::from_outputs(outputs))
    }

    /// Opens what can be opened of `targets` and says why the others could not; fails only when
    /// none opens. For unattended runs, where the card must get the log even if the serial
    /// adapter is missing.
    pub fn open_any(targets: &[Target]) -> Result<(Sink, Vec<SinkError>), SinkError> {
        let (ok, failed): (Vec<_>, Vec<_>) =
            targets.iter().map(open_output).partition(Result::is_ok);
        let outputs: Vec<Output> = ok.into_iter().flatten().collect();
        let mut failed: Vec<SinkError> = failed.into_iter().filter_map(Result::err).collect();
        if outputs.is_empty() {
            return Err(failed
                .pop()
                .unwrap_or_else(|| SinkError::BadTarget("no output".into())));
        }
        Ok((Self::from_outputs(outputs), failed))
    }

    fn from_outputs(outputs: Vec<Output>) -> Sink {
        Sink {
            outputs,
            line: String::with_capacity(4096),
            records_written: 0,
        }
    }

    /// An in-memory or test sink.
    pub fn from_writer(out: Box<dyn Write + Send>, label: &str) -> Sink {
        Self::from_outputs(vec![Output {
            label: label.into(),
            out,
            file: None,
        }])
    }

    /// The outputs still written to, e.g. `serial:/dev/ttyAMA0@115200 + /boot/results/x.jsonl`.
    pub fn label(&self) -> String {
        self.outputs
            .iter()
            .map(|o| o.label.as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    }

    /// Runs `op` on every output, dropping those that fail (said, while others are left);
    /// errs when none is left.
    fn each(&mut self, op: impl Fn(&mut Output) -> std::io::Result<()>) -> Result<(), SinkError> {
        let mut failed = Vec::new();
        self.outputs.retain_mut(|o| match op(o) {
            Ok(()) => true,
            Err(cause) => {
                let target = o.label.clone();
                failed.push(match cause.kind() {
                    std::io::ErrorKind::BrokenPipe => SinkError::BrokenPipe { target },
                    std::io::ErrorKind::TimedOut => SinkError::Stalled { target },
                    _ => SinkError::Write { target, cause },
                });
                false
            }
        });
        let last = if self.outputs.is_empty() {
            failed.pop()
        } else {
            None
        };
        for err in &failed {
            log::error!("{err}; going on without it");
        }
        match last {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Writes one record as one line to every output and flushes it.
    pub fn write(&mut self, record: &Record) -> Result<(), SinkError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        // Serializing plain data structs into a String cannot fail.
        line.push_str(&serde_json::to_string(record).unwrap_or_default());
        line.push('\n');
        let result = self.each(|o| o.write_line(line.as_bytes()));
        self.line = line;
        result?;
        self.records_written += 1;
        Ok(())
    }

    /// Makes what was written durable (fsync for files; a no-op elsewhere).
    pub fn sync(&mut self) -> Result<(), SinkError> {
        self.each(|o| o.sync())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ErrorRecord;

    #[test]
    fn parses_targets() {
        assert_eq!(Target::parse("-").unwrap(), Target::Stdout);
        assert_eq!(
            Target::parse("serial:/dev/ttyAMA0").unwrap(),
            Target::Serial {
                device: "/dev/ttyAMA0".into(),
                baud: 115_200
            }
        );
        assert_eq!(
            Target::parse("serial:/dev/ttyUSB0@921600").unwrap(),
            Target::Serial {
                device: "/dev/ttyUSB0".into(),
                baud: 921_600
            }
        );
        assert!(Target::parse("serial:/dev/x@fast").is_err());
        for baud in ["0", "1", "9599", "4000001", "4294967295", "99999999999"] {
            let e = Target::parse(&format!("serial:/dev/ttyS0@{baud}")).unwrap_err();
            assert!(matches!(e, SinkError::BadBaud { .. }), "{baud}: {e}");
            assert!(e.to_string().contains("from 9600 to 4000000"), "{e}");
        }
        for baud in [MIN_BAUD, MAX_BAUD] {
            assert!(Target::parse(&format!("serial:/dev/ttyS0@{baud}")).is_ok());
        }
        assert!(Target::parse("serial:").is_err());
        assert_eq!(
            Target::parse("r/a.jsonl").unwrap(),
            Target::File("r/a.jsonl".into())
        );
    }

    #[test]
    fn a_full_disk_is_an_error_naming_the_target() {
        // /dev/full accepts opens and fails every write with ENOSPC.
        let mut sink = Sink::open(&Target::File("/dev/full".into())).unwrap();
        let rec = Record::Error(ErrorRecord {
            model: "m".into(),
            message: "x".into(),
        });
        let err = sink.write(&rec).unwrap_err().to_string();
        assert!(
            err.contains("/dev/full") && err.contains("No space"),
            "{err}"
        );
    }

    #[test]
    fn a_closed_pipe_is_named_as_one() {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut sink = Sink::from_writer(Box::new(writer), "stdout");
        let rec = Record::Error(ErrorRecord {
            model: "m".into(),
            message: "x".into(),
        });
        let err = sink.write(&rec).unwrap_err();
        assert!(matches!(err, SinkError::BrokenPipe { .. }), "{err}");
        assert!(err.to_string().contains("broken pipe"), "{err}");
        assert!(!err.to_string().contains("disk full"), "{err}");
    }

    #[test]
    fn a_failing_output_is_dropped_and_the_others_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("card/results/run.jsonl");
        let targets = [
            Target::Serial {
                device: dir.path().join("ttyNONE"),
                baud: 115_200,
            },
            Target::File("/dev/full".into()),
            Target::File(log.clone()),
        ];
        let (mut sink, failed) = Sink::open_any(&targets).unwrap();
        assert_eq!(failed.len(), 1, "the absent serial port");
        assert!(failed[0].to_string().contains("ttyNONE"));
        let rec = Record::Error(ErrorRecord {
            model: "m".into(),
            message: "x".into(),
        });
        sink.write(&rec).unwrap();
        sink.write(&rec).unwrap();
        sink.sync().unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
        assert_eq!(
            sink.label(),
            log.display().to_string(),
            "/dev/full was dropped"
        );
    }

    #[test]
    fn serial_on_a_regular_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notatty");
        std::fs::write(&p, "").unwrap();
        let err = Sink::open(&Target::Serial {
            device: p,
            baud: 115_200,
        })
        .err()
        .unwrap();
        assert!(err.to_string().contains("not a terminal"), "{err}");
    }
}

//! Where records go: a file, stdout, or a serial port (raw 8N1). Each record is serialized to one
//! line and written and flushed at once, so a power cut loses at most the line being written.
//!
//! Architecture invariant: only this module and `record` know JSON.

use crate::record::Record;
use rustix::termios::{self, ControlModes, OptionalActions};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const DEFAULT_BAUD: u32 = 115_200;

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
                Some((d, b)) => (d, b.parse().map_err(|_| SinkError::BadTarget(s.into()))?),
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

/// An open destination for records.
pub struct Sink {
    out: Box<dyn Write + Send>,
    /// Kept for fsync when the target is a file.
    file: Option<File>,
    label: String,
    line: String,
    pub records_written: u64,
}

fn open_serial(device: &Path, baud: u32) -> Result<File, SinkError> {
    let err = |what| {
        let device = device.display().to_string();
        move |cause: std::io::Error| SinkError::Serial {
            device,
            what,
            cause,
        }
    };
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(device)
        .map_err(err("open"))?;
    let mut tio = termios::tcgetattr(&file).map_err(|e| err("not a terminal")(e.into()))?;
    tio.make_raw();
    tio.control_modes
        .remove(ControlModes::CSTOPB | ControlModes::PARENB | ControlModes::CSIZE);
    tio.control_modes
        .insert(ControlModes::CS8 | ControlModes::CLOCAL | ControlModes::CREAD);
    tio.set_speed(baud)
        .map_err(|e| err("unsupported baud rate")(e.into()))?;
    termios::tcsetattr(&file, OptionalActions::Now, &tio)
        .map_err(|e| err("configuring 8N1")(e.into()))?;
    Ok(file)
}

use std::os::unix::fs::OpenOptionsExt;

impl Sink {
    pub fn open(target: &Target) -> Result<Sink, SinkError> {
        let label = target.label();
        let (out, file): (Box<dyn Write + Send>, Option<File>) = match target {
            Target::Stdout => (Box::new(std::io::stdout()), None),
            Target::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|cause| SinkError::Open {
                        target: label.clone(),
                        cause,
                    })?;
                }
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|cause| SinkError::Open {
                        target: label.clone(),
                        cause,
                    })?;
                let sync = f.try_clone().map_err(|cause| SinkError::Open {
                    target: label.clone(),
                    cause,
                })?;
                (Box::new(f), Some(sync))
            }
            Target::Serial { device, baud } => (Box::new(open_serial(device, *baud)?), None),
        };
        Ok(Sink {
            out,
            file,
            label,
            line: String::with_capacity(4096),
            records_written: 0,
        })
    }

    /// An in-memory or test sink.
    pub fn from_writer(out: Box<dyn Write + Send>, label: &str) -> Sink {
        Sink {
            out,
            file: None,
            label: label.into(),
            line: String::new(),
            records_written: 0,
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Writes one record as one line and flushes it.
    pub fn write(&mut self, record: &Record) -> Result<(), SinkError> {
        self.line.clear();
        // Serializing plain data structs into a String cannot fail.
        self.line
            .push_str(&serde_json::to_string(record).unwrap_or_default());
        self.line.push('\n');
        let target = &self.label;
        let err = |cause| SinkError::Write {
            target: target.clone(),
            cause,
        };
        self.out.write_all(self.line.as_bytes()).map_err(err)?;
        self.out.flush().map_err(err)?;
        self.records_written += 1;
        Ok(())
    }

    /// Makes what was written durable (fsync for files; a no-op elsewhere).
    pub fn sync(&mut self) -> Result<(), SinkError> {
        if let Some(f) = &self.file {
            // Character devices and pipes cannot be synced (EINVAL, e.g. /dev/null): fine.
            match f.sync_all() {
                Err(e) if e.raw_os_error() == Some(22) => {}
                r => r.map_err(|cause| SinkError::Write {
                    target: self.label.clone(),
                    cause,
                })?,
            }
        }
        Ok(())
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

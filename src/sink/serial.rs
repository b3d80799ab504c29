//! A serial port as an output: raw 8N1 at the requested rate, and every write bounded in time.
//! A line nobody drains (a pseudo-terminal no program reads, a UART with RTS/CTS flow control
//! and the cable pulled) would block `write()` for ever; here a write that moves no byte for
//! [`STALL_LIMIT`] fails with `TimedOut`, the sink drops the line as lost, and the other
//! outputs (the card) go on.

use super::SinkError;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::termios::{self, ControlModes, OptionalActions};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest a serial write may wait without moving a byte. The kernel's buffer (4 KiB) drains in
/// under 5 s at the slowest rate taken (9,600 baud), so a line still full after this is not
/// drained by anyone.
pub const STALL_LIMIT: Duration = Duration::from_secs(10);

/// An open serial port whose writes give up after `stall` without progress.
pub struct SerialPort {
    file: File,
    stall: Duration,
}

impl SerialPort {
    /// Opens `device` non-blocking and sets it raw 8N1 at `baud`.
    pub fn open(device: &Path, baud: u32) -> Result<SerialPort, SinkError> {
        let err = |what| {
            let device = device.display().to_string();
            move |cause: io::Error| SinkError::Serial {
                device,
                what,
                cause,
            }
        };
        let flags = rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::NONBLOCK;
        let file = OpenOptions::new()
            .write(true)
            .custom_flags(flags.bits() as i32)
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
        Ok(SerialPort {
            file,
            stall: STALL_LIMIT,
        })
    }

    /// The same port giving up after `stall` instead of [`STALL_LIMIT`] (tests).
    pub fn with_stall(self, stall: Duration) -> SerialPort {
        SerialPort { stall, ..self }
    }
}

impl Write for SerialPort {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let deadline = Instant::now() + self.stall;
        loop {
            match rustix::io::write(&self.file, buf) {
                Ok(n) => return Ok(n),
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no byte left in {} s", self.stall.as_secs_f64()),
                        ));
                    }
                    let timeout = Timespec::try_from(left).unwrap_or(Timespec {
                        tv_sec: 1,
                        tv_nsec: 0,
                    });
                    let mut fds = [PollFd::new(&self.file, PollFlags::OUT)];
                    match poll(&mut fds, Some(&timeout)) {
                        Ok(_) | Err(Errno::INTR) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{EndRecord, Record};
    use crate::sink::Sink;
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

    #[test]
    fn a_line_nobody_drains_fails_in_bounded_time_as_stalled() {
        // The master side of a pseudo-terminal that no one reads: its buffer fills, then
        // every write would block for ever.
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let slave = ptsname(&master, Vec::new()).unwrap().into_string().unwrap();
        let port = SerialPort::open(Path::new(&slave), 115_200)
            .unwrap()
            .with_stall(Duration::from_millis(50));
        let mut sink = Sink::from_writer(Box::new(port), "serial:pty");
        let record = Record::End(EndRecord {
            models_ok: 1,
            models_failed: 0,
            elapsed_ns: 1,
        });
        let mut written = 0u64;
        let err = loop {
            match sink.write(&record) {
                Ok(()) => written += 1,
                Err(e) => break e,
            }
            assert!(written < 1_000_000, "a pty's buffer never took this much");
        };
        assert!(written > 0, "the buffer took records before it filled");
        assert!(
            matches!(err, crate::sink::SinkError::Stalled { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("took no data for 10 s"), "{err}");
    }
}

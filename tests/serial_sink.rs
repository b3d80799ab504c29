//! The serial sink, tested on a pseudo-terminal pair: hiddencost writes to the slave side as it
//! would to /dev/ttyAMA0; the test reads the master side and checks the line settings.

mod common;
use common::*;
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{ControlModes, LocalModes, tcgetattr};
use std::io::Read;
use std::os::fd::OwnedFd;

fn pty_pair() -> (OwnedFd, String) {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap().into_string().unwrap();
    (master, name)
}

#[test]
fn records_arrive_on_the_serial_line_raw_8n1() {
    let (master, slave) = pty_pair();
    // Keep a slave fd open so the master sees no hang-up between the child's open and close,
    // and so the test can read the settings the child left.
    let keep = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave)
        .unwrap();
    // A second handle on the master keeps the pair alive after the reader thread ends.
    let _master = master.try_clone().unwrap();
    let mut reader = std::fs::File::from(master);
    let collector = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        // Read until the end marker arrives (the child writes it last).
        while !String::from_utf8_lossy(&all).contains("\"type\":\"end\"") {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let out = hiddencost()
        .args([
            "bench",
            &model("tiny_cnn.onnx"),
            "--runs",
            "2",
            "--fake-counters",
        ])
        .args(["--out", &format!("serial:{slave}@57600")])
        .output()
        .unwrap();
    assert_ok(&out);
    let text = collector.join().unwrap();
    // Raw mode: no \r inserted before \n, every line is one record.
    assert!(
        !text.contains('\r'),
        "output post-processing was not disabled"
    );
    let recs = records(text.trim_end());
    assert_eq!(recs[0]["type"], "header");
    assert_eq!(recs.last().unwrap()["type"], "end");
    assert_eq!(of_type(&recs, "model").len(), 1);

    let tio = tcgetattr(&keep).unwrap();
    assert!(tio.control_modes.contains(ControlModes::CS8));
    assert!(!tio.control_modes.contains(ControlModes::PARENB));
    assert!(!tio.control_modes.contains(ControlModes::CSTOPB));
    assert!(!tio.local_modes.contains(LocalModes::ECHO));
    assert_eq!(tio.output_speed(), 57600);
}

use super::*;
use std::io::Write;

const LOG: &[u8] = b"{\"type\":\"header\"}\n{\"type\":\"end\"}\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// `bytes` as [`open`] reads them.
fn decompress(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    decompressed(std::io::Cursor::new(bytes))?.read_to_end(&mut out)?;
    Ok(out)
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A fresh folder under the system's temporary folder, removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("hiddencost-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn fifo(&self, name: &str) -> std::path::PathBuf {
        let path = self.0.join(name);
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
            0,
        )
        .unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn gzip_and_zstd_are_read_every_member_and_frame() {
    for packed in [
        [gzip(&LOG[..18]), gzip(&LOG[18..])].concat(),
        [zstd(&LOG[..18]), zstd(&LOG[18..])].concat(),
    ] {
        assert_eq!(decompress(packed).unwrap(), LOG);
    }
    assert_eq!(
        decompress(LOG.to_vec()).unwrap(),
        LOG,
        "plain text as it is"
    );
    let mut cut = gzip(LOG);
    cut.truncate(cut.len() - 12);
    let e = decompress(cut).unwrap_err();
    assert!(
        e.to_string()
            .contains("gzip data that cannot be decompressed"),
        "{e}"
    );
}

#[test]
fn a_pipe_is_read_once_and_one_without_a_writer_is_empty() {
    let s = Scratch::new("fifo");
    let fifo = s.fifo("log");
    // No writer: empty at once, no wait.
    assert_eq!(read_file(&fifo).unwrap(), b"");
    // A writer holding it open before the read (as `<(zcat ...)` does: read-write, so the
    // open does not wait for a reader), writing compressed bytes a little later.
    let mut w = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        w.write_all(&gzip(LOG)).unwrap();
    });
    assert_eq!(read_file(&fifo).unwrap(), LOG);
    writer.join().unwrap();
}

#[test]
fn what_is_refused_is_named() {
    let s = Scratch::new("kinds");
    let e = read_file(&s.0).unwrap_err().to_string();
    assert!(
        e.contains("a directory, not a regular file or a pipe"),
        "{e}"
    );
    let e = read_file(Path::new("/dev/null")).unwrap_err().to_string();
    assert!(e.contains("a character device"), "{e}");
}

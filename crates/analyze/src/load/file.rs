//! Reading an input file of the analysis: a regular file, or a pipe read once to its end
//! (`analyze <(zcat log.jsonl.gz)`); gzip and zstd contents, told by their first bytes, are
//! decompressed.

use crate::error::AnalyzeError;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The first bytes of a gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of a zstd frame (RFC 8878).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// What a path that is neither a regular file nor a pipe is, for the refusal.
fn kind(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() || file_type.is_fifo() {
        None
    } else if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_block_device() {
        Some("a block device")
    } else if file_type.is_char_device() {
        Some("a character device (a terminal or a device node)")
    } else if file_type.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// The bytes of a regular file or a pipe, decompressed when they are gzip or zstd. A
/// directory, a device or a socket is refused before it is opened: reading one would wait
/// forever or fail obscurely. A pipe no program writes to reads as empty rather than waiting.
pub fn read_file(path: &Path) -> Result<Vec<u8>, AnalyzeError> {
    let err = |cause| AnalyzeError::Read {
        path: path.to_path_buf(),
        cause,
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if let Some(what) = kind(meta.file_type()) {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{what}, not a regular file or a pipe"),
        )));
    }
    let bytes = if meta.file_type().is_fifo() {
        read_pipe(path).map_err(err)?
    } else {
        std::fs::read(path).map_err(err)?
    };
    decompress(bytes).map_err(err)
}

/// A named pipe read to its end: opened without waiting for a writer (a pipe that none holds
/// open reads as empty), then read blocking.
fn read_pipe(path: &Path) -> std::io::Result<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    rustix::fs::fcntl_setfl(&fd, OFlags::empty())?;
    let mut bytes = Vec::new();
    std::fs::File::from(fd).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `bytes` decompressed when they start as gzip or zstd do (every member or frame, one after
/// the other), else as they are.
fn decompress(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{what} data that cannot be decompressed ({e}): is the file cut short?"),
        )
    };
    let mut out = Vec::new();
    if bytes.starts_with(&GZIP_MAGIC) {
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| bad("gzip", &e))?;
        Ok(out)
    } else if bytes.starts_with(&ZSTD_MAGIC) {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let mut frame =
                ruzstd::decoding::StreamingDecoder::new(&mut rest).map_err(|e| bad("zstd", &e))?;
            frame.read_to_end(&mut out).map_err(|e| bad("zstd", &e))?;
        }
        Ok(out)
    } else {
        Ok(bytes)
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;

//! Reading an input file of the analysis: a regular file, or a pipe read once to its end
//! (`analyze <(zcat log.jsonl.gz)`); gzip and zstd contents, told by their first bytes, are
//! decompressed as they are read. Logs are read as a stream ([`open`]); the small files read
//! whole (a fit, an accuracy table, a LAVA job log) are bounded ([`read_file`]).

use crate::error::AnalyzeError;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The first bytes of a gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of a zstd frame (RFC 8878).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The most a file read whole ([`read_file`]) may hold, after decompression: far beyond any
/// fit, accuracy table or LAVA job log, far below what a decompression bomb would take.
pub const MAX_WHOLE_FILE_BYTES: u64 = 1 << 30;

/// Bytes read from the file or pipe at a time.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// A file's contents as read: decompressed, in order.
pub type Stream = Box<dyn BufRead + Send>;

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

fn read_error(path: &Path, cause: std::io::Error) -> AnalyzeError {
    AnalyzeError::Read {
        path: path.to_path_buf(),
        cause,
    }
}

/// A regular file or a pipe opened for reading, decompressed as it is read when it is gzip or
/// zstd. A directory, a device or a socket is refused before it is opened: reading one would
/// wait forever or fail obscurely. A pipe no program writes to reads as empty rather than
/// waiting. A decompression error shows when the stream is read, as an `InvalidData` error.
pub fn open(path: &Path) -> Result<Stream, AnalyzeError> {
    let err = |cause| read_error(path, cause);
    let meta = std::fs::metadata(path).map_err(err)?;
    if let Some(what) = kind(meta.file_type()) {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{what}, not a regular file or a pipe"),
        )));
    }
    let file = if meta.file_type().is_fifo() {
        open_pipe(path).map_err(err)?
    } else {
        std::fs::File::open(path).map_err(err)?
    };
    decompressed(BufReader::with_capacity(READ_BUFFER_BYTES, file)).map_err(err)
}

/// The whole of a file or pipe ([`open`]), refused when it holds more than
/// [`MAX_WHOLE_FILE_BYTES`] (decompressed).
pub fn read_file(path: &Path) -> Result<Vec<u8>, AnalyzeError> {
    let mut bytes = Vec::new();
    open(path)?
        .take(MAX_WHOLE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| read_error(path, e))?;
    if bytes.len() as u64 > MAX_WHOLE_FILE_BYTES {
        return Err(too_large(
            path,
            "more than a file of this kind ever needs: is it the right file?",
        ));
    }
    Ok(bytes)
}

/// The refusal of a file read whole that holds more than [`MAX_WHOLE_FILE_BYTES`], with what to
/// do about it.
pub fn too_large(path: &Path, advice: &str) -> AnalyzeError {
    read_error(
        path,
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "holds more than {} GiB (decompressed), {advice}",
                MAX_WHOLE_FILE_BYTES >> 30
            ),
        ),
    )
}

/// A named pipe opened without waiting for a writer (a pipe that none holds open reads as
/// empty), then set to blocking reads.
fn open_pipe(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    rustix::fs::fcntl_setfl(&fd, OFlags::empty())?;
    Ok(std::fs::File::from(fd))
}

/// `source` decompressed when it starts as gzip or zstd do (every member or frame, one after
/// the other), else as it is.
fn decompressed<R: BufRead + Send + 'static>(mut source: R) -> std::io::Result<Stream> {
    let head = first_bytes(&mut source, ZSTD_MAGIC.len())?;
    let source = std::io::Cursor::new(head.clone()).chain(source);
    Ok(if head.starts_with(&GZIP_MAGIC) {
        Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            Named {
                what: "gzip",
                inner: flate2::bufread::MultiGzDecoder::new(source),
            },
        ))
    } else if head.starts_with(&ZSTD_MAGIC) {
        Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            Named {
                what: "zstd",
                inner: ZstdFrames {
                    source: Some(source),
                    frame: None,
                },
            },
        ))
    } else {
        Box::new(source)
    })
}

/// Up to `n` first bytes of `source`, consumed (a pipe may give them in several reads).
fn first_bytes(source: &mut impl BufRead, n: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    source.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// A decoder whose errors say what was being decompressed and what it likely means.
struct Named<R> {
    what: &'static str,
    inner: R,
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} data that cannot be decompressed ({e}): is the file cut short?",
                    self.what
                ),
            )
        })
    }
}

type ZstdFrame<R> = ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>;

/// Every zstd frame of `source`, one after the other (`zstd` writes one per input file, and
/// `cat a.zst b.zst` is a valid stream).
struct ZstdFrames<R: BufRead> {
    /// The source between frames.
    source: Option<R>,
    frame: Option<ZstdFrame<R>>,
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                let frame = self.frame.take().map(ZstdFrame::into_inner);
                self.source = frame;
            }
            let Some(mut source) = self.source.take() else {
                return Ok(0);
            };
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            let frame = ZstdFrame::new(source)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
            self.frame = Some(frame);
        }
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;

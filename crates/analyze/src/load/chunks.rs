//! A log's lines in chunks of whole lines, read from its stream as the analysis uses them:
//! what is in memory at a time is a few chunks, not the log.

use std::io::BufRead;

/// Bytes of whole lines a chunk holds at least (but the last, and one of [`CHUNK_LINES`] lines).
pub(super) const CHUNK_BYTES: usize = 8 << 20;

/// Lines a chunk holds at most: the lines' parsed forms take a few hundred bytes each, however
/// short the lines (a log of empty lines must not take 300 times its size).
pub(super) const CHUNK_LINES: usize = 1 << 16;

/// A line longer than this is no record of ours (the largest, a header, is a few KiB): it is
/// skipped without being held, and noted.
pub(super) const MAX_LINE_BYTES: usize = 64 << 20;

/// Consecutive lines of a log.
#[derive(Debug)]
pub(super) struct Chunk {
    /// The lines, each ended by `\n` but perhaps the file's last; a line over
    /// [`MAX_LINE_BYTES`] is left empty here and listed in `too_long`.
    pub bytes: Vec<u8>,
    /// (index of the line in this chunk, its length in bytes) of each line left out.
    pub too_long: Vec<(usize, u64)>,
    /// The file's last chunk: its last line is the file's last (`\n` or not), and
    /// `ends_with_newline` / `empty` say how the file ended.
    pub last: bool,
    pub ends_with_newline: bool,
    /// The file held no byte at all.
    pub empty: bool,
}

impl Chunk {
    /// The chunk's lines: a chunk's trailing `\n` ends its last line; only the file's last
    /// chunk has a line after it (empty when the file ends with `\n`), as splitting the whole
    /// file at `\n` gives.
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> {
        let body = if self.last {
            &self.bytes[..]
        } else {
            self.bytes.strip_suffix(b"\n").unwrap_or(&self.bytes)
        };
        body.split(|&b| b == b'\n')
    }
}

/// Reads `source` in [`Chunk`]s; `first` strips a UTF-8 byte-order mark (an editor's) before
/// the first record.
pub(super) struct Chunks<R> {
    source: R,
    at_start: bool,
    done: bool,
    any_byte: bool,
    last_byte: Option<u8>,
    /// A read that failed after the lines before it were returned: given at the next call.
    failed: Option<std::io::Error>,
}

impl<R: BufRead> Chunks<R> {
    pub fn new(source: R) -> Self {
        Chunks {
            source,
            at_start: true,
            done: false,
            any_byte: false,
            last_byte: None,
            failed: None,
        }
    }

    /// The next chunk, `None` after the last one. A read that fails (a compressed file cut
    /// short) gives the whole lines before it as a chunk first, then the error.
    pub fn next_chunk(&mut self) -> std::io::Result<Option<Chunk>> {
        if let Some(e) = self.failed.take() {
            self.done = true;
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        if self.at_start {
            self.at_start = false;
            let buf = self.source.fill_buf()?;
            if buf.starts_with(b"\xef\xbb\xbf") {
                self.any_byte = true;
                self.source.consume(3);
            }
        }
        let mut bytes = Vec::with_capacity(CHUNK_BYTES + (1 << 16));
        let mut too_long = Vec::new();
        let mut line_start = 0;
        let mut lines = 0;
        // Bytes of the line being skipped, when it passed MAX_LINE_BYTES.
        let mut skipping: Option<u64> = None;
        loop {
            let buf = match self.source.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if line_start == 0 => return Err(e),
                Err(e) => {
                    self.failed = Some(e);
                    bytes.truncate(line_start);
                    break;
                }
            };
            if buf.is_empty() {
                self.done = true;
                if let Some(len) = skipping {
                    too_long.push((lines, len));
                }
                break;
            }
            let (take, newline) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            self.any_byte = true;
            self.last_byte = Some(buf[take - 1]);
            let content = take - usize::from(newline);
            if let Some(len) = &mut skipping {
                *len += content as u64;
            } else {
                bytes.extend_from_slice(&buf[..content]);
                if bytes.len() - line_start > MAX_LINE_BYTES {
                    skipping = Some((bytes.len() - line_start) as u64);
                    bytes.truncate(line_start);
                }
            }
            self.source.consume(take);
            if newline {
                if let Some(len) = skipping.take() {
                    too_long.push((lines, len));
                }
                bytes.push(b'\n');
                line_start = bytes.len();
                lines += 1;
                if bytes.len() >= CHUNK_BYTES || lines >= CHUNK_LINES {
                    break;
                }
            }
        }
        Ok(Some(Chunk {
            bytes,
            too_long,
            last: self.done,
            ends_with_newline: self.last_byte == Some(b'\n'),
            empty: !self.any_byte,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(bytes: &[u8], chunk_bytes_seen: &mut usize) -> (Vec<Vec<u8>>, Vec<Chunk>) {
        let mut chunks = Chunks::new(bytes);
        let mut lines = Vec::new();
        let mut all = Vec::new();
        while let Some(c) = chunks.next_chunk().unwrap() {
            *chunk_bytes_seen += c.bytes.len();
            lines.extend(c.lines().map(<[u8]>::to_vec));
            all.push(c);
        }
        (lines, all)
    }

    #[test]
    fn lines_are_those_of_splitting_the_whole_file() {
        let long: Vec<u8> = (0..3 * CHUNK_BYTES / 100)
            .flat_map(|i| format!("{{\"line\":{i:>90}}}\n").into_bytes())
            .collect();
        for text in [
            b"".to_vec(),
            b"\n".to_vec(),
            b"a\nb".to_vec(),
            b"a\nb\n".to_vec(),
            b"\xef\xbb\xbfa\n".to_vec(),
            long.clone(),
            [&long[..], b"cut"].concat(),
        ] {
            let mut seen = 0;
            let (lines, chunks) = all_lines(&text, &mut seen);
            let body = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&text);
            let want: Vec<Vec<u8>> = body.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            assert_eq!(lines, want);
            let last = chunks.last().unwrap();
            assert_eq!(last.ends_with_newline, text.last() == Some(&b'\n'));
            assert_eq!(last.empty, text.is_empty());
            assert!(chunks.iter().rev().skip(1).all(|c| !c.last));
            if text.len() > CHUNK_BYTES {
                assert!(chunks.len() > 2, "{} chunks", chunks.len());
            }
        }
        let blank = vec![b'\n'; 3 * CHUNK_LINES];
        let mut seen = 0;
        let (lines, chunks) = all_lines(&blank, &mut seen);
        assert_eq!(lines.len(), 3 * CHUNK_LINES + 1);
        assert!(chunks.iter().all(|c| c.lines().count() <= CHUNK_LINES + 1));
    }

    #[test]
    fn an_overlong_line_is_listed_not_held() {
        let mut text = b"{\"a\":1}\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        text.extend(b"\n{\"b\":2}\n");
        let mut seen = 0;
        let (lines, chunks) = all_lines(&text, &mut seen);
        assert_eq!(lines.len(), 4);
        assert!(lines[1].is_empty());
        assert_eq!(lines[2], b"{\"b\":2}");
        assert!(seen < CHUNK_BYTES, "{seen} bytes held");
        let too_long: Vec<(usize, u64)> = chunks.iter().flat_map(|c| c.too_long.clone()).collect();
        assert_eq!(too_long, [(1, MAX_LINE_BYTES as u64 + 10)]);
        // The same at the very end, without a newline.
        let text = [&b"{}\n"[..], &vec![b'y'; MAX_LINE_BYTES + 1]].concat();
        let (lines, chunks) = all_lines(&text, &mut seen);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            chunks.last().unwrap().too_long,
            [(1, MAX_LINE_BYTES as u64 + 1)]
        );
    }

    /// A source that fails once its bytes are read (a compressed file cut short).
    struct CutShort(&'static [u8]);

    impl std::io::Read for CutShort {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "cut"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_failed_read_gives_the_whole_lines_before_it_then_the_error() {
        let mut chunks = Chunks::new(std::io::BufReader::new(CutShort(b"a\nb\npar")));
        let chunk = chunks.next_chunk().unwrap().unwrap();
        assert!(!chunk.last);
        assert_eq!(chunk.lines().collect::<Vec<_>>(), [&b"a"[..], b"b"]);
        assert_eq!(chunks.next_chunk().unwrap_err().to_string(), "cut");
        assert!(chunks.next_chunk().unwrap().is_none());
        // Nothing whole before it: the error at once.
        let mut chunks = Chunks::new(std::io::BufReader::new(CutShort(b"par")));
        assert!(chunks.next_chunk().is_err());
    }
}

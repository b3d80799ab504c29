//! LAVA job logs as analysis input: the serial lines of the device (`lvl: target`) out of a
//! job's log, so that `hiddencost analyze job.yaml` reads the card's records through LAVA.
//!
//! What LAVA writes (read in LAVA's source, Linaro/lava; docs/analysis.md "What LAVA writes"):
//! one entry per line, a YAML flow mapping with every key and scalar double-quoted
//! (`{"dt": "...", "lvl": "target", "msg": "..."}`), prefixed `- ` in the server's
//! `output.yaml` (what it serves as the job log) and in lava-run's `logs.yaml`, unprefixed on
//! lava-run's stderr. One serial line is one `target` entry, its text YAML-escaped (`\"`,
//! `\\`, `\t`, `\xXX`, `\uXXXX`, ...; non-ASCII is always escaped), never split; an entry of
//! 100,000 characters or more has its message replaced by `<line way too long ...>`.
//!
//! The parser reads that subset only (double-quoted scalars, optional `!!tag`, nested flow
//! mappings and sequences), line by line, each line at most [`MAX_ENTRY`] bytes, and never
//! panics: every line it cannot read becomes a [`LavaIssue`] with its line number.

use std::fmt;

/// Longest entry line read (LAVA writes at most about 100,000 characters; room for margin).
pub const MAX_ENTRY: usize = 1 << 20;
/// Deepest nesting of flow collections read (LAVA's results nest two levels).
const MAX_DEPTH: usize = 16;
/// What LAVA puts in place of a message whose entry would be 100,000 characters or more.
pub const TOO_LONG_MARK: &str = "<line way too long ...>";

/// Why one line of a LAVA log could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LavaError {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("longer than {MAX_ENTRY} bytes (LAVA writes at most 100,000 characters per entry)")]
    TooLong,
    #[error("not a LAVA log entry (expected `- {{\"dt\": ..., \"lvl\": ..., \"msg\": ...}}`)")]
    NotAnEntry,
    #[error("cut short at byte {0} (truncated entry)")]
    Truncated(usize),
    #[error("malformed entry at byte {at}: {what}")]
    Malformed { at: usize, what: &'static str },
    #[error("bad escape `\\{0}` in a double-quoted string")]
    BadEscape(String),
    #[error("entry without a string `lvl`")]
    NoLevel,
}

/// A line of the LAVA log that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LavaIssue {
    /// 1-based line in the LAVA log.
    pub line: usize,
    pub error: LavaError,
}

impl fmt::Display for LavaIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// The device's serial output from a LAVA log, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LavaExtract {
    /// (line in the LAVA log, the serial line as the device wrote it).
    pub target: Vec<(usize, String)>,
    /// Lines that are not readable entries.
    pub issues: Vec<LavaIssue>,
    /// `target` lines LAVA replaced by [`TOO_LONG_MARK`] (lost in LAVA, not here).
    pub too_long: Vec<usize>,
    /// Readable entries of other levels (info, debug, results, ...).
    pub other: usize,
}

impl LavaExtract {
    /// The serial lines that are hiddencost's JSON lines (they start with `{`; the kernel's
    /// console lines and the shell's never do), in order: the card's records, byte for byte.
    pub fn records(&self) -> impl Iterator<Item = &str> {
        self.target
            .iter()
            .map(|(_, s)| s.as_str())
            .filter(|s| s.starts_with('{'))
    }
}

/// Non-blank lines [`is_lava_log`] looks at for a first entry (lava-run's stderr may start
/// with a warning of Python's).
const DETECT_LINES: usize = 64;

/// Whether the bytes look like a LAVA log: one of the first non-blank lines is an entry
/// starting with `dt` (a hiddencost JSON line starts with `{"type"`, never `{"dt"`).
pub fn is_lava_log(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty())
        .take(DETECT_LINES)
        .any(|l| {
            let l = l.strip_prefix(b"- ").unwrap_or(l);
            l.starts_with(b"{\"dt\": ") && std::str::from_utf8(l).is_ok() && parse_entry(l).is_ok()
        })
}

/// Whether the bytes look like a LAVA log in YAML block style (`- dt: ...` then `  lvl: ...`
/// lines): what the server serves from its MongoDB, Elasticsearch or Firestore log backends,
/// which re-dump the entries. Not read: only the one-entry-per-line form is.
pub fn is_block_style_lava_log(bytes: &[u8]) -> bool {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii_end())
        .filter(|l| !l.is_empty());
    matches!(
        (lines.next(), lines.next()),
        (Some(a), Some(b)) if a.starts_with(b"- dt: ") && b.starts_with(b"  lvl: ")
    )
}

/// What to say about a block-style LAVA log.
pub const BLOCK_STYLE_HINT: &str = "a LAVA job log in YAML block style (`- dt:` / `  lvl:` \
    lines, as served from a MongoDB, Elasticsearch or Firestore log backend) is not read; use \
    the one-entry-per-line log (the filesystem backend's output.yaml, or lava-run's logs.yaml)";

/// Reads every line; never fails as a whole (a bad line is an issue, the rest is used).
pub fn extract(bytes: &[u8]) -> LavaExtract {
    let mut out = LavaExtract::default();
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    for (ix, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = ix + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.trim_ascii().is_empty() {
            continue;
        }
        match read_line(raw) {
            Ok((level, Some(msg))) if level == "target" => {
                if msg == TOO_LONG_MARK {
                    out.too_long.push(line);
                } else if quotes_all_escaped(&msg) {
                    out.target.push((line, msg.replace("\\\"", "\"")));
                } else {
                    out.target.push((line, msg));
                }
            }
            Ok(_) => out.other += 1,
            Err(error) => out.issues.push(LavaIssue { line, error }),
        }
    }
    out
}

/// Whether every `"` of a serial line has a backslash before it, and there is one: how older
/// dispatchers wrote every line (Debian bookworm's lava-dispatcher 2023.01, `ShellLogger.write`:
/// it inserts those backslashes and nothing else, so removing the one before each `"` gives
/// the device's line back exactly). A JSON record as the device wrote it never looks like
/// this (its keys' quotes stand alone), so a newer dispatcher's records are never touched.
fn quotes_all_escaped(msg: &str) -> bool {
    let bytes = msg.as_bytes();
    let mut quotes = 0;
    for (ix, &b) in bytes.iter().enumerate() {
        if b == b'"' {
            if ix == 0 || bytes[ix - 1] != b'\\' {
                return false;
            }
            quotes += 1;
        }
    }
    quotes > 0
}

/// One entry line: its level, and its message when that is a string.
fn read_line(raw: &[u8]) -> Result<(String, Option<String>), LavaError> {
    if raw.len() > MAX_ENTRY {
        return Err(LavaError::TooLong);
    }
    let text = std::str::from_utf8(raw).map_err(|_| LavaError::NotUtf8)?;
    let text = text.trim_end();
    let text = text.strip_prefix("- ").unwrap_or(text);
    if !text.starts_with('{') {
        return Err(LavaError::NotAnEntry);
    }
    let entries = parse_entry(text.as_bytes())?;
    let mut level = None;
    let mut msg = None;
    for (key, value) in entries {
        match (key.as_str(), value) {
            ("lvl", Node::Str(s)) => level = Some(s),
            ("msg", Node::Str(s)) => msg = Some(s),
            _ => {}
        }
    }
    Ok((level.ok_or(LavaError::NoLevel)?, msg))
}

/// A parsed flow value (mappings keep their order; only string keys are kept).
enum Node {
    Str(String),
    Other,
}

/// Parses one whole entry: a flow mapping and nothing after it.
fn parse_entry(text: &[u8]) -> Result<Vec<(String, Node)>, LavaError> {
    let mut p = Parser { s: text, at: 0 };
    p.ws();
    let map = p.mapping(0)?;
    p.ws();
    if p.at != text.len() {
        return Err(p.err("text after the entry's closing `}`"));
    }
    Ok(map)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> LavaError {
        if self.at >= self.s.len() {
            LavaError::Truncated(self.at)
        } else {
            LavaError::Malformed { at: self.at, what }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), LavaError> {
        self.ws();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    fn mapping(&mut self, depth: usize) -> Result<Vec<(String, Node)>, LavaError> {
        self.expect(b'{', "expected `{`")?;
        let mut out = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(out);
        }
        loop {
            self.ws();
            let key = match self.value(depth + 1)? {
                Node::Str(k) => k,
                Node::Other => return Err(self.err("a mapping key that is not a string")),
            };
            self.expect(b':', "expected `:` after a key")?;
            let value = self.value(depth + 1)?;
            out.push((key, value));
            self.ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(out);
                }
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
    }

    fn sequence(&mut self, depth: usize) -> Result<(), LavaError> {
        self.expect(b'[', "expected `[`")?;
        self.ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.value(depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected `,` or `]`")),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, LavaError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.ws();
        // A tag (`!!int "3"`, LAVA's non-string scalars under its double-quoted style).
        let tagged = self.peek() == Some(b'!');
        if tagged {
            while let Some(b) = self.peek() {
                if b == b' ' {
                    break;
                }
                self.at += 1;
            }
            self.ws();
        }
        match self.peek() {
            Some(b'"') => {
                let s = self.quoted()?;
                Ok(if tagged { Node::Other } else { Node::Str(s) })
            }
            Some(b'{') => self.mapping(depth).map(|_| Node::Other),
            Some(b'[') => self.sequence(depth).map(|()| Node::Other),
            _ => Err(self.err("expected a double-quoted scalar, `{` or `[`")),
        }
    }

    /// A YAML double-quoted scalar on one line, unescaped.
    fn quoted(&mut self) -> Result<String, LavaError> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' {
                    break;
                }
                self.at += 1;
            }
            // The input is a str and the stops are ASCII, so this slice is whole characters.
            out.push_str(std::str::from_utf8(&self.s[start..self.at]).unwrap_or_default());
            match self.peek() {
                None => return Err(LavaError::Truncated(self.at)),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                _ => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), LavaError> {
        let Some(c) = self.peek() else {
            return Err(LavaError::Truncated(self.at));
        };
        self.at += 1;
        let simple = match c {
            b'0' => Some('\0'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b't' | b'\t' => Some('\t'),
            b'n' => Some('\n'),
            b'v' => Some('\x0b'),
            b'f' => Some('\x0c'),
            b'r' => Some('\r'),
            b'e' => Some('\x1b'),
            b' ' => Some(' '),
            b'"' => Some('"'),
            b'/' => Some('/'),
            b'\\' => Some('\\'),
            b'N' => Some('\u{85}'),
            b'_' => Some('\u{a0}'),
            b'L' => Some('\u{2028}'),
            b'P' => Some('\u{2029}'),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            return Ok(());
        }
        let digits = match c {
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => return Err(LavaError::BadEscape(char::from(c).to_string())),
        };
        let Some(hex) = self.s.get(self.at..self.at + digits) else {
            return Err(LavaError::Truncated(self.s.len()));
        };
        let hex = std::str::from_utf8(hex).unwrap_or("");
        let bad = || LavaError::BadEscape(format!("{}{hex}", char::from(c)));
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let code = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
        out.push(char::from_u32(code).ok_or_else(bad)?);
        self.at += digits;
        Ok(())
    }
}

#[cfg(test)]
#[path = "lava_tests.rs"]
mod tests;

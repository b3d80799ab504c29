//! A skip note: one thing analysis left out of a log, with file:line and why.

use std::fmt;
use std::path::PathBuf;

/// One thing analysis left out, and why. `line` is 1-based; 0 means the whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct SkipNote {
    pub file: PathBuf,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for SkipNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.reason)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
        }
    }
}

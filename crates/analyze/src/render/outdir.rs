//! The output folder of `analyze` and which of its files may be written over: never one of the
//! inputs (by file identity: device and inode, whatever its name or a link to it), and never
//! a file that an earlier `analyze` did not write (listed in [`MANIFEST`]). Nothing the user
//! put there is lost.

use crate::error::AnalyzeError;
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The file in the output folder that lists, one name a line, every file `analyze` wrote
/// there: the files it may write over on the next run.
pub const MANIFEST: &str = ".hiddencost-analyze";

/// A file's identity: (device, inode).
type Identity = (u64, u64);

fn identity(path: &Path) -> Option<Identity> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The output folder, with the inputs it must not write over and the files it wrote before.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
    inputs: Vec<(PathBuf, Identity)>,
    ours: BTreeSet<String>,
}

impl OutDir {
    /// `dir` (created if missing) for an analysis of `inputs`.
    pub fn open(dir: &Path, inputs: &[&Path]) -> Result<OutDir, AnalyzeError> {
        std::fs::create_dir_all(dir).map_err(|cause| AnalyzeError::Write {
            path: dir.to_path_buf(),
            cause,
        })?;
        let ours = match std::fs::read_to_string(dir.join(MANIFEST)) {
            Ok(text) => text
                .lines()
                .filter(|l| is_plain_name(l))
                .map(str::to_string)
                .collect(),
            Err(_) => BTreeSet::new(),
        };
        Ok(OutDir {
            dir: dir.to_path_buf(),
            inputs: inputs
                .iter()
                .filter_map(|p| identity(p).map(|id| (p.to_path_buf(), id)))
                .collect(),
            ours,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Checks, before anything is written, that every file of `names` may be written: refuses
    /// one that is an input or that `analyze` did not write; then records them in the manifest
    /// (first, so that a run cut short leaves its files known as ours).
    pub fn claim<'a>(
        &mut self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), AnalyzeError> {
        let names: Vec<&str> = names.into_iter().collect();
        for name in &names {
            let path = self.dir.join(name);
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                return Err(AnalyzeError::Write {
                    path,
                    cause: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "it exists and is not a regular file (analyze writes regular files only)",
                    ),
                });
            }
            let id = (meta.dev(), meta.ino());
            if let Some((input, _)) = self.inputs.iter().find(|(_, i)| *i == id) {
                return Err(AnalyzeError::OutputIsInput {
                    path,
                    input: input.clone(),
                });
            }
            if !self.ours.contains(*name) {
                return Err(AnalyzeError::NotOurs {
                    path,
                    manifest: MANIFEST,
                });
            }
        }
        self.ours.extend(names.iter().map(|n| n.to_string()));
        let list: String = self.ours.iter().map(|n| format!("{n}\n")).collect();
        self.write_unclaimed(MANIFEST, list.as_bytes())?;
        Ok(())
    }

    /// Writes `bytes` to `dir/name` (a name [`OutDir::claim`] checked), returning the path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, AnalyzeError> {
        debug_assert!(self.ours.contains(name), "{name} written without a claim");
        self.write_unclaimed(name, bytes)
    }

    fn write_unclaimed(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, AnalyzeError> {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).map_err(|cause| AnalyzeError::Write {
            path: path.clone(),
            cause,
        })?;
        Ok(path)
    }

    /// Writes `dir/name` (claimed) through a buffered writer handed to `write`, returning the
    /// path: for files too large to build in memory first.
    pub fn write_streamed(
        &self,
        name: &str,
        write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
    ) -> Result<PathBuf, AnalyzeError> {
        use std::io::Write as _;
        debug_assert!(self.ours.contains(name), "{name} written without a claim");
        let path = self.dir.join(name);
        let fail = |cause| AnalyzeError::Write {
            path: path.clone(),
            cause,
        };
        let file = std::fs::File::create(&path).map_err(fail)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out).map_err(fail)?;
        out.flush().map_err(fail)?;
        Ok(path)
    }
}

/// A file name without a folder: what the manifest may list (a hand-edited manifest cannot
/// reach outside the folder).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && name != MANIFEST && !name.contains('/')
}

#[cfg(test)]
#[path = "outdir_tests.rs"]
mod tests;

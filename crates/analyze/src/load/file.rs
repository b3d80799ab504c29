//! Reading an input file of the analysis: regular files only.

use crate::error::AnalyzeError;
use std::path::Path;

/// The bytes of a regular file. A FIFO, a device or a directory is refused before it is
/// opened: reading one would wait forever or fail obscurely.
pub fn read_file(path: &Path) -> Result<Vec<u8>, AnalyzeError> {
    let err = |cause| AnalyzeError::Read {
        path: path.to_path_buf(),
        cause,
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if !meta.is_file() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a directory)",
        )));
    }
    std::fs::read(path).map_err(err)
}

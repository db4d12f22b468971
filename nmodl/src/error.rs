//! The crate's error type (for I/O; problems in the NMODL text are [`crate::Diagnostic`]s).

use std::path::PathBuf;

/// Errors that stop a compilation before any diagnostic can be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while building, opening or querying a knowledge index.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// A file could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// A line of a source file is malformed.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What was found and what was expected.
        message: String,
    },
    /// An index file failed a check on open (truncated, tampered, wrong version).
    #[error("{path}: {message}")]
    Corrupt {
        /// The index file.
        path: PathBuf,
        /// Which check failed.
        message: String,
    },
    /// A concept ID is not in the index.
    #[error("unknown concept `{0}`")]
    UnknownConcept(String),
    /// An invalid argument or option.
    #[error("{0}")]
    Invalid(String),
}

impl KbError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        KbError::Io { path: path.into(), cause: source }
    }

    pub(crate) fn parse(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Self {
        KbError::Parse { path: path.into(), line, message: message.into() }
    }
}

/// Result alias of this crate.
pub type Result<T, E = KbError> = std::result::Result<T, E>;

//! The crate's one error type.

use std::path::PathBuf;

/// What can go wrong loading, assembling or applying a system.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// A file or folder could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// A kept-system folder or one of its files is not what it should be.
    #[error("{path}: {message}")]
    Folder {
        /// The file or folder at fault.
        path: PathBuf,
        /// What was found and what was expected.
        message: String,
    },
    /// A request is inconsistent (an ensemble without members, a head a folder lacks, ...).
    #[error("{0}")]
    Invalid(String),
    /// From the models.
    #[error(transparent)]
    Models(#[from] hilgen_models::ModelError),
    /// From the dictionary.
    #[error(transparent)]
    Dictionary(#[from] hilgen_dictionary::DictionaryError),
    /// From the knowledge index.
    #[error(transparent)]
    Kb(#[from] hilgen_kb::KbError),
    /// From the ensemble rules.
    #[error(transparent)]
    Metrics(#[from] hilgen_metrics::MetricsError),
    /// From the LLM client.
    #[error(transparent)]
    Llm(#[from] hilgen_llm::LlmError),
}

impl SystemError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> SystemError {
        SystemError::Io { path: path.into(), cause }
    }

    /// A problem with the file or folder `path`.
    pub fn folder(path: impl Into<PathBuf>, message: impl Into<String>) -> SystemError {
        SystemError::Folder { path: path.into(), message: message.into() }
    }
}

/// Result alias of this crate.
pub type Result<T, E = SystemError> = std::result::Result<T, E>;

//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading, training or running a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// An error raised by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// A file could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// A model folder or checkpoint is incomplete or inconsistent.
    #[error("{path}: {message}")]
    Folder {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is missing or wrong (names the tensor when one is concerned).
        message: String,
    },
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// An invalid hyper-parameter or argument, found before any work starts.
    #[error("{0}")]
    Invalid(String),
    /// An error from the metrics crate.
    #[error(transparent)]
    Metrics(#[from] hilgen_metrics::MetricsError),
    /// An error from the corpus crate.
    #[error(transparent)]
    Corpus(#[from] hilgen_corpus::CorpusError),
}

impl ModelError {
    pub(crate) fn folder(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ModelError::Folder { path: path.into(), message: message.into() }
    }
}

/// Result alias of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

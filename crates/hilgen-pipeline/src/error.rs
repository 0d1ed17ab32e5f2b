//! The crate's error type.

use std::path::PathBuf;

/// Errors of an experiment.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The experiment file is wrong.
    #[error("experiment {path}: {message}")]
    Experiment {
        /// The file.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// Something is inconsistent.
    #[error("{0}")]
    Invalid(String),
    /// The run stopped on purpose (stage limit); run again to resume.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// Another worker on the same run directory is running this stage (see `claim`).
    #[error("stage {stage} is being run by {worker}")]
    Claimed {
        /// The stage.
        stage: String,
        /// `pid@host` of the worker holding it.
        worker: String,
    },
    /// A file operation failed.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        cause: std::io::Error,
    },
    /// Corpus error.
    #[error(transparent)]
    Corpus(#[from] hilgen_corpus::CorpusError),
    /// Knowledge graph error.
    #[error(transparent)]
    Kb(#[from] hilgen_kb::KbError),
    /// Augmentation error.
    #[error(transparent)]
    Augment(#[from] hilgen_augment::AugmentError),
    /// Model error.
    #[error(transparent)]
    Model(#[from] hilgen_models::ModelError),
    /// Metrics error.
    #[error(transparent)]
    Metrics(#[from] hilgen_metrics::MetricsError),
    /// Dictionary error.
    #[error(transparent)]
    Dictionary(#[from] hilgen_dictionary::DictionaryError),
    /// LLM error.
    #[error(transparent)]
    Llm(#[from] hilgen_llm::LlmError),
    /// System error (loading or assembling a kept system).
    #[error(transparent)]
    System(#[from] hilgen_system::SystemError),
}

impl PipelineError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> PipelineError {
        PipelineError::Io { path: path.into(), cause: source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

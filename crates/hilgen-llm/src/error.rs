//! The crate's error type.

use std::path::PathBuf;

/// Errors of the LLM client.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// A configuration file or value is wrong.
    #[error("LLM configuration {origin}: {message}")]
    Config {
        /// The file or environment variable the value came from.
        origin: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The server refused the API key (HTTP 401/403).
    #[error("authentication failed at {base_url} (HTTP {status}): {message}; check the API key in ${key_env}")]
    Auth {
        /// The server.
        base_url: String,
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
        /// The environment variable the key is read from.
        key_env: String,
    },
    /// The server answered with an error that retries did not cure.
    #[error("LLM server error (HTTP {status}): {message}")]
    Api {
        /// HTTP status (0 when unknown).
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The request could not be sent or timed out on every attempt.
    #[error("LLM request failed after {attempts} attempt(s): {message}")]
    Transport {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        message: String,
    },
    /// The server's response is not a chat completion.
    #[error("malformed response from the LLM server: {0}")]
    Malformed(String),
    /// Offline mode and the cache has no answer for a request.
    #[error("offline mode: no cached response for request {key} in {cache}; run once online (or import a batch results file) first")]
    OfflineMiss {
        /// The request's cache key.
        key: String,
        /// The cache directory.
        cache: PathBuf,
    },
    /// A prompt template is missing or does not render.
    #[error("prompt template {name}: {message}")]
    Template {
        /// The template's name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A batch file line is wrong.
    #[error("{path}:{line}: {message}")]
    Batch {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was expected.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        cause: std::io::Error,
    },
    /// An error from the corpus crate.
    #[error(transparent)]
    Corpus(#[from] hilgen_corpus::CorpusError),
}

impl LlmError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> LlmError {
        LlmError::Io { path: path.into(), cause: source }
    }
    pub(crate) fn config(origin: impl Into<String>, message: impl Into<String>) -> LlmError {
        LlmError::Config { origin: origin.into(), message: message.into() }
    }
}

/// Result alias of this crate.
pub type Result<T, E = LlmError> = std::result::Result<T, E>;

//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading, checking or writing corpora.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A file could not be opened, read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        cause: std::io::Error,
    },
    /// A line of an input file is malformed.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file concerned (`<memory>` for in-memory input).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was found and what was expected.
        message: String,
    },
    /// A tag string is not `O`, `PREFIX-TYPE` or a bare prefix with a default type.
    #[error("invalid tag `{tag}`: {message}")]
    InvalidTag {
        /// The offending tag.
        tag: String,
        /// What was expected.
        message: String,
    },
    /// A tag sequence is not valid in the scheme (strict validation).
    #[error("sentence {}, token {} (`{word}`, counting from 1): {message}", sentence + 1, token + 1)]
    InvalidSequence {
        /// 0-based sentence index in its split.
        sentence: usize,
        /// 0-based token index in the sentence.
        token: usize,
        /// The token text.
        word: String,
        /// What was found and what the scheme expects.
        message: String,
    },
    /// A request or argument is inconsistent (unknown split, bad span, ...).
    #[error("{0}")]
    Invalid(String),
    /// Downloading or verifying a dataset file failed.
    #[error("fetching {url}: {message}")]
    Fetch {
        /// The URL or path tried.
        url: String,
        /// What went wrong.
        message: String,
    },
}

impl CorpusError {
    /// Builds an I/O error for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CorpusError::Io { path: path.into(), cause: source }
    }

    /// Builds a parse error for `path` at 1-based `line`.
    pub fn parse(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        CorpusError::Parse { path: path.into(), line, message: message.into() }
    }
}

/// Result alias of this crate.
pub type Result<T, E = CorpusError> = std::result::Result<T, E>;

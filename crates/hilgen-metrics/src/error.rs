//! The crate's one error type.

/// Everything that can go wrong while scoring or combining predictions.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Gold and prediction differ in number of sentences.
    #[error("gold has {gold} sentences but the prediction has {pred}")]
    SentenceCount {
        /// Sentences in the gold standard.
        gold: usize,
        /// Sentences in the prediction.
        pred: usize,
    },
    /// A sentence differs between two inputs (length or tokens).
    #[error("sentence {} (counting from 1): {message}", sentence + 1)]
    SentenceMismatch {
        /// 0-based sentence index.
        sentence: usize,
        /// What differs.
        message: String,
    },
    /// A tag cannot be read in strict mode (seqeval raises here too).
    #[error("sentence {}, token {} (counting from 1): invalid tag `{tag}` for strict {scheme}: {message}", sentence + 1, token + 1)]
    StrictTag {
        /// 0-based sentence index.
        sentence: usize,
        /// 0-based token index.
        token: usize,
        /// The tag.
        tag: String,
        /// The scheme.
        scheme: String,
        /// Why.
        message: String,
    },
    /// Nothing to score (no tokens at all).
    #[error("nothing to score: {0}")]
    Empty(String),
    /// An invalid option or argument.
    #[error("{0}")]
    Invalid(String),
    /// An error from the corpus crate (reading files, tags).
    #[error(transparent)]
    Corpus(#[from] hilgen_corpus::CorpusError),
}

/// Result alias of this crate.
pub type Result<T, E = MetricsError> = std::result::Result<T, E>;

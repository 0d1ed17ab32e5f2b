//! Augmentation strategies: turning few-shot sentences into synthetic training sentences, each
//! with its provenance, behind one trait ([`Strategy`]) and one registry ([`Registry`]).
//!
//! - The knowledge-based layers of HILGEN (`synonyms`, `related`, `parents-children`,
//!   `siblings`): every mention linked to a concept is replaced, in its own sentence, by the
//!   names the knowledge graph gives, with the labels kept ([`KnowledgeLayer`]).
//! - Dai & Adel's simple augmentations (`lwtr`, `sr`, `mr`, `sis`; [`SimpleAugmenter`]).
//! - Distant supervision (`distant`): the dictionary system labels unlabelled text ([`distant`]);
//!   self-training (`self-train`): the best system so far labels it, in rounds ([`self_train`]).
//! - With the `llm` feature (on by default): HILGEN's LLM variants, grounded generation and
//!   ZeroGen ([`llm`]). Without it the crate does not depend on the LLM stack.
//!
//! A strategy is named by a [`StrategySpec`] (kind + parameters, serde-tagged) and built by
//! the registry, which checks its parameters:
//!
//! ```no_run
//! use hilgen_augment::{Input, Registry};
//! use hilgen_kb::Kb;
//! # let shots: Vec<hilgen_corpus::Sentence> = vec![];
//! let kb = Kb::open("kb").unwrap();
//! let strategy = Registry::builtin().build(&"parents-children:k=5".parse().unwrap()).unwrap();
//! let out = strategy.augment(&Input { kb: Some(&kb), ..Input::new(&shots, 1) }).unwrap();
//! for s in out.synthetic {
//!     println!("{} <- {:?}", s.sentence.text(), s.provenance);
//! }
//! ```
//!
//! To add a strategy: write a parameter struct implementing [`Strategy`] in a file of its own
//! and add one [`Registration`] line to [`Registry::builtin`] (or to your own registry).

pub mod dai_adel;
pub mod distant;
mod knowledge;
#[cfg(feature = "llm")]
pub mod llm;
mod registry;
pub mod self_train;
pub mod strategy;
pub mod unknown;

pub use dai_adel::{DaiAdel, SimpleAugmenter};
pub use knowledge::{KnowledgeLayer, Layer};
#[cfg(feature = "llm")]
pub use llm::{LlmAugmenter, LlmStrategy};
#[cfg(feature = "llm")]
pub use strategy::LlmContext;
pub use strategy::{
    Input, LlmUse, Need, Needs, Output, Registration, Registry, Scored, Strategy, StrategySpec, Teacher,
};

use hilgen_corpus::{Sentence, Span};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Errors of augmentation.
#[derive(Debug, thiserror::Error)]
pub enum AugmentError {
    /// An error from the corpus crate.
    #[error(transparent)]
    Corpus(#[from] hilgen_corpus::CorpusError),
    /// An error from the knowledge graph.
    #[error(transparent)]
    Kb(#[from] hilgen_kb::KbError),
    /// An error from the metrics crate.
    #[error(transparent)]
    Metrics(#[from] hilgen_metrics::MetricsError),
    /// An error from the LLM client.
    #[cfg(feature = "llm")]
    #[error(transparent)]
    Llm(#[from] hilgen_llm::LlmError),
    /// The async runtime for LLM requests could not start.
    #[error("starting the async runtime for LLM requests: {0}")]
    Runtime(std::io::Error),
    /// A strategy spec could not be read.
    #[error("strategy `{spec}`: {message}")]
    Spec {
        /// The spec as given.
        spec: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// No strategy of this kind is registered.
    #[error("unknown strategy `{kind}`; registered: {known}")]
    UnknownStrategy {
        /// The kind asked for.
        kind: String,
        /// The registered kinds.
        known: String,
    },
    /// A strategy's parameters are wrong.
    #[error("strategy `{strategy}`: {message}")]
    Params {
        /// The kind.
        strategy: String,
        /// What is wrong.
        message: String,
    },
    /// A strategy lacks an input it needs.
    #[error("strategy `{strategy}` needs {what}")]
    Missing {
        /// The kind.
        strategy: String,
        /// What it needs.
        what: &'static str,
    },
}

/// Result alias of this crate.
pub type Result<T, E = AugmentError> = std::result::Result<T, E>;

/// Where a synthetic sentence came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The strategy (`synonyms`, `related`, `parents-children`, `siblings`, ...).
    pub strategy: String,
    /// Index of the source sentence among the few-shot sentences (none for ZeroGen).
    pub source_sentence: Option<usize>,
    /// The mention replaced, in the source sentence (none when the LLM rewrote the sentence).
    pub mention: Option<Span>,
    /// The concept(s) the mention(s) were linked to, comma-separated (empty when none).
    pub concept: String,
    /// How it was linked: `gold` (the corpus's concept ID), `linked` (the graph's `link`) or
    /// `none`.
    pub linked_by: String,
    /// The concept(s) or names substituted, comma-separated (the same concept for synonyms).
    pub substitute: String,
    /// The relation and its source, e.g. `parents/MSH`, or the LLM prompt variant.
    pub relation: String,
    /// The model that produced the sentence, for LLM strategies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The cache key of the LLM request that produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

/// A synthetic sentence and its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synthetic {
    /// The sentence, tagged.
    pub sentence: Sentence,
    /// Where it came from.
    pub provenance: Provenance,
}

/// Removes synthetic sentences that repeat a shot or an earlier synthetic sentence (same
/// tokens and tags).
pub fn dedup(shots: &[Sentence], synthetic: Vec<Synthetic>) -> Vec<Synthetic> {
    let key = |s: &Sentence| format!("{}\u{1}{}", s.tokens.join("\u{2}"), s.tags.join("\u{2}"));
    let mut seen: HashSet<String> = shots.iter().map(key).collect();
    synthetic.into_iter().filter(|s| seen.insert(key(&s.sentence))).collect()
}

/// Writes the sentences as JSON Lines of provenance (one line per sentence, in order).
pub fn provenance_jsonl(synthetic: &[Synthetic]) -> String {
    synthetic
        .iter()
        .map(|s| {
            serde_json::to_string(&serde_json::json!({"text": s.sentence.text(), "provenance": s.provenance}))
                .expect("serializable")
                + "\n"
        })
        .collect()
}

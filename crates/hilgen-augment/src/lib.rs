//! Augmentation strategies: turning few-shot sentences into synthetic training sentences, each
//! with its provenance. This crate holds the knowledge-based layers of HILGEN (synonyms,
//! related concepts of the same semantic type, parents and children, siblings): every mention
//! linked to a concept is replaced, in its own sentence, by the names the knowledge graph gives,
//! with the labels kept.
//!
//! ```no_run
//! use hilgen_augment::{Augmenter, KnowledgeLayer, Layer};
//! use hilgen_kb::Kb;
//! # let shots: Vec<hilgen_corpus::Sentence> = vec![];
//! let kb = Kb::open("kb").unwrap();
//! let layer = KnowledgeLayer::new(&kb, Layer::ParentsChildren);
//! for s in layer.augment(&shots).unwrap() {
//!     println!("{} <- {:?}", s.sentence.text(), s.provenance);
//! }
//! ```

pub mod dai_adel;
mod knowledge;
pub mod llm;

pub use dai_adel::{DaiAdel, SimpleAugmenter};
pub use knowledge::{KnowledgeLayer, Layer};
pub use llm::{LlmAugmenter, LlmStrategy};

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
    /// An error from the LLM client.
    #[error(transparent)]
    Llm(#[from] hilgen_llm::LlmError),
    /// The async runtime for LLM requests could not start.
    #[error("starting the async runtime for LLM requests: {0}")]
    Runtime(std::io::Error),
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Synthetic {
    /// The sentence, tagged.
    pub sentence: Sentence,
    /// Where it came from.
    pub provenance: Provenance,
}

/// A way of producing synthetic sentences from few-shot ones.
pub trait Augmenter {
    /// Short name used in provenance and reports.
    fn name(&self) -> String;
    /// Synthetic sentences for `shots` (duplicates of each other or of the shots removed).
    fn augment(&self, shots: &[Sentence]) -> Result<Vec<Synthetic>>;
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

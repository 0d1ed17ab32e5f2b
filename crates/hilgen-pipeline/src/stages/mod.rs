//! One module per stage kind. Each defines its input (a slice of the plan, hashed), its
//! output (recorded in the manifest, read by later stages) and how it runs.

pub mod augment;
pub mod best;
pub mod dictionary;
pub mod ensemble;
pub mod evaluate;
pub mod kb;
pub mod llm_tagger;
pub mod predict;
pub mod report;
pub mod sample;
pub mod teacher;
pub mod train;

use crate::files::FileRef;
use serde::{Deserialize, Serialize};

/// A system's predictions on dev and test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// Dev predictions (IOB2 TSV).
    pub dev: FileRef,
    /// Test predictions (IOB2 TSV).
    pub test: FileRef,
}

/// A named system's predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct System {
    /// `tagger/CONFIG`, `dann/CONFIG` or `llm/zero-shot`.
    pub name: String,
    /// Its predictions.
    pub predictions: Predictions,
}

/// Reads sentences a stage wrote or was given (JSON Lines by extension, else CoNLL).
pub(crate) fn read(path: &std::path::Path) -> crate::Result<Vec<hilgen_corpus::Sentence>> {
    Ok(hilgen_corpus::formats::read_sentences(path, hilgen_corpus::formats::Format::Auto, &Default::default())?)
}

/// Writes sentences as IOB2 TSV.
pub(crate) fn write_tsv(path: &std::path::Path, sentences: &[hilgen_corpus::Sentence]) -> crate::Result<()> {
    Ok(hilgen_corpus::conll::write_path(path, sentences, &hilgen_corpus::conll::ConllFormat::default())?)
}

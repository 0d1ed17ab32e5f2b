//! The knowledge graph as a named-entity tagger: a longest-match dictionary over the names of
//! the concepts the shots say are entities.
//!
//! - [`TypeMap`]: which concepts count as which entity type, learned from the shots' mentions
//!   (the types of the concepts they link to), never written per dataset.
//! - [`Dictionary`]: the names in the forms text uses ([`forms`]: plurals, adjectives, salt
//!   forms, British spellings), matched longest first, abbreviations defined in a document
//!   (`long form (ABBR)`) propagated in it.
//! - [`suffixes`]: a word no vocabulary names labelled by an ending nearly all the graph's names
//!   with that ending share ("olanzapine" as the "-apine" drugs).
//! - [`modifiers`]: a match grown over words that, before names of its label, make other names
//!   of it ("hereditary breast cancer" where "breast cancer" is a name; with context typing,
//!   of its kin of labels).
//! - [`heads`]: a symbol before a head word that many of the graph's names put after a symbol
//!   as one mention ("C9 deficiency" where the graph has "HMGCS2 Deficiency").
//! - [`subtypes`]: a match grown over a subtype word and code that many of the graph's names
//!   add to another name ("type IID von Willebrand disease", "SJS type 1A").
//! - [`prefixes`]: a match grown over a locant or configuration letter joined to it by a hyphen
//!   ("6-thioguanine", "D-penicillamine").
//! - Local definitions ([`DictionaryConfig::local_definitions`]): a document's
//!   `long form (ABBR)` overrules the dictionary's own reading of ABBR in that document.
//! - [`context`]: a match's label chosen by the words around it, for entity types that share
//!   concepts (NCBI-Disease's `Modifier` and `SpecificDisease`), learned from the shots.
//! - [`coordination`]: "breast and ovarian cancer" as one mention where "breast cancer" is a
//!   name too.
//! - [`select()`]: the filters (shortest name, plurals, case-exact acronyms, stop words,
//!   abbreviations, concept types too often wrong) chosen on the dev split; with a
//!   [`Guard`] ([`select_guarded`]), a small dev set keeps the defaults unless its choice is
//!   significantly better.
//! - [`evidence`]: guidelines the labelled sentences show (adjectives of names as mentions or
//!   not), fixed by what the shots and dev mark rather than by dev F1.
//!
//! ```no_run
//! use hilgen_dictionary::{select, Grid, TypeMap};
//! # let (shots, dev, test): (Vec<hilgen_corpus::Sentence>, Vec<hilgen_corpus::Sentence>, Vec<hilgen_corpus::Sentence>) = (vec![], vec![], vec![]);
//! let kb = hilgen_kb::Kb::open("kb").unwrap();
//! let types = TypeMap::learn(&kb, &shots);
//! let (dictionary, selection) = select(&kb, &types, &dev, &Grid::default()).unwrap();
//! println!("dev F1 {:.3} with {:?}", selection.dev_f1, selection.config);
//! let tagged = dictionary.tag(&test);
//! ```

mod abbreviations;
pub mod context;
pub mod coordination;
mod dictionary;
pub mod evidence;
pub mod forms;
pub mod heads;
pub mod heldout;
mod matches;
pub mod modifiers;
pub mod prefixes;
mod saved;
pub mod select;
pub mod subtypes;
pub mod suffixes;
pub mod types;
mod words;

pub use dictionary::{Dictionary, DictionaryConfig, GENERIC_NAMES};
pub use evidence::{adjective_evidence, AdjectiveEvidence};
pub use forms::variants;
/// The test a [`Guard`] runs (from `hilgen-metrics`).
pub use hilgen_metrics::GuardTest;
pub use matches::{Match, Target};
pub use saved::SavedDictionary;
pub use select::{select, select_guarded, Grid, Guard, Overruled, Selection};
pub use types::TypeMap;

/// Errors of the dictionary.
#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    /// A configuration value is wrong.
    #[error("{0}")]
    Invalid(String),
    /// Corpus error.
    #[error(transparent)]
    Corpus(#[from] hilgen_corpus::CorpusError),
    /// Metrics error.
    #[error(transparent)]
    Metrics(#[from] hilgen_metrics::MetricsError),
    /// Knowledge graph error.
    #[error(transparent)]
    Kb(#[from] hilgen_kb::KbError),
}

/// Result alias of this crate.
pub type Result<T, E = DictionaryError> = std::result::Result<T, E>;

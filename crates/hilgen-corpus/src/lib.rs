//! IOB corpus handling for few-shot biomedical NER: the typed core every HILGEN stage uses.
//!
//! - [`Sentence`], [`Mention`], [`Span`], [`Corpus`]: tokens, tags, document ids, concept IDs.
//! - [`scheme`]: IO, IOB1, IOB2, IOE1, IOE2, IOBES, BILOU; spans <-> tags, conversion, strict
//!   validation and lenient (conlleval-style) repair.
//! - [`conll`], [`jsonl`], [`pubtator`]: readers and writers (writers are atomic).
//! - [`align`]: attach PubTator document ids and concept IDs to IOB sentences.
//! - [`convert`], [`tokenize`]: PubTator -> IOB with the crate's tokenizer and sentence splitter.
//! - [`document`]: raw text and PubTator documents to tag, with character offsets, and back.
//! - [`formats`]: read and write any supported format, named or detected.
//! - [`sample`]: the paper's K-per-type sampler and Few-NERD's greedy N-way K~2K sampler.
//! - [`substitute`]: replace one mention, relabel, keep provenance.
//! - [`shape`]: word shapes (symbols).
//! - [`registry`], [`fetch`], [`dataset`]: known datasets, checksummed fetching, loading.
//!
//! ```
//! use hilgen_corpus::{conll, sample, CorpusStats, Scheme};
//! let text = "Cisplatin\tB-Chemical\nnephrotoxicity\tB-Disease\n\nNo\tO\nfinding\tO\n\n";
//! let sentences = conll::read_str(text, "example.tsv", &conll::ConllFormat::default()).unwrap();
//! hilgen_corpus::validate(&sentences, Scheme::Iob2).unwrap();
//! let stats = CorpusStats::of(&sentences).unwrap();
//! assert_eq!((stats.sentences, stats.tokens, stats.mentions["Disease"]), (2, 4, 1));
//! let shots = sample::sample_per_type(&sentences, 1, 42).unwrap();
//! assert_eq!(shots.indices, [0]);
//! ```

pub mod align;
pub mod conll;
pub mod convert;
pub mod dataset;
pub mod document;
mod error;
pub mod fetch;
pub mod formats;
mod io_util;
pub mod jsonl;
pub mod pubtator;
pub mod registry;
pub mod sample;
pub mod scheme;
mod sentence;
pub mod shape;
mod stats;
pub mod stream;
pub mod substitute;
pub mod tokenize;

pub use error::{CorpusError, Result};
pub use io_util::{read_text, temp_beside, temp_dir_beside, write_atomic};
pub use scheme::{Scheme, Span};
pub use sentence::{convert_all, label_set, repair_all, validate, ConceptLink, Corpus, Mention, Sentence, SoftTargets};
pub use stats::CorpusStats;

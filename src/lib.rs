//! `hilgen`: few-shot biomedical named entity recognition with knowledge- and LLM-based data
//! generation (HILGEN, Ge et al. 2025), in Rust.
//!
//! This umbrella crate re-exports the workspace's libraries under short names:
//!
//! - [`augment`]: augmentation strategies with provenance (knowledge layers, Dai & Adel, LLM).
//! - [`corpus`]: IOB corpora, tagging schemes, PubTator, alignment, few-shot sampling.
//! - [`dictionary`]: the knowledge graph as a tagger (types from the shots, filters on dev).
//! - [`kb`]: UMLS / CTD / MeSH / OBO knowledge graph on an fst index, HILGEN expansions.
//! - [`metrics`]: seqeval-conformant metrics, bootstrap tests, ensembles.
//! - [`models`]: libtorch models (BERT token classifier, DANN).
//! - [`llm`]: OpenAI-compatible LLM client (cache, limits, retries, accounting, prompts, parsing).
//! - [`pipeline`]: TOML experiments with resumable stages and the reproduction report.
//! - [`system`]: one tagging interface over every system, and the kept-system folder.
//!
//! ```no_run
//! use hilgen::corpus::conll;
//! let train = conll::read_path("train.tsv", &conll::ConllFormat::default()).unwrap();
//! let stats = hilgen::corpus::CorpusStats::of(&train).unwrap();
//! println!("{} sentences, {} tokens", stats.sentences, stats.tokens);
//! ```

pub use hilgen_augment as augment;
pub use hilgen_corpus as corpus;
pub use hilgen_dictionary as dictionary;
pub use hilgen_kb as kb;
pub use hilgen_llm as llm;
pub use hilgen_metrics as metrics;
pub use hilgen_models as models;
pub use hilgen_pipeline as pipeline;
pub use hilgen_system as system;

// The README's library example is compiled as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

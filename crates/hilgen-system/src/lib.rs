//! One tagging interface over every system hilgen makes, and the folder that ships one.
//!
//! - [`Tag`]: what a system does (linfa's `Predict` in spirit): sentences in, IOB2 tags out,
//!   consecutive sentences with one `doc_id` read as one document (so an abbreviation defined in
//!   it applies to all of it). The dictionary ([`DictionarySystem`]), a tagger or DANN
//!   ([`Model`], heads of a [`Neural`] model folder), the LLM tagger ([`LlmSystem`]) and an
//!   ensemble of any of them ([`EnsembleSystem`]) implement it; [`System`] is any of them.
//! - A **kept system** is a folder: `system.json` ([`spec::Manifest`]: serde-tagged
//!   [`spec::Component`]s naming their files, each knowledge index pinned by sha256), the model
//!   folders and dictionary data it reads, and a Hugging Face model card (`README.md`,
//!   [`card`]). [`load`] reads a kept folder, or a plain model folder (`hilgen train`'s, a run's
//!   `best/model`, any Hugging Face token-classification folder) as its tagger; [`assemble`]
//!   writes one.
//!
//! ```no_run
//! use hilgen_system::{load, RunOptions, Tag};
//! # let sentences: Vec<hilgen_corpus::Sentence> = vec![];
//! let system = load("runs/bc5cdr/seed-1/kept".as_ref(), None, &RunOptions::default()).unwrap();
//! println!("{}: {:?}", system.describe(), system.types());
//! let tagged = system.tag(&sentences).unwrap();
//! ```

pub mod card;
mod dictionary;
mod ensemble;
mod error;
mod folder;
mod llm;
mod neural;
pub mod spec;

pub use dictionary::DictionarySystem;
pub use ensemble::EnsembleSystem;
pub use error::{Result, SystemError};
pub use folder::{assemble, copy, load, Assembly, Loaded, Source};
pub use llm::{LlmSettings, LlmSystem};
pub use neural::{Head, Model, Neural, RunOptions};

use hilgen_corpus::Sentence;
use sha2::Digest;
use std::path::Path;

/// A system that tags sentences.
pub trait Tag {
    /// What it is, in a few words.
    fn describe(&self) -> String;

    /// The entity types it tags.
    fn types(&self) -> Vec<String>;

    /// The sentences with its tags (IOB2; tokens and document ids kept). Consecutive sentences
    /// with one `doc_id` are one document.
    fn tag(&self, sentences: &[Sentence]) -> Result<Vec<Sentence>>;
}

/// Any system.
pub enum System {
    /// The dictionary (boxed, as the LLM tagger: both are far larger than the others).
    Dictionary(Box<DictionarySystem>),
    /// A tagger or DANN.
    Model(Model),
    /// The LLM tagger.
    Llm(Box<LlmSystem>),
    /// An ensemble.
    Ensemble(EnsembleSystem),
}

impl System {
    fn inner(&self) -> &dyn Tag {
        match self {
            System::Dictionary(s) => &**s,
            System::Model(s) => s,
            System::Llm(s) => &**s,
            System::Ensemble(s) => s,
        }
    }

    /// The model folders it runs (their taggers; for `--scores` and batch settings).
    pub fn models(&self) -> Vec<&Model> {
        match self {
            System::Model(m) => vec![m],
            System::Ensemble(e) => e.members.iter().flat_map(|(_, m)| m.models()).collect(),
            _ => vec![],
        }
    }
}

impl Tag for System {
    fn describe(&self) -> String {
        self.inner().describe()
    }
    fn types(&self) -> Vec<String> {
        self.inner().types()
    }
    fn tag(&self, sentences: &[Sentence]) -> Result<Vec<Sentence>> {
        self.inner().tag(sentences)
    }
}

/// The entity types of IOB labels (`B-Chemical`, `I-Chemical`, `O` -> `Chemical`).
pub(crate) fn types_of_labels(labels: &[String]) -> Vec<String> {
    let mut t: Vec<String> = labels.iter().filter_map(|l| l.split_once('-').map(|(_, t)| t.to_string())).collect();
    t.sort();
    t.dedup();
    t
}

/// The sha256 of a file, in hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| SystemError::io(path, e))?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| SystemError::io(path, e))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

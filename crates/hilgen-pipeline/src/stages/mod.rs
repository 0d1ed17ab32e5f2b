//! One module per stage kind. Each defines its input (a slice of the plan, hashed), its
//! output (recorded in the manifest, read by later stages), how it runs ([`Stage`]), and its
//! place in an experiment ([`Planned`]): which stages of it a plan has, what each reads, and
//! how it builds its input from the plan and those outputs. A new kind is one file here plus
//! one line in [`crate::exec::KINDS`].

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
use crate::graph::{At, Node};
use crate::plan::Plan;
use crate::stage::Stage;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A stage kind's place in an experiment.
pub trait Planned: Stage {
    /// The kind's name: its ids are `KIND` or `SAMPLE/KIND[/NAME]`.
    const KIND: &'static str;

    /// The stages of this kind in `plan`, each with the stages whose outputs it reads (the
    /// only ones [`Planned::input`] may ask [`Outputs`] for).
    fn nodes(plan: &Plan) -> Vec<Node>;

    /// The input of the stage at `at`, from the plan and the outputs it declared; `None` while
    /// one of them is not known yet (a dry run, or a stage another worker holds).
    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<Self::Input>;

    /// The systems (predictions of dev and test) an output holds, in the order they are
    /// scored and reported; most kinds have none.
    fn systems(_plan: &Plan, _at: At, _output: &Self::Output) -> Vec<System> {
        Vec::new()
    }
}

/// The outputs a stage declared it reads, as later stages see them.
pub struct Outputs<'a> {
    /// The stage asking.
    pub(crate) node: &'a Node,
    /// Every output known so far, by stage id.
    pub(crate) values: &'a BTreeMap<String, Value>,
    /// Every system known so far, by the id of the stage that made it.
    pub(crate) systems: &'a BTreeMap<String, Vec<System>>,
}

impl Outputs<'_> {
    fn declared(&self, id: &str) {
        assert!(
            self.node.deps.iter().any(|d| d == id),
            "stage {} reads {id} without declaring it in its kind's nodes()",
            self.node.id
        );
    }

    /// The output of stage `id` of kind `S`, when it is known.
    pub fn get<S: Planned>(&self, id: &str) -> Option<S::Output> {
        self.declared(id);
        self.values.get(id).map(|v| serde_json::from_value(v.clone()).expect("outputs read back as written"))
    }

    /// The systems stage `id` made, when it is known.
    pub fn systems(&self, id: &str) -> Option<Vec<System>> {
        self.declared(id);
        self.systems.get(id).cloned()
    }
}

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

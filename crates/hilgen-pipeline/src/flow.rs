//! How stage kinds take part in an experiment: each kind is [`Planned`] (its stages in a plan,
//! what each reads, how its input is built, which systems its output holds); [`Walk`] goes
//! through a plan's graph running each stage with the input its kind builds from the outputs
//! it declared ([`Outputs`]).

use crate::error::{PipelineError, Result};
use crate::files::FileRef;
use crate::graph::{At, Node};
use crate::plan::Plan;
use crate::stage::{Stage, Stages};
use crate::Runtime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

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

    /// Systems its stages make that the report gives a row of their own (beside the rows of
    /// the training sets), each with the row's title.
    fn rows(_plan: &Plan, _at: At) -> Vec<(String, String)> {
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

/// An output recorded as JSON, read back as its type.
fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> T {
    serde_json::from_value(value.clone()).expect("outputs read back as written")
}

impl Outputs<'_> {
    fn declared(&self, id: &str) {
        assert!(
            self.node.deps.iter().any(|d| d == id),
            "stage {} reads {id} without declaring it in its kind's nodes()",
            self.node.id
        );
    }

    /// The output of stage `id` (of the type its kind records), when it is known.
    pub fn get<T: serde::de::DeserializeOwned>(&self, id: &str) -> Option<T> {
        self.declared(id);
        self.values.get(id).map(decode)
    }

    /// The systems stage `id` made, when it is known.
    pub fn systems(&self, id: &str) -> Option<Vec<System>> {
        self.declared(id);
        self.systems.get(id).cloned()
    }
}

/// What happened to a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Found complete with the same inputs.
    Complete,
    /// Run by this call.
    Ran,
    /// Would run (dry run).
    WouldRun,
    /// Its inputs are not known until earlier stages run (dry run).
    Pending,
    /// Not asked for (`stop_after`).
    NotSelected,
    /// Being run by another worker on the same run directory (`pid@host`).
    Busy(String),
}

/// A stage kind with its type erased, for the list of kinds.
pub(crate) trait Kind: Sync {
    /// [`Planned::KIND`].
    fn name(&self) -> &'static str;
    /// [`Planned::nodes`].
    fn nodes(&self, plan: &Plan) -> Vec<Node>;
    /// Runs (or finds complete) one of its stages.
    fn step(&self, walk: &mut Walk<'_>, node: &Node) -> Result<()>;
}

impl<S: Planned + Sync> Kind for S {
    fn name(&self) -> &'static str {
        S::KIND
    }
    fn nodes(&self, plan: &Plan) -> Vec<Node> {
        S::nodes(plan)
    }
    fn step(&self, walk: &mut Walk<'_>, node: &Node) -> Result<()> {
        walk.step::<S>(node)
    }
}

/// A walk over the graph: the outputs and systems known so far, each stage's status.
pub(crate) struct Walk<'a> {
    /// The registered kinds.
    pub(crate) kinds: &'a [&'a dyn Kind],
    pub(crate) plan: &'a Plan,
    pub(crate) stages: Stages,
    pub(crate) runtime: &'a Runtime,
    pub(crate) outputs: BTreeMap<String, Value>,
    pub(crate) systems: BTreeMap<String, Vec<System>>,
    pub(crate) status: Vec<(String, Status)>,
    pub(crate) dry_run: bool,
}

impl Walk<'_> {
    pub(crate) fn get<T: serde::de::DeserializeOwned>(&self, id: &str) -> Option<T> {
        self.outputs.get(id).map(decode)
    }

    /// Records the output of stage `node` (as its type and as JSON) and the systems it holds.
    fn record<S: Planned>(&mut self, node: &Node, out: &S::Output, value: Value) {
        self.systems.insert(node.id.clone(), S::systems(self.plan, node.at, out));
        self.outputs.insert(node.id.clone(), value);
    }

    /// Runs (or finds complete) stage `node` of kind `S`; its input is built by the kind from
    /// the outputs it declared; `Pending` when one of them is not known yet.
    fn step<S: Planned>(&mut self, node: &Node) -> Result<()> {
        let id = node.id.as_str();
        let outputs = Outputs { node, values: &self.outputs, systems: &self.systems };
        let Some(input) = S::input(self.plan, node.at, &outputs) else {
            self.status.push((id.to_string(), Status::Pending));
            return Ok(());
        };
        if self.dry_run {
            let v = serde_json::to_value(&input).map_err(|e| PipelineError::Invalid(e.to_string()))?;
            match self.stages.complete(id, &crate::files::inputs_hash(&v)) {
                Some(value) => {
                    self.record::<S>(node, &decode(&value), value);
                    self.status.push((id.to_string(), Status::Complete));
                }
                None => self.status.push((id.to_string(), Status::WouldRun)),
            }
            return Ok(());
        }
        let before = self.stages.executed.len();
        let out = match self.stages.run::<S>(id, &input, self.runtime) {
            Err(PipelineError::Claimed { worker, .. }) => {
                self.status.push((id.to_string(), Status::Busy(worker)));
                return Ok(());
            }
            other => other?,
        };
        let ran = self.stages.executed.len() > before;
        self.record::<S>(node, &out, serde_json::to_value(&out).expect("outputs serialize"));
        self.status.push((id.to_string(), if ran { Status::Ran } else { Status::Complete }));
        Ok(())
    }

    pub(crate) fn node(&mut self, node: &Node) -> Result<()> {
        let kind = self.kinds.iter().find(|k| k.name() == node.kind).expect("a registered kind");
        kind.step(self, node)
    }
}

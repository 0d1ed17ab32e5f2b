//! The stage graph of a plan: every stage with its id (its folder under the run directory),
//! where it sits in the plan ([`At`]) and the stages whose outputs it reads. Each stage kind
//! lays out its own stages (`stages/X.rs`, [`crate::stages::Planned::nodes`]); [`order`] puts
//! them in an order where every stage comes after what it reads.
//!
//! ```text
//! kb ─┐
//!     ├─ seed-S/sample ─ seed-S/augment/NAME ─ seed-S/train/CONFIG ─ seed-S/predict/CONFIG ─┐
//!     │                                                                                     ├─ seed-S/evaluate ─ seed-S/ensemble ─┐
//! llm-tagger ───────────────────────────────────────────────────────────────────────────────┘         └─ seed-S/best          ├─ report
//! ```

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
/// A training configuration: the shots alone, or the shots plus a strategy's sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Config {
    /// The shots alone.
    Original,
    /// The shots and strategy `i`'s sentences.
    Strategy(usize),
}

/// One sample: a K and a seed. Its stages live under `seed-S/`, or `kK/seed-S/` when the
/// experiment has several K (a learning curve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// Shots per entity type.
    pub k: usize,
    /// The seed.
    pub seed: u64,
    /// Whether the experiment has several K (the folder names carry K).
    pub curve: bool,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.curve {
            write!(f, "k{}/seed-{}", self.k, self.seed)
        } else {
            write!(f, "seed-{}", self.seed)
        }
    }
}

/// Where a stage sits in the plan: its sample (none for the experiment-wide `kb`,
/// `llm-tagger` and `report`) and, for the stages of one training configuration or strategy,
/// which one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct At {
    /// The sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    /// The configuration (`Strategy(i)` for a strategy's own stages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Config>,
}

impl At {
    /// A stage of the whole experiment.
    pub const EXPERIMENT: At = At { unit: None, config: None };

    /// A stage of one sample.
    pub fn unit(unit: Unit) -> At {
        At { unit: Some(unit), config: None }
    }

    /// A stage of one sample and configuration.
    pub fn config(unit: Unit, config: Config) -> At {
        At { unit: Some(unit), config: Some(config) }
    }

    /// The sample (a programming error for an experiment-wide stage).
    pub fn sample(&self) -> Unit {
        self.unit.expect("a stage of one sample")
    }

    /// The strategy index of a strategy's stage.
    pub fn strategy(&self) -> usize {
        match self.config {
            Some(Config::Strategy(i)) => i,
            other => panic!("a strategy's stage, not {other:?}"),
        }
    }
}

/// A stage of the graph.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Its id and folder.
    pub id: String,
    /// Its kind ([`crate::stages::Planned::KIND`]).
    pub kind: &'static str,
    /// Where it sits.
    pub at: At,
    /// The stages it reads.
    pub deps: Vec<String>,
}

impl Node {
    /// A stage of kind `kind` at `at` reading `deps`.
    pub fn new(id: String, kind: &'static str, at: At, deps: Vec<String>) -> Node {
        Node { id, kind, at, deps }
    }
}

/// The nodes in an order where each comes after the stages it reads: of the stages whose
/// inputs are done, the one of the earliest sample first (experiment-wide stages before the
/// samples), then of the earliest kind, then the earliest its kind listed. A dependency on
/// no node of the graph is an error of the kind that declared it.
pub fn order(nodes: Vec<Node>, kind_rank: impl Fn(&str) -> usize, unit_rank: impl Fn(&At) -> usize) -> Vec<Node> {
    let index: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    for n in &nodes {
        for d in &n.deps {
            assert!(index.contains_key(d.as_str()), "stage {} reads {d}, which is not in the plan", n.id);
        }
    }
    let rank: Vec<(usize, usize, usize)> =
        nodes.iter().enumerate().map(|(i, n)| (unit_rank(&n.at), kind_rank(n.kind), i)).collect();
    let mut waiting: Vec<usize> = nodes.iter().map(|n| n.deps.len()).collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for d in &n.deps {
            readers[index[d.as_str()]].push(i);
        }
    }
    let mut ready: BTreeSet<((usize, usize, usize), usize)> =
        (0..nodes.len()).filter(|&i| waiting[i] == 0).map(|i| (rank[i], i)).collect();
    let mut out = Vec::with_capacity(nodes.len());
    while let Some((_, i)) = ready.pop_first() {
        out.push(i);
        for &r in &readers[i] {
            waiting[r] -= 1;
            if waiting[r] == 0 {
                ready.insert((rank[r], r));
            }
        }
    }
    assert_eq!(out.len(), nodes.len(), "the stage graph has a cycle");
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    out.into_iter().map(|i| slots[i].take().expect("each once")).collect()
}

/// A stage's kind: its id without the sample's `kK/` and `seed-S/`.
pub fn kind_of(id: &str) -> &str {
    let mut rest = id;
    for prefix in ["k", "seed-"] {
        if let Some((first, tail)) = rest.split_once('/') {
            if first.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
                rest = tail;
            }
        }
    }
    rest
}

/// Stage ids.
pub mod ids {
    use super::Unit;
    /// The knowledge index.
    pub const KB: &str = "kb";
    /// The LLM zero-shot tagger.
    pub const LLM_TAGGER: &str = "llm-tagger";
    /// The report.
    pub const REPORT: &str = "report";
    /// The run's kept system (the samples' best on dev).
    pub const KEPT: &str = "kept";
    /// A seed's sample.
    pub fn sample(u: Unit) -> String {
        format!("{u}/sample")
    }
    /// A seed's dictionary.
    pub fn dictionary(u: Unit) -> String {
        format!("{u}/dictionary")
    }
    /// A seed's strategy output.
    pub fn augment(u: Unit, name: &str) -> String {
        format!("{u}/augment/{name}")
    }
    /// A seed's teacher of a strategy.
    pub fn teacher(u: Unit, name: &str) -> String {
        format!("{u}/teacher/{name}")
    }
    /// A seed's model of a configuration.
    pub fn train(u: Unit, config: &str) -> String {
        format!("{u}/train/{config}")
    }
    /// A seed's predictions of a configuration.
    pub fn predict(u: Unit, config: &str) -> String {
        format!("{u}/predict/{config}")
    }
    /// A seed's scores.
    pub fn evaluate(u: Unit) -> String {
        format!("{u}/evaluate")
    }
    /// A seed's ensemble.
    pub fn ensemble(u: Unit) -> String {
        format!("{u}/ensemble")
    }
    /// A seed's kept model.
    pub fn best(u: Unit) -> String {
        format!("{u}/best")
    }
    /// A seed's kept system (what dev chose).
    pub fn kept(u: Unit) -> String {
        format!("{u}/kept")
    }
}

//! `seed-S/ensemble`: the best combination on dev (single systems, weighted vote,
//! intersection, union, majority) of the best systems on dev, applied to test.

use crate::flow::System;
use crate::files::FileRef;
use crate::graph::{ids, At, Node};
use crate::plan::Plan;
use crate::results::SystemScore;
use crate::stage::{Context, Stage};
use crate::stages::evaluate::{score, scoring};
use crate::stages::evaluate::{system_stages, systems};
use crate::flow::{Outputs, Planned};
use crate::Result;
use hilgen_corpus::{Scheme, Sentence};
use hilgen_metrics::ensemble;
use serde::{Deserialize, Serialize};

/// What the ensemble search reads.
#[derive(Debug, Clone, Serialize)]
pub struct EnsembleInput {
    /// Gold dev split (the choice is made on it).
    pub dev: FileRef,
    /// Gold test split (the choice is scored on it).
    pub test: FileRef,
    /// The candidates, best on dev first.
    pub candidates: Vec<System>,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Bootstrap seed.
    pub seed: u64,
    /// `[selection] dev = "none"`: the union of the candidates, chosen on nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fixed: bool,
}

/// The chosen ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleOutput {
    /// Its test scores; `note` says what was chosen.
    pub score: SystemScore,
    /// Its test predictions.
    pub test: FileRef,
}

/// The stage.
pub struct Ensemble;

impl Stage for Ensemble {
    type Input = EnsembleInput;
    type Output = EnsembleOutput;

    fn run(input: &EnsembleInput, cx: &Context<'_>) -> Result<EnsembleOutput> {
        let gold_dev = super::io::read(&cx.path(&input.dev))?;
        let gold_test = super::io::read(&cx.path(&input.test))?;
        let dev: Vec<Vec<Sentence>> =
            input.candidates.iter().map(|s| super::io::read(&cx.path(&s.predictions.dev))).collect::<Result<_>>()?;
        let test: Vec<Vec<Sentence>> =
            input.candidates.iter().map(|s| super::io::read(&cx.path(&s.predictions.test))).collect::<Result<_>>()?;
        let dev_refs: Vec<&[Sentence]> = dev.iter().map(Vec::as_slice).collect();
        let test_refs: Vec<&[Sentence]> = test.iter().map(Vec::as_slice).collect();
        let choice = choose(&gold_dev, &dev_refs, &input.candidates, input.fixed)?;
        let combined = choice.apply(&test_refs)?;
        super::io::write_tsv(&cx.dir.join("ensemble.test.tsv"), &combined)?;
        let (prf, ci, e) = score(&gold_test, &combined, input.bootstrap, input.seed)?;
        let mut s = SystemScore::new(prf, ci, choice.dev_f1).with_types(&e);
        s.note = Some(choice.describe());
        Ok(EnsembleOutput { score: s, test: cx.output("ensemble.test.tsv")? })
    }
}

/// The combination chosen on dev: which candidates, combined how.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The chosen candidates' names (`dictionary`, `tagger/distant`, ...), in candidate order.
    pub names: Vec<String>,
    /// Their indices among the candidates.
    pub members: Vec<usize>,
    /// The rule (a single system: its spans as they are).
    pub method: ensemble::Method,
    /// Each chosen candidate's weight (its dev F1 for a weighted vote, else 1).
    pub weights: Vec<f64>,
    /// The combination's dev F1.
    pub dev_f1: f64,
    chosen: ensemble::Candidate,
    all_weights: Vec<f64>,
}

impl Choice {
    /// `tagger/distant`, or `union of dictionary + tagger/distant`.
    pub fn describe(&self) -> String {
        if self.names.len() == 1 {
            self.names[0].clone()
        } else {
            format!("{} of {}", self.method, self.names.join(" + "))
        }
    }

    /// The combination of the candidates' predictions (all candidates, in candidate order).
    pub fn apply(&self, candidates: &[&[Sentence]]) -> Result<Vec<Sentence>> {
        Ok(ensemble::apply(&self.chosen, candidates, &self.all_weights, Scheme::Iob2)?)
    }
}

/// The best combination on dev of the candidates (their dev predictions in candidate order):
/// every single system, and for every subset of two or more the dev-F1-weighted vote,
/// intersection, union and majority (ties: the earlier). With `fixed`, nothing is chosen: the
/// union of all the candidates (dev only scores it).
pub fn choose(gold_dev: &[Sentence], dev: &[&[Sentence]], candidates: &[System], fixed: bool) -> Result<Choice> {
    let cands = if fixed {
        let all = (0..candidates.len()).collect();
        vec![ensemble::Candidate { systems: all, method: ensemble::Method::Union, dev_weights: false }]
    } else {
        ensemble::default_candidates(candidates.len())
    };
    let sel = ensemble::select_best(gold_dev, dev, &cands, scoring(), Scheme::Iob2)?;
    let chosen = sel.chosen().clone();
    let c = &chosen.candidate;
    Ok(Choice {
        names: c.systems.iter().map(|&i| candidates[i].name.clone()).collect(),
        members: c.systems.clone(),
        method: c.method.clone(),
        weights: c.systems.iter().map(|&i| if c.dev_weights { sel.weights[i] } else { 1.0 }).collect(),
        dev_f1: chosen.dev_f1,
        chosen: chosen.candidate,
        all_weights: sel.weights,
    })
}

/// The candidates of a sample's ensemble: its best systems on dev (a stable sort: report order
/// among equals), at most the plan's `ensemble_systems`; under `[selection] dev = "none"`, the
/// plan's fixed members in its order.
pub(crate) fn ranked(plan: &Plan, unit: crate::graph::Unit, outputs: &Outputs<'_>) -> Option<Vec<System>> {
    let mut ranked = systems(plan, unit, outputs)?;
    if let Some(fixed) = plan.fixed_ensemble() {
        ranked.retain(|s| fixed.contains(&s.name));
        ranked.sort_by_key(|s| fixed.iter().position(|f| f == &s.name));
        return Some(ranked);
    }
    let scores = outputs.get::<super::evaluate::Scores>(&ids::evaluate(unit))?;
    ranked.sort_by(|a, b| scores[&b.name].dev_f1.total_cmp(&scores[&a.name].dev_f1));
    ranked.truncate(plan.ensemble_systems.max(1));
    Some(ranked)
}

impl Planned for Ensemble {
    const KIND: &'static str = "ensemble";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let node = |u| {
            let deps = [system_stages(plan, u), vec![ids::evaluate(u)]].concat();
            Node::new(ids::ensemble(u), Self::KIND, At::unit(u), deps)
        };
        plan.units().into_iter().map(node).collect()
    }

    /// The best systems on dev (a stable sort: report order among equals).
    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<EnsembleInput> {
        let unit = at.sample();
        let ranked = ranked(plan, unit, outputs)?;
        Some(EnsembleInput {
            dev: plan.dev(unit).labelled.clone(),
            test: plan.data.test.labelled.clone(),
            candidates: ranked,
            bootstrap: plan.bootstrap,
            seed: unit.seed,
            fixed: plan.fixed_ensemble().is_some(),
        })
    }
}

//! `seed-S/evaluate`: every system's test scores (with a bootstrap interval) and dev F1.

use crate::flow::System;
use crate::files::FileRef;
use crate::graph::{ids, At, Node, Unit};
use crate::plan::Plan;
use crate::results::SystemScore;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned};
use crate::Result;
use hilgen_corpus::Sentence;
use hilgen_metrics::{bootstrap, evaluate_sentences, Options};
use serde::Serialize;
use std::collections::BTreeMap;

/// What evaluation reads.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluateInput {
    /// Gold dev split.
    pub dev: FileRef,
    /// Gold test split.
    pub test: FileRef,
    /// The systems, in report order.
    pub systems: Vec<System>,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Bootstrap seed.
    pub seed: u64,
}

/// seqeval's default mode; 0 where a score is undefined (a resample or a model with no
/// entities), without a warning per resample.
pub fn scoring() -> Options {
    Options { zero_division: hilgen_metrics::ZeroDivision::Zero, ..Options::default() }
}

/// Micro P/R/F1 of `pred` against `gold` with a bootstrap interval of F1, and the whole
/// evaluation (per type).
pub fn score(
    gold: &[Sentence],
    pred: &[Sentence],
    replicates: usize,
    seed: u64,
) -> Result<(hilgen_metrics::Prf, bootstrap::Interval, hilgen_metrics::Evaluation)> {
    let o = scoring();
    let e = evaluate_sentences(gold, pred, o)?;
    let prf = e.micro;
    let g: Vec<&[String]> = gold.iter().map(|s| s.tags.as_slice()).collect();
    let p: Vec<&[String]> = pred.iter().map(|s| s.tags.as_slice()).collect();
    let ci = bootstrap::f1_interval(&g, &p, o, &bootstrap::Config { replicates, seed, ..Default::default() })?;
    Ok((prf, ci, e))
}

/// What evaluation records: every system's scores, by name.
pub type Scores = BTreeMap<String, SystemScore>;

/// The stage.
pub struct Evaluate;

impl Stage for Evaluate {
    type Input = EvaluateInput;
    type Output = BTreeMap<String, SystemScore>;

    fn run(input: &EvaluateInput, cx: &Context<'_>) -> Result<Self::Output> {
        let dev = super::io::read(&cx.path(&input.dev))?;
        let test = super::io::read(&cx.path(&input.test))?;
        let mut out = BTreeMap::new();
        for s in &input.systems {
            let t = super::io::read(&cx.path(&s.predictions.test))?;
            let d = super::io::read(&cx.path(&s.predictions.dev))?;
            let (prf, ci, e) = score(&test, &t, input.bootstrap, input.seed)?;
            let on_dev = evaluate_sentences(&dev, &d, scoring())?;
            if is_silent(&on_dev) {
                tracing::warn!(
                    system = %s.name,
                    "tags no entity on dev: its training never left O (try more steps, e.g. shot_passes, or another learning_rate)"
                );
            }
            out.insert(s.name.clone(), SystemScore::new(prf, ci, on_dev.micro.f1).with_types(&e));
        }
        Ok(out)
    }
}

/// Whether a system predicted no entity where gold has some: a training that never left `O`
/// (all-mpnet-base-v2 on five NCBI-Disease sentences: one seed of three at learning rate 1e-4,
/// all three at 5e-5). Read from the evaluation's own entity counts.
fn is_silent(e: &hilgen_metrics::Evaluation) -> bool {
    let (predicted, gold) = e.counts.values().fold((0, 0), |(p, g), c| (p + c.predicted, g + c.gold));
    gold > 0 && predicted == 0
}

impl Planned for Evaluate {
    const KIND: &'static str = "evaluate";

    fn nodes(plan: &Plan) -> Vec<Node> {
        plan.units()
            .into_iter()
            .map(|u| Node::new(ids::evaluate(u), Self::KIND, At::unit(u), system_stages(plan, u)))
            .collect()
    }

    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<EvaluateInput> {
        Some(EvaluateInput {
            dev: plan.dev(at.sample()).labelled.clone(),
            test: plan.data.test.labelled.clone(),
            systems: systems(plan, at.sample(), outputs)?,
            bootstrap: plan.bootstrap,
            seed: at.sample().seed,
        })
    }
}

/// The stages whose systems a sample scores, in report order: each configuration's
/// predictions, the LLM tagger's, the dictionary's.
pub(crate) fn system_stages(plan: &Plan, unit: Unit) -> Vec<String> {
    let mut ids: Vec<String> =
        plan.all_configs().into_iter().map(|c| ids::predict(unit, plan.config_name(c))).collect();
    if plan.zero_shot_tagger {
        ids.push(ids::LLM_TAGGER.into());
    }
    if plan.dictionary_system {
        ids.push(ids::dictionary(unit));
    }
    ids
}

/// Every system of a sample, in report order, as the stages of [`system_stages`] name them.
pub(crate) fn systems(plan: &Plan, unit: Unit, outputs: &Outputs<'_>) -> Option<Vec<System>> {
    let mut out = Vec::new();
    for id in system_stages(plan, unit) {
        out.extend(outputs.systems(&id)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(tags: &[&str]) -> Sentence {
        Sentence::new(tags.iter().map(|_| "w".to_string()).collect(), tags.iter().map(|t| t.to_string()).collect())
            .unwrap()
    }

    fn silent(gold: &[Sentence], pred: &[Sentence]) -> bool {
        is_silent(&evaluate_sentences(gold, pred, scoring()).unwrap())
    }

    #[test]
    fn a_system_is_silent_when_it_predicts_no_entity_where_gold_has_some() {
        let gold = [sent(&["B-X", "I-X", "O"]), sent(&["O"])];
        assert!(silent(&gold, &[sent(&["O", "O", "O"]), sent(&["O"])]));
        assert!(!silent(&gold, &[sent(&["O", "O", "O"]), sent(&["I-Y"])]));
        assert!(!silent(&[sent(&["O"])], &[sent(&["O"])]));
    }
}

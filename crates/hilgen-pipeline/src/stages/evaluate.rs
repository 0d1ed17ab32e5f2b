//! `seed-S/evaluate`: every system's test scores (with a bootstrap interval) and dev F1.

use super::System;
use crate::files::FileRef;
use crate::results::SystemScore;
use crate::stage::{Context, Stage};
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

/// The stage.
pub struct Evaluate;

impl Stage for Evaluate {
    type Input = EvaluateInput;
    type Output = BTreeMap<String, SystemScore>;

    fn run(input: &EvaluateInput, cx: &Context<'_>) -> Result<Self::Output> {
        let dev = super::read(&cx.path(&input.dev))?;
        let test = super::read(&cx.path(&input.test))?;
        let mut out = BTreeMap::new();
        for s in &input.systems {
            let t = super::read(&cx.path(&s.predictions.test))?;
            let d = super::read(&cx.path(&s.predictions.dev))?;
            let (prf, ci, e) = score(&test, &t, input.bootstrap, input.seed)?;
            let dev_f1 = evaluate_sentences(&dev, &d, scoring())?.micro.f1;
            warn_if_silent(&s.name, &dev, &d);
            out.insert(s.name.clone(), SystemScore::new(prf, ci, dev_f1).with_types(&e));
        }
        Ok(out)
    }
}

/// Whether any token of a split carries an entity tag.
fn tags_any(xs: &[Sentence]) -> bool {
    xs.iter().flat_map(|s| &s.tags).any(|t| t != "O")
}

/// Warns when a system tags nothing on dev while gold has entities: a training that never left
/// `O` (all-mpnet-base-v2 on five NCBI-Disease sentences: one seed of three at learning rate
/// 1e-4, all three at 5e-5).
fn warn_if_silent(system: &str, gold: &[Sentence], pred: &[Sentence]) {
    if tags_any(gold) && !tags_any(pred) {
        tracing::warn!(
            system,
            "tags no entity on dev: its training never left O (try more steps, e.g. shot_passes, or another learning_rate)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(tags: &[&str]) -> Sentence {
        Sentence::new(tags.iter().map(|_| "w".to_string()).collect(), tags.iter().map(|t| t.to_string()).collect())
            .unwrap()
    }

    #[test]
    fn a_split_tags_something_when_any_tag_is_not_o() {
        assert!(tags_any(&[sent(&["O"]), sent(&["O", "I-X"])]));
        assert!(!tags_any(&[sent(&["O", "O"]), sent(&["O"])]));
        assert!(!tags_any(&[]));
    }
}

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
        let cands = ensemble::default_candidates(input.candidates.len());
        let sel = ensemble::select_best(&gold_dev, &dev_refs, &cands, scoring(), Scheme::Iob2)?;
        let chosen = sel.chosen();
        let combined = ensemble::apply(&chosen.candidate, &test_refs, &sel.weights, Scheme::Iob2)?;
        super::io::write_tsv(&cx.dir.join("ensemble.test.tsv"), &combined)?;
        let names: Vec<&str> = chosen.candidate.systems.iter().map(|&i| input.candidates[i].name.as_str()).collect();
        let (prf, ci, e) = score(&gold_test, &combined, input.bootstrap, input.seed)?;
        let mut s = SystemScore::new(prf, ci, chosen.dev_f1).with_types(&e);
        s.note = Some(if names.len() == 1 {
            names[0].to_string()
        } else {
            format!("{} of {}", chosen.candidate.method, names.join(" + "))
        });
        Ok(EnsembleOutput { score: s, test: cx.output("ensemble.test.tsv")? })
    }
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
        let mut ranked = systems(plan, unit, outputs)?;
        let scores = outputs.get::<super::evaluate::Scores>(&ids::evaluate(unit))?;
        ranked.sort_by(|a, b| scores[&b.name].dev_f1.total_cmp(&scores[&a.name].dev_f1));
        ranked.truncate(plan.ensemble_systems.max(1));
        Some(EnsembleInput {
            dev: plan.data.dev.labelled.clone(),
            test: plan.data.test.labelled.clone(),
            candidates: ranked,
            bootstrap: plan.bootstrap,
            seed: unit.seed,
        })
    }
}

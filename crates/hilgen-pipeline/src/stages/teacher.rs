//! `seed-S/teacher/NAME`: the teacher of a self-training round, the best system on dev among
//! the models trained before it, labels the pool and dev (tags with their probabilities).

use crate::error::PipelineError;
use crate::files::FileRef;
use crate::graph::{ids, At, Config, Node};
use crate::plan::Plan;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned};
use crate::Result;
use hilgen_augment::Scored;
use hilgen_corpus::Sentence;
use hilgen_metrics::evaluate_sentences;
use hilgen_models::{Dann, Features, Tagger};
use serde::Serialize;

/// A model the teacher may be.
#[derive(Debug, Clone, Serialize)]
pub struct TeacherCandidate {
    /// `tagger/CONFIG` or `dann/CONFIG`.
    pub system: String,
    /// Its model folder.
    pub model: FileRef,
    /// Its dev predictions.
    pub dev_predictions: FileRef,
}

/// What the teacher stage reads.
#[derive(Debug, Clone, Serialize)]
pub struct TeacherInput {
    /// The candidates (the first of equal dev F1 wins).
    pub candidates: Vec<TeacherCandidate>,
    /// The gold dev split.
    pub dev: FileRef,
    /// The pool (tokens).
    pub pool: FileRef,
    /// The candidate the strategy fixes as its teacher (then dev chooses nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Write every pool word's probability of every label too (soft self-training; a tagger
    /// teacher only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub distributions: bool,
}

pub use super::labels::{read_scored, TeacherOutput};

fn write_scored(path: &std::path::Path, xs: &[Scored]) -> Result<()> {
    let mut text = String::new();
    for x in xs {
        text.push_str(&serde_json::to_string(x).expect("serializes"));
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| PipelineError::io(path, e))
}

/// The stage.
pub struct ChooseTeacher;

impl Stage for ChooseTeacher {
    type Input = TeacherInput;
    type Output = TeacherOutput;

    fn run(input: &TeacherInput, cx: &Context<'_>) -> Result<TeacherOutput> {
        let gold = super::io::read(&cx.path(&input.dev))?;
        let mut best: Option<(f64, &TeacherCandidate)> = None;
        let candidates: Vec<&TeacherCandidate> =
            input.candidates.iter().filter(|c| input.fixed.as_ref().is_none_or(|f| &c.system == f)).collect();
        if let (Some(f), true) = (&input.fixed, candidates.is_empty()) {
            let names: Vec<&str> = input.candidates.iter().map(|c| c.system.as_str()).collect();
            return Err(PipelineError::Invalid(format!(
                "the teacher `{f}` is not among the systems trained before it: {}",
                names.join(", ")
            )));
        }
        for c in candidates {
            let pred = super::io::read(&cx.path(&c.dev_predictions))?;
            let f1 = evaluate_sentences(&gold, &pred, crate::stages::evaluate::scoring())?.micro.f1;
            if best.is_none_or(|(b, _)| f1 > b) {
                best = Some((f1, c));
            }
        }
        let (dev_f1, chosen) = best.ok_or_else(|| PipelineError::Invalid("a teacher needs a trained model".into()))?;
        tracing::info!(teacher = %chosen.system, dev_f1, fixed = input.fixed.is_some(), "teacher");
        let dir = cx.path(&chosen.model);
        let tagger = Tagger::load(&dir, {
            cx.runtime.apply_threads();
            cx.runtime.device.resolve()?
        })?;
        let dann = chosen.system.starts_with("dann/").then(|| Dann::load(&dir)).transpose()?;
        if input.distributions && dann.is_some() {
            return Err(PipelineError::Invalid(format!(
                "soft self-training reads a tagger's distributions over the labels; the teacher is `{}`",
                chosen.system
            )));
        }
        let pool = super::io::read(&cx.path(&input.pool))?;
        for (name, sentences) in [("teacher.pool.jsonl", &pool), ("teacher.dev.jsonl", &gold)] {
            let emissions = tagger.word_features(sentences, Features::Emissions)?;
            let preds = match &dann {
                Some(d) if d.config.features == Features::Emissions => d.predict_features(&emissions),
                Some(d) => d.predict(&tagger, sentences)?,
                None => tagger.decode_emissions(&emissions)?,
            };
            // Only the pool's: self-training reads no distribution of dev.
            let mut distributions = match input.distributions && name == "teacher.pool.jsonl" {
                true => tagger.distributions(&emissions)?.into_iter().map(Some).collect(),
                false => vec![None; preds.len()],
            };
            let scored: Vec<Scored> = preds
                .into_iter()
                .zip(sentences.iter())
                .zip(distributions.iter_mut())
                .map(|((p, s), d)| Scored { sentence: strip(p.to_sentence(s)), probs: p.probs, distributions: d.take() })
                .collect();
            write_scored(&cx.dir.join(name), &scored)?;
        }
        Ok(TeacherOutput {
            system: chosen.system.clone(),
            dev_f1,
            pool: cx.output("teacher.pool.jsonl")?,
            dev: cx.output("teacher.dev.jsonl")?,
        })
    }
}

fn strip(mut s: Sentence) -> Sentence {
    s.concepts.clear();
    s
}

impl Planned for ChooseTeacher {
    const KIND: &'static str = "teacher";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let mut nodes = Vec::new();
        for unit in plan.units() {
            for i in (0..plan.strategies.len()).filter(|&i| plan.strategies[i].needs.teacher) {
                let deps = plan
                    .teacher_candidates(i)
                    .into_iter()
                    .flat_map(|c| [ids::train(unit, plan.config_name(c)), ids::predict(unit, plan.config_name(c))])
                    .collect();
                let id = ids::teacher(unit, plan.strategies[i].spec.id());
                nodes.push(Node::new(id, Self::KIND, At::config(unit, Config::Strategy(i)), deps));
            }
        }
        nodes
    }

    /// The candidates are the systems of the models before this round, each with its model.
    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<TeacherInput> {
        let unit = at.sample();
        let mut candidates = Vec::new();
        for c in plan.teacher_candidates(at.strategy()) {
            let name = plan.config_name(c);
            let model = outputs.get::<super::train::TrainOutput>(&ids::train(unit, name))?.model;
            for s in outputs.systems(&ids::predict(unit, name))? {
                candidates.push(TeacherCandidate {
                    system: s.name,
                    model: model.clone(),
                    dev_predictions: s.predictions.dev,
                });
            }
        }
        let pool = plan.data.pool.as_ref()?.tokens.clone();
        let strategy = &plan.strategies[at.strategy()].strategy;
        let fixed = strategy.teacher().map(str::to_string);
        let distributions = strategy.teacher_distributions();
        Some(TeacherInput { candidates, dev: plan.dev(unit).labelled.clone(), pool, fixed, distributions })
    }
}

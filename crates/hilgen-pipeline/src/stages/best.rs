//! `seed-S/best`: keeps the best single system on dev (tagger or DANN of some training set) as
//! `model/`, a Hugging Face folder with a `system.json` saying which of the two to use.

use crate::error::PipelineError;
use crate::files::FileRef;
use crate::graph::{ids, At, Node};
use crate::plan::Plan;
use crate::results::KeptModel;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned};
use crate::Result;
use serde::{Deserialize, Serialize};

/// A candidate model.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// `tagger/CONFIG` or `dann/CONFIG`.
    pub system: String,
    /// Its dev F1.
    pub dev_f1: f64,
    /// Its model folder.
    pub model: FileRef,
}

/// What the choice reads: dev scores only.
#[derive(Debug, Clone, Serialize)]
pub struct BestInput {
    /// The candidates (the first of equal dev F1 wins).
    pub candidates: Vec<Candidate>,
}

/// The kept model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestOutput {
    /// What was kept.
    pub kept: KeptModel,
    /// The folder.
    pub model: FileRef,
}

/// The file in a model folder naming the system to use (`tagger` or `dann`).
pub const SYSTEM_FILE: &str = "system.json";

/// The stage.
pub struct Best;

impl Stage for Best {
    type Input = BestInput;
    type Output = BestOutput;

    fn run(input: &BestInput, cx: &Context<'_>) -> Result<BestOutput> {
        let best = input
            .candidates
            .iter()
            .reduce(|a, b| if b.dev_f1 > a.dev_f1 { b } else { a })
            .ok_or_else(|| PipelineError::Invalid("no model to keep".into()))?;
        let src = cx.path(&best.model);
        let dest = cx.dir.join("model");
        std::fs::create_dir_all(&dest).map_err(|e| PipelineError::io(&dest, e))?;
        for e in std::fs::read_dir(&src).map_err(|e| PipelineError::io(&src, e))? {
            let e = e.map_err(|e| PipelineError::io(&src, e))?;
            let to = dest.join(e.file_name());
            // A hard link costs nothing; a copy where links are not possible.
            if std::fs::hard_link(e.path(), &to).is_err() {
                std::fs::copy(e.path(), &to).map_err(|err| PipelineError::io(e.path(), err))?;
            }
        }
        let system = best.system.split('/').next().unwrap_or("tagger");
        let p = dest.join(SYSTEM_FILE);
        let text = serde_json::json!({"system": system, "chosen_as": best.system, "dev_f1": best.dev_f1}).to_string();
        std::fs::write(&p, text).map_err(|e| PipelineError::io(&p, e))?;
        let kept = KeptModel { system: best.system.clone(), dev_f1: best.dev_f1, folder: format!("{}/model", cx.id) };
        Ok(BestOutput { kept, model: cx.output_dir("model")? })
    }
}

impl Planned for Best {
    const KIND: &'static str = "best";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let node = |u| {
            let mut deps = Vec::new();
            for c in plan.all_configs() {
                deps.extend([ids::train(u, plan.config_name(c)), ids::predict(u, plan.config_name(c))]);
            }
            deps.push(ids::evaluate(u));
            Node::new(ids::best(u), Self::KIND, At::unit(u), deps)
        };
        plan.units().into_iter().map(node).collect()
    }

    /// Every trained model's systems (tagger and DANN; not the back-off's tagger member), with
    /// their dev F1.
    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<BestInput> {
        let unit = at.sample();
        let scores = outputs.get::<super::evaluate::Scores>(&ids::evaluate(unit))?;
        let mut candidates = Vec::new();
        for c in plan.all_configs() {
            let name = plan.config_name(c);
            let model = outputs.get::<super::train::TrainOutput>(&ids::train(unit, name))?.model;
            // A back-off member is a filter on the tagger, not a model folder's head of its own.
            for s in outputs.systems(&ids::predict(unit, name))? {
                if crate::results::is_confident_system(&s.name) {
                    continue;
                }
                candidates.push(Candidate { dev_f1: scores[&s.name].dev_f1, system: s.name, model: model.clone() });
            }
        }
        Some(BestInput { candidates })
    }
}

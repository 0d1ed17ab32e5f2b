//! `seed-S/predict/CONFIG`: a trained model's tagger and DANN predictions on dev and test (one
//! pass of the encoder serves both). Reads only the splits' tokens.

use crate::flow::Predictions;
use crate::files::FileRef;
use crate::graph::{ids, At, Node};
use crate::plan::Plan;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned, System};
use crate::Result;
use hilgen_corpus::Sentence;
use hilgen_models::Prediction;
use hilgen_system::Head;
use serde::{Deserialize, Serialize};

/// What prediction reads.
#[derive(Debug, Clone, Serialize)]
pub struct PredictInput {
    /// The model folder.
    pub model: FileRef,
    /// The dev split (hash of its tokens).
    pub dev: FileRef,
    /// The test split (hash of its tokens).
    pub test: FileRef,
    /// `[selection] default_ensemble = "backoff"`, for the configuration it backs off to: also
    /// the tagger's entities whose every word's tag has at least this probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<f64>,
    /// With `min_confidence` under `[selection] backoff_skip_symbols`: the sure entities leave
    /// out one-word symbols.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_symbols: bool,
}

/// The predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictOutput {
    /// The tagger's.
    pub tagger: Predictions,
    /// DANN's.
    pub dann: Predictions,
    /// The tagger's sure entities (with `min_confidence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confident: Option<Predictions>,
}

/// The stage.
pub struct Predict;

impl Stage for Predict {
    type Input = PredictInput;
    type Output = PredictOutput;

    fn run(input: &PredictInput, cx: &Context<'_>) -> Result<PredictOutput> {
        cx.runtime.apply_threads();
        let options = hilgen_system::RunOptions { device: Some(cx.runtime.device), ..Default::default() };
        // The code `hilgen tag` runs: one encoder pass for both heads.
        let model = hilgen_system::Neural::load(&cx.path(&input.model), &options)?;
        for (split, file) in [("dev", &input.dev), ("test", &input.test)] {
            let gold = super::io::read(&cx.path(file))?;
            let [tagger, dann]: [Vec<Prediction>; 2] =
                model.predict(&gold, &[Head::Tagger, Head::Dann])?.try_into().expect("two heads");
            let sentences = |p: &[Prediction]| -> Vec<Sentence> {
                p.iter().zip(&gold).map(|(p, s)| p.to_sentence(s)).collect()
            };
            super::io::write_tsv(&cx.dir.join(format!("tagger.{split}.tsv")), &sentences(&tagger))?;
            super::io::write_tsv(&cx.dir.join(format!("dann.{split}.tsv")), &sentences(&dann))?;
            if let Some(min) = input.min_confidence {
                let sure: Vec<Prediction> = tagger
                    .iter()
                    .zip(&gold)
                    .map(|(p, s)| p.filtered(Some(min as f32), input.skip_symbols, &s.tokens))
                    .collect();
                super::io::write_tsv(&cx.dir.join(format!("confident.{split}.tsv")), &sentences(&sure))?;
            }
        }
        let pair = |m: &str| -> Result<Predictions> {
            Ok(Predictions { dev: cx.output(&format!("{m}.dev.tsv"))?, test: cx.output(&format!("{m}.test.tsv"))? })
        };
        let confident = input.min_confidence.map(|_| pair("confident")).transpose()?;
        Ok(PredictOutput { tagger: pair("tagger")?, dann: pair("dann")?, confident })
    }
}

impl Planned for Predict {
    const KIND: &'static str = "predict";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let node = |(unit, config)| {
            let name = plan.config_name(config);
            Node::new(ids::predict(unit, name), Self::KIND, At::config(unit, config), vec![ids::train(unit, name)])
        };
        plan.models().into_iter().map(node).collect()
    }

    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<PredictInput> {
        let name = plan.config_name(at.config.expect("a configuration's stage"));
        let t = outputs.get::<super::train::TrainOutput>(&ids::train(at.sample(), name))?;
        let dev = plan.dev(at.sample()).tokens.clone();
        // The back-off's tagger is the last configuration's.
        let last = plan.all_configs().last().copied();
        let min_confidence = plan.backoff().filter(|_| at.config == last);
        let skip_symbols = min_confidence.is_some() && plan.backoff_skips_symbols();
        Some(PredictInput { model: t.model, dev, test: plan.data.test.tokens.clone(), min_confidence, skip_symbols })
    }

    /// The back-off's tagger member has a row of its own (the tagger and DANN have the
    /// training sets' columns).
    fn rows(plan: &Plan, _: At) -> Vec<(String, String)> {
        match (plan.backoff_system(), plan.backoff()) {
            (Some(name), Some(p)) => {
                let symbols = if plan.backoff_skips_symbols() { ", no one-word symbols" } else { "" };
                vec![(
                    name.clone(),
                    format!("{name}: the tagger's sure entities (every word's tag at p >= {p}{symbols}), the back-off's member"),
                )]
            }
            _ => vec![],
        }
    }

    /// The tagger and DANN of the configuration: `tagger/CONFIG`, `dann/CONFIG` (and the
    /// back-off's `tagger/CONFIG@P`, `tagger/CONFIG@P-symbols` without symbols).
    fn systems(plan: &Plan, at: At, output: &PredictOutput) -> Vec<System> {
        let name = plan.config_name(at.config.expect("a configuration's stage"));
        let [tagger, dann] = crate::results::model_systems(name);
        let mut out = vec![
            System { name: tagger, predictions: output.tagger.clone() },
            System { name: dann, predictions: output.dann.clone() },
        ];
        if let (Some(c), Some(member)) = (&output.confident, plan.backoff_system()) {
            out.push(System { name: member, predictions: c.clone() });
        }
        out
    }
}

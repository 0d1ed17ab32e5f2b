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
use hilgen_models::{Dann, Features, Tagger};
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
}

/// The predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictOutput {
    /// The tagger's.
    pub tagger: Predictions,
    /// DANN's.
    pub dann: Predictions,
}

/// The stage.
pub struct Predict;

impl Stage for Predict {
    type Input = PredictInput;
    type Output = PredictOutput;

    fn run(input: &PredictInput, cx: &Context<'_>) -> Result<PredictOutput> {
        let dir = cx.path(&input.model);
        let tagger = Tagger::load(&dir, {
            cx.runtime.apply_threads();
            cx.runtime.device.resolve()?
        })?;
        let dann = Dann::load(&dir)?;
        for (split, file) in [("dev", &input.dev), ("test", &input.test)] {
            let gold = super::io::read(&cx.path(file))?;
            let emissions = tagger.word_features(&gold, Features::Emissions)?;
            let to_sentences = |p: Vec<hilgen_models::Prediction>| -> Vec<Sentence> {
                p.iter().zip(&gold).map(|(p, s)| p.to_sentence(s)).collect()
            };
            super::io::write_tsv(
                &cx.dir.join(format!("tagger.{split}.tsv")),
                &to_sentences(tagger.decode_emissions(&emissions)?),
            )?;
            let dann_pred = if dann.config.features == Features::Emissions {
                dann.predict_features(&emissions)
            } else {
                dann.predict(&tagger, &gold)?
            };
            super::io::write_tsv(&cx.dir.join(format!("dann.{split}.tsv")), &to_sentences(dann_pred))?;
        }
        let pair = |m: &str| -> Result<Predictions> {
            Ok(Predictions { dev: cx.output(&format!("{m}.dev.tsv"))?, test: cx.output(&format!("{m}.test.tsv"))? })
        };
        Ok(PredictOutput { tagger: pair("tagger")?, dann: pair("dann")? })
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
        Some(PredictInput { model: t.model, dev: plan.data.dev.tokens.clone(), test: plan.data.test.tokens.clone() })
    }

    /// The tagger and DANN of the configuration: `tagger/CONFIG`, `dann/CONFIG`.
    fn systems(plan: &Plan, at: At, output: &PredictOutput) -> Vec<System> {
        let name = plan.config_name(at.config.expect("a configuration's stage"));
        let [tagger, dann] = crate::results::model_systems(name);
        vec![
            System { name: tagger, predictions: output.tagger.clone() },
            System { name: dann, predictions: output.dann.clone() },
        ]
    }
}

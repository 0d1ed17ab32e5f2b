//! `seed-S/train/CONFIG`: the tagger trained on the shots (plus a strategy's sentences) and
//! DANN fitted on the same sentences, kept as a Hugging Face folder `model/`.

use crate::files::FileRef;
use crate::graph::{ids, At, Config, Node};
use crate::plan::Plan;
use crate::stage::{Context, Stage};
use crate::flow::{Outputs, Planned};
use crate::Result;
use hilgen_models::{Dann, DannConfig, EncoderConfig, Tagger, TaggerConfig, TrainReport, WordEncoder};
use hilgen_corpus::Sentence;
use serde::{Deserialize, Serialize};

/// What training reads.
#[derive(Debug, Clone, Serialize)]
pub struct TrainInput {
    /// The shots.
    pub shots: FileRef,
    /// A strategy's synthetic sentences.
    pub synthetic: Option<FileRef>,
    /// The encoder folder.
    pub encoder: FileRef,
    /// A tiny random BERT with the encoder's tokenizer instead of its weights.
    pub random_tiny: bool,
    /// The label set.
    pub labels: Vec<String>,
    /// Hyper-parameters, epochs and batch size from the schedule, the run's seed.
    pub tagger: TaggerConfig,
    /// DANN settings.
    pub dann: DannConfig,
    /// The dev split, when early stopping reads it.
    pub dev: Option<FileRef>,
    /// Copies of each shot in the training set (the `steps` schedule upsamples them).
    #[serde(skip_serializing_if = "is_one")]
    pub shot_copies: usize,
    /// Synthetic sentences drawn, cycling through them (each once when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic_slots: Option<usize>,
    /// Loss weight of the synthetic sentences' `O` words (the strategy's; 1 for most).
    #[serde(skip_serializing_if = "is_one_f")]
    pub o_weight: f64,
}

fn is_one(x: &usize) -> bool {
    *x == 1
}
fn is_one_f(x: &f64) -> bool {
    *x == 1.0
}

/// The trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOutput {
    /// The model folder (tagger and DANN).
    pub model: FileRef,
    /// Training sentences.
    pub sentences: usize,
    /// Epochs.
    pub epochs: usize,
    /// The training run.
    pub report: TrainReport,
    /// The second run, where the first tagged none of the shots right (`report` is the second's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refit: Option<Refit>,
}

/// A second training run, after the first tagged none of the shots right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refit {
    /// The learning rate of the second run (half the first's).
    pub learning_rate: f64,
    /// The first run, whose tagger was dropped.
    pub first: TrainReport,
    /// The second tagger's micro F1 on the shots.
    pub shot_f1: f64,
}

/// The tagger to train: the encoder's weights, or a tiny random BERT with its tokenizer.
pub(super) fn new_tagger(
    encoder: &FileRef,
    random_tiny: bool,
    labels: &[String],
    cfg: TaggerConfig,
    cx: &Context<'_>,
) -> Result<Tagger> {
    let enc = cx.path(encoder);
    cx.runtime.apply_threads();
    let device = cx.runtime.device.resolve()?;
    Ok(if random_tiny {
        let encoder = WordEncoder::from_folder(&enc)?;
        let bert = EncoderConfig::tiny(encoder.vocab_size() as i64);
        Tagger::with_random_weights(bert, encoder, labels.to_vec(), cfg, device)?
    } else {
        Tagger::from_pretrained(&enc, labels.to_vec(), cfg, device)?
    })
}

/// What a tagger trains on, with each sentence's `O` weight: `shots` copied `shot_copies`
/// times (weight 1), then `synthetic_slots` sentences drawn from `synthetic`, cycling (each
/// once when `None`; weight `o_weight`).
pub(super) fn stream(
    shots: &[Sentence],
    synthetic: &[Sentence],
    shot_copies: usize,
    synthetic_slots: Option<usize>,
    o_weight: f64,
) -> (Vec<Sentence>, Vec<f32>) {
    let mut stream: Vec<Sentence> = Vec::new();
    let mut weights: Vec<f32> = Vec::new();
    for _ in 0..shot_copies.max(1) {
        stream.extend(shots.iter().cloned());
    }
    weights.resize(stream.len(), 1.0);
    let drawn = synthetic_slots.unwrap_or(synthetic.len());
    stream.extend(synthetic.iter().cycle().take(if synthetic.is_empty() { 0 } else { drawn }).cloned());
    weights.resize(stream.len(), o_weight as f32);
    (stream, weights)
}

/// The stage.
pub struct Train;

impl Stage for Train {
    type Input = TrainInput;
    type Output = TrainOutput;

    fn run(input: &TrainInput, cx: &Context<'_>) -> Result<TrainOutput> {
        let shots = super::io::read(&cx.path(&input.shots))?;
        let synthetic = match &input.synthetic {
            Some(s) => super::io::read(&cx.path(s))?,
            None => Vec::new(),
        };
        // What DANN's support set holds: every sentence once.
        let mut data = shots.clone();
        data.extend(synthetic.iter().cloned());
        // What the tagger trains on: shots copied, synthetic sentences drawn.
        let (stream, weights) = stream(&shots, &synthetic, input.shot_copies, input.synthetic_slots, input.o_weight);
        let dev = input.dev.as_ref().map(|d| super::io::read(&cx.path(d))).transpose()?;
        let weighted = input.shot_copies > 1 || input.synthetic_slots.is_some() || input.o_weight != 1.0;
        let fit = |cfg: TaggerConfig, checkpoint: &str| -> Result<(Tagger, TrainReport)> {
            let mut tagger = new_tagger(&input.encoder, input.random_tiny, &input.labels, cfg, cx)?;
            let checkpoint = cx.runtime.checkpoints.then(|| cx.scratch.join(checkpoint));
            let report = if weighted {
                tagger.train_weighted(&stream, Some(&weights), dev.as_deref(), checkpoint.as_deref())?
            } else {
                tagger.train(&stream, dev.as_deref(), checkpoint.as_deref())?
            };
            Ok((tagger, report))
        };
        let (mut tagger, mut report) = fit(input.tagger.clone(), "checkpoint")?;
        // A tagger that tags none of its own training shots right has not fitted (it tags
        // nothing): no labelled data beyond the shots says so. Trained once more at half the
        // learning rate.
        let mut refit = None;
        let shot_f1 = tagger.score(&shots)?;
        if shot_f1 == 0.0 && !hilgen_corpus::label_set(&shots).is_empty() {
            let cfg = TaggerConfig { learning_rate: input.tagger.learning_rate / 2.0, ..input.tagger.clone() };
            tracing::warn!(
                "the tagger tags none of its {} shots right (F1 0, mean loss of its last epoch {:.3}): training it again at learning rate {:e}",
                shots.len(),
                report.losses.last().copied().unwrap_or(f64::NAN),
                cfg.learning_rate
            );
            let first = report.clone();
            let learning_rate = cfg.learning_rate;
            (tagger, report) = fit(cfg, "checkpoint-refit")?;
            let after = tagger.score(&shots)?;
            tracing::info!("refitted tagger: F1 {after:.3} on its shots");
            refit = Some(Refit { learning_rate, first, shot_f1: after });
        }
        let dann = Dann::fit(&tagger, &data, input.dann)?;
        tagger.save_model(&cx.dir.join("model"), &report, |dir| dann.save(dir))?;
        Ok(TrainOutput { model: cx.output_dir("model")?, sentences: data.len(), epochs: input.tagger.epochs, report, refit })
    }
}

impl Planned for Train {
    const KIND: &'static str = "train";

    fn nodes(plan: &Plan) -> Vec<Node> {
        let node = |(unit, config)| {
            let name = plan.config_name(config);
            let mut deps = vec![ids::sample(unit)];
            if config != Config::Original {
                deps.push(ids::augment(unit, name));
            }
            Node::new(ids::train(unit, name), Self::KIND, At::config(unit, config), deps)
        };
        plan.models().into_iter().map(node).collect()
    }

    fn input(plan: &Plan, at: At, outputs: &Outputs<'_>) -> Option<TrainInput> {
        let (unit, config) = (at.sample(), at.config.expect("a configuration's stage"));
        let sample = super::sample::shots(outputs, unit)?;
        let (synthetic, count) = match config {
            Config::Original => (None, 0),
            Config::Strategy(i) => {
                let a = outputs.get::<super::augment::AugmentOutput>(&ids::augment(unit, plan.strategies[i].spec.id()))?;
                (Some(a.synthetic), a.result.count)
            }
        };
        let m = &plan.model;
        let draw = m.schedule.draw(&m.tagger, sample.count, count);
        let mut tagger = draw.config;
        tagger.seed = unit.seed;
        let dev = tagger.early_stopping_patience.map(|_| plan.dev(unit).labelled.clone());
        let o_weight = match config {
            Config::Original => 1.0,
            Config::Strategy(i) => plan.strategies[i].strategy.o_weight(),
        };
        Some(TrainInput {
            shots: sample.shots,
            synthetic,
            encoder: m.encoder.clone(),
            random_tiny: m.random_tiny,
            labels: plan.labels.clone(),
            tagger,
            dann: m.dann,
            dev,
            shot_copies: draw.shot_copies,
            synthetic_slots: draw.synthetic_slots.filter(|_| draw.shot_copies > 1 || count > 0),
            o_weight,
        })
    }
}

//! The BERT token classifier: training (AdamW, warm-up and linear decay, clipping,
//! length-bucketed batches, early stopping, checkpoints that resume), prediction with
//! probabilities and optional constrained decoding, and per-word features for DANN.

use crate::config::EncoderConfig;
use crate::decode::viterbi_iob2;
use crate::encoder::{Encoder, Linear};
use crate::error::{ModelError, Result};
use crate::precision::Precision;
use crate::tokenize::{windows, WordEncoder};
use hilgen_corpus::Sentence;
use hilgen_metrics::{evaluate_sentences, Options};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::nn;
use tch::{Device, Kind, Tensor};

mod training;

/// Hyper-parameters of the tagger, with documented defaults (those of common BERT NER
/// fine-tuning). [`TaggerConfig::check`] rejects invalid values before any work starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaggerConfig {
    /// Peak learning rate (default 5e-5).
    pub learning_rate: f64,
    /// Epochs (default 3).
    pub epochs: usize,
    /// Windows per batch (default 16).
    pub batch_size: usize,
    /// Share of steps with linear warm-up (default 0.1), then linear decay to 0.
    pub warmup_ratio: f64,
    /// Dropout before the classifier (default 0.1; the encoder uses its config's dropout).
    pub dropout: f64,
    /// Window length in sub-word tokens, special tokens included (default 128; capped by the
    /// model's `max_position_embeddings`).
    pub max_length: usize,
    /// AdamW weight decay, not applied to biases and LayerNorm (default 0.01).
    pub weight_decay: f64,
    /// Gradient norm clipping (default 1.0).
    pub max_grad_norm: f64,
    /// Seed of initialisation, dropout and batch order (default 1). libtorch's generator is
    /// process-wide: runs are reproducible when one model trains at a time in a process.
    pub seed: u64,
    /// Stop when dev F1 has not improved for this many epochs (default: no early stopping).
    pub early_stopping_patience: Option<usize>,
    /// libtorch intra-op threads (default: libtorch's choice).
    pub threads: Option<usize>,
    /// Decode with Viterbi forbidding invalid IOB2 transitions (default false: arg-max).
    pub constrained_decoding: bool,
    /// Batches of windows of similar length (default true: less padding); `false` shuffles
    /// the windows each epoch and sorts them by length only within groups of 50 batches (for
    /// training sets where copies of a sentence should not share a batch).
    pub length_buckets: bool,
    /// The encoder's number format: `f32` (default) or `bf16` mixed precision (about twice as
    /// fast on CPUs with AVX512-BF16 or AMX and on recent GPUs; results differ a little).
    #[serde(skip_serializing_if = "Precision::is_f32")]
    pub precision: Precision,
    /// Pad each batch's length up to a multiple of this many tokens (default: 32 on a GPU, 1
    /// on the CPU). On a GPU every new batch shape costs kernel selection (cuBLAS, cuDNN
    /// attention plans), so a few repeated shapes are faster than one per batch; on the CPU
    /// padding is only extra work. Masked padding does not change what the model computes for
    /// the real tokens beyond rounding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pad_to_multiple: Option<usize>,
}

impl Default for TaggerConfig {
    fn default() -> Self {
        TaggerConfig {
            learning_rate: 5e-5,
            epochs: 3,
            batch_size: 16,
            warmup_ratio: 0.1,
            dropout: 0.1,
            max_length: 128,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            seed: 1,
            early_stopping_patience: None,
            threads: None,
            constrained_decoding: false,
            length_buckets: true,
            precision: Precision::F32,
            pad_to_multiple: None,
        }
    }
}

/// The batch-length multiple on a GPU when none is set ([`TaggerConfig::pad_to_multiple`]).
pub const GPU_PAD_MULTIPLE: usize = 32;

/// A [`TaggerConfig`] whose every value was checked ([`TaggerConfig::checked`]), as linfa's
/// checked hyper-parameters: what a [`Tagger`] holds, so that nothing it trains or predicts
/// with is out of range, and no step checks again.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct CheckedTaggerConfig(TaggerConfig);

impl std::ops::Deref for CheckedTaggerConfig {
    type Target = TaggerConfig;
    fn deref(&self) -> &TaggerConfig {
        &self.0
    }
}

impl CheckedTaggerConfig {
    /// The values, to change and check again.
    pub fn into_inner(self) -> TaggerConfig {
        self.0
    }
}

impl TaggerConfig {
    /// This configuration, checked ([`TaggerConfig::check`]).
    pub fn checked(self) -> Result<CheckedTaggerConfig> {
        self.check()?;
        Ok(CheckedTaggerConfig(self))
    }

    /// Checks every value; the error names the first invalid one.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::Invalid(format!("invalid tagger hyper-parameter: {m}")));
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return bad(format!("learning_rate {} must be in (0, 1)", self.learning_rate));
        }
        if !(1..=100_000).contains(&self.epochs) || !(1..=65_536).contains(&self.batch_size) {
            return bad(format!(
                "epochs {} must be in [1, 100000] and batch_size {} in [1, 65536]",
                self.epochs, self.batch_size
            ));
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) || !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("warmup_ratio {} and dropout {} must be in [0, 1)", self.warmup_ratio, self.dropout));
        }
        if !(8..=65_536).contains(&self.max_length) {
            return bad(format!("max_length {} must be in [8, 65536]", self.max_length));
        }
        // Written so that NaN fails every test.
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad(format!("weight_decay {} must be a finite number >= 0", self.weight_decay));
        }
        if !(self.max_grad_norm > 0.0 && self.max_grad_norm.is_finite()) {
            return bad(format!("max_grad_norm {} must be a finite number > 0", self.max_grad_norm));
        }
        if self.threads.is_some_and(|t| t > 4096) {
            return bad(format!("threads {:?} must be at most 4096", self.threads.unwrap_or(0)));
        }
        if self.threads == Some(0) || self.early_stopping_patience == Some(0) {
            return bad("threads and early_stopping_patience must be at least 1 when given".into());
        }
        if self.pad_to_multiple.is_some_and(|m| m == 0 || m > 512) {
            return bad(format!("pad_to_multiple {:?} must be in [1, 512]", self.pad_to_multiple.unwrap_or(0)));
        }
        Ok(())
    }
}

/// What a training run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Epoch the run resumed after (0 when it started fresh).
    pub resumed_after: usize,
    /// Mean training loss of each epoch run.
    pub losses: Vec<f64>,
    /// Dev micro F1 after each epoch run (when a dev split was given).
    pub dev_f1: Vec<f64>,
    /// Epoch whose weights were kept (the best on dev, else the last).
    pub best_epoch: usize,
    /// Training throughput in sub-word tokens per second.
    pub tokens_per_second: f64,
}

/// A predicted sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// One tag per word.
    pub tags: Vec<String>,
    /// Probability of each chosen tag.
    pub probs: Vec<f32>,
}

impl Prediction {
    /// The prediction with only the entities the tagger is sure of: an entity (decoded
    /// leniently) stays when every one of its words' tags has probability at least `min`;
    /// the others' words become `O` (their probabilities stay).
    pub fn confident(&self, min: f32) -> Prediction {
        let mut tags = self.tags.clone();
        if let Ok(parsed) = hilgen_corpus::scheme::parse_tags(&self.tags) {
            for span in hilgen_corpus::scheme::decode_lenient(&parsed) {
                if self.probs[span.start..span.end].iter().any(|&p| p < min) {
                    tags[span.start..span.end].iter_mut().for_each(|t| *t = "O".to_string());
                }
            }
        }
        Prediction { tags, probs: self.probs.clone() }
    }

    /// A back-off member's entities over `tokens` (the sentence's words): with `min`, only
    /// those [`Prediction::confident`] keeps; with `skip_symbols`, none of
    /// [`Prediction::without_symbols`]'s symbols.
    pub fn filtered(&self, min: Option<f32>, skip_symbols: bool, tokens: &[String]) -> Prediction {
        let sure = match min {
            Some(min) => self.confident(min),
            None => self.clone(),
        };
        match skip_symbols {
            true => sure.without_symbols(tokens),
            false => sure,
        }
    }

    /// The prediction without its one-word entities shaped like symbols ("RB1", "G6PD";
    /// see [`hilgen_corpus::shape::is_symbol`]) over `tokens` (the sentence's words): their
    /// words become `O` (their probabilities stay).
    pub fn without_symbols(&self, tokens: &[String]) -> Prediction {
        let mut tags = self.tags.clone();
        if let Ok(parsed) = hilgen_corpus::scheme::parse_tags(&self.tags) {
            for span in hilgen_corpus::scheme::decode_lenient(&parsed) {
                if span.end == span.start + 1
                    && tokens.get(span.start).is_some_and(|w| hilgen_corpus::shape::is_symbol(w))
                {
                    tags[span.start] = "O".to_string();
                }
            }
        }
        Prediction { tags, probs: self.probs.clone() }
    }

    /// The sentence `source` with these tags (tokens and document id kept).
    pub fn to_sentence(&self, source: &Sentence) -> Sentence {
        Sentence {
            tokens: source.tokens.clone(),
            tags: self.tags.clone(),
            doc_id: source.doc_id.clone(),
            concepts: Vec::new(),
            unknown: Vec::new(),
            soft: None,
        }
    }
}

/// Which per-word vectors to extract for DANN (`"emissions"` or `"hidden"` in files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Features {
    /// The tagger's emissions after log-softmax (one value per label).
    Emissions,
    /// The encoder's last hidden states.
    Hidden,
}

/// What is saved with a checkpoint besides the weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    /// The encoder's configuration (named `bert` since the first checkpoints).
    bert: EncoderConfig,
    config: TaggerConfig,
    labels: Vec<String>,
    epoch: usize,
    report: TrainReport,
}

/// A token classifier: an encoder (BERT, RoBERTa or MPNet) and a linear layer.
pub struct Tagger {
    vs: nn::VarStore,
    bert: Encoder,
    classifier: Linear,
    labels: Vec<String>,
    encoder: WordEncoder,
    /// Hyper-parameters, checked ([`Tagger::config`], [`Tagger::set_config`]).
    config: CheckedTaggerConfig,
}

/// One window ready for the model.
struct Example {
    ids: Vec<i64>,
    labels: Vec<i64>,
    /// Loss weight of the window's `O` words (1 but for silver sentences).
    o_weight: f32,
    /// Soft targets: (position, probability of each of the tagger's labels) of the owned
    /// words whose sentence gives them a distribution ([`Sentence::soft`]).
    soft: Vec<(usize, Vec<f32>)>,
    /// (sentence, word, position) of owned words.
    owned: Vec<(usize, usize, usize)>,
}

impl Tagger {
    /// A tagger on the encoder of a Hugging Face folder (config.json, model.safetensors,
    /// tokenizer.json or vocab.txt), with a fresh classifier for `labels`.
    pub fn from_pretrained(folder: &Path, labels: Vec<String>, config: TaggerConfig, device: Device) -> Result<Tagger> {
        let cfg_path = folder.join("config.json");
        if !cfg_path.exists() {
            return Err(ModelError::folder(folder, "no config.json: not a Hugging Face model folder"));
        }
        let bert_cfg = EncoderConfig::from_file(&cfg_path)?;
        let encoder = WordEncoder::from_folder(folder)?;
        let tagger = Tagger::with_random_weights(bert_cfg, encoder, labels, config, device)?;
        let n = crate::weights::load_encoder(&tagger.vs, &tagger.prefix(), &folder.join("model.safetensors"))?;
        tracing::info!("loaded {n} encoder tensors from {}", folder.display());
        Ok(tagger)
    }

    /// A tagger with randomly initialised weights (tests, or training from scratch).
    pub fn with_random_weights(
        bert: EncoderConfig,
        encoder: WordEncoder,
        labels: Vec<String>,
        config: TaggerConfig,
        device: Device,
    ) -> Result<Tagger> {
        let config = config.checked()?;
        bert.check().map_err(ModelError::Invalid)?;
        if let Some(bad) = unwritable_label(&labels) {
            return Err(ModelError::Invalid(format!(
                "label {bad:?} is empty or holds white space or a control character (it could not be written as a tag)"
            )));
        }
        if !labels.iter().any(|l| l == "O") || labels.len() < 2 {
            return Err(ModelError::Invalid(format!(
                "the label set must contain `O` and at least one entity tag: {labels:?}"
            )));
        }
        if encoder.vocab_size() as i64 > bert.vocab_size || encoder.max_id() as i64 >= bert.vocab_size {
            return Err(ModelError::Invalid(format!(
                "the tokenizer has {} tokens (ids up to {}) but the config's vocab_size is {}",
                encoder.vocab_size(),
                encoder.max_id(),
                bert.vocab_size
            )));
        }
        if bert.model_type != crate::config::Architecture::Bert && encoder.pad != bert.pad_token_id {
            return Err(ModelError::Invalid(format!(
                "the tokenizer's padding token has id {} but config.json's pad_token_id is {}: {:?} counts positions after it",
                encoder.pad, bert.pad_token_id, bert.model_type
            )));
        }
        if let Some(t) = config.threads {
            tch::set_num_threads(t as i32);
        }
        config.precision.warn_if_emulated(device);
        tch::manual_seed(config.seed as i64);
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let model = Encoder::new(&root / bert.model_type.prefix(), &bert);
        let classifier = Linear::new(&root / "classifier", bert.hidden_size, labels.len() as i64);
        Ok(Tagger { vs, bert: model, classifier, labels, encoder, config })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &TaggerConfig {
        &self.config
    }

    /// Replaces the hyper-parameters (batch size, padding, decoding for prediction, ...)
    /// after checking them; an invalid value leaves the tagger as it was.
    pub fn set_config(&mut self, config: TaggerConfig) -> Result<()> {
        self.config = config.checked()?;
        Ok(())
    }

    /// Runs the encoder in `precision` from now on (a model trained in one may predict in the
    /// other); warns when the device would emulate it.
    pub fn set_precision(&mut self, precision: Precision) {
        precision.warn_if_emulated(self.vs.device());
        self.config.0.precision = precision;
    }

    /// The label set, in output order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The label set of a corpus: `O` first, then the other tags sorted.
    pub fn labels_of(sentences: &[Sentence]) -> Vec<String> {
        let mut tags: Vec<String> =
            sentences.iter().flat_map(|s| s.tags.iter().cloned()).filter(|t| t != "O").collect();
        tags.sort();
        tags.dedup();
        let mut out = vec!["O".to_string()];
        out.extend(tags);
        out
    }

    /// The variable-name prefix of the encoder (`bert.`, `roberta.`, `mpnet.`).
    fn prefix(&self) -> String {
        format!("{}.", self.bert.config().model_type.prefix())
    }

    fn window_len(&self) -> usize {
        let cfg = self.bert.config();
        let positions = cfg.max_position_embeddings - cfg.model_type.position_offset(cfg.pad_token_id);
        self.config.max_length.min(positions as usize)
    }

    fn examples(&self, sentences: &[Sentence], with_labels: bool) -> Result<Vec<Example>> {
        let mut out = Vec::new();
        for (si, s) in sentences.iter().enumerate() {
            if s.is_empty() {
                continue;
            }
            let pieces = self.encoder.encode_words(&s.tokens)?;
            // The sentence's soft targets, over the tagger's labels.
            let soft_rows = match (&s.soft, with_labels) {
                (Some(soft), true) => self.soft_rows(soft, s.len(), si)?,
                _ => Vec::new(),
            };
            for w in windows(&pieces, self.window_len(), self.encoder.cls, self.encoder.sep) {
                let mut labels = vec![-100i64; w.ids.len()];
                let mut soft = Vec::new();
                if with_labels {
                    for &(word, pos) in &w.owned {
                        if s.unknown.binary_search(&word).is_ok() {
                            // Partial annotation: a word whose `O` is not known stays out of the loss.
                            continue;
                        }
                        let tag = &s.tags[word];
                        let id = self.labels.iter().position(|l| l == tag).ok_or_else(|| {
                            ModelError::Invalid(format!(
                                "sentence {si}, word {word}: the tag `{tag}` is not among the tagger's labels {:?}",
                                self.labels
                            ))
                        })?;
                        labels[pos] = id as i64;
                        if let Ok(k) = soft_rows.binary_search_by_key(&word, |r| r.0) {
                            soft.push((pos, soft_rows[k].1.clone()));
                        }
                    }
                }
                out.push(Example {
                    owned: w.owned.iter().map(|&(word, pos)| (si, word, pos)).collect(),
                    ids: w.ids,
                    labels,
                    o_weight: 1.0,
                    soft,
                });
            }
        }
        Ok(out)
    }

    /// The soft targets of sentence `si` (`n` words) as `(word, row)`, each row over the
    /// tagger's labels (labels the targets lack have probability 0); targets that
    /// [`hilgen_corpus::SoftTargets::problem`] refuses, or that give probability to a label the
    /// tagger lacks, are an error.
    fn soft_rows(&self, soft: &hilgen_corpus::SoftTargets, n: usize, si: usize) -> Result<Vec<(usize, Vec<f32>)>> {
        if let Some(m) = soft.problem(n) {
            return Err(ModelError::Invalid(format!("sentence {si}: {m}")));
        }
        let columns: Vec<Option<usize>> = soft.labels.iter().map(|l| self.labels.iter().position(|x| x == l)).collect();
        let mut rows = Vec::with_capacity(soft.words.len());
        for (word, p) in &soft.words {
            let mut row = vec![0f32; self.labels.len()];
            for ((l, &x), c) in soft.labels.iter().zip(p).zip(&columns) {
                match c {
                    Some(c) => row[*c] += x,
                    None if x > 0.0 => {
                        return Err(ModelError::Invalid(format!(
                            "sentence {si}, word {word}: the soft target gives probability to `{l}`, not among the tagger's labels {:?}",
                            self.labels
                        )))
                    }
                    None => {}
                }
            }
            rows.push((*word, row));
        }
        Ok(rows)
    }

    /// The multiple a batch's length is padded to on this model's device.
    fn pad_multiple(&self) -> usize {
        self.config.pad_to_multiple.unwrap_or(if self.vs.device().is_cuda() { GPU_PAD_MULTIPLE } else { 1 })
    }

    /// Pads a batch: (ids, mask, labels) tensors on the model's device. The three travel as
    /// one tensor; to a GPU from pinned memory without waiting (the host goes on queueing work).
    fn batch(&self, batch: &[&Example]) -> (Tensor, Tensor, Tensor) {
        let longest = batch.iter().map(|e| e.ids.len()).max().unwrap_or(1);
        let m = self.pad_multiple();
        // Rounded up, but never past the model's positions.
        let t = (longest.div_ceil(m) * m).min(self.window_len().max(longest));
        let n = batch.len() * t;
        let mut all = Vec::with_capacity(3 * n);
        for e in batch {
            all.extend(e.ids.iter().copied().chain(std::iter::repeat_n(self.encoder.pad, t - e.ids.len())));
        }
        for e in batch {
            all.extend(std::iter::repeat_n(1i64, e.ids.len()).chain(std::iter::repeat_n(0, t - e.ids.len())));
        }
        for e in batch {
            all.extend(e.labels.iter().copied().chain(std::iter::repeat_n(-100, t - e.ids.len())));
        }
        let host = Tensor::from_slice(&all).view([3, batch.len() as i64, t as i64]);
        let d = self.vs.device();
        let on = if d.is_cuda() { host.pin_memory(d).to_device_(d, Kind::Int64, true, false) } else { host };
        (on.get(0), on.get(1), on.get(2))
    }

    /// (hidden states, logits) of a batch.
    fn forward(&self, ids: &Tensor, mask: &Tensor, train: bool) -> (Tensor, Tensor) {
        let hidden = self.bert.forward_in(ids, mask, train, self.config.precision);
        let logits = self.classifier.forward(&hidden.dropout(self.config.dropout, train));
        (hidden, logits)
    }

    /// Trains on `train`; with `dev`, scores each epoch and (with early stopping) keeps the
    /// best. With `checkpoint`, saves there after every epoch and resumes from it when it holds
    /// an unfinished run with the same labels (optimizer moments restart on resume).
    pub fn train(
        &mut self,
        train: &[Sentence],
        dev: Option<&[Sentence]>,
        checkpoint: Option<&Path>,
    ) -> Result<TrainReport> {
        self.train_weighted(train, None, dev, checkpoint)
    }

    fn snapshot(&self) -> Vec<(String, Tensor)> {
        self.vs.variables().into_iter().map(|(k, v)| (k, v.detach().copy())).collect()
    }

    fn restore(&mut self, weights: &[(String, Tensor)]) {
        let mut vars = self.vs.variables();
        tch::no_grad(|| {
            for (k, v) in weights {
                if let Some(dst) = vars.get_mut(k) {
                    dst.copy_(v);
                }
            }
        });
    }

    /// Micro F1 of the tagger's predictions on gold sentences.
    pub fn score(&self, gold: &[Sentence]) -> Result<f64> {
        let pred = self.predict_sentences(gold)?;
        Ok(evaluate_sentences(gold, &pred, Options::default())?.micro.f1)
    }

    /// Runs the model over windows sorted by length and returns, per sentence, one row per
    /// word: the last hidden state (`hidden`) or the log-probabilities over labels.
    fn word_rows(&self, sentences: &[Sentence], hidden: bool) -> Result<Vec<Vec<Vec<f32>>>> {
        let examples = self.examples(sentences, false)?;
        let mut order: Vec<usize> = (0..examples.len()).collect();
        order.sort_by_key(|&i| examples[i].ids.len());
        let batch_size = self.config.batch_size.max(1) * 2;
        let mut out: Vec<Vec<Vec<f32>>> = sentences.iter().map(|s| vec![Vec::new(); s.len()]).collect();
        let chunks = order.len().div_ceil(batch_size);
        // A bar only for long inputs (a few batches finish before one would be seen).
        let bar = if chunks >= 20 { ProgressBar::new(examples.len() as u64) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("predict [{bar:30}] {pos}/{len} windows, {per_sec}, eta {eta}")
                .expect("template")
                .progress_chars("=> "),
        );
        // No gradients, and each weight cast to the compute precision once.
        Precision::frozen(|| {
            tch::no_grad(|| -> Result<()> {
                for chunk in order.chunks(batch_size) {
                    bar.inc(chunk.len() as u64);
                    let refs: Vec<&Example> = chunk.iter().map(|&i| &examples[i]).collect();
                    let (ids, mask, _) = self.batch(&refs);
                    let (h, logits) = self.forward(&ids, &mask, false);
                    let rows = if hidden { h } else { logits.log_softmax(-1, Kind::Float) };
                    let (b, t, d) = rows.size3()?;
                    let flat: Vec<f32> = Vec::try_from(rows.to_device(Device::Cpu).contiguous().view([-1]))?;
                    debug_assert_eq!(flat.len() as i64, b * t * d);
                    for (row, e) in refs.iter().enumerate() {
                        for &(si, word, pos) in &e.owned {
                            let at = (row * t as usize + pos) * d as usize;
                            out[si][word] = flat[at..at + d as usize].to_vec();
                        }
                    }
                }
                Ok(())
            })
        })?;
        bar.finish_and_clear();
        Ok(out)
    }

    /// Per-word log-probabilities `[words, labels]` of each sentence.
    pub fn emissions(&self, sentences: &[Sentence]) -> Result<Vec<Tensor>> {
        self.word_features(sentences, Features::Emissions)
    }

    /// Per-word vectors of each sentence as `[words, dim]` tensors: emissions (log-softmax) or
    /// last hidden states.
    pub fn word_features(&self, sentences: &[Sentence], kind: Features) -> Result<Vec<Tensor>> {
        let dim = match kind {
            Features::Emissions => self.labels.len(),
            Features::Hidden => self.bert.config().hidden_size as usize,
        };
        Ok(self
            .word_rows(sentences, kind == Features::Hidden)?
            .into_iter()
            .map(|rows| Tensor::from_slice(&rows.concat()).view([rows.len() as i64, dim as i64]))
            .collect())
    }

    /// Tags and probabilities for each sentence (arg-max, or Viterbi over IOB2 when
    /// `constrained_decoding`).
    pub fn predict(&self, sentences: &[Sentence]) -> Result<Vec<Prediction>> {
        Ok(self.decode(self.word_rows(sentences, false)?))
    }

    /// Predictions from emissions computed with [`Tagger::emissions`] (so that one pass over a
    /// test set can serve the tagger and DANN).
    pub fn decode_emissions(&self, emissions: &[Tensor]) -> Result<Vec<Prediction>> {
        let rows = emissions.iter().map(rows_of).collect::<Result<Vec<_>>>()?;
        Ok(self.decode(rows))
    }

    /// Each word's probability of every label, from emissions computed with
    /// [`Tagger::word_features`] (a teacher's soft labels).
    pub fn distributions(&self, emissions: &[Tensor]) -> Result<Vec<hilgen_corpus::SoftTargets>> {
        emissions
            .iter()
            .map(|e| {
                let words = rows_of(&e.exp().to_kind(Kind::Float))?.into_iter().enumerate().collect();
                Ok(hilgen_corpus::SoftTargets { labels: self.labels.clone(), words })
            })
            .collect()
    }

    fn decode(&self, sentences: Vec<Vec<Vec<f32>>>) -> Vec<Prediction> {
        sentences
            .into_iter()
            .map(|rows| {
                let ids: Vec<usize> = if self.config.constrained_decoding {
                    viterbi_iob2(&rows, &self.labels)
                } else {
                    rows.iter()
                        .map(|r| r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i))
                        .collect()
                };
                Prediction {
                    tags: ids.iter().map(|&i| self.labels[i].clone()).collect(),
                    probs: ids.iter().zip(&rows).map(|(&i, r)| r[i].exp()).collect(),
                }
            })
            .collect()
    }

    /// The sentences with predicted tags (tokens, document ids kept).
    pub fn predict_sentences(&self, sentences: &[Sentence]) -> Result<Vec<Sentence>> {
        Ok(self.predict(sentences)?.iter().zip(sentences).map(|(p, s)| p.to_sentence(s)).collect())
    }

    /// Saves the tagger into folder `dir`, atomically, in Hugging Face's layout: `config.json`
    /// (`BertForTokenClassification`, `RobertaForTokenClassification` or
    /// `MPNetForTokenClassification`, `id2label`, `label2id`), `model.safetensors` with
    /// transformers' tensor names (`bert.`/`roberta.`/`mpnet.` prefix, `classifier.weight`/`bias`), `tokenizer.json`
    /// and `tokenizer_config.json`; plus `tagger.json` (hyper-parameters and training report).
    /// `transformers.AutoModelForTokenClassification.from_pretrained(dir)` loads it.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.save_with(dir, self.config.epochs, &TrainReport::default(), |_| Ok(()))
    }

    /// [`Tagger::save`] with the training report recorded in `tagger.json`, and `extra`
    /// writing more files into the staged folder before it is renamed into place (DANN's
    /// support set, for instance).
    pub fn save_model(&self, dir: &Path, report: &TrainReport, extra: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        self.save_with(dir, self.config.epochs, report, extra)
    }

    fn save_with(
        &self,
        dir: &Path,
        epoch: usize,
        report: &TrainReport,
        extra: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| ModelError::Io { path: parent.to_path_buf(), cause: e })?;
        let tmp =
            hilgen_corpus::temp_dir_beside(dir).map_err(|e| ModelError::Io { path: parent.to_path_buf(), cause: e })?;
        self.vs.save(tmp.path().join("model.safetensors"))?;
        self.encoder.save(&tmp.path().join("tokenizer.json"))?;
        let write = |name: &str, value: &serde_json::Value| -> Result<()> {
            let p = tmp.path().join(name);
            let text = serde_json::to_string_pretty(value).map_err(|e| ModelError::Invalid(e.to_string()))?;
            std::fs::write(&p, text + "\n").map_err(|e| ModelError::Io { path: p, cause: e })
        };
        let cfg = self.bert.config();
        write("config.json", &crate::hf::config_json(cfg, &self.labels, self.encoder.pad))?;
        write(
            "tokenizer_config.json",
            &crate::hf::tokenizer_config(
                cfg,
                self.window_len(),
                self.encoder.special_tokens(),
                self.encoder.mask_token(),
            ),
        )?;
        let saved = Saved {
            bert: cfg.clone(),
            config: self.config.0.clone(),
            labels: self.labels.clone(),
            epoch,
            report: report.clone(),
        };
        write("tagger.json", &serde_json::to_value(&saved).map_err(|e| ModelError::Invalid(e.to_string()))?)?;
        extra(tmp.path())?;
        let staged: PathBuf = tmp.keep();
        // Named as the temporary folders are, so that a later save removes it if a kill left it.
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let old = parent.join(format!(".{name}.{}.old.tmp", std::process::id()));
        // One step on Linux (an exchange): a kill leaves the old or the new folder, never none.
        let previous = hilgen_tempfiles::replace_dir(&staged, dir, &old)
            .map_err(|e| ModelError::Io { path: dir.to_path_buf(), cause: e })?;
        if let Some(previous) = previous {
            let _ = std::fs::remove_dir_all(previous);
        }
        Ok(())
    }

    /// Loads a tagger saved by [`Tagger::save`], a training checkpoint, or any Hugging Face
    /// `BertForTokenClassification`, `RobertaForTokenClassification` or
    /// `MPNetForTokenClassification` folder (labels from `config.json`'s `id2label`; tagger
    /// hyper-parameters then default).
    pub fn load(dir: &Path, device: Device) -> Result<Tagger> {
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ModelError::folder(
                    dir,
                    "not a folder: a model is a folder (config.json, model.safetensors, tokenizer.json)",
                ))
            }
            Err(e) => return Err(ModelError::folder(dir, format!("no model folder here ({e})"))),
        }
        let encoder = WordEncoder::from_folder(dir)?;
        let file = dir.join("model.safetensors");
        // Errors of the settings name the folder they came from.
        let in_folder = |e: ModelError| match e {
            ModelError::Invalid(m) => ModelError::folder(dir, m),
            other => other,
        };
        if let Some(saved) = read_saved(dir)? {
            let tagger = Tagger::with_random_weights(saved.bert, encoder, saved.labels, saved.config, device)
                .map_err(in_folder)?;
            crate::weights::load_exact(&tagger.vs, &file)?;
            return Ok(tagger);
        }
        let cfg_path = dir.join("config.json");
        if !cfg_path.exists() {
            return Err(ModelError::folder(dir, "no tagger.json or config.json: not a model folder"));
        }
        let bert = EncoderConfig::from_file(&cfg_path)?;
        let labels = crate::hf::labels_of_config(&cfg_path)?;
        let tagger =
            Tagger::with_random_weights(bert, encoder, labels, TaggerConfig::default(), device).map_err(in_folder)?;
        crate::weights::load_encoder(&tagger.vs, &tagger.prefix(), &file)?;
        crate::weights::load_classifier(&tagger.vs, "classifier.", &file)?;
        Ok(tagger)
    }

    /// The sub-word encoder.
    pub fn encoder(&self) -> &WordEncoder {
        &self.encoder
    }

    /// The encoder's configuration.
    pub fn bert_config(&self) -> &EncoderConfig {
        self.bert.config()
    }

    /// The device the tagger's weights are on.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Raw classifier logits `[tokens, labels]` of one window of token ids (special tokens
    /// included, no padding), for checks against other implementations.
    pub fn window_logits(&self, ids: &[i64]) -> Result<Vec<Vec<f32>>> {
        let d = self.vs.device();
        let input = Tensor::from_slice(ids).view([1, -1]).to_device(d);
        let mask = Tensor::ones([1, ids.len() as i64], (Kind::Int64, d));
        let logits = tch::no_grad(|| self.forward(&input, &mask, false).1);
        let n = self.labels.len();
        let flat: Vec<f32> = Vec::try_from(logits.to_device(Device::Cpu).contiguous().view([-1]))?;
        Ok(flat.chunks(n).map(<[f32]>::to_vec).collect())
    }
}

/// The first label that could not be written as a tag (empty, or holding white space or a
/// control character), if any.
pub(crate) fn unwritable_label(labels: &[String]) -> Option<&String> {
    labels.iter().find(|l| l.is_empty() || l.chars().any(|c| c.is_whitespace() || c.is_control()))
}

fn read_saved(dir: &Path) -> Result<Option<Saved>> {
    let path = dir.join("tagger.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = crate::limits::read_text(&path, crate::limits::SETTINGS_BYTES)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ModelError::folder(&path, format!("unreadable checkpoint metadata: {e}")))
}

/// The rows of a `[words, labels]` tensor.
fn rows_of(e: &Tensor) -> Result<Vec<Vec<f32>>> {
    let (n, d) = e.size2()?;
    let flat: Vec<f32> = Vec::try_from(e.contiguous().view([-1]))?;
    Ok((0..n as usize).map(|i| flat[i * d as usize..(i + 1) * d as usize].to_vec()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_predictions_keep_entities_whose_every_word_is_sure() {
        let p = Prediction {
            tags: ["B-X", "I-X", "O", "B-Y", "I-Y", "B-Y"].map(String::from).to_vec(),
            probs: vec![0.99, 0.95, 0.6, 0.99, 0.5, 0.9],
        };
        let c = p.confident(0.9);
        assert_eq!(c.tags, ["B-X", "I-X", "O", "O", "O", "B-Y"]);
        assert_eq!(c.probs, p.probs);
        assert_eq!(p.confident(0.0), p);
        assert!(p.confident(1.0).tags.iter().all(|t| t == "O"));
    }

    #[test]
    fn one_word_symbols_are_left_out_and_longer_entities_stay() {
        let p = Prediction {
            tags: ["B-X", "O", "B-X", "I-X", "B-X", "B-X"].map(String::from).to_vec(),
            probs: vec![0.99; 6],
        };
        let words = ["G6PD", "in", "RB1", "deficiency", "anaemia", "DCC"].map(String::from);
        let w = p.without_symbols(&words);
        assert_eq!(w.tags, ["O", "O", "B-X", "I-X", "B-X", "O"]);
        assert_eq!(w.probs, p.probs);
        assert_eq!(p.filtered(None, true, &words), w);
        assert_eq!(p.filtered(None, false, &words), p);
        let unsure = Prediction { probs: vec![0.5, 1.0, 1.0, 1.0, 1.0, 1.0], ..p.clone() };
        assert_eq!(unsure.filtered(Some(0.9), true, &words).tags, ["O", "O", "B-X", "I-X", "B-X", "O"]);
    }

    #[test]
    fn non_finite_and_out_of_range_settings_are_refused_with_their_range() {
        let bad = |c: TaggerConfig| c.check().unwrap_err().to_string();
        assert!(bad(TaggerConfig { weight_decay: f64::NAN, ..TaggerConfig::default() }).contains("weight_decay NaN"));
        assert!(bad(TaggerConfig { weight_decay: f64::INFINITY, ..TaggerConfig::default() }).contains("finite"));
        assert!(bad(TaggerConfig { max_grad_norm: f64::NAN, ..TaggerConfig::default() }).contains("max_grad_norm NaN"));
        assert!(bad(TaggerConfig { learning_rate: f64::NAN, ..TaggerConfig::default() }).contains("learning_rate"));
        assert!(bad(TaggerConfig { batch_size: usize::MAX, ..TaggerConfig::default() }).contains("[1, 65536]"));
        assert!(bad(TaggerConfig { pad_to_multiple: Some(0), ..TaggerConfig::default() }).contains("[1, 512]"));
        assert!(TaggerConfig::default().check().is_ok());
    }

    #[test]
    fn float32_settings_serialize_as_before_and_bf16_is_kept() {
        // Stage hashes and saved models cover the serialized settings: the default precision is
        // left out (runs from before it keep their hashes), bf16 is written and read back.
        let f32_json = serde_json::to_value(TaggerConfig::default()).unwrap();
        assert!(f32_json.get("precision").is_none(), "{f32_json}");
        let bf16 = TaggerConfig { precision: Precision::Bf16, ..Default::default() };
        let json = serde_json::to_value(&bf16).unwrap();
        assert_eq!(json["precision"], "bf16");
        assert_eq!(serde_json::from_value::<TaggerConfig>(json).unwrap(), bf16);
        assert_eq!(serde_json::from_value::<TaggerConfig>(f32_json).unwrap().precision, Precision::F32);
        let bad = serde_json::from_value::<TaggerConfig>(serde_json::json!({"precision": "fp16"})).unwrap_err();
        assert!(bad.to_string().contains("fp16"), "{bad}");
    }
}

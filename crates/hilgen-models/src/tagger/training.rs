//! Training a [`Tagger`], in steps: resuming from a checkpoint, the batches of an epoch, one
//! epoch of optimizer steps, the evaluation on dev after it (best weights, early stopping),
//! and the checkpoint written after it.

use super::{read_saved, Example, Tagger, TrainReport};
use crate::encoder::NO_DECAY;
use crate::error::{ModelError, Result};
use crate::optim::FlatAdamW;
use hilgen_corpus::Sentence;
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use tch::nn::{self, OptimizerConfig};
use tch::{Kind, Reduction, Tensor};

/// What a checkpoint folder says about where to start.
enum Resume {
    /// From the first epoch.
    Fresh,
    /// After this many epochs (their weights loaded, their report kept).
    After(usize, TrainReport),
    /// The run there is finished (its weights loaded).
    Finished(TrainReport),
}

/// The state of one training run between its steps.
struct Run {
    examples: Vec<Example>,
    /// Windows sorted by length, cut into batches.
    batches: Vec<Vec<usize>>,
    /// Whether some sentences' `O` words weigh other than 1.
    weighted: bool,
    /// Whether some words train on soft targets.
    soft: bool,
    o_id: i64,
    total_steps: f64,
    warmup: f64,
    rng: ChaCha8Rng,
    opt: nn::Optimizer,
    /// On a GPU: the optimizer over flat buffers (a few kernels per step).
    flat_opt: Option<FlatAdamW>,
    started: std::time::Instant,
    tokens: usize,
    /// The best dev F1 so far and its weights.
    best: Option<(f64, Vec<(String, Tensor)>)>,
    since_best: usize,
}

impl Tagger {
    /// [`Tagger::train`] where sentence `i`'s `O` words weigh `o_weights[i]` in the loss (1
    /// for gold sentences; below 1 for silver ones whose `O` may be a missed entity; 0 treats
    /// them as unknown, as AutoNER does).
    pub fn train_weighted(
        &mut self,
        train: &[Sentence],
        o_weights: Option<&[f32]>,
        dev: Option<&[Sentence]>,
        checkpoint: Option<&Path>,
    ) -> Result<TrainReport> {
        let (mut report, start_epoch) = match self.resume(checkpoint)? {
            Resume::Finished(report) => return Ok(report),
            Resume::After(epoch, report) => (report, epoch),
            Resume::Fresh => (TrainReport::default(), 0),
        };
        let mut run = self.start(train, o_weights)?;
        // The batch order of the epochs already done, drawn again (the same random stream).
        for _ in 0..start_epoch {
            let mut skip = run.batches.clone();
            skip.shuffle(&mut run.rng);
        }
        for epoch in start_epoch..self.config.epochs {
            let mean = self.train_epoch(&mut run, epoch)?;
            report.losses.push(mean);
            report.best_epoch = epoch + 1;
            let stop = match dev {
                Some(dev) => self.evaluate_epoch(&mut run, dev, &mut report, epoch, mean)?,
                None => {
                    tracing::info!("epoch {}: loss {mean:.4}", epoch + 1);
                    false
                }
            };
            report.tokens_per_second = run.tokens as f64 / run.started.elapsed().as_secs_f64();
            let done = stop || epoch + 1 == self.config.epochs;
            if done {
                if let Some((_, weights)) = run.best.take() {
                    self.restore(&weights);
                }
            }
            if let Some(dir) = checkpoint {
                let epoch_mark = if done { self.config.epochs } else { epoch + 1 };
                self.save_with(dir, epoch_mark, &report, |_| Ok(()))?;
            }
            if stop {
                tracing::info!("early stopping after epoch {}", epoch + 1);
                break;
            }
        }
        Ok(report)
    }

    /// The checkpoint step: where a run in `checkpoint` (same labels) says to start.
    fn resume(&mut self, checkpoint: Option<&Path>) -> Result<Resume> {
        let Some(dir) = checkpoint else { return Ok(Resume::Fresh) };
        let Some(saved) = read_saved(dir)? else { return Ok(Resume::Fresh) };
        if saved.labels != self.labels {
            return Ok(Resume::Fresh);
        }
        crate::weights::load_exact(&self.vs, &dir.join("model.safetensors"))?;
        if saved.epoch < self.config.epochs {
            tracing::info!("resuming from {} after epoch {}", dir.display(), saved.epoch);
            let mut report = saved.report;
            report.resumed_after = saved.epoch;
            Ok(Resume::After(saved.epoch, report))
        } else {
            tracing::info!("{} holds a finished run; nothing to train", dir.display());
            Ok(Resume::Finished(saved.report))
        }
    }

    /// The windows to train on (with their `O` weights), their batches, the schedule and the
    /// optimizer.
    fn start(&self, train: &[Sentence], o_weights: Option<&[f32]>) -> Result<Run> {
        let mut examples = self.examples(train, true)?;
        let weighted = match o_weights {
            Some(w) if w.len() != train.len() => {
                return Err(ModelError::Invalid(format!("{} O weights for {} sentences", w.len(), train.len())))
            }
            Some(w) => {
                let sentence_of: Vec<usize> = examples.iter().map(|e| e.owned.first().map_or(0, |o| o.0)).collect();
                for (e, s) in examples.iter_mut().zip(sentence_of) {
                    e.o_weight = w[s];
                }
                w.iter().any(|&x| x != 1.0)
            }
            None => false,
        };
        let o_id = self.labels.iter().position(|l| l == "O").expect("checked at construction") as i64;
        let soft = examples.iter().any(|e| !e.soft.is_empty());
        if examples.is_empty() {
            return Err(ModelError::Invalid("no training sentences".into()));
        }
        // Length buckets: sort by length, cut into batches, shuffle the batches each epoch (or,
        // without buckets, shuffle the windows each epoch and cut them into batches).
        let mut order: Vec<usize> = (0..examples.len()).collect();
        order.sort_by_key(|&i| (examples[i].ids.len(), i));
        let batches: Vec<Vec<usize>> = order.chunks(self.config.batch_size).map(<[usize]>::to_vec).collect();
        let total_steps = (self.config.epochs * batches.len()) as f64;
        let warmup = (self.config.warmup_ratio * total_steps).ceil().max(1.0);
        let mut opt = nn::AdamW::default().build(&self.vs, self.config.learning_rate)?;
        opt.set_weight_decay_group(0, self.config.weight_decay);
        opt.set_weight_decay_group(NO_DECAY, 0.0);
        // On a GPU the loss is summed there and read every few steps, so that the host never
        // waits for the device inside an epoch, and the optimizer works on flat buffers (a few
        // kernels per step instead of several per variable).
        let wd = self.config.weight_decay;
        let flat_opt =
            self.vs.device().is_cuda().then(|| FlatAdamW::new(&self.vs, |g| if g == NO_DECAY { 0.0 } else { wd }));
        Ok(Run {
            examples,
            batches,
            weighted,
            soft,
            o_id,
            total_steps,
            warmup,
            rng: ChaCha8Rng::seed_from_u64(self.config.seed),
            opt,
            flat_opt,
            started: std::time::Instant::now(),
            tokens: 0,
            best: None,
            since_best: 0,
        })
    }

    /// This epoch's batches: the length-sorted batches shuffled, or (without length buckets)
    /// shuffled windows sorted by length within groups of 50 batches (little padding), the
    /// batches then shuffled.
    fn epoch_batches(&self, run: &mut Run) -> Vec<Vec<usize>> {
        if self.config.length_buckets {
            let mut b = run.batches.clone();
            b.shuffle(&mut run.rng);
            return b;
        }
        let mut o: Vec<usize> = (0..run.examples.len()).collect();
        o.shuffle(&mut run.rng);
        let mut b: Vec<Vec<usize>> = Vec::new();
        for group in o.chunks(self.config.batch_size * 50) {
            let mut g = group.to_vec();
            g.sort_by_key(|&i| run.examples[i].ids.len());
            b.extend(g.chunks(self.config.batch_size).map(<[usize]>::to_vec));
        }
        b.shuffle(&mut run.rng);
        b
    }

    /// The epoch step: one optimizer step per batch; returns the mean loss.
    fn train_epoch(&mut self, run: &mut Run, epoch: usize) -> Result<f64> {
        let on_gpu = run.flat_opt.is_some();
        let epoch_batches = self.epoch_batches(run);
        let bar = ProgressBar::new(epoch_batches.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{}/{}", epoch + 1, self.config.epochs));
        let mut loss_sum = 0.0;
        let mut gpu_loss_sum = on_gpu.then(|| Tensor::zeros([], (Kind::Float, self.vs.device())));
        for (k, b) in epoch_batches.iter().enumerate() {
            let step = (epoch * run.batches.len() + k) as f64;
            let factor = if step < run.warmup {
                (step + 1.0) / run.warmup
            } else {
                ((run.total_steps - step) / (run.total_steps - run.warmup).max(1.0)).max(0.0)
            };
            let lr = self.config.learning_rate * factor;
            if run.flat_opt.is_none() {
                run.opt.set_lr(lr);
            }
            let refs: Vec<&Example> = b.iter().map(|&i| &run.examples[i]).collect();
            let loss = self.batch_loss(&refs, run.weighted, run.soft, run.o_id);
            run.tokens += refs.iter().map(|e| e.ids.len()).sum::<usize>();
            if let (Some(sum), Some(flat)) = (gpu_loss_sum.as_mut(), run.flat_opt.as_mut()) {
                loss.backward();
                flat.step(lr, self.config.max_grad_norm);
                *sum += loss.detach();
            } else {
                run.opt.backward_step_clip_norm(&loss, self.config.max_grad_norm);
            }
            // On a GPU a read of the loss waits for the device: every 25 steps only.
            if !on_gpu || k % 25 == 0 {
                let l = loss.double_value(&[]);
                if !on_gpu {
                    loss_sum += l;
                }
                bar.set_message(format!(
                    "loss {l:.4}, {:.0} tokens/s",
                    run.tokens as f64 / run.started.elapsed().as_secs_f64()
                ));
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        if let Some(sum) = gpu_loss_sum {
            loss_sum = sum.double_value(&[]);
        }
        Ok(loss_sum / epoch_batches.len() as f64)
    }

    /// The loss of one batch: mean cross-entropy over labelled words, or, with `weighted`,
    /// each word weighted (`O` words of silver windows less; padding nothing). With `soft`,
    /// the cross-entropy of the words with soft targets is against their distributions (the
    /// others' against their tags, one-hot), weighted as their tags are.
    fn batch_loss(&self, refs: &[&Example], weighted: bool, soft: bool, o_id: i64) -> Tensor {
        let (ids, mask, labels) = self.batch(refs);
        let (_, logits) = self.forward(&ids, &mask, true);
        let n_labels = self.labels.len() as i64;
        let flat = logits.view([-1, n_labels]);
        if !weighted && !soft {
            return flat.cross_entropy_loss::<Tensor>(&labels.view([-1]), None, Reduction::Mean, -100, 0.0);
        }
        let t = labels.size()[1] as usize;
        let mut w = Vec::with_capacity(refs.len() * t);
        for e in refs {
            for k in 0..t {
                let l = e.labels.get(k).copied().unwrap_or(-100);
                w.push(if l == -100 {
                    0.0
                } else if l == o_id {
                    e.o_weight
                } else {
                    1.0
                });
            }
        }
        let w = Tensor::from_slice(&w).to_device(self.vs.device());
        let per = if soft {
            // Dense targets: one-hot tags, soft rows where given, nothing for padding.
            let l = self.labels.len();
            let mut target = vec![0f32; refs.len() * t * l];
            for (b, e) in refs.iter().enumerate() {
                for (k, &id) in e.labels.iter().enumerate() {
                    if id >= 0 {
                        target[(b * t + k) * l + id as usize] = 1.0;
                    }
                }
                for (k, row) in &e.soft {
                    let at = (b * t + k) * l;
                    target[at..at + l].copy_from_slice(row);
                }
            }
            let target = Tensor::from_slice(&target).view([-1, n_labels]).to_device(self.vs.device());
            -(flat.log_softmax(-1, Kind::Float) * target).sum_dim_intlist(-1, false, Kind::Float)
        } else {
            flat.cross_entropy_loss::<Tensor>(&labels.view([-1]), None, Reduction::None, -100, 0.0)
        };
        (per * &w).sum(Kind::Float) / w.sum(Kind::Float).clamp_min(1e-6)
    }

    /// The evaluation step: dev F1 after the epoch, the best weights kept, the best epoch
    /// (the first with the highest F1) noted; returns whether to stop early.
    fn evaluate_epoch(
        &mut self,
        run: &mut Run,
        dev: &[Sentence],
        report: &mut TrainReport,
        epoch: usize,
        mean: f64,
    ) -> Result<bool> {
        let f1 = self.score(dev)?;
        report.dev_f1.push(f1);
        tracing::info!("epoch {}: loss {mean:.4}, dev F1 {f1:.4}", epoch + 1);
        let mut stop = false;
        if run.best.as_ref().is_none_or(|(b, _)| f1 > *b) {
            run.best = Some((f1, self.snapshot()));
            run.since_best = 0;
        } else {
            run.since_best += 1;
            stop = self.config.early_stopping_patience.is_some_and(|p| run.since_best >= p);
        }
        report.best_epoch = report
            .dev_f1
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .map_or(epoch + 1, |(i, _)| i + 1);
        Ok(stop)
    }
}

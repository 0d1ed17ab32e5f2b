//! The stages of an experiment: sample -> augment -> train (tagger and DANN, with their dev and
//! test predictions) -> evaluate -> best ensemble on dev -> report.

use crate::error::{PipelineError, Result};
use crate::experiment::{uses_llm, Experiment, KNOWLEDGE, SIMPLE};
use crate::report::{self, Report, SeedResult, SystemScore};
use crate::stage::{file_hash, Stages};
use hilgen_augment::{
    provenance_jsonl, Augmenter, DaiAdel, KnowledgeLayer, Layer, LlmAugmenter, LlmStrategy, SimpleAugmenter, Synthetic,
};
use hilgen_corpus::conll::{read_path, write_path, ConllFormat};
use hilgen_corpus::{dataset, fetch::Fetcher, sample, Scheme, Sentence};
use hilgen_kb::Kb;
use hilgen_llm::generate::Variant;
use hilgen_llm::parse::Labels;
use hilgen_metrics::{bootstrap, ensemble, evaluate_sentences, Options};
use hilgen_models::{device, BertConfig, Dann, DannConfig, Distance, Features, Tagger, TaggerConfig, WordEncoder};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The run directory (default `runs/NAME`).
    pub out: Option<PathBuf>,
    /// Stop after this many executed stages (to test resumption).
    pub stop_after: Option<usize>,
}

/// What a run did.
#[derive(Debug)]
pub struct RunSummary {
    /// The run directory.
    pub dir: PathBuf,
    /// Stages run by this call.
    pub executed: Vec<String>,
    /// Stages found complete and skipped.
    pub skipped: Vec<String>,
    /// The report.
    pub report: Report,
}

struct Data {
    train: Vec<Sentence>,
    dev: Vec<Sentence>,
    test: Vec<Sentence>,
    files: Vec<PathBuf>,
}

/// Expands a leading `$HILGEN_DATA` or `$HILGEN_KB` in a path.
pub fn expand(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    for var in ["HILGEN_DATA", "HILGEN_KB"] {
        if let Some(rest) = s.strip_prefix(&format!("${var}")) {
            if let Some(v) = std::env::var_os(var) {
                return PathBuf::from(v).join(rest.trim_start_matches('/'));
            }
        }
    }
    path.to_path_buf()
}

fn load_data(exp: &Experiment, scratch: &Path) -> Result<Data> {
    let fmt = ConllFormat::default();
    let (mut train, mut dev, mut test) = match (&exp.dataset, &exp.data) {
        (_, Some(d)) => {
            (read_path(expand(&d.train), &fmt)?, read_path(expand(&d.dev), &fmt)?, read_path(expand(&d.test), &fmt)?)
        }
        (Some(name), None) => {
            let loaded = dataset::load(name, &Fetcher::from_env())?;
            let c = &loaded.corpus;
            if let Ok(all) = c.split("all") {
                tracing::warn!(dataset = %name, "one split only: sampling, picking the ensemble and testing on the same sentences");
                (all.to_vec(), all.to_vec(), all.to_vec())
            } else {
                (c.split("train")?.to_vec(), c.split("devel")?.to_vec(), c.split("test")?.to_vec())
            }
        }
        (None, None) => return Err(PipelineError::Invalid("no data".into())),
    };
    if let Some(n) = exp.dev_limit {
        dev.truncate(n);
    }
    if let Some(n) = exp.test_limit {
        test.truncate(n);
    }
    train.retain(|s| !s.is_empty());
    // The splits as files, so that stages can hash them.
    std::fs::create_dir_all(scratch).map_err(|e| PipelineError::io(scratch, e))?;
    let mut files = Vec::new();
    for (n, s) in [("train", &train), ("dev", &dev), ("test", &test)] {
        let p = scratch.join(format!("{n}.tsv"));
        write_path(&p, s, &fmt)?;
        files.push(p);
    }
    Ok(Data { train, dev, test, files })
}

/// The runtime the LLM client's requests run on.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| PipelineError::io("tokio runtime", e))
}

fn kb_root() -> PathBuf {
    std::env::var_os("HILGEN_KB").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}

fn open_kb(exp: &Experiment, stages: &mut Stages) -> Result<Option<Kb>> {
    if exp.kb.is_empty() {
        return Ok(None);
    }
    if let Some(dir) = &exp.kb.index {
        return Ok(Some(Kb::open(dir)?));
    }
    let abs = |p: &PathBuf| {
        let p = expand(p);
        if p.is_absolute() {
            p
        } else {
            kb_root().join(p)
        }
    };
    let sources = hilgen_kb::Sources {
        rrf: exp.kb.rrf.as_ref().map(|p| (abs(p), Default::default())),
        ctd: exp.kb.ctd.iter().map(abs).collect(),
        mesh_tree: exp.kb.mesh_tree.iter().map(abs).collect(),
        obo: exp.kb.obo.iter().map(abs).collect(),
        ..Default::default()
    };
    let mut inputs = BTreeMap::new();
    for p in sources.ctd.iter().chain(&sources.mesh_tree).chain(&sources.obo) {
        inputs.insert(p.display().to_string(), file_hash(p)?);
    }
    if let Some((p, _)) = &sources.rrf {
        inputs.insert(p.display().to_string(), "rrf folder".into());
    }
    stages.run("kb", json!(inputs), |dir| {
        let r = hilgen_kb::build(&sources, dir)?;
        Ok(json!({"concepts": r.concepts, "bytes": r.bytes}))
    })?;
    Ok(Some(Kb::open(stages.dir("kb"))?))
}

/// The result of an augmentation stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentResult {
    /// Synthetic sentences kept.
    pub count: usize,
    /// Sentences asked of an LLM (0 for other strategies).
    pub requested: usize,
    /// LLM rejections by reason.
    pub rejected: BTreeMap<String, u64>,
    /// LLM requests sent (not answered by the cache).
    pub llm_requests: u64,
}

fn write_synthetic(dir: &Path, synthetic: &[Synthetic]) -> Result<()> {
    let sentences: Vec<Sentence> = synthetic.iter().map(|s| s.sentence.clone()).collect();
    write_path(dir.join("synthetic.tsv"), &sentences, &ConllFormat::default())?;
    let p = dir.join("provenance.jsonl");
    std::fs::write(&p, provenance_jsonl(synthetic)).map_err(|e| PipelineError::io(&p, e))?;
    Ok(())
}

fn layer_of(name: &str) -> Option<Layer> {
    Layer::ALL.into_iter().find(|l| l.name() == name)
}

#[allow(clippy::too_many_arguments)]
fn augment(
    exp: &Experiment,
    strategy: &str,
    shots: &[Sentence],
    seed: u64,
    kb: Option<&Kb>,
    counts: &BTreeMap<String, usize>,
    dir: &Path,
) -> Result<AugmentResult> {
    let mut result = AugmentResult { count: 0, requested: 0, rejected: BTreeMap::new(), llm_requests: 0 };
    let synthetic = if let Some(layer) = layer_of(strategy) {
        KnowledgeLayer::new(kb.expect("checked: knowledge strategies have a kb"), layer).augment(shots)?
    } else if let Some(m) = DaiAdel::ALL.into_iter().find(|m| m.name() == strategy) {
        SimpleAugmenter::new(m, kb, seed).augment(shots)?
    } else {
        let cfg = hilgen_llm::LlmConfig::load(exp.llm.config.as_deref())?;
        let client = hilgen_llm::LlmClient::new(cfg)?;
        let (strat, matched) = match strategy {
            "llm-related" => (LlmStrategy::Hilgen(Variant::Related), "related"),
            "llm-parents-children" => (LlmStrategy::Hilgen(Variant::ParentsChildren), "parents-children"),
            "llm-siblings" => (LlmStrategy::Hilgen(Variant::Siblings), "siblings"),
            "zerogen" => (LlmStrategy::ZeroGen, ""),
            g => {
                let l = layer_of(g.trim_start_matches("grounded-")).expect("checked");
                (LlmStrategy::Grounded(l), l.name())
            }
        };
        // As the paper: as many LLM sentences as the matching knowledge layer produced.
        let n = match counts.get(matched) {
            Some(&c) if exp.llm.match_knowledge_counts && !shots.is_empty() => c.div_ceil(shots.len()).max(1),
            _ => exp.llm.n,
        };
        let aug = LlmAugmenter::new(&client, kb, Labels::of_sentences(shots), strat, n);
        let rt = runtime()?;
        let (synthetic, outcome) = rt.block_on(aug.run(shots))?;
        result.requested = outcome.requested;
        result.rejected = outcome.rejected;
        result.llm_requests = client.summary().requests;
        synthetic
    };
    write_synthetic(dir, &synthetic)?;
    result.count = synthetic.len();
    Ok(result)
}

/// The result of a training stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainResult {
    /// Training sentences (shots + synthetic).
    pub sentences: usize,
    /// Epochs.
    pub epochs: usize,
}

fn tagger_config(exp: &Experiment, n: usize, seed: u64) -> TaggerConfig {
    let m = &exp.model;
    TaggerConfig {
        epochs: (m.epoch_budget / n.max(1)).clamp(m.min_epochs, m.max_epochs),
        batch_size: if n <= 50 { m.batch_size } else { m.batch_size * 2 },
        learning_rate: m.learning_rate,
        seed,
        ..Default::default()
    }
}

fn encoder_dir(exp: &Experiment) -> Result<PathBuf> {
    match &exp.model.encoder {
        Some(p) => Ok(p.clone()),
        None => std::env::var_os("HILGEN_ENCODER")
            .map(PathBuf::from)
            .ok_or_else(|| PipelineError::Invalid("no encoder: set model.encoder or HILGEN_ENCODER".into())),
    }
}

fn train(
    exp: &Experiment,
    data: &[Sentence],
    labels: &[String],
    seed: u64,
    dev: &[Sentence],
    test: &[Sentence],
    dir: &Path,
) -> Result<TrainResult> {
    let cfg = tagger_config(exp, data.len(), seed);
    let epochs = cfg.epochs;
    let enc = encoder_dir(exp)?;
    let mut tagger = if exp.model.random_tiny {
        let encoder = WordEncoder::from_folder(&enc)?;
        let bert = BertConfig::tiny(encoder.vocab_size() as i64);
        Tagger::with_random_weights(bert, encoder, labels.to_vec(), cfg, device(false))?
    } else {
        Tagger::from_pretrained(&enc, labels.to_vec(), cfg, device(false))?
    };
    tagger.train(data, None, None)?;
    let distance = match exp.model.dann_distance.as_str() {
        "euclidean" => Distance::Euclidean,
        "cosine" => Distance::Cosine,
        _ => Distance::Minkowski(3.0),
    };
    let dann = Dann::fit(&tagger, data, DannConfig { distance, ..DannConfig::default() })?;
    for (split, gold) in [("dev", dev), ("test", test)] {
        let emissions = tagger.word_features(gold, Features::Emissions)?;
        let to_sentences = |p: Vec<hilgen_models::Prediction>| -> Vec<Sentence> {
            p.iter().zip(gold).map(|(p, s)| p.to_sentence(s)).collect()
        };
        write_path(
            dir.join(format!("tagger.{split}.tsv")),
            &to_sentences(tagger.decode_emissions(&emissions)?),
            &ConllFormat::default(),
        )?;
        write_path(
            dir.join(format!("dann.{split}.tsv")),
            &to_sentences(dann.predict_features(&emissions)),
            &ConllFormat::default(),
        )?;
    }
    Ok(TrainResult { sentences: data.len(), epochs })
}

/// seqeval's default mode; 0 where a score is undefined (a resample or a model with no
/// entities), without a warning per resample.
fn scoring() -> Options {
    Options { zero_division: hilgen_metrics::ZeroDivision::Zero, ..Options::default() }
}

fn score(
    gold: &[Sentence],
    pred: &[Sentence],
    replicates: usize,
    seed: u64,
) -> Result<(hilgen_metrics::Prf, bootstrap::Interval)> {
    let o = scoring();
    let prf = evaluate_sentences(gold, pred, o)?.micro;
    let g: Vec<&[String]> = gold.iter().map(|s| s.tags.as_slice()).collect();
    let p: Vec<&[String]> = pred.iter().map(|s| s.tags.as_slice()).collect();
    let ci = bootstrap::f1_interval(&g, &p, o, &bootstrap::Config { replicates, seed, ..Default::default() })?;
    Ok((prf, ci))
}

/// Runs (or resumes) an experiment.
pub fn run(exp: &Experiment, opts: &RunOptions) -> Result<RunSummary> {
    let out = opts.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(&exp.name));
    let mut stages = Stages::new(&out)?;
    stages.limit = opts.stop_after;
    std::fs::write(
        out.join("experiment.toml"),
        toml::to_string_pretty(exp).map_err(|e| PipelineError::Invalid(e.to_string()))?,
    )
    .map_err(|e| PipelineError::io(&out, e))?;
    let data = load_data(exp, &out.join("data"))?;
    let data_hashes: Vec<String> = data.files.iter().map(|p| file_hash(p)).collect::<Result<_>>()?;
    let kb = open_kb(exp, &mut stages)?;
    let kb_hash = stages.manifest("kb").map(|m| m.inputs_hash).unwrap_or_else(|| format!("{:?}", exp.kb.index));
    let labels = Tagger::labels_of(&data.train);
    let model_inputs = json!({"model": exp.model, "encoder": encoder_dir(exp)?.display().to_string()});
    let llm_cfg_hash = exp.llm.config.as_ref().map(|p| file_hash(p)).transpose()?;
    // The LLM as a zero-shot tagger (the paper's Table 4): once, on dev and test.
    let llm_tagger = if exp.llm.zero_shot_tagger {
        let cfg_path = exp
            .llm
            .config
            .clone()
            .ok_or_else(|| PipelineError::Invalid("llm.zero_shot_tagger needs [llm] config".into()))?;
        let inputs = json!({"dev": data_hashes[1], "test": data_hashes[2], "llm": llm_cfg_hash, "labels": labels});
        let r: AugmentResult = stages.run("llm-tagger", inputs, |dir| {
            let client = hilgen_llm::LlmClient::new(hilgen_llm::LlmConfig::load(Some(&cfg_path))?)?;
            let generator = hilgen_llm::generate::Generator::new(&client, Labels::of_sentences(&data.train))?;
            let rt = runtime()?;
            let mut rejected = BTreeMap::new();
            for (split, gold) in [("dev", &data.dev), ("test", &data.test)] {
                let (pred, outcome) = rt.block_on(generator.tag(gold))?;
                write_path(dir.join(format!("llm.{split}.tsv")), &pred, &ConllFormat::default())?;
                for (k, v) in outcome.rejected {
                    *rejected.entry(k).or_insert(0) += v;
                }
            }
            Ok(AugmentResult {
                count: data.dev.len() + data.test.len(),
                requested: data.dev.len() + data.test.len(),
                rejected,
                llm_requests: client.summary().requests,
            })
        })?;
        tracing::info!(rejected = ?r.rejected, "LLM zero-shot tagger");
        Some((stages.dir("llm-tagger"), r))
    } else {
        None
    };
    let mut seeds = Vec::new();
    for &seed in &exp.seeds {
        let sd = format!("seed-{seed}");
        let sample_name = format!("{sd}/sample");
        stages.run(&sample_name, json!({"train": data_hashes[0], "k": exp.k, "seed": seed}), |dir| {
            let shots = sample::sample_per_type(&data.train, exp.k, seed)?.sentences(&data.train);
            write_path(dir.join("fewshot.tsv"), &shots, &ConllFormat::default())?;
            // JSON Lines keep the mentions' concept IDs (gold links for the knowledge layers).
            hilgen_corpus::jsonl::write_path(dir.join("fewshot.jsonl"), &shots)?;
            Ok(shots.len())
        })?;
        let shots_path = stages.dir(&sample_name).join("fewshot.jsonl");
        let shots = hilgen_corpus::jsonl::read_path(&shots_path)?;
        let shots_hash = file_hash(&shots_path)?;
        // Augment: knowledge layers first, so LLM strategies can match their counts.
        let mut order: Vec<&String> =
            exp.strategies.iter().filter(|s| KNOWLEDGE.contains(&s.as_str()) || SIMPLE.contains(&s.as_str())).collect();
        order.extend(
            exp.strategies.iter().filter(|s| !(KNOWLEDGE.contains(&s.as_str()) || SIMPLE.contains(&s.as_str()))),
        );
        let mut counts = BTreeMap::new();
        let mut augment_results = BTreeMap::new();
        for strategy in order {
            let name = format!("{sd}/augment/{strategy}");
            // Only the LLM strategies depend on the LLM settings and the other strategies' counts.
            let inputs = if uses_llm(strategy) {
                json!({"shots": shots_hash, "strategy": strategy, "kb": kb_hash, "seed": seed, "llm": llm_cfg_hash, "llm_spec": exp.llm, "counts": counts})
            } else {
                json!({"shots": shots_hash, "strategy": strategy, "kb": kb_hash, "seed": seed})
            };
            let r: AugmentResult =
                stages.run(&name, inputs, |dir| augment(exp, strategy, &shots, seed, kb.as_ref(), &counts, dir))?;
            counts.insert(strategy.clone(), r.count);
            augment_results.insert(strategy.clone(), r);
        }
        // Train: the original shots, then shots + each strategy's sentences.
        let mut configs = vec!["original".to_string()];
        configs.extend(exp.strategies.iter().cloned());
        for config in &configs {
            let mut train_data = shots.clone();
            let mut synth_hash = Value::Null;
            if config != "original" {
                let p = stages.dir(&format!("{sd}/augment/{config}")).join("synthetic.tsv");
                train_data.extend(read_path(&p, &ConllFormat::default())?);
                synth_hash = json!(file_hash(&p)?);
            }
            let inputs = json!({"shots": shots_hash, "synthetic": synth_hash, "model": model_inputs, "seed": seed, "dev": data_hashes[1], "test": data_hashes[2], "labels": labels});
            stages.run(&format!("{sd}/train/{config}"), inputs, |dir| {
                train(exp, &train_data, &labels, seed, &data.dev, &data.test, dir)
            })?;
        }
        // Evaluate every system on test (with a bootstrap CI) and dev.
        let mut systems: Vec<(String, PathBuf)> = Vec::new();
        for config in &configs {
            for model in ["tagger", "dann"] {
                systems.push((format!("{model}/{config}"), stages.dir(&format!("{sd}/train/{config}"))));
            }
        }
        if let Some((d, _)) = &llm_tagger {
            systems.push(("llm/zero-shot".to_string(), d.clone()));
        }
        // System `MODEL/CONFIG` wrote `MODEL.SPLIT.tsv` in its stage folder.
        let pred_file =
            |n: &str, d: &Path, split: &str| d.join(format!("{}.{split}.tsv", n.split('/').next().unwrap_or("")));
        let pred_hashes: Vec<String> = systems
            .iter()
            .flat_map(|(n, d)| ["dev", "test"].map(|split| pred_file(n, d, split)))
            .map(|p| file_hash(&p))
            .collect::<Result<_>>()?;
        let read_preds = |n: &str, d: &Path, split: &str| -> Result<Vec<Sentence>> {
            Ok(read_path(pred_file(n, d, split), &ConllFormat::default())?)
        };
        let scores: BTreeMap<String, SystemScore> = stages.run(
            &format!("{sd}/evaluate"),
            json!({"predictions": pred_hashes, "bootstrap": exp.bootstrap}),
            |_| {
                let mut out = BTreeMap::new();
                for (n, d) in &systems {
                    let test = read_preds(n, d, "test")?;
                    let dev = read_preds(n, d, "dev")?;
                    let (prf, ci) = score(&data.test, &test, exp.bootstrap, seed)?;
                    let dev_f1 = evaluate_sentences(&data.dev, &dev, scoring())?.micro.f1;
                    out.insert(n.clone(), SystemScore::new(prf, ci, dev_f1));
                }
                Ok(out)
            },
        )?;
        // Best ensemble on dev over the best systems.
        let ens: SystemScore = stages.run(
            &format!("{sd}/ensemble"),
            json!({"scores": scores, "max": exp.ensemble_systems, "bootstrap": exp.bootstrap}),
            |dir| {
                let mut ranked: Vec<&(String, PathBuf)> = systems.iter().collect();
                ranked.sort_by(|a, b| scores[&b.0].dev_f1.total_cmp(&scores[&a.0].dev_f1));
                ranked.truncate(exp.ensemble_systems.max(1));
                let dev: Vec<Vec<Sentence>> =
                    ranked.iter().map(|(n, d)| read_preds(n, d, "dev")).collect::<Result<_>>()?;
                let test: Vec<Vec<Sentence>> =
                    ranked.iter().map(|(n, d)| read_preds(n, d, "test")).collect::<Result<_>>()?;
                let dev_refs: Vec<&[Sentence]> = dev.iter().map(Vec::as_slice).collect();
                let test_refs: Vec<&[Sentence]> = test.iter().map(Vec::as_slice).collect();
                let cands = ensemble::default_candidates(ranked.len());
                let sel = ensemble::select_best(&data.dev, &dev_refs, &cands, scoring(), Scheme::Iob2)?;
                let chosen = sel.chosen();
                let combined = ensemble::apply(&chosen.candidate, &test_refs, &sel.weights, Scheme::Iob2)?;
                write_path(dir.join("ensemble.test.tsv"), &combined, &ConllFormat::default())?;
                let names: Vec<&str> = chosen.candidate.systems.iter().map(|&i| ranked[i].0.as_str()).collect();
                let (prf, ci) = score(&data.test, &combined, exp.bootstrap, seed)?;
                let mut s = SystemScore::new(prf, ci, chosen.dev_f1);
                s.note = Some(if names.len() == 1 {
                    names[0].to_string()
                } else {
                    format!("{} of {}", chosen.candidate.method, names.join(" + "))
                });
                Ok(s)
            },
        )?;
        seeds.push(SeedResult { seed, scores, ensemble: ens, augment: augment_results });
    }
    let times: BTreeMap<String, f64> = walk_manifests(&stages);
    let tagger_result = llm_tagger.as_ref().map(|(_, r)| r);
    let report_inputs =
        json!({"seeds": seeds, "exp": exp, "llm_tagger": tagger_result, "format": report::FORMAT_VERSION});
    let report: Report = stages.run("report", report_inputs, |dir| {
        let r = report::build(exp, &seeds, tagger_result, &times, data.test.len());
        report::write(&r, dir)?;
        Ok(r)
    })?;
    // The report's files also at the top of the run directory.
    for f in ["results.md", "results.json", "f1.svg"] {
        let _ = std::fs::copy(stages.dir("report").join(f), out.join(f));
    }
    Ok(RunSummary { dir: out, executed: stages.executed.clone(), skipped: stages.skipped.clone(), report })
}

/// Wall time per stage kind (`sample`, `augment/related`, `train/original`, ...), summed over seeds.
fn walk_manifests(stages: &Stages) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![stages.root().to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                stack.push(p);
            } else if e.file_name() == "manifest.json" {
                if let Ok(m) =
                    serde_json::from_str::<crate::stage::Manifest>(&std::fs::read_to_string(&p).unwrap_or_default())
                {
                    let kind = m
                        .stage
                        .split_once('/')
                        .map_or(
                            m.stage.as_str(),
                            |(first, rest)| if first.starts_with("seed-") { rest } else { m.stage.as_str() },
                        )
                        .to_string();
                    *out.entry(kind).or_insert(0.0) += m.seconds;
                }
            }
        }
    }
    out
}

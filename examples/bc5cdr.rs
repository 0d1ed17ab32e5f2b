//! BC5CDR: the project's main job (`cargo xtask demo`).
//!
//! Loads BC5CDR through the dataset registry (`HILGEN_DATA`, the shared folder here) with MeSH
//! IDs from its PubTator documents; builds (once) a knowledge index of CTD MEDIC + the MeSH tree
//! (`HILGEN_KB`) under `runs/kb`; then, per seed, draws the paper's 5-shot sample, expands it
//! with each knowledge layer (synonyms, related concepts of the same type, parents + children,
//! siblings), trains the MiniLM tagger (`HILGEN_ENCODER`) on the original sample and on the
//! sample plus each layer's sentences, and scores the tagger and DANN on the test split.
//! Synthetic sentences (IOB + provenance JSONL) and predictions are written under
//! `runs/bc5cdr/seed-N/`. No LLM is used.
//!
//! Run: `cargo run --release --example bc5cdr -- [--seeds 1] [--k 5] [--layers all|none|synonyms,...] [--out runs/bc5cdr]`

use anyhow::{Context, Result};
use hilgen::augment::{provenance_jsonl, Augmenter, KnowledgeLayer, Layer};
use hilgen::corpus::{conll, dataset, fetch::Fetcher, sample, CorpusStats, Sentence};
use hilgen::kb::{build, Kb, Sources};
use hilgen::metrics::{evaluate_sentences, Options, Prf};
use hilgen::models::{device, Dann, DannConfig, Features, Tagger, TaggerConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Args {
    k: usize,
    seeds: u64,
    layers: Vec<Layer>,
    out: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut a = Args { k: sample::DEFAULT_K, seeds: 1, layers: Layer::ALL.to_vec(), out: "runs/bc5cdr".into() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--k" => a.k = value()?.parse()?,
            "--seeds" => a.seeds = value()?.parse()?,
            "--out" => a.out = value()?.into(),
            "--layers" => {
                let v = value()?;
                a.layers = match v.as_str() {
                    "all" => Layer::ALL.to_vec(),
                    "none" => vec![],
                    list => list
                        .split(',')
                        .map(|n| Layer::ALL.into_iter().find(|l| l.name() == n).with_context(|| format!("unknown layer {n}")))
                        .collect::<Result<_>>()?,
                };
            }
            other => anyhow::bail!("unknown argument {other}; expected --k N, --seeds N, --layers LIST, --out DIR"),
        }
    }
    Ok(a)
}

/// Opens the CTD MEDIC + MeSH tree index under `dir`, building it first if needed.
fn knowledge_index(dir: &Path) -> Result<Kb> {
    if !dir.join(hilgen::kb::INDEX_FILE).exists() {
        let kb = PathBuf::from(std::env::var_os("HILGEN_KB").context("HILGEN_KB (the folder of knowledge sources) is not set")?);
        let sources = Sources {
            ctd: vec![kb.join("ctd-medic-2017/CTD_diseases.tsv.gz")],
            mesh_tree: vec![kb.join("mesh-tree-2017/2017MeshTree.txt")],
            ..Default::default()
        };
        let report = build(&sources, dir)?;
        println!("built the knowledge index: {} concepts, {} bytes", report.concepts, report.bytes);
    }
    Ok(Kb::open(dir)?)
}

/// Few-shot training settings: passes over the data bounded so that larger augmented sets
/// take about as long as more epochs over the small original one.
fn tagger_config(n: usize, seed: u64) -> TaggerConfig {
    TaggerConfig {
        epochs: (300 / n.max(1)).clamp(3, 30),
        batch_size: if n <= 50 { 4 } else { 8 },
        learning_rate: 1e-4,
        seed,
        ..Default::default()
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let start = Instant::now();
    let fetcher = Fetcher::from_env();
    let loaded = dataset::load("bc5cdr", &fetcher)?;
    let train = loaded.corpus.split("train")?;
    let test = loaded.corpus.split("test")?;
    let st = CorpusStats::of(train)?;
    println!("BC5CDR from {}: train {st}; test {} sentences", fetcher.data_dir.display(), test.len());
    println!("MeSH IDs on {:.2}% of train mentions", 100.0 * loaded.align["train"].linked_share());
    let kb = knowledge_index(&args.out.join("../kb"))?;
    let encoder = PathBuf::from(std::env::var_os("HILGEN_ENCODER").context("HILGEN_ENCODER (the encoder folder) is not set")?);
    let labels = Tagger::labels_of(train);
    let mut rows: Vec<(String, u64, usize, Prf, Prf, f64)> = Vec::new();
    for seed in 1..=args.seeds {
        let shots = sample::sample_per_type(train, args.k, seed)?.sentences(train);
        let dir = args.out.join(format!("seed-{seed}"));
        std::fs::create_dir_all(&dir)?;
        conll::write_path(dir.join("fewshot.tsv"), &shots, &Default::default())?;
        let mut configs: Vec<(String, Vec<Sentence>)> = vec![("original 5-shot".into(), shots.clone())];
        for layer in &args.layers {
            let synthetic = KnowledgeLayer::new(&kb, *layer).augment(&shots)?;
            let sub = dir.join(layer.name());
            std::fs::create_dir_all(&sub)?;
            let sentences: Vec<Sentence> = synthetic.iter().map(|s| s.sentence.clone()).collect();
            conll::write_path(sub.join("synthetic.tsv"), &sentences, &Default::default())?;
            hilgen::corpus::write_atomic(&sub.join("provenance.jsonl"), |w| {
                w.write_all(provenance_jsonl(&synthetic).as_bytes()).map_err(|e| hilgen::corpus::CorpusError::io(sub.join("provenance.jsonl"), e))
            })?;
            let mut data = shots.clone();
            data.extend(sentences);
            configs.push((format!("+ {}", layer.name()), data));
        }
        for (name, data) in configs {
            let t = Instant::now();
            let mut tagger = Tagger::from_pretrained(&encoder, labels.clone(), tagger_config(data.len(), seed), device(false))?;
            tagger.train(&data, None, None)?;
            let emissions = tagger.word_features(test, Features::Emissions)?;
            let to_sentences = |preds: Vec<hilgen::models::Prediction>| -> Vec<Sentence> { preds.iter().zip(test).map(|(p, s)| p.to_sentence(s)).collect() };
            let tagged = to_sentences(tagger.decode_emissions(&emissions)?);
            let dann = Dann::fit(&tagger, &data, DannConfig::default())?;
            let dann_tagged = to_sentences(dann.predict_features(&emissions));
            let e = evaluate_sentences(test, &tagged, Options::default())?.micro;
            let d = evaluate_sentences(test, &dann_tagged, Options::default())?.micro;
            let secs = t.elapsed().as_secs_f64();
            println!("seed {seed} {name}: {} sentences, tagger F1 {:.4}, DANN F1 {:.4} ({secs:.0}s)", data.len(), e.f1, d.f1);
            rows.push((name, seed, data.len(), e, d, secs));
        }
    }
    println!("\n| training data | seed | sentences | tagger P | tagger R | tagger F1 | DANN P | DANN R | DANN F1 |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, seed, n, e, d, _) in &rows {
        println!(
            "| {name} | {seed} | {n} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
            e.precision, e.recall, e.f1, d.precision, d.recall, d.f1
        );
    }
    println!("\nMiniLM-L6 encoder, CTD MEDIC + MeSH 2017 as the knowledge source, no LLM; total {:.1} min", start.elapsed().as_secs_f64() / 60.0);
    Ok(())
}

//! Trains the BERT tagger (and DANN) on a dataset of the registry and scores the test split.
//!
//! ```text
//! cargo run --release --example train_tagger -- [--dataset bc5cdr] [--shots 5|full|N] [--seed 1]
//!     [--epochs E] [--encoder DIR] [--threads T] [--precision f32|bf16] [--out runs/tagger]
//! ```
//!
//! `--shots 5` draws the paper's 5-shot sample (K sentences per type) from the training split;
//! `--shots full` trains on the whole training split; `--shots N` (N > 50) on its first N
//! sentences. Prints entity-level P/R/F1 on the test split for the tagger and, for few-shot
//! runs, for DANN (NNShot over the trained tagger's emissions, support = the training sample).
//! Writes the test predictions and `metrics.json` (settings, wall times, throughput and the
//! seqeval-compatible scores, micro and per type) to `OUT/DATASET-SHOTS-seedSEED/`.

use anyhow::{Context, Result};
use hilgen::corpus::{conll, dataset, fetch::Fetcher, sample};
use hilgen::metrics::{evaluate_sentences, Options};
use hilgen::models::{device, Dann, DannConfig, Precision, Tagger, TaggerConfig};
use hilgen::pipeline::files::write_file;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<()> {
    tracing_subscriber_init();
    let mut name = "bc5cdr".to_string();
    let mut shots = "5".to_string();
    let mut seed = 1u64;
    let mut epochs: Option<usize> = None;
    let mut threads: Option<usize> = None;
    let mut precision = Precision::F32;
    let mut encoder =
        std::env::var_os("HILGEN_ENCODER").map(PathBuf::from).unwrap_or_else(|| ".hilgen/all-MiniLM-L6-v2".into());
    let mut out = PathBuf::from("runs/tagger");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--dataset" => name = value()?,
            "--shots" => shots = value()?,
            "--seed" => seed = value()?.parse()?,
            "--epochs" => epochs = Some(value()?.parse()?),
            "--threads" => threads = Some(value()?.parse()?),
            "--precision" => precision = value()?.parse().map_err(anyhow::Error::msg)?,
            "--encoder" => encoder = value()?.into(),
            "--out" => out = value()?.into(),
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let loaded = dataset::load(&name, &Fetcher::from_env())?;
    let train_all = loaded.corpus.split("train")?;
    let test = loaded.corpus.split("test")?;
    let few_shot = shots != "full" && shots.parse::<usize>().map_or(true, |n| n <= 50);
    let train: Vec<_> = match shots.as_str() {
        "full" => train_all.to_vec(),
        n if few_shot => sample::sample_per_type(train_all, n.parse()?, seed)?.sentences(train_all),
        n => train_all[..n.parse::<usize>()?.min(train_all.len())].to_vec(),
    };
    // Few-shot training needs more passes over its few sentences.
    let config = TaggerConfig {
        epochs: epochs.unwrap_or(if few_shot { 30 } else { 3 }),
        batch_size: if few_shot { 4 } else { 16 },
        learning_rate: if few_shot { 1e-4 } else { 5e-5 },
        seed,
        threads,
        precision,
        ..Default::default()
    };
    println!(
        "{name}: training on {} sentences ({shots} shots, seed {seed}), {} epochs, {precision}",
        train.len(),
        config.epochs
    );
    let mut tagger = Tagger::from_pretrained(&encoder, Tagger::labels_of(train_all), config, device(false))?;
    let t = Instant::now();
    let report = tagger.train(&train, None, None)?;
    let train_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let pred = tagger.predict_sentences(test)?;
    let predict_s = t.elapsed().as_secs_f64();
    let e = evaluate_sentences(test, &pred, Options::default())?;
    println!(
        "tagger: P {:.4} R {:.4} F1 {:.4} (train {train_s:.0}s at {:.0} tokens/s, predict {predict_s:.0}s)",
        e.micro.precision, e.micro.recall, e.micro.f1, report.tokens_per_second
    );
    for (ty, p) in &e.per_type {
        println!("  {ty}: P {:.4} R {:.4} F1 {:.4}", p.precision, p.recall, p.f1);
    }
    let dir = out.join(format!("{name}-{shots}-seed{seed}"));
    std::fs::create_dir_all(&dir)?;
    conll::write_path(dir.join("test.tagger.tsv"), &pred, &Default::default())?;
    let mut metrics = serde_json::json!({
        "dataset": name,
        "shots": shots,
        "seed": seed,
        "train_sentences": train.len(),
        "test_sentences": test.len(),
        "encoder": encoder,
        "config": tagger.config(),
        "train_seconds": train_s,
        "train_tokens_per_second": report.tokens_per_second,
        "losses": report.losses,
        "predict_seconds": predict_s,
        "tagger": e,
    });
    if few_shot {
        let dann = Dann::fit(&tagger, &train, DannConfig::default())?;
        let p = dann.predict_sentences(&tagger, test)?;
        let d = evaluate_sentences(test, &p, Options::default())?;
        println!("dann:   P {:.4} R {:.4} F1 {:.4}", d.micro.precision, d.micro.recall, d.micro.f1);
        conll::write_path(dir.join("test.dann.tsv"), &p, &Default::default())?;
        metrics["dann"] = serde_json::to_value(&d)?;
    }
    write_file(&dir.join("metrics.json"), &serde_json::to_vec_pretty(&metrics)?)?;
    println!("wrote {}", dir.display());
    Ok(())
}

fn tracing_subscriber_init() {
    // Examples log through tracing to stderr when RUST_LOG is set.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).try_init();
    }
}

//! BC5CDR: the project's main job (`cargo xtask demo`).
//!
//! What it does today: loads BC5CDR through the dataset registry (the shared data folder here,
//! `HILGEN_DATA` or a download elsewhere), aligns the IOB splits with their PubTator documents
//! to attach MeSH concept IDs, and draws the paper's 5-shot samples for seeds 1..=5, writing each
//! under `runs/bc5cdr/seed-N/` as IOB and JSON Lines. Augmentation, training and evaluation
//! stages are added to this example as their crates land.
//!
//! Run: `cargo run --release --example bc5cdr -- [--k 5] [--seeds 5] [--out runs/bc5cdr]`

use anyhow::{Context, Result};
use hilgen::corpus::{conll, dataset, fetch::Fetcher, jsonl, sample, CorpusStats};
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut k = sample::DEFAULT_K;
    let mut seeds = 5u64;
    let mut out = PathBuf::from("runs/bc5cdr");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--k" => k = value()?.parse()?,
            "--seeds" => seeds = value()?.parse()?,
            "--out" => out = value()?.into(),
            other => anyhow::bail!("unknown argument {other}; expected --k N, --seeds N, --out DIR"),
        }
    }
    let start = std::time::Instant::now();
    let fetcher = Fetcher::from_env();
    println!("data folder: {}", fetcher.data_dir.display());
    let loaded = dataset::load("bc5cdr", &fetcher)?;
    println!("\n| split | sentences | tokens | Chemical | Disease | mentions with MeSH IDs |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, sentences) in &loaded.corpus.splits {
        let st = CorpusStats::of(sentences)?;
        let share = loaded.align.get(name).map_or(0.0, |r| 100.0 * r.linked_share());
        println!(
            "| {name} | {} | {} | {} | {} | {share:.2}% |",
            st.sentences, st.tokens, st.mentions["Chemical"], st.mentions["Disease"]
        );
    }
    let train = loaded.corpus.split("train")?;
    println!("\n| seed | sentences | Chemical mentions | Disease mentions |");
    println!("|---:|---:|---:|---:|");
    for seed in 1..=seeds {
        let s = sample::sample_per_type(train, k, seed)?;
        let shots = s.sentences(train);
        let dir = out.join(format!("seed-{seed}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        conll::write_path(dir.join("fewshot.tsv"), &shots, &Default::default())?;
        jsonl::write_path(dir.join("fewshot.jsonl"), &shots)?;
        println!(
            "| {seed} | {} | {} | {} |",
            shots.len(),
            s.mentions_per_type.get("Chemical").unwrap_or(&0),
            s.mentions_per_type.get("Disease").unwrap_or(&0)
        );
    }
    println!("\nwrote {k}-shot samples under {} in {:.1}s", out.display(), start.elapsed().as_secs_f64());
    Ok(())
}

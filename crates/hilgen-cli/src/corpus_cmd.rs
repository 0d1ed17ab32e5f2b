//! `hilgen corpus ...`: statistics, conversion, sampling and alignment of corpus files.

use crate::input::{self, ConllArgs, Format, InputArgs};
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use hilgen_corpus::fetch::Fetcher;
use hilgen_corpus::registry::{self, FileFormat};
use hilgen_corpus::{align, pubtator, repair_all, sample, validate, CorpusStats, Scheme};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Corpus subcommands.
#[derive(Subcommand)]
pub enum CorpusCommand {
    /// Print sentence, token, document and mention counts of files or of a registry dataset.
    Stats {
        /// Corpus files (CoNLL/TSV, JSON Lines or PubTator).
        files: Vec<PathBuf>,
        /// A registry dataset (bc5cdr, ncbi-disease, ...), located through HILGEN_DATA.
        #[arg(long)]
        dataset: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        input_args: InputArgs,
    },
    /// Convert between formats and tagging schemes (strict unless --repair).
    Convert {
        /// Input file.
        input: PathBuf,
        /// Output file (written atomically).
        output: PathBuf,
        /// Input format.
        #[arg(long, default_value = "auto", ignore_case = true, value_parser = crate::input::format_parser())]
        from_format: Format,
        /// Output format (`auto`: JSON Lines for .jsonl, PubTator for .pubtator, else CoNLL).
        #[arg(long, default_value = "auto", ignore_case = true, value_parser = crate::input::format_parser())]
        to_format: Format,
        /// Tagging scheme of the input (io, iob1, iob2, ioe1, ioe2, iobes, bilou).
        #[arg(long, default_value = "iob2")]
        from_scheme: String,
        /// Tagging scheme of the output.
        #[arg(long, default_value = "iob2")]
        to_scheme: String,
        /// Repair invalid sequences leniently (conlleval rules) instead of failing.
        #[arg(long)]
        repair: bool,
        /// Replace OUTPUT if it exists (never one of the inputs; a link is written through).
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        conll: ConllArgs,
    },
    /// Draw a seeded few-shot sample.
    Sample {
        /// Input file (the pool, usually the training split).
        input: PathBuf,
        /// Output file with the sampled sentences (written atomically).
        output: PathBuf,
        /// Shots per entity type.
        #[arg(long, default_value_t = sample::DEFAULT_K)]
        k: usize,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Sampler: the paper's K sentences per type, or Few-NERD's greedy N-way K~2K.
        #[arg(long, value_enum, default_value = "paper")]
        method: SampleMethod,
        /// Replace OUTPUT if it exists (never one of the inputs; a link is written through).
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        input_args: InputArgs,
    },
    /// Attach PubTator document ids and concept IDs to an IOB file; writes JSON Lines.
    Align {
        /// IOB file whose sentences follow the PubTator documents (PMID order).
        #[arg(long)]
        iob: PathBuf,
        /// The PubTator file of the same split.
        #[arg(long)]
        pubtator: PathBuf,
        /// Output JSON Lines file with doc ids and concept IDs (written atomically).
        #[arg(long)]
        output: PathBuf,
        /// Replace --output if it exists (never one of the inputs; a link is written through).
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        conll: ConllArgs,
    },
}

/// Few-shot samplers.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SampleMethod {
    /// K sentences per entity type (the HILGEN paper).
    Paper,
    /// Few-NERD greedy N-way K~2K.
    Fewnerd,
}

/// Runs one corpus subcommand.
pub fn run(cmd: CorpusCommand) -> Result<()> {
    match cmd {
        CorpusCommand::Stats { files, dataset, json, input_args } => {
            stats(&files, dataset.as_deref(), input_args.format, json, &input_args.conll)
        }
        CorpusCommand::Convert {
            input,
            output,
            from_format,
            to_format,
            from_scheme,
            to_scheme,
            repair,
            overwrite,
            conll,
        } => {
            let from: Scheme = from_scheme.parse()?;
            let to: Scheme = to_scheme.parse()?;
            let output = crate::output::check_one("OUTPUT", &output, &[&input], overwrite)?;
            let mut sentences = input::read(&input, from_format, &conll)?;
            anyhow::ensure!(!sentences.is_empty(), "{}: no sentences found", input.display());
            if repair {
                let report = repair_all(&mut sentences, from)?;
                tracing::info!(
                    "repaired {} tags in {} sentences: {:?}",
                    report.tokens,
                    report.sentences,
                    report.by_kind
                );
            }
            hilgen_corpus::convert_all(&mut sentences, from, to).with_context(|| format!("{}", input.display()))?;
            input::write(&output, &sentences, to_format)?;
            tracing::info!("wrote {} sentences to {}", sentences.len(), output.display());
            Ok(())
        }
        CorpusCommand::Sample { input, output, k, seed, method, overwrite, input_args } => {
            let output = crate::output::check_one("OUTPUT", &output, &[&input], overwrite)?;
            let pool = input_args.read(&input)?;
            validate(&pool, Scheme::Iob2).with_context(|| format!("{}", input.display()))?;
            let s = match method {
                SampleMethod::Paper => sample::sample_per_type(&pool, k, seed)?,
                SampleMethod::Fewnerd => sample::sample_greedy_nway(&pool, k, seed)?,
            };
            input::write(&output, &s.sentences(&pool), Format::Auto)?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            if !s.short.is_empty() {
                tracing::warn!("fewer than K={k} found for: {}", s.short.join(", "));
            }
            Ok(())
        }
        CorpusCommand::Align { iob, pubtator: pt, output, overwrite, conll } => {
            let output = crate::output::check_one("--output", &output, &[&iob, &pt], overwrite)?;
            let mut sentences = input::read(&iob, Format::Conll, &conll)?;
            let (docs, _) = pubtator::read_path(&pt)?;
            let report = align::align(&mut sentences, &docs)
                .with_context(|| format!("aligning {} with {}", iob.display(), pt.display()))?;
            input::write(&output, &sentences, Format::Jsonl)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"report": report, "linked_share": report.linked_share()}))?
            );
            Ok(())
        }
    }
}

fn stats(files: &[PathBuf], dataset: Option<&str>, format: Format, as_json: bool, conll: &ConllArgs) -> Result<()> {
    let mut targets: Vec<(String, PathBuf, Format)> =
        files.iter().map(|f| (f.display().to_string(), f.clone(), format)).collect();
    if let Some(name) = dataset {
        let spec = registry::get(name)?;
        let paths = Fetcher::from_env().fetch(&spec)?;
        for (file, path) in spec.files.iter().zip(paths) {
            let fmt = match file.format {
                FileFormat::IobTsv => Format::Conll,
                FileFormat::PubTator => Format::Pubtator,
                FileFormat::PubTatorGz | FileFormat::PmidList => continue,
            };
            targets.push((format!("{name} {} {fmt}", file.split), path, fmt));
        }
    }
    anyhow::ensure!(!targets.is_empty(), "name corpus files or --dataset");
    let mut rows = Vec::new();
    for (label, path, fmt) in targets {
        // A file's errors name it already; a dataset's files are named by the label.
        let row = stats_row(&path, input::resolve(&path, fmt), conll);
        let row = if label == path.display().to_string() { row? } else { row.with_context(|| label.clone())? };
        if !as_json {
            println!("{label}: {}", row.1);
        }
        rows.push(json!({"name": label, "stats": row.0, "pubtator": row.2}));
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}

/// Statistics of one file: JSON, a text line, and the PubTator read report if any.
fn stats_row(path: &Path, format: Format, conll: &ConllArgs) -> Result<(serde_json::Value, String, serde_json::Value)> {
    let sentences = input::read(path, format, conll)?;
    anyhow::ensure!(!sentences.is_empty(), "{}: the file holds no sentences", path.display());
    let st = CorpusStats::of(&sentences)?;
    let mut line = st.to_string();
    let mut pt = serde_json::Value::Null;
    if format == Format::Pubtator {
        let (_, report) = pubtator::read_path(path)?;
        line = format!(
            "{} documents, {} mentions ({} without IDs) | as IOB: {line}",
            report.documents, report.mentions, report.without_ids
        );
        pt = serde_json::to_value(&report)?;
    }
    Ok((serde_json::to_value(&st)?, line, pt))
}

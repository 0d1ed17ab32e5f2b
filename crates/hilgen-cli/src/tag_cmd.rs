//! `hilgen tag`: a trained model over new text.

use crate::input::{Format, InputArgs};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hilgen_corpus::document::{documents_of_sentences, with_mentions, Located};
use hilgen_corpus::formats::{self, Contents};
use hilgen_corpus::{pubtator, Sentence};
use hilgen_models::{Dann, DeviceChoice, Tagger};
use std::path::PathBuf;

/// Which of a model folder's systems tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SystemArg {
    /// The fine-tuned tagger.
    Tagger,
    /// DANN (nearest neighbours over the tagger's emissions).
    Dann,
}

/// `hilgen tag` options.
#[derive(Args, Debug)]
pub struct TagArgs {
    /// A model folder (from `hilgen train`, a run's `seed-S/best/model`, or a Hugging Face
    /// Bert-, Roberta- or MPNetForTokenClassification folder).
    #[arg(long)]
    pub model: PathBuf,
    /// Where to run: cpu, cuda (an error without a GPU and a CUDA libtorch) or auto.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Text to tag: raw text (.txt: documents separated by blank lines, first line the title),
    /// CoNLL/TSV (one token per row, alone or with other columns), JSON Lines or PubTator (tags
    /// and annotations in it are ignored).
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Where to write the tagged text (written atomically; never the input; an existing file
    /// only with --overwrite; a link is written through).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing --out (and --scores).
    #[arg(long)]
    pub overwrite: bool,
    /// Format of --out (`auto`: from the name: .jsonl, .pubtator, else CoNLL; never raw text).
    #[arg(long, default_value = "auto", ignore_case = true, value_parser = crate::input::format_parser())]
    pub out_format: Format,
    /// The system (default: the model folder's `system.json`, else the tagger).
    #[arg(long, value_enum)]
    pub system: Option<SystemArg>,
    /// Windows per batch (default: the model's training batch size, doubled).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// The encoder's number format: f32 or bf16 mixed precision (about three times as fast on
    /// CPUs with AVX512-BF16; tags may differ a little from f32's). Default: the model's own.
    #[arg(long)]
    pub precision: Option<hilgen_models::Precision>,
    /// Pad each batch's length to a multiple of N tokens (default 32 on a GPU, 1 on the CPU).
    #[arg(long, value_name = "N")]
    pub pad_to_multiple: Option<usize>,
    /// Also write each token's label log-probabilities as JSON Lines here (the tagger's; not
    /// with --system dann, whose choices are not these probabilities).
    #[arg(long)]
    pub scores: Option<PathBuf>,
}

fn default_system(args: &TagArgs) -> SystemArg {
    let chosen = std::fs::read_to_string(args.model.join("system.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["system"].as_str().map(str::to_string));
    match chosen.as_deref() {
        Some("dann") => SystemArg::Dann,
        _ => SystemArg::Tagger,
    }
}

/// Runs `hilgen tag`.
pub fn run(mut args: TagArgs) -> Result<()> {
    // Everything about the outputs is checked before the model is loaded.
    let system = args.system.unwrap_or_else(|| default_system(&args));
    anyhow::ensure!(
        !(system == SystemArg::Dann && args.scores.is_some()),
        "--scores writes the tagger's log-probabilities, which are not what DANN chose by; \
         drop --scores or tag with --system tagger"
    );
    let out_format = if args.out_format == Format::Auto {
        Format::of_name(&args.out.to_string_lossy(), "")
    } else {
        args.out_format
    };
    anyhow::ensure!(
        out_format != Format::Text,
        "--out {}: raw text cannot hold tags; write CoNLL (.tsv), JSON Lines (.jsonl) or PubTator (.pubtator)",
        args.out.display()
    );
    let mut outs: Vec<(&str, &std::path::Path)> = vec![("--out", &args.out)];
    if let Some(s) = &args.scores {
        outs.push(("--scores", s));
    }
    let resolved = crate::output::check(&outs, &[&args.input], args.overwrite)?;
    args.out = resolved[0].clone();
    if args.scores.is_some() {
        args.scores = Some(resolved[1].clone());
    }
    let mut tagger = Tagger::load(&args.model, args.device.resolve()?)
        .with_context(|| format!("loading the model {}", args.model.display()))?;
    let mut config = tagger.config().clone();
    if let Some(b) = args.batch_size {
        anyhow::ensure!(b > 0, "--batch-size must be at least 1");
        config.batch_size = b.div_ceil(2);
    }
    if args.pad_to_multiple.is_some() {
        config.pad_to_multiple = args.pad_to_multiple;
    }
    tagger.set_config(config)?;
    if let Some(p) = args.precision {
        tagger.set_precision(p);
    }
    let dann = match system {
        SystemArg::Dann if !Dann::exists_in(&args.model) => anyhow::bail!(
            "{} has no DANN support set (dann.json and dann.safetensors); use --system tagger",
            args.model.display()
        ),
        // The error names the file at fault.
        SystemArg::Dann => Some(Dann::load(&args.model)?),
        SystemArg::Tagger => None,
    };
    if let Some(d) = &dann {
        d.check_fits(&tagger).with_context(|| format!("{}", args.model.display()))?;
    }
    // Tags in the input are ignored: CoNLL rows may hold the token alone.
    let conll = hilgen_corpus::conll::ConllFormat {
        tag_column: hilgen_corpus::conll::TagColumn::Ignored,
        ..args.input_args.conll.format()?
    };
    let contents = formats::read_contents(&args.input, args.input_args.format, &conll)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let sentences = contents.sentences();
    let t = std::time::Instant::now();
    let emissions = tagger.emissions(&sentences)?;
    let predictions = match &dann {
        Some(d) => d.predict_features(&emissions),
        None => tagger.decode_emissions(&emissions)?,
    };
    let tagged: Vec<Sentence> = predictions.iter().zip(&sentences).map(|(p, s)| p.to_sentence(s)).collect();
    let words: usize = sentences.iter().map(Sentence::len).sum();
    match (out_format, &contents) {
        (Format::Pubtator, Contents::Documents(docs)) => {
            // Mentions at the original text's offsets.
            let mut next = tagged.iter();
            let out: Vec<pubtator::Document> = docs
                .iter()
                .map(|(d, located)| {
                    let located: Vec<Located> = located
                        .iter()
                        .map(|l| Located {
                            sentence: next.next().expect("one per sentence").clone(),
                            offsets: l.offsets.clone(),
                        })
                        .collect();
                    with_mentions(d, &located)
                })
                .collect();
            pubtator::write_path(&args.out, &out)?;
        }
        (Format::Pubtator, Contents::Sentences(_)) => {
            let docs: Vec<pubtator::Document> =
                documents_of_sentences(&tagged).iter().map(|(d, l)| with_mentions(d, l)).collect();
            pubtator::write_path(&args.out, &docs)?;
        }
        (f, _) => formats::write_sentences(&args.out, &tagged, f)?,
    }
    if let Some(p) = &args.scores {
        let labels = tagger.labels();
        let mut text = String::new();
        for (s, e) in sentences.iter().zip(&emissions) {
            let rows: Vec<f32> = Vec::try_from(e.contiguous().view([-1]))?;
            let rows: Vec<&[f32]> = rows.chunks(labels.len()).collect();
            text.push_str(&serde_json::json!({"tokens": s.tokens, "labels": labels, "log_probs": rows}).to_string());
            text.push('\n');
        }
        crate::input::write_text(p, &text)?;
    }
    let mentions: usize = tagged.iter().map(|s| s.mentions().map_or(0, |m| m.len())).sum();
    eprintln!(
        "tagged {} sentences ({words} words, {mentions} mentions) with the {} in {:.1}s; wrote {}",
        sentences.len(),
        if dann.is_some() { "DANN" } else { "tagger" },
        t.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

//! `hilgen ensemble`: combine several systems' predictions.

use crate::eval_cmd::{options, read_nonempty, EvalMode};
use crate::input::{self, ConllArgs, Format};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hilgen_corpus::{Scheme, Sentence};
use hilgen_metrics::ensemble::{self, Method};
use std::path::PathBuf;

/// Arguments of `hilgen ensemble`.
#[derive(Args)]
pub struct EnsembleArgs {
    /// How to combine: span vote, intersection, union, majority, token vote, or best (chosen on dev).
    #[arg(long, value_enum)]
    pub method: EnsembleMethod,
    /// Prediction files to combine (same sentences and tokens), in order; give at least two.
    #[arg(long = "pred", required = true)]
    pub preds: Vec<PathBuf>,
    /// Weights of the systems, comma-separated (default: dev F1 when --dev-gold is given, else equal).
    #[arg(long, value_delimiter = ',')]
    pub weights: Option<Vec<f64>>,
    /// Gold development file, for dev-F1 weights and for --method best.
    #[arg(long)]
    pub dev_gold: Option<PathBuf>,
    /// Each system's development predictions, in the same order as --pred.
    #[arg(long = "dev-pred")]
    pub dev_preds: Vec<PathBuf>,
    /// Vote: keep spans whose weight exceeds this share of the total.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Intersection: minimum number of agreeing systems (default: all).
    #[arg(long)]
    pub k: Option<usize>,
    /// Tagging scheme of the output.
    #[arg(long, default_value = "iob2")]
    pub scheme: String,
    /// Output file (written atomically; never one of the inputs; an existing file only with
    /// --overwrite; a link is written through).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Input format of all files (`--format` is the report's).
    #[arg(long, default_value = "auto", ignore_case = true, value_parser = crate::input::format_parser())]
    pub input_format: Format,
    #[command(flatten)]
    pub conll: ConllArgs,
}

/// Ensemble methods on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EnsembleMethod {
    /// Weighted span vote.
    Vote,
    /// Spans predicted by at least k systems.
    Intersection,
    /// All spans.
    Union,
    /// Spans predicted by more than half of the systems.
    Majority,
    /// Per-token weighted vote with scheme repair.
    TokenVote,
    /// Try singles and every subset with vote/intersection/union/majority on dev; apply the best.
    Best,
}

/// Runs `hilgen ensemble`.
pub fn run(args: EnsembleArgs) -> Result<()> {
    anyhow::ensure!(args.preds.len() >= 2, "give at least two --pred files");
    // Numbers checked where they enter, with their range.
    anyhow::ensure!(
        args.threshold.is_finite() && (0.0..1.0).contains(&args.threshold),
        "--threshold {} must be in [0, 1): spans are kept when their weight exceeds this share of the total",
        args.threshold
    );
    if let Some(w) = &args.weights {
        anyhow::ensure!(
            w.len() == args.preds.len(),
            "give one weight per --pred ({} weights, {} files)",
            w.len(),
            args.preds.len()
        );
        anyhow::ensure!(
            w.iter().all(|x| x.is_finite() && *x >= 0.0) && w.iter().sum::<f64>() > 0.0,
            "--weights {w:?} must be finite, not negative, and not all zero"
        );
    }
    if let Some(k) = args.k {
        anyhow::ensure!(
            (1..=args.preds.len()).contains(&k),
            "--k {k} must be between 1 and the number of --pred files ({})",
            args.preds.len()
        );
    }
    let mut inputs: Vec<&std::path::Path> = args.preds.iter().map(PathBuf::as_path).collect();
    inputs.extend(args.dev_preds.iter().map(PathBuf::as_path));
    inputs.extend(args.dev_gold.as_deref());
    let out = crate::output::check(&[("--out", &args.out)], &inputs, args.overwrite)?.remove(0);
    let scheme: Scheme = args.scheme.parse()?;
    let read_all = |paths: &[PathBuf]| -> Result<Vec<Vec<Sentence>>> {
        paths.iter().map(|p| read_nonempty(p, args.input_format, &args.conll)).collect()
    };
    let systems = read_all(&args.preds)?;
    let refs: Vec<&[Sentence]> = systems.iter().map(Vec::as_slice).collect();
    let dev = match &args.dev_gold {
        Some(g) => {
            anyhow::ensure!(
                args.dev_preds.len() == args.preds.len(),
                "give one --dev-pred per --pred ({} versus {})",
                args.dev_preds.len(),
                args.preds.len()
            );
            Some((read_nonempty(g, args.input_format, &args.conll)?, read_all(&args.dev_preds)?))
        }
        None => None,
    };
    let opts = options(EvalMode::Default, None, "0")?;
    let combined = if args.method == EnsembleMethod::Best {
        let (gold, dev_systems) = dev.as_ref().context("--method best needs --dev-gold and --dev-pred files")?;
        let dev_refs: Vec<&[Sentence]> = dev_systems.iter().map(Vec::as_slice).collect();
        let sel = ensemble::select_best(gold, &dev_refs, &ensemble::default_candidates(refs.len()), opts, scheme)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "chosen": sel.chosen().name, "dev_f1": sel.chosen().dev_f1, "weights": sel.weights,
                "tried": sel.tried.iter().map(|t| serde_json::json!({"name": t.name, "dev_f1": t.dev_f1})).collect::<Vec<_>>(),
            }))?
        );
        ensemble::apply(&sel.chosen().candidate, &refs, &sel.weights, scheme)?
    } else {
        let method = match args.method {
            EnsembleMethod::Vote => Method::Vote { threshold: args.threshold },
            EnsembleMethod::Intersection => Method::Intersection { k: args.k },
            EnsembleMethod::Union => Method::Union,
            EnsembleMethod::Majority => Method::Majority,
            EnsembleMethod::TokenVote => Method::TokenVote,
            EnsembleMethod::Best => unreachable!(),
        };
        let weights = match (&args.weights, &dev) {
            (Some(w), _) => w.clone(),
            (None, Some((gold, dev_systems))) => {
                let dev_refs: Vec<&[Sentence]> = dev_systems.iter().map(Vec::as_slice).collect();
                ensemble::dev_f1_weights(gold, &dev_refs, opts)?
            }
            (None, None) => vec![1.0; refs.len()],
        };
        tracing::info!("{method} with weights {weights:?}");
        ensemble::combine(&refs, &method, &weights, scheme)?
    };
    input::write(&out, &combined, Format::Auto)?;
    tracing::info!("wrote {} sentences to {}", combined.len(), out.display());
    Ok(())
}

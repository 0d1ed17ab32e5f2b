//! `hilgen ensemble`: combine several systems' predictions.

use crate::eval_cmd::{options, read_nonempty, EvalMode};
use crate::input::{self, ConllArgs, Format};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hilgen_corpus::{Scheme, Sentence};
use hilgen_metrics::ensemble::{self, Method};
use hilgen_pipeline::files::FileRef;
use hilgen_pipeline::flow::{Predictions, System};
use hilgen_pipeline::stages::ensemble::{choose, Guard};
use std::path::PathBuf;

/// Arguments of `hilgen ensemble`.
#[derive(Args)]
pub struct EnsembleArgs {
    /// How to combine: span vote, intersection, union, majority, token vote, back-off (plain or
    /// longer), or best (chosen on dev).
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
    /// With --method best: the union of the --guard-default systems stays unless dev's best
    /// beats it with a p-value at most this in --guard-test over the dev sentences (as
    /// `[selection] guard_p` guards the pipeline's ensemble; 0.05 is the usual).
    #[arg(long, value_name = "P")]
    pub guard_p: Option<f64>,
    /// With --guard-p: the default members, as 1-based positions among the --pred files,
    /// comma-separated (the pipeline's: the dictionary and the last strategy's tagger).
    #[arg(long, value_delimiter = ',', requires = "guard_p", value_name = "I,J")]
    pub guard_default: Vec<usize>,
    /// The test of --guard-p: the paired bootstrap of dev's best against the default union, or
    /// a permutation test that counts every combination tried.
    #[arg(long, requires = "guard_p", default_value = "paired-bootstrap", value_parser = crate::input::guard_test_parser())]
    pub guard_test: hilgen_metrics::GuardTest,
    /// The seed of --guard-test.
    #[arg(long, requires = "guard_p", default_value_t = 1)]
    pub guard_seed: u64,
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
    /// Back-off in --pred order: every span of the first file, then each later file's spans
    /// that overlap none kept (weights ignored).
    Backoff,
    /// The back-off, and a later file's span that strictly contains every kept span it
    /// overlaps, all of its type, replaces them.
    BackoffLonger,
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
    if let Some(p) = args.guard_p {
        anyhow::ensure!(args.method == EnsembleMethod::Best, "--guard-p guards a choice: give it with --method best");
        anyhow::ensure!(p > 0.0 && p <= 1.0, "--guard-p {p}: expected a p-value in (0, 1], such as 0.05");
        anyhow::ensure!(!args.guard_default.is_empty(), "--guard-p needs --guard-default I,J (the default members)");
        if let Some(i) = args.guard_default.iter().find(|&&i| i == 0 || i > args.preds.len()) {
            anyhow::bail!(
                "--guard-default {i}: expected a position among the {} --pred files, from 1",
                args.preds.len()
            );
        }
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
    let combined = if let (Some(p), Some((gold, dev_systems))) = (args.guard_p, &dev) {
        // The pipeline's guarded choice (its scoring: IOB2, zero division 0).
        let name = |i: usize| format!("{i}:{}", args.preds[i].display());
        let candidates: Vec<System> = (0..refs.len())
            .map(|i| {
                let f = FileRef { file: args.preds[i].clone(), sha256: String::new() };
                System { name: name(i), predictions: Predictions { dev: f.clone(), test: f } }
            })
            .collect();
        let guard = Guard {
            p,
            default: args.guard_default.iter().map(|&i| name(i - 1)).collect(),
            seed: args.guard_seed,
            test: args.guard_test,
        };
        let dev_refs: Vec<&[Sentence]> = dev_systems.iter().map(Vec::as_slice).collect();
        let choice = choose(gold, &dev_refs, &candidates, false, Some(&guard), &Method::Union)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "chosen": choice.describe(), "dev_f1": choice.dev_f1, "note": choice.note(),
                "overruled": choice.overruled.as_ref().map(|(n, f1, p)| serde_json::json!({"best": n, "dev_f1": f1, "p_value": p})),
            }))?
        );
        choice.apply(&refs)?
    } else if args.method == EnsembleMethod::Best {
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
            EnsembleMethod::Backoff => Method::Backoff,
            EnsembleMethod::BackoffLonger => Method::BackoffLonger,
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

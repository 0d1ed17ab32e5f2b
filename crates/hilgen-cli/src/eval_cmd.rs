//! `hilgen eval`: seqeval-compatible scoring of a prediction file against a gold file.

use crate::input::{self, ConllArgs, Format};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hilgen_corpus::{conll, Scheme, Sentence};
use hilgen_metrics::{bootstrap, check_token_seqs, evaluate, report, Mode, Options, ZeroDivision};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// Arguments of `hilgen eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Gold file (CoNLL/TSV, JSON Lines or PubTator).
    #[arg(long)]
    pub gold: PathBuf,
    /// Prediction file with the same sentences and tokens (with --subset: some of them, in any
    /// order).
    #[arg(long)]
    pub pred: PathBuf,
    /// The predictions label a sample of the gold file's sentences, in any order (silver labels
    /// of a pool drawn from a labelled split, a subset tagged apart): each prediction sentence
    /// is scored against the gold sentence with the same tokens (the first, if several);
    /// --compare then holds the sentences of --pred, in its order.
    #[arg(long)]
    pub subset: bool,
    /// seqeval mode: default (conlleval-compatible) or strict (needs --scheme).
    #[arg(long, value_enum, default_value = "default")]
    pub mode: EvalMode,
    /// Scheme for strict mode: iob1, iob2, ioe1, ioe2, iobes, bilou.
    #[arg(long)]
    pub scheme: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Decimal digits in the text report.
    #[arg(long, default_value_t = 4)]
    pub digits: usize,
    /// Value of a ratio with zero denominator: warn (0, logged), 0 or 1.
    #[arg(long, default_value = "warn")]
    pub zero_division: String,
    /// Also compute a bootstrap confidence interval of micro F1 with this many replicates.
    #[arg(long)]
    pub bootstrap: Option<usize>,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A second prediction file: paired bootstrap test of "--pred is better than --compare"
    /// (replicates from --bootstrap, default 1000).
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// Input format of both files (`--format` is the report's).
    #[arg(long, default_value = "auto", ignore_case = true, value_parser = crate::input::format_parser())]
    pub input_format: Format,
    #[command(flatten)]
    pub conll: ConllArgs,
    /// Refuse CoNLL tags that are not `O`, `PREFIX-TYPE` or a bare prefix with --default-type.
    /// Without it they are scored as seqeval 1.2.2 reads any tag string (its first character
    /// the prefix, the text after the first `-` the type), with a warning.
    #[arg(long)]
    pub strict_tags: bool,
}

/// seqeval's modes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EvalMode {
    /// conlleval-compatible lenient chunking.
    Default,
    /// Strict chunking in a scheme.
    Strict,
}

/// Report formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReportFormat {
    /// seqeval's classification report.
    Text,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

/// Reads a file that must hold at least one sentence.
pub fn read_nonempty(path: &Path, format: Format, conll: &ConllArgs) -> Result<Vec<Sentence>> {
    let s = input::read(path, format, conll)?;
    anyhow::ensure!(!s.is_empty(), "{}: the file holds no sentences", path.display());
    Ok(s)
}

/// Options from the mode, scheme and zero-division flags.
pub fn options(mode: EvalMode, scheme: Option<&str>, zero_division: &str) -> Result<Options> {
    let mode = match (mode, scheme) {
        (EvalMode::Default, _) => Mode::Default,
        (EvalMode::Strict, Some(s)) => Mode::Strict(s.parse::<Scheme>()?),
        (EvalMode::Strict, None) => {
            anyhow::bail!("--mode strict needs --scheme (iob1, iob2, ioe1, ioe2, iobes, bilou)")
        }
    };
    Ok(Options { mode, zero_division: zero_division.parse::<ZeroDivision>()? })
}

/// One input file: CoNLL text (read with the zero-copy reader, the common and the large case)
/// or sentences read by the owned readers (JSON Lines, PubTator).
enum Input {
    Conll(String),
    Owned(Vec<Sentence>),
}

fn load(path: &Path, format: Format, conll: &ConllArgs) -> Result<Input> {
    if input::resolve(path, format) != Format::Conll {
        return Ok(Input::Owned(read_nonempty(path, format, conll)?));
    }
    Ok(Input::Conll(hilgen_corpus::read_text(path)?))
}

/// Token and tag sequences of one input, borrowed from it.
type Views<'a> = (Vec<&'a [&'a str]>, Vec<&'a [Cow<'a, str>]>);

fn parse<'a>(input: &'a Input, path: &Path, fmt: &conll::ConllFormat) -> Result<conll::BorrowedCorpus<'a>> {
    let corpus = match input {
        Input::Conll(text) => conll::read_borrowed(text, path, fmt)?,
        Input::Owned(owned) => {
            let mut c = conll::BorrowedCorpus::default();
            for s in owned {
                c.tokens.extend(s.tokens.iter().map(String::as_str));
                c.tags.extend(s.tags.iter().map(|t| Cow::Borrowed(t.as_str())));
                c.ends.push(c.tokens.len());
                c.docs.push(None);
                c.lines.extend(std::iter::repeat_n(0, s.len()));
            }
            c
        }
    };
    anyhow::ensure!(!corpus.is_empty(), "{}: the file holds no sentences", path.display());
    Ok(corpus)
}

fn views<'a>(c: &'a conll::BorrowedCorpus<'a>) -> Views<'a> {
    ((0..c.len()).map(|i| c.sentence_tokens(i)).collect(), (0..c.len()).map(|i| c.sentence_tags(i)).collect())
}

/// A strict-mode tag error with the file (gold or prediction) and line it comes from.
fn locate(
    e: hilgen_metrics::MetricsError,
    args: &EvalArgs,
    gold: &conll::BorrowedCorpus<'_>,
    pred: &conll::BorrowedCorpus<'_>,
    g_tags: &[&[Cow<'_, str>]],
    gold_index: Option<&[usize]>,
    opts: Options,
) -> anyhow::Error {
    let hilgen_metrics::MetricsError::StrictTag { sentence, token, ref tag, ref scheme, ref message } = e else {
        return e.into();
    };
    // Gold alone passes or fails on its own: that says which file holds the tag.
    let in_gold = evaluate(g_tags, g_tags, opts).is_err();
    let (path, c) = if in_gold { (&args.gold, gold) } else { (&args.pred, pred) };
    // With --subset the gold sentences scored are a selection: back to the gold file's order.
    let sentence = match gold_index {
        Some(index) if in_gold => index[sentence],
        _ => sentence,
    };
    let place = match c.line_of(sentence, token) {
        Some(line) => format!("{}:{line}", path.display()),
        None => format!("{}: sentence {}, token {}", path.display(), sentence + 1, token + 1),
    };
    anyhow::anyhow!("{place}: invalid tag `{tag}` for --mode strict --scheme {scheme}: {message}")
}

/// For each prediction sentence, the index of the first gold sentence with the same tokens;
/// an error names the prediction sentence (file and line) that the gold file lacks.
fn subset_index(
    g_tokens: &[&[&str]],
    p_tokens: &[&[&str]],
    pred_path: &Path,
    pred: &conll::BorrowedCorpus<'_>,
) -> Result<Vec<usize>> {
    let mut first: std::collections::HashMap<&[&str], usize> = std::collections::HashMap::with_capacity(g_tokens.len());
    for (i, t) in g_tokens.iter().enumerate() {
        first.entry(*t).or_insert(i);
    }
    p_tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            first.get(t).copied().ok_or_else(|| {
                let place = match pred.line_of(i, 0) {
                    Some(line) => format!("{}:{line}", pred_path.display()),
                    None => format!("{}: sentence {}", pred_path.display(), i + 1),
                };
                let start: Vec<&str> = t.iter().take(8).copied().collect();
                anyhow::anyhow!(
                    "{place}: --subset: no gold sentence has these tokens (\"{}{}\")",
                    start.join(" "),
                    if t.len() > 8 { " ..." } else { "" }
                )
            })
        })
        .collect()
}

/// Runs `hilgen eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    anyhow::ensure!(args.digits <= 12, "--digits {} must be at most 12", args.digits);
    if let Some(b) = args.bootstrap {
        anyhow::ensure!((1..=1_000_000).contains(&b), "--bootstrap {b} must be between 1 and 1000000 replicates");
    }
    let opts = options(args.mode, args.scheme.as_deref(), &args.zero_division)?;
    let fmt = conll::ConllFormat { any_tags: !args.strict_tags, ..args.conll.format()? };
    // The two files are independent: read and parse them on two threads.
    let (gold, pred) = std::thread::scope(|s| {
        let gold = s.spawn(|| load(&args.gold, args.input_format, &args.conll));
        let pred = load(&args.pred, args.input_format, &args.conll);
        (gold.join().expect("reader thread"), pred)
    });
    let (gold, pred) = (gold?, pred?);
    let (gold, pred) = std::thread::scope(|s| {
        let g = s.spawn(|| parse(&gold, &args.gold, &fmt));
        let p = parse(&pred, &args.pred, &fmt);
        (g.join().expect("parser thread"), p)
    });
    let (gold, pred) = (gold?, pred?);
    for (c, path) in [(&gold, &args.gold), (&pred, &args.pred)] {
        if c.nonstandard_tags > 0 {
            tracing::warn!(
                "{}: {} tags are not O or PREFIX-TYPE; scored as seqeval 1.2.2 reads them (first character the prefix, the text after the first `-` the type); --strict-tags refuses them",
                path.display(),
                c.nonstandard_tags
            );
        }
    }
    let ((mut g_tokens, mut g_tags), (p_tokens, p_tags)) = (views(&gold), views(&pred));
    let gold_index = if args.subset { Some(subset_index(&g_tokens, &p_tokens, &args.pred, &pred)?) } else { None };
    if let Some(index) = &gold_index {
        g_tokens = index.iter().map(|&i| g_tokens[i]).collect();
        g_tags = index.iter().map(|&i| g_tags[i]).collect();
    }
    check_token_seqs(&g_tokens, &p_tokens)
        .with_context(|| format!("{} (gold) and {} (prediction) differ", args.gold.display(), args.pred.display()))?;
    let eval = evaluate(&g_tags, &p_tags, opts)
        .map_err(|e| locate(e, &args, &gold, &pred, &g_tags, gold_index.as_deref(), opts))?;
    match args.format {
        ReportFormat::Text => println!("{}", report::text(&eval, args.digits)?),
        ReportFormat::Json => println!("{}", report::json(&eval)),
        ReportFormat::Csv => print!("{}", report::csv(&eval)),
    }
    if let Some(other) = &args.compare {
        let input = load(other, args.input_format, &args.conll)?;
        let parsed = parse(&input, other, &fmt)?;
        let (o_tokens, o_tags) = views(&parsed);
        check_token_seqs(&g_tokens, &o_tokens)
            .with_context(|| format!("{} (gold) and {} (comparison) differ", args.gold.display(), other.display()))?;
        let cfg =
            bootstrap::Config { replicates: args.bootstrap.unwrap_or(1000), seed: args.seed, ..Default::default() };
        let t = bootstrap::paired_test(&g_tags, &p_tags, &o_tags, opts, &cfg)?;
        println!(
            "paired bootstrap ({} replicates, seed {}): F1 {:.4} vs {:.4}, difference {:.4} [{:.4}, {:.4}], p = {:.4} (one-sided, {} better than {})",
            cfg.replicates,
            args.seed,
            t.f1_a,
            t.f1_b,
            t.delta.estimate,
            t.delta.lower,
            t.delta.upper,
            t.p_value,
            args.pred.display(),
            other.display()
        );
    }
    if let Some(replicates) = args.bootstrap {
        let cfg = bootstrap::Config { replicates, seed: args.seed, ..Default::default() };
        let ci = bootstrap::f1_interval(&g_tags, &p_tags, opts, &cfg)?;
        println!(
            "micro F1 {:.4}, {:.0}% bootstrap interval [{:.4}, {:.4}] ({replicates} replicates, seed {})",
            ci.estimate,
            100.0 * ci.confidence,
            ci.lower,
            ci.upper,
            args.seed
        );
    }
    Ok(())
}

//! The `hilgen` command line as a library: [`main_with`] parses arguments and runs a command
//! with a given strategy registry, so that a program (or a test) with strategies of its own
//! gets every command with them.
//!
//! ```no_run
//! let registry = hilgen_augment::Registry::builtin();
//! let code = hilgen_cli::main_with(["hilgen", "augment", "--list"], &registry);
//! ```

mod augment_cmd;
mod corpus_cmd;
mod dictionary_cmd;
mod ensemble_cmd;
mod eval_cmd;
mod fewshot_cmd;
mod input;
mod kb_cmd;
mod llm_cmd;
mod output;
mod report_cmd;
mod run_cmd;
mod slurm_cmd;
mod tag_cmd;
mod train_cmd;

use clap::{Parser, Subcommand};
use hilgen_augment::Registry;
use std::ffi::OsString;

/// Few-shot biomedical NER with knowledge- and LLM-based data generation (HILGEN).
#[derive(Parser)]
#[command(name = "hilgen", version, about, long_about = None)]
struct Cli {
    /// Log level filter (error, warn, info, debug, trace); RUST_LOG overrides it.
    #[arg(long, global = true, default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run (or resume) an experiment: sample, augment, train, predict, evaluate, ensemble, report.
    Run(run_cmd::RunArgs),
    /// Generate synthetic sentences from few-shot ones with one strategy (`--list` shows them).
    Augment(augment_cmd::AugmentArgs),
    /// Train a tagger (and DANN) and save it as a Hugging Face model folder.
    Train(train_cmd::TrainArgs),
    /// Tag raw text, CoNLL/TSV, JSON Lines or PubTator with a kept system or a trained model.
    Tag(tag_cmd::TagArgs),
    /// Your own data in one command: a kept system from a few labelled sentences, unlabelled
    /// text and a knowledge source (no experiment file, no labelled test split).
    Fewshot(fewshot_cmd::FewshotArgs),
    /// Tag with the knowledge graph as a dictionary (types learned from shots, filters chosen on dev).
    Dictionary(dictionary_cmd::DictionaryArgs),
    /// Corpus files: statistics, conversion, few-shot sampling, PubTator alignment.
    #[command(subcommand)]
    Corpus(corpus_cmd::CorpusCommand),
    /// Knowledge index: build from UMLS RRF / CTD / MeSH / OBO, link mentions, expand concepts.
    #[command(subcommand)]
    Kb(kb_cmd::KbCommand),
    /// Score predictions against gold with seqeval-compatible entity-level metrics.
    Eval(eval_cmd::EvalArgs),
    /// Combine several systems' predictions (voting, intersection, union, majority, best on dev).
    Ensemble(ensemble_cmd::EnsembleArgs),
    /// The LLM as a zero-shot tagger, Batch API files, prompt templates.
    #[command(subcommand)]
    Llm(llm_cmd::LlmCommand),
    /// Reports: merge the results of one experiment's seeds run apart; compare experiments.
    #[command(subcommand)]
    Report(report_cmd::ReportCommand),
    /// An experiment on a Slurm cluster: submit workers as a job array, follow the stages.
    #[command(subcommand)]
    Slurm(slurm_cmd::SlurmCommand),
}

/// `hilgen run EXPERIMENT` followed by this process's own arguments (`--seeds`, `--out`, ...),
/// with the shipped strategies: what the per-dataset examples are.
pub fn run_example(experiment: &str) -> std::process::ExitCode {
    let args =
        ["hilgen".into(), "run".into(), OsString::from(experiment)].into_iter().chain(std::env::args_os().skip(1));
    main_with(args, &Registry::builtin())
}

/// Parses `args` (the program name first) and runs the command with the strategies of
/// `registry`; errors are printed to stderr. Exit status 0 on success, 1 on an error, 2 on a
/// usage error.
pub fn main_with<I, T>(args: I, registry: &Registry) -> std::process::ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // A reader that closes the pipe early (`hilgen kb stats | head -3`) ends the process
    // quietly, as it does other Unix tools, instead of a panic at the next print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
    // A CUDA build of libtorch registers its GPU kernels only once its CUDA library is loaded,
    // and libtorch settles whether CUDA exists at the first query: load it before any model work.
    if matches!(
        cli.command,
        Command::Run(_) | Command::Train(_) | Command::Tag(_) | Command::Fewshot(_) | Command::Slurm(_)
    ) {
        hilgen_models::load_cuda_backend();
    }
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(args, registry, &cli.log),
        Command::Augment(args) => augment_cmd::run(args, registry),
        Command::Train(args) => train_cmd::run(args),
        Command::Tag(args) => tag_cmd::run(args),
        Command::Fewshot(args) => fewshot_cmd::run(args, registry),
        Command::Dictionary(args) => dictionary_cmd::run(args),
        Command::Corpus(cmd) => corpus_cmd::run(cmd),
        Command::Kb(cmd) => kb_cmd::run(cmd),
        Command::Eval(args) => eval_cmd::run(args),
        Command::Ensemble(args) => ensemble_cmd::run(args),
        Command::Llm(cmd) => llm_cmd::run(cmd, registry),
        Command::Report(cmd) => report_cmd::run(cmd),
        Command::Slurm(cmd) => slurm_cmd::run(cmd, registry),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

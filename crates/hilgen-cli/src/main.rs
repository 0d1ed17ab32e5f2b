//! `hilgen`: the command-line tool of the HILGEN workspace.

mod corpus_cmd;
mod ensemble_cmd;
mod eval_cmd;
mod input;
mod kb_cmd;
mod llm_cmd;

use clap::{Parser, Subcommand};

// Corpora are millions of small strings; mimalloc allocates and frees them faster than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Generate or tag with an OpenAI-compatible LLM (cached; Batch API files).
    #[command(subcommand)]
    Llm(llm_cmd::LlmCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
    let result = match cli.command {
        Command::Corpus(cmd) => corpus_cmd::run(cmd),
        Command::Kb(cmd) => kb_cmd::run(cmd),
        Command::Eval(args) => eval_cmd::run(args),
        Command::Ensemble(args) => ensemble_cmd::run(args),
        Command::Llm(cmd) => llm_cmd::run(cmd),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

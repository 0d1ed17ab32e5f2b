//! `hilgen llm`: the LLM as a zero-shot tagger, Batch API files for LLM strategies, and the
//! prompt templates. (Generation itself is `hilgen augment --strategy llm-related ...`.)

use crate::augment_cmd::AugmentArgs;
use crate::input::{self, Format, InputArgs};
use anyhow::Result;
use clap::{Args, Subcommand};
use hilgen_augment::Registry;
use hilgen_corpus::Sentence;
use hilgen_llm::config::LlmSettings;
use hilgen_llm::generate::Generator;
use hilgen_llm::parse::Labels;
use hilgen_llm::LlmClient;
use std::path::PathBuf;

/// `hilgen llm` subcommands.
#[derive(Subcommand)]
pub enum LlmCommand {
    /// Tag sentences with the LLM as a zero-shot tagger.
    Tag(Box<TagArgs>),
    /// OpenAI Batch API files: export the requests not yet cached, import results into the cache.
    #[command(subcommand)]
    Batch(BatchCommand),
    /// Write the shipped prompt templates into a folder, to edit and use as `prompts_dir`.
    Prompts {
        /// Folder to write into (existing files are kept).
        #[arg(long)]
        out: PathBuf,
    },
}

/// `hilgen llm batch` subcommands.
#[derive(Subcommand)]
pub enum BatchCommand {
    /// Run an LLM strategy without sending anything and write the requests it still needs.
    Export(Box<ExportArgs>),
    /// Store a Batch API (or vLLM run_batch) results file in the response cache.
    Import(ImportArgs),
}

/// Client options shared by the subcommands.
#[derive(Args, Clone, Debug)]
pub struct ClientArgs {
    /// LLM configuration file (TOML); HILGEN_LLM_* variables override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Answer from the response cache only; a miss is an error.
    #[arg(long)]
    pub offline: bool,
    /// Write the accounting (requests, tokens, rejections, cost) as JSON here.
    #[arg(long)]
    pub summary: Option<PathBuf>,
}

impl ClientArgs {
    fn settings(&self) -> Result<LlmSettings> {
        let mut s = LlmSettings::load(self.config.as_deref())?;
        s.client.offline |= self.offline;
        Ok(s)
    }
}

/// `hilgen llm tag` options.
#[derive(Args, Clone, Debug)]
pub struct TagArgs {
    /// Sentences to tag (their tags give the entity types unless --types is given).
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Entity types, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// Predictions (IOB2, written atomically).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace --out and --summary if they exist (never one of the inputs; a link is written
    /// through).
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `hilgen llm batch export` options.
#[derive(Args, Clone, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub augment: AugmentArgs,
    /// Batch API input file to write (an existing one is replaced only with --overwrite).
    #[arg(long)]
    pub requests: PathBuf,
}

/// `hilgen llm batch import` options.
#[derive(Args, Clone, Debug)]
pub struct ImportArgs {
    /// Results file (one JSON object per line with `custom_id` and `response`).
    #[arg(long)]
    pub results: PathBuf,
    /// The requests file it answers (checks keys and stores the requests with the answers).
    #[arg(long)]
    pub requests: Option<PathBuf>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Runs a `hilgen llm` subcommand.
pub fn run(cmd: LlmCommand, registry: &Registry) -> Result<()> {
    match cmd {
        LlmCommand::Tag(args) => tag(*args),
        LlmCommand::Batch(BatchCommand::Export(mut args)) => {
            args.requests =
                crate::output::check_one("--requests", &args.requests, &args.augment.inputs(), args.augment.overwrite)?;
            let (result, client) = match crate::augment_cmd::generate(&args.augment, registry, true) {
                Ok((out, client)) => (Ok(out), client),
                Err(e) => (Err(e), None),
            };
            let client = match client {
                Some(c) => c,
                None => {
                    result?;
                    anyhow::bail!("--strategy uses no LLM: there is nothing to export")
                }
            };
            let requests = client.take_collected();
            hilgen_llm::batch::export(&requests, &args.requests)?;
            let failed = result.as_ref().map_or(0, |o| o.rejected.get("request-failed").copied().unwrap_or(0));
            if requests.is_empty() && failed == 0 {
                eprintln!("everything is cached: 0 requests to send (the generation ran from the cache)");
            } else {
                eprintln!(
                    "wrote {} requests to {}; send them through the Batch API, import the results with `hilgen llm batch import`, and export again until nothing is left",
                    requests.len(),
                    args.requests.display()
                );
            }
            Ok(())
        }
        LlmCommand::Batch(BatchCommand::Import(args)) => {
            let cfg = args.client.settings()?.client;
            let cache = hilgen_llm::cache::ResponseCache::new(&cfg.cache_dir);
            let r = hilgen_llm::batch::import(&args.results, args.requests.as_deref(), &cache)?;
            eprintln!(
                "imported {} responses into {} ({} failed, {} not in the requests file)",
                r.imported,
                cache.dir().display(),
                r.failed,
                r.unknown
            );
            Ok(())
        }
        LlmCommand::Prompts { out } => {
            let written = hilgen_llm::prompts::Prompts::write_defaults(&out)?;
            eprintln!("wrote {} templates to {}", written.len(), out.display());
            Ok(())
        }
    }
}

/// The runtime the LLM client's requests run on.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
}

fn labels_of(sentences: &[Sentence], types: &[String]) -> Result<Labels> {
    if !types.is_empty() {
        return Ok(Labels::new(types.iter().cloned()));
    }
    let labels = Labels::of_sentences(sentences);
    anyhow::ensure!(!labels.types().is_empty(), "the input has no entity tags: give the types with --types");
    Ok(labels)
}

fn tag(mut args: TagArgs) -> Result<()> {
    let outs = [("--out", Some(args.out.as_path())), ("--summary", args.client.summary.as_deref())];
    let resolved = crate::output::check_optional(&outs, &[&args.input], args.overwrite)?;
    if let [Some(out), summary] = &resolved[..] {
        (args.out, args.client.summary) = (out.clone(), summary.clone());
    }
    let settings = args.client.settings()?;
    let client = LlmClient::new(settings.client)?;
    let sentences = args.input_args.read(&args.input)?;
    let labels = labels_of(&sentences, &args.types)?;
    let generator = Generator::with_options(&client, labels, &settings.generation)?;
    let rt = runtime()?;
    let (pred, outcome) = rt.block_on(generator.tag(&sentences))?;
    input::write(&args.out, &pred, Format::Conll)?;
    eprintln!(
        "tagged {} sentences ({} rejected: {:?}); wrote {}",
        pred.len(),
        outcome.rejected.values().sum::<u64>(),
        outcome.rejected,
        args.out.display()
    );
    crate::output::llm_summary(&client, args.client.summary.as_deref())
}

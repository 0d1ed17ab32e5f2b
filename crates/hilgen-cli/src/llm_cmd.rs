//! `hilgen llm`: generation with an OpenAI-compatible LLM, the LLM as a zero-shot tagger, and
//! Batch API files.

use crate::input::{self, ConllArgs, Format};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use hilgen_augment::{provenance_jsonl, LlmAugmenter, LlmStrategy};
use hilgen_corpus::Sentence;
use hilgen_kb::Kb;
use hilgen_llm::generate::{Generator, Variant};
use hilgen_llm::parse::Labels;
use hilgen_llm::{LlmClient, LlmConfig};
use std::path::{Path, PathBuf};

/// `hilgen llm` subcommands.
#[derive(Subcommand)]
pub enum LlmCommand {
    /// Generate labelled sentences from few-shot sentences (or from nothing, for ZeroGen).
    Generate(GenerateArgs),
    /// Tag sentences with the LLM as a zero-shot tagger (one tag per token).
    Tag(TagArgs),
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
    /// Run a generation without sending anything and write the requests it still needs.
    Export(ExportArgs),
    /// Store a Batch API (or vLLM run_batch) results file in the response cache.
    Import(ImportArgs),
}

/// The LLM strategies of `hilgen llm generate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// HILGEN: related concepts of the same semantic type.
    Related,
    /// HILGEN: parents and children in the hierarchy.
    ParentsChildren,
    /// HILGEN: siblings in the hierarchy.
    Siblings,
    /// Grounded: the knowledge graph's names used verbatim, labels by matching.
    Grounded,
    /// ZeroGen: class-conditioned generation without examples.
    Zerogen,
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
    fn config(&self) -> Result<LlmConfig> {
        let mut cfg = LlmConfig::load(self.config.as_deref())?;
        cfg.offline |= self.offline;
        Ok(cfg)
    }
}

/// `hilgen llm generate` options.
#[derive(Args, Clone, Debug)]
pub struct GenerateArgs {
    /// Few-shot sentences (IOB2; not read for zerogen unless given, then for the entity types).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Format of --input.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    #[command(flatten)]
    pub conll: ConllArgs,
    /// The strategy.
    #[arg(long, value_enum)]
    pub strategy: StrategyArg,
    /// Knowledge index folder (from `hilgen kb build`) for the concept hints.
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// For grounded: which knowledge layer gives the names to use.
    #[arg(long, value_enum, default_value_t = LayerArg::Related)]
    pub layer: LayerArg,
    /// Sentences per few-shot sentence (per entity type for zerogen).
    #[arg(long, default_value_t = 10)]
    pub n: usize,
    /// Entity types (needed for zerogen without --input), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// Output IOB file (written atomically).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Provenance JSONL (default: OUT with `.provenance.jsonl`).
    #[arg(long)]
    pub provenance: Option<PathBuf>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Knowledge layers for grounded generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LayerArg {
    /// Other names of the same concept.
    Synonyms,
    /// Related concepts of the same semantic type.
    Related,
    /// Parents and children.
    ParentsChildren,
    /// Siblings.
    Siblings,
}

/// `hilgen llm tag` options.
#[derive(Args, Clone, Debug)]
pub struct TagArgs {
    /// Sentences to tag (their tags give the entity types unless --types is given).
    #[arg(long)]
    pub input: PathBuf,
    /// Format of --input.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    #[command(flatten)]
    pub conll: ConllArgs,
    /// Entity types, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// Predictions (IOB2, written atomically).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `hilgen llm batch export` options.
#[derive(Args, Clone, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub generate: GenerateArgs,
    /// Batch API input file to write.
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
pub fn run(cmd: LlmCommand) -> Result<()> {
    match cmd {
        LlmCommand::Generate(args) => {
            let client = LlmClient::new(args.client.config()?)?;
            generate(&args, &client)?;
            finish(&client, &args.client)
        }
        LlmCommand::Tag(args) => tag(&args),
        LlmCommand::Batch(BatchCommand::Export(args)) => {
            let client = LlmClient::collecting(args.generate.client.config()?)?;
            let result = generate(&args.generate, &client);
            let requests = client.take_collected();
            hilgen_llm::batch::export(&requests, &args.requests)?;
            match result {
                Ok(()) => eprintln!("everything is cached: {} requests to send (the generation ran from the cache)", requests.len()),
                Err(_) => eprintln!(
                    "wrote {} requests to {}; send them through the Batch API, import the results with `hilgen llm batch import`, and export again until nothing is left",
                    requests.len(),
                    args.requests.display()
                ),
            }
            Ok(())
        }
        LlmCommand::Batch(BatchCommand::Import(args)) => {
            let cfg = args.client.config()?;
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

fn read(path: &Path, format: Format, conll: &ConllArgs) -> Result<Vec<Sentence>> {
    input::read(path, format, conll).with_context(|| format!("reading {}", path.display()))
}

fn labels_of(sentences: &[Sentence], types: &[String]) -> Result<Labels> {
    if !types.is_empty() {
        return Ok(Labels::new(types.iter().cloned()));
    }
    let labels = Labels::of_sentences(sentences);
    anyhow::ensure!(!labels.types().is_empty(), "the input has no entity tags: give the types with --types");
    Ok(labels)
}

fn generate(args: &GenerateArgs, client: &LlmClient) -> Result<()> {
    let shots = match &args.input {
        Some(p) => read(p, args.format, &args.conll)?,
        None if args.strategy == StrategyArg::Zerogen => Vec::new(),
        None => anyhow::bail!("--input is required for --strategy {:?}", args.strategy),
    };
    let labels = labels_of(&shots, &args.types)?;
    let kb = match &args.kb {
        Some(dir) => Some(Kb::open(dir).with_context(|| format!("opening the knowledge index {}", dir.display()))?),
        None => None,
    };
    let layer = match args.layer {
        LayerArg::Synonyms => hilgen_augment::Layer::Synonyms,
        LayerArg::Related => hilgen_augment::Layer::Related,
        LayerArg::ParentsChildren => hilgen_augment::Layer::ParentsChildren,
        LayerArg::Siblings => hilgen_augment::Layer::Siblings,
    };
    let strategy = match args.strategy {
        StrategyArg::Related => LlmStrategy::Hilgen(Variant::Related),
        StrategyArg::ParentsChildren => LlmStrategy::Hilgen(Variant::ParentsChildren),
        StrategyArg::Siblings => LlmStrategy::Hilgen(Variant::Siblings),
        StrategyArg::Grounded => {
            anyhow::ensure!(
                kb.is_some(),
                "--strategy grounded needs --kb (the names it must use come from the knowledge graph)"
            );
            LlmStrategy::Grounded(layer)
        }
        StrategyArg::Zerogen => LlmStrategy::ZeroGen,
    };
    let aug = LlmAugmenter::new(client, kb.as_ref(), labels, strategy, args.n);
    let rt = runtime()?;
    let (synthetic, outcome) = rt.block_on(aug.run(&shots))?;
    let failed = outcome.rejected.get("request-failed").copied().unwrap_or(0);
    eprintln!(
        "{}: requested {} sentences, produced {}, rejected {:?}",
        strategy.name(),
        outcome.requested,
        synthetic.len(),
        outcome.rejected
    );
    if failed > 0 && client.config().offline {
        anyhow::bail!(
            "offline mode: {failed} of {} sentences were not generated because their requests are not in the cache {} (run online, or export/import a batch)",
            outcome.requested,
            client.cache().dir().display()
        );
    }
    if let Some(out) = &args.out {
        let sentences: Vec<Sentence> = synthetic.iter().map(|s| s.sentence.clone()).collect();
        input::write(out, &sentences, Format::Conll)?;
        let prov = args.provenance.clone().unwrap_or_else(|| out.with_extension("provenance.jsonl"));
        let text = provenance_jsonl(&synthetic);
        hilgen_corpus::write_atomic(&prov, |w| {
            w.write_all(text.as_bytes()).map_err(|e| hilgen_corpus::CorpusError::io(&prov, e))
        })?;
        eprintln!("wrote {} and {}", out.display(), prov.display());
    }
    anyhow::ensure!(
        failed == 0 || !synthetic.is_empty(),
        "every request failed ({failed} sentences not generated); see the log for the first error"
    );
    Ok(())
}

fn tag(args: &TagArgs) -> Result<()> {
    let client = LlmClient::new(args.client.config()?)?;
    let sentences = read(&args.input, args.format, &args.conll)?;
    let labels = labels_of(&sentences, &args.types)?;
    let generator = Generator::new(&client, labels)?;
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
    finish(&client, &args.client)
}

fn finish(client: &LlmClient, args: &ClientArgs) -> Result<()> {
    let summary = client.summary();
    eprintln!("{summary}");
    if let Some(p) = &args.summary {
        let text = serde_json::to_string_pretty(&summary)?;
        hilgen_corpus::write_atomic(p, |w| {
            w.write_all(text.as_bytes()).map_err(|e| hilgen_corpus::CorpusError::io(p, e))
        })?;
    }
    Ok(())
}

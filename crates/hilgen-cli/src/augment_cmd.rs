//! `hilgen augment`: one registered strategy over a file of few-shot sentences.

use crate::input::{self, Format, InputArgs};
use anyhow::{Context, Result};
use clap::Args;
use hilgen_augment::{Input, LlmContext, Output, Registry, StrategySpec};
use hilgen_corpus::Sentence;
use hilgen_kb::Kb;
use hilgen_llm::config::LlmSettings;
use hilgen_llm::prompts::{templates_for, Prompts};
use hilgen_llm::LlmClient;
use std::path::PathBuf;

/// `hilgen augment` options.
#[derive(Args, Clone, Debug)]
pub struct AugmentArgs {
    /// The strategy: a kind (`related`), with parameters (`lwtr:p=0.3,n=5`), or an inline TOML
    /// table (`{kind = "lwtr", p = 0.3}`). `--list` shows the kinds.
    #[arg(long, required_unless_present = "list")]
    pub strategy: Option<StrategySpec>,
    /// List the registered strategies with their parameters and exit.
    #[arg(long)]
    pub list: bool,
    /// Few-shot sentences (not needed for zerogen with --types).
    #[arg(long)]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Synthetic sentences (format from the name: .jsonl JSON Lines, .pubtator PubTator, else
    /// CoNLL; written atomically).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Provenance JSON Lines (default: OUT with `.provenance.jsonl`).
    #[arg(long)]
    pub provenance: Option<PathBuf>,
    /// Knowledge index (from `hilgen kb build`), for strategies that read the graph.
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Unlabelled in-domain text, for strategies that read a pool (any input format).
    #[arg(long)]
    pub pool: Option<PathBuf>,
    /// A labelled dev file, for strategies that read the dictionary system: its filters are
    /// chosen on it (the defaults without one).
    #[arg(long)]
    pub dev: Option<PathBuf>,
    /// Seed of the strategy's randomness.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The count to match, for strategies that match another strategy's output count.
    #[arg(long)]
    pub count: Option<usize>,
    /// Entity types, comma-separated (default: those of the input).
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// LLM configuration file (TOML); HILGEN_LLM_* variables override it.
    #[arg(long)]
    pub llm_config: Option<PathBuf>,
    /// Answer LLM requests from the response cache only; a miss is an error.
    #[arg(long)]
    pub offline: bool,
    /// Write the LLM accounting (requests, tokens, rejections, cost) as JSON here.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// Replace outputs that exist (--out, its provenance, --summary; `llm batch export`'s
    /// --requests), never one of the inputs; a link is written through.
    #[arg(long)]
    pub overwrite: bool,
}

impl AugmentArgs {
    /// The files this command reads (those given).
    pub fn inputs(&self) -> Vec<&std::path::Path> {
        [&self.input, &self.pool, &self.dev].into_iter().filter_map(|p| p.as_deref()).collect()
    }

    /// Applies the output rule (`crate::output`) to --out, the provenance file and --summary
    /// before any work, and fills in the provenance's default name.
    fn check_outputs(&mut self) -> Result<()> {
        if self.provenance.is_none() {
            self.provenance = self.out.as_ref().map(|p| p.with_extension("provenance.jsonl"));
        }
        let outs = [
            ("--out", self.out.as_deref()),
            ("--provenance", self.provenance.as_deref()),
            ("--summary", self.summary.as_deref()),
        ];
        let resolved = crate::output::check_optional(&outs, &self.inputs(), self.overwrite)?;
        if let [out, provenance, summary] = &resolved[..] {
            (self.out, self.provenance, self.summary) = (out.clone(), provenance.clone(), summary.clone());
        }
        Ok(())
    }
}

/// Runs `hilgen augment`.
pub fn run(mut args: AugmentArgs, registry: &Registry) -> Result<()> {
    if args.list {
        list(registry);
        return Ok(());
    }
    args.check_outputs()?;
    let (out, client) = generate(&args, registry, false)?;
    if let Some(client) = &client {
        crate::output::llm_summary(client, args.summary.as_deref())?;
        let failed = out.rejected.get("request-failed").copied().unwrap_or(0);
        if failed > 0 && client.config().offline {
            anyhow::bail!(
                "offline mode: {failed} of {} sentences were not generated because their requests are not in the cache {} (run online, or export/import a batch)",
                out.requested,
                client.cache().dir().display()
            );
        }
        anyhow::ensure!(
            failed == 0 || !out.synthetic.is_empty(),
            "every request failed ({failed} sentences not generated); see the log for the first error"
        );
    }
    write(&args, &out)
}

fn list(registry: &Registry) {
    for r in registry.entries() {
        let params = (r.build)(r.kind, &Default::default()).map(|s| s.params().to_string()).unwrap_or_default();
        println!("{:<28} {}\n{:<28} defaults {params}", r.kind, r.about, "");
    }
}

/// Runs the strategy; with `collecting`, the LLM client sends nothing and records the requests
/// it misses (for a Batch API export).
pub fn generate(args: &AugmentArgs, registry: &Registry, collecting: bool) -> Result<(Output, Option<LlmClient>)> {
    let spec = args.strategy.as_ref().context("--strategy is required")?;
    let strategy = registry.build(spec)?;
    let needs = strategy.needs();
    let kind = strategy.kind().to_string();
    let shots: Vec<Sentence> = match &args.input {
        Some(p) => args.input_args.read(p)?,
        None if !args.types.is_empty() && needs.llm.is_some() => Vec::new(),
        None => anyhow::bail!("--input is required for --strategy {kind} (zerogen alone can run from --types)"),
    };
    // What the strategy uses is loaded; whether it has all it needs, `Needs::fit` says.
    let kb = match &args.kb {
        Some(dir) if needs.kb.uses() => {
            Some(Kb::open(dir).with_context(|| format!("opening the knowledge index {}", dir.display()))?)
        }
        _ => None,
    };
    let pool = match &args.pool {
        Some(p) if needs.pool.uses() => Some(input::read(p, Format::Auto, &args.input_args.conll)?),
        _ => None,
    };
    let dictionary = match (&kb, needs.dictionary.uses()) {
        (Some(kb), true) => {
            let types = hilgen_dictionary::TypeMap::learn(kb, &shots);
            Some(match &args.dev {
                Some(dev) => {
                    let dev = input::read(dev, Format::Auto, &args.input_args.conll)?;
                    let (d, s) = hilgen_dictionary::select(kb, &types, &dev, &hilgen_dictionary::Grid::default())?;
                    eprintln!("dictionary chosen on dev: F1 {:.4}", s.dev_f1);
                    d
                }
                None => hilgen_dictionary::Dictionary::build(kb, &types, Default::default())?,
            })
        }
        _ => None,
    };
    let types = (!args.types.is_empty()).then_some(args.types.as_slice());
    let mut input = Input {
        kb: kb.as_ref(),
        pool: pool.as_deref(),
        count_to_match: args.count,
        types,
        dictionary: dictionary.as_ref(),
        ..Input::new(&shots, args.seed)
    };
    let Some(task) = needs.llm else {
        return Ok((strategy.augment(&needs.fit(&kind, input)?)?, None));
    };
    let mut settings = LlmSettings::load(args.llm_config.as_deref())?;
    settings.client.offline |= args.offline;
    let client = if collecting { LlmClient::collecting(settings.client)? } else { LlmClient::new(settings.client)? };
    let prompts = Prompts::load(settings.generation.prompts_dir.as_deref())?;
    let context = LlmContext {
        client: &client,
        annotation: settings.generation.annotation,
        prompts: prompts.texts_of(&templates_for(task.task(), settings.generation.annotation)),
    };
    input.llm = Some(&context);
    let out = strategy.augment(&needs.fit(&kind, input)?)?;
    eprintln!(
        "{kind}: requested {} sentences, produced {}, rejected {:?}",
        out.requested,
        out.synthetic.len(),
        out.rejected
    );
    Ok((out, Some(client)))
}

/// Writes --out and its provenance (named by `check_outputs` whenever --out is given).
fn write(args: &AugmentArgs, out: &Output) -> Result<()> {
    let (Some(path), Some(prov)) = (&args.out, &args.provenance) else {
        eprintln!("{} synthetic sentences (no --out given: nothing written)", out.synthetic.len());
        return Ok(());
    };
    let sentences: Vec<Sentence> = out.synthetic.iter().map(|s| s.sentence.clone()).collect();
    input::write(path, &sentences, Format::Auto)?;
    let text = hilgen_augment::provenance_jsonl(&out.synthetic);
    input::write_text(prov, &text)?;
    eprintln!("wrote {} sentences to {} and {}", sentences.len(), path.display(), prov.display());
    Ok(())
}

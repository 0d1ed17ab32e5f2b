//! An experiment resolved once into a plan: environment applied, the LLM configuration loaded
//! once, paths made absolute, input files hashed, the tagger / DANN / knowledge configurations
//! built and checked, strategies instantiated from the registry, and the stage graph laid out.
//! Stages read nothing but the slice of the plan they are given, which is also what they hash.

use crate::error::{PipelineError, Result};
use crate::experiment::{Experiment, Schedule};
use crate::files::{sha256_hex, FileRef, HashCache};
use crate::graph::{Config, Unit};
use hilgen_augment::{Need, Needs, Registry, Strategy, StrategySpec};
use hilgen_corpus::formats::{self, Format};
use hilgen_corpus::{dataset, fetch::Fetcher, jsonl, Sentence};
use hilgen_kb::RrfOptions;
use hilgen_llm::config::{GenerationOptions, LlmSettings};
use hilgen_llm::prompts::{templates_for, Prompts, Task};
use hilgen_llm::LlmConfig;
use hilgen_models::{DannConfig, Tagger, TaggerConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One split as the stages see it: a JSON Lines file in the run directory (`data/NAME.jsonl`)
/// with its content hash, and the hash of its tokens alone (what predictions depend on).
#[derive(Debug, Clone, Serialize)]
pub struct Split {
    /// The file and the sha256 of its content (tokens, tags, concept IDs).
    pub labelled: FileRef,
    /// The same file and the sha256 of its tokens only.
    pub tokens: FileRef,
    /// Sentences.
    pub sentences: usize,
    #[serde(skip)]
    text: String,
}

impl Split {
    fn new(name: &str, sentences: &[Sentence]) -> Result<Split> {
        let mut buf = Vec::new();
        jsonl::write(&mut buf, sentences)?;
        let text = String::from_utf8(buf).expect("JSON is UTF-8");
        let file = PathBuf::from(format!("data/{name}.jsonl"));
        Ok(Split {
            labelled: FileRef { file: file.clone(), sha256: sha256_hex(text.as_bytes()) },
            tokens: FileRef { file, sha256: tokens_sha256(sentences) },
            sentences: sentences.len(),
            text,
        })
    }

    /// Writes the file under `root` unless it is there with this content.
    fn write(&self, root: &Path) -> Result<()> {
        let path = self.labelled.path(root);
        if crate::files::file_sha256(&path).ok().as_deref() == Some(self.labelled.sha256.as_str()) {
            return Ok(());
        }
        std::fs::create_dir_all(path.parent().expect("under data/")).map_err(|e| PipelineError::io(&path, e))?;
        crate::files::write_file(&path, self.text.as_bytes())
    }
}

/// sha256 of sentences' tokens (a change of tags leaves it alone).
/// sha256 of sentences' tokens and document ids (a change of tags leaves it alone).
pub fn tokens_sha256(sentences: &[Sentence]) -> String {
    let mut s = String::new();
    for x in sentences {
        s.push_str(x.doc_id.as_deref().unwrap_or(""));
        s.push('\u{3}');
        s.push_str(&x.tokens.join("\u{1}"));
        s.push('\u{2}');
    }
    sha256_hex(s.as_bytes())
}

/// The data: three splits and, when a strategy reads one, the unlabelled pool.
#[derive(Debug, Clone, Serialize)]
pub struct DataPlan {
    /// Where it came from.
    pub source: String,
    /// Training pool (the shots are sampled from it).
    pub train: Split,
    /// Development split.
    pub dev: Split,
    /// Test split.
    pub test: Split,
    /// Unlabelled in-domain sentences (tags all `O`).
    pub pool: Option<Split>,
    /// The share of dev sentences without entities.
    pub dev_mention_free: f64,
    /// With `[selection] dev = "k-shot"`: each sample's dev sample (by the sample's folder,
    /// `seed-S` or `kK/seed-S`), drawn from the dev split; with `dev = "none"`, its shots.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dev_samples: BTreeMap<String, DevSample>,
}

/// A sample's own dev sentences (`[selection] dev = "k-shot"`, or its shots with `"none"`).
#[derive(Debug, Clone, Serialize)]
pub struct DevSample {
    /// The sentences.
    pub split: Split,
    /// Their share without entities.
    pub mention_free: f64,
}

/// The knowledge graph: an index to use as is, or sources to build one from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum KbPlan {
    /// A built index file.
    Index {
        /// The `kb.hkb` file.
        index: FileRef,
    },
    /// Sources for the `kb` stage.
    Build(KbSources),
}

/// What the `kb` stage builds from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbSources {
    /// CTD files.
    pub ctd: Vec<FileRef>,
    /// MeSH tree files.
    pub mesh_tree: Vec<FileRef>,
    /// MeSH XML files.
    pub mesh_xml: Vec<FileRef>,
    /// OBO files.
    pub obo: Vec<FileRef>,
    /// A META folder (its hash covers every `.RRF` file in it) and the filters.
    pub rrf: Option<(FileRef, RrfOptions)>,
}

/// The encoder and training configuration.
#[derive(Debug, Clone, Serialize)]
pub struct ModelPlan {
    /// The encoder folder (hash of its config, weights and tokenizer files; for a random tiny
    /// encoder, of its tokenizer only).
    pub encoder: FileRef,
    /// A tiny random BERT with the encoder's tokenizer.
    pub random_tiny: bool,
    /// Where taggers train and predict (checked against what libtorch finds).
    pub device: hilgen_models::DeviceChoice,
    /// Checked tagger hyper-parameters (the schedule sets epochs and batch size per set).
    pub tagger: TaggerConfig,
    /// The epoch rule.
    pub schedule: Schedule,
    /// DANN settings.
    pub dann: DannConfig,
}

/// What an LLM stage's results depend on (its hash input): the request-shaping settings, the
/// annotation format and the texts of the templates it renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmInput {
    /// `LlmConfig::request_fingerprint`.
    pub request: Value,
    /// How the model annotates.
    pub annotation: hilgen_llm::config::Annotation,
    /// Template texts by file name.
    pub templates: BTreeMap<String, String>,
}

/// The LLM, configured once.
#[derive(Debug, Serialize)]
pub struct LlmPlan {
    /// The configuration file.
    pub file: Option<PathBuf>,
    /// The client configuration with the environment applied and the cache path made absolute.
    pub client: LlmConfig,
    /// The generation options.
    pub generation: GenerationOptions,
    #[serde(skip)]
    prompts: Prompts,
}

impl LlmPlan {
    /// The slice of the plan an LLM stage running `task` gets.
    pub fn input(&self, task: Task) -> LlmInput {
        let names = templates_for(task, self.generation.annotation);
        LlmInput {
            request: self.client.request_fingerprint(),
            annotation: self.generation.annotation,
            templates: self.prompts.texts_of(&names),
        }
    }
}

/// A strategy of the experiment, instantiated.
pub struct PlannedStrategy {
    /// Its spec.
    pub spec: StrategySpec,
    /// The strategy.
    pub strategy: Box<dyn Strategy>,
    /// What it needs.
    pub needs: Needs,
    /// The strategy whose output count it matches, when that one runs here.
    pub count_from: Option<usize>,
    /// For a strategy of several rounds (self-training): which one (1-based).
    pub round: Option<usize>,
}

impl PlannedStrategy {
    /// The spec its augmentation stage hashes: the kind and every parameter, defaults filled
    /// in (the strategy's own [`Strategy::params`]; a bare value as `value`).
    pub fn hashed_spec(&self) -> StrategySpec {
        hashed_spec(self.strategy.as_ref())
    }
}

/// A strategy's kind and every parameter, defaults filled in (its own [`Strategy::params`]; a
/// bare value as `value`): what its augmentation stage hashes.
pub(crate) fn hashed_spec(strategy: &dyn Strategy) -> StrategySpec {
    let params = match strategy.params() {
        Value::Object(m) => m,
        other => [("value".to_string(), other)].into_iter().collect(),
    };
    StrategySpec { kind: strategy.kind().to_string(), name: None, params }
}

impl std::fmt::Debug for PlannedStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedStrategy").field("spec", &self.spec).finish_non_exhaustive()
    }
}

impl Serialize for PlannedStrategy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        serde_json::json!({"name": self.spec.id(), "kind": self.strategy.kind(), "params": self.strategy.params(),
            "needs": self.needs, "count_from": self.count_from, "round": self.round})
        .serialize(s)
    }
}

/// A resolved experiment.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// Experiment name.
    pub name: String,
    /// The run directory (absolute).
    pub dir: PathBuf,
    /// Dataset name (or "custom files").
    pub dataset: String,
    /// Shots per type (the first of `ks`).
    pub k: usize,
    /// Every K (several for a learning curve).
    pub ks: Vec<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// The tagger's labels (`O` first), from the training split.
    pub labels: Vec<String>,
    /// The data.
    pub data: DataPlan,
    /// The knowledge graph.
    pub kb: Option<KbPlan>,
    /// The models.
    pub model: ModelPlan,
    /// The LLM.
    pub llm: Option<LlmPlan>,
    /// The strategies, in experiment order.
    pub strategies: Vec<PlannedStrategy>,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// Systems entering the ensemble search.
    pub ensemble_systems: usize,
    /// Whether the LLM also tags dev and test.
    pub zero_shot_tagger: bool,
    /// The dictionary's dev search, when a stage needs the dictionary.
    pub dictionary: Option<hilgen_dictionary::Grid>,
    /// Whether the dictionary is reported as a system.
    pub dictionary_system: bool,
    /// `[dictionary] heldout_agreement`: the agreement below which a held-out name is dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heldout_agreement: Option<f64>,
    /// `[dictionary] heldout_labels`: the labels whose names it judges (empty: every label).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heldout_labels: Vec<String>,
    /// Which labelled data the choices are made on.
    #[serde(skip_serializing_if = "crate::experiment::SelectionSpec::is_split")]
    pub selection: crate::experiment::SelectionSpec,
}

/// How [`Plan::protocol`] begins under `[selection] dev = "none"`.
pub const NO_DEV_LABELS: &str = "no dev labels";

/// Whether a protocol in words (a report's) used no labelled data beyond the shots, so its
/// dev figures are scores on the shots.
pub fn without_dev_labels(protocol: &str) -> bool {
    protocol.starts_with(NO_DEV_LABELS)
}

impl Plan {
    /// sha256 of everything this plan computes with except the seeds (and what is drawn per
    /// seed: the samples' dev samples): the data, knowledge, models, LLM, strategies and report
    /// settings, by content (file locations and the run folder left out). Runs of one
    /// experiment on other seeds, machines or folders share it.
    pub fn settings_hash(&self) -> String {
        fn strip(v: &mut Value) {
            match v {
                Value::Object(m) => {
                    m.remove("file");
                    m.values_mut().for_each(strip);
                }
                Value::Array(a) => a.iter_mut().for_each(strip),
                _ => {}
            }
        }
        let mut v = serde_json::to_value(self).expect("plans serialize");
        if let Some(m) = v.as_object_mut() {
            // Plans once held their stage list last (`nodes`, now `crate::exec::graph`); the
            // removals below reorder the keys around it (`Map::remove` swaps the last key in),
            // so a stand-in keeps the hash of every earlier report, which `report merge` compares.
            m.insert("nodes".into(), Value::Null);
            for key in ["seeds", "dir", "nodes"] {
                m.remove(key);
            }
            // Each sample's own dev sample (k-shot or none) is drawn from the dev split by its
            // seed, as its shots are: runs of other seeds share everything else. Absent from
            // plans without one, so their hashes stay.
            if let Some(data) = m.get_mut("data").and_then(Value::as_object_mut) {
                data.remove("dev_samples");
            }
        }
        strip(&mut v);
        sha256_hex(v.to_string().as_bytes())
    }

    /// Resolves `exp` with the strategies of `registry`; the run directory is `out` or
    /// `runs/NAME`. Reads the data and hashes the inputs; writes nothing.
    pub fn resolve(exp: &Experiment, registry: &Registry, out: Option<&Path>) -> Result<Plan> {
        exp.check().map_err(PipelineError::Invalid)?;
        let dir = match out {
            Some(o) => o.to_path_buf(),
            None => PathBuf::from("runs").join(&exp.name),
        };
        let dir = std::path::absolute(&dir).map_err(|e| PipelineError::io(&dir, e))?;
        let mut hashes = HashCache::at(dir.join(".hashes.json"));

        // Strategies first: what they need decides what else to resolve.
        let mut strategies = Vec::new();
        for spec in &exp.strategies {
            let strategy = registry.build(spec)?;
            let needs = strategy.needs();
            let rounds = strategy.rounds();
            if rounds <= 1 {
                strategies.push(PlannedStrategy { spec: spec.clone(), strategy, needs, count_from: None, round: None });
                continue;
            }
            // One planned strategy per round, `NAME-rK`.
            for k in 1..=rounds {
                let mut spec_k = spec.clone();
                spec_k.name = Some(format!("{}-r{k}", spec.id()));
                let strategy = registry.build(spec)?;
                strategies.push(PlannedStrategy {
                    spec: spec_k,
                    strategy,
                    needs: needs.clone(),
                    count_from: None,
                    round: Some(k),
                });
            }
        }
        for i in 0..strategies.len() {
            if let Some(kind) = strategies[i].needs.count_of.clone() {
                strategies[i].count_from = strategies.iter().position(|s| s.strategy.kind() == kind);
            }
        }
        let kb = resolve_kb(exp, &mut hashes)?;
        let needs_llm = strategies.iter().any(|s| s.needs.llm.is_some()) || exp.llm.zero_shot_tagger;
        for s in &strategies {
            let id = s.spec.id();
            if s.needs.kb == Need::Required && kb.is_none() {
                return Err(PipelineError::Invalid(format!(
                    "strategy `{id}` needs knowledge sources: add a [kb] table"
                )));
            }
            if s.needs.llm.is_some() && exp.llm.config.is_none() {
                return Err(PipelineError::Invalid(format!(
                    "strategy `{id}` needs an LLM: set [llm] config = \"llm.toml\""
                )));
            }
        }
        if exp.llm.zero_shot_tagger && exp.llm.config.is_none() {
            return Err(PipelineError::Invalid("llm.zero_shot_tagger needs [llm] config = \"llm.toml\"".into()));
        }
        let llm = if needs_llm { Some(resolve_llm(exp)?) } else { None };

        let needs_dictionary = strategies.iter().any(|s| s.needs.dictionary.uses());
        let dictionary_system = exp.dictionary.system.unwrap_or(kb.is_some());
        if (dictionary_system || needs_dictionary) && kb.is_none() {
            return Err(PipelineError::Invalid(
                "the dictionary system (dictionary.system, or a strategy such as `distant`) needs a [kb] table".into(),
            ));
        }
        if exp.selection.default_ensemble == crate::experiment::DefaultEnsemble::Backoff && !dictionary_system {
            return Err(PipelineError::Invalid(
                "[selection] default_ensemble = \"backoff\" backs the dictionary off to a tagger: it needs a [kb] table \
                 and the dictionary as a system"
                    .into(),
            ));
        }
        exp.dictionary.grid.check()?;
        let dictionary = (dictionary_system || needs_dictionary).then(|| exp.dictionary.grid.clone());
        let heldout_agreement = exp.dictionary.heldout_agreement;
        if let Some(t) = heldout_agreement {
            if !(t > 0.0 && t <= 1.0) {
                return Err(PipelineError::Invalid(format!(
                    "[dictionary] heldout_agreement is a probability in (0, 1]; got {t}"
                )));
            }
            if dictionary.is_none() {
                return Err(PipelineError::Invalid(
                    "[dictionary] heldout_agreement vets the dictionary's names: it needs a [kb] table".into(),
                ));
            }
        }
        if heldout_agreement.is_none() && !exp.dictionary.heldout_labels.is_empty() {
            return Err(PipelineError::Invalid(
                "[dictionary] heldout_labels names the labels heldout_agreement judges: set heldout_agreement".into(),
            ));
        }
        let needs_pool = heldout_agreement.is_some() || strategies.iter().any(|s| s.needs.pool.uses());
        let (mut data, labels, dev) = resolve_data(exp, needs_pool)?;
        let types: Vec<&str> = labels.iter().filter_map(|l| l.strip_prefix("B-")).collect();
        if let Some(l) = exp.dictionary.heldout_labels.iter().find(|l| !types.contains(&l.as_str())) {
            return Err(PipelineError::Invalid(format!(
                "[dictionary] heldout_labels: `{l}` is not an entity type of the data ({})",
                types.join(", ")
            )));
        }
        use crate::experiment::DevProtocol;
        if exp.selection.dev == DevProtocol::None {
            if let Some(s) = strategies.iter().find(|s| s.needs.teacher) {
                return Err(PipelineError::Invalid(format!(
                    "strategy `{}` chooses its teacher and threshold on labelled dev data: not possible with \
                     [selection] dev = \"none\"",
                    s.spec.id()
                )));
            }
        }
        if exp.selection.dev != DevProtocol::Split {
            let train = (exp.selection.dev == DevProtocol::None)
                // What the sample stage reads: the training split's file.
                .then(|| jsonl::read_str(&data.train.text, "data/train.jsonl"))
                .transpose()?;
            for &k in &exp.k.values() {
                for &seed in &exp.seeds {
                    let unit = Unit { k, seed, curve: exp.k.values().len() > 1 };
                    let sentences = match &train {
                        // The shots themselves: the sample stage's draw.
                        Some(train) => hilgen_corpus::sample::sample_per_type(train, k, seed)?.sentences(train),
                        None => {
                            let kk = exp.selection.k.unwrap_or(k);
                            hilgen_corpus::sample::sample_per_type(&dev, kk, seed + exp.selection.seed_offset)?
                                .sentences(&dev)
                        }
                    };
                    let mention_free = sentences.iter().filter(|s| s.tags.iter().all(|t| t == "O")).count() as f64
                        / sentences.len().max(1) as f64;
                    let prefix = if train.is_some() { "shots" } else { "dev" };
                    let name = format!("{prefix}-{}", unit.to_string().replace('/', "-"));
                    data.dev_samples
                        .insert(unit.to_string(), DevSample { split: Split::new(&name, &sentences)?, mention_free });
                }
            }
        }
        let model = resolve_model(exp, &mut hashes)?;
        let plan = Plan {
            name: exp.name.clone(),
            dir,
            dataset: exp.dataset.clone().unwrap_or_else(|| "custom files".into()),
            k: exp.k.values()[0],
            ks: exp.k.values(),
            seeds: exp.seeds.clone(),
            labels,
            data,
            kb,
            model,
            llm,
            strategies,
            bootstrap: exp.bootstrap,
            ensemble_systems: exp.ensemble_systems,
            zero_shot_tagger: exp.llm.zero_shot_tagger,
            dictionary,
            dictionary_system,
            heldout_agreement,
            heldout_labels: exp.dictionary.heldout_labels.clone(),
            selection: exp.selection,
        };
        plan.check_fixed_teachers()?;
        if plan.dir.exists() {
            hashes.save()?;
        }
        Ok(plan)
    }

    /// A teacher a strategy fixes is a system of one of its [`Plan::teacher_candidates`].
    fn check_fixed_teachers(&self) -> Result<()> {
        for (i, s) in self.strategies.iter().enumerate() {
            let Some(t) = s.strategy.teacher() else { continue };
            let config = t.split_once('/').map_or("", |(_, c)| c);
            if !self.teacher_candidates(i).into_iter().any(|c| self.config_name(c) == config) {
                return Err(PipelineError::Invalid(format!(
                    "strategy `{}`: teacher `{t}` names no configuration trained before it \
                     (`original` or an earlier strategy's name)",
                    s.spec.id()
                )));
            }
        }
        Ok(())
    }

    /// Writes the data files into the run directory (those already there unchanged are kept).
    pub fn write_data(&self) -> Result<()> {
        let samples = self.data.dev_samples.values().map(|d| &d.split);
        for s in [&self.data.train, &self.data.dev, &self.data.test].into_iter().chain(&self.data.pool).chain(samples) {
            s.write(&self.dir)?;
        }
        Ok(())
    }

    /// The labelled dev sentences the choices of `unit` are made on: its own K-per-type sample
    /// under `[selection] dev = "k-shot"`, its shots under `dev = "none"`, else the dev split.
    pub fn dev(&self, unit: Unit) -> &Split {
        self.data.dev_samples.get(&unit.to_string()).map_or(&self.data.dev, |d| &d.split)
    }

    /// The share of `unit`'s dev sentences without entities.
    pub fn dev_mention_free(&self, unit: Unit) -> f64 {
        self.data.dev_samples.get(&unit.to_string()).map_or(self.data.dev_mention_free, |d| d.mention_free)
    }

    /// The selection protocol in words, with the number of labelled dev sentences (of the
    /// first sample, for k-shot: each sample has its own, of about the same size).
    pub fn protocol(&self) -> String {
        let guard = self
            .selection
            .dictionary_guard_p
            .map(|p| {
                format!("; dictionary options kept at the grid's defaults unless dev's choice is better with p <= {p}")
            })
            .unwrap_or_default();
        let evidence = match self.dictionary.as_ref().is_some_and(|g| g.adjective_evidence) {
            true => "; adjectives of names fixed by what the shots and dev mark where that decides",
            false => "",
        };
        let test = match self.selection.guard_test {
            hilgen_metrics::GuardTest::MaxPermutation
                if self.selection.guard_p.is_some() || self.selection.dictionary_guard_p.is_some() =>
            {
                "; guards test the dev-best against every candidate tried (max-statistic permutation)"
            }
            _ => "",
        };
        let fallback = match (self.selection.guard_p, self.backoff()) {
            (Some(_), Some(_)) => format!("; the ensemble falls back on {}", self.default_ensemble_words()),
            _ => String::new(),
        };
        let heldout = self
            .heldout_agreement
            .map(|t| {
                format!(
                    "; {} names labelled only through a tree letter dropped where a tagger trained without their \
                     silver labels gives them a mean probability below {t}",
                    match self.heldout_labels.is_empty() {
                        true => "the".to_string(),
                        false => self.heldout_labels.join(" and "),
                    }
                )
            })
            .unwrap_or_default();
        let guard = format!("{guard}{evidence}{heldout}{test}{fallback}");
        let protocol = match self.data.dev_samples.values().next() {
            Some(d) if self.selection.dev == crate::experiment::DevProtocol::None => format!(
                "{}: dictionary filters chosen on the shots ({} sentences for the first sample), \
                 ensemble fixed ({})",
                NO_DEV_LABELS,
                d.split.sentences,
                self.default_ensemble_words()
            ),
            Some(d) => format!(
                "k-shot dev: {} per entity type sampled from the dev split per seed (seed + {}; {} sentences for the first)",
                match (self.selection.k, self.ks.len()) {
                    (Some(k), _) => k.to_string(),
                    (None, 1) => self.k.to_string(),
                    (None, _) => "K".to_string(),
                },
                self.selection.seed_offset,
                d.split.sentences
            ),
            None => format!("dev split: {} sentences", self.data.dev.sentences),
        };
        protocol + &guard
    }

    /// The names of the training configurations: `original`, then each strategy's.
    pub fn configs(&self) -> Vec<String> {
        std::iter::once("original".to_string()).chain(self.strategies.iter().map(|s| s.spec.id().to_string())).collect()
    }

    /// The entity types of the dataset.
    pub fn types(&self) -> Vec<String> {
        let types: std::collections::BTreeSet<String> =
            self.labels.iter().filter_map(|l| l.split_once('-').map(|x| x.1.to_string())).collect();
        types.into_iter().collect()
    }
}

fn resolve_kb(exp: &Experiment, hashes: &mut HashCache) -> Result<Option<KbPlan>> {
    let spec = &exp.kb;
    if spec.is_empty() {
        return Ok(None);
    }
    if let Some(index) = &spec.index {
        let mut p = exp.resolve_path(index, true);
        if p.is_dir() {
            p = p.join(hilgen_kb::INDEX_FILE);
        }
        return Ok(Some(KbPlan::Index { index: hashes.file_ref(&p)? }));
    }
    let mut refs = |paths: &[PathBuf]| -> Result<Vec<FileRef>> {
        paths.iter().map(|p| hashes.file_ref(&exp.resolve_path(p, true))).collect()
    };
    let (ctd, mesh_tree, mesh_xml, obo) =
        (refs(&spec.ctd)?, refs(&spec.mesh_tree)?, refs(&spec.mesh_xml)?, refs(&spec.obo)?);
    let rrf = match &spec.rrf {
        Some(d) => {
            let options = RrfOptions {
                languages: spec.lang.clone(),
                include_suppressed: spec.include_suppressed,
                allow_sources: spec.sab_allow.clone(),
                deny_sources: spec.sab_deny.clone(),
            };
            Some(rrf_ref(&exp.resolve_path(d, true), options, hashes)?)
        }
        None => None,
    };
    Ok(Some(KbPlan::Build(KbSources { ctd, mesh_tree, mesh_xml, obo, rrf })))
}

/// A UMLS META folder as a build input: its hash covers every `.RRF` file in it.
pub(crate) fn rrf_ref(dir: &Path, options: RrfOptions, hashes: &mut HashCache) -> Result<(FileRef, RrfOptions)> {
    let dir = crate::files::absolute(dir)?;
    let mut listing = String::new();
    let rd = std::fs::read_dir(&dir).map_err(|e| PipelineError::io(&dir, e))?;
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("rrf")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(PipelineError::Invalid(format!("kb.rrf {}: no .RRF files there", dir.display())));
    }
    for f in files {
        listing.push_str(&format!("{}\0{}\n", f.file_name().unwrap_or_default().to_string_lossy(), hashes.sha256(&f)?));
    }
    Ok((FileRef { file: dir, sha256: sha256_hex(listing.as_bytes()) }, options))
}

fn resolve_llm(exp: &Experiment) -> Result<LlmPlan> {
    let file =
        exp.llm.config.as_ref().map(|p| std::path::absolute(exp.resolve_path(p, false)).unwrap_or_else(|_| p.clone()));
    let mut settings = LlmSettings::load(file.as_deref())?;
    settings.client.cache_dir = std::path::absolute(&settings.client.cache_dir)
        .map_err(|e| PipelineError::io(&settings.client.cache_dir, e))?;
    let prompts = Prompts::load(settings.generation.prompts_dir.as_deref())?;
    Ok(LlmPlan { file, client: settings.client, generation: settings.generation, prompts })
}

fn read_split(exp: &Experiment, path: &Path) -> Result<Vec<Sentence>> {
    let p = exp.resolve_path(path, false);
    Ok(formats::read_sentences(&p, Format::Auto, &Default::default())?)
}

fn resolve_data(exp: &Experiment, needs_pool: bool) -> Result<(DataPlan, Vec<String>, Vec<Sentence>)> {
    let (mut train, mut dev, mut test, source) = match (&exp.dataset, &exp.data) {
        (_, Some(d)) => (
            read_split(exp, &d.train)?,
            read_split(exp, &d.dev)?,
            read_split(exp, &d.test)?,
            format!("files {}, {}, {}", d.train.display(), d.dev.display(), d.test.display()),
        ),
        (Some(name), None) => {
            let loaded = dataset::load(name, &Fetcher::from_env())?;
            let c = &loaded.corpus;
            if let Ok(all) = c.split("all") {
                tracing::warn!(dataset = %name, "one split only: sampling, dev choices and testing on the same sentences");
                (all.to_vec(), all.to_vec(), all.to_vec(), format!("dataset {name} (one split)"))
            } else {
                (
                    c.split("train")?.to_vec(),
                    c.split("devel")?.to_vec(),
                    c.split("test")?.to_vec(),
                    format!("dataset {name}"),
                )
            }
        }
        (None, None) => return Err(PipelineError::Invalid("no data".into())),
    };
    if let Some(n) = exp.dev_limit {
        dev.truncate(n);
    }
    if let Some(n) = exp.test_limit {
        test.truncate(n);
    }
    train.retain(|s| !s.is_empty());
    let labels = Tagger::labels_of(&train);
    if labels.len() < 2 {
        return Err(PipelineError::Invalid(format!("{source}: the training split has no entity tags")));
    }
    let pool = if needs_pool {
        let mut sentences = match &exp.pool {
            Some(p) => read_split(exp, p)?,
            None => train.clone(),
        };
        for s in &mut sentences {
            s.tags = vec!["O".to_string(); s.len()];
            s.concepts.clear();
        }
        sentences.retain(|s| !s.is_empty());
        Some(Split::new("pool", &sentences)?)
    } else {
        None
    };
    let dev_mention_free =
        dev.iter().filter(|s| s.tags.iter().all(|t| t == "O")).count() as f64 / dev.len().max(1) as f64;
    let data = DataPlan {
        dev_mention_free,
        source,
        train: Split::new("train", &train)?,
        dev: Split::new("dev", &dev)?,
        test: Split::new("test", &test)?,
        pool,
        dev_samples: BTreeMap::new(),
    };
    Ok((data, labels, dev))
}

/// An encoder folder as a stage input: the hash of its config, weights and tokenizer files (for
/// a random tiny encoder, of its tokenizer only).
pub(crate) fn encoder_ref(dir: &Path, random_tiny: bool, hashes: &mut HashCache) -> Result<FileRef> {
    let names: &[&str] = if random_tiny {
        &["tokenizer.json", "vocab.txt", "tokenizer_config.json"]
    } else {
        &["config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json"]
    };
    let mut listing = String::new();
    for n in names {
        let p = dir.join(n);
        if p.exists() {
            listing.push_str(&format!("{n}\0{}\n", hashes.sha256(&p)?));
        }
    }
    Ok(FileRef { file: dir.to_path_buf(), sha256: sha256_hex(listing.as_bytes()) })
}

fn resolve_model(exp: &Experiment, hashes: &mut HashCache) -> Result<ModelPlan> {
    let m = &exp.model;
    let dir = match &m.encoder {
        Some(p) => exp.resolve_path(p, false),
        None => std::env::var_os("HILGEN_ENCODER")
            .map(PathBuf::from)
            .ok_or_else(|| PipelineError::Invalid("no encoder: set model.encoder or HILGEN_ENCODER".into()))?,
    };
    let dir = crate::files::absolute(&dir)?;
    if !dir.is_dir() {
        return Err(PipelineError::Invalid(format!("model.encoder {}: not a folder", dir.display())));
    }
    m.tagger.check()?;
    m.device.resolve().map_err(|e| PipelineError::Invalid(format!("model.device: {e}")))?;
    Ok(ModelPlan {
        device: m.device,
        encoder: encoder_ref(&dir, m.random_tiny, hashes)?,
        random_tiny: m.random_tiny,
        tagger: m.tagger.clone(),
        schedule: m.schedule.clone(),
        dann: m.dann,
    })
}

impl Plan {
    /// Every sample: each K with each seed.
    pub fn units(&self) -> Vec<Unit> {
        let curve = self.ks.len() > 1;
        self.ks.iter().flat_map(|&k| self.seeds.iter().map(move |&seed| Unit { k, seed, curve })).collect()
    }

    /// Every sample with every configuration (`original` first), the stages of one trained
    /// model each.
    pub fn models(&self) -> Vec<(Unit, Config)> {
        self.units().into_iter().flat_map(|u| self.all_configs().into_iter().map(move |c| (u, c))).collect()
    }

    /// The name of a configuration.
    pub fn config_name(&self, c: Config) -> &str {
        match c {
            Config::Original => "original",
            Config::Strategy(i) => self.strategies[i].spec.id(),
        }
    }

    /// Under `[selection] dev = "none"`: the systems the ensemble and the kept system combine
    /// by union without a choice on data (the dictionary, when it is a system, and the tagger of
    /// the last configuration); `None` under the other protocols, which choose on dev.
    pub fn fixed_ensemble(&self) -> Option<Vec<String>> {
        (self.selection.dev == crate::experiment::DevProtocol::None).then(|| self.default_ensemble())
    }

    /// The members of the ensemble a run falls back on (`[selection] dev = "none"`, or a dev
    /// choice that `guard_p` does not let through): the dictionary (when it is a system) and
    /// the last strategy's tagger, combined by union; under `default_ensemble = "backoff"`,
    /// the dictionary and that tagger's sure entities ([`Plan::backoff_system`]), in that order.
    pub fn default_ensemble(&self) -> Vec<String> {
        let last = *self.all_configs().last().expect("original is always there");
        let [tagger, _] = crate::results::model_systems(self.config_name(last));
        let tagger = self.backoff_system().unwrap_or(tagger);
        self.dictionary_system.then(|| "dictionary".to_string()).into_iter().chain([tagger]).collect()
    }

    /// How [`Plan::default_ensemble`]'s members are combined.
    pub fn default_method(&self) -> hilgen_metrics::ensemble::Method {
        match self.backoff() {
            Some(_) if self.selection.backoff_longer => hilgen_metrics::ensemble::Method::BackoffLonger,
            Some(_) => hilgen_metrics::ensemble::Method::Backoff,
            None => hilgen_metrics::ensemble::Method::Union,
        }
    }

    /// Under `[selection] default_ensemble = "backoff"`: the least probability of every word's
    /// tag in a tagger entity the back-off adds.
    pub fn backoff(&self) -> Option<f64> {
        (self.selection.default_ensemble == crate::experiment::DefaultEnsemble::Backoff)
            .then(|| self.selection.backoff_confidence.unwrap_or(crate::experiment::DEFAULT_BACKOFF_CONFIDENCE))
    }

    /// Under `[selection] default_ensemble = "backoff"` with `backoff_skip_symbols`: the back-off
    /// adds no one-word entity shaped like a symbol.
    pub fn backoff_skips_symbols(&self) -> bool {
        self.backoff().is_some() && self.selection.backoff_skip_symbols
    }

    /// Under `[selection] default_ensemble = "backoff"`: the back-off's tagger member, the last
    /// strategy's tagger with only its sure entities (`tagger/CONFIG@P`).
    pub fn backoff_system(&self) -> Option<String> {
        let last = *self.all_configs().last().expect("original is always there");
        self.backoff()
            .map(|p| crate::results::confident_system(self.config_name(last), p, self.backoff_skips_symbols()))
    }

    /// The default ensemble in words.
    pub fn default_ensemble_words(&self) -> String {
        match self.backoff() {
            Some(p) => format!(
                "the dictionary, backed off to the last strategy's tagger where it has no entity and the tagger is \
                 sure (every word's tag at p >= {p}){}{}",
                if self.backoff_skips_symbols() { ", one-word symbols left to the dictionary" } else { "" },
                if self.selection.backoff_longer {
                    "; a sure tagger entity that contains dictionary entities of its type and is longer replaces them"
                } else {
                    ""
                }
            ),
            None => "union of the dictionary and the last strategy's tagger".to_string(),
        }
    }

    /// `[selection] guard_p` for `unit`: the members it guards (see
    /// [`Plan::default_ensemble`]), its test seeded by the sample's seed.
    pub fn ensemble_guard(&self, unit: Unit) -> Option<crate::stages::ensemble::Guard> {
        let p = self.selection.guard_p?;
        Some(crate::stages::ensemble::Guard {
            p,
            default: self.default_ensemble(),
            seed: unit.seed,
            test: self.selection.guard_test,
        })
    }

    /// Every configuration, `original` first.
    pub fn all_configs(&self) -> Vec<Config> {
        std::iter::once(Config::Original).chain((0..self.strategies.len()).map(Config::Strategy)).collect()
    }

    /// The configurations a teacher of strategy `i` chooses from: the original, every strategy
    /// without a teacher, and the strategies with one planned before `i` (earlier rounds).
    pub fn teacher_candidates(&self, i: usize) -> Vec<Config> {
        std::iter::once(Config::Original)
            .chain(
                (0..self.strategies.len())
                    .filter(|&j| !self.strategies[j].needs.teacher || j < i)
                    .filter(|&j| j != i)
                    .map(Config::Strategy),
            )
            .collect()
    }

    /// Strategy indices in an order where a strategy that matches another's count comes after it
    /// (strategies with a teacher are not among them: they come after the other models).
    pub fn strategy_order(&self) -> Vec<usize> {
        let n = self.strategies.len();
        let plain = |i: &usize| !self.strategies[*i].needs.teacher;
        let mut order: Vec<usize> = (0..n).filter(plain).filter(|&i| self.strategies[i].count_from.is_none()).collect();
        let mut rest: Vec<usize> = (0..n).filter(plain).filter(|&i| self.strategies[i].count_from.is_some()).collect();
        while !rest.is_empty() {
            let before = rest.len();
            rest.retain(|&i| {
                let ready = self.strategies[i].count_from.is_some_and(|j| order.contains(&j));
                if ready {
                    order.push(i);
                }
                !ready
            });
            if rest.len() == before {
                // A cycle cannot arise (a count comes from a strategy of another kind), but never loop.
                order.append(&mut rest);
            }
        }
        order
    }
}

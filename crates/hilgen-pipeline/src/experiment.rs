//! An experiment as a TOML file: plain data, resolved into a [`Plan`](crate::Plan) before
//! anything runs.
//!
//! ```no_run
//! let exp: hilgen_pipeline::Experiment = toml::from_str(r#"
//!     name = "bc5cdr-5shot"
//!     dataset = "bc5cdr"
//!     seeds = [1, 2, 3]
//!     strategies = ["synonyms", "related", {kind = "lwtr", p = 0.3}]
//!     [kb]
//!     ctd = ["ctd-medic-2017/CTD_diseases.tsv.gz"]
//!     mesh_tree = ["mesh-tree-2017/2017MeshTree.txt"]
//!     [model.tagger]
//!     learning_rate = 1e-4
//!     [model.schedule]
//!     rule = "budget"
//!     budget = 300
//! "#).unwrap();
//! assert_eq!(exp.k, hilgen_pipeline::experiment::Ks::One(5));
//! assert_eq!(exp.strategies[2].params["p"], 0.3);
//! assert_eq!(exp.model.tagger.learning_rate, 1e-4);
//! ```

use crate::error::{PipelineError, Result};
use hilgen_augment::StrategySpec;
use hilgen_metrics::GuardTest;
use hilgen_models::{DannConfig, TaggerConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the data comes from (a leading `$HILGEN_DATA` is expanded; other relative paths are
/// relative to the experiment file's folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DataFiles {
    /// Training pool (CoNLL/TSV, JSON Lines or PubTator, by extension).
    pub train: PathBuf,
    /// Development split (used for every choice: ensembles, kept models).
    pub dev: PathBuf,
    /// Test split (scored once per configuration).
    pub test: PathBuf,
}

/// Knowledge sources (relative paths are looked up under `$HILGEN_KB` when it is set, else
/// relative to the experiment file's folder), or a built index. The RRF filters are those of
/// `hilgen kb build`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KbSpec {
    /// A built index (`kb.hkb`, or the folder holding it) to use as is.
    pub index: Option<PathBuf>,
    /// A UMLS release's META folder (RRF files).
    pub rrf: Option<PathBuf>,
    /// CTD vocabulary files.
    pub ctd: Vec<PathBuf>,
    /// MeSH tree files.
    pub mesh_tree: Vec<PathBuf>,
    /// MeSH descriptor XML files.
    pub mesh_xml: Vec<PathBuf>,
    /// OBO ontologies.
    pub obo: Vec<PathBuf>,
    /// RRF languages kept (`["ENG"]` by default; empty keeps all).
    pub lang: Vec<String>,
    /// Keep suppressed RRF atoms and relations.
    pub include_suppressed: bool,
    /// Only these RRF sources (SAB values).
    pub sab_allow: Vec<String>,
    /// Never these RRF sources.
    pub sab_deny: Vec<String>,
}

impl Default for KbSpec {
    fn default() -> Self {
        KbSpec {
            index: None,
            rrf: None,
            ctd: vec![],
            mesh_tree: vec![],
            mesh_xml: vec![],
            obo: vec![],
            lang: vec!["ENG".into()],
            include_suppressed: false,
            sab_allow: vec![],
            sab_deny: vec![],
        }
    }
}

impl KbSpec {
    /// Whether any source or index is named.
    pub fn is_empty(&self) -> bool {
        self.index.is_none()
            && self.rrf.is_none()
            && self.ctd.is_empty()
            && self.mesh_tree.is_empty()
            && self.mesh_xml.is_empty()
            && self.obo.is_empty()
    }
}

/// How many epochs (and how large batches) each training set gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Schedule {
    /// `tagger.epochs` and `tagger.batch_size` as given, for every training set.
    Fixed,
    /// Epochs are `clamp(budget / sentences, min_epochs, max_epochs)`, so that larger augmented
    /// sets take about as long as more epochs over the small original; batches are twice
    /// `tagger.batch_size` for sets above `double_batch_above` sentences.
    Budget {
        /// Sentence passes to aim for.
        #[serde(default = "default_budget")]
        budget: usize,
        /// Fewest epochs.
        #[serde(default = "default_min_epochs")]
        min_epochs: usize,
        /// Most epochs.
        #[serde(default = "default_max_epochs")]
        max_epochs: usize,
        /// Double the batch size above this many sentences (never, when absent).
        #[serde(default)]
        double_batch_above: Option<usize>,
    },
    /// The same number of optimizer steps and of passes over the shots for every training set:
    /// the shots alone take `ceil(shot_passes x shots / batch_size)` steps; a set with synthetic
    /// sentences takes as many steps, with larger batches holding the shots (each `shot_passes`
    /// times) and the synthetic sentences (each `synthetic_passes` times at least, and as many
    /// slots as the shots at least). Batches grow to `max_batch` windows at most: a set too
    /// large for that (the silver labels of a whole pool) takes more steps, with the shots
    /// still seen `shot_passes` times. Windows are shuffled (sorted by length only within
    /// groups of batches), so copies of a shot do not share a batch.
    Steps {
        /// Passes over the shots.
        #[serde(default = "default_shot_passes")]
        shot_passes: usize,
        /// Passes over the synthetic sentences, at least.
        #[serde(default = "default_synthetic_passes")]
        synthetic_passes: usize,
        /// Most windows per batch.
        #[serde(default = "default_max_batch")]
        max_batch: usize,
    },
}

fn default_shot_passes() -> usize {
    30
}
fn default_synthetic_passes() -> usize {
    1
}
fn default_max_batch() -> usize {
    32
}

/// How one training set is drawn: the tagger configuration, copies of each shot, and how
/// many synthetic sentences (cycled) go in.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    /// The tagger configuration (epochs, batch size, bucketing).
    pub config: TaggerConfig,
    /// Copies of each shot.
    pub shot_copies: usize,
    /// Synthetic sentences drawn (cycling through them); each once when `None`.
    pub synthetic_slots: Option<usize>,
}

fn default_budget() -> usize {
    300
}
fn default_min_epochs() -> usize {
    3
}
fn default_max_epochs() -> usize {
    30
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::Budget {
            budget: default_budget(),
            min_epochs: default_min_epochs(),
            max_epochs: default_max_epochs(),
            double_batch_above: None,
        }
    }
}

impl Schedule {
    /// How a set of `shots` shots and `synthetic` synthetic sentences is trained on.
    pub fn draw(&self, base: &TaggerConfig, shots: usize, synthetic: usize) -> Draw {
        match self {
            Schedule::Steps { shot_passes, synthetic_passes, max_batch } => {
                let (p, b) = (*shot_passes, base.batch_size);
                let shot_slots = p * shots;
                let steps = shot_slots.div_ceil(b).max(1);
                let synthetic_slots = if synthetic == 0 { 0 } else { (synthetic * synthetic_passes).max(shot_slots) };
                let batch_size = (shot_slots + synthetic_slots).div_ceil(steps).clamp(1, (*max_batch).max(b));
                let config = TaggerConfig { epochs: 1, batch_size, length_buckets: false, ..base.clone() };
                Draw { config, shot_copies: p, synthetic_slots: Some(synthetic_slots) }
            }
            _ => Draw { config: self.apply(base, shots + synthetic), shot_copies: 1, synthetic_slots: None },
        }
    }

    /// `base` with the epochs and batch size this rule gives a set of `n` sentences (for
    /// `steps`, see [`Schedule::draw`]).
    pub fn apply(&self, base: &TaggerConfig, n: usize) -> TaggerConfig {
        match self {
            Schedule::Fixed | Schedule::Steps { .. } => base.clone(),
            Schedule::Budget { budget, min_epochs, max_epochs, double_batch_above } => TaggerConfig {
                epochs: (budget / n.max(1)).clamp(*min_epochs, *max_epochs),
                batch_size: if double_batch_above.is_some_and(|a| n > a) {
                    base.batch_size * 2
                } else {
                    base.batch_size
                },
                ..base.clone()
            },
        }
    }

    /// Checks the values.
    pub fn check(&self) -> std::result::Result<(), String> {
        match self {
            Schedule::Fixed => Ok(()),
            Schedule::Steps { shot_passes, synthetic_passes, max_batch }
                if *shot_passes == 0 || *synthetic_passes == 0 || *max_batch == 0 =>
            {
                Err("model.schedule: shot_passes, synthetic_passes and max_batch must be at least 1".into())
            }
            Schedule::Steps { .. } => Ok(()),
            Schedule::Budget { budget, min_epochs, max_epochs, .. } => {
                if *budget == 0 || *min_epochs == 0 || min_epochs > max_epochs {
                    Err(format!(
                        "model.schedule: budget and min_epochs must be at least 1 and min_epochs <= max_epochs (budget {budget}, min {min_epochs}, max {max_epochs})"
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// The encoder and training settings: one set of tagger hyper-parameters
/// ([`TaggerConfig`], its defaults and checks), the epoch rule, and DANN's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSpec {
    /// A Hugging Face encoder folder: BERT, RoBERTa or MPNet, told apart by `config.json`'s
    /// `model_type` (default: `$HILGEN_ENCODER`).
    pub encoder: Option<PathBuf>,
    /// Where taggers train and predict: `cpu` (default), `cuda` (an error without a GPU) or
    /// `auto`. Not part of the stages' hashes: a stage done on one device is not redone on another.
    pub device: hilgen_models::DeviceChoice,
    /// Use a tiny randomly initialised BERT with the encoder folder's tokenizer (tests).
    pub random_tiny: bool,
    /// Tagger hyper-parameters (`seed` is set per run; `epochs` and `batch_size` are the
    /// schedule's base).
    pub tagger: TaggerConfig,
    /// The epoch rule.
    pub schedule: Schedule,
    /// DANN settings.
    pub dann: DannConfig,
}

/// The dictionary system: the knowledge graph as a tagger, its entity types learned from the
/// shots, its filters chosen on dev (see `hilgen_dictionary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DictionarySpec {
    /// Report it as a system (and let it enter the ensembles); default: when there is a `[kb]`.
    /// Strategies that read it (`distant`) have it either way.
    pub system: Option<bool>,
    /// What the dev search tries.
    pub grid: hilgen_dictionary::Grid,
    /// Names judged by a tagger that never saw them (`hilgen_dictionary::heldout`): after the
    /// dev search, the pool's matches labelled only through a coarse type (a MeSH tree letter
    /// whose branch no shot names) are held out of the silver labels, a tagger is trained on
    /// the rest, and the names whose matches it gives their label a mean probability below
    /// this (0.5: its majority) are dropped from the dictionary. No labelled sentence chooses
    /// anything; it costs one more tagger training per seed. Needs the pool. Unset: off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heldout_agreement: Option<f64>,
    /// With `heldout_agreement`: hold out and judge the names of these labels only (default:
    /// every label). The BC5CDR recipe names `Chemical`: on BC5CDR's full dev split the
    /// disease names so judged were mostly true (a tagger that never saw a neoplasm doubts
    /// "cancer"), the chemical ones mostly classes the corpus does not mark.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heldout_labels: Vec<String>,
}

/// The `[slurm]` table: what each worker of `hilgen slurm submit` asks Slurm for. None of it
/// changes results (it is not part of any stage's hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SlurmSpec {
    /// Array tasks (workers) per submission (default 4).
    pub workers: Option<usize>,
    /// At most this many at once (`--array=1-N%M`).
    pub max_parallel: Option<usize>,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--gres` (e.g. `gpu:1`).
    pub gres: Option<String>,
    /// `--time` (e.g. `04:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task` (also the worker's libtorch threads).
    pub cpus: Option<usize>,
    /// `--mem` (e.g. `16G`).
    pub mem: Option<String>,
    /// More `sbatch` arguments, as given (e.g. `["--account=nlp", "--qos=short"]`).
    pub sbatch_args: Vec<String>,
}

/// LLM settings (the LLM strategies and the zero-shot tagger).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LlmSpec {
    /// The client configuration file (see `hilgen_llm::config::LlmSettings`); relative to the
    /// experiment file.
    pub config: Option<PathBuf>,
    /// Also run the LLM as a zero-shot tagger on dev and test (the paper's Table 4).
    pub zero_shot_tagger: bool,
}

/// An experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Name (also the default run folder `runs/NAME`).
    pub name: String,
    /// A registry dataset (`bc5cdr`, `ncbi-disease`, `ncbi-disease-4type`, `medmentions-st21pv`,
    /// `medmentions-st21pv-sample`, `mimic3`).
    #[serde(default)]
    pub dataset: Option<String>,
    /// Or explicit files.
    #[serde(default)]
    pub data: Option<DataFiles>,
    /// Unlabelled in-domain text for strategies that read a pool (raw text, PubTator,
    /// CoNLL/TSV or JSON Lines; tags are dropped). Default: the training split without labels.
    #[serde(default)]
    pub pool: Option<PathBuf>,
    /// Shots per entity type: a number, or a list for a learning curve (`k = [1, 5, 10, 20]`).
    #[serde(default = "default_k")]
    pub k: Ks,
    /// Seeds (one sample and one training run each).
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Use at most this many dev sentences.
    #[serde(default)]
    pub dev_limit: Option<usize>,
    /// Use at most this many test sentences.
    #[serde(default)]
    pub test_limit: Option<usize>,
    /// Strategies: registered kinds with parameters (`hilgen augment --list`).
    #[serde(default = "default_strategies")]
    pub strategies: Vec<StrategySpec>,
    /// Knowledge sources.
    #[serde(default)]
    pub kb: KbSpec,
    /// Model settings.
    #[serde(default)]
    pub model: ModelSpec,
    /// LLM settings.
    #[serde(default)]
    pub llm: LlmSpec,
    /// The dictionary system.
    #[serde(default)]
    pub dictionary: DictionarySpec,
    /// Bootstrap resamples for the confidence intervals.
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
    /// At most this many systems (best on dev first) enter the ensemble search.
    #[serde(default = "default_ensemble_systems")]
    pub ensemble_systems: usize,
    /// How `hilgen slurm submit` asks for workers (command-line options override it).
    #[serde(default)]
    pub slurm: SlurmSpec,
    /// Which labelled data makes the choices (dictionary filters, teachers, ensembles, kept
    /// systems): the dev split (default), a K-per-type sample of it, or none (the shots).
    #[serde(default)]
    pub selection: SelectionSpec,
    /// The experiment file's folder (relative paths are resolved against it; not in the file).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// The labelled data every choice of a run is made on (`[selection]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionSpec {
    /// `split`, `k-shot` or `none`.
    #[serde(default)]
    pub dev: DevProtocol,
    /// For `k-shot`: sentences per entity type (default: the sample's K).
    #[serde(default)]
    pub k: Option<usize>,
    /// For `k-shot`: the dev sample of seed S is drawn with seed S + this (apart from the
    /// training shots, drawn with S).
    #[serde(default = "default_dev_seed_offset")]
    pub seed_offset: u64,
    /// For `split` and `k-shot`: the ensemble (and so the kept system) stays the union of the
    /// dictionary and the last strategy's tagger unless the combination best on dev beats that
    /// union in a paired bootstrap over the dev sentences with a p-value at most this (0.05:
    /// a small dev sample rarely overturns the default). Unset: the best on dev, however few
    /// the dev sentences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_p: Option<f64>,
    /// The dictionary's options (name options, dropped names and types, context typing and
    /// coordination where the grid lists both) stay at the grid's first values unless the
    /// configuration best on dev beats them in a paired bootstrap over the dev sentences with a
    /// p-value at most this (see `hilgen_dictionary::Guard`). Unset: the best on dev.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dictionary_guard_p: Option<f64>,
    /// The test both guards run: `paired-bootstrap` (the default: the dev-best against the
    /// default alone) or `max-permutation` (the dev-best's gain against the largest gain of any
    /// candidate tried when outputs are shuffled within dev sentences; it counts that the best
    /// was picked among many, see `hilgen_metrics::permutation`).
    #[serde(default, skip_serializing_if = "GuardTest::is_default")]
    pub guard_test: GuardTest,
    /// The ensemble a run falls back on (under `dev = "none"`, or where `guard_p` keeps the
    /// default): `union` of the dictionary and the last strategy's tagger (the default), or
    /// `backoff`: the dictionary's entities, then the tagger's entities that overlap none of
    /// them and whose every word's tag has probability at least `backoff_confidence`.
    #[serde(default, skip_serializing_if = "DefaultEnsemble::is_union")]
    pub default_ensemble: DefaultEnsemble,
    /// For `default_ensemble = "backoff"`: the least probability of every word's tag in a
    /// tagger entity the back-off adds (default [`DEFAULT_BACKOFF_CONFIDENCE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_confidence: Option<f64>,
    /// For `default_ensemble = "backoff"`: the back-off adds no one-word entity shaped like a
    /// symbol ("RB1", "G6PD", "DCC"; `hilgen_corpus::shape::is_symbol`): abbreviations and gene
    /// symbols are left to the dictionary, which reads them from their definitions in the
    /// document. Default `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backoff_skip_symbols: bool,
    /// For `default_ensemble = "backoff"`: a sure tagger entity that strictly contains every
    /// dictionary entity it overlaps, all of its type, replaces them ("stage II colorectal
    /// cancer" for "colorectal cancer"; `hilgen_metrics::ensemble::Method::BackoffLonger`).
    /// Default `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backoff_longer: bool,
}

/// The tagger confidence a back-off ensemble adds entities at unless `backoff_confidence` says
/// otherwise: set on the dictionary's and the tagger's full dev splits of BC5CDR and
/// NCBI-Disease (docs/results/README.md, "Back-off"), never on test.
pub const DEFAULT_BACKOFF_CONFIDENCE: f64 = 0.9;

/// The ensemble a run falls back on when nothing on labelled data chooses another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DefaultEnsemble {
    /// Every entity of the dictionary and the last strategy's tagger (overlaps: the one both
    /// predict, else the longer).
    #[default]
    Union,
    /// The dictionary's entities, then the tagger's sure entities where the dictionary has
    /// none.
    Backoff,
}

impl DefaultEnsemble {
    /// Whether it is the union (the default; left out of settings hashes).
    pub fn is_union(&self) -> bool {
        *self == DefaultEnsemble::Union
    }
}

/// Which labelled dev data a run chooses on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DevProtocol {
    /// The dev split (its first `dev_limit` sentences when set).
    #[default]
    Split,
    /// A K-per-type sample of the dev split per sample (seeded apart from the shots): as many
    /// labelled dev sentences as a few-shot user could label besides the shots.
    KShot,
    /// No labelled data beyond the shots: the dictionary's filters are chosen on the shots
    /// themselves (they are the only labels; the dictionary never trains on them), and the
    /// choices among trained systems, which have seen the shots, follow a fixed rule: the
    /// ensemble and the kept system are the union of the dictionary and the last strategy's
    /// tagger. Nothing reads the dev split; stages that can only choose on labelled dev data
    /// (a self-training teacher, early stopping, the LLM tagger's dev) are refused.
    None,
}

fn default_dev_seed_offset() -> u64 {
    1000
}

impl Default for SelectionSpec {
    fn default() -> Self {
        SelectionSpec {
            dev: DevProtocol::Split,
            k: None,
            seed_offset: default_dev_seed_offset(),
            guard_p: None,
            dictionary_guard_p: None,
            guard_test: GuardTest::default(),
            default_ensemble: DefaultEnsemble::Union,
            backoff_confidence: None,
            backoff_skip_symbols: false,
            backoff_longer: false,
        }
    }
}

impl SelectionSpec {
    /// Whether choices are made on the dev split (the default; left out of settings hashes).
    pub fn is_split(&self) -> bool {
        self.dev == DevProtocol::Split
    }
}

fn default_k() -> Ks {
    Ks::One(5)
}

/// Shots per entity type: one K or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ks {
    /// One K.
    One(usize),
    /// A learning curve.
    Many(Vec<usize>),
}

impl Ks {
    /// The values, in the file's order.
    pub fn values(&self) -> Vec<usize> {
        match self {
            Ks::One(k) => vec![*k],
            Ks::Many(v) => v.clone(),
        }
    }
}
fn default_seeds() -> Vec<u64> {
    vec![1, 2, 3, 4, 5]
}
fn default_strategies() -> Vec<StrategySpec> {
    ["synonyms", "related", "parents-children", "siblings"].map(StrategySpec::of).to_vec()
}
fn default_bootstrap() -> usize {
    1000
}
fn default_ensemble_systems() -> usize {
    6
}

impl Experiment {
    /// Reads an experiment file and checks what can be checked without resolving it.
    pub fn from_file(path: &Path) -> Result<Experiment> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
        let mut exp =
            Experiment::from_toml(&text).map_err(|m| PipelineError::Experiment { path: path.into(), message: m })?;
        exp.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(exp)
    }

    /// Parses and checks experiment text (relative paths then resolve against the working
    /// folder).
    pub fn from_toml(text: &str) -> std::result::Result<Experiment, String> {
        let exp: Experiment = toml::from_str(text).map_err(|e| e.to_string())?;
        exp.check()?;
        Ok(exp)
    }

    /// Checks the values that need nothing but the file; the message says what is wrong.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.dataset.is_some() == self.data.is_some() {
            return Err("give exactly one of `dataset` (a registry name) and `[data]` (train/dev/test files)".into());
        }
        let ks = self.k.values();
        if ks.is_empty() || ks.contains(&0) || self.seeds.is_empty() {
            return Err("`k` must be at least 1 (or a non-empty list of such) and `seeds` not empty".into());
        }
        if ks.iter().collect::<std::collections::BTreeSet<_>>().len() != ks.len() {
            return Err(format!("`k` = {ks:?} repeats a value"));
        }
        if self.seeds.iter().collect::<std::collections::BTreeSet<_>>().len() != self.seeds.len() {
            return Err(format!("`seeds` = {:?} repeats a seed (each seed is one run of every system)", self.seeds));
        }
        if self.dev_limit == Some(0) || self.test_limit == Some(0) {
            return Err(
                "`dev_limit` and `test_limit` must be at least 1 when given (leave one out for the whole split)".into(),
            );
        }
        if ks.iter().any(|&k| k > 100_000) || self.bootstrap > 1_000_000 {
            return Err(format!(
                "`k` {ks:?} must be at most 100000 and `bootstrap` {} at most 1000000",
                self.bootstrap
            ));
        }
        if self.name.is_empty() || self.name.contains(['/', '\\']) {
            return Err(format!("`name` {:?} must be a non-empty folder name", self.name));
        }
        let mut ids = std::collections::BTreeSet::new();
        for s in &self.strategies {
            if s.id() == "original" || !ids.insert(s.id().to_string()) {
                return Err(format!(
                    "strategy name `{}` is used twice (or is `original`); give each a distinct `name`",
                    s.id()
                ));
            }
        }
        self.model.tagger.check().map_err(|e| format!("[model.tagger]: {e}"))?;
        self.model.schedule.check()?;
        if self.bootstrap == 0 || self.ensemble_systems == 0 {
            return Err("`bootstrap` and `ensemble_systems` must be at least 1".into());
        }
        let guards = [("guard_p", self.selection.guard_p), ("dictionary_guard_p", self.selection.dictionary_guard_p)];
        for (key, p) in guards {
            if let Some(p) = p.filter(|p| !(*p > 0.0 && *p <= 1.0)) {
                return Err(format!("[selection] {key} = {p}: expected a p-value in (0, 1], such as 0.05"));
            }
        }
        if !self.selection.guard_test.is_default()
            && self.selection.guard_p.is_none()
            && self.selection.dictionary_guard_p.is_none()
        {
            return Err("[selection] guard_test without guard_p or dictionary_guard_p: no guard runs a test; \
                        set one of them or remove guard_test"
                .into());
        }
        match (self.selection.default_ensemble, self.selection.backoff_confidence) {
            (DefaultEnsemble::Union, Some(_)) => {
                return Err("[selection] backoff_confidence without default_ensemble = \"backoff\": \
                            only the back-off reads it"
                    .into())
            }
            (DefaultEnsemble::Backoff, Some(p)) if !(p > 0.0 && p <= 1.0) => {
                return Err(format!(
                    "[selection] backoff_confidence = {p}: expected a probability in (0, 1], such as 0.9"
                ))
            }
            (DefaultEnsemble::Union, None) if self.selection.backoff_longer => {
                return Err("[selection] backoff_longer without default_ensemble = \"backoff\": \
                            only the back-off reads it"
                    .into())
            }
            (DefaultEnsemble::Union, None) if self.selection.backoff_skip_symbols => {
                return Err("[selection] backoff_skip_symbols without default_ensemble = \"backoff\": \
                            only the back-off reads it"
                    .into())
            }
            (DefaultEnsemble::Backoff, _) if self.dictionary.system == Some(false) => {
                return Err("[selection] default_ensemble = \"backoff\" backs the dictionary off to a tagger; \
                            it needs the dictionary as a system (remove dictionary.system = false)"
                    .into())
            }
            _ => {}
        }
        if self.selection.guard_p.is_some() && self.selection.dev == DevProtocol::None {
            return Err("[selection] guard_p with dev = \"none\": without dev labels the ensemble is the fixed union \
                        already; remove guard_p"
                .into());
        }
        if self.selection.dev == DevProtocol::None {
            if self.llm.zero_shot_tagger {
                return Err("[selection] dev = \"none\" with llm.zero_shot_tagger is not supported: the LLM \
                            tagger's place in an ensemble is chosen on labelled dev data"
                    .into());
            }
            if self.model.tagger.early_stopping_patience.is_some() {
                return Err("[selection] dev = \"none\" with [model.tagger] early_stopping_patience: early stopping \
                            reads labelled dev data; remove the patience"
                    .into());
            }
        }
        if self.selection.dev == DevProtocol::KShot {
            if self.selection.k == Some(0) {
                return Err("[selection] k must be at least 1".into());
            }
            if self.llm.zero_shot_tagger {
                return Err("[selection] dev = \"k-shot\" with llm.zero_shot_tagger is not supported yet: the \
                            LLM tagger tags one dev split for every sample"
                    .into());
            }
        }
        Ok(())
    }

    /// `path` as given, with a leading `$HILGEN_DATA` or `$HILGEN_KB` expanded, relative paths
    /// under `relative_to` (or under `$HILGEN_KB` for knowledge sources when `kb` is set).
    pub fn resolve_path(&self, path: &Path, kb: bool) -> PathBuf {
        let p = expand(path);
        if p.is_absolute() {
            return p;
        }
        if kb {
            if let Some(root) = std::env::var_os("HILGEN_KB") {
                return PathBuf::from(root).join(p);
            }
        }
        self.base_dir.join(p)
    }
}

/// Expands a leading `$HILGEN_DATA` or `$HILGEN_KB` in a path.
pub fn expand(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    for var in ["HILGEN_DATA", "HILGEN_KB"] {
        if let Some(rest) = s.strip_prefix(&format!("${var}")) {
            if let Some(v) = std::env::var_os(var) {
                return PathBuf::from(v).join(rest.trim_start_matches('/'));
            }
        }
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("experiment.rs");
        let open = "toml::from_str(r#\"";
        let start = doc.find(open).unwrap() + open.len();
        let end = start + doc[start..].find("\"#").unwrap();
        let text: String = doc[start..end].lines().map(|l| l.trim_start_matches("//!")).collect::<Vec<_>>().join("\n");
        let exp: Experiment = toml::from_str(&text).unwrap();
        assert_eq!(exp.k, Ks::One(5));
        assert_eq!(exp.strategies[2].params["p"], 0.3);
        assert_eq!(exp.model.tagger.learning_rate, 1e-4);
        assert!(matches!(exp.model.schedule, Schedule::Budget { budget: 300, .. }));
    }

    #[test]
    fn bad_experiments_say_what_is_wrong() {
        let e = Experiment::from_toml("name = \"x\"\n").unwrap_err();
        assert!(e.contains("exactly one of `dataset`"), "{e}");
        let e = Experiment::from_toml("name = \"x\"\ndataset = \"bc5cdr\"\n[model.tagger]\nlearnig_rate = 1\n")
            .unwrap_err();
        assert!(e.contains("learnig_rate"), "{e}");
        let e =
            Experiment::from_toml("name = \"x\"\ndataset = \"bc5cdr\"\nstrategies = [\"mr\", \"mr\"]\n").unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = Experiment::from_toml("name = \"x\"\ndataset = \"bc5cdr\"\n[model.tagger]\nlearning_rate = 2.0\n")
            .unwrap_err();
        assert!(e.contains("learning_rate"), "{e}");
        let ok = Experiment::from_toml(
            "name = \"x\"\ndataset = \"bc5cdr\"\nstrategies = [\"mr\", {kind = \"mr\", p = 0.5, name = \"mr-half\"}]\n",
        )
        .unwrap();
        assert_eq!(ok.strategies[1].id(), "mr-half");
        // Caught when the file is read, before anything runs.
        let with =
            |extra: &str| Experiment::from_toml(&format!("name = \"x\"\ndataset = \"bc5cdr\"\n{extra}\n")).unwrap_err();
        assert!(with("seeds = [1, 1]").contains("repeats a seed"));
        assert!(with("dev_limit = 0").contains("at least 1"));
        assert!(with("test_limit = 0").contains("at least 1"));
        assert!(with("bootstrap = 1000000000000").contains("at most 1000000"));
        assert!(with("[model.tagger]\nweight_decay = nan").contains("weight_decay NaN"));
        assert!(with("[model.tagger]\nmax_grad_norm = inf").contains("max_grad_norm inf"));
        assert!(with("[selection]\nbackoff_confidence = 0.9").contains("without default_ensemble"));
        assert!(with("[selection]\nbackoff_skip_symbols = true").contains("backoff_skip_symbols without"));
        assert!(with("[selection]\nbackoff_longer = true").contains("backoff_longer without"));
        let e = with("[selection]\ndefault_ensemble = \"backoff\"\nbackoff_confidence = 1.5");
        assert!(e.contains("backoff_confidence = 1.5") && e.contains("(0, 1]"), "{e}");
        let e = with("[selection]\ndefault_ensemble = \"backoff\"\n[dictionary]\nsystem = false");
        assert!(e.contains("needs the dictionary"), "{e}");
        assert!(with("[selection]\ndefault_ensemble = \"vote\"").contains("vote"));
        let ok =
            Experiment::from_toml("name = \"x\"\ndataset = \"bc5cdr\"\n[selection]\ndefault_ensemble = \"backoff\"\n")
                .unwrap();
        assert_eq!(ok.selection.default_ensemble, DefaultEnsemble::Backoff);
        assert_eq!(ok.selection.backoff_confidence, None);
        // Left out of the serialized settings when the union (earlier runs' hashes stay).
        let v = serde_json::to_value(SelectionSpec::default()).unwrap();
        assert!(v.get("default_ensemble").is_none() && v.get("backoff_confidence").is_none(), "{v}");
    }

    #[test]
    fn the_budget_rule() {
        let base = TaggerConfig { batch_size: 4, ..TaggerConfig::default() };
        let rule = Schedule::Budget { budget: 300, min_epochs: 3, max_epochs: 30, double_batch_above: Some(50) };
        let small = rule.apply(&base, 10);
        assert_eq!((small.epochs, small.batch_size), (30, 4));
        let large = rule.apply(&base, 200);
        assert_eq!((large.epochs, large.batch_size), (3, 8));
        assert_eq!(Schedule::Fixed.apply(&base, 10), base);
        // Steps: the shots alone, 30 passes of 10 shots in batches of 4: 75 steps.
        let steps = Schedule::Steps { shot_passes: 30, synthetic_passes: 1, max_batch: 64 };
        let d = steps.draw(&base, 10, 0);
        assert_eq!((d.config.epochs, d.config.batch_size, d.shot_copies, d.synthetic_slots), (1, 4, 30, Some(0)));
        // 200 synthetic: 300 slots of them beside the 300 of the shots, in 75 steps of 8.
        let d = steps.draw(&base, 10, 200);
        assert_eq!((d.config.batch_size, d.synthetic_slots), (8, Some(300)));
        assert_eq!((300 + 300usize).div_ceil(d.config.batch_size), 75);
        // 4000 silver sentences: each once, in 75 larger batches.
        let d = steps.draw(&base, 10, 4000);
        assert_eq!((d.config.batch_size, d.synthetic_slots), (58, Some(4000)));
        assert!(!d.config.length_buckets);
        // With batches of at most 16, twice over the silver sentences: more steps.
        let capped = Schedule::Steps { shot_passes: 30, synthetic_passes: 2, max_batch: 16 };
        let d = capped.draw(&base, 10, 4000);
        assert_eq!((d.config.batch_size, d.synthetic_slots), (16, Some(8000)));
        assert_eq!((300 + 8000usize).div_ceil(16), 519);
    }
}

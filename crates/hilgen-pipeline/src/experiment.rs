//! An experiment as a TOML file.
//!
//! ```no_run
//! let exp: hilgen_pipeline::Experiment = toml::from_str(r#"
//!     name = "bc5cdr-5shot"
//!     dataset = "bc5cdr"
//!     seeds = [1, 2, 3]
//!     strategies = ["synonyms", "related", "parents-children", "siblings"]
//!     [kb]
//!     ctd = ["ctd-medic-2017/CTD_diseases.tsv.gz"]
//!     mesh_tree = ["mesh-tree-2017/2017MeshTree.txt"]
//! "#).unwrap();
//! assert_eq!(exp.k, 5);
//! ```

use crate::error::{PipelineError, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the data comes from (a leading `$HILGEN_DATA` in a path is expanded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DataFiles {
    /// Training pool (IOB2 TSV).
    pub train: PathBuf,
    /// Development split (IOB2 TSV; used to pick the ensemble).
    pub dev: PathBuf,
    /// Test split (IOB2 TSV).
    pub test: PathBuf,
}

/// Knowledge sources (paths relative to `HILGEN_KB` unless absolute), or a built index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct KbSpec {
    /// A built index folder to use as is.
    pub index: Option<PathBuf>,
    /// A UMLS release's META folder (RRF files).
    pub rrf: Option<PathBuf>,
    /// CTD vocabulary files.
    pub ctd: Vec<PathBuf>,
    /// MeSH tree files.
    pub mesh_tree: Vec<PathBuf>,
    /// OBO files.
    pub obo: Vec<PathBuf>,
}

impl KbSpec {
    /// Whether any source or index is named.
    pub fn is_empty(&self) -> bool {
        self.index.is_none()
            && self.rrf.is_none()
            && self.ctd.is_empty()
            && self.mesh_tree.is_empty()
            && self.obo.is_empty()
    }
}

/// The encoder and training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSpec {
    /// A Hugging Face BERT folder (default: `$HILGEN_ENCODER`).
    pub encoder: Option<PathBuf>,
    /// Use a tiny randomly initialised BERT with the encoder folder's tokenizer (tests).
    pub random_tiny: bool,
    /// Learning rate.
    pub learning_rate: f64,
    /// Passes over the data are `clamp(epoch_budget / sentences, min_epochs, max_epochs)`, so
    /// larger augmented sets take about as long as more epochs over the small original.
    pub epoch_budget: usize,
    /// Fewest epochs.
    pub min_epochs: usize,
    /// Most epochs.
    pub max_epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// DANN distance: `minkowski3`, `euclidean` or `cosine`.
    pub dann_distance: String,
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            encoder: None,
            random_tiny: false,
            learning_rate: 1e-4,
            epoch_budget: 300,
            min_epochs: 3,
            max_epochs: 30,
            batch_size: 4,
            dann_distance: "minkowski3".into(),
        }
    }
}

/// LLM settings for the LLM strategies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmSpec {
    /// The client configuration file (see `hilgen_llm::LlmConfig`); relative to the experiment file.
    pub config: Option<PathBuf>,
    /// Sentences per shot when no knowledge layer gives the count to match.
    pub n: usize,
    /// Match the number of LLM sentences to the matching knowledge layer's count, as the paper does.
    pub match_knowledge_counts: bool,
    /// Also run the LLM as a zero-shot tagger on the test split (the paper's Table 4).
    pub zero_shot_tagger: bool,
}

impl Default for LlmSpec {
    fn default() -> Self {
        LlmSpec { config: None, n: 10, match_knowledge_counts: true, zero_shot_tagger: false }
    }
}

/// An experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Name (also the default run folder `runs/NAME`).
    pub name: String,
    /// A registry dataset (`bc5cdr`, `ncbi-disease`, `medmentions-st21pv`, `medmentions-st21pv-sample`, `mimic3`).
    #[serde(default)]
    pub dataset: Option<String>,
    /// Or explicit files.
    #[serde(default)]
    pub data: Option<DataFiles>,
    /// Shots per entity type.
    #[serde(default = "default_k")]
    pub k: usize,
    /// Seeds (one sample and one training run each).
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Use at most this many dev sentences (for picking the ensemble).
    #[serde(default)]
    pub dev_limit: Option<usize>,
    /// Use at most this many test sentences.
    #[serde(default)]
    pub test_limit: Option<usize>,
    /// Strategies: `synonyms`, `related`, `parents-children`, `siblings` (knowledge layers);
    /// `lwtr`, `sr`, `mr`, `sis` (Dai & Adel); `llm-related`, `llm-parents-children`,
    /// `llm-siblings`, `grounded-related` (or another layer), `zerogen` (LLM).
    #[serde(default = "default_strategies")]
    pub strategies: Vec<String>,
    /// Knowledge sources.
    #[serde(default)]
    pub kb: KbSpec,
    /// Model settings.
    #[serde(default)]
    pub model: ModelSpec,
    /// LLM settings.
    #[serde(default)]
    pub llm: LlmSpec,
    /// Bootstrap resamples for the confidence intervals.
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
    /// At most this many systems (best on dev first) enter the ensemble search.
    #[serde(default = "default_ensemble_systems")]
    pub ensemble_systems: usize,
}

fn default_k() -> usize {
    5
}
fn default_seeds() -> Vec<u64> {
    vec![1, 2, 3, 4, 5]
}
fn default_strategies() -> Vec<String> {
    ["synonyms", "related", "parents-children", "siblings"].map(String::from).to_vec()
}
fn default_bootstrap() -> usize {
    1000
}
fn default_ensemble_systems() -> usize {
    6
}

/// The knowledge layers' names.
pub const KNOWLEDGE: [&str; 4] = ["synonyms", "related", "parents-children", "siblings"];
/// Dai & Adel's names.
pub const SIMPLE: [&str; 4] = ["lwtr", "sr", "mr", "sis"];

/// Whether strategy `name` asks an LLM (`llm-*`, `grounded-*`, `zerogen`).
pub fn uses_llm(name: &str) -> bool {
    name.starts_with("llm-") || name.starts_with("grounded-") || name == "zerogen"
}

impl Experiment {
    /// Reads and checks an experiment file; relative LLM config paths are resolved against its folder.
    pub fn from_file(path: &Path) -> Result<Experiment> {
        let bad = |m: String| PipelineError::Experiment { path: path.to_path_buf(), message: m };
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
        let mut exp: Experiment = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if let Some(c) = &exp.llm.config {
            if c.is_relative() {
                exp.llm.config = Some(path.parent().unwrap_or(Path::new(".")).join(c));
            }
        }
        exp.check().map_err(bad)?;
        Ok(exp)
    }

    /// Checks the values; the message says what is wrong.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.dataset.is_some() == self.data.is_some() {
            return Err("give exactly one of `dataset` (a registry name) and `[data]` (train/dev/test files)".into());
        }
        if self.k == 0 || self.seeds.is_empty() {
            return Err("`k` must be at least 1 and `seeds` not empty".into());
        }
        for s in &self.strategies {
            let known = KNOWLEDGE.contains(&s.as_str())
                || SIMPLE.contains(&s.as_str())
                || matches!(s.as_str(), "llm-related" | "llm-parents-children" | "llm-siblings" | "zerogen")
                || s.strip_prefix("grounded-").is_some_and(|l| KNOWLEDGE.contains(&l));
            if !known {
                return Err(format!("unknown strategy {s:?}; expected one of {KNOWLEDGE:?}, {SIMPLE:?}, llm-related, llm-parents-children, llm-siblings, grounded-LAYER, zerogen"));
            }
            let needs_kb = KNOWLEDGE.contains(&s.as_str()) || s == "sr" || s.starts_with("grounded-");
            if needs_kb && self.kb.is_empty() {
                return Err(format!("strategy {s:?} needs knowledge sources: add a [kb] table"));
            }
            if uses_llm(s) && self.llm.config.is_none() {
                return Err(format!("strategy {s:?} needs an LLM: set [llm] config = \"llm.toml\""));
            }
        }
        if !["minkowski3", "euclidean", "cosine"].contains(&self.model.dann_distance.as_str()) {
            return Err(format!(
                "model.dann_distance {:?}: expected minkowski3, euclidean or cosine",
                self.model.dann_distance
            ));
        }
        Ok(())
    }
}

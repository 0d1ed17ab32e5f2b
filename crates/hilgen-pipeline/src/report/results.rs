//! What stages record and the report reads: scores of a system, the outcome of a strategy, one
//! seed's results.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One system's test scores in one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemScore {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Bootstrap interval of F1 (lower, upper).
    pub f1_ci: (f64, f64),
    /// Micro F1 on the dev split.
    pub dev_f1: f64,
    /// What it is (for ensembles: the combination chosen on dev).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Test F1 per entity type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_type: BTreeMap<String, f64>,
}

impl SystemScore {
    /// From the metrics crate's figures.
    pub fn new(prf: hilgen_metrics::Prf, ci: hilgen_metrics::bootstrap::Interval, dev_f1: f64) -> SystemScore {
        SystemScore {
            precision: prf.precision,
            recall: prf.recall,
            f1: prf.f1,
            f1_ci: (ci.lower, ci.upper),
            dev_f1,
            note: None,
            per_type: BTreeMap::new(),
        }
    }

    /// With the per-type F1 of an evaluation.
    pub fn with_types(mut self, e: &hilgen_metrics::Evaluation) -> SystemScore {
        self.per_type = e.per_type.iter().map(|(k, v)| (k.clone(), v.f1)).collect();
        self
    }
}

/// The outcome of a strategy (or of the LLM tagger).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentResult {
    /// Synthetic sentences kept (sentences tagged, for the tagger).
    pub count: usize,
    /// Sentences asked of an LLM (0 for other strategies).
    pub requested: usize,
    /// LLM rejections by reason.
    pub rejected: BTreeMap<String, u64>,
    /// LLM requests sent (not answered by the cache).
    pub llm_requests: u64,
}

/// The model kept for a seed: the best single system on dev.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptModel {
    /// `tagger/CONFIG` or `dann/CONFIG`.
    pub system: String,
    /// Its dev F1.
    pub dev_f1: f64,
    /// The model folder, relative to the run directory.
    pub folder: String,
}

/// The system kept for a seed: what dev chose (the ensemble row's system), as one folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptSystem {
    /// What it is (`union of dictionary + tagger/distant`).
    pub system: String,
    /// Its dev F1.
    pub dev_f1: f64,
    /// Its test F1.
    pub test_f1: f64,
    /// The folder, relative to the run directory.
    pub folder: String,
    /// Whether it is the run's kept system too (`kept/system`: the samples' best on dev).
    #[serde(default)]
    pub run: bool,
}

/// A sample that holds fewer than K sentences of some type (K larger than the training split
/// allows): what it really holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShortSample {
    /// Sentences in the sample.
    pub sentences: usize,
    /// Sentences per entity type.
    pub sentences_per_type: BTreeMap<String, usize>,
    /// The types with fewer than K sentences.
    pub short: Vec<String>,
}

/// The systems of a training configuration `config`: its tagger and its DANN (`tagger/CONFIG`,
/// `dann/CONFIG`), the report's tagger and DANN columns.
pub fn model_systems(config: &str) -> [String; 2] {
    [format!("tagger/{config}"), format!("{DANN}/{config}")]
}

/// The back-off member of configuration `config`: its tagger's entities whose every word's tag
/// has probability at least `p` (`tagger/CONFIG@P`), with `skip_symbols` none of them a one-word
/// symbol (`tagger/CONFIG@P-symbols`).
pub fn confident_system(config: &str, p: f64, skip_symbols: bool) -> String {
    match skip_symbols {
        true => format!("tagger/{config}@{p}-symbols"),
        false => format!("tagger/{config}@{p}"),
    }
}

/// Whether `name` is a back-off member ([`confident_system`]): a system the ensemble search
/// leaves out (it is only ever the back-off's second member).
pub fn is_confident_system(name: &str) -> bool {
    name.starts_with("tagger/") && name.contains('@')
}

/// The model part of DANN systems' names.
pub const DANN: &str = "dann";

/// One seed's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Shots per type of this sample.
    #[serde(default)]
    pub k: usize,
    /// `tagger/CONFIG` and `dann/CONFIG` (and `llm/zero-shot`) scores.
    pub scores: BTreeMap<String, SystemScore>,
    /// The best ensemble on dev, scored on test.
    pub ensemble: SystemScore,
    /// Augmentation outcomes per strategy.
    pub augment: BTreeMap<String, AugmentResult>,
    /// The kept model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<KeptModel>,
    /// The kept system (what dev chose, as one folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_system: Option<KeptSystem>,
    /// Set when the sample is short of K for some type: the real counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_sample: Option<ShortSample>,
}

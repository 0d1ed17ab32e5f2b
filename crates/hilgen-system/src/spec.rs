//! `system.json`: what a kept system is, as serde-tagged components (as `tokenizers` describes
//! a pipeline): each component names its `type` and the files it reads, relative to the folder.
//!
//! ```json
//! {"format": 1, "types": ["Chemical", "Disease"],
//!  "system": {"type": "ensemble", "method": "union", "weights": [1.0, 1.0], "members": [
//!    {"name": "dictionary", "type": "dictionary", "dictionary": "dictionary/dictionary.json",
//!     "kb": {"file": "dictionary/kb.hkb", "sha256": "…"}},
//!    {"name": "tagger/distant", "type": "tagger", "model": "models/distant"}]},
//!  "card": {…}}
//! ```

use hilgen_metrics::ensemble::Method;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `system.json` format this version writes and reads.
pub const FORMAT: u32 = 1;

/// The file naming a folder's system.
pub const SYSTEM_FILE: &str = "system.json";

/// The model card beside it.
pub const CARD_FILE: &str = "README.md";

/// A file the system reads, with the sha256 it must have (a wrong file is refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pinned {
    /// The file, relative to the folder (a path leaving the folder is refused).
    pub file: PathBuf,
    /// Its sha256, in hex.
    pub sha256: String,
}

/// One component of a system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Component {
    /// The knowledge index as a longest-match dictionary.
    Dictionary {
        /// `dictionary.json`: entity types and options ([`hilgen_dictionary::SavedDictionary`]).
        dictionary: PathBuf,
        /// The knowledge index the names come from.
        kb: Pinned,
    },
    /// A fine-tuned tagger (a Hugging Face token-classification folder).
    Tagger {
        /// The model folder.
        model: PathBuf,
        /// Keep only the entities the tagger is sure of: every word's tag has at least this
        /// probability (a back-off member; unset: every entity).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_confidence: Option<f64>,
        /// Leave out its one-word entities shaped like symbols ("RB1", "G6PD"; see
        /// [`hilgen_corpus::shape::is_symbol`]): a back-off member that leaves abbreviations
        /// and gene symbols to the dictionary, which reads them from their definitions.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        skip_symbols: bool,
    },
    /// DANN: nearest neighbours over a tagger's emissions (the same folder's support set).
    Dann {
        /// The model folder (tagger and support set).
        model: PathBuf,
    },
    /// The LLM as a zero-shot tagger.
    Llm {
        /// `llm.json`: the client settings (no secret: the key is read from the environment
        /// variable they name), the annotation format and the prompt templates.
        settings: PathBuf,
    },
    /// Several systems combined by a rule.
    Ensemble {
        /// How their spans are combined.
        method: Method,
        /// Each member's weight (its dev F1 for a weighted vote, else 1).
        weights: Vec<f64>,
        /// The members, in the order the rule was chosen with.
        members: Vec<Member>,
    },
}

/// A member of an ensemble: a component and the name it had in the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// `dictionary`, `tagger/CONFIG`, `dann/CONFIG` or `llm/zero-shot`.
    pub name: String,
    /// The component.
    #[serde(flatten)]
    pub component: Component,
}

impl Component {
    /// Every model folder the component reads.
    pub fn models(&self) -> Vec<&PathBuf> {
        match self {
            Component::Tagger { model, .. } | Component::Dann { model } => vec![model],
            Component::Ensemble { members, .. } => members.iter().flat_map(|m| m.component.models()).collect(),
            _ => vec![],
        }
    }
}

/// Precision, recall and F1 (fractions) of a system on a split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    /// Entity-level micro precision.
    pub precision: f64,
    /// Entity-level micro recall.
    pub recall: f64,
    /// Entity-level micro F1.
    pub f1: f64,
}

/// What the model card says: where the system came from, how it was chosen and how it scored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardInfo {
    /// A name for it (`EXPERIMENT seed S`).
    pub name: String,
    /// The dataset it was trained and scored on, when a known one.
    pub dataset: Option<String>,
    /// Labelled examples per entity type it was made from (K).
    pub k: usize,
    /// Labelled sentences it was made from (the shots).
    pub shots: usize,
    /// The seeds of the run, and the one this system comes from.
    pub seeds: Vec<u64>,
    /// The seed of this system.
    pub seed: Option<u64>,
    /// The encoder its models were fine-tuned from.
    pub encoder: Option<String>,
    /// The knowledge sources of the index (file names with their sha256).
    pub knowledge: Vec<String>,
    /// The LLM, when one was used.
    pub llm: Option<String>,
    /// The selection protocol: which labelled data chose it, and how many sentences that was.
    pub protocol: String,
    /// Labelled dev sentences the choices were made on (0: none).
    pub dev_sentences: usize,
    /// How it was chosen (the candidates and the rule).
    pub chosen: String,
    /// Its dev scores, when chosen on a dev split.
    pub dev: Option<Prf>,
    /// Its test scores as the run reported them (test scored once, never used to choose).
    pub test: Option<Prf>,
    /// Test sentences scored.
    pub test_sentences: usize,
    /// Known limits.
    pub limits: Vec<String>,
}

/// `system.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The hilgen version that wrote it.
    pub hilgen: String,
    /// The entity types it tags.
    pub types: Vec<String>,
    /// What it is, in a few words.
    pub description: String,
    /// The system.
    pub system: Component,
    /// What the model card says.
    pub card: CardInfo,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_round_trip_with_their_type_tag() {
        let c = Component::Ensemble {
            method: Method::Union,
            weights: vec![1.0, 1.0],
            members: vec![
                Member {
                    name: "dictionary".into(),
                    component: Component::Dictionary {
                        dictionary: "dictionary/dictionary.json".into(),
                        kb: Pinned { file: "dictionary/kb.hkb".into(), sha256: "ab".into() },
                    },
                },
                Member {
                    name: "tagger/distant".into(),
                    component: Component::Tagger {
                        model: "models/distant".into(),
                        min_confidence: None,
                        skip_symbols: false,
                    },
                },
            ],
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "ensemble");
        assert_eq!(v["members"][0]["type"], "dictionary");
        assert_eq!(v["members"][1]["name"], "tagger/distant");
        assert_eq!(serde_json::from_value::<Component>(v).unwrap(), c);
        assert_eq!(c.models(), vec![&PathBuf::from("models/distant")]);
        // A back-off member keeps its confidence; a plain tagger writes none (older files read).
        let sure = Component::Tagger { model: "models/distant".into(), min_confidence: Some(0.9), skip_symbols: false };
        let v = serde_json::to_value(&sure).unwrap();
        assert_eq!(v["min_confidence"], 0.9);
        assert!(v.get("skip_symbols").is_none(), "{v}");
        assert_eq!(serde_json::from_value::<Component>(v).unwrap(), sure);
        let words = Component::Tagger { model: "models/distant".into(), min_confidence: Some(0.9), skip_symbols: true };
        let v = serde_json::to_value(&words).unwrap();
        assert_eq!(v["skip_symbols"], true);
        assert_eq!(serde_json::from_value::<Component>(v).unwrap(), words);
        let plain = serde_json::json!({"type": "tagger", "model": "models/distant"});
        assert_eq!(
            serde_json::from_value::<Component>(plain.clone()).unwrap(),
            Component::Tagger { model: "models/distant".into(), min_confidence: None, skip_symbols: false }
        );
        let written = Component::Tagger { model: "models/distant".into(), min_confidence: None, skip_symbols: false };
        assert_eq!(serde_json::to_value(&written).unwrap(), plain);
        let bad = serde_json::json!({"type": "crf", "model": "m"});
        assert!(serde_json::from_value::<Component>(bad).unwrap_err().to_string().contains("crf"));
    }
}

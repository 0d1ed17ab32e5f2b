//! Distant supervision (`distant`): the dictionary (the knowledge graph as a tagger, its types
//! learned from the shots and its filters chosen on dev) labels unlabelled in-domain text, and
//! those silver sentences train the tagger beside the shots. Noise-aware with `o_weight` < 1:
//! the words the dictionary leaves `O` (some of them missed entities) weigh less in training
//! (0: unknown, as AutoNER treats them). With `unknown`, partial annotation instead: the `O`
//! words that look like entity words ([`crate::unknown`]) are left out of the loss.

use crate::strategy::{bad_params, parse_params, Input, Need, Needs, Output, Strategy};
use crate::unknown::UnknownRule;
use crate::{Provenance, Result, Synthetic};
use hilgen_corpus::Sentence;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The `distant` strategy's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Distant {
    /// Loss weight of the silver sentences' `O` words.
    pub o_weight: f64,
    /// Label at most this many pool sentences (a seeded sample); all when absent.
    pub max_sentences: Option<usize>,
    /// Keep only sentences with at least one match (by default the pool keeps its real share of
    /// sentences without entities).
    pub matched_only: bool,
    /// Partial annotation: which `O` words are marked unknown (left out of the loss); none
    /// when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<UnknownRule>,
}

impl Default for Distant {
    fn default() -> Self {
        Distant { o_weight: 1.0, max_sentences: None, matched_only: false, unknown: None }
    }
}

impl Distant {
    /// The registry's constructor.
    pub fn build(kind: &str, params: &serde_json::Map<String, serde_json::Value>) -> Result<Box<dyn Strategy>> {
        let s: Distant = parse_params(kind, params)?;
        if !(0.0..=1.0).contains(&s.o_weight) || s.max_sentences == Some(0) {
            return Err(bad_params(kind, "o_weight must be in [0, 1] and max_sentences at least 1"));
        }
        if let Some(Err(e)) = s.unknown.as_ref().map(UnknownRule::check) {
            return Err(bad_params(kind, e));
        }
        Ok(Box::new(s))
    }
}

impl Strategy for Distant {
    fn kind(&self) -> &str {
        "distant"
    }

    fn needs(&self) -> Needs {
        Needs { kb: Need::Required, pool: Need::Required, dictionary: Need::Required, ..Needs::default() }
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("parameters serialize")
    }

    fn o_weight(&self) -> f64 {
        self.o_weight
    }

    fn augment(&self, input: &Input<'_>) -> Result<Output> {
        let pool = input.require_pool("distant")?;
        let dictionary = input.require_dictionary("distant")?;
        // The shots are in the pool when it is the training split: they keep their gold labels.
        let shot_tokens: HashSet<&[String]> = input.shots.iter().map(|s| s.tokens.as_slice()).collect();
        let mut chosen: Vec<&Sentence> =
            pool.iter().filter(|s| !s.is_empty() && !shot_tokens.contains(s.tokens.as_slice())).collect();
        if let Some(n) = self.max_sentences.filter(|&n| n < chosen.len()) {
            let mut rng = ChaCha8Rng::seed_from_u64(input.seed);
            chosen.shuffle(&mut rng);
            chosen.truncate(n);
        }
        let owned: Vec<Sentence> = chosen.into_iter().cloned().collect();
        let mut tagged = dictionary.tag(&owned);
        if let Some(rule) = &self.unknown {
            let marked = rule.mark(&mut tagged);
            let words: usize = tagged.iter().map(Sentence::len).sum();
            tracing::info!("partial annotation: {marked} of {words} silver words marked unknown");
        }
        let synthetic = tagged
            .into_iter()
            .filter(|s| !self.matched_only || s.tags.iter().any(|t| t != "O"))
            .map(|sentence| Synthetic {
                provenance: Provenance {
                    strategy: "distant".into(),
                    source_sentence: None,
                    mention: None,
                    concept: String::new(),
                    linked_by: "dictionary".into(),
                    substitute: String::new(),
                    relation: match &self.unknown {
                        None => format!("dictionary/o_weight={}", self.o_weight),
                        Some(u) => format!(
                            "dictionary/o_weight={}/unknown={}",
                            self.o_weight,
                            serde_json::to_string(u).expect("serializes")
                        ),
                    },
                    model: None,
                    request: None,
                },
                sentence,
            })
            .collect();
        Ok(Output::of(synthetic))
    }
}

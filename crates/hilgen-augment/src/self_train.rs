//! Self-training (`self-train`): a teacher (the best system on dev so far) labels the unlabelled
//! pool; its spans whose every word's probability reaches a threshold are merged with the
//! dictionary's (the teacher's first and the dictionary's where they overlap none, or the
//! other way round), the threshold and the order being those whose labelling of dev scores
//! best, and the silver sentences train a student. `rounds` rounds (default 2): each student
//! may teach the next round.

use crate::strategy::{bad_params, parse_params, Input, Need, Needs, Output, Scored, Strategy};
use crate::{Provenance, Result, Synthetic};
use hilgen_corpus::{scheme, Scheme, Sentence, Span};
use hilgen_metrics::{evaluate_sentences, Options, ZeroDivision};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The `self-train` strategy's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelfTrain {
    /// Rounds.
    pub rounds: usize,
    /// Thresholds tried on dev (probability every word of a kept span reaches).
    pub thresholds: Vec<f64>,
    /// Add the dictionary's spans where they overlap no kept teacher span.
    pub merge_dictionary: bool,
    /// Loss weight of the silver sentences' `O` words.
    pub o_weight: f64,
}

impl Default for SelfTrain {
    fn default() -> Self {
        SelfTrain {
            rounds: 2,
            thresholds: vec![0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99],
            merge_dictionary: true,
            o_weight: 1.0,
        }
    }
}

impl SelfTrain {
    /// The registry's constructor.
    pub fn build(kind: &str, params: &serde_json::Map<String, serde_json::Value>) -> Result<Box<dyn Strategy>> {
        let s: SelfTrain = parse_params(kind, params)?;
        if s.rounds == 0 || s.thresholds.is_empty() || s.thresholds.iter().any(|t| !(0.0..=1.0).contains(t)) {
            return Err(bad_params(kind, "rounds must be at least 1 and thresholds a non-empty list in [0, 1]"));
        }
        if !(0.0..=1.0).contains(&s.o_weight) {
            return Err(bad_params(kind, "o_weight must be in [0, 1]"));
        }
        Ok(Box::new(s))
    }
}

/// The teacher's spans whose words all reach `threshold` merged with `extra` spans: with
/// `extra_first`, the extra spans and the teacher's that overlap none of them; otherwise the
/// other way round. IOB2 tags for `scored`'s tokens.
pub fn merge(scored: &Scored, extra: Option<&Sentence>, threshold: f64, extra_first: bool) -> Sentence {
    let s = &scored.sentence;
    let teacher: Vec<Span> = scheme::parse_tags(&s.tags)
        .map(|p| scheme::decode_lenient(&p))
        .unwrap_or_default()
        .into_iter()
        .filter(|sp| scored.probs[sp.start..sp.end].iter().all(|&p| p as f64 >= threshold))
        .collect();
    let other: Vec<Span> = extra
        .map(|e| scheme::parse_tags(&e.tags).map(|p| scheme::decode_lenient(&p)).unwrap_or_default())
        .unwrap_or_default();
    let (first, second) = if extra_first { (other, teacher) } else { (teacher, other) };
    let mut spans = first;
    for m in second {
        if spans.iter().all(|k| k.end <= m.start || k.start >= m.end) {
            spans.push(m);
        }
    }
    spans.sort_by_key(|sp| sp.start);
    let tags = scheme::encode(&spans, s.len(), Scheme::Iob2).expect("disjoint, sorted spans");
    Sentence { tokens: s.tokens.clone(), tags, doc_id: s.doc_id.clone(), concepts: Vec::new(), unknown: Vec::new() }
}

impl Strategy for SelfTrain {
    fn kind(&self) -> &str {
        "self-train"
    }

    fn needs(&self) -> Needs {
        let dictionary = if self.merge_dictionary { Need::Required } else { Need::No };
        Needs { kb: dictionary, pool: Need::Required, dictionary, teacher: true, ..Needs::default() }
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("parameters serialize")
    }

    fn o_weight(&self) -> f64 {
        self.o_weight
    }

    fn rounds(&self) -> usize {
        self.rounds
    }

    fn augment(&self, input: &Input<'_>) -> Result<Output> {
        let teacher = input.teacher.ok_or_else(|| crate::AugmentError::Missing {
            strategy: "self-train".into(),
            what: "a teacher (the best system on dev so far)",
        })?;
        let dictionary = if self.merge_dictionary { Some(input.require_dictionary("self-train")?) } else { None };
        let tag = |xs: &[Scored]| -> Option<Vec<Sentence>> {
            dictionary.map(|d| d.tag(&xs.iter().map(|x| x.sentence.clone()).collect::<Vec<_>>()))
        };
        // The threshold and order whose labelling of dev scores best (the first best).
        let dev_dict = tag(teacher.dev);
        let o = Options { zero_division: ZeroDivision::Zero, ..Options::default() };
        let mut best = (f64::NEG_INFINITY, self.thresholds[0], false);
        let orders: &[bool] = if dev_dict.is_some() { &[false, true] } else { &[false] };
        for &dictionary_first in orders {
            for &t in &self.thresholds {
                let labelled: Vec<Sentence> = teacher
                    .dev
                    .iter()
                    .enumerate()
                    .map(|(i, x)| merge(x, dev_dict.as_ref().map(|d| &d[i]), t, dictionary_first))
                    .collect();
                let f1 = evaluate_sentences(teacher.dev_gold, &labelled, o)?.micro.f1;
                if f1 > best.0 {
                    best = (f1, t, dictionary_first);
                }
            }
        }
        let (dev_f1, threshold, dictionary_first) = best;
        tracing::info!(
            teacher = teacher.system,
            threshold,
            dictionary_first,
            dev_f1,
            "self-training labelling chosen on dev"
        );
        let shot_tokens: HashSet<&[String]> = input.shots.iter().map(|s| s.tokens.as_slice()).collect();
        let pool_dict = tag(teacher.pool);
        let synthetic = teacher
            .pool
            .iter()
            .enumerate()
            .filter(|(_, x)| !x.sentence.is_empty() && !shot_tokens.contains(x.sentence.tokens.as_slice()))
            .map(|(i, x)| Synthetic {
                sentence: merge(x, pool_dict.as_ref().map(|d| &d[i]), threshold, dictionary_first),
                provenance: Provenance {
                    strategy: "self-train".into(),
                    source_sentence: None,
                    mention: None,
                    concept: String::new(),
                    linked_by: "teacher".into(),
                    substitute: String::new(),
                    relation: format!(
                        "teacher={}/threshold={threshold}/dictionary_first={dictionary_first}/dev_f1={dev_f1:.4}",
                        teacher.system
                    ),
                    model: None,
                    request: None,
                },
            })
            .collect();
        Ok(Output::of(synthetic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_spans_and_the_dictionarys() {
        let s = Sentence::new(
            "A caused B and C".split(' ').map(String::from).collect(),
            ["B-Chemical", "O", "B-Disease", "O", "O"].map(String::from).to_vec(),
        )
        .unwrap();
        let scored = Scored { sentence: s.clone(), probs: vec![0.99, 0.9, 0.6, 0.9, 0.9] };
        let mut dict = s.clone();
        dict.tags = ["O", "O", "O", "O", "B-Disease"].map(String::from).to_vec();
        assert_eq!(merge(&scored, None, 0.8, false).tags, ["B-Chemical", "O", "O", "O", "O"]);
        assert_eq!(merge(&scored, Some(&dict), 0.8, false).tags, ["B-Chemical", "O", "O", "O", "B-Disease"]);
        assert_eq!(merge(&scored, None, 0.5, false).tags, s.tags);
        // The dictionary's spans first: a teacher span overlapping one gives way.
        let mut clash = s.clone();
        clash.tags = ["B-Disease", "O", "O", "O", "O"].map(String::from).to_vec();
        assert_eq!(merge(&scored, Some(&clash), 0.5, true).tags, ["B-Disease", "O", "B-Disease", "O", "O"]);
        assert_eq!(merge(&scored, Some(&clash), 0.5, false).tags, s.tags);
    }
}

//! Self-training (`self-train`): a teacher (the best system on dev so far) labels the unlabelled
//! pool; its spans whose every word's probability reaches a threshold are merged with the
//! dictionary's (the teacher's first and the dictionary's where they overlap none, or the
//! other way round), the threshold and the order being those whose labelling of dev scores
//! best, and the silver sentences train a student. `rounds` rounds (default 2): each student
//! may teach the next round. `teacher`, a single threshold and `dictionary_first` fix those
//! choices instead (a student of the back-off's labels: `teacher = "tagger/distant"`,
//! `thresholds = [0.9]`, `dictionary_first = true`), so nothing is chosen on dev. With
//! `unsure_unknown`, the words the teacher is not sure of stay out of the student's loss
//! (BOND's high-confidence selection) instead of being taught `O`. With `soft`, the words
//! outside the kept spans learn the teacher's distribution over the labels, sharpened as
//! BOND's soft labels are (each label's probability squared over its mass on the pool,
//! normalised), instead of `O`.

use crate::strategy::{bad_params, parse_params, Input, Need, Needs, Output, Scored, Strategy};
use crate::{Provenance, Result, Synthetic};
use hilgen_corpus::{scheme, Scheme, Sentence, SoftTargets, Span};
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
    /// The teacher system (`tagger/distant`, `dann/distant`, ...); default: the best on dev
    /// among the models trained before the round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher: Option<String>,
    /// The dictionary's spans first (`true`) or the teacher's (`false`); default: the order
    /// whose labelling of dev scores best.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dictionary_first: Option<bool>,
    /// Leave out of the loss (mark unknown) the words outside every kept span that the
    /// teacher tagged as an entity below the threshold, or as `O` with a probability below
    /// it: the student is taught `O` only where the teacher is sure (BOND's high-confidence
    /// selection, with hard labels).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unsure_unknown: bool,
    /// Train the words outside every kept span on the teacher's sharpened distribution over
    /// the labels (BOND's soft labels: `p_j^2 / f_j`, normalised, where `f_j` is label `j`'s
    /// probability summed over the pool's words) instead of `O`. The teacher must be a
    /// tagger, fixed by `teacher`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub soft: bool,
}

impl Default for SelfTrain {
    fn default() -> Self {
        SelfTrain {
            rounds: 2,
            thresholds: vec![0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99],
            merge_dictionary: true,
            o_weight: 1.0,
            teacher: None,
            dictionary_first: None,
            unsure_unknown: false,
            soft: false,
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
        if s.dictionary_first.is_some() && !s.merge_dictionary {
            return Err(bad_params(
                kind,
                "dictionary_first orders the dictionary's spans and the teacher's: it needs merge_dictionary",
            ));
        }
        if let Some(t) = &s.teacher {
            if !(t.starts_with("tagger/") || t.starts_with("dann/")) || t.contains('@') {
                return Err(bad_params(
                    kind,
                    format!("teacher is a trained system, `tagger/CONFIG` or `dann/CONFIG`; got `{t}`"),
                ));
            }
        }
        if s.soft {
            if !s.teacher.as_deref().is_some_and(|t| t.starts_with("tagger/")) {
                return Err(bad_params(
                    kind,
                    "soft reads a tagger's distribution over the labels: fix the teacher to one, `teacher = \"tagger/CONFIG\"`",
                ));
            }
            if s.unsure_unknown {
                return Err(bad_params(
                    kind,
                    "soft and unsure_unknown both decide the words outside the kept spans: choose one",
                ));
            }
        }
        Ok(Box::new(s))
    }
}

/// Each label's probability summed over the words of `scored` (BOND's label frequency, by
/// which [`sharpen`] divides), in the order of the distributions' labels; `None` when a
/// sentence lacks distributions or their labels differ.
pub fn label_mass(scored: &[Scored]) -> Option<(Vec<String>, Vec<f64>)> {
    let labels = scored.first()?.distributions.as_ref()?.labels.clone();
    let mut mass = vec![0f64; labels.len()];
    for x in scored {
        let d = x.distributions.as_ref().filter(|d| d.labels == labels)?;
        for (_, p) in &d.words {
            for (m, &v) in mass.iter_mut().zip(p) {
                *m += v as f64;
            }
        }
    }
    Some((labels, mass))
}

/// BOND's sharpened soft label: `p_j^2 / mass_j`, normalised (labels without mass get 0).
pub fn sharpen(p: &[f32], mass: &[f64]) -> Vec<f32> {
    let raw: Vec<f64> =
        p.iter().zip(mass).map(|(&v, &m)| if m > 0.0 { (v as f64) * (v as f64) / m } else { 0.0 }).collect();
    let sum: f64 = raw.iter().sum();
    if sum <= 0.0 {
        return p.to_vec();
    }
    raw.iter().map(|v| (v / sum) as f32).collect()
}

/// Gives the words of `labelled` outside its spans (tag `O`, not unknown) the teacher's
/// sharpened distribution from `scored` as their soft targets.
pub fn soften(labelled: &mut Sentence, scored: &Scored, labels: &[String], mass: &[f64]) {
    let Some(d) = &scored.distributions else { return };
    let words: Vec<(usize, Vec<f32>)> = d
        .words
        .iter()
        .filter(|(i, _)| labelled.tags.get(*i).is_some_and(|t| t == "O") && labelled.unknown.binary_search(i).is_err())
        .map(|(i, p)| (*i, sharpen(p, mass)))
        .collect();
    if !words.is_empty() {
        labelled.soft = Some(SoftTargets { labels: labels.to_vec(), words });
    }
}

/// The teacher's spans whose words all reach `threshold` merged with `extra` spans: with
/// `extra_first`, the extra spans and the teacher's that overlap none of them; otherwise the
/// other way round. IOB2 tags for `scored`'s tokens; with `unsure_unknown`, the words outside
/// the merged spans whose teacher tag is an entity's or has a probability below `threshold`
/// are unknown ([`Sentence::unknown`]).
pub fn merge(
    scored: &Scored,
    extra: Option<&Sentence>,
    threshold: f64,
    extra_first: bool,
    unsure_unknown: bool,
) -> Sentence {
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
        if !spans.iter().any(|k| k.overlaps(&m)) {
            spans.push(m);
        }
    }
    spans.sort_by_key(|sp| sp.start);
    let tags = scheme::encode(&spans, s.len(), Scheme::Iob2).expect("disjoint, sorted spans");
    let unknown = if unsure_unknown {
        (0..s.len()).filter(|&i| tags[i] == "O" && (s.tags[i] != "O" || (scored.probs[i] as f64) < threshold)).collect()
    } else {
        Vec::new()
    };
    Sentence { tokens: s.tokens.clone(), tags, doc_id: s.doc_id.clone(), concepts: Vec::new(), unknown, soft: None }
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

    fn teacher(&self) -> Option<&str> {
        self.teacher.as_deref()
    }

    fn teacher_distributions(&self) -> bool {
        self.soft
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
        let orders: &[bool] = match (self.dictionary_first, dev_dict.is_some()) {
            (Some(true), _) => &[true],
            (Some(false), _) | (None, false) => &[false],
            (None, true) => &[false, true],
        };
        for &dictionary_first in orders {
            for &t in &self.thresholds {
                let labelled: Vec<Sentence> = teacher
                    .dev
                    .iter()
                    .enumerate()
                    .map(|(i, x)| merge(x, dev_dict.as_ref().map(|d| &d[i]), t, dictionary_first, false))
                    .collect();
                let f1 = evaluate_sentences(teacher.dev_gold, &labelled, o)?.micro.f1;
                if f1 > best.0 {
                    best = (f1, t, dictionary_first);
                }
            }
        }
        let (dev_f1, threshold, dictionary_first) = best;
        let chosen_on_dev = self.thresholds.len() > 1 || orders.len() > 1;
        tracing::info!(
            teacher = teacher.system,
            threshold,
            dictionary_first,
            dev_f1,
            chosen_on_dev,
            "self-training labelling"
        );
        let shot_tokens: HashSet<&[String]> = input.shots.iter().map(|s| s.tokens.as_slice()).collect();
        let pool_dict = tag(teacher.pool);
        let soft = match self.soft {
            true => Some(label_mass(teacher.pool).ok_or_else(|| crate::AugmentError::Missing {
                strategy: "self-train".into(),
                what: "the teacher's distributions over the labels for every pool sentence (soft)",
            })?),
            false => None,
        };
        if let Some((labels, mass)) = &soft {
            tracing::info!(?labels, ?mass, "soft labels: each label's mass on the pool");
        }
        let synthetic = teacher
            .pool
            .iter()
            .enumerate()
            .filter(|(_, x)| !x.sentence.is_empty() && !shot_tokens.contains(x.sentence.tokens.as_slice()))
            .map(|(i, x)| Synthetic {
                sentence: {
                    let mut m =
                        merge(x, pool_dict.as_ref().map(|d| &d[i]), threshold, dictionary_first, self.unsure_unknown);
                    if let Some((labels, mass)) = &soft {
                        soften(&mut m, x, labels, mass);
                    }
                    m
                },
                provenance: Provenance {
                    strategy: "self-train".into(),
                    source_sentence: None,
                    mention: None,
                    concept: String::new(),
                    linked_by: "teacher".into(),
                    substitute: String::new(),
                    relation: format!(
                        "teacher={}/threshold={threshold}/dictionary_first={dictionary_first}/unsure_unknown={}{}/dev_f1={dev_f1:.4}",
                        teacher.system,
                        self.unsure_unknown,
                        if self.soft { "/soft" } else { "" }
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
    fn fixed_choices_are_checked() {
        let build = |json: serde_json::Value| SelfTrain::build("self-train", json.as_object().unwrap());
        let s = build(serde_json::json!({"teacher": "tagger/distant", "thresholds": [0.9], "dictionary_first": true}))
            .unwrap();
        assert_eq!(s.teacher(), Some("tagger/distant"));
        assert_eq!(s.params()["dictionary_first"], true);
        // Unset, the fixed choices do not enter the parameters (older runs keep their hashes).
        let d = build(serde_json::json!({})).unwrap();
        assert!(d.params().get("teacher").is_none() && d.params().get("dictionary_first").is_none());
        assert_eq!(d.teacher(), None);
        for bad in [
            serde_json::json!({"teacher": "dictionary"}),
            serde_json::json!({"teacher": "tagger/distant@0.9"}),
            serde_json::json!({"dictionary_first": true, "merge_dictionary": false}),
        ] {
            assert!(build(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn confident_spans_and_the_dictionarys() {
        let s = Sentence::new(
            "A caused B and C".split(' ').map(String::from).collect(),
            ["B-Chemical", "O", "B-Disease", "O", "O"].map(String::from).to_vec(),
        )
        .unwrap();
        let scored = Scored { sentence: s.clone(), probs: vec![0.99, 0.9, 0.6, 0.9, 0.9], distributions: None };
        let mut dict = s.clone();
        dict.tags = ["O", "O", "O", "O", "B-Disease"].map(String::from).to_vec();
        assert_eq!(merge(&scored, None, 0.8, false, false).tags, ["B-Chemical", "O", "O", "O", "O"]);
        assert_eq!(merge(&scored, Some(&dict), 0.8, false, false).tags, ["B-Chemical", "O", "O", "O", "B-Disease"]);
        assert_eq!(merge(&scored, None, 0.5, false, false).tags, s.tags);
        // The dictionary's spans first: a teacher span overlapping one gives way.
        let mut clash = s.clone();
        clash.tags = ["B-Disease", "O", "O", "O", "O"].map(String::from).to_vec();
        assert_eq!(merge(&scored, Some(&clash), 0.5, true, false).tags, ["B-Disease", "O", "B-Disease", "O", "O"]);
        assert_eq!(merge(&scored, Some(&clash), 0.5, false, false).tags, s.tags);
        // Unsure words stay out of the loss: B (a teacher entity below the threshold) and the
        // `O` words the teacher gives less than it; the kept spans and sure `O` words stay.
        let sure_o = Scored { probs: vec![0.99, 0.95, 0.6, 0.7, 0.95], ..scored.clone() };
        let m = merge(&sure_o, Some(&dict), 0.8, true, true);
        assert_eq!(m.tags, ["B-Chemical", "O", "O", "O", "B-Disease"]);
        assert_eq!(m.unknown, vec![2, 3]);
        assert!(merge(&sure_o, Some(&dict), 0.8, true, false).unknown.is_empty());
    }

    #[test]
    fn soft_labels_are_the_teachers_sharpened_distributions_outside_the_kept_spans() {
        let labels: Vec<String> = ["O", "B-Disease", "I-Disease"].map(String::from).to_vec();
        let s = Sentence::new(
            "flu and mild cough".split(' ').map(String::from).collect(),
            ["B-Disease", "O", "O", "B-Disease"].map(String::from).to_vec(),
        )
        .unwrap();
        let dist = vec![
            (0, vec![0.02, 0.97, 0.01]),
            (1, vec![0.98, 0.01, 0.01]),
            (2, vec![0.6, 0.35, 0.05]),
            (3, vec![0.3, 0.6, 0.1]),
        ];
        let scored = Scored {
            sentence: s.clone(),
            probs: vec![0.97, 0.98, 0.6, 0.6],
            distributions: Some(SoftTargets { labels: labels.clone(), words: dist }),
        };
        let (l, mass) = label_mass(std::slice::from_ref(&scored)).unwrap();
        assert_eq!(l, labels);
        assert!((mass[0] - 1.9).abs() < 1e-6 && (mass[1] - 1.93).abs() < 1e-6 && (mass[2] - 0.17).abs() < 1e-6);
        // BOND: p^2 / f, normalised; a label's share grows where the pool gives it little mass.
        let q = sharpen(&[0.6, 0.35, 0.05], &mass);
        let raw = [0.36 / 1.9, 0.1225 / 1.93, 0.0025 / 0.17];
        let sum: f64 = raw.iter().sum();
        for (a, b) in q.iter().zip(raw) {
            assert!((*a as f64 - b / sum).abs() < 1e-6, "{q:?}");
        }
        assert!((q.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // Kept span: "flu" (teacher, p >= 0.9); "cough" (p 0.6) is not kept: O, and soft.
        let mut m = merge(&scored, None, 0.9, false, false);
        assert_eq!(m.tags, ["B-Disease", "O", "O", "O"]);
        soften(&mut m, &scored, &labels, &mass);
        let soft = m.soft.as_ref().unwrap();
        assert_eq!(soft.words.iter().map(|w| w.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(soft.of(2).unwrap(), q.as_slice());
        assert!(soft.of(0).is_none());
        // Without distributions nothing changes; a pool sentence without them: no mass.
        let plain = Scored { distributions: None, ..scored.clone() };
        let mut n = merge(&plain, None, 0.9, false, false);
        soften(&mut n, &plain, &labels, &mass);
        assert!(n.soft.is_none());
        assert!(label_mass(&[scored, plain]).is_none());
    }

    #[test]
    fn soft_needs_a_fixed_tagger_teacher_and_no_unsure_unknown() {
        let build = |json: serde_json::Value| SelfTrain::build("self-train", json.as_object().unwrap());
        let ok = build(serde_json::json!({"teacher": "tagger/distant", "thresholds": [0.9], "soft": true})).unwrap();
        assert!(ok.teacher_distributions());
        assert_eq!(ok.params()["soft"], true);
        assert!(build(serde_json::json!({})).unwrap().params().get("soft").is_none());
        for (bad, says) in [
            (serde_json::json!({"soft": true}), "fix the teacher"),
            (serde_json::json!({"soft": true, "teacher": "dann/distant"}), "fix the teacher"),
            (serde_json::json!({"soft": true, "teacher": "tagger/distant", "unsure_unknown": true}), "choose one"),
        ] {
            let err = build(bad.clone()).err().unwrap().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}

//! Sentences, mentions and corpora with named splits.

use crate::error::{CorpusError, Result};
use crate::scheme::{self, Scheme, Span};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Concept identifiers attached to the mention at tokens `start..end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConceptLink {
    /// First token of the mention.
    pub start: usize,
    /// One past its last token.
    pub end: usize,
    /// Normalized concept IDs (see [`crate::pubtator::normalize_concept_id`]).
    pub ids: Vec<String>,
}

/// One tokenized sentence with one tag per token.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Sentence {
    /// The tokens.
    pub tokens: Vec<String>,
    /// One tag per token (`O`, `B-Disease`, ...).
    pub tags: Vec<String>,
    /// The document this sentence came from, when known (a PMID, or a `-DOCSTART-` ordinal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
    /// Concept IDs of some mentions, keyed by their token range, sorted by `start`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concepts: Vec<ConceptLink>,
    /// Partial annotation: the words (indices, ascending) whose `O` is not known to be right,
    /// such as the words a dictionary left unlabelled that look like entity words. Training
    /// leaves them out of the loss; everything else reads them as `O`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<usize>,
    /// Soft targets: for some words, a probability over the labels that training reads in
    /// place of the word's tag (a teacher's sharpened distribution, as BOND's self-training
    /// trains on). Everything else reads the tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft: Option<SoftTargets>,
}

/// Per-word probability distributions over a label set (soft training targets).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SoftTargets {
    /// The labels the distributions are over, in order.
    pub labels: Vec<String>,
    /// `(word, probabilities)`, ascending by word; one probability per label, summing to 1.
    pub words: Vec<(usize, Vec<f32>)>,
}

impl SoftTargets {
    /// The distribution of word `i`, when it has one.
    pub fn of(&self, i: usize) -> Option<&[f32]> {
        self.words.binary_search_by_key(&i, |w| w.0).ok().map(|k| self.words[k].1.as_slice())
    }

    /// What is wrong with these targets for a sentence of `n` words, if anything: words not
    /// ascending, past the sentence, or whose probabilities are not one per label in [0, 1]
    /// summing to 1.
    pub fn problem(&self, n: usize) -> Option<String> {
        if self.words.windows(2).any(|p| p[0].0 >= p[1].0) {
            return Some("`soft` must list word indices in ascending order, each once".into());
        }
        for (w, p) in &self.words {
            if *w >= n {
                return Some(format!("`soft` word {w} is past the sentence's {n} words"));
            }
            if p.len() != self.labels.len() {
                return Some(format!(
                    "`soft` word {w} has {} probabilities for {} labels (expected one per label)",
                    p.len(),
                    self.labels.len()
                ));
            }
            let sum: f32 = p.iter().sum();
            if p.iter().any(|x| !(0.0..=1.0).contains(x)) || (sum - 1.0).abs() > 1e-3 {
                return Some(format!("`soft` word {w}: expected probabilities in [0, 1] summing to 1, got {p:?}"));
            }
        }
        None
    }
}

/// A mention: a span with its concept IDs (empty when unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Token range and type.
    #[serde(flatten)]
    pub span: Span,
    /// Concept IDs, when the corpus carries them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concept_ids: Vec<String>,
}

impl Sentence {
    /// Builds a sentence; tokens and tags must have the same length.
    pub fn new(tokens: Vec<String>, tags: Vec<String>) -> Result<Sentence> {
        if tokens.len() != tags.len() {
            return Err(CorpusError::Invalid(format!("{} tokens but {} tags", tokens.len(), tags.len())));
        }
        Ok(Sentence { tokens, tags, doc_id: None, concepts: Vec::new(), unknown: Vec::new(), soft: None })
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the sentence has no token.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The same tokens and document id with every tag `O` (text to tag; concept IDs dropped).
    pub fn untagged(&self) -> Sentence {
        Sentence {
            tokens: self.tokens.clone(),
            tags: vec!["O".into(); self.tokens.len()],
            doc_id: self.doc_id.clone(),
            concepts: Vec::new(),
            unknown: Vec::new(),
            soft: None,
        }
    }

    /// The entities, decoded leniently (conlleval rules), with concept IDs where attached.
    pub fn mentions(&self) -> Result<Vec<Mention>> {
        let parsed = scheme::parse_tags(&self.tags)?;
        Ok(scheme::decode_lenient(&parsed)
            .into_iter()
            .map(|span| {
                let concept_ids = self.concept_ids(span.start, span.end).to_vec();
                Mention { span, concept_ids }
            })
            .collect())
    }

    /// The concept IDs attached to tokens `start..end` (empty when none).
    pub fn concept_ids(&self, start: usize, end: usize) -> &[String] {
        self.concepts.iter().find(|c| c.start == start && c.end == end).map(|c| c.ids.as_slice()).unwrap_or(&[])
    }

    /// Attaches concept IDs to the mention at `start..end`, replacing earlier ones.
    pub fn set_concept_ids(&mut self, start: usize, end: usize, ids: Vec<String>) {
        self.concepts.retain(|c| !(c.start == start && c.end == end));
        if !ids.is_empty() {
            let at = self.concepts.partition_point(|c| c.start < start);
            self.concepts.insert(at, ConceptLink { start, end, ids });
        }
    }

    /// The sentence's text with tokens joined by single spaces.
    pub fn text(&self) -> String {
        self.tokens.join(" ")
    }
}

/// A corpus: named splits (`train`, `devel`, `test`, ...) of sentences.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Corpus {
    /// Splits by name, in name order.
    pub splits: BTreeMap<String, Vec<Sentence>>,
}

impl Corpus {
    /// An empty corpus.
    pub fn new() -> Corpus {
        Corpus::default()
    }

    /// Adds or replaces a split.
    pub fn insert(&mut self, name: impl Into<String>, sentences: Vec<Sentence>) {
        self.splits.insert(name.into(), sentences);
    }

    /// One split by name, or an error listing the splits there are.
    pub fn split(&self, name: &str) -> Result<&[Sentence]> {
        self.splits.get(name).map(Vec::as_slice).ok_or_else(|| {
            let have: Vec<&str> = self.splits.keys().map(String::as_str).collect();
            CorpusError::Invalid(format!("no split `{name}`; the corpus has: {}", have.join(", ")))
        })
    }

    /// The entity types found in any split, sorted.
    pub fn label_set(&self) -> BTreeSet<String> {
        label_set(self.splits.values().flatten())
    }
}

/// The entity types (tags without prefix) used by some sentences, sorted.
pub fn label_set<'a>(sentences: impl IntoIterator<Item = &'a Sentence>) -> BTreeSet<String> {
    let mut labels = BTreeSet::new();
    for s in sentences {
        for t in &s.tags {
            if let Some((_, label)) = t.split_once('-') {
                if !labels.contains(label) {
                    labels.insert(label.to_string());
                }
            }
        }
    }
    labels
}

/// Checks every sentence strictly against `scheme`; the error names sentence and token.
pub fn validate(sentences: &[Sentence], scheme: Scheme) -> Result<()> {
    for (i, s) in sentences.iter().enumerate() {
        if let Some((t, e)) =
            s.tags.iter().enumerate().find_map(|(t, tag)| scheme::Tag::parse(tag).err().map(|e| (t, e)))
        {
            return Err(CorpusError::InvalidSequence {
                sentence: i,
                token: t,
                word: s.tokens[t].clone(),
                message: e.to_string(),
            });
        }
        let seq = scheme::decode_strict(&s.tags, scheme)?;
        if let Err(v) = seq {
            return Err(CorpusError::InvalidSequence {
                sentence: i,
                token: v.token,
                word: s.tokens[v.token].clone(),
                message: format!("`{}` is not valid {scheme} here; expected `{}`", v.found, v.expected),
            });
        }
    }
    Ok(())
}

/// Repairs every sentence leniently into `scheme`, returning what changed in total.
pub fn repair_all(sentences: &mut [Sentence], scheme: Scheme) -> Result<scheme::RepairReport> {
    let mut total = scheme::RepairReport::default();
    for s in sentences.iter_mut() {
        let (fixed, report) = scheme::repair(&s.tags, scheme)?;
        s.tags = fixed;
        total.merge(&report);
    }
    Ok(total)
}

/// Converts every sentence from one scheme to another (strict on the input).
pub fn convert_all(sentences: &mut [Sentence], from: Scheme, to: Scheme) -> Result<()> {
    validate(sentences, from)?;
    for s in sentences.iter_mut() {
        let spans = scheme::decode_lenient(&scheme::parse_tags(&s.tags)?);
        s.tags = scheme::encode(&spans, s.len(), to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(tokens: &str, tags: &str) -> Sentence {
        let t = |s: &str| s.split_whitespace().map(String::from).collect();
        Sentence::new(t(tokens), t(tags)).unwrap()
    }

    #[test]
    fn mentions_carry_concepts() {
        let mut s = sent("aspirin causes liver damage", "B-Chemical O B-Disease I-Disease");
        s.set_concept_ids(2, 4, vec!["MESH:D056486".into()]);
        let m = s.mentions().unwrap();
        assert_eq!(m.len(), 2);
        assert!(m[0].concept_ids.is_empty());
        assert_eq!(m[1].concept_ids, vec!["MESH:D056486".to_string()]);
        assert_eq!(m[1].span, Span::new(2, 4, "Disease"));
    }

    #[test]
    fn validate_names_sentence_and_token() {
        let ok = sent("a b", "B-X I-X");
        let bad = sent("x y z", "O I-X O");
        let err = validate(&[ok.clone(), bad], Scheme::Iob2).unwrap_err().to_string();
        assert!(err.contains("sentence 2, token 2 (`y`, counting from 1)"), "{err}");
        let odd = sent("p q", "O B_X");
        let err = validate(&[ok, odd], Scheme::Iob2).unwrap_err().to_string();
        assert!(err.contains("sentence 2, token 2 (`q`, counting from 1): invalid tag `B_X`"), "{err}");
    }

    #[test]
    fn label_set_and_split_errors() {
        let mut c = Corpus::new();
        c.insert("train", vec![sent("a b", "B-X O"), sent("c", "S-Y")]);
        assert_eq!(c.label_set().into_iter().collect::<Vec<_>>(), vec!["X", "Y"]);
        assert!(c.split("test").unwrap_err().to_string().contains("train"));
    }
}

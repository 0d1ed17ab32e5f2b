//! The simple augmentations of Dai & Adel (2020, "An Analysis of Simple Data Augmentation for
//! Named Entity Recognition"), seeded:
//!
//! - label-wise token replacement (LwTR): each token, with probability `p`, becomes a random
//!   token that carries the same tag in the shots;
//! - synonym replacement (SR): each token, with probability `p`, becomes another name of the
//!   concept its text links to exactly in the knowledge graph (the thesaurus), tags extended
//!   (`B-X I-X ...` inside an entity, `O` outside);
//! - mention replacement (MR): each mention, with probability `p`, becomes another mention of
//!   the same type from the shots;
//! - shuffle within segments (SiS): the sentence is cut into runs of one label (each entity, each
//!   stretch of `O`), and each run, with probability `p`, is shuffled.
//!
//! Each shot gives `n` attempts; attempts equal to a shot or to an earlier sentence are dropped.

use crate::strategy::{bad_params, parse_params, Input, Need, Needs, Output, Strategy};
use crate::{dedup, Provenance, Result, Synthetic};
use hilgen_corpus::tokenize::tokenize;
use hilgen_corpus::{Scheme, Sentence};
use hilgen_kb::{normalize, Kb};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which of the four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DaiAdel {
    #[default]
    /// Label-wise token replacement.
    LabelwiseToken,
    /// Synonym replacement with the knowledge graph as thesaurus.
    Synonym,
    /// Mention replacement.
    Mention,
    /// Shuffle within segments.
    ShuffleSegments,
}

impl DaiAdel {
    /// All four.
    pub const ALL: [DaiAdel; 4] =
        [DaiAdel::LabelwiseToken, DaiAdel::Synonym, DaiAdel::Mention, DaiAdel::ShuffleSegments];

    /// Short name (`lwtr`, `sr`, `mr`, `sis`).
    pub fn name(self) -> &'static str {
        match self {
            DaiAdel::LabelwiseToken => "lwtr",
            DaiAdel::Synonym => "sr",
            DaiAdel::Mention => "mr",
            DaiAdel::ShuffleSegments => "sis",
        }
    }
}

/// A Dai & Adel augmenter; its kinds are `lwtr`, `sr`, `mr`, `sis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimpleAugmenter {
    /// The method (given by the kind).
    #[serde(skip)]
    pub method: DaiAdel,
    /// Replacement (or shuffle) probability.
    pub p: f64,
    /// Attempts per shot.
    pub n: usize,
}

impl Default for SimpleAugmenter {
    fn default() -> Self {
        SimpleAugmenter { method: DaiAdel::default(), p: 0.3, n: 10 }
    }
}

impl SimpleAugmenter {
    /// `method` with p = 0.3 and 10 attempts per shot.
    pub fn new(method: DaiAdel) -> SimpleAugmenter {
        SimpleAugmenter { method, ..SimpleAugmenter::default() }
    }

    /// The registry's constructor: the kind names the method.
    pub fn build(kind: &str, params: &serde_json::Map<String, serde_json::Value>) -> Result<Box<dyn Strategy>> {
        let mut s: SimpleAugmenter = parse_params(kind, params)?;
        s.method =
            DaiAdel::ALL.into_iter().find(|m| m.name() == kind).ok_or_else(|| bad_params(kind, "not a method"))?;
        if !(s.p > 0.0 && s.p <= 1.0) || s.n == 0 {
            return Err(bad_params(kind, format!("p must be in (0, 1] and n at least 1 (p = {}, n = {})", s.p, s.n)));
        }
        Ok(Box::new(s))
    }

    fn spans_of(s: &Sentence) -> Result<Vec<(usize, usize, Option<String>)>> {
        // Runs of one label: entities, and stretches of O.
        let mut out = Vec::new();
        let mut i = 0;
        let mentions = s.mentions()?;
        for m in &mentions {
            if i < m.span.start {
                out.push((i, m.span.start, None));
            }
            out.push((m.span.start, m.span.end, Some(m.span.label.clone())));
            i = m.span.end;
        }
        if i < s.len() {
            out.push((i, s.len(), None));
        }
        Ok(out)
    }

    fn one(&self, s: &Sentence, rng: &mut ChaCha8Rng, pools: &Pools, kb: Option<&Kb>) -> Result<Option<Sentence>> {
        let mut tokens: Vec<String> = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        match self.method {
            DaiAdel::LabelwiseToken => {
                for (t, g) in s.tokens.iter().zip(&s.tags) {
                    let pool = &pools.by_tag[g];
                    let tok = if rng.gen_bool(self.p) { pool.choose(rng).unwrap_or(t).clone() } else { t.clone() };
                    tokens.push(tok);
                    tags.push(g.clone());
                }
            }
            DaiAdel::Mention => {
                for (a, b, label) in Self::spans_of(s)? {
                    match label {
                        Some(l) if rng.gen_bool(self.p) => {
                            let m = pools.mentions[&l].choose(rng).expect("the sentence's own mention is in the pool");
                            push_mention(&mut tokens, &mut tags, m, Some(&l));
                        }
                        _ => {
                            tokens.extend_from_slice(&s.tokens[a..b]);
                            tags.extend_from_slice(&s.tags[a..b]);
                        }
                    }
                }
            }
            DaiAdel::ShuffleSegments => {
                for (a, b, _) in Self::spans_of(s)? {
                    let mut idx: Vec<usize> = (a..b).collect();
                    if idx.len() > 1 && rng.gen_bool(self.p) {
                        idx.shuffle(rng);
                    }
                    for (k, &i) in idx.iter().enumerate() {
                        tokens.push(s.tokens[i].clone());
                        // Tags stay in place (B- first), only the words move.
                        tags.push(s.tags[a + k].clone());
                    }
                }
            }
            DaiAdel::Synonym => {
                let Some(kb) = kb else { return Ok(None) };
                for (t, g) in s.tokens.iter().zip(&s.tags) {
                    let syn = if t.chars().any(char::is_alphabetic) && t.len() > 2 && rng.gen_bool(self.p) {
                        synonym(kb, t, rng)
                    } else {
                        None
                    };
                    match syn {
                        Some(words) => {
                            let label = g.get(2..).map(str::to_string);
                            let inside = g.starts_with("I-");
                            let start = tokens.len();
                            push_mention(&mut tokens, &mut tags, &words, label.as_deref());
                            if inside {
                                tags[start] = g.clone();
                            }
                        }
                        None => {
                            tokens.push(t.clone());
                            tags.push(g.clone());
                        }
                    }
                }
            }
        }
        let out = Sentence::new(tokens, tags)?;
        Ok((out.tokens != s.tokens || out.tags != s.tags).then_some(out))
    }
}

fn push_mention(tokens: &mut Vec<String>, tags: &mut Vec<String>, words: &[String], label: Option<&str>) {
    for (k, w) in words.iter().enumerate() {
        tokens.push(w.clone());
        tags.push(match label {
            Some(l) => format!("{}-{l}", if k == 0 { "B" } else { "I" }),
            None => "O".into(),
        });
    }
}

fn synonym(kb: &Kb, token: &str, rng: &mut ChaCha8Rng) -> Option<Vec<String>> {
    let c = kb.link(token, 0, 1).into_iter().next().filter(|h| h.score >= 0.95)?;
    let c = kb.lookup(&c.concept)?;
    let own = normalize(token);
    let names: Vec<String> = kb.synonyms(c, 10).into_iter().map(|e| e.name).filter(|n| normalize(n) != own).collect();
    let name = names.choose(rng)?;
    let words: Vec<String> = tokenize(name, &[]).iter().map(|t| name[t.start..t.end].to_string()).collect();
    (!words.is_empty()).then_some(words)
}

struct Pools {
    by_tag: BTreeMap<String, Vec<String>>,
    mentions: BTreeMap<String, Vec<Vec<String>>>,
}

impl Strategy for SimpleAugmenter {
    fn kind(&self) -> &str {
        self.method.name()
    }

    fn needs(&self) -> Needs {
        let kb = if self.method == DaiAdel::Synonym { Need::Required } else { Need::No };
        Needs { kb, ..Needs::default() }
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("parameters serialize")
    }

    fn augment(&self, input: &Input<'_>) -> Result<Output> {
        let kb = if self.method == DaiAdel::Synonym { Some(input.require_kb(self.kind())?) } else { None };
        Ok(Output::of(self.synthesize(input.shots, input.seed, kb)?))
    }
}

impl SimpleAugmenter {
    /// The synthetic sentences for `shots` with `seed` (SR reads `kb` as its thesaurus).
    pub fn synthesize(&self, shots: &[Sentence], seed: u64, kb: Option<&Kb>) -> Result<Vec<Synthetic>> {
        let mut pools = Pools { by_tag: BTreeMap::new(), mentions: BTreeMap::new() };
        for s in shots {
            for (t, g) in s.tokens.iter().zip(&s.tags) {
                pools.by_tag.entry(g.clone()).or_default().push(t.clone());
            }
            for m in s.mentions()? {
                pools
                    .mentions
                    .entry(m.span.label.clone())
                    .or_default()
                    .push(s.tokens[m.span.start..m.span.end].to_vec());
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::new();
        for (si, s) in shots.iter().enumerate() {
            for _ in 0..self.n {
                if let Some(sentence) = self.one(s, &mut rng, &pools, kb)? {
                    hilgen_corpus::validate(std::slice::from_ref(&sentence), Scheme::Iob2)?;
                    out.push(Synthetic {
                        sentence,
                        provenance: Provenance {
                            strategy: self.kind().to_string(),
                            source_sentence: Some(si),
                            mention: None,
                            concept: String::new(),
                            linked_by: "none".into(),
                            substitute: String::new(),
                            relation: format!("dai-adel/{}/p={}", self.kind(), self.p),
                            model: None,
                            request: None,
                        },
                    });
                }
            }
        }
        Ok(dedup(shots, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(text: &str, tags: &str) -> Sentence {
        Sentence::new(text.split(' ').map(String::from).collect(), tags.split(' ').map(String::from).collect()).unwrap()
    }

    fn shots() -> Vec<Sentence> {
        vec![
            sent("Cisplatin induced acute renal failure in rats .", "B-Chemical O B-Disease I-Disease I-Disease O O O"),
            sent("Lithium caused tremor and severe ataxia .", "B-Chemical O B-Disease O B-Disease I-Disease O"),
        ]
    }

    #[test]
    fn each_method_keeps_iob_and_labels() {
        for m in [DaiAdel::LabelwiseToken, DaiAdel::Mention, DaiAdel::ShuffleSegments] {
            let aug = SimpleAugmenter { p: 0.5, ..SimpleAugmenter::new(m) };
            let out = aug.synthesize(&shots(), 3, None).unwrap();
            assert!(!out.is_empty(), "{m:?}");
            for s in &out {
                hilgen_corpus::validate(std::slice::from_ref(&s.sentence), Scheme::Iob2).unwrap();
                let src = &shots()[s.provenance.source_sentence.unwrap()];
                if m != DaiAdel::Mention {
                    assert_eq!(s.sentence.tags, src.tags, "{m:?} keeps the tags");
                }
                if m == DaiAdel::ShuffleSegments {
                    let mut a = s.sentence.tokens.clone();
                    let mut b = src.tokens.clone();
                    a.sort();
                    b.sort();
                    assert_eq!(a, b, "shuffling keeps the words");
                }
            }
            // Seeded: the same output twice.
            assert_eq!(out, aug.synthesize(&shots(), 3, None).unwrap());
        }
        let mr =
            SimpleAugmenter { p: 1.0, ..SimpleAugmenter::new(DaiAdel::Mention) }.synthesize(&shots(), 1, None).unwrap();
        assert!(mr
            .iter()
            .any(|s| s.sentence.tokens.contains(&"Lithium".to_string()) && s.provenance.source_sentence == Some(0)));
        // SR without a thesaurus is refused as a strategy, and yields nothing as a function.
        assert!(SimpleAugmenter::new(DaiAdel::Synonym).synthesize(&shots(), 1, None).unwrap().is_empty());
        let shots = shots();
        let e = SimpleAugmenter::new(DaiAdel::Synonym).augment(&Input::new(&shots, 1)).unwrap_err();
        assert!(e.to_string().contains("sr") && e.to_string().contains("knowledge graph"), "{e}");
    }
}

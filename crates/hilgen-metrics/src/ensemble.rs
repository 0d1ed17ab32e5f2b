//! Combining several systems' predictions over the same sentences, and choosing the best
//! combination on a development split (as the HILGEN paper does).
//!
//! Span-level methods decode each system's entities (lenient, conlleval rules), score every
//! distinct span (start, end, type) by the systems that predicted it, keep those that pass the
//! method's rule, and resolve overlaps greedily in a fixed order: higher weighted score, then
//! more votes, then longer, then earlier start, then type name. Token-level voting picks, per
//! token, the tag with the highest summed weight (ties: the tag of the earliest-listed system
//! among the tied ones), then repairs the sequence in the scheme. Back-off keeps every entity of
//! the first system, then each later system's entities that overlap none kept.
//!
//! ```
//! use hilgen_corpus::{Scheme, Sentence};
//! use hilgen_metrics::ensemble::{combine, Method};
//! let s = |tags: &str| Sentence::new(vec!["a".into(), "b".into()], tags.split(' ').map(String::from).collect()).unwrap();
//! let (a, b, c) = (vec![s("B-X O")], vec![s("B-X O")], vec![s("O B-Y")]);
//! let out = combine(&[&a, &b, &c], &Method::Majority, &[1.0, 1.0, 1.0], Scheme::Iob2).unwrap();
//! assert_eq!(out[0].tags, ["B-X", "O"]);
//! ```

use crate::error::{MetricsError, Result};
use crate::scores::{check_tokens, evaluate_sentences, Options};
use hilgen_corpus::scheme::{self, Scheme, Span};
use hilgen_corpus::Sentence;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A way of combining systems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Keep a span whose summed weight exceeds `threshold` times the total weight.
    Vote {
        /// Share of the total weight a span must exceed (0.5: weighted majority).
        threshold: f64,
    },
    /// Keep a span predicted by at least `k` systems (all of them when `None`).
    Intersection {
        /// Minimum number of agreeing systems.
        k: Option<usize>,
    },
    /// Keep every span (overlaps resolved).
    Union,
    /// Keep a span predicted by more than half of the systems.
    Majority,
    /// Per-token weighted vote, then scheme repair.
    TokenVote,
    /// Back-off in member order: every span of the first system, then each later system's
    /// spans that overlap none kept so far (the dictionary first, a tagger where it had no
    /// entry). Weights are ignored.
    Backoff,
    /// [`Method::Backoff`], and a later system's span that strictly contains every kept span it
    /// overlaps, all of its own type, replaces them ("stage II colorectal cancer" where the
    /// dictionary read "colorectal cancer"). Weights are ignored.
    BackoffLonger,
}

impl Method {
    /// A back-off ([`Method::Backoff`] or [`Method::BackoffLonger`]): its member order matters.
    pub fn is_backoff(&self) -> bool {
        matches!(self, Method::Backoff | Method::BackoffLonger)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Vote { threshold } => write!(f, "vote(>{threshold})"),
            Method::Intersection { k: Some(k) } => write!(f, "intersection(k={k})"),
            Method::Intersection { k: None } => write!(f, "intersection(all)"),
            Method::Union => write!(f, "union"),
            Method::Majority => write!(f, "majority"),
            Method::TokenVote => write!(f, "token-vote"),
            Method::Backoff => write!(f, "backoff"),
            Method::BackoffLonger => write!(f, "backoff-longer"),
        }
    }
}

fn check_inputs(systems: &[&[Sentence]], weights: &[f64]) -> Result<()> {
    if systems.is_empty() {
        return Err(MetricsError::Invalid("an ensemble needs at least one system".into()));
    }
    if weights.len() != systems.len() || weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(MetricsError::Invalid(format!(
            "{} systems need as many finite, non-negative weights; got {weights:?}",
            systems.len()
        )));
    }
    for (k, s) in systems.iter().enumerate().skip(1) {
        check_tokens(systems[0], s).map_err(|e| MetricsError::Invalid(format!("system {k} versus system 0: {e}")))?;
    }
    Ok(())
}

/// Combines `systems` (same sentences and tokens) by `method`, encoding the result in `scheme`.
pub fn combine(systems: &[&[Sentence]], method: &Method, weights: &[f64], scheme: Scheme) -> Result<Vec<Sentence>> {
    check_inputs(systems, weights)?;
    if let Method::Intersection { k: Some(k) } = method {
        if *k == 0 || *k > systems.len() {
            return Err(MetricsError::Invalid(format!("intersection k must be in 1..={}, got {k}", systems.len())));
        }
    }
    let n = systems.len();
    let total: f64 = weights.iter().sum();
    let mut out = Vec::with_capacity(systems[0].len());
    for i in 0..systems[0].len() {
        let base = &systems[0][i];
        let tags = if *method == Method::TokenVote {
            token_vote(systems, weights, i, scheme)?
        } else if method.is_backoff() {
            let longer = *method == Method::BackoffLonger;
            // Spans kept so far; a replaced one becomes `None`.
            let mut chosen: Vec<Option<Span>> = Vec::new();
            for s in systems {
                let kept = chosen.len();
                for m in s[i].mentions()? {
                    let m = m.span;
                    let hit: Vec<usize> =
                        (0..kept).filter(|&j| chosen[j].as_ref().is_some_and(|c| c.overlaps(&m))).collect();
                    let inside =
                        |c: &Span| c.label == m.label && m.start <= c.start && c.end <= m.end && c.len() < m.len();
                    if hit.is_empty() {
                        chosen.push(Some(m));
                    } else if longer && hit.iter().all(|&j| chosen[j].as_ref().is_some_and(inside)) {
                        for j in hit {
                            chosen[j] = None;
                        }
                        chosen.push(Some(m));
                    }
                }
            }
            let mut chosen: Vec<Span> = chosen.into_iter().flatten().collect();
            chosen.sort();
            scheme::encode(&chosen, base.len(), scheme)?
        } else {
            // span -> (weighted score, votes)
            let mut votes: BTreeMap<Span, (f64, usize)> = BTreeMap::new();
            for (s, w) in systems.iter().zip(weights) {
                for m in s[i].mentions()? {
                    let v = votes.entry(m.span).or_insert((0.0, 0));
                    v.0 += w;
                    v.1 += 1;
                }
            }
            let keep = |score: f64, count: usize| match method {
                Method::Vote { threshold } => score > threshold * total,
                Method::Intersection { k } => count >= k.unwrap_or(n),
                Method::Union => true,
                Method::Majority => 2 * count > n,
                Method::TokenVote | Method::Backoff | Method::BackoffLonger => unreachable!(),
            };
            let mut cands: Vec<(Span, f64, usize)> =
                votes.into_iter().filter(|(_, (s, c))| keep(*s, *c)).map(|(sp, (s, c))| (sp, s, c)).collect();
            cands.sort_by(|a, b| {
                b.1.total_cmp(&a.1)
                    .then(b.2.cmp(&a.2))
                    .then(b.0.len().cmp(&a.0.len()))
                    .then(a.0.start.cmp(&b.0.start))
                    .then(a.0.label.cmp(&b.0.label))
            });
            let mut chosen: Vec<Span> = Vec::new();
            for (sp, _, _) in cands {
                if !chosen.iter().any(|c| c.overlaps(&sp)) {
                    chosen.push(sp);
                }
            }
            chosen.sort();
            scheme::encode(&chosen, base.len(), scheme)?
        };
        let mut s = Sentence::new(base.tokens.clone(), tags)?;
        s.doc_id = base.doc_id.clone();
        out.push(s);
    }
    Ok(out)
}

fn token_vote(systems: &[&[Sentence]], weights: &[f64], i: usize, scheme: Scheme) -> Result<Vec<String>> {
    let len = systems[0][i].len();
    let mut tags = Vec::with_capacity(len);
    for t in 0..len {
        // tag -> (score, first system index)
        let mut score: Vec<(&str, f64, usize)> = Vec::new();
        for (k, (s, w)) in systems.iter().zip(weights).enumerate() {
            let tag = s[i].tags[t].as_str();
            match score.iter_mut().find(|x| x.0 == tag) {
                Some(x) => x.1 += w,
                None => score.push((tag, *w, k)),
            }
        }
        let best = score.iter().max_by(|a, b| a.1.total_cmp(&b.1).then(b.2.cmp(&a.2))).expect("one system at least");
        tags.push(best.0.to_string());
    }
    Ok(scheme::repair(&tags, scheme)?.0)
}

/// Weights equal to each system's micro F1 on a development split.
pub fn dev_f1_weights(gold: &[Sentence], systems: &[&[Sentence]], options: Options) -> Result<Vec<f64>> {
    systems.iter().map(|s| Ok(evaluate_sentences(gold, s, options)?.micro.f1)).collect()
}

/// One combination to try: which systems, how, and with which weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Indices of the systems combined (one index: that system alone).
    pub systems: Vec<usize>,
    /// The method (ignored for a single system).
    pub method: Method,
    /// Weigh systems by their dev F1 (else equally).
    pub dev_weights: bool,
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.systems.len() == 1 {
            return write!(f, "system {}", self.systems[0]);
        }
        let w = if self.dev_weights { ", dev-F1 weights" } else { "" };
        write!(f, "{} of systems {:?}{w}", self.method, self.systems)
    }
}

/// The paper's search space: every single system, and for every subset of two or more systems
/// the dev-F1-weighted vote, intersection of all, union and majority.
pub fn default_candidates(n: usize) -> Vec<Candidate> {
    let mut out: Vec<Candidate> =
        (0..n).map(|i| Candidate { systems: vec![i], method: Method::Union, dev_weights: false }).collect();
    for mask in 1u32..(1 << n) {
        let systems: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
        if systems.len() < 2 {
            continue;
        }
        for (method, dev_weights) in [
            (Method::Vote { threshold: 0.5 }, true),
            (Method::Intersection { k: None }, false),
            (Method::Union, false),
            (Method::Majority, false),
        ] {
            out.push(Candidate { systems: systems.clone(), method, dev_weights });
        }
    }
    out
}

/// A candidate's dev score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The candidate.
    pub candidate: Candidate,
    /// Its description.
    pub name: String,
    /// Micro F1 on the development split.
    pub dev_f1: f64,
}

/// The outcome of [`select_best`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Index of the chosen candidate in `tried`.
    pub best: usize,
    /// Every candidate with its dev F1, in the order tried.
    pub tried: Vec<Scored>,
    /// Dev-F1 weights of all systems.
    pub weights: Vec<f64>,
}

impl Selection {
    /// The chosen candidate.
    pub fn chosen(&self) -> &Scored {
        &self.tried[self.best]
    }
}

/// Applies a candidate to systems (same order as in selection) with the given dev weights.
pub fn apply(
    candidate: &Candidate,
    systems: &[&[Sentence]],
    dev_weights: &[f64],
    scheme: Scheme,
) -> Result<Vec<Sentence>> {
    let chosen: Vec<&[Sentence]> = candidate
        .systems
        .iter()
        .map(|&i| systems.get(i).copied().ok_or_else(|| MetricsError::Invalid(format!("no system {i}"))))
        .collect::<Result<_>>()?;
    let weights: Vec<f64> =
        candidate.systems.iter().map(|&i| if candidate.dev_weights { dev_weights[i] } else { 1.0 }).collect();
    combine(&chosen, &candidate.method, &weights, scheme)
}

/// Tries every candidate on the development split and keeps the best by micro F1 (ties: the
/// earlier candidate).
pub fn select_best(
    gold_dev: &[Sentence],
    systems_dev: &[&[Sentence]],
    candidates: &[Candidate],
    options: Options,
    scheme: Scheme,
) -> Result<Selection> {
    if candidates.is_empty() {
        return Err(MetricsError::Invalid("no ensemble candidates to try".into()));
    }
    let weights = dev_f1_weights(gold_dev, systems_dev, options)?;
    let mut tried = Vec::with_capacity(candidates.len());
    let mut best = 0;
    for (k, c) in candidates.iter().enumerate() {
        let combined = apply(c, systems_dev, &weights, scheme)?;
        let dev_f1 = evaluate_sentences(gold_dev, &combined, options)?.micro.f1;
        if k > 0 && dev_f1 > tried.iter().map(|t: &Scored| t.dev_f1).nth(best).unwrap_or(f64::MIN) {
            best = k;
        }
        tried.push(Scored { candidate: c.clone(), name: c.to_string(), dev_f1 });
    }
    tracing::info!("best ensemble on dev: {} (F1 {:.4})", tried[best].name, tried[best].dev_f1);
    Ok(Selection { best, tried, weights })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(tags: &str) -> Sentence {
        let tags: Vec<String> = tags.split(' ').map(String::from).collect();
        Sentence::new((0..tags.len()).map(|i| format!("w{i}")).collect(), tags).unwrap()
    }

    #[test]
    fn methods() {
        let a = vec![s("B-X I-X O B-Y")];
        let b = vec![s("B-X O O B-Y")];
        let c = vec![s("B-X I-X O O")];
        let sys: Vec<&[Sentence]> = vec![&a, &b, &c];
        let eq = [1.0, 1.0, 1.0];
        let tags = |m: Method, w: &[f64]| combine(&sys, &m, w, Scheme::Iob2).unwrap()[0].tags.join(" ");
        assert_eq!(tags(Method::Majority, &eq), "B-X I-X O B-Y");
        assert_eq!(tags(Method::Intersection { k: None }, &eq), "O O O O");
        assert_eq!(tags(Method::Intersection { k: Some(2) }, &eq), "B-X I-X O B-Y");
        // Union: B-X I-X (2 votes) beats the overlapping B-X (1 vote).
        assert_eq!(tags(Method::Union, &eq), "B-X I-X O B-Y");
        assert_eq!(tags(Method::Vote { threshold: 0.5 }, &[0.1, 1.0, 0.1]), "B-X O O B-Y");
        assert_eq!(tags(Method::TokenVote, &eq), "B-X I-X O B-Y");
    }

    #[test]
    fn backoff_keeps_the_first_system_and_fills_in_where_it_has_nothing() {
        let dictionary = vec![s("B-X O O O O")];
        let tagger = vec![s("B-X I-X O B-Y I-Y")];
        let other = vec![s("O O B-Z I-Z O")];
        let sys: Vec<&[Sentence]> = vec![&dictionary, &tagger, &other];
        let tags = |sys: &[&[Sentence]]| {
            combine(sys, &Method::Backoff, &vec![1.0; sys.len()], Scheme::Iob2).unwrap()[0].tags.join(" ")
        };
        // The tagger's longer B-X I-X overlaps the dictionary's B-X: the dictionary's stays; its
        // B-Y I-Y overlaps nothing and is added; the third system's span overlaps the tagger's.
        assert_eq!(tags(&sys), "B-X O O B-Y I-Y");
        // Order decides: the tagger first keeps its own spans.
        assert_eq!(tags(&[&tagger, &dictionary]), "B-X I-X O B-Y I-Y");
        assert_eq!(tags(&[&dictionary, &other]), "B-X O B-Z I-Z O");
        assert_eq!(Method::Backoff.to_string(), "backoff");
        assert_eq!(serde_json::to_value(Method::Backoff).unwrap(), "backoff");
    }

    #[test]
    fn backoff_longer_lets_a_containing_span_of_the_same_type_replace_the_first_systems() {
        let tags = |sys: &[&[Sentence]]| {
            combine(sys, &Method::BackoffLonger, &vec![1.0; sys.len()], Scheme::Iob2).unwrap()[0].tags.join(" ")
        };
        let dictionary = [s("O B-X O B-X O O")];
        // Contains the dictionary's first span and is longer: replaces it.
        assert_eq!(tags(&[&dictionary, &[s("B-X I-X O O O O")]]), "B-X I-X O B-X O O");
        // Contains both of the dictionary's spans: replaces both.
        assert_eq!(tags(&[&dictionary, &[s("B-X I-X I-X I-X O O")]]), "B-X I-X I-X I-X O O");
        // Another type, a partial overlap, or the same span: the dictionary's stays.
        assert_eq!(tags(&[&dictionary, &[s("B-Y I-Y O O O O")]]), "O B-X O B-X O O");
        let two_words = [s("O B-X I-X O O O")];
        assert_eq!(tags(&[&two_words, &[s("B-X I-X O O O O")]]), "O B-X I-X O O O");
        assert_eq!(tags(&[&dictionary, &[s("O B-X O O O O")]]), "O B-X O B-X O O");
        // Where it overlaps nothing, a span is added as in the back-off.
        assert_eq!(tags(&[&dictionary, &[s("O O O O O B-X")]]), "O B-X O B-X O B-X");
        assert_eq!(Method::BackoffLonger.to_string(), "backoff-longer");
        assert_eq!(serde_json::to_value(Method::BackoffLonger).unwrap(), "backoff_longer");
        assert!(Method::BackoffLonger.is_backoff() && Method::Backoff.is_backoff() && !Method::Union.is_backoff());
    }

    #[test]
    fn mismatched_tokens_name_the_sentence() {
        let a = vec![s("O O")];
        let mut b = vec![s("O O")];
        b[0].tokens[1] = "other".into();
        let err = combine(&[&a, &b], &Method::Union, &[1.0, 1.0], Scheme::Iob2).unwrap_err().to_string();
        assert!(err.contains("sentence 1 (counting from 1)") && err.contains("token 2"), "{err}");
        assert!(combine(&[&a], &Method::Union, &[1.0, 2.0], Scheme::Iob2).is_err());
    }

    #[test]
    fn best_on_dev_is_reported() {
        let gold = vec![s("B-X I-X O B-Y"), s("O B-Y O O")];
        let a = vec![s("B-X I-X O O"), s("O B-Y O O")];
        let b = vec![s("O O O B-Y"), s("O B-Y O O")];
        let sys: Vec<&[Sentence]> = vec![&a, &b];
        let sel = select_best(&gold, &sys, &default_candidates(2), Options::default(), Scheme::Iob2).unwrap();
        assert_eq!(sel.chosen().dev_f1, 1.0);
        assert_eq!(sel.chosen().candidate.method, Method::Union);
        assert_eq!(sel.tried.len(), 2 + 4);
    }
}

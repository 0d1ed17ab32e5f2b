//! What the dictionary finds: a match in a sentence and the concept behind it.

use hilgen_corpus::Span;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One name's target: the label and the concept it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The entity label.
    pub label: String,
    /// The concept's native ID.
    pub concept: String,
    /// The concept's types.
    pub types: Vec<String>,
    /// The concept's children in its hierarchy (how broad a class it is).
    #[serde(default)]
    pub children: usize,
}

/// A match in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Tokens and label.
    pub span: Span,
    /// The matched text, normalized.
    pub key: String,
    /// Where it came from (`None` for an abbreviation taken from its document).
    pub target: Option<Target>,
}

/// Moves each match's start (matches sorted and disjoint) to where `reach` says it may begin,
/// given the first token free of the match before it; a grown match's key becomes that of its
/// grown text (`key` normalizes a token as the dictionary does). The bookkeeping of
/// [`crate::modifiers`] and [`crate::prefixes`].
pub(crate) fn grow_left(
    tokens: &[String],
    matches: &mut [Match],
    key: impl Fn(&str) -> String,
    reach: impl Fn(&Match, usize) -> usize,
) {
    let mut free_from = 0;
    for m in matches.iter_mut() {
        let start = reach(m, free_from);
        if start < m.span.start {
            m.key = key(&tokens[start..m.span.end].join(" "));
            m.span.start = start;
        }
        free_from = m.span.end;
    }
}

/// The names of one label that a learned rule counted: how many, and how many per list of
/// concept types.
pub(crate) type LabelCount = (usize, HashMap<Vec<String>, usize>);

/// The label with the most names (ties: the first by name), its count and its most common list
/// of concept types (ties: the first): the target a rule learned from the names takes
/// ([`crate::suffixes`], [`crate::heads`]).
pub(crate) fn majority(labels: BTreeMap<String, LabelCount>) -> Option<(String, usize, Vec<String>)> {
    let (label, (n, types)) = labels.into_iter().max_by_key(|(l, (n, _))| (*n, std::cmp::Reverse(l.clone())))?;
    let types = types.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(t, _)| t).unwrap_or_default();
    Some((label, n, types))
}

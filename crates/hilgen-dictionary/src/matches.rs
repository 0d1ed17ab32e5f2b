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
type LabelCount = (usize, HashMap<Vec<String>, usize>);

/// The names a rule learned from the graph's names counted ([`crate::suffixes`],
/// [`crate::heads`]): those of concepts the shots give no label, and those of each label.
#[derive(Debug, Default)]
pub(crate) struct Votes {
    unlabelled: usize,
    labels: BTreeMap<String, LabelCount>,
}

impl Votes {
    /// Counts one name (`target`: its concept's label and types; `None`: a concept with no
    /// label, which votes against).
    pub(crate) fn add(&mut self, target: Option<&Target>) {
        match target {
            None => self.unlabelled += 1,
            Some(t) => {
                let (n, types) = self.labels.entry(t.label.clone()).or_default();
                *n += 1;
                *types.entry(t.types.clone()).or_default() += 1;
            }
        }
    }

    /// The label with the most names (ties: the first by name) and its most common list of
    /// concept types (ties: the first), where it has at least `min_names` names and
    /// `min_purity` of all counted.
    pub(crate) fn winner(self, min_names: usize, min_purity: f64) -> Option<(String, Vec<String>)> {
        let total = self.unlabelled + self.labels.values().map(|(n, _)| n).sum::<usize>();
        let (label, (n, types)) =
            self.labels.into_iter().max_by_key(|(l, (n, _))| (*n, std::cmp::Reverse(l.clone())))?;
        if n < min_names || (n as f64) < min_purity * total as f64 {
            return None;
        }
        let types =
            types.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(t, _)| t).unwrap_or_default();
        Some((label, types))
    }
}

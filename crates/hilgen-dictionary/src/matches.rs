//! What the dictionary finds: a match in a sentence and the concept behind it.

use hilgen_corpus::Span;
use serde::{Deserialize, Serialize};

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

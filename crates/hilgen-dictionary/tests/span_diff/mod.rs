//! What the option tests on shared data share: a tagging's mentions as a set, and the spans one
//! tagging has that another lacks.

use hilgen_corpus::Sentence;
use std::collections::HashSet;

/// Mentions as (sentence, start, end, label).
pub type Spans = HashSet<(usize, usize, usize, String)>;

/// The mentions of tagged sentences.
pub fn spans(sentences: &[Sentence]) -> Spans {
    sentences
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.mentions().unwrap().into_iter().map(move |m| (i, m.span.start, m.span.end, m.span.label)))
        .collect()
}

/// The spans of `after` that `before` lacks: (how many are `gold`'s, how many in all, their
/// texts in lower case).
pub fn added(dev: &[Sentence], gold: &Spans, before: &Spans, after: &Spans) -> (usize, usize, Vec<String>) {
    let added: Vec<_> = after.difference(before).collect();
    let right = added.iter().filter(|s| gold.contains(*s)).count();
    let texts = added.iter().map(|(i, a, b, _)| dev[*i].tokens[*a..*b].join(" ").to_lowercase()).collect();
    (right, added.len(), texts)
}

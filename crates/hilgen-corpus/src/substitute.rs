//! Mention substitution: the primitive of knowledge-based generation. One mention's tokens are
//! replaced by new tokens; the new mention is tagged for its new length (in the sentence's
//! scheme), every other token keeps its tag, concept links move with their mentions, and the
//! change is recorded.
//!
//! ```
//! use hilgen_corpus::{substitute::substitute, Scheme, Sentence, Span};
//! let s = Sentence::new(
//!     "Selegiline induced hypotension .".split(' ').map(String::from).collect(),
//!     "B-Chemical O B-Disease O".split(' ').map(String::from).collect(),
//! ).unwrap();
//! let words = vec!["low".to_string(), "blood".into(), "pressure".into()];
//! let (new, record) = substitute(&s, &Span::new(2, 3, "Disease"), words, vec![], Scheme::Iob2).unwrap();
//! assert_eq!(new.tags, ["B-Chemical", "O", "B-Disease", "I-Disease", "I-Disease", "O"]);
//! assert_eq!(record.new_span, Span::new(2, 5, "Disease"));
//! ```

use crate::error::{CorpusError, Result};
use crate::scheme::{self, Scheme, Span};
use crate::sentence::Sentence;
use serde::{Deserialize, Serialize};

/// What a substitution did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Substitution {
    /// The mention replaced, in the source sentence.
    pub old_span: Span,
    /// Its tokens.
    pub old_tokens: Vec<String>,
    /// The new mention, in the new sentence.
    pub new_span: Span,
    /// Its tokens.
    pub new_tokens: Vec<String>,
}

/// Replaces the mention `span` of `sentence` with `words`, giving it `concept_ids`. The span must
/// be one of the sentence's mentions (same tokens and type).
pub fn substitute(
    sentence: &Sentence,
    span: &Span,
    words: Vec<String>,
    concept_ids: Vec<String>,
    scheme: Scheme,
) -> Result<(Sentence, Substitution)> {
    if words.is_empty() || words.iter().any(|w| w.is_empty() || w.chars().any(char::is_whitespace)) {
        return Err(CorpusError::Invalid("replacement words must be non-empty tokens without whitespace".into()));
    }
    let mentions = sentence.mentions()?;
    if !mentions.iter().any(|m| &m.span == span) {
        return Err(CorpusError::Invalid(format!(
            "{}..{} ({}) is not a mention of the sentence `{}`",
            span.start,
            span.end,
            span.label,
            sentence.text()
        )));
    }
    let shift = |i: usize| if i >= span.end { i + words.len() - span.len() } else { i };
    let new_span = Span::new(span.start, span.start + words.len(), span.label.clone());
    let spans: Vec<Span> = mentions
        .iter()
        .map(|m| {
            if &m.span == span {
                new_span.clone()
            } else {
                Span::new(shift(m.span.start), shift(m.span.end), m.span.label.clone())
            }
        })
        .collect();
    let mut tokens = sentence.tokens[..span.start].to_vec();
    tokens.extend(words.iter().cloned());
    tokens.extend_from_slice(&sentence.tokens[span.end..]);
    // Every token outside a mention is `O` before and after, so only mention tags change.
    let tags = scheme::encode(&spans, tokens.len(), scheme)?;
    let mut out = Sentence::new(tokens, tags)?;
    out.doc_id = sentence.doc_id.clone();
    for c in &sentence.concepts {
        if c.start == span.start && c.end == span.end {
            continue;
        }
        out.set_concept_ids(shift(c.start), shift(c.end), c.ids.clone());
    }
    out.set_concept_ids(new_span.start, new_span.end, concept_ids);
    let record = Substitution {
        old_span: span.clone(),
        old_tokens: sentence.tokens[span.start..span.end].to_vec(),
        new_span,
        new_tokens: words,
    };
    Ok((out, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(tokens: &str, tags: &str) -> Sentence {
        let t = |s: &str| s.split(' ').map(String::from).collect();
        Sentence::new(t(tokens), t(tags)).unwrap()
    }

    #[test]
    fn shorter_replacement_moves_later_mentions_and_concepts() {
        let mut s = sent("acute renal failure after cisplatin", "B-Disease I-Disease I-Disease O B-Chemical");
        s.set_concept_ids(4, 5, vec!["MESH:D002945".into()]);
        s.set_concept_ids(0, 3, vec!["MESH:D058186".into()]);
        let (new, rec) = substitute(
            &s,
            &Span::new(0, 3, "Disease"),
            vec!["nephropathy".into()],
            vec!["MESH:D007674".into()],
            Scheme::Iob2,
        )
        .unwrap();
        assert_eq!(new.tokens, ["nephropathy", "after", "cisplatin"]);
        assert_eq!(new.tags, ["B-Disease", "O", "B-Chemical"]);
        assert_eq!(new.concept_ids(2, 3), ["MESH:D002945"]);
        assert_eq!(new.concept_ids(0, 1), ["MESH:D007674"]);
        assert_eq!(rec.old_tokens, ["acute", "renal", "failure"]);
    }

    #[test]
    fn rejects_non_mentions_and_bad_words() {
        let s = sent("a b", "B-X O");
        assert!(substitute(&s, &Span::new(1, 2, "X"), vec!["c".into()], vec![], Scheme::Iob2).is_err());
        assert!(substitute(&s, &Span::new(0, 1, "X"), vec!["c d".into()], vec![], Scheme::Iob2).is_err());
        assert!(substitute(&s, &Span::new(0, 1, "X"), vec![], vec![], Scheme::Iob2).is_err());
    }
}

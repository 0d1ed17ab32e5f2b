//! Corpus statistics: sentences, tokens, documents and mentions per type.

use crate::error::Result;
use crate::sentence::Sentence;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Counts over a set of sentences (mentions decoded leniently).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CorpusStats {
    /// Sentences.
    pub sentences: usize,
    /// Tokens.
    pub tokens: usize,
    /// Distinct document ids (0 when the sentences carry none).
    pub documents: usize,
    /// Mentions per entity type.
    pub mentions: BTreeMap<String, usize>,
    /// Mentions that carry concept IDs.
    pub mentions_with_ids: usize,
}

impl CorpusStats {
    /// Computes the statistics of `sentences`.
    pub fn of(sentences: &[Sentence]) -> Result<CorpusStats> {
        let mut st = CorpusStats { sentences: sentences.len(), ..Default::default() };
        let mut docs = BTreeSet::new();
        for s in sentences {
            st.tokens += s.len();
            if let Some(d) = &s.doc_id {
                docs.insert(d.as_str());
            }
            for m in s.mentions()? {
                *st.mentions.entry(m.span.label).or_default() += 1;
                st.mentions_with_ids += usize::from(!m.concept_ids.is_empty());
            }
        }
        st.documents = docs.len();
        Ok(st)
    }

    /// All mentions.
    pub fn total_mentions(&self) -> usize {
        self.mentions.values().sum()
    }
}

impl fmt::Display for CorpusStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sentences, {} tokens", self.sentences, self.tokens)?;
        if self.documents > 0 {
            write!(f, ", {} documents", self.documents)?;
        }
        write!(f, ", {} mentions", self.total_mentions())?;
        for (label, n) in &self.mentions {
            write!(f, "; {label} {n}")?;
        }
        if self.mentions_with_ids > 0 {
            write!(f, "; with concept IDs {}", self.mentions_with_ids)?;
        }
        Ok(())
    }
}

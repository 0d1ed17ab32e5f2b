//! PubTator documents -> IOB sentences, with the crate's tokenizer and sentence splitter.
//!
//! Mention boundaries are forced token boundaries and never cut by a sentence break; each
//! sentence keeps its PMID as `doc_id` and its mentions' concept IDs. Overlapping mentions
//! cannot be expressed in IOB: the earlier-starting (then longer) one is kept and the others are
//! counted in the report.
//!
//! ```
//! use hilgen_corpus::{convert::{pubtator_to_iob, ConvertOptions}, pubtator};
//! let text = "7|t|Cystic fibrosis in children.\n7\t0\t15\tCystic fibrosis\tDisease\tD003550\n";
//! let (docs, _) = pubtator::read_str(text, "mem").unwrap();
//! let (sents, _) = pubtator_to_iob(&docs, &ConvertOptions::default());
//! assert_eq!(sents[0].tags, ["B-Disease", "I-Disease", "O", "O", "O"]);
//! assert_eq!(sents[0].concept_ids(0, 2), ["MESH:D003550"]);
//! ```

use crate::pubtator::Document;
use crate::scheme::{encode, Scheme, Span};
use crate::sentence::Sentence;
use crate::tokenize::{split_sentences, tokenize};
use serde::Serialize;
use std::collections::BTreeMap;

/// Options of the conversion.
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// Renames entity types (`SpecificDisease` -> `Disease`); a type mapped to an empty string
    /// is dropped; unmapped types are kept.
    pub type_map: BTreeMap<String, String>,
    /// Tagging scheme of the output (IOB2 when `None`).
    pub scheme: Option<Scheme>,
}

/// Counts from a conversion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConvertReport {
    /// Documents converted.
    pub documents: usize,
    /// Sentences produced.
    pub sentences: usize,
    /// Mentions placed in the IOB output.
    pub mentions: usize,
    /// Mentions dropped because they overlap a kept one.
    pub overlapping_dropped: usize,
    /// Mentions dropped by the type map.
    pub type_dropped: usize,
}

/// Converts documents to sentences (see the module docs).
pub fn pubtator_to_iob(docs: &[Document], options: &ConvertOptions) -> (Vec<Sentence>, ConvertReport) {
    let mut out = Vec::new();
    let mut report = ConvertReport { documents: docs.len(), ..Default::default() };
    for doc in docs {
        let text = doc.text();
        let byte_of: Vec<usize> = text.char_indices().map(|(b, _)| b).chain([text.len()]).collect();
        // (byte start, byte end, type, ids), sorted by start then longest first.
        let mut mentions: Vec<(usize, usize, String, Vec<String>)> = Vec::new();
        for m in &doc.mentions {
            let ty = options.type_map.get(&m.entity_type).unwrap_or(&m.entity_type);
            if ty.is_empty() {
                report.type_dropped += 1;
                continue;
            }
            mentions.push((byte_of[m.start], byte_of[m.end], ty.clone(), m.ids.clone()));
        }
        mentions.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut kept: Vec<(usize, usize, String, Vec<String>)> = Vec::new();
        for m in mentions {
            if kept.last().is_some_and(|k| m.0 < k.1) {
                report.overlapping_dropped += 1;
            } else {
                kept.push(m);
            }
        }
        let breaks: Vec<usize> = kept.iter().flat_map(|m| [m.0, m.1]).collect();
        let protected: Vec<(usize, usize)> = kept.iter().map(|m| (m.0, m.1)).collect();
        let tokens = tokenize(&text, &breaks);
        for range in split_sentences(&text, &tokens, &protected) {
            let toks = &tokens[range.clone()];
            let mut spans = Vec::new();
            let mut ids = Vec::new();
            for (s, e, ty, m_ids) in &kept {
                let first = toks.iter().position(|t| t.start >= *s && t.end <= *e);
                let Some(first) = first else { continue };
                let last = toks.iter().rposition(|t| t.start >= *s && t.end <= *e).unwrap_or(first);
                spans.push(Span::new(first, last + 1, ty.clone()));
                ids.push(m_ids.clone());
            }
            let words: Vec<String> = toks.iter().map(|t| text[t.start..t.end].to_string()).collect();
            let scheme = options.scheme.unwrap_or(Scheme::Iob2);
            let tags = encode(&spans, words.len(), scheme).expect("mentions are sorted and disjoint");
            let mut sentence = Sentence::new(words, tags).expect("one tag per token");
            sentence.doc_id = Some(doc.pmid.clone());
            for (span, m_ids) in spans.iter().zip(ids) {
                sentence.set_concept_ids(span.start, span.end, m_ids);
            }
            report.mentions += spans.len();
            out.push(sentence);
        }
    }
    report.sentences = out.len();
    (out, report)
}

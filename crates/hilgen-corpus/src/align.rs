//! Alignment of an IOB corpus with the PubTator documents its sentences came from.
//!
//! The BC5CDR and NCBI-Disease IOB files carry no document boundaries; their sentences follow
//! the PubTator documents in PMID order (sorted as strings). The aligner walks sentences and
//! documents together, matching each token to the document text with whitespace ignored; a
//! sentence that does not fit the current document is tried at the start of the next few
//! documents (so a document missing from the IOB file, such as NCBI's duplicated PMID 8528200,
//! is skipped). Each aligned sentence gets its PMID as `doc_id`, and each IOB mention gets the
//! concept IDs of the PubTator mention that covers the same characters (exact match first, then
//! the largest overlap).
//!
//! ```no_run
//! use hilgen_corpus::{align::align, conll, pubtator};
//! let mut sents = conll::read_path("train.tsv", &Default::default()).unwrap();
//! let (docs, _) = pubtator::read_path("CDR_TrainingSet.PubTator.txt").unwrap();
//! let report = align(&mut sents, &docs).unwrap();
//! println!("{:.2}% of mentions have concept IDs", 100.0 * report.linked_share());
//! ```

use crate::error::{CorpusError, Result};
use crate::pubtator::Document;
use crate::sentence::Sentence;
use serde::Serialize;

/// How far ahead to look for the document a sentence belongs to.
const LOOKAHEAD_DOCS: usize = 3;

/// Counts from an alignment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlignReport {
    /// Sentences aligned to a document.
    pub sentences: usize,
    /// Documents that received sentences.
    pub documents_used: usize,
    /// PMIDs of documents skipped (not present in the IOB file).
    pub documents_skipped: Vec<String>,
    /// IOB mentions seen.
    pub mentions: usize,
    /// IOB mentions that received concept IDs.
    pub mentions_linked: usize,
    /// IOB mentions whose characters match a PubTator mention exactly.
    pub mentions_exact: usize,
}

impl AlignReport {
    /// Share of IOB mentions that received concept IDs (1.0 when there are none).
    pub fn linked_share(&self) -> f64 {
        if self.mentions == 0 {
            1.0
        } else {
            self.mentions_linked as f64 / self.mentions as f64
        }
    }
}

/// A document's text with whitespace removed, mapped back to character offsets.
struct Compact {
    chars: Vec<char>,
    offset: Vec<usize>,
}

impl Compact {
    fn new(text: &str) -> Compact {
        let (offset, chars) = text.chars().enumerate().filter(|(_, c)| !c.is_whitespace()).unzip();
        Compact { chars, offset }
    }

    /// Matches the sentence's tokens from `pos`; returns per-token (start, end) character
    /// offsets in the document and the position after the sentence.
    fn fit(&self, sentence: &Sentence, mut pos: usize) -> Option<(Vec<(usize, usize)>, usize)> {
        let mut spans = Vec::with_capacity(sentence.len());
        for token in &sentence.tokens {
            let t: Vec<char> = token.chars().filter(|c| !c.is_whitespace()).collect();
            if t.is_empty() || pos + t.len() > self.chars.len() || self.chars[pos..pos + t.len()] != t[..] {
                return None;
            }
            spans.push((self.offset[pos], self.offset[pos + t.len() - 1] + 1));
            pos += t.len();
        }
        Some((spans, pos))
    }
}

/// Aligns `sentences` with `docs` in place (see the module docs). Documents are taken in PMID
/// order sorted as strings. Fails, naming the sentence, when a sentence fits no document.
pub fn align(sentences: &mut [Sentence], docs: &[Document]) -> Result<AlignReport> {
    let mut order: Vec<&Document> = docs.iter().collect();
    order.sort_by(|a, b| a.pmid.cmp(&b.pmid));
    let compact: Vec<Compact> = order.iter().map(|d| Compact::new(&d.text())).collect();
    let mut report = AlignReport::default();
    let (mut d, mut pos) = (0usize, 0usize);
    let mut used = vec![false; order.len()];
    for (i, sentence) in sentences.iter_mut().enumerate() {
        let mut found = None;
        for k in 0..=LOOKAHEAD_DOCS {
            let (doc, at) = if k == 0 { (d, pos) } else { (d + k, 0) };
            if doc >= order.len() {
                break;
            }
            if let Some(fit) = compact[doc].fit(sentence, at) {
                found = Some((doc, fit));
                break;
            }
        }
        let Some((doc, (offsets, next))) = found else {
            let near = order.get(d).map_or("none".to_string(), |x| x.pmid.clone());
            return Err(CorpusError::Invalid(format!(
                "sentence {i} (`{}`) matches neither document {near} at character {pos} nor the start of the next {LOOKAHEAD_DOCS}",
                truncate(&sentence.text(), 60)
            )));
        };
        for skipped in d + 1..doc {
            if !used[skipped] {
                report.documents_skipped.push(order[skipped].pmid.clone());
            }
        }
        if doc != d && !used[d] {
            report.documents_skipped.push(order[d].pmid.clone());
        }
        used[doc] = true;
        d = doc;
        pos = next;
        sentence.doc_id = Some(order[doc].pmid.clone());
        attach_ids(sentence, order[doc], &offsets, &mut report)?;
        report.sentences += 1;
    }
    report.documents_used = used.iter().filter(|u| **u).count();
    Ok(report)
}

fn attach_ids(
    sentence: &mut Sentence,
    doc: &Document,
    offsets: &[(usize, usize)],
    report: &mut AlignReport,
) -> Result<()> {
    for m in sentence.mentions()? {
        report.mentions += 1;
        let (s, e) = (offsets[m.span.start].0, offsets[m.span.end - 1].1);
        let exact = doc.mentions.iter().find(|p| p.start == s && p.end == e && !p.ids.is_empty());
        let best = exact.or_else(|| {
            doc.mentions
                .iter()
                .filter(|p| !p.ids.is_empty())
                .map(|p| (p.end.min(e).saturating_sub(p.start.max(s)), p))
                .filter(|(overlap, _)| *overlap > 0)
                .max_by_key(|(overlap, p)| (*overlap, std::cmp::Reverse(p.start)))
                .map(|(_, p)| p)
        });
        if exact.is_some() {
            report.mentions_exact += 1;
        }
        if let Some(p) = best {
            report.mentions_linked += 1;
            sentence.set_concept_ids(m.span.start, m.span.end, p.ids.clone());
        }
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubtator;

    #[test]
    fn aligns_and_skips_missing_document() {
        let text = "1|t|Aspirin helps.\n1\t0\t7\tAspirin\tChemical\tD001241\n\n\
                    10|t|Gone doc.\n\n\
                    2|t|Renal failure.\n2\t0\t13\tRenal failure\tDisease\tD051437\n";
        let (docs, _) = pubtator::read_str(text, "m").unwrap();
        let s = |t: &str, g: &str| {
            Sentence::new(t.split(' ').map(String::from).collect(), g.split(' ').map(String::from).collect()).unwrap()
        };
        let mut sents = vec![s("Aspirin helps .", "B-Chemical O O"), s("Renal failure .", "B-Disease I-Disease O")];
        let rep = align(&mut sents, &docs).unwrap();
        assert_eq!(rep.documents_skipped, ["10"]);
        assert_eq!(rep.mentions_linked, 2);
        assert_eq!(sents[1].doc_id.as_deref(), Some("2"));
        assert_eq!(sents[1].concept_ids(0, 2), ["MESH:D051437"]);
        let mut bad = vec![s("Nothing like it", "O O O")];
        assert!(align(&mut bad, &docs).unwrap_err().to_string().contains("sentence 0"));
    }
}

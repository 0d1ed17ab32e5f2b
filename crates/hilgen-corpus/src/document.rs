//! Text to tag and back: raw text files as documents, documents split into tokenized
//! sentences that remember each token's character offsets, and predicted tags turned back into
//! PubTator mentions at those offsets.
//!
//! ```
//! use hilgen_corpus::document::{read_text_documents, tokenize_document, with_mentions};
//! let docs = read_text_documents("Aspirin helps.\nIt reduces fever.\n\nSecond document.\n");
//! assert_eq!((docs.len(), docs[0].title.as_str(), docs[0].abstract_text.as_str()), (2, "Aspirin helps.", "It reduces fever."));
//! let mut sentences = tokenize_document(&docs[0]);
//! assert_eq!(sentences.len(), 2);
//! sentences[1].sentence.tags[2] = "B-Disease".into(); // "fever"
//! let tagged = with_mentions(&docs[0], &sentences);
//! assert_eq!((tagged.mentions[0].text.as_str(), tagged.mentions[0].start), ("fever", 26));
//! ```

use crate::pubtator::{Document, PubMention};
use crate::scheme;
use crate::sentence::Sentence;
use crate::tokenize::{split_sentences, tokenize};

/// A sentence of a document with the character range of each token in the document's text
/// ([`Document::text`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The sentence (tags `O` until tagged; `doc_id` is the document's id).
    pub sentence: Sentence,
    /// `(start, end)` character offsets of each token.
    pub offsets: Vec<(usize, usize)>,
}

/// Documents of a raw text file: blocks separated by blank lines; in each block the first line
/// is the title and the other lines, joined by spaces, the abstract. Ids are `1`, `2`, ... in
/// file order.
pub fn read_text_documents(text: &str) -> Vec<Document> {
    let mut docs = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let flush = |block: &mut Vec<&str>, docs: &mut Vec<Document>| {
        if block.is_empty() {
            return;
        }
        let title = block[0].trim().to_string();
        let abstract_text = block[1..].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        docs.push(Document { pmid: (docs.len() + 1).to_string(), title, abstract_text, ..Default::default() });
        block.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut block, &mut docs);
        } else {
            block.push(line);
        }
    }
    flush(&mut block, &mut docs);
    docs
}

/// Splits a document into sentences with the crate's tokenizer and splitter (mentions already
/// in the document are ignored: tags are all `O`).
pub fn tokenize_document(doc: &Document) -> Vec<Located> {
    let text = doc.text();
    // Byte -> character offsets.
    let mut char_of = vec![0usize; text.len() + 1];
    for (ci, (b, c)) in text.char_indices().enumerate() {
        for k in 0..c.len_utf8() {
            char_of[b + k] = ci;
        }
    }
    char_of[text.len()] = text.chars().count();
    let tokens = tokenize(&text, &[]);
    split_sentences(&text, &tokens, &[])
        .into_iter()
        .map(|range| {
            let toks = &tokens[range];
            let words: Vec<String> = toks.iter().map(|t| text[t.start..t.end].to_string()).collect();
            let n = words.len();
            let mut sentence = Sentence::new(words, vec!["O".to_string(); n]).expect("one tag per token");
            sentence.doc_id = Some(doc.pmid.clone());
            Located { sentence, offsets: toks.iter().map(|t| (char_of[t.start], char_of[t.end])).collect() }
        })
        .collect()
}

/// The document with its mentions replaced by those the sentences' tags give (decoded
/// leniently), at the tokens' offsets; mention texts are the document's text there.
pub fn with_mentions(doc: &Document, sentences: &[Located]) -> Document {
    let chars: Vec<char> = doc.text().chars().collect();
    let mut mentions = Vec::new();
    for l in sentences {
        let Ok(parsed) = scheme::parse_tags(&l.sentence.tags) else { continue };
        for span in scheme::decode_lenient(&parsed) {
            let (start, end) = (l.offsets[span.start].0, l.offsets[span.end - 1].1);
            mentions.push(PubMention {
                start,
                end,
                text: chars[start..end].iter().collect(),
                entity_type: span.label,
                ids: Vec::new(),
                composite_parts: Vec::new(),
            });
        }
    }
    Document { mentions, relations: Vec::new(), ..doc.clone() }
}

/// Documents for sentences that have no text of their own (CoNLL, JSON Lines): consecutive
/// sentences with the same `doc_id` form one document (each sentence alone when it has none),
/// its text the tokens joined by single spaces; the first sentence is the title.
pub fn documents_of_sentences(sentences: &[Sentence]) -> Vec<(Document, Vec<Located>)> {
    let mut out: Vec<(Document, Vec<Located>)> = Vec::new();
    for (i, s) in sentences.iter().enumerate() {
        let id = s.doc_id.clone().unwrap_or_else(|| format!("s{}", i + 1));
        let same = s.doc_id.is_some() && out.last().is_some_and(|(d, _)| d.pmid == id);
        if !same {
            out.push((Document { pmid: id, ..Default::default() }, Vec::new()));
        }
        let (doc, located) = out.last_mut().expect("pushed above");
        let text = s.text();
        let first = located.is_empty();
        // Offsets count over title + " " + abstract.
        let mut at = if first {
            0
        } else if doc.abstract_text.is_empty() {
            doc.title.chars().count() + 1
        } else {
            doc.title.chars().count() + 1 + doc.abstract_text.chars().count() + 1
        };
        let mut offsets = Vec::with_capacity(s.len());
        for t in &s.tokens {
            let n = t.chars().count();
            offsets.push((at, at + n));
            at += n + 1;
        }
        if first {
            doc.title = text;
        } else if doc.abstract_text.is_empty() {
            doc.abstract_text = text;
        } else {
            doc.abstract_text = format!("{} {text}", doc.abstract_text);
        }
        located.push(Located { sentence: s.clone(), offsets });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_point_at_the_tokens() {
        let docs = read_text_documents("Café au lait spots.\nNF1 was found in 3 patients.\n\n\n\nOnly a title\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].abstract_text, "");
        let text: Vec<char> = docs[0].text().chars().collect();
        for l in tokenize_document(&docs[0]) {
            for (t, &(a, b)) in l.sentence.tokens.iter().zip(&l.offsets) {
                assert_eq!(&text[a..b].iter().collect::<String>(), t);
            }
        }
    }

    #[test]
    fn sentences_without_text_become_documents() {
        let mut a = Sentence::new(vec!["Fever".into(), "rose".into()], vec!["B-Disease".into(), "O".into()]).unwrap();
        a.doc_id = Some("7".into());
        let mut b = Sentence::new(vec!["No".into(), "rash".into()], vec!["O".into(), "B-Disease".into()]).unwrap();
        b.doc_id = Some("7".into());
        let c = Sentence::new(vec!["Cough".into()], vec!["B-Disease".into()]).unwrap();
        let docs = documents_of_sentences(&[a, b, c]);
        assert_eq!(docs.len(), 2);
        let (d, located) = &docs[0];
        assert_eq!(d.text(), "Fever rose No rash");
        let tagged = with_mentions(d, located);
        let got: Vec<(&str, usize, usize)> =
            tagged.mentions.iter().map(|m| (m.text.as_str(), m.start, m.end)).collect();
        assert_eq!(got, [("Fever", 0, 5), ("rash", 14, 18)]);
        // Written and read back, the offsets hold.
        let mut buf = Vec::new();
        crate::pubtator::write(&mut buf, std::slice::from_ref(&tagged), "x".as_ref()).unwrap();
        let (back, report) = crate::pubtator::read_str(std::str::from_utf8(&buf).unwrap(), "x").unwrap();
        assert_eq!((back[0].mentions.len(), report.text_mismatches), (2, 0));
        assert_eq!(docs[1].0.pmid, "s3");
    }
}

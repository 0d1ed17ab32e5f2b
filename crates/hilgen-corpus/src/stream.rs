//! A large file to tag, read a piece at a time ([`Chunks`]): whole documents (PubTator, raw
//! text) or whole `-DOCSTART-` documents (CoNLL; single sentences when the file has none), or
//! runs of sentences with one `doc_id` (JSON Lines), about a set number of bytes at a time, so
//! that tagging a corpus of any size holds one piece in memory and document context (an
//! abbreviation defined in a document) is never cut. Errors give the line in the whole file.

use crate::conll::{self, ConllFormat, DOCSTART};
use crate::document::{read_text_documents, tokenize_document};
use crate::formats::{Contents, Format, Readable};
use crate::{jsonl, pubtator, CorpusError, Result};
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The pieces of a file to tag, in order.
pub struct Chunks {
    input: Readable,
    reader: BufReader<std::fs::File>,
    format: Format,
    conll: ConllFormat,
    target: usize,
    /// Lines of the file consumed before the buffered piece.
    line: usize,
    /// A line read past the end of the previous piece (it starts the next).
    carry: Option<String>,
    /// Documents (CoNLL `-DOCSTART-`, raw-text blocks) before the buffered piece.
    docs: usize,
    seen_docstart: bool,
    /// Bytes read so far.
    read: u64,
    total: u64,
    done: bool,
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_docstart(line: &str) -> bool {
    line.trim_start_matches('\u{feff}').split_whitespace().next() == Some(DOCSTART)
}

/// The `doc_id` of a JSON Lines record (none when it has none or is not JSON: the parser says
/// what is wrong with it).
fn doc_id_of(line: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        doc_id: Option<String>,
    }
    serde_json::from_str::<Id>(line).ok().and_then(|i| i.doc_id)
}

impl Chunks {
    /// Opens `path` (a pipe is copied to a temporary file first); `format` `Auto` detects it;
    /// pieces of about `bytes` bytes. Tags in the file are ignored (text to tag).
    pub fn open(path: &Path, format: Format, conll: &ConllFormat, bytes: usize) -> Result<Chunks> {
        let input = Readable::open(path)?;
        let format = match input.format(format) {
            Format::Auto => Format::Conll,
            f => f,
        };
        let file = std::fs::File::open(input.path()).map_err(|e| input.rename(CorpusError::io(input.path(), e)))?;
        let total = file.metadata().map(|m| m.len()).unwrap_or(0);
        let conll = ConllFormat { tag_column: conll::TagColumn::Ignored, ..conll.clone() };
        Ok(Chunks {
            input,
            reader: BufReader::new(file),
            format,
            conll,
            target: bytes.max(1),
            line: 0,
            carry: None,
            docs: 0,
            seen_docstart: false,
            read: 0,
            total,
            done: false,
        })
    }

    /// The format read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes read so far and the file's size (for a progress bar).
    pub fn progress(&self) -> (u64, u64) {
        (self.read, self.total)
    }

    fn next_line(&mut self) -> Result<Option<String>> {
        if let Some(l) = self.carry.take() {
            return Ok(Some(l));
        }
        let mut l = String::new();
        let n = self.reader.read_line(&mut l).map_err(|e| self.input.rename(CorpusError::io(self.input.path(), e)))?;
        self.read += n as u64;
        Ok((n > 0).then_some(l))
    }

    /// The text of the next piece and its line count, or `None` at the end.
    fn next_text(&mut self) -> Result<Option<(String, usize)>> {
        let mut buf = String::new();
        let mut lines = 0;
        let mut last_doc: Option<String> = None;
        while let Some(l) = self.next_line()? {
            let full = buf.len() >= self.target;
            let cut_before = match self.format {
                // A new document starts: cut before it.
                Format::Conll if is_docstart(&l) => {
                    let cut = full && self.seen_docstart;
                    self.seen_docstart = true;
                    cut
                }
                Format::Jsonl if full && !is_blank(&l) => {
                    let id = doc_id_of(&l);
                    id.is_none() || id != last_doc
                }
                _ => false,
            };
            if cut_before {
                self.carry = Some(l);
                return Ok(Some((buf, lines)));
            }
            if self.format == Format::Jsonl && !is_blank(&l) {
                last_doc = doc_id_of(&l);
            }
            let blank = is_blank(&l);
            buf.push_str(&l);
            lines += 1;
            // After a blank line: a document (PubTator, text) or a sentence (CoNLL without
            // documents) ends.
            let ends = match self.format {
                Format::Pubtator | Format::Text => blank,
                Format::Conll => blank && !self.seen_docstart,
                _ => false,
            };
            if ends && buf.len() >= self.target {
                return Ok(Some((buf, lines)));
            }
        }
        Ok((!buf.trim().is_empty()).then_some((buf, lines)))
    }

    fn parse(&mut self, text: &str) -> Result<Contents> {
        let path = self.input.path().to_path_buf();
        Ok(match self.format {
            Format::Pubtator => {
                let (docs, _) = pubtator::read_str(text, &path)?;
                Contents::Documents(docs.into_iter().map(|d| (tokenize_document(&d), d)).map(|(l, d)| (d, l)).collect())
            }
            Format::Text => {
                let mut docs = read_text_documents(text);
                for (i, d) in docs.iter_mut().enumerate() {
                    d.pmid = (self.docs + i + 1).to_string();
                }
                self.docs += docs.len();
                Contents::Documents(docs.into_iter().map(|d| (tokenize_document(&d), d)).map(|(l, d)| (d, l)).collect())
            }
            Format::Jsonl => Contents::Sentences(jsonl::read_tokens_str(text, &path)?),
            _ => {
                let mut sentences = conll::read_str(text, &path, &self.conll)?;
                let docs = text.lines().filter(|l| is_docstart(l)).count();
                for s in &mut sentences {
                    if let Some(d) = s.doc_id.as_deref().and_then(|d| d.parse::<usize>().ok()) {
                        s.doc_id = Some((d + self.docs).to_string());
                    }
                }
                self.docs += docs;
                Contents::Sentences(sentences)
            }
        })
    }
}

impl Iterator for Chunks {
    type Item = Result<Contents>;

    fn next(&mut self) -> Option<Result<Contents>> {
        if self.done {
            return None;
        }
        let piece = match self.next_text() {
            Ok(Some(p)) => p,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let (text, lines) = piece;
        let offset = self.line;
        self.line += lines;
        let parsed = self.parse(&text).map_err(|e| match e {
            CorpusError::Parse { path, line, message } => CorpusError::Parse { path, line: line + offset, message },
            other => other,
        });
        if parsed.is_err() {
            self.done = true;
        }
        Some(parsed.map_err(|e| self.input.rename(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(path: &Path, format: Format, bytes: usize) -> Vec<Contents> {
        Chunks::open(path, format, &ConllFormat::default(), bytes).unwrap().collect::<Result<_>>().unwrap()
    }

    fn sentences(c: &[Contents]) -> Vec<crate::Sentence> {
        c.iter().flat_map(Contents::sentences).collect()
    }

    #[test]
    fn pieces_hold_whole_documents_and_add_up_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for i in 0..50 {
            text.push_str(&format!("{i}|t|Aspirin (ASA) title {i}.\n{i}|a|ASA causes ulcers. Then more.\n\n"));
        }
        let p = dir.path().join("a.pubtator");
        std::fs::write(&p, &text).unwrap();
        let whole = all(&p, Format::Auto, usize::MAX);
        let pieces = all(&p, Format::Auto, 200);
        assert_eq!(whole.len(), 1);
        assert!(pieces.len() > 10, "{}", pieces.len());
        assert_eq!(sentences(&whole), sentences(&pieces));
        for c in &pieces {
            let Contents::Documents(d) = c else { panic!("documents") };
            assert!(d.iter().all(|(d, l)| !l.is_empty() && !d.title.is_empty()));
        }
    }

    #[test]
    fn conll_and_jsonl_documents_stay_whole_and_keep_their_ids() {
        let dir = tempfile::tempdir().unwrap();
        let mut conll_text = String::new();
        let mut json = String::new();
        for d in 0..20 {
            conll_text.push_str("-DOCSTART-\tO\n\n");
            for s in 0..3 {
                conll_text.push_str(&format!("word{d}\tO\nx{s}\tO\n\n"));
                json.push_str(&format!("{{\"tokens\":[\"word{d}\",\"x{s}\"],\"doc_id\":\"D{d}\"}}\n"));
            }
        }
        let c = dir.path().join("a.tsv");
        std::fs::write(&c, &conll_text).unwrap();
        let j = dir.path().join("a.jsonl");
        std::fs::write(&j, &json).unwrap();
        for p in [&c, &j] {
            let whole = sentences(&all(p, Format::Auto, usize::MAX));
            let pieces = all(p, Format::Auto, 50);
            assert!(pieces.len() > 5);
            assert_eq!(whole, sentences(&pieces), "{}", p.display());
            for piece in &pieces {
                // Each piece holds whole documents: three sentences each.
                let s = piece.sentences();
                assert_eq!(s.len() % 3, 0, "{}", p.display());
            }
        }
    }

    #[test]
    fn errors_name_the_line_of_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut json = String::new();
        for i in 0..30 {
            json.push_str(&format!("{{\"tokens\":[\"w{i}\"]}}\n"));
        }
        json.push_str("{\"tokens\": 5}\n");
        let p = dir.path().join("bad.jsonl");
        std::fs::write(&p, &json).unwrap();
        let err = Chunks::open(&p, Format::Auto, &ConllFormat::default(), 40)
            .unwrap()
            .find_map(|c| c.err())
            .unwrap()
            .to_string();
        assert!(err.contains("bad.jsonl:31:"), "{err}");
    }
}

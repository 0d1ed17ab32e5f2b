//! Reading and writing sentences in any supported file format, named or detected from the
//! file: CoNLL/TSV, JSON Lines, PubTator, or raw text (documents separated by blank lines).
//!
//! Detection: `.jsonl`/`.json` are JSON Lines; `.pubtator`, or a first line `ID|t|...`, is
//! PubTator; `.txt` is raw text unless its first lines look like CoNLL (`token<TAB>tag` rows
//! with IOB-like tags); anything else is CoNLL/TSV.
//!
//! ```
//! use hilgen_corpus::formats::Format;
//! assert_eq!("pubtator".parse::<Format>().unwrap(), Format::Pubtator);
//! assert_eq!(Format::of_name("abstracts.txt", "Aspirin helps.\n"), Format::Text);
//! assert_eq!(Format::of_name("train.txt", "Aspirin\tB-Chemical\nhelps\tO\n"), Format::Conll);
//! assert_eq!(Format::of_name("x.txt", "123|t|A title\n"), Format::Pubtator);
//! ```

use crate::conll::{self, ConllFormat};
use crate::convert::{pubtator_to_iob, ConvertOptions};
use crate::document::{read_text_documents, tokenize_document, Located};
use crate::error::{CorpusError, Result};
use crate::io_util::read_text;
use crate::jsonl;
use crate::pubtator::{self, Document};
use crate::sentence::Sentence;
use std::path::Path;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect from the name and the first lines.
    #[default]
    Auto,
    /// CoNLL / TSV (token and tag columns).
    Conll,
    /// JSON Lines with tokens, tags and spans.
    Jsonl,
    /// PubTator documents.
    Pubtator,
    /// Raw text: documents separated by blank lines (first line the title).
    Text,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Format::Auto),
            "conll" | "tsv" => Ok(Format::Conll),
            "jsonl" | "json" => Ok(Format::Jsonl),
            "pubtator" => Ok(Format::Pubtator),
            "text" | "txt" => Ok(Format::Text),
            _ => Err(format!("unknown format `{s}`; expected auto, conll, jsonl, pubtator or text")),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Auto => "auto",
            Format::Conll => "conll",
            Format::Jsonl => "jsonl",
            Format::Pubtator => "pubtator",
            Format::Text => "text",
        })
    }
}

fn looks_like_pubtator(head: &str) -> bool {
    let first = head.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut parts = first.splitn(3, '|');
    parts.next().is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && matches!(parts.next(), Some("t"))
}

fn looks_like_conll(head: &str) -> bool {
    let rows: Vec<&str> = head.lines().filter(|l| !l.trim().is_empty()).take(50).collect();
    let tagged = rows
        .iter()
        .filter(|l| {
            let last = l.split(['\t', ' ']).rfind(|f| !f.is_empty()).unwrap_or("");
            l.contains(['\t', ' '])
                && (last == "O" || last.len() > 2 && matches!(&last[..2], "B-" | "I-" | "E-" | "S-" | "L-" | "U-"))
        })
        .count();
    !rows.is_empty() && tagged * 10 >= rows.len() * 9
}

impl Format {
    /// The format of a file called `name` starting with `head` (never `Auto`).
    pub fn of_name(name: &str, head: &str) -> Format {
        let name = name.to_lowercase();
        if name.ends_with(".jsonl") || name.ends_with(".json") {
            Format::Jsonl
        } else if name.ends_with(".pubtator") || name.ends_with(".pubtator.txt") || looks_like_pubtator(head) {
            Format::Pubtator
        } else if name.ends_with(".txt") && !looks_like_conll(head) {
            Format::Text
        } else {
            Format::Conll
        }
    }

    /// This format, or (for `Auto`) the one detected for `path`.
    pub fn resolve(self, path: &Path) -> Format {
        if self != Format::Auto {
            return self;
        }
        let mut head = vec![0u8; 4096];
        let n = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).unwrap_or(0);
        head.truncate(n);
        Format::of_name(&path.to_string_lossy(), &String::from_utf8_lossy(&head))
    }
}

/// What a file holds: sentences, and for PubTator and raw text the documents they come from
/// (with each token's character offsets).
#[derive(Debug, Clone)]
pub enum Contents {
    /// Sentences without text of their own (CoNLL, JSON Lines).
    Sentences(Vec<Sentence>),
    /// Documents with their sentences located in the text.
    Documents(Vec<(Document, Vec<Located>)>),
}

impl Contents {
    /// All the sentences, in order.
    pub fn sentences(&self) -> Vec<Sentence> {
        match self {
            Contents::Sentences(s) => s.clone(),
            Contents::Documents(d) => d.iter().flat_map(|(_, l)| l.iter().map(|x| x.sentence.clone())).collect(),
        }
    }
}

/// Reads a file to tag: sentences as they are, documents split and tokenized (existing
/// annotations ignored).
pub fn read_contents(path: &Path, format: Format, conll_format: &ConllFormat) -> Result<Contents> {
    Ok(match format.resolve(path) {
        Format::Pubtator | Format::Text => {
            let docs = read_documents(path, format)?;
            Contents::Documents(
                docs.into_iter()
                    .map(|d| {
                        let l = tokenize_document(&d);
                        (d, l)
                    })
                    .collect(),
            )
        }
        _ => Contents::Sentences(read_sentences(path, format, conll_format)?),
    })
}

/// Documents of a PubTator or raw-text file.
pub fn read_documents(path: &Path, format: Format) -> Result<Vec<Document>> {
    match format.resolve(path) {
        Format::Pubtator => Ok(pubtator::read_path(path)?.0),
        Format::Text => Ok(read_text_documents(&read_text(path)?)),
        other => Err(CorpusError::Invalid(format!("{}: {other} files hold sentences, not documents", path.display()))),
    }
}

/// Labelled sentences of a file: CoNLL/TSV, JSON Lines, PubTator (converted to IOB2 with its
/// mentions) or raw text (tokenized, every tag `O`).
pub fn read_sentences(path: &Path, format: Format, conll_format: &ConllFormat) -> Result<Vec<Sentence>> {
    Ok(match format.resolve(path) {
        Format::Jsonl => jsonl::read_path(path)?,
        Format::Pubtator => {
            let (docs, report) = pubtator::read_path(path)?;
            tracing::info!(
                "{}: {} documents, {} mentions ({} without IDs, {} text mismatches)",
                path.display(),
                report.documents,
                report.mentions,
                report.without_ids,
                report.text_mismatches
            );
            pubtator_to_iob(&docs, &ConvertOptions::default()).0
        }
        Format::Text => read_text_documents(&read_text(path)?)
            .iter()
            .flat_map(|d| tokenize_document(d).into_iter().map(|l| l.sentence))
            .collect(),
        Format::Conll | Format::Auto => conll::read_path(path, conll_format)?,
    })
}

/// Writes sentences in `format` (`Auto`: from the name; PubTator gets one document per
/// `doc_id` run, its text the tokens joined by spaces; raw text is refused).
pub fn write_sentences(path: &Path, sentences: &[Sentence], format: Format) -> Result<()> {
    let format = if format == Format::Auto { Format::of_name(&path.to_string_lossy(), "") } else { format };
    match format {
        Format::Jsonl => jsonl::write_path(path, sentences),
        Format::Pubtator => {
            let docs: Vec<Document> = crate::document::documents_of_sentences(sentences)
                .iter()
                .map(|(d, l)| crate::document::with_mentions(d, l))
                .collect();
            pubtator::write_path(path, &docs)
        }
        Format::Text => Err(CorpusError::Invalid(format!(
            "{}: raw text cannot hold tags; write conll, jsonl or pubtator",
            path.display()
        ))),
        Format::Conll | Format::Auto => conll::write_path(path, sentences, &ConllFormat::default()),
    }
}

//! Reading and writing sentences in any supported file format, named or detected from the
//! file: CoNLL/TSV, JSON Lines, PubTator, or raw text (documents separated by blank lines).
//!
//! Detection: `.jsonl`/`.json` are JSON Lines; `.pubtator`, or a first line `ID|t|...`, is
//! PubTator; `.txt` is raw text unless its first lines look like CoNLL (`token<TAB>tag` rows
//! with IOB-like tags); anything else is CoNLL/TSV.
//!
//! A pipe, FIFO or device (`/dev/stdin`, `<(zcat x.gz)`) can be read only once, so the readers
//! below first copy such an input into a temporary file ([`Readable`]) and detect and parse that
//! copy: nothing of it is lost to the detection. Errors still name the path given.
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
use std::path::{Path, PathBuf};

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

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 5] = [Format::Auto, Format::Conll, Format::Jsonl, Format::Pubtator, Format::Text];

    /// The name a `--format` flag takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Conll => "conll",
            Format::Jsonl => "jsonl",
            Format::Pubtator => "pubtator",
            Format::Text => "text",
        }
    }

    /// Other names accepted for it.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Format::Conll => &["tsv"],
            Format::Jsonl => &["json"],
            Format::Text => &["txt"],
            Format::Auto | Format::Pubtator => &[],
        }
    }

    /// What a file of this format holds, for help texts.
    pub fn about(self) -> &'static str {
        match self {
            Format::Auto => "detected from the file name and its first lines",
            Format::Conll => "CoNLL/TSV: a token and a tag column",
            Format::Jsonl => "JSON Lines with tokens, tags and spans",
            Format::Pubtator => "PubTator documents",
            Format::Text => "raw text: documents separated by blank lines, the first line of each its title",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Format, String> {
        let s = s.to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| f.name() == s || f.aliases().contains(&s.as_str())).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format `{s}`; expected one of {}", names.join(", "))
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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

    /// This format, or (for `Auto`) the one detected for `path`: from its name and, for a
    /// regular file, its first 4 KB. A pipe or device is never read here (what was read could
    /// not be given back): its format comes from its name alone; [`Readable`] detects it from
    /// the content.
    pub fn resolve(self, path: &Path) -> Format {
        if self != Format::Auto {
            return self;
        }
        if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            return Format::of_name(&path.to_string_lossy(), "");
        }
        Format::of_name(&path.to_string_lossy(), &head_of(path))
    }
}

/// The first 4 KB of a file (empty when it cannot be read).
fn head_of(path: &Path) -> String {
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).unwrap_or(0);
    head.truncate(n);
    String::from_utf8_lossy(&head).into_owned()
}

/// An input file made safe to read more than once: a regular file stays where it is; a pipe,
/// FIFO or device (`/dev/stdin`, `<(...)`) is copied whole into a temporary file (removed when
/// this is dropped), so that format detection and parsing read the same bytes.
#[derive(Debug)]
pub struct Readable {
    name: PathBuf,
    spool: Option<tempfile::TempPath>,
}

impl Readable {
    /// Opens `path`, copying it first when it is not a regular file.
    pub fn open(path: &Path) -> Result<Readable> {
        let meta = std::fs::metadata(path).map_err(|e| CorpusError::io(path, e))?;
        if meta.is_file() || meta.is_dir() {
            return Ok(Readable { name: path.to_path_buf(), spool: None });
        }
        let mut source = std::fs::File::open(path).map_err(|e| CorpusError::io(path, e))?;
        let mut copy = tempfile::NamedTempFile::new().map_err(|e| CorpusError::io(std::env::temp_dir(), e))?;
        std::io::copy(&mut source, &mut copy).map_err(|e| CorpusError::io(path, e))?;
        Ok(Readable { name: path.to_path_buf(), spool: Some(copy.into_temp_path()) })
    }

    /// Where the bytes are (the file itself, or its copy).
    pub fn path(&self) -> &Path {
        self.spool.as_deref().unwrap_or(&self.name)
    }

    /// `format`, or (for `Auto`) the one detected from the name given and the content.
    pub fn format(&self, format: Format) -> Format {
        if format != Format::Auto {
            return format;
        }
        Format::of_name(&self.name.to_string_lossy(), &head_of(self.path()))
    }

    /// `e` naming the path given instead of the temporary copy.
    pub fn rename(&self, e: CorpusError) -> CorpusError {
        let Some(spool) = self.spool.as_deref() else { return e };
        match e {
            CorpusError::Io { path, cause } if path == spool => CorpusError::Io { path: self.name.clone(), cause },
            CorpusError::Parse { path, line, message } if path == spool => {
                CorpusError::Parse { path: self.name.clone(), line, message }
            }
            CorpusError::Invalid(m) => {
                CorpusError::Invalid(m.replace(&*spool.to_string_lossy(), &self.name.to_string_lossy()))
            }
            other => other,
        }
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
    let input = Readable::open(path)?;
    let read = || -> Result<Contents> {
        Ok(match input.format(format) {
            f @ (Format::Pubtator | Format::Text) => Contents::Documents(
                documents_in(input.path(), f)?
                    .into_iter()
                    .map(|d| {
                        let l = tokenize_document(&d);
                        (d, l)
                    })
                    .collect(),
            ),
            f => Contents::Sentences(sentences_in(input.path(), f, conll_format)?),
        })
    };
    read().map_err(|e| input.rename(e))
}

/// Documents of a PubTator or raw-text file.
pub fn read_documents(path: &Path, format: Format) -> Result<Vec<Document>> {
    let input = Readable::open(path)?;
    let f = input.format(format);
    documents_in(input.path(), f).map_err(|e| input.rename(e))
}

fn documents_in(path: &Path, format: Format) -> Result<Vec<Document>> {
    match format {
        Format::Pubtator => Ok(pubtator::read_path(path)?.0),
        Format::Text => Ok(read_text_documents(&read_text(path)?)),
        other => Err(CorpusError::Invalid(format!("{}: {other} files hold sentences, not documents", path.display()))),
    }
}

/// Labelled sentences of a file: CoNLL/TSV, JSON Lines, PubTator (converted to IOB2 with its
/// mentions) or raw text (tokenized, every tag `O`).
pub fn read_sentences(path: &Path, format: Format, conll_format: &ConllFormat) -> Result<Vec<Sentence>> {
    let input = Readable::open(path)?;
    let f = input.format(format);
    sentences_in(input.path(), f, conll_format).map_err(|e| input.rename(e))
}

fn sentences_in(path: &Path, format: Format, conll_format: &ConllFormat) -> Result<Vec<Sentence>> {
    Ok(match format {
        // Text to tag (the CoNLL tag column ignored): JSON Lines' labels are ignored too.
        Format::Jsonl if conll_format.tag_column == conll::TagColumn::Ignored => jsonl::read_tokens_path(path)?,
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

#[cfg(test)]
mod pipe_tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// A CoNLL file larger than the 4 KB detection window, read through a real pipe.
    #[test]
    fn piped_input_arrives_whole() {
        let mut text = String::new();
        for i in 0..400 {
            text.push_str(&format!("Aspirin{i}\tB-Chemical\ncauses\tO\nulcers\tB-Disease\n.\tO\n\n"));
        }
        assert!(text.len() > 3 * 4096);
        let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()).unwrap());
        let fd = std::os::fd::AsRawFd::as_raw_fd(child.stdout.as_ref().unwrap());
        let pipe = PathBuf::from(format!("/proc/self/fd/{fd}"));
        assert!(!std::fs::metadata(&pipe).unwrap().is_file());
        let sentences = read_sentences(&pipe, Format::Auto, &ConllFormat::default()).unwrap();
        writer.join().unwrap();
        let _ = child.wait();
        assert_eq!(sentences.len(), 400, "every sentence of the pipe, the first 4 KB included");
        assert_eq!(sentences[0].tokens, ["Aspirin0", "causes", "ulcers", "."]);
        assert_eq!(sentences[399].tags, ["B-Chemical", "O", "B-Disease", "O"]);
    }

    #[test]
    fn errors_in_piped_input_name_the_path_given() {
        let mut child =
            Command::new("printf").arg("a\tB-X\nb\tI-X\tQ\tZ\n\n\\xff\n").stdout(Stdio::piped()).spawn().unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(child.stdout.as_ref().unwrap());
        let pipe = PathBuf::from(format!("/proc/self/fd/{fd}"));
        let err = read_sentences(&pipe, Format::Conll, &ConllFormat::default()).unwrap_err().to_string();
        let _ = child.wait();
        assert!(err.starts_with(&format!("{}:", pipe.display())), "{err}");
    }
}

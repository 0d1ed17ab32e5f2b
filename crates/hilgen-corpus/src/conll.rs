//! CoNLL / TSV readers and writers: chosen token and tag columns, tab- or space-separated,
//! `-DOCSTART-` lines, blank-line sentence breaks, CRLF, UTF-8 BOM, bare `B`/`I`/`O` tags.
//!
//! ```
//! use hilgen_corpus::conll::{self, ConllFormat};
//! let text = "Aspirin\tB-Chemical\nworks\tO\n\n";
//! let sents = conll::read_str(text, "mem", &ConllFormat::default()).unwrap();
//! assert_eq!(sents[0].tags, ["B-Chemical", "O"]);
//! assert_eq!(conll::write_string(&sents, &ConllFormat::default()), text);
//! ```

use crate::error::{CorpusError, Result};
use crate::io_util::{numbered_lines, read_text, wio, write_atomic};
use crate::scheme::Tag;
use crate::sentence::Sentence;
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

/// How fields are separated on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    /// One tab between fields (tokens may contain spaces).
    Tab,
    /// Any run of spaces or tabs.
    Whitespace,
    /// Tab if the first data line has one, else whitespace.
    Auto,
}

/// Which column holds the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagColumn {
    /// The last column (2-column TSV, CoNLL-2003).
    Last,
    /// A 0-based column index.
    Index(usize),
    /// No tags: every token is read as `O`, other columns are ignored (text to tag, where a
    /// file may hold tokens alone).
    Ignored,
}

/// Layout of a CoNLL-style file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConllFormat {
    /// 0-based column of the token (default 0).
    pub token_column: usize,
    /// Column of the tag (default the last).
    pub tag_column: TagColumn,
    /// Field separator (default auto).
    pub separator: Separator,
    /// Entity type given to bare `B`/`I`/`E`/`S` tags; without it bare tags are an error.
    pub default_type: Option<String>,
    /// Writers: emit a `-DOCSTART-` line before each new document id.
    pub write_docstart: bool,
    /// Readers: keep any tag string as it is (as seqeval does, which reads its first character
    /// as the prefix and the text after the first `-` as the type) instead of refusing tags that
    /// are not `O`, `PREFIX-TYPE` or a bare prefix with a default type. They are counted in
    /// [`BorrowedCorpus::nonstandard_tags`].
    pub any_tags: bool,
}

impl Default for ConllFormat {
    fn default() -> Self {
        ConllFormat {
            token_column: 0,
            tag_column: TagColumn::Last,
            separator: Separator::Auto,
            default_type: None,
            write_docstart: false,
            any_tags: false,
        }
    }
}

/// The token of a `-DOCSTART-` line.
pub const DOCSTART: &str = "-DOCSTART-";

/// Reads a CoNLL file.
pub fn read_path(path: impl AsRef<Path>, format: &ConllFormat) -> Result<Vec<Sentence>> {
    let path = path.as_ref();
    read_str(&read_text(path)?, path, format)
}

/// Reads CoNLL text; `source` names it in errors.
pub fn read_str(text: &str, source: impl AsRef<Path>, format: &ConllFormat) -> Result<Vec<Sentence>> {
    Ok(read_borrowed(text, source, format)?.to_sentences())
}

/// Sentences whose tokens and tags borrow from the text they were read from, stored flat (one
/// vector of tokens and one of tags for the whole file) so that reading a large file allocates
/// little. Bare tags expanded with the default type are the only owned strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BorrowedCorpus<'a> {
    /// All tokens, sentence after sentence.
    pub tokens: Vec<&'a str>,
    /// All tags, aligned with `tokens`.
    pub tags: Vec<Cow<'a, str>>,
    /// End offset (exclusive) of each sentence in `tokens`.
    pub ends: Vec<usize>,
    /// Index of the `-DOCSTART-` document of each sentence, when the file has them.
    pub docs: Vec<Option<usize>>,
    /// The 1-based line of each token (0 when it did not come from a file's line).
    pub lines: Vec<u32>,
    /// Tags kept as they are although they are not of the form `O` / `PREFIX-TYPE` (with
    /// [`ConllFormat::any_tags`]).
    pub nonstandard_tags: usize,
}

impl<'a> BorrowedCorpus<'a> {
    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no sentence.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn range(&self, i: usize) -> std::ops::Range<usize> {
        (if i == 0 { 0 } else { self.ends[i - 1] })..self.ends[i]
    }

    /// Tokens of sentence `i`.
    pub fn sentence_tokens(&self, i: usize) -> &[&'a str] {
        &self.tokens[self.range(i)]
    }

    /// Tags of sentence `i`.
    pub fn sentence_tags(&self, i: usize) -> &[Cow<'a, str>] {
        &self.tags[self.range(i)]
    }

    /// The 1-based file line of token `token` of sentence `sentence`, when known.
    pub fn line_of(&self, sentence: usize, token: usize) -> Option<usize> {
        let i = self.range(sentence).start + token;
        self.lines.get(i).copied().filter(|&l| l > 0).map(|l| l as usize)
    }

    /// Owned copies as [`Sentence`]s (the document index becomes `doc_id`).
    pub fn to_sentences(&self) -> Vec<Sentence> {
        (0..self.len())
            .map(|i| Sentence {
                tokens: self.sentence_tokens(i).iter().map(|t| t.to_string()).collect(),
                tags: self.sentence_tags(i).iter().map(|t| t.to_string()).collect(),
                doc_id: self.docs[i].map(|d| d.to_string()),
                concepts: Vec::new(),
                unknown: Vec::new(),
                soft: None,
            })
            .collect()
    }
}

/// Reads CoNLL text without copying tokens and tags (same checks and errors as [`read_str`]).
pub fn read_borrowed<'a>(text: &'a str, source: impl AsRef<Path>, format: &ConllFormat) -> Result<BorrowedCorpus<'a>> {
    let source = source.as_ref();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let tab = match format.separator {
        Separator::Tab => true,
        Separator::Whitespace => false,
        Separator::Auto => text.lines().find(|l| !l.trim().is_empty()).is_some_and(|l| l.contains('\t')),
    };
    let mut out = BorrowedCorpus::default();
    // One token per line at most: reserving up front avoids copying large vectors as they grow.
    let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
    out.tokens.reserve(lines);
    out.tags.reserve(lines);
    let mut columns: Option<(usize, usize)> = None; // (count, line where first seen)
    let mut doc: Option<usize> = None;
    let mut fields: Vec<&str> = Vec::new();
    let flush = |out: &mut BorrowedCorpus<'a>, doc: Option<usize>| {
        if out.tokens.len() > out.ends.last().copied().unwrap_or(0) {
            out.ends.push(out.tokens.len());
            out.docs.push(doc);
        }
    };
    for (line_no, line) in numbered_lines(text) {
        if line.trim().is_empty() {
            flush(&mut out, doc);
            continue;
        }
        fields.clear();
        if tab {
            fields.extend(line.split('\t'));
        } else {
            fields.extend(line.split_whitespace());
        }
        if fields[0] == DOCSTART {
            flush(&mut out, doc);
            doc = Some(doc.map_or(0, |d| d + 1));
            continue;
        }
        let err = |m: String| CorpusError::parse(source, line_no, m);
        match columns {
            None => columns = Some((fields.len(), line_no)),
            Some((n, first)) if n != fields.len() => {
                return Err(err(format!("expected {n} columns (as on line {first}), found {}", fields.len())))
            }
            Some(_) => {}
        }
        let tag_col = match format.tag_column {
            TagColumn::Last => fields.len() - 1,
            TagColumn::Index(i) => i,
            TagColumn::Ignored => {
                let Some(&token) = fields.get(format.token_column).filter(|t| !t.is_empty()) else {
                    return Err(err(format!("no token in column {}", format.token_column + 1)));
                };
                out.tokens.push(token);
                out.tags.push(Cow::Borrowed("O"));
                out.lines.push(u32::try_from(line_no).unwrap_or(u32::MAX));
                continue;
            }
        };
        let needed = format.token_column.max(tag_col) + 1;
        if fields.len() < needed || fields.len() < 2 {
            return Err(err(format!(
                "expected at least {} columns (token in column {}, tag in column {}), found {}",
                needed.max(2),
                format.token_column + 1,
                tag_col + 1,
                fields.len()
            )));
        }
        let token = fields[format.token_column];
        if token.is_empty() {
            return Err(err(format!("empty token in column {}", format.token_column + 1)));
        }
        let raw = fields[tag_col];
        let tag = match normalize_tag(raw, format.default_type.as_deref()) {
            Ok(t) => t,
            Err(_) if format.any_tags && !raw.is_empty() => {
                out.nonstandard_tags += 1;
                Cow::Borrowed(raw)
            }
            Err(e) => return Err(err(format!("{e} (column {})", tag_col + 1))),
        };
        out.tokens.push(token);
        out.tags.push(tag);
        out.lines.push(u32::try_from(line_no).unwrap_or(u32::MAX));
    }
    flush(&mut out, doc);
    Ok(out)
}

/// Checks a tag and expands a bare prefix (`B`, `I`, ...) with the default type.
fn normalize_tag<'a>(tag: &'a str, default_type: Option<&str>) -> Result<Cow<'a, str>> {
    if tag.len() == 1 && tag != "O" {
        if !matches!(tag, "B" | "I" | "E" | "S" | "L" | "U") {
            return Err(CorpusError::InvalidTag {
                tag: tag.to_string(),
                message: "expected O, a prefix (B, I, E, S, L, U) with a type (B-Disease), or a bare prefix".into(),
            });
        }
        return match default_type {
            Some(t) => {
                let full = format!("{tag}-{t}");
                Tag::parse(&full)?;
                Ok(Cow::Owned(full))
            }
            None => Err(CorpusError::InvalidTag {
                tag: tag.to_string(),
                message: "a bare prefix needs a default entity type (--default-type TYPE)".into(),
            }),
        };
    }
    Tag::parse(tag)?;
    Ok(Cow::Borrowed(tag))
}

/// Writes sentences as `token<TAB>tag` lines with a blank line after each sentence.
pub fn write<W: Write + ?Sized>(w: &mut W, sentences: &[Sentence], format: &ConllFormat) -> std::io::Result<()> {
    let sep = if format.separator == Separator::Whitespace { " " } else { "\t" };
    let mut last_doc: Option<&str> = None;
    for (i, s) in sentences.iter().enumerate() {
        if format.write_docstart && (i == 0 || s.doc_id.as_deref() != last_doc) {
            writeln!(w, "{DOCSTART}{sep}O")?;
            writeln!(w)?;
        }
        last_doc = s.doc_id.as_deref();
        for (tok, tag) in s.tokens.iter().zip(&s.tags) {
            writeln!(w, "{tok}{sep}{tag}")?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// Writes sentences into a string (see [`write`]).
pub fn write_string(sentences: &[Sentence], format: &ConllFormat) -> String {
    let mut buf = Vec::new();
    write(&mut buf, sentences, format).expect("writing to memory");
    String::from_utf8(buf).expect("sentences are UTF-8")
}

/// Writes sentences to `path` atomically (see [`write`]).
pub fn write_path(path: impl AsRef<Path>, sentences: &[Sentence], format: &ConllFormat) -> Result<()> {
    let path = path.as_ref();
    write_atomic(path, |w| write(w, sentences, format).map_err(wio(path)))
}

#[cfg(test)]
mod tests {

    #[test]
    fn ignored_tags_read_tokens_alone() {
        let fmt = ConllFormat { tag_column: TagColumn::Ignored, ..ConllFormat::default() };
        let s = read_str("Aspirin\ncauses\tB-X\tjunk\n\nulcers\n", "t.tsv", &fmt);
        // Column counts may not vary within a file: tokens alone, or tokens with columns.
        assert!(s.is_err());
        let s = read_str("Aspirin\ncauses\n\nulcers\n", "t.tsv", &fmt).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens, ["Aspirin", "causes"]);
        assert_eq!(s[0].tags, ["O", "O"]);
    }

    use super::*;

    #[test]
    fn reads_conll2003_layout_with_docstart_crlf_bom() {
        let text = "\u{feff}-DOCSTART- -X- -X- O\r\n\r\nEU NNP B-NP B-ORG\r\nrejects VBZ B-VP O\r\n\r\n-DOCSTART- -X- -X- O\r\n\r\nPeter NNP B-NP B-PER\r\n";
        let s = read_str(text, "t", &ConllFormat::default()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens, ["EU", "rejects"]);
        assert_eq!(s[0].tags, ["B-ORG", "O"]);
        assert_eq!(s[0].doc_id.as_deref(), Some("0"));
        assert_eq!(s[1].doc_id.as_deref(), Some("1"));
    }

    #[test]
    fn chosen_columns_and_bare_tags() {
        let fmt = ConllFormat {
            token_column: 1,
            tag_column: TagColumn::Index(2),
            default_type: Some("Disease".into()),
            ..Default::default()
        };
        let s = read_str("1\tcystic\tB\tx\n2\tfibrosis\tI\tx\n", "t", &fmt).unwrap();
        assert_eq!(s[0].tags, ["B-Disease", "I-Disease"]);
        let err = read_str("a\tB\n", "f.tsv", &ConllFormat::default()).unwrap_err().to_string();
        assert!(err.starts_with("f.tsv:1:") && err.contains("default entity type"), "{err}");
    }

    #[test]
    fn errors_name_file_line_and_expectation() {
        let err = read_str("a\tO\nb\tO\tX\n", "x.tsv", &ConllFormat::default()).unwrap_err().to_string();
        assert_eq!(err, "x.tsv:2: expected 2 columns (as on line 1), found 3");
        let err = read_str("a\tO\nb\tQ-X\n", "x.tsv", &ConllFormat::default()).unwrap_err().to_string();
        assert!(err.starts_with("x.tsv:2: invalid tag `Q-X`"), "{err}");
        let err = read_str("alone\n", "x.tsv", &ConllFormat::default()).unwrap_err().to_string();
        assert!(err.starts_with("x.tsv:1: expected at least 2 columns"), "{err}");
    }

    #[test]
    fn docstart_round_trip() {
        let fmt = ConllFormat { write_docstart: true, ..Default::default() };
        let text = "-DOCSTART-\tO\n\na\tB-X\n\nb\tO\n\n-DOCSTART-\tO\n\nc\tO\n\n";
        let s = read_str(text, "t", &fmt).unwrap();
        assert_eq!(write_string(&s, &fmt), text);
    }
}

//! PubTator reader: title/abstract documents, mentions with character offsets, types and
//! concept IDs, and relations.
//!
//! Survives the quirks of the real BC5CDR, NCBI-Disease and MedMentions files: leading blank
//! lines, `-1` IDs, `|`- and `+`-joined IDs, IDs with spaces around them, `OMIM:` / `UMLS:` /
//! `MESH:` prefixes, the 7th column (component names) of composite mentions, and mentions whose
//! text does not match the document at their offsets (counted, kept as given).
//!
//! ```
//! use hilgen_corpus::pubtator;
//! let text = "1|t|Aspirin.\n1|a|It helps.\n1\t0\t7\tAspirin\tChemical\tD001241\n\n";
//! let (docs, _) = pubtator::read_str(text, "mem").unwrap();
//! assert_eq!(docs[0].mentions[0].ids, ["MESH:D001241"]);
//! ```

use crate::error::{CorpusError, Result};
use crate::io_util::{numbered_lines, read_text, wio, write_atomic};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One annotated mention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PubMention {
    /// Character offset of the first character in `title + " " + abstract`.
    pub start: usize,
    /// Character offset one past the last character.
    pub end: usize,
    /// The mention text as given in the file.
    pub text: String,
    /// The entity type (`Chemical`, `SpecificDisease`, `T038`, ...).
    pub entity_type: String,
    /// Normalized concept IDs (empty for `-1`); see [`normalize_concept_id`].
    pub ids: Vec<String>,
    /// Component names of a composite mention (the 7th column), if any.
    pub composite_parts: Vec<String>,
}

/// A relation row (`pmid<TAB>CID<TAB>chemical<TAB>disease`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// Relation type, e.g. `CID`.
    pub kind: String,
    /// Its arguments (normalized concept IDs).
    pub args: Vec<String>,
}

/// One PubTator document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Document {
    /// The PubMed ID.
    pub pmid: String,
    /// The title.
    pub title: String,
    /// The abstract (possibly empty).
    pub abstract_text: String,
    /// Mentions in file order.
    pub mentions: Vec<PubMention>,
    /// Relations in file order.
    pub relations: Vec<Relation>,
}

impl Document {
    /// The text offsets refer to: title, one space, abstract.
    pub fn text(&self) -> String {
        if self.abstract_text.is_empty() {
            self.title.clone()
        } else {
            format!("{} {}", self.title, self.abstract_text)
        }
    }
}

/// What was noticed while reading a PubTator file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadReport {
    /// Documents read.
    pub documents: usize,
    /// Mentions read.
    pub mentions: usize,
    /// Mentions with no concept ID (`-1` or empty).
    pub without_ids: usize,
    /// Mentions whose text differs from the document text at their offsets.
    pub text_mismatches: usize,
}

/// Normalizes a concept ID: bare MeSH IDs (`D` or `C` and 6 or 9 digits) get `MESH:`;
/// `UMLS:C0012345` becomes the bare CUI `C0012345`; other prefixes (`OMIM:`, `MESH:`, `DOID:`)
/// are kept; surrounding whitespace is removed; `-1` and empty strings give `None`.
pub fn normalize_concept_id(raw: &str) -> Option<String> {
    let id = raw.trim();
    if id.is_empty() || id == "-1" {
        return None;
    }
    if let Some(cui) = id.strip_prefix("UMLS:") {
        return Some(cui.to_string());
    }
    let bytes = id.as_bytes();
    let mesh_like =
        matches!(bytes[0], b'D' | b'C') && matches!(bytes.len(), 7 | 10) && bytes[1..].iter().all(u8::is_ascii_digit);
    Some(if mesh_like { format!("MESH:{id}") } else { id.to_string() })
}

/// Splits an ID field on `|` and `+` and normalizes each part.
pub fn parse_ids(field: &str) -> Vec<String> {
    field.split(['|', '+']).filter_map(normalize_concept_id).collect()
}

/// Reads a PubTator file.
pub fn read_path(path: impl AsRef<Path>) -> Result<(Vec<Document>, ReadReport)> {
    let path = path.as_ref();
    read_str(&read_text(path)?, path)
}

/// Reads PubTator text; `source` names it in errors.
pub fn read_str(text: &str, source: impl AsRef<Path>) -> Result<(Vec<Document>, ReadReport)> {
    let source = source.as_ref();
    let mut docs: Vec<Document> = Vec::new();
    let mut report = ReadReport::default();
    // Char -> byte offsets of the current document's text, built when its first mention comes.
    let mut index: Option<(String, Vec<usize>)> = None;
    let mut open = false;
    for (line_no, line) in numbered_lines(text) {
        let err = |m: String| CorpusError::parse(source, line_no, m);
        if line.trim().is_empty() {
            open = false;
            continue;
        }
        if let Some((pmid, kind, body)) = header(line) {
            match kind {
                "t" => {
                    docs.push(Document { pmid: pmid.to_string(), title: body.to_string(), ..Default::default() });
                    index = None;
                    open = true;
                }
                _ => {
                    let doc = docs.last_mut().filter(|d| open && d.pmid == pmid).ok_or_else(|| {
                        err(format!("abstract line for {pmid} without its title line `{pmid}|t|...` just before"))
                    })?;
                    doc.abstract_text = body.to_string();
                }
            }
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let doc = match docs.last_mut() {
            Some(d) if open && d.pmid == fields[0] => d,
            _ => {
                return Err(err(format!(
                    "expected a `PMID|t|title` line, a mention or relation row of the current document, found `{}`",
                    truncate(line, 60)
                )))
            }
        };
        if fields.len() == 4 && fields[1].parse::<usize>().is_err() {
            doc.relations.push(Relation {
                kind: fields[1].to_string(),
                args: fields[2..].iter().map(|a| normalize_concept_id(a).unwrap_or_else(|| a.to_string())).collect(),
            });
            continue;
        }
        if !(5..=7).contains(&fields.len()) {
            return Err(err(format!(
                "expected a mention row with 5 to 7 tab-separated fields (pmid, start, end, text, type, ids, parts) or a 4-field relation row, found {} fields",
                fields.len()
            )));
        }
        let offset = |i: usize, what: &str| {
            fields[i]
                .trim()
                .parse::<usize>()
                .map_err(|_| err(format!("expected a {what} offset, found `{}`", fields[i])))
        };
        let (start, end) = (offset(1, "start")?, offset(2, "end")?);
        let (full, chars) = index.get_or_insert_with(|| {
            let t = doc.text();
            let mut c: Vec<usize> = t.char_indices().map(|(b, _)| b).collect();
            c.push(t.len());
            (t, c)
        });
        let n_chars = chars.len() - 1;
        if start >= end || end > n_chars {
            return Err(err(format!(
                "mention offsets {start}-{end} are outside the document's text ({n_chars} characters) or empty"
            )));
        }
        let mention_text = fields[3];
        if &full[chars[start]..chars[end]] != mention_text {
            report.text_mismatches += 1;
            tracing::debug!("{}:{line_no}: mention text differs from the document at {start}-{end}", source.display());
        }
        let ids = fields.get(5).map(|f| parse_ids(f)).unwrap_or_default();
        if ids.is_empty() {
            report.without_ids += 1;
        }
        let composite_parts =
            fields.get(6).map(|f| f.split('|').map(|p| p.trim().to_string()).collect()).unwrap_or_default();
        doc.mentions.push(PubMention {
            start,
            end,
            text: mention_text.to_string(),
            entity_type: fields[4].trim().to_string(),
            ids,
            composite_parts,
        });
        report.mentions += 1;
    }
    report.documents = docs.len();
    Ok((docs, report))
}

/// Splits `PMID|t|text` / `PMID|a|text` header lines.
fn header(line: &str) -> Option<(&str, &str, &str)> {
    let (pmid, rest) = line.split_once('|')?;
    if pmid.is_empty() || pmid.contains('\t') {
        return None;
    }
    let (kind, body) = rest.split_once('|')?;
    matches!(kind, "t" | "a").then_some((pmid, kind, body))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n).collect::<String>())
    }
}

/// Writes documents as PubTator: the title and abstract lines, one mention row per mention
/// (`pmid, start, end, text, type, ids` with ids `|`-joined, `-1` when none), relation rows, and a
/// blank line after each document. Titles and abstracts must not contain line breaks.
pub fn write<W: std::io::Write + ?Sized>(w: &mut W, docs: &[Document], path: &Path) -> Result<()> {
    let io = wio(path);
    for d in docs {
        for (kind, body) in [("t", &d.title), ("a", &d.abstract_text)] {
            if body.contains(['\n', '\r']) {
                return Err(CorpusError::Invalid(format!("document {}: a line break in the {kind} text", d.pmid)));
            }
            writeln!(w, "{}|{kind}|{body}", d.pmid).map_err(&io)?;
        }
        for m in &d.mentions {
            let ids = if m.ids.is_empty() { "-1".to_string() } else { m.ids.join("|") };
            writeln!(w, "{}\t{}\t{}\t{}\t{}\t{ids}", d.pmid, m.start, m.end, m.text, m.entity_type).map_err(&io)?;
        }
        for r in &d.relations {
            writeln!(w, "{}\t{}\t{}", d.pmid, r.kind, r.args.join("\t")).map_err(&io)?;
        }
        writeln!(w).map_err(&io)?;
    }
    Ok(())
}

/// Writes documents to `path` atomically (see [`write`]).
pub fn write_path(path: impl AsRef<Path>, docs: &[Document]) -> Result<()> {
    let path = path.as_ref();
    write_atomic(path, |w| write(w, docs, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_normalized() {
        assert_eq!(parse_ids("D014786|D006311"), ["MESH:D014786", "MESH:D006311"]);
        assert_eq!(parse_ids("D040181+D009136"), ["MESH:D040181", "MESH:D009136"]);
        assert_eq!(parse_ids(" OMIM:222100"), ["OMIM:222100"]);
        assert_eq!(parse_ids("UMLS:C0010674"), ["C0010674"]);
        assert!(parse_ids("-1").is_empty());
    }

    #[test]
    fn composite_and_relations() {
        let text = "\n9|t|Ocular and auditory toxicity\n9|a|x\n9\t0\t28\tOcular and auditory toxicity\tDisease\tD014786|D006311\tOcular toxicity|auditory toxicity\n9\tCID\tD1\tD014786\n";
        let (docs, rep) = read_str(text, "m").unwrap();
        assert_eq!(rep.mentions, 1);
        assert_eq!(docs[0].mentions[0].composite_parts, ["Ocular toxicity", "auditory toxicity"]);
        assert_eq!(docs[0].relations[0].args, ["D1", "MESH:D014786"]);
    }

    #[test]
    fn offsets_outside_text_name_the_line() {
        let text = "1|t|Short.\n1|a|Text.\n1\t5\t99\tx\tDisease\tD1\n";
        let err = read_str(text, "p.txt").unwrap_err().to_string();
        assert!(err.starts_with("p.txt:3: mention offsets 5-99 are outside"), "{err}");
        let err = read_str("1\t0\t1\tx\tD\tD1\n", "p.txt").unwrap_err().to_string();
        assert!(err.starts_with("p.txt:1: expected a `PMID|t|title` line"), "{err}");
    }
}

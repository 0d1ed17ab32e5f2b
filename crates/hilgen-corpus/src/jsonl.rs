//! JSON Lines: one sentence per line as `{"tokens": [...], "tags": [...], "spans": [...]}`.
//!
//! Writers always emit tokens, tags and spans (with concept IDs). Readers accept tags, spans or
//! both; spans alone are encoded as IOB2; when both are given they must agree.
//!
//! ```
//! use hilgen_corpus::jsonl;
//! let line = r#"{"tokens":["aspirin","helps"],"spans":[{"start":0,"end":1,"label":"Chemical"}]}"#;
//! let s = jsonl::read_str(line, "mem").unwrap();
//! assert_eq!(s[0].tags, ["B-Chemical", "O"]);
//! ```

use crate::error::{CorpusError, Result};
use crate::io_util::{numbered_lines, read_text, wio, write_atomic};
use crate::scheme::{self, Scheme, Span};
use crate::sentence::{Mention, Sentence, SoftTargets};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

#[derive(Serialize, Deserialize)]
struct Record {
    tokens: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spans: Option<Vec<Mention>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    doc_id: Option<String>,
    /// Words whose `O` is not known (partial annotation; see [`Sentence::unknown`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<usize>,
    /// Soft targets of some words (see [`Sentence::soft`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    soft: Option<SoftTargets>,
}

/// Reads a JSON Lines file.
pub fn read_path(path: impl AsRef<Path>) -> Result<Vec<Sentence>> {
    let path = path.as_ref();
    read_str(&read_text(path)?, path)
}

/// Reads JSON Lines text; `source` names it in errors. Blank lines are skipped.
pub fn read_str(text: &str, source: impl AsRef<Path>) -> Result<Vec<Sentence>> {
    read_records(text, source.as_ref(), true)
}

/// Reads the tokens (and document ids) of a JSON Lines file whose labels do not matter (text
/// to tag): `tags` and `spans` may be absent and are ignored; every tag is `O`.
pub fn read_tokens_path(path: impl AsRef<Path>) -> Result<Vec<Sentence>> {
    let path = path.as_ref();
    read_records(&read_text(path)?, path, false)
}

/// [`read_tokens_path`] of text in memory; `source` names it in errors.
pub fn read_tokens_str(text: &str, source: impl AsRef<Path>) -> Result<Vec<Sentence>> {
    read_records(text, source.as_ref(), false)
}

fn read_records(text: &str, source: &Path, labelled: bool) -> Result<Vec<Sentence>> {
    let mut out = Vec::new();
    for (line_no, line) in numbered_lines(text) {
        if line.trim().is_empty() {
            continue;
        }
        let err = |m: String| CorpusError::parse(source, line_no, m);
        let rec: Record = serde_json::from_str(line)
            .map_err(|e| err(format!("{e}; expected an object with `tokens` and `tags` and/or `spans`")))?;
        let n = rec.tokens.len();
        if !labelled {
            let mut s = Sentence::new(rec.tokens, vec!["O".to_string(); n]).map_err(|e| err(e.to_string()))?;
            s.doc_id = rec.doc_id;
            out.push(s);
            continue;
        }
        let spans: Option<Vec<Span>> = rec.spans.as_ref().map(|m| m.iter().map(|m| m.span.clone()).collect());
        let tags = match (rec.tags, &spans) {
            (Some(tags), _) if tags.len() != n => return Err(err(format!("{n} tokens but {} tags", tags.len()))),
            (Some(tags), Some(spans)) => {
                let parsed = scheme::parse_tags(&tags).map_err(|e| err(e.to_string()))?;
                if &scheme::decode_lenient(&parsed) != spans {
                    return Err(err("`tags` and `spans` describe different entities".into()));
                }
                tags
            }
            (Some(tags), None) => {
                scheme::parse_tags(&tags).map_err(|e| err(e.to_string()))?;
                tags
            }
            (None, Some(spans)) => scheme::encode(spans, n, Scheme::Iob2).map_err(|e| err(e.to_string()))?,
            (None, None) => return Err(err("expected `tags` or `spans`".into())),
        };
        if let Some(&w) = rec.unknown.iter().find(|&&w| w >= n || tags[w] != "O") {
            return Err(err(format!(
                "`unknown` word {w} is not an `O` word of this sentence (expected indices of `O` words below {n})"
            )));
        }
        if rec.unknown.windows(2).any(|p| p[0] >= p[1]) {
            return Err(err("`unknown` must list word indices in ascending order, each once".into()));
        }
        if let Some(m) = rec.soft.as_ref().and_then(|t| t.problem(n)) {
            return Err(err(m));
        }
        let mut s = Sentence::new(rec.tokens, tags).map_err(|e| err(e.to_string()))?;
        s.doc_id = rec.doc_id;
        s.unknown = rec.unknown;
        s.soft = rec.soft;
        for m in rec.spans.into_iter().flatten() {
            s.set_concept_ids(m.span.start, m.span.end, m.concept_ids);
        }
        out.push(s);
    }
    Ok(out)
}

/// Writes sentences, one JSON object per line.
pub fn write<W: Write + ?Sized>(w: &mut W, sentences: &[Sentence]) -> Result<()> {
    for s in sentences {
        let rec = Record {
            tokens: s.tokens.clone(),
            tags: Some(s.tags.clone()),
            spans: Some(s.mentions()?),
            doc_id: s.doc_id.clone(),
            unknown: s.unknown.clone(),
            soft: s.soft.clone(),
        };
        let line = serde_json::to_string(&rec).map_err(|e| CorpusError::Invalid(e.to_string()))?;
        writeln!(w, "{line}").map_err(|e| CorpusError::io("<writer>", e))?;
    }
    Ok(())
}

/// Writes sentences to `path` atomically.
pub fn write_path(path: impl AsRef<Path>, sentences: &[Sentence]) -> Result<()> {
    let path = path.as_ref();
    write_atomic(path, |w| {
        write(w, sentences).map_err(|e| match e {
            CorpusError::Io { cause, .. } => wio(path)(cause),
            e => e,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_concepts() {
        let mut s = Sentence::new(vec!["renal".into(), "failure".into()], vec!["B-Disease".into(), "I-Disease".into()])
            .unwrap();
        s.doc_id = Some("123".into());
        s.set_concept_ids(0, 2, vec!["MESH:D051437".into()]);
        let mut buf = Vec::new();
        write(&mut buf, std::slice::from_ref(&s)).unwrap();
        let back = read_str(std::str::from_utf8(&buf).unwrap(), "m").unwrap();
        assert_eq!(back, vec![s]);
    }

    #[test]
    fn soft_targets_round_trip_and_bad_ones_are_refused_by_line() {
        let mut s = Sentence::new(vec!["x".into(), "y".into()], vec!["B-C".into(), "O".into()]).unwrap();
        s.soft = Some(SoftTargets { labels: vec!["O".into(), "B-C".into()], words: vec![(1, vec![0.25, 0.75])] });
        let mut buf = Vec::new();
        write(&mut buf, std::slice::from_ref(&s)).unwrap();
        let back = read_str(std::str::from_utf8(&buf).unwrap(), "m").unwrap();
        assert_eq!(back, vec![s]);
        for (bad, says) in [
            (r#"[[2,[0.5,0.5]]]"#, "past the sentence"),
            (r#"[[1,[1.0]]]"#, "1 probabilities for 2 labels"),
            (r#"[[1,[0.5,0.6]]]"#, "summing to 1"),
            (r#"[[1,[0.5,0.5]],[0,[0.5,0.5]]]"#, "ascending"),
        ] {
            let line =
                format!(r#"{{"tokens":["x","y"],"tags":["B-C","O"],"soft":{{"labels":["O","B-C"],"words":{bad}}}}}"#);
            let e = read_str(&format!("\n{line}"), "f.jsonl").unwrap_err().to_string();
            assert!(e.contains("f.jsonl") && e.contains('2') && e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_words_round_trip_and_must_be_o_words_in_order() {
        let mut s = Sentence::new(
            vec!["x".into(), "ropivacaine".into(), "y".into()],
            vec!["B-C".into(), "O".into(), "O".into()],
        )
        .unwrap();
        s.unknown = vec![1, 2];
        let mut buf = Vec::new();
        write(&mut buf, std::slice::from_ref(&s)).unwrap();
        let text = std::str::from_utf8(&buf).unwrap();
        assert!(text.contains("\"unknown\":[1,2]"), "{text}");
        assert_eq!(read_str(text, "m").unwrap(), vec![s]);
        for (bad, why) in [("[0]", "not an `O` word"), ("[3]", "not an `O` word"), ("[2,1]", "ascending")] {
            let line = format!(r#"{{"tokens":["x","y","z"],"tags":["B-C","O","O"],"unknown":{bad}}}"#);
            let e = read_str(&line, "f.jsonl").unwrap_err().to_string();
            assert!(e.contains("f.jsonl") && e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn tokens_alone_read_as_text_to_tag() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.jsonl");
        std::fs::write(&p, "{\"tokens\":[\"a\",\"b\"],\"doc_id\":\"7\"}\n{\"tokens\":[\"c\"],\"tags\":[\"B-X\"]}\n")
            .unwrap();
        assert!(read_path(&p).unwrap_err().to_string().contains("expected `tags` or `spans`"));
        let s = read_tokens_path(&p).unwrap();
        assert_eq!((s[0].tokens.len(), s[0].doc_id.as_deref(), s[1].tags[0].as_str()), (2, Some("7"), "O"));
    }

    #[test]
    fn disagreeing_tags_and_spans_are_an_error() {
        let line = r#"{"tokens":["a"],"tags":["O"],"spans":[{"start":0,"end":1,"label":"X"}]}"#;
        let err = read_str(line, "f.jsonl").unwrap_err().to_string();
        assert!(err.starts_with("f.jsonl:1:"), "{err}");
        assert!(read_str("{not json", "f").is_err());
    }
}

//! OBO 1.2 / 1.4 ontologies (Disease Ontology, HPO, MONDO): `[Term]` stanzas with `id`,
//! `name`, `synonym` (EXACT and RELATED kept), `is_a`, `xref` (UMLS_CUI and MESH mapped to
//! `UMLS:` / `MESH:`, others kept), `is_obsolete: true` skipped. The hierarchy source and the
//! type of every term are the ontology's name (`ontology:` header, upper-cased, e.g. `DOID`).

use crate::error::{KbError, Result};
use crate::graph::Graph;
use crate::sources::read_text;
use serde::Serialize;
use std::path::Path;

/// What was loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OboReport {
    /// Live terms.
    pub terms: u64,
    /// Obsolete terms skipped.
    pub obsolete: u64,
    /// Synonyms kept.
    pub synonyms: u64,
    /// `is_a` edges.
    pub is_a: u64,
    /// Cross-references.
    pub xrefs: u64,
    /// Alternative IDs (indexed as cross-references).
    pub alt_ids: u64,
}

#[derive(Default)]
struct Stanza {
    line: u64,
    id: String,
    name: String,
    synonyms: Vec<String>,
    is_a: Vec<String>,
    xrefs: Vec<String>,
    alt_ids: Vec<String>,
    obsolete: bool,
}

/// Maps an OBO xref to this crate's ID form.
fn xref(raw: &str) -> String {
    let raw = raw.split_whitespace().next().unwrap_or(raw);
    if let Some(cui) = raw.strip_prefix("UMLS_CUI:") {
        return format!("UMLS:{cui}");
    }
    raw.to_string()
}

/// The quoted text of a `synonym:` value and its scope.
fn synonym(value: &str) -> Option<(String, &str)> {
    let rest = value.strip_prefix('"')?;
    let mut text = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    text.push(n);
                }
            }
            '"' => {
                let scope = rest[i + 1..].split_whitespace().next().unwrap_or("");
                return Some((text, scope));
            }
            c => text.push(c),
        }
    }
    None
}

/// Loads an OBO file into `graph`.
pub fn load(path: &Path, graph: &mut Graph) -> Result<OboReport> {
    let text = read_text(path)?;
    // The source name: the `ontology:` header without a file extension (HPO's says `hp.obo`),
    // else the ID prefix of the first term.
    let header = text
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.strip_prefix("ontology:"))
        .map(|o| o.trim().trim_end_matches(".obo").trim_end_matches(".owl").to_uppercase())
        .filter(|o| !o.is_empty());
    let first_prefix = || {
        text.lines()
            .find_map(|l| l.strip_prefix("id:"))
            .and_then(|id| id.trim().split_once(':').map(|(p, _)| p.to_uppercase()))
    };
    let ontology = header.or_else(first_prefix).unwrap_or_else(|| "OBO".to_string());
    let source = graph.source(&ontology);
    let mut report = OboReport::default();
    let mut stanzas = Vec::new();
    let mut current: Option<Stanza> = None;
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.trim_end();
        if line.starts_with('[') {
            stanzas.extend(current.take());
            if line == "[Term]" {
                current = Some(Stanza { line: line_no, ..Default::default() });
            }
            continue;
        }
        let Some(st) = current.as_mut() else { continue };
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        let value = value.split(" ! ").next().unwrap_or(value).trim();
        match key {
            "id" => st.id = value.to_string(),
            "name" => st.name = value.to_string(),
            "synonym" => {
                let (text, scope) = synonym(value)
                    .ok_or_else(|| KbError::parse(path, line_no, "expected synonym: \"text\" SCOPE [refs]"))?;
                if matches!(scope, "EXACT" | "RELATED") && !text.trim().is_empty() {
                    st.synonyms.push(text.trim().to_string());
                }
            }
            "is_a" => st.is_a.push(value.split_whitespace().next().unwrap_or(value).to_string()),
            "xref" => st.xrefs.push(xref(value)),
            "alt_id" => st.alt_ids.push(value.to_string()),
            "is_obsolete" => st.obsolete = value == "true",
            _ => {}
        }
    }
    stanzas.extend(current.take());
    let mut edges = Vec::new();
    for st in stanzas {
        if st.obsolete {
            report.obsolete += 1;
            continue;
        }
        if st.id.is_empty() {
            return Err(KbError::parse(path, st.line, "a [Term] stanza without an id"));
        }
        let c = graph.concept(&st.id);
        if !st.name.is_empty() {
            graph.add_name(c, &st.name, true, source);
        }
        graph.add_type(c, &ontology);
        for s in &st.synonyms {
            graph.add_name(c, s, false, source);
            report.synonyms += 1;
        }
        for x in &st.xrefs {
            graph.add_xref(c, x);
            report.xrefs += 1;
        }
        // Alternative IDs (merged terms) find the term too.
        for a in &st.alt_ids {
            graph.add_xref(c, a);
            report.alt_ids += 1;
        }
        edges.extend(st.is_a.into_iter().map(|p| (c, p)));
        report.terms += 1;
    }
    for (child, parent) in edges {
        let p = graph.concept(&parent);
        graph.add_parent(child, p, source);
        report.is_a += 1;
    }
    Ok(report)
}

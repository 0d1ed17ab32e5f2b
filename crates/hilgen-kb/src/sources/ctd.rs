//! CTD vocabularies: MEDIC diseases (`CTD_diseases.tsv[.gz]`) and chemicals
//! (`CTD_chemicals.tsv[.gz]`), tab-separated with `#` comment lines. The columns are taken from
//! the `# Fields:` comment, so both files (and later releases) load; the ID, name and parent
//! columns are required.

use crate::error::{KbError, Result};
use crate::graph::Graph;
use crate::sources::read_text;
use serde::Serialize;
use std::path::Path;

/// What was loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CtdReport {
    /// Concepts (rows).
    pub concepts: u64,
    /// Synonyms added.
    pub synonyms: u64,
    /// Parent edges.
    pub parent_edges: u64,
}

/// The hierarchy source name CTD edges get.
pub const SOURCE: &str = "MEDIC";

/// Whether a synonym is a name: CTD copies OMIM's titles of the variants an entry includes
/// with OMIM's marker (`GSD IIIc, INCLUDED`, 1,141 synonyms of the 2017 MEDIC), and cuts some
/// long titles into pieces at its field separator, so that seven are the marker alone. Neither
/// is a name: the marker alone would make "included" a disease name that matches the word in
/// any text, and a marked title read as an inverted name ("INCLUDED GSD IIIc") begins with
/// it, while cutting the marker off would make pieces of titles names ("ACTIVATOR, INCLUDED",
/// "SUSCEPTIBILITY TO, INCLUDED").
pub fn is_name(synonym: &str) -> bool {
    let t = synonym.trim().to_ascii_lowercase();
    !(t == "included" || t.ends_with(", included"))
}

/// Loads a CTD diseases or chemicals file into `graph`.
pub fn load(path: &Path, graph: &mut Graph) -> Result<CtdReport> {
    let text = read_text(path)?;
    let mut fields: Option<Vec<String>> = None;
    let mut in_fields = false;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let body = line.trim_start_matches('#').trim();
        if body == "Fields:" {
            in_fields = true;
        } else if in_fields && !body.is_empty() {
            fields = Some(body.split('\t').map(String::from).collect());
            break;
        }
    }
    let fields = fields.ok_or_else(|| KbError::Corrupt {
        path: path.to_path_buf(),
        message: "unknown column layout: no `# Fields:` header naming the columns".into(),
    })?;
    let col = |names: &[&str]| fields.iter().position(|f| names.contains(&f.as_str()));
    let (id, name) = match (col(&["DiseaseID", "ChemicalID"]), col(&["DiseaseName", "ChemicalName"])) {
        (Some(i), Some(n)) => (i, n),
        _ => {
            return Err(KbError::Corrupt {
                path: path.to_path_buf(),
                message: format!(
                    "unknown column layout: need DiseaseID/ChemicalID and a name column, found {}",
                    fields.join(",")
                ),
            })
        }
    };
    let (parents, synonyms, slims, alt) =
        (col(&["ParentIDs"]), col(&["Synonyms"]), col(&["SlimMappings"]), col(&["AltDiseaseIDs"]));
    let source = graph.source(SOURCE);
    let mut report = CtdReport::default();
    let mut edges: Vec<(u32, String)> = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(false)
        .comment(Some(b'#'))
        .quoting(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            KbError::parse(path, line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != fields.len() {
            return Err(KbError::parse(
                path,
                line,
                format!(
                    "expected {} tab-separated fields ({}), found {}",
                    fields.len(),
                    fields.join(","),
                    record.len()
                ),
            ));
        }
        let c = graph.concept(&record[id]);
        graph.add_name(c, &record[name], true, source);
        report.concepts += 1;
        let list = |i: Option<usize>| {
            i.map(|i| record[i].split('|').filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        for s in list(synonyms).into_iter().filter(|s| is_name(s)) {
            graph.add_name(c, &s, false, source);
            report.synonyms += 1;
        }
        for t in list(slims) {
            graph.add_type(c, &t);
        }
        for x in list(alt) {
            graph.add_xref(c, x.strip_prefix("DO:").unwrap_or(&x));
        }
        edges.extend(list(parents).into_iter().map(|p| (c, p)));
    }
    for (child, parent) in edges {
        let p = graph.concept(&parent);
        graph.add_parent(child, p, source);
        report.parent_edges += 1;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::is_name;

    #[test]
    fn omim_included_markers_and_marked_titles_are_no_names() {
        assert!(!is_name("INCLUDED") && !is_name("included "));
        assert!(!is_name("GSD IIIc, INCLUDED") && !is_name("ACTIVATOR, INCLUDED"));
        assert!(is_name("Included body myositis") && is_name("Anemia, Hemolytic") && is_name("Symptoms included"));
    }
}

//! MeSH: the tree file (`Tree Number<TAB>Desc Ui<TAB>Term`, e.g. `2017MeshTree.txt`) and the
//! descriptor XML (`descYYYY.xml`, with entry terms as synonyms). Concepts are `MESH:<UI>`;
//! parents come from tree numbers (`C04.557` is the parent of `C04.557.337`); the type of a
//! descriptor is its top-level tree category (`C04`, labelled `Neoplasms`).

use crate::error::{KbError, Result};
use crate::graph::Graph;
use crate::sources::read_text;
use quick_xml::events::Event;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// The hierarchy source name MeSH edges get.
pub const SOURCE: &str = "MSH";

/// What was loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MeshReport {
    /// Tree numbers read.
    pub tree_numbers: u64,
    /// Descriptors.
    pub descriptors: u64,
    /// Entry terms (XML only).
    pub entry_terms: u64,
    /// Distinct parent edges (a descriptor at several tree positions may have several parents).
    pub parent_edges: u64,
}

/// Adds descriptors with their tree numbers, then the edges and types the tree numbers imply.
fn add_tree(graph: &mut Graph, entries: &[(String, String)], report: &mut MeshReport) {
    let source = graph.source(SOURCE);
    let by_tree: HashMap<&str, &str> = entries.iter().map(|(t, ui)| (t.as_str(), ui.as_str())).collect();
    let mut edges = std::collections::HashSet::new();
    for (tree, ui) in entries {
        let c = graph.concept(&format!("MESH:{ui}"));
        let category = tree.split('.').next().unwrap_or(tree);
        graph.add_type(c, category);
        if let Some((parent_tree, _)) = tree.rsplit_once('.') {
            if let Some(parent_ui) = by_tree.get(parent_tree) {
                let p = graph.concept(&format!("MESH:{parent_ui}"));
                graph.add_parent(c, p, source);
                if edges.insert((c, p)) {
                    report.parent_edges += 1;
                }
            }
        }
    }
}

/// Loads a MeSH tree file.
pub fn load_tree(path: &Path, graph: &mut Graph) -> Result<MeshReport> {
    let text = read_text(path)?;
    let source = graph.source(SOURCE);
    let mut report = MeshReport::default();
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        if i == 0 && f.first() == Some(&"Tree Number") {
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if f.len() != 3 || f[0].is_empty() || f[1].is_empty() {
            return Err(KbError::parse(
                path,
                i as u64 + 1,
                format!("expected `tree number<TAB>descriptor UI<TAB>name`, found {} fields", f.len()),
            ));
        }
        let c = graph.concept(&format!("MESH:{}", f[1]));
        graph.add_name(c, f[2], true, source);
        if !f[0].contains('.') {
            graph.set_type_label(f[0], f[2]);
        }
        if seen.insert(f[1].to_string()) {
            report.descriptors += 1;
        }
        report.tree_numbers += 1;
        entries.push((f[0].to_string(), f[1].to_string()));
    }
    add_tree(graph, &entries, &mut report);
    Ok(report)
}

/// Loads a MeSH descriptor XML file (`descYYYY.xml`): descriptor UI and name, tree numbers, and
/// every concept's terms as synonyms.
pub fn load_xml(path: &Path, graph: &mut Graph) -> Result<MeshReport> {
    let text = read_text(path)?;
    let source = graph.source(SOURCE);
    let mut report = MeshReport::default();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut stack: Vec<String> = Vec::new();
    let mut ui = String::new();
    let mut name = String::new();
    let mut terms: Vec<String> = Vec::new();
    let mut trees: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    loop {
        let pos = reader.buffer_position();
        let err = |m: String| {
            KbError::parse(
                path,
                1 + text.as_bytes()[..(pos as usize).min(text.len())].iter().filter(|&&b| b == b'\n').count() as u64,
                m,
            )
        };
        match reader.read_event().map_err(|e| err(format!("malformed XML: {e}")))? {
            Event::Start(e) => stack.push(String::from_utf8_lossy(e.name().as_ref()).into_owned()),
            Event::End(e) => {
                let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                stack.pop();
                if tag == "DescriptorRecord" {
                    if ui.is_empty() || name.is_empty() {
                        return Err(err("a DescriptorRecord without DescriptorUI or DescriptorName".into()));
                    }
                    let c = graph.concept(&format!("MESH:{ui}"));
                    graph.add_name(c, &name, true, source);
                    for t in terms.drain(..) {
                        if t != name {
                            graph.add_name(c, &t, false, source);
                            report.entry_terms += 1;
                        }
                    }
                    entries.extend(trees.drain(..).map(|t| (t, ui.clone())));
                    report.descriptors += 1;
                    ui.clear();
                    name.clear();
                }
            }
            Event::Text(t) => {
                let value = t.unescape().map_err(|e| err(format!("bad XML text: {e}")))?.trim().to_string();
                let path_is = |suffix: &[&str]| {
                    stack.len() >= suffix.len()
                        && stack[stack.len() - suffix.len()..].iter().map(String::as_str).eq(suffix.iter().copied())
                };
                if path_is(&["DescriptorRecord", "DescriptorUI"]) {
                    ui = value;
                } else if path_is(&["DescriptorRecord", "DescriptorName", "String"]) {
                    name = value;
                } else if path_is(&["TreeNumberList", "TreeNumber"]) {
                    trees.push(value);
                } else if path_is(&["Term", "String"]) {
                    terms.push(value);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    report.tree_numbers = entries.len() as u64;
    add_tree(graph, &entries, &mut report);
    Ok(report)
}

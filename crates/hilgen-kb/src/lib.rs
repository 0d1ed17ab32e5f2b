//! The knowledge half of HILGEN: UMLS (RRF) and open biomedical vocabularies loaded into one
//! concept graph, written as a memory-mapped index with `fst` string maps, and queried for the
//! paper's expansions.
//!
//! - Sources ([`sources`]): UMLS `META/` RRF files, CTD MEDIC / chemicals, the MeSH tree file
//!   and descriptor XML, OBO ontologies. Several can be merged; concepts keep their native IDs
//!   (`C0011849`, `MESH:D003924`, `DOID:9352`) and cross-references.
//! - Index ([`format`]): one file, versioned, checksummed per section, written atomically.
//! - Queries ([`Kb`]): [`Kb::link`] (exact, normalized, fuzzy), [`Kb::synonyms`] (layer 1),
//!   [`Kb::related_same_type`] (layer 2), parents / children / siblings (layer 3), each
//!   expansion with its provenance.
//!
//! ```no_run
//! use hilgen_kb::{build, Kb, Relation, Sources};
//! let sources = Sources { ctd: vec!["CTD_diseases.tsv.gz".into()], mesh_tree: vec!["2017MeshTree.txt".into()], ..Default::default() };
//! build(&sources, "kb".as_ref()).unwrap();
//! let kb = Kb::open("kb").unwrap();
//! let c = kb.lookup("MESH:D003924").unwrap();
//! for e in kb.parents_and_children(c, None, 10).unwrap() {
//!     println!("{} ({}, {})", e.name, e.relation, e.source);
//! }
//! ```

pub mod build;
mod error;
pub mod format;
mod graph;
mod kb;
mod normalize;
pub mod sources;
pub mod synth;

pub use error::{KbError, Result};
pub use graph::{Concept, Graph, Name, RelKind};
pub use kb::{Expansion, Kb, LinkHit, MatchKind, NameRef, Relation, Stats, DEFAULT_HIERARCHY, INDEX_FILE};
pub use normalize::normalize;
pub use sources::rrf::RrfOptions;

use serde::Serialize;
use std::path::{Path, PathBuf};

/// The inputs of an index build.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A UMLS `META/` folder and its filters.
    pub rrf: Option<(PathBuf, RrfOptions)>,
    /// CTD vocabulary files (diseases or chemicals, `.tsv` or `.tsv.gz`).
    pub ctd: Vec<PathBuf>,
    /// MeSH tree files.
    pub mesh_tree: Vec<PathBuf>,
    /// MeSH descriptor XML files.
    pub mesh_xml: Vec<PathBuf>,
    /// OBO ontologies.
    pub obo: Vec<PathBuf>,
}

/// What a build loaded and wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildReport {
    /// Per-source reports, as JSON.
    pub sources: Vec<serde_json::Value>,
    /// Concepts in the index.
    pub concepts: usize,
    /// The index file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Loads `sources` into one graph.
pub fn load(sources: &Sources) -> Result<(Graph, Vec<serde_json::Value>, Vec<String>)> {
    let mut graph = Graph::new();
    let mut reports = Vec::new();
    let mut inputs = Vec::new();
    let mut note = |kind: &str, path: &Path, report: serde_json::Value| {
        tracing::info!("{kind} {}: {report}", path.display());
        inputs.push(format!("{kind} {}", path.display()));
        reports.push(serde_json::json!({"kind": kind, "path": path, "report": report}));
    };
    if let Some((dir, opts)) = &sources.rrf {
        let r = sources::rrf::load(dir, &mut graph, opts)?;
        note("rrf", dir, to_json(&r));
    }
    for p in &sources.ctd {
        let r = sources::ctd::load(p, &mut graph)?;
        note("ctd", p, to_json(&r));
    }
    for p in &sources.mesh_tree {
        let r = sources::mesh::load_tree(p, &mut graph)?;
        note("mesh-tree", p, to_json(&r));
    }
    for p in &sources.mesh_xml {
        let r = sources::mesh::load_xml(p, &mut graph)?;
        note("mesh-xml", p, to_json(&r));
    }
    for p in &sources.obo {
        let r = sources::obo::load(p, &mut graph)?;
        note("obo", p, to_json(&r));
    }
    Ok((graph, reports, inputs))
}

/// Loads `sources` and writes the index into folder `out` (as `kb.hkb`).
pub fn build(sources: &Sources, out: &Path) -> Result<BuildReport> {
    if out.exists() && !out.is_dir() {
        return Err(KbError::Invalid(format!(
            "{} exists and is not a folder; the index is written as FOLDER/{INDEX_FILE}: give a folder",
            out.display()
        )));
    }
    let (graph, reports, inputs) = load(sources)?;
    if graph.is_empty() {
        return Err(KbError::Invalid("no concepts were loaded; name at least one source".into()));
    }
    let path = out.join(INDEX_FILE);
    let concepts = graph.len();
    let bytes = build::write_index(graph, &path, inputs)?;
    Ok(BuildReport { sources: reports, concepts, path, bytes })
}

fn to_json(report: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or_default()
}

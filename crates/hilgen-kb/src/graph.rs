//! The in-memory graph that every source loads into, before it is written as an index.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Kinds of non-hierarchical relation (UMLS REL values and their equivalents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum RelKind {
    /// Broader (RB).
    Broader = 0,
    /// Narrower (RN).
    Narrower = 1,
    /// Other (RO).
    Other = 2,
    /// Qualified / possibly synonymous (RQ).
    Qualified = 3,
    /// Source-asserted synonymy (SY).
    Synonym = 4,
    /// Sibling (SIB).
    Sibling = 5,
    /// Similar or alike (RL).
    Alike = 6,
}

impl RelKind {
    /// From a UMLS `REL` value (hierarchical PAR/CHD and unknown values give `None`).
    pub fn from_rel(rel: &str) -> Option<RelKind> {
        Some(match rel {
            "RB" => RelKind::Broader,
            "RN" => RelKind::Narrower,
            "RO" => RelKind::Other,
            "RQ" => RelKind::Qualified,
            "SY" => RelKind::Synonym,
            "SIB" => RelKind::Sibling,
            "RL" => RelKind::Alike,
            _ => return None,
        })
    }

    /// The UMLS code.
    pub fn code(self) -> &'static str {
        ["RB", "RN", "RO", "RQ", "SY", "SIB", "RL"][self as usize]
    }

    /// The same relation seen from the other concept (RB <-> RN; the others are symmetric).
    pub fn reverse(self) -> RelKind {
        match self {
            RelKind::Broader => RelKind::Narrower,
            RelKind::Narrower => RelKind::Broader,
            k => k,
        }
    }

    /// From the stored byte.
    pub fn from_u8(b: u8) -> Option<RelKind> {
        [
            RelKind::Broader,
            RelKind::Narrower,
            RelKind::Other,
            RelKind::Qualified,
            RelKind::Synonym,
            RelKind::Sibling,
            RelKind::Alike,
        ]
        .get(b as usize)
        .copied()
    }
}

/// One name (atom) of a concept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The string as given by the source.
    pub text: String,
    /// Whether the source marks it as the concept's preferred name.
    pub preferred: bool,
    /// Source index (see [`Graph::sources`]).
    pub source: u16,
}

/// One concept under construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Concept {
    /// Native ID (`C0011849`, `MESH:D003924`, `DOID:9352`).
    pub id: String,
    /// Names in load order.
    pub names: Vec<Name>,
    /// Semantic type indices (see [`Graph::types`]).
    pub types: Vec<u16>,
    /// Cross-references to other vocabularies (`UMLS:C0011849`, `MESH:D003924`, `OMIM:222100`).
    pub xrefs: Vec<String>,
}

/// The graph every source loads into: concepts keyed by native ID, a hierarchy (child ->
/// parent edges, per source) and other relations.
#[derive(Debug, Default)]
pub struct Graph {
    /// Concepts in first-seen order.
    pub concepts: Vec<Concept>,
    index: HashMap<String, u32>,
    /// Source names (`SNOMEDCT_US`, `MSH`, `MEDIC`, `DOID`, ...).
    pub sources: Vec<String>,
    /// Semantic type names (`T047|Disease or Syndrome`, CTD slim categories, MeSH categories).
    pub types: Vec<String>,
    /// Human-readable labels of types, where the source gives them (`T047` -> `Disease or Syndrome`).
    pub type_labels: std::collections::BTreeMap<String, String>,
    /// Relation attribute names (UMLS `RELA`).
    pub relas: Vec<String>,
    /// Hierarchy edges: (child, parent, source).
    pub hierarchy: Vec<(u32, u32, u16)>,
    /// Other relations, one entry per pair and source, lower concept first: (from, to, kind of
    /// `to` relative to `from`, source, rela + 1 or 0). Add them with [`Graph::relate`].
    pub related: Vec<(u32, u32, RelKind, u16, u16)>,
}

fn intern(table: &mut Vec<String>, name: &str) -> u16 {
    match table.iter().position(|s| s == name) {
        Some(i) => i as u16,
        None => {
            table.push(name.to_string());
            (table.len() - 1) as u16
        }
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// The index of concept `id`, creating it if needed.
    pub fn concept(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.concepts.len() as u32;
        self.concepts.push(Concept { id: id.to_string(), ..Default::default() });
        self.index.insert(id.to_string(), i);
        i
    }

    /// The index of concept `id`, if present.
    pub fn find(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The index of source `name`, interned.
    pub fn source(&mut self, name: &str) -> u16 {
        intern(&mut self.sources, name)
    }

    /// The index of type `name`, interned.
    pub fn type_index(&mut self, name: &str) -> u16 {
        intern(&mut self.types, name)
    }

    /// Records the label of a type.
    pub fn set_type_label(&mut self, type_name: &str, label: &str) {
        if !self.type_labels.contains_key(type_name) {
            self.type_labels.insert(type_name.to_string(), label.to_string());
        }
    }

    /// The index + 1 of relation attribute `rela` (0 for none), interned.
    pub fn rela(&mut self, rela: &str) -> u16 {
        if rela.is_empty() {
            0
        } else {
            intern(&mut self.relas, rela) + 1
        }
    }

    /// Adds a name to a concept (exact duplicates from the same source are kept once).
    pub fn add_name(&mut self, concept: u32, text: &str, preferred: bool, source: u16) {
        let c = &mut self.concepts[concept as usize];
        if let Some(n) = c.names.iter_mut().find(|n| n.text == text && n.source == source) {
            n.preferred |= preferred;
            return;
        }
        c.names.push(Name { text: text.to_string(), preferred, source });
    }

    /// Adds a semantic type to a concept.
    pub fn add_type(&mut self, concept: u32, type_name: &str) {
        let t = self.type_index(type_name);
        let c = &mut self.concepts[concept as usize];
        if !c.types.contains(&t) {
            c.types.push(t);
        }
    }

    /// Adds a cross-reference to a concept.
    pub fn add_xref(&mut self, concept: u32, xref: &str) {
        let c = &mut self.concepts[concept as usize];
        if !c.xrefs.iter().any(|x| x == xref) {
            c.xrefs.push(xref.to_string());
        }
    }

    /// Adds a hierarchy edge `child` -> `parent` in `source`.
    pub fn add_parent(&mut self, child: u32, parent: u32, source: u16) {
        if child != parent {
            self.hierarchy.push((child, parent, source));
        }
    }

    /// Records that `b` has relation `kind` to `a` in `source` (UMLS MRREL rows state each
    /// relation in both directions; both give one entry here). Call [`Graph::dedup_related`]
    /// after a batch of additions.
    pub fn relate(&mut self, a: u32, b: u32, kind: RelKind, source: u16, rela: u16) {
        if a == b {
            return;
        }
        let (a, b, kind) = if a < b { (a, b, kind) } else { (b, a, kind.reverse()) };
        self.related.push((a, b, kind, source, rela));
    }

    /// Removes duplicate relation entries.
    pub fn dedup_related(&mut self) {
        self.related.sort_unstable();
        self.related.dedup_by(|x, y| (x.0, x.1, x.2, x.3) == (y.0, y.1, y.2, y.3));
    }

    /// Number of concepts.
    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    /// Whether there is no concept.
    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }
}

//! Turning a [`Graph`] into the on-disk index (see [`crate::format`]).

use crate::error::{KbError, Result};
use crate::format::Writer;
use crate::graph::Graph;
use crate::normalize::normalize;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Index metadata, stored as JSON in the `meta` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Source names, by source index.
    pub sources: Vec<String>,
    /// Type names, by type index.
    pub types: Vec<String>,
    /// Type labels where known.
    pub type_labels: BTreeMap<String, String>,
    /// Relation attribute names, by index - 1.
    pub relas: Vec<String>,
    /// Counts recorded at build time.
    pub counts: BTreeMap<String, u64>,
    /// What the index was built from (free text, e.g. the command line's inputs).
    pub built_from: Vec<String>,
}

/// CSR offsets from per-concept counts.
fn offsets(counts: impl Iterator<Item = usize>) -> Vec<u32> {
    let mut out = vec![0u32];
    let mut acc = 0u32;
    for c in counts {
        acc += c as u32;
        out.push(acc);
    }
    out
}

/// Concatenated strings and their end offsets.
fn arena<'a>(strings: impl Iterator<Item = &'a str>) -> (Vec<u8>, Vec<u64>) {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for s in strings {
        bytes.extend_from_slice(s.as_bytes());
        ends.push(bytes.len() as u64);
    }
    (bytes, ends)
}

/// An fst map from (key, value) pairs plus the posting array it points into.
fn string_index<K: AsRef<[u8]> + Ord + Send>(mut pairs: Vec<(K, u32)>) -> Result<(Vec<u8>, Vec<u32>, u64)> {
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut builder = fst::MapBuilder::memory();
    let mut post: Vec<u32> = Vec::new();
    let mut keys = 0u64;
    let mut i = 0;
    while i < pairs.len() {
        let j = i + pairs[i..].iter().take_while(|p| p.0 == pairs[i].0).count();
        builder.insert(&pairs[i].0, post.len() as u64).map_err(|e| KbError::Invalid(format!("fst: {e}")))?;
        post.push((j - i) as u32);
        post.extend(pairs[i..j].iter().map(|p| p.1));
        keys += 1;
        i = j;
    }
    Ok((builder.into_inner().map_err(|e| KbError::Invalid(format!("fst: {e}")))?, post, keys))
}

/// Adjacency in CSR form: per-concept offsets and the sorted, de-duplicated entries.
fn adjacency<T: Ord + Copy + Send>(n: usize, mut edges: Vec<(u32, T)>) -> (Vec<u32>, Vec<T>) {
    edges.par_sort_unstable();
    edges.dedup();
    let mut counts = vec![0usize; n];
    for (c, _) in &edges {
        counts[*c as usize] += 1;
    }
    (offsets(counts.into_iter()), edges.into_iter().map(|(_, t)| t).collect())
}

/// Writes `graph` as an index file at `path`; returns the file size. The graph is consumed
/// and each part is freed once written (relations, cross-references, types, then names), to
/// keep the peak memory of large builds down.
pub fn write_index(mut graph: Graph, path: &Path, built_from: Vec<String>) -> Result<u64> {
    let n = graph.len();
    let mut w = Writer::create(path)?;
    let mut counts = BTreeMap::new();
    counts.insert("concepts".to_string(), n as u64);

    let (cid_txt, cid_end) = arena(graph.concepts.iter().map(|c| c.id.as_str()));
    w.bytes("cid_txt", &cid_txt)?;
    w.array("cid_end", &cid_end)?;
    drop((cid_txt, cid_end));
    let (id_fst, id_post, _) =
        string_index(graph.concepts.iter().enumerate().map(|(i, c)| (c.id.as_str(), i as u32)).collect())?;
    w.bytes("id_fst", &id_fst)?;
    w.array("id_post", &id_post)?;
    drop((id_fst, id_post));

    // Hierarchy: parents of each child, children of each parent, (source, other).
    let hierarchy = std::mem::take(&mut graph.hierarchy);
    let (par_off, par) = adjacency(n, hierarchy.iter().map(|&(c, p, s)| (c, (s, p))).collect());
    let mut per_source: BTreeMap<String, u64> = BTreeMap::new();
    for (s, _) in &par {
        *per_source.entry(format!("parent_edges:{}", graph.sources[*s as usize])).or_default() += 1;
    }
    counts.extend(per_source);
    counts.insert("parent_edges".into(), par.len() as u64);
    w.array("par_off", &par_off)?;
    w.array("par_src", &par.iter().map(|e| e.0).collect::<Vec<u16>>())?;
    w.array("par_to", &par.iter().map(|e| e.1).collect::<Vec<u32>>())?;
    drop((par_off, par));
    let (chd_off, chd) = adjacency(n, hierarchy.into_iter().map(|(c, p, s)| (p, (s, c))).collect());
    w.array("chd_off", &chd_off)?;
    w.array("chd_src", &chd.iter().map(|e| e.0).collect::<Vec<u16>>())?;
    w.array("chd_to", &chd.iter().map(|e| e.1).collect::<Vec<u32>>())?;
    drop((chd_off, chd));

    // Other relations, stored once per pair (see Graph::relate), indexed in both directions:
    // (other, kind as seen from this concept, source, rela).
    let related = std::mem::take(&mut graph.related);
    let rel_edges: Vec<(u32, (u32, u8, u16, u16))> = related
        .into_iter()
        .flat_map(|(a, b, k, s, r)| [(a, (b, k as u8, s, r)), (b, (a, k.reverse() as u8, s, r))])
        .collect();
    let (rel_off, rel) = adjacency(n, rel_edges);
    counts.insert("related_edges".into(), rel.len() as u64);
    w.array("rel_off", &rel_off)?;
    w.array("rel_to", &rel.iter().map(|e| e.0).collect::<Vec<u32>>())?;
    w.array("rel_kind", &rel.iter().map(|e| e.1).collect::<Vec<u8>>())?;
    w.array("rel_src", &rel.iter().map(|e| e.2).collect::<Vec<u16>>())?;
    w.array("rel_rela", &rel.iter().map(|e| e.3).collect::<Vec<u16>>())?;
    drop((rel_off, rel));

    // Cross-references, then freed.
    let (xref_txt, xref_end) = arena(graph.concepts.iter().flat_map(|c| c.xrefs.iter().map(String::as_str)));
    counts.insert("xrefs".into(), xref_end.len() as u64);
    w.bytes("xref_txt", &xref_txt)?;
    w.array("xref_end", &xref_end)?;
    drop((xref_txt, xref_end));
    w.array("xref_off", &offsets(graph.concepts.iter().map(|c| c.xrefs.len())))?;
    let xref_pairs: Vec<(&str, u32)> = graph
        .concepts
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.xrefs.iter().map(move |x| (x.as_str(), i as u32)))
        .collect();
    let (xref_fst, xref_post, _) = string_index(xref_pairs)?;
    w.bytes("xref_fst", &xref_fst)?;
    w.array("xref_post", &xref_post)?;
    drop((xref_fst, xref_post));
    for c in &mut graph.concepts {
        c.xrefs = Vec::new();
    }

    w.array("type_off", &offsets(graph.concepts.iter().map(|c| c.types.len())))?;
    w.array("type_ids", &graph.concepts.iter().flat_map(|c| c.types.iter().copied()).collect::<Vec<u16>>())?;

    // Names and the normalized string index.
    let names = graph.concepts.iter().flat_map(|c| c.names.iter());
    let (name_txt, name_end) = arena(names.clone().map(|n| n.text.as_str()));
    counts.insert("names".into(), name_end.len() as u64);
    w.bytes("name_txt", &name_txt)?;
    w.array("name_end", &name_end)?;
    drop((name_txt, name_end));
    w.array("name_src", &names.clone().map(|n| n.source).collect::<Vec<u16>>())?;
    w.array("name_pref", &names.map(|n| u8::from(n.preferred)).collect::<Vec<u8>>())?;
    w.array("name_off", &offsets(graph.concepts.iter().map(|c| c.names.len())))?;
    let pairs: Vec<(String, u32)> = graph
        .concepts
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, c)| c.names.iter().map(move |n| (normalize(&n.text), i as u32)))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    drop(graph.concepts);
    let (str_fst, post, keys) = string_index(pairs)?;
    counts.insert("normalized_strings".into(), keys);
    w.bytes("str_fst", &str_fst)?;
    w.array("str_post", &post)?;

    let meta = Meta {
        sources: graph.sources,
        types: graph.types,
        type_labels: graph.type_labels,
        relas: graph.relas,
        counts,
        built_from,
    };
    w.bytes("meta", &serde_json::to_vec(&meta).map_err(|e| KbError::Invalid(e.to_string()))?)?;
    w.finish()
}

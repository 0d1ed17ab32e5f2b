//! An opened (memory-mapped) knowledge index and its queries: linking and the HILGEN
//! expansions.

use crate::build::Meta;
use crate::error::{KbError, Result};
use crate::format;
use crate::graph::RelKind;
use crate::normalize::normalize;
use fst::{Automaton, IntoStreamer, Streamer};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name of the index inside an index folder.
pub const INDEX_FILE: &str = "kb.hkb";

/// Hierarchy sources preferred when none is named: SNOMED CT (the paper's), then MeSH, then CTD.
pub const DEFAULT_HIERARCHY: [&str; 4] = ["SNOMEDCT_US", "SNOMEDCT", "MSH", "MEDIC"];

/// A byte range of the mapped file, usable as fst storage.
#[derive(Clone)]
struct Bytes {
    map: Arc<Mmap>,
    start: usize,
    end: usize,
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.start..self.end]
    }
}

/// How an expansion relates to the concept it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Another string of the same concept (layer 1).
    Synonym,
    /// A related concept of the same semantic type (layer 2).
    RelatedSameType,
    /// A parent in a hierarchy (layer 3).
    Parent,
    /// A child in a hierarchy (layer 3).
    Child,
    /// A sibling: another child of a parent (layer 3).
    Sibling,
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Relation::Synonym => "synonyms",
            Relation::RelatedSameType => "related",
            Relation::Parent => "parents",
            Relation::Child => "children",
            Relation::Sibling => "siblings",
        })
    }
}

impl std::str::FromStr for Relation {
    type Err = KbError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "synonyms" | "synonym" => Relation::Synonym,
            "related" | "related-same-type" => Relation::RelatedSameType,
            "parents" | "parent" => Relation::Parent,
            "children" | "child" => Relation::Child,
            "siblings" | "sibling" => Relation::Sibling,
            _ => {
                return Err(KbError::Invalid(format!(
                    "unknown relation `{s}`; expected synonyms, related, parents, children or siblings"
                )))
            }
        })
    }
}

/// One expansion with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expansion {
    /// The concept expanded from.
    pub from: String,
    /// The concept reached (the same one for synonyms).
    pub concept: String,
    /// The string to substitute (a synonym, or the reached concept's preferred name).
    pub name: String,
    /// How it relates.
    pub relation: Relation,
    /// The source asserting it (a vocabulary such as `SNOMEDCT_US`, `MSH`, `MEDIC`, `DOID`).
    pub source: String,
    /// More detail: the UMLS REL/RELA of a related concept, the parent of a sibling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// How a mention matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Equal to a name of the concept.
    Exact,
    /// Equal after normalization.
    Normalized,
    /// The mention is the beginning (whole words) of a longer normalized name.
    Prefix,
    /// Within this many edits of a normalized name.
    Fuzzy(u32),
}

/// A linking candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkHit {
    /// Concept ID.
    pub concept: String,
    /// Its preferred name.
    pub name: String,
    /// The normalized string matched.
    pub matched: String,
    /// How.
    pub kind: MatchKind,
    /// Score in (0, 1]: 1 exact, 0.95 normalized, prefix 0.9 x (mention length / name length),
    /// fuzzy 0.9 x (1 - edits / length).
    pub score: f64,
}

/// A name of a concept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRef<'a> {
    /// The string.
    pub text: &'a str,
    /// Its source.
    pub source: &'a str,
    /// Whether the source marks it preferred.
    pub preferred: bool,
}

/// Summary counts of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// The file.
    pub path: PathBuf,
    /// File size in bytes.
    pub bytes: u64,
    /// Counts recorded at build time.
    pub counts: BTreeMap<String, u64>,
    /// Sources.
    pub sources: Vec<String>,
    /// Number of semantic types.
    pub types: usize,
}

/// An opened knowledge index.
///
/// ```no_run
/// use hilgen_kb::{Kb, Relation};
/// let kb = Kb::open("runs/kb").unwrap();
/// let hits = kb.link("type 2 diabetes", 2, 5);
/// let c = kb.lookup(&hits[0].concept).unwrap();
/// for e in kb.expand(c, Relation::Parent, None, 10).unwrap() {
///     println!("{} -> {} ({}, {})", e.from, e.name, e.relation, e.source);
/// }
/// ```
pub struct Kb {
    path: PathBuf,
    map: Arc<Mmap>,
    sections: BTreeMap<String, (usize, usize)>,
    ranges: Vec<(usize, usize)>,
    meta: Meta,
    str_fst: fst::Map<Bytes>,
    id_fst: fst::Map<Bytes>,
    xref_fst: fst::Map<Bytes>,
    n: usize,
}

/// Array sections, resolved once at open.
#[derive(Clone, Copy, Debug)]
enum Sec {
    CidTxt,
    CidEnd,
    IdPost,
    NameTxt,
    NameEnd,
    NameSrc,
    NamePref,
    NameOff,
    TypeOff,
    TypeIds,
    XrefTxt,
    XrefEnd,
    XrefOff,
    XrefPost,
    ParOff,
    ParSrc,
    ParTo,
    ChdOff,
    ChdSrc,
    ChdTo,
    RelOff,
    RelTo,
    RelKind,
    RelSrc,
    RelRela,
    StrPost,
}

const SECTION_NAMES: [&str; 26] = [
    "cid_txt",
    "cid_end",
    "id_post",
    "name_txt",
    "name_end",
    "name_src",
    "name_pref",
    "name_off",
    "type_off",
    "type_ids",
    "xref_txt",
    "xref_end",
    "xref_off",
    "xref_post",
    "par_off",
    "par_src",
    "par_to",
    "chd_off",
    "chd_src",
    "chd_to",
    "rel_off",
    "rel_to",
    "rel_kind",
    "rel_src",
    "rel_rela",
    "str_post",
];

const U8: [&str; 5] = ["cid_txt", "name_txt", "name_pref", "xref_txt", "rel_kind"];
const U16: [&str; 6] = ["name_src", "type_ids", "par_src", "chd_src", "rel_src", "rel_rela"];
const U32: [&str; 12] = [
    "id_post",
    "name_off",
    "type_off",
    "xref_off",
    "xref_post",
    "par_off",
    "par_to",
    "chd_off",
    "chd_to",
    "rel_off",
    "rel_to",
    "str_post",
];
const U64: [&str; 3] = ["cid_end", "name_end", "xref_end"];

impl Kb {
    /// Opens an index file, or the `kb.hkb` inside a folder, verifying every checksum.
    pub fn open(path: impl AsRef<Path>) -> Result<Kb> {
        let mut path = path.as_ref().to_path_buf();
        if path.is_dir() {
            path = path.join(INDEX_FILE);
        }
        let file = std::fs::File::open(&path).map_err(|e| KbError::io(&path, e))?;
        // Safety: the index is only ever replaced by rename, never written in place.
        let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(|e| KbError::io(&path, e))?);
        let sections = format::sections(&path, &map)?;
        let bad = |m: String| KbError::Corrupt { path: path.clone(), message: m };
        let need = |name: &str| sections.get(name).copied().ok_or_else(|| bad(format!("missing section `{name}`")));
        let (ms, ml) = need("meta")?;
        let meta: Meta = serde_json::from_slice(&map[ms..ms + ml]).map_err(|e| bad(format!("bad metadata: {e}")))?;
        let fst_at = |name: &str| -> Result<fst::Map<Bytes>> {
            let (s, l) = need(name)?;
            fst::Map::new(Bytes { map: map.clone(), start: s, end: s + l })
                .map_err(|e| bad(format!("section `{name}`: {e}")))
        };
        let (str_fst, id_fst, xref_fst) = (fst_at("str_fst")?, fst_at("id_fst")?, fst_at("xref_fst")?);
        let n = need("cid_end")?.1 / 8;
        let ranges = SECTION_NAMES.iter().map(|name| need(name)).collect::<Result<Vec<_>>>()?;
        let kb = Kb { path: path.clone(), map, sections, ranges, meta, str_fst, id_fst, xref_fst, n };
        kb.check_shapes().map_err(bad)?;
        Ok(kb)
    }

    /// Checks that every array section has the size its element type and counts imply.
    fn check_shapes(&self) -> std::result::Result<(), String> {
        let len = |name: &str| self.sections.get(name).map(|s| s.1).ok_or(format!("missing section `{name}`"));
        for name in U8 {
            len(name)?;
        }
        for (names, size) in [(&U16[..], 2usize), (&U32[..], 4), (&U64[..], 8)] {
            for name in names {
                if len(name)? % size != 0 {
                    return Err(format!("section `{name}` has {} bytes, not a multiple of {size}", len(name)?));
                }
            }
        }
        for off in ["name_off", "type_off", "xref_off", "par_off", "chd_off", "rel_off"] {
            if len(off)? != 4 * (self.n + 1) {
                return Err(format!("section `{off}` does not hold {} offsets", self.n + 1));
            }
        }
        let checks = [
            ("name_off", "name_end", 8),
            ("type_off", "type_ids", 2),
            ("xref_off", "xref_end", 8),
            ("par_off", "par_to", 4),
            ("chd_off", "chd_to", 4),
            ("rel_off", "rel_to", 4),
        ];
        for (off, data, size) in checks {
            let (s, l) = self.sections[off];
            let offsets: &[u32] = bytemuck::cast_slice(&self.map[s..s + l]);
            let last = *offsets.last().unwrap_or(&0) as usize;
            if last * size != len(data)? {
                return Err(format!("section `{data}` does not match the offsets in `{off}`"));
            }
        }
        Ok(())
    }

    fn raw(&self, sec: Sec) -> &[u8] {
        let (s, l) = self.ranges[sec as usize];
        &self.map[s..s + l]
    }
    fn u16s(&self, sec: Sec) -> &[u16] {
        bytemuck::cast_slice(self.raw(sec))
    }
    fn u32s(&self, sec: Sec) -> &[u32] {
        bytemuck::cast_slice(self.raw(sec))
    }
    fn u64s(&self, sec: Sec) -> &[u64] {
        bytemuck::cast_slice(self.raw(sec))
    }

    fn range(&self, off: Sec, c: u32) -> std::ops::Range<usize> {
        let o = self.u32s(off);
        o[c as usize] as usize..o[c as usize + 1] as usize
    }

    fn arena_bytes(&self, txt: Sec, end: Sec, i: usize) -> &[u8] {
        let ends = self.u64s(end);
        let s = if i == 0 { 0 } else { ends[i - 1] as usize };
        &self.raw(txt)[s..ends[i] as usize]
    }

    fn arena_str(&self, txt: Sec, end: Sec, i: usize) -> &str {
        std::str::from_utf8(self.arena_bytes(txt, end, i)).unwrap_or("")
    }

    /// Whether concept `c` has a name equal to `text` (bytes compared, no decoding).
    fn has_name(&self, c: u32, text: &str) -> bool {
        self.range(Sec::NameOff, c).any(|i| self.arena_bytes(Sec::NameTxt, Sec::NameEnd, i) == text.as_bytes())
    }

    fn postings(&self, post: Sec, at: u64) -> &[u32] {
        let p = self.u32s(post);
        let at = at as usize;
        let n = p.get(at).copied().unwrap_or(0) as usize;
        p.get(at + 1..at + 1 + n).unwrap_or(&[])
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of concepts.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the index has no concept.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Build metadata.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// A concept by native ID (`C0011849`, `MESH:D003924`), else by cross-reference
    /// (`MESH:D003924` in a UMLS index, `UMLS:C0011849` in a Disease Ontology index).
    pub fn lookup(&self, id: &str) -> Option<u32> {
        self.lookup_all(id).into_iter().next()
    }

    /// Every concept with this native ID or cross-reference (native first).
    pub fn lookup_all(&self, id: &str) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        if let Some(at) = self.id_fst.get(id) {
            out.extend_from_slice(self.postings(Sec::IdPost, at));
        }
        let alt = id.strip_prefix("UMLS:").map(str::to_string);
        for key in [Some(id.to_string()), alt].into_iter().flatten() {
            if let Some(at) = self.xref_fst.get(&key) {
                out.extend(
                    self.postings(Sec::XrefPost, at).iter().filter(|c| !out.contains(c)).copied().collect::<Vec<_>>(),
                );
            }
            if let Some(at) = self.id_fst.get(&key) {
                out.extend(
                    self.postings(Sec::IdPost, at).iter().filter(|c| !out.contains(c)).copied().collect::<Vec<_>>(),
                );
            }
        }
        out
    }

    /// Native ID of a concept.
    pub fn id(&self, c: u32) -> &str {
        self.arena_str(Sec::CidTxt, Sec::CidEnd, c as usize)
    }

    /// Names of a concept, in load order.
    pub fn names(&self, c: u32) -> impl Iterator<Item = NameRef<'_>> + '_ {
        let (src, pref) = (self.u16s(Sec::NameSrc), self.raw(Sec::NamePref));
        self.range(Sec::NameOff, c).map(move |i| NameRef {
            text: self.arena_str(Sec::NameTxt, Sec::NameEnd, i),
            source: self.source_name(src[i]),
            preferred: pref[i] == 1,
        })
    }

    /// The preferred name (the first marked preferred, else the first name, else the ID).
    pub fn preferred_name(&self, c: u32) -> &str {
        let mut first = None;
        for n in self.names(c) {
            if n.preferred {
                return n.text;
            }
            first.get_or_insert(n.text);
        }
        first.unwrap_or_else(|| self.id(c))
    }

    fn source_name(&self, s: u16) -> &str {
        self.meta.sources.get(s as usize).map(String::as_str).unwrap_or("?")
    }

    /// Semantic types of a concept.
    pub fn types(&self, c: u32) -> Vec<&str> {
        let ids = self.u16s(Sec::TypeIds);
        self.range(Sec::TypeOff, c)
            .map(|i| self.meta.types.get(ids[i] as usize).map(String::as_str).unwrap_or("?"))
            .collect()
    }

    fn type_ids(&self, c: u32) -> &[u16] {
        &self.u16s(Sec::TypeIds)[self.range(Sec::TypeOff, c)]
    }

    /// Cross-references of a concept.
    pub fn xrefs(&self, c: u32) -> Vec<&str> {
        self.range(Sec::XrefOff, c).map(|i| self.arena_str(Sec::XrefTxt, Sec::XrefEnd, i)).collect()
    }

    /// Links a mention to concepts: exact and normalized matches; if there are none, names that
    /// begin with the mention's words (`type 2 diabetes` -> `type 2 diabetes mellitus`, the
    /// 50 shortest); if still none, fuzzy matches within 1, then (if `max_edits` >= 2) 2 edits
    /// of a normalized name. Ranked by score, then concept order; at most `limit` hits.
    pub fn link(&self, mention: &str, max_edits: u32, limit: usize) -> Vec<LinkHit> {
        let norm = normalize(mention);
        if norm.is_empty() || limit == 0 {
            return Vec::new();
        }
        // Candidates as (score, concept, kind, index of the matched key); strings are built only
        // for the hits returned.
        let mut hits: Vec<(f64, u32, MatchKind, usize)> = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        if let Some(at) = self.str_fst.get(&norm) {
            keys.push(norm.clone());
            for &c in self.postings(Sec::StrPost, at) {
                let exact = self.has_name(c, mention);
                hits.push(if exact { (1.0, c, MatchKind::Exact, 0) } else { (0.95, c, MatchKind::Normalized, 0) });
            }
        }
        if hits.is_empty() {
            let prefix = format!("{norm} ");
            let mut found: Vec<(String, u64)> = Vec::new();
            let mut stream = self.str_fst.search(fst::automaton::Str::new(&prefix).starts_with()).into_stream();
            while let Some((key, at)) = stream.next() {
                found.push((String::from_utf8_lossy(key).into_owned(), at));
            }
            found.sort_by_key(|k| (k.0.len(), k.1));
            for (key, at) in found.into_iter().take(50) {
                let score = 0.9 * norm.len() as f64 / key.len() as f64;
                for &c in self.postings(Sec::StrPost, at) {
                    hits.push((score, c, MatchKind::Prefix, keys.len()));
                }
                keys.push(key);
            }
        }
        for d in 1..=max_edits.min(2) {
            if !hits.is_empty() {
                break;
            }
            let mut stream =
                self.str_fst.search(EditDistance { query: norm.as_bytes(), max: d.min(2) as u8 }).into_stream();
            while let Some((key, at)) = stream.next() {
                let key = String::from_utf8_lossy(key).into_owned();
                let edits = edit_distance(&norm, &key);
                let len = norm.chars().count().max(key.chars().count()).max(1) as f64;
                let score = 0.9 * (1.0 - edits as f64 / len);
                for &c in self.postings(Sec::StrPost, at) {
                    hits.push((score, c, MatchKind::Fuzzy(edits), keys.len()));
                }
                keys.push(key);
            }
        }
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        hits.dedup_by_key(|h| h.1);
        hits.into_iter().take(limit).map(|(score, c, kind, key)| self.hit(c, &keys[key], kind, score)).collect()
    }

    fn hit(&self, c: u32, matched: &str, kind: MatchKind, score: f64) -> LinkHit {
        LinkHit {
            concept: self.id(c).to_string(),
            name: self.preferred_name(c).to_string(),
            matched: matched.to_string(),
            kind,
            score,
        }
    }

    /// Other strings of the concept (layer 1): preferred names first, then load order,
    /// de-duplicated by normalized form.
    pub fn synonyms(&self, c: u32, k: usize) -> Vec<Expansion> {
        let mut names: Vec<NameRef<'_>> = self.names(c).collect();
        names.sort_by_key(|n| !n.preferred);
        let mut seen = std::collections::HashSet::new();
        names
            .into_iter()
            .filter(|n| seen.insert(normalize(n.text)))
            .take(k)
            .map(|n| Expansion {
                from: self.id(c).to_string(),
                concept: self.id(c).to_string(),
                name: n.text.to_string(),
                relation: Relation::Synonym,
                source: n.source.to_string(),
                via: None,
            })
            .collect()
    }

    fn edges(&self, off: Sec, to: Sec, src: Sec, c: u32) -> Vec<(u32, u16)> {
        let (t, s) = (self.u32s(to), self.u16s(src));
        self.range(off, c).map(|i| (t[i], s[i])).collect()
    }

    /// The hierarchy source used for `c` when none is named: the first of
    /// [`DEFAULT_HIERARCHY`] with edges at `c`, else the first source with edges at `c`.
    pub fn default_source(&self, c: u32) -> Option<u16> {
        let mut present: Vec<u16> =
            self.edges(Sec::ParOff, Sec::ParTo, Sec::ParSrc, c).into_iter().map(|e| e.1).collect();
        present.extend(self.edges(Sec::ChdOff, Sec::ChdTo, Sec::ChdSrc, c).into_iter().map(|e| e.1));
        present.sort_unstable();
        present.dedup();
        DEFAULT_HIERARCHY
            .iter()
            .find_map(|name| present.iter().copied().find(|&s| self.source_name(s) == *name))
            .or_else(|| present.first().copied())
    }

    fn resolve_source(&self, c: u32, source: Option<&str>) -> Result<Option<u16>> {
        match source {
            None => Ok(self.default_source(c)),
            Some(name) => match self.meta.sources.iter().position(|s| s == name) {
                Some(i) => Ok(Some(i as u16)),
                None => Err(KbError::Invalid(format!(
                    "unknown source `{name}`; the index has: {}",
                    self.meta.sources.join(", ")
                ))),
            },
        }
    }

    fn expansion(&self, from: u32, to: u32, relation: Relation, source: u16, via: Option<String>) -> Expansion {
        Expansion {
            from: self.id(from).to_string(),
            concept: self.id(to).to_string(),
            name: self.preferred_name(to).to_string(),
            relation,
            source: self.source_name(source).to_string(),
            via,
        }
    }

    fn hierarchy(&self, c: u32, source: Option<&str>, relation: Relation) -> Result<Vec<(u32, u16, Option<u32>)>> {
        let Some(src) = self.resolve_source(c, source)? else { return Ok(Vec::new()) };
        let parents: Vec<u32> = self
            .edges(Sec::ParOff, Sec::ParTo, Sec::ParSrc, c)
            .into_iter()
            .filter(|e| e.1 == src)
            .map(|e| e.0)
            .collect();
        Ok(match relation {
            Relation::Parent => parents.into_iter().map(|p| (p, src, None)).collect(),
            Relation::Child => self
                .edges(Sec::ChdOff, Sec::ChdTo, Sec::ChdSrc, c)
                .into_iter()
                .filter(|e| e.1 == src)
                .map(|e| (e.0, src, None))
                .collect(),
            Relation::Sibling => {
                let mut out: Vec<(u32, u16, Option<u32>)> = Vec::new();
                for p in parents {
                    for (s, _) in self.edges(Sec::ChdOff, Sec::ChdTo, Sec::ChdSrc, p).into_iter().filter(|e| e.1 == src)
                    {
                        if s != c && !out.iter().any(|o| o.0 == s) {
                            out.push((s, src, Some(p)));
                        }
                    }
                }
                out
            }
            _ => Vec::new(),
        })
    }

    /// Parents, children or siblings of `c` in `source` (default: see [`Kb::default_source`]),
    /// at most `k`, in concept order per parent.
    pub fn hierarchy_expansions(
        &self,
        c: u32,
        relation: Relation,
        source: Option<&str>,
        k: usize,
    ) -> Result<Vec<Expansion>> {
        Ok(self
            .hierarchy(c, source, relation)?
            .into_iter()
            .take(k)
            .map(|(o, s, via)| self.expansion(c, o, relation, s, via.map(|p| format!("child of {}", self.id(p)))))
            .collect())
    }

    /// How many children `c` has in its default hierarchy source (0 for a leaf or a concept
    /// outside every hierarchy): how broad a class it is.
    pub fn child_count(&self, c: u32) -> usize {
        self.hierarchy(c, None, Relation::Child).map_or(0, |v| v.len())
    }

    /// The paper's layer 3: parents then children, at most `k` together.
    pub fn parents_and_children(&self, c: u32, source: Option<&str>, k: usize) -> Result<Vec<Expansion>> {
        let mut out = self.hierarchy_expansions(c, Relation::Parent, source, k)?;
        out.extend(self.hierarchy_expansions(c, Relation::Child, source, k - out.len().min(k))?);
        Ok(out)
    }

    fn shares_type(&self, a: u32, b: u32) -> bool {
        let ta = self.type_ids(a);
        ta.is_empty() || self.type_ids(b).iter().any(|t| ta.contains(t))
    }

    /// Up to `k` related concepts sharing a semantic type with `c` (layer 2). Ranking:
    ///
    /// 1. concepts directly related to `c` (UMLS RB/RN/RO/RQ/SY/SIB/RL), by the number of
    ///    distinct sources asserting a relation between the two (more first), then concept
    ///    order;
    /// 2. then hierarchy neighbours in the default source: parents, children, siblings.
    ///
    /// A concept without types accepts every type. The same index and inputs always give the
    /// same list.
    pub fn related_same_type(&self, c: u32, k: usize) -> Vec<Expansion> {
        let (to, kind, src, rela) =
            (self.u32s(Sec::RelTo), self.raw(Sec::RelKind), self.u16s(Sec::RelSrc), self.u16s(Sec::RelRela));
        // other -> (distinct sources, first (kind, source, rela))
        type First = (u8, u16, u16);
        let mut by: BTreeMap<u32, (Vec<u16>, First)> = BTreeMap::new();
        for i in self.range(Sec::RelOff, c) {
            let e = by.entry(to[i]).or_insert_with(|| (Vec::new(), (kind[i], src[i], rela[i])));
            if !e.0.contains(&src[i]) {
                e.0.push(src[i]);
            }
        }
        let mut ranked: Vec<(u32, usize, First)> = by
            .into_iter()
            .filter(|(o, _)| *o != c && self.shares_type(c, *o))
            .map(|(o, (s, f))| (o, s.len(), f))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut out: Vec<Expansion> = Vec::new();
        let mut seen = vec![c];
        for (o, _, (kd, s, r)) in ranked.into_iter().take(k) {
            let rel = RelKind::from_u8(kd).map(RelKind::code).unwrap_or("?");
            let via = if r == 0 {
                rel.to_string()
            } else {
                format!("{rel}/{}", self.meta.relas.get(r as usize - 1).map(String::as_str).unwrap_or("?"))
            };
            out.push(self.expansion(c, o, Relation::RelatedSameType, s, Some(via)));
            seen.push(o);
        }
        for relation in [Relation::Parent, Relation::Child, Relation::Sibling] {
            for (o, s, _) in self.hierarchy(c, None, relation).unwrap_or_default() {
                if out.len() >= k {
                    return out;
                }
                if !seen.contains(&o) && self.shares_type(c, o) {
                    out.push(self.expansion(c, o, Relation::RelatedSameType, s, Some(relation.to_string())));
                    seen.push(o);
                }
            }
        }
        out
    }

    /// One kind of expansion (see the individual methods), at most `k`.
    pub fn expand(&self, c: u32, relation: Relation, source: Option<&str>, k: usize) -> Result<Vec<Expansion>> {
        match relation {
            Relation::Synonym => Ok(self.synonyms(c, k)),
            Relation::RelatedSameType => Ok(self.related_same_type(c, k)),
            r => self.hierarchy_expansions(c, r, source, k),
        }
    }

    /// Summary counts.
    pub fn stats(&self) -> Stats {
        Stats {
            path: self.path.clone(),
            bytes: self.map.len() as u64,
            counts: self.meta.counts.clone(),
            sources: self.meta.sources.clone(),
            types: self.meta.types.len(),
        }
    }
}

/// Band width of the edit-distance automaton: 2 x max edits + 1, for at most 2 edits.
const BAND: usize = 5;

/// An fst automaton matching keys within `max` (at most 2) byte edits of `query`, evaluated
/// lazily: its state is the band of the edit-distance table around the diagonal (the only
/// cells that can stay within `max`), so nothing is built up front and no step allocates. For
/// ASCII terms bytes are characters; the reported distance is recomputed on characters.
struct EditDistance<'a> {
    query: &'a [u8],
    max: u8,
}

/// Automaton state: key bytes consumed and the band `D[depth][depth - max + k]`.
#[derive(Clone, Copy, Debug)]
struct Band {
    depth: usize,
    cells: [u8; BAND],
}

impl EditDistance<'_> {
    const FAR: u8 = u8::MAX;

    fn cell(&self, band: &Band, i: isize) -> u8 {
        let k = i - band.depth as isize + self.max as isize;
        if i < 0 || i > self.query.len() as isize || k < 0 || k as usize > 2 * self.max as usize {
            Self::FAR
        } else {
            band.cells[k as usize]
        }
    }
}

impl Automaton for EditDistance<'_> {
    type State = Option<Band>;

    fn start(&self) -> Self::State {
        let mut cells = [Self::FAR; BAND];
        for (k, cell) in cells.iter_mut().enumerate().take(2 * self.max as usize + 1) {
            let i = k as isize - self.max as isize;
            if i >= 0 && i as usize <= self.query.len() {
                *cell = i as u8;
            }
        }
        Some(Band { depth: 0, cells })
    }

    fn is_match(&self, state: &Self::State) -> bool {
        state.as_ref().is_some_and(|b| self.cell(b, self.query.len() as isize) <= self.max)
    }

    fn can_match(&self, state: &Self::State) -> bool {
        state.is_some()
    }

    fn accept(&self, state: &Self::State, byte: u8) -> Self::State {
        let band = state.as_ref()?;
        let depth = band.depth + 1;
        let width = 2 * self.max as usize + 1;
        let mut next = Band { depth, cells: [Self::FAR; BAND] };
        let mut best = Self::FAR;
        for k in 0..width {
            let i = depth as isize - self.max as isize + k as isize;
            if i < 0 || i > self.query.len() as isize {
                continue;
            }
            let v = if i == 0 {
                depth.min(254) as u8
            } else {
                let diag = self.cell(band, i - 1).saturating_add(u8::from(self.query[i as usize - 1] != byte));
                let up = self.cell(band, i).saturating_add(1);
                let left = if k > 0 { next.cells[k - 1].saturating_add(1) } else { Self::FAR };
                diag.min(up).min(left)
            };
            next.cells[k] = v;
            best = best.min(v);
        }
        (best <= self.max).then_some(next)
    }
}

/// Levenshtein distance between two strings (by characters).
fn edit_distance(a: &str, b: &str) -> u32 {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<u32> = (0..=b.len() as u32).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i as u32 + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + u32::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance_automaton_matches_the_distance() {
        use fst::{IntoStreamer, Streamer};
        let keys = [
            "diabetes",
            "diabetis",
            "diabetes mellitus",
            "diabets",
            "xdiabetes",
            "diabolic",
            "d",
            "di",
            "diab",
            "iabetes",
            "dbaetes",
            "diabetesxy",
            "aadiabetes",
        ];
        let mut sorted = keys.to_vec();
        sorted.sort();
        let set = fst::Set::from_iter(sorted).unwrap();
        for max in 0..=2u8 {
            let mut got = Vec::new();
            let mut s = set.search(super::EditDistance { query: b"diabetes", max }).into_stream();
            while let Some(k) = s.next() {
                got.push(String::from_utf8(k.to_vec()).unwrap());
            }
            let mut want: Vec<String> = keys
                .iter()
                .filter(|k| super::edit_distance("diabetes", k) <= max as u32)
                .map(|k| k.to_string())
                .collect();
            want.sort();
            assert_eq!(got, want, "max {max}");
        }
    }

    proptest::proptest! {
        #[test]
        fn automaton_agrees_with_the_distance(query in "[abc]{0,7}", keys in proptest::collection::btree_set("[abc]{0,8}", 1..30), max in 0u8..=2) {
            use fst::{IntoStreamer, Streamer};
            let set = fst::Set::from_iter(keys.iter()).unwrap();
            let mut got = Vec::new();
            let mut s = set.search(super::EditDistance { query: query.as_bytes(), max }).into_stream();
            while let Some(k) = s.next() {
                got.push(String::from_utf8(k.to_vec()).unwrap());
            }
            let want: Vec<String> = keys.iter().filter(|k| super::edit_distance(&query, k) <= max as u32).cloned().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn edit_distance() {
        assert_eq!(super::edit_distance("diabetes", "diabetis"), 1);
        assert_eq!(super::edit_distance("", "abc"), 3);
        assert_eq!(super::edit_distance("kitten", "sitting"), 3);
    }
}

//! UMLS Metathesaurus RRF files from a `META/` folder: MRCONSO (atoms), MRSTY (semantic types,
//! optional), MRREL (relations), MRHIER (hierarchies, optional).
//!
//! Column layouts are read from `MRFILES.RRF` when present (so older and newer releases both
//! load), else the current layout is assumed; a layout without the columns we need is an
//! error. Lines are parsed in parallel (rayon) and applied to the graph in file order.

use crate::error::{KbError, Result};
use crate::graph::{Graph, RelKind};
use crate::sources::{for_each_chunk, read_text};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Filters applied while loading RRF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RrfOptions {
    /// Languages kept (MRCONSO `LAT`); empty keeps all. Default `["ENG"]`.
    pub languages: Vec<String>,
    /// Keep suppressed atoms and relations (`SUPPRESS` O, E or Y). Default false.
    pub include_suppressed: bool,
    /// Only these sources (`SAB`), when non-empty.
    pub allow_sources: Vec<String>,
    /// Never these sources.
    pub deny_sources: Vec<String>,
}

impl Default for RrfOptions {
    fn default() -> Self {
        RrfOptions {
            languages: vec!["ENG".into()],
            include_suppressed: false,
            allow_sources: vec![],
            deny_sources: vec![],
        }
    }
}

impl RrfOptions {
    fn keeps_source(&self, sab: &str) -> bool {
        (self.allow_sources.is_empty() || self.allow_sources.iter().any(|s| s == sab))
            && !self.deny_sources.iter().any(|s| s == sab)
    }

    fn keeps_suppress(&self, flag: &str) -> bool {
        self.include_suppressed || !matches!(flag, "O" | "E" | "Y")
    }
}

/// What was loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RrfReport {
    /// MRCONSO rows read.
    pub atom_rows: u64,
    /// Atoms kept after the filters.
    pub atoms_kept: u64,
    /// Concepts with at least one kept atom.
    pub concepts: u64,
    /// MRSTY rows applied.
    pub type_rows: u64,
    /// MRREL rows read.
    pub relation_rows: u64,
    /// Hierarchy (PAR/CHD) rows kept, per source.
    pub hierarchy_rows: std::collections::BTreeMap<String, u64>,
    /// Other relation rows kept.
    pub other_relation_rows: u64,
    /// MRHIER rows applied.
    pub mrhier_rows: u64,
}

const MRCONSO: &[&str] = &[
    "CUI", "LAT", "TS", "LUI", "STT", "SUI", "ISPREF", "AUI", "SAUI", "SCUI", "SDUI", "SAB", "TTY", "CODE", "STR",
    "SRL", "SUPPRESS", "CVF",
];
const MRSTY: &[&str] = &["CUI", "TUI", "STN", "STY", "ATUI", "CVF"];
const MRREL: &[&str] = &[
    "CUI1", "AUI1", "STYPE1", "REL", "CUI2", "AUI2", "STYPE2", "RELA", "RUI", "SRUI", "SAB", "SL", "RG", "DIR",
    "SUPPRESS", "CVF",
];
const MRHIER: &[&str] = &["CUI", "AUI", "CXN", "PAUI", "SAB", "RELA", "PTR", "HCD", "CVF"];

/// Column layout of one RRF file.
struct Layout {
    file: PathBuf,
    columns: Vec<String>,
}

impl Layout {
    fn col(&self, name: &str) -> Result<usize> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| KbError::Corrupt {
            path: self.file.clone(),
            message: format!("unknown column layout: no `{name}` column among {}", self.columns.join(",")),
        })
    }
}

/// Layouts from MRFILES.RRF (FIL|DES|FMT|CLS|RWS|BTS|), or the defaults.
fn layouts(dir: &Path) -> Result<HashMap<String, Vec<String>>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (name, cols) in [("MRCONSO.RRF", MRCONSO), ("MRSTY.RRF", MRSTY), ("MRREL.RRF", MRREL), ("MRHIER.RRF", MRHIER)] {
        map.insert(name.into(), cols.iter().map(|c| c.to_string()).collect());
    }
    let files = dir.join("MRFILES.RRF");
    if files.exists() {
        for (i, line) in read_text(&files)?.lines().enumerate() {
            let f: Vec<&str> = line.split('|').collect();
            if f.len() < 3 {
                return Err(KbError::parse(&files, i as u64 + 1, "expected FIL|DES|FMT|... fields"));
            }
            map.insert(f[0].to_string(), f[2].split(',').map(String::from).collect());
        }
    }
    Ok(map)
}

/// The fields of one RRF row of a file with `n` columns whose rows end with a `|` (as UMLS
/// writes them) when `trailing`: exactly `n` fields, and the trailing empty one when expected.
/// A row that lost a column is an error, never a row read with its fields shifted.
pub fn row_fields(line: &str, n: usize, trailing: bool) -> std::result::Result<Vec<&str>, String> {
    let mut f: Vec<&str> = line.split('|').collect();
    let found = f.len();
    if trailing {
        if found != n + 1 || !f[n].is_empty() {
            return Err(format!(
                "expected {n} `|`-separated fields each followed by `|` (as the file's first row), found {} field(s){}",
                found.saturating_sub(1),
                if found == n + 1 {
                    ""
                } else if found < n + 1 {
                    ": a column is missing"
                } else {
                    ": a column too many"
                }
            ));
        }
        f.pop();
    } else if found != n {
        return Err(format!("expected {n} `|`-separated fields (as the file's first row), found {found}"));
    }
    Ok(f)
}

/// Streams the rows of one RRF file: lines are split into fields in parallel (rayon), the
/// row shape is checked against the layout (the first row says whether rows end with `|`),
/// and `apply` sees the rows in file order.
fn for_each_row(layout: &Layout, mut apply: impl FnMut(&[&str])) -> Result<()> {
    let n = layout.columns.len();
    let mut trailing: Option<bool> = None;
    for_each_chunk(&layout.file, |first, lines| {
        let t = *trailing.get_or_insert_with(|| lines.iter().find(|l| !l.is_empty()).is_some_and(|l| l.ends_with('|')));
        let rows: Vec<Vec<&str>> = lines
            .par_iter()
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, line)| {
                let bad = |m: String| KbError::parse(&layout.file, first + i as u64, m);
                if line.len() > super::MAX_LINE {
                    return Err(bad(format!(
                        "a row of {} bytes; rows are at most {} bytes",
                        line.len(),
                        super::MAX_LINE
                    )));
                }
                let f = row_fields(line, n, t).map_err(|m| bad(format!("{m} ({})", layout.columns.join(","))))?;
                if let Some((k, v)) = f.iter().enumerate().find(|(_, v)| v.len() > super::MAX_NAME) {
                    return Err(bad(format!(
                        "field {} ({}) has {} bytes; fields are at most {} bytes",
                        k + 1,
                        layout.columns[k],
                        v.len(),
                        super::MAX_NAME
                    )));
                }
                Ok(f)
            })
            .collect::<Result<_>>()?;
        rows.iter().for_each(|r| apply(r));
        Ok(())
    })
}

fn find_layout(
    dir: &Path,
    name: &str,
    layouts: &HashMap<String, Vec<String>>,
    required: bool,
) -> Result<Option<Layout>> {
    let file = dir.join(name);
    if !file.exists() {
        if required {
            return Err(KbError::Invalid(format!(
                "{} is missing (a UMLS META folder needs at least MRCONSO.RRF)",
                file.display()
            )));
        }
        tracing::info!("{} not found; skipped", file.display());
        return Ok(None);
    }
    let columns = layouts.get(name).cloned().unwrap_or_default();
    Ok(Some(Layout { file, columns }))
}

/// Every source and language a filter names must be in MRCONSO (a `--sab-deny SNOMEDCT_US` on a
/// release that calls the source `SNOMEDCT` would otherwise keep it silently), and some atom
/// must pass the filters.
fn check_filters(
    file: &Path,
    opts: &RrfOptions,
    sources: &std::collections::BTreeSet<String>,
    languages: &std::collections::BTreeSet<String>,
    kept: u64,
) -> Result<()> {
    let list = |s: &std::collections::BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    for (what, names) in [("allowed", &opts.allow_sources), ("denied", &opts.deny_sources)] {
        if let Some(missing) = names.iter().find(|n| !sources.contains(*n)) {
            return Err(KbError::Invalid(format!(
                "{}: no source `{missing}` (among the {what} ones) in this release; its sources are: {}",
                file.display(),
                list(sources)
            )));
        }
    }
    if let Some(missing) = opts.languages.iter().find(|l| !languages.contains(*l)) {
        return Err(KbError::Invalid(format!(
            "{}: no atoms in language `{missing}` (languages are upper case); this release has: {}",
            file.display(),
            list(languages)
        )));
    }
    if kept == 0 {
        return Err(KbError::Invalid(format!(
            "{}: no atom passes the filters (languages {:?}, allowed sources {:?}, denied {:?}, suppressed {})",
            file.display(),
            opts.languages,
            opts.allow_sources,
            opts.deny_sources,
            if opts.include_suppressed { "kept" } else { "left out" }
        )));
    }
    Ok(())
}

/// Loads the RRF files of `dir` into `graph`.
pub fn load(dir: &Path, graph: &mut Graph, opts: &RrfOptions) -> Result<RrfReport> {
    let layouts = layouts(dir)?;
    let mut report = RrfReport::default();
    let layout = find_layout(dir, "MRCONSO.RRF", &layouts, true)?.expect("required");
    let [cui, lat, ts, stt, ispref, aui, sab, code, str_, suppress] =
        ["CUI", "LAT", "TS", "STT", "ISPREF", "AUI", "SAB", "CODE", "STR", "SUPPRESS"].map(|c| layout.col(c));
    let (cui, lat, ts, stt, ispref, aui, sab, code, str_, suppress) =
        (cui?, lat?, ts?, stt?, ispref?, aui?, sab?, code?, str_?, suppress?);
    let has_hier = dir.join("MRHIER.RRF").exists();
    let mut aui_to_concept: HashMap<String, u32> = HashMap::new();
    let mut sources_seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut languages_seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for_each_row(&layout, |f| {
        report.atom_rows += 1;
        if !sources_seen.contains(f[sab]) {
            sources_seen.insert(f[sab].to_string());
        }
        if !languages_seen.contains(f[lat]) {
            languages_seen.insert(f[lat].to_string());
        }
        let keep_lang = opts.languages.is_empty() || opts.languages.iter().any(|l| l == f[lat]);
        if !keep_lang || !opts.keeps_suppress(f[suppress]) || !opts.keeps_source(f[sab]) || f[str_].is_empty() {
            return;
        }
        report.atoms_kept += 1;
        let c = graph.concept(f[cui]);
        let source = graph.source(f[sab]);
        let preferred = f[ts] == "P" && f[stt] == "PF" && f[ispref] == "Y";
        graph.add_name(c, f[str_], preferred, source);
        if !f[code].is_empty() && f[code] != "NOCODE" {
            let prefix = if f[sab] == "MSH" { "MESH" } else { f[sab] };
            graph.add_xref(c, &format!("{prefix}:{}", f[code]));
        }
        if has_hier {
            aui_to_concept.insert(f[aui].to_string(), c);
        }
    })?;
    report.concepts = graph.len() as u64;
    check_filters(&layout.file, opts, &sources_seen, &languages_seen, report.atoms_kept)?;

    if let Some(layout) = find_layout(dir, "MRSTY.RRF", &layouts, false)? {
        let (c_cui, c_tui, c_sty) = (layout.col("CUI")?, layout.col("TUI")?, layout.col("STY")?);
        for_each_row(&layout, |f| {
            if let Some(c) = graph.find(f[c_cui]) {
                graph.add_type(c, f[c_tui]);
                graph.set_type_label(f[c_tui], f[c_sty]);
                report.type_rows += 1;
            }
        })?;
        if report.type_rows == 0 {
            tracing::warn!(
                "{}: no semantic type of a loaded concept: the index will have no types",
                layout.file.display()
            );
        }
    }

    if let Some(layout) = find_layout(dir, "MRREL.RRF", &layouts, false)? {
        let [c1, rel, c2, rela, sab, suppress] =
            ["CUI1", "REL", "CUI2", "RELA", "SAB", "SUPPRESS"].map(|c| layout.col(c));
        let (c1, rel, c2, rela, sab, suppress) = (c1?, rel?, c2?, rela?, sab?, suppress?);
        for_each_row(&layout, |f| {
            report.relation_rows += 1;
            if !opts.keeps_suppress(f[suppress]) || !opts.keeps_source(f[sab]) {
                return;
            }
            let (Some(a), Some(b)) = (graph.find(f[c1]), graph.find(f[c2])) else { return };
            let source = graph.source(f[sab]);
            match f[rel] {
                // REL is the relation of CUI2 to CUI1: PAR = CUI2 is a parent of CUI1.
                "PAR" => graph.add_parent(a, b, source),
                "CHD" => graph.add_parent(b, a, source),
                other => {
                    let Some(kind) = RelKind::from_rel(other) else { return };
                    let r = graph.rela(f[rela]);
                    graph.relate(a, b, kind, source, r);
                    report.other_relation_rows += 1;
                    return;
                }
            }
            *report.hierarchy_rows.entry(f[sab].to_string()).or_default() += 1;
        })?;
        graph.dedup_related();
    }

    if let Some(layout) = find_layout(dir, "MRHIER.RRF", &layouts, false)? {
        let (c_cui, c_paui, c_sab) = (layout.col("CUI")?, layout.col("PAUI")?, layout.col("SAB")?);
        for_each_row(&layout, |f| {
            if !opts.keeps_source(f[c_sab]) {
                return;
            }
            let (Some(child), Some(&parent)) = (graph.find(f[c_cui]), aui_to_concept.get(f[c_paui])) else { return };
            let source = graph.source(f[c_sab]);
            graph.add_parent(child, parent, source);
            report.mrhier_rows += 1;
        })?;
    }
    Ok(report)
}

//! Choosing the dictionary's filters on the dev split: every combination of the name options
//! (plurals, case-exact acronyms, stop words, abbreviations, shortest name, and the recall
//! options the grid lists: salts, spelling, suffixes, corpus abbreviations, modifiers, generic
//! names, local definitions, prefixes, gene symbols, shot names), then
//! the concept types whose dev matches are too often wrong, by dev micro F1. The test split is
//! never read.

use crate::dictionary::{Dictionary, DictionaryConfig};
use crate::evidence::AdjectiveEvidence;
use crate::types::TypeMap;
use crate::{DictionaryError, Result};
use hilgen_corpus::Sentence;
use hilgen_kb::Kb;
use hilgen_metrics::{bootstrap, evaluate_sentences, GuardTest, Options, ZeroDivision};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What the search tries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Grid {
    /// Shortest names tried.
    pub min_chars: Vec<usize>,
    /// Type precision thresholds tried (0: keep every type).
    pub type_precision: Vec<f64>,
    /// Fewest dev matches for a type to be judged.
    pub min_type_matches: usize,
    /// Name precision thresholds tried (0: keep every name): a name matched at least twice on
    /// dev and right less often than this is dropped (stop words learned on dev).
    pub name_precision: Vec<f64>,
    /// Context typing tried (see [`crate::context`]); `[false, true]` lets dev decide. Tried
    /// only where the shots have two or more labels.
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub context_typing: Vec<bool>,
    /// Coordination tried (see [`crate::coordination`]); `[false, true]` lets dev decide.
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub coordination: Vec<bool>,
    /// Salt forms entered without their salt, tried (see [`DictionaryConfig::salts`]); `[true]`
    /// sets it, `[false, true]` lets dev decide.
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub salts: Vec<bool>,
    /// British spellings read as American, tried (see [`DictionaryConfig::spelling`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub spelling: Vec<bool>,
    /// Words labelled by learned endings, tried (see [`DictionaryConfig::suffixes`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub suffixes: Vec<bool>,
    /// Abbreviations propagated across documents, tried (see
    /// [`DictionaryConfig::corpus_abbreviations`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub corpus_abbreviations: Vec<bool>,
    /// Matches grown over learned modifier words, tried (see [`DictionaryConfig::modifiers`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub modifiers: Vec<bool>,
    /// Names of whole classes left out, tried (see [`DictionaryConfig::generic_names`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub generic_names: Vec<bool>,
    /// Documents' definitions overruling the dictionary, tried (see
    /// [`DictionaryConfig::local_definitions`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub local_definitions: Vec<bool>,
    /// Matches grown over hyphenated prefixes, tried (see [`DictionaryConfig::prefixes`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub prefixes: Vec<bool>,
    /// Gene-symbol names left out, tried (see [`DictionaryConfig::drop_gene_symbols`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub drop_gene_symbols: Vec<bool>,
    /// The shots' mentions as names, tried (see [`DictionaryConfig::shot_names`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub shot_names: Vec<bool>,
    /// Co-types labelling nothing, tried (see [`DictionaryConfig::drop_co_types`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub drop_co_types: Vec<bool>,
    /// Symbols before learned heads as mentions, tried (see [`DictionaryConfig::symbol_heads`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub symbol_heads: Vec<bool>,
    /// Subtype words and codes grown over, tried (see [`DictionaryConfig::subtypes`]).
    #[serde(default = "off", skip_serializing_if = "is_off")]
    pub subtypes: Vec<bool>,
    /// In-document abbreviations tried (see [`DictionaryConfig::abbreviations`]); the default
    /// `[true, false]` lets dev decide, `[true]` keeps them on: a dev file of sampled sentences
    /// (`[selection] dev = "k-shot"`) holds no document to judge them on, since each sentence
    /// comes without the one that defines its abbreviations.
    #[serde(default = "both", skip_serializing_if = "is_both")]
    pub abbreviations: Vec<bool>,
    /// Adjective forms of one-word names tried (see [`DictionaryConfig::adjectives`]); the
    /// default `[true, false]` lets dev decide, a one-value list fixes them (and is the
    /// guard's default; with two values the guard's default has them off).
    #[serde(default = "both", skip_serializing_if = "is_both")]
    pub adjectives: Vec<bool>,
    /// Fix adjectives by what the labelled sentences (shots and dev) mark, where that decides,
    /// rather than by dev F1 (see [`crate::evidence`] and [`Grid::settle_adjectives`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adjective_evidence: bool,
}

fn both() -> Vec<bool> {
    vec![true, false]
}

fn is_both(v: &Vec<bool>) -> bool {
    v == &both()
}

fn off() -> Vec<bool> {
    vec![false]
}

fn is_off(v: &Vec<bool>) -> bool {
    v == &off()
}

impl Default for Grid {
    fn default() -> Self {
        Grid {
            min_chars: vec![3, 4],
            type_precision: vec![0.0, 0.15, 0.25, 0.35, 0.5],
            min_type_matches: 5,
            name_precision: vec![0.0, 0.2],
            context_typing: off(),
            coordination: off(),
            salts: off(),
            spelling: off(),
            suffixes: off(),
            corpus_abbreviations: off(),
            modifiers: off(),
            generic_names: off(),
            local_definitions: off(),
            prefixes: off(),
            drop_gene_symbols: off(),
            shot_names: off(),
            drop_co_types: off(),
            symbol_heads: off(),
            subtypes: off(),
            abbreviations: both(),
            adjectives: both(),
            adjective_evidence: false,
        }
    }
}

impl Grid {
    /// The default grid with the options of [`DictionaryConfig::recommended`] fixed on (not
    /// chosen on dev).
    pub fn recommended() -> Grid {
        Grid::fixed(&DictionaryConfig::recommended())
    }

    /// The default grid with `c`'s recall options, context typing and coordination fixed (not
    /// chosen on dev).
    pub fn fixed(c: &DictionaryConfig) -> Grid {
        Grid {
            salts: vec![c.salts],
            spelling: vec![c.spelling],
            suffixes: vec![c.suffixes],
            corpus_abbreviations: vec![c.corpus_abbreviations],
            modifiers: vec![c.modifiers],
            generic_names: vec![c.generic_names],
            local_definitions: vec![c.local_definitions],
            prefixes: vec![c.prefixes],
            drop_gene_symbols: vec![c.drop_gene_symbols],
            shot_names: vec![c.shot_names],
            drop_co_types: vec![c.drop_co_types],
            symbol_heads: vec![c.symbol_heads],
            subtypes: vec![c.subtypes],
            context_typing: vec![c.context_typing],
            coordination: vec![c.coordination],
            ..Grid::default()
        }
    }

    /// The recall and precision options: each one's key, the values to try and how it is set
    /// on a configuration (one line per option).
    fn options(&self) -> [(&'static str, &[bool], SetOption); 13] {
        [
            ("salts", &self.salts, |c, v| c.salts = v),
            ("spelling", &self.spelling, |c, v| c.spelling = v),
            ("suffixes", &self.suffixes, |c, v| c.suffixes = v),
            ("corpus_abbreviations", &self.corpus_abbreviations, |c, v| c.corpus_abbreviations = v),
            ("modifiers", &self.modifiers, |c, v| c.modifiers = v),
            ("generic_names", &self.generic_names, |c, v| c.generic_names = v),
            ("local_definitions", &self.local_definitions, |c, v| c.local_definitions = v),
            ("prefixes", &self.prefixes, |c, v| c.prefixes = v),
            ("drop_gene_symbols", &self.drop_gene_symbols, |c, v| c.drop_gene_symbols = v),
            ("shot_names", &self.shot_names, |c, v| c.shot_names = v),
            ("drop_co_types", &self.drop_co_types, |c, v| c.drop_co_types = v),
            ("symbol_heads", &self.symbol_heads, |c, v| c.symbol_heads = v),
            ("subtypes", &self.subtypes, |c, v| c.subtypes = v),
        ]
    }

    /// The configuration a guard falls back on (see [`Guard`]): the defaults with each option
    /// list's first value (shortest name, recall options, context typing, coordination), no
    /// name or type dropped. For [`Grid::recommended`] it is [`DictionaryConfig::recommended`].
    pub fn default_config(&self) -> DictionaryConfig {
        let mut c = DictionaryConfig {
            min_chars: self.min_chars.first().copied().unwrap_or(DictionaryConfig::default().min_chars),
            context_typing: self.context_typing.first().copied().unwrap_or(false),
            coordination: self.coordination.first().copied().unwrap_or(false),
            abbreviations: self.abbreviations.first().copied().unwrap_or(true),
            adjectives: matches!(self.adjectives.as_slice(), [true]),
            ..DictionaryConfig::default()
        };
        for (_, values, set) in self.options() {
            set(&mut c, values.first().copied().unwrap_or(false));
        }
        c
    }

    /// Checks that every list has a value and every threshold is a fraction.
    pub fn check(&self) -> Result<()> {
        let lists = [
            ("min_chars", self.min_chars.is_empty()),
            ("type_precision", self.type_precision.is_empty()),
            ("name_precision", self.name_precision.is_empty()),
            ("context_typing", self.context_typing.is_empty()),
            ("coordination", self.coordination.is_empty()),
            ("abbreviations", self.abbreviations.is_empty()),
            ("adjectives", self.adjectives.is_empty()),
        ];
        let options = self.options().map(|(name, values, _)| (name, values.is_empty()));
        let lists = lists.into_iter().chain(options);
        if let Some((name, _)) = lists.into_iter().find(|(_, empty)| *empty) {
            return Err(DictionaryError::Invalid(format!("dictionary grid: `{name}` must list at least one value")));
        }
        if let Some(t) = self.type_precision.iter().chain(&self.name_precision).find(|t| !(0.0..=1.0).contains(*t)) {
            return Err(DictionaryError::Invalid(format!(
                "dictionary grid: precision threshold {t} is not within 0..=1"
            )));
        }
        Ok(())
    }
}

/// A guard on the dev choice, for small dev sets: the grid's default configuration
/// ([`Grid::default_config`]) stays unless the configuration best on dev beats it with a
/// p-value at most `p` (as `[selection] guard_p` does for ensembles), in a paired bootstrap over
/// the dev sentences or, with [`GuardTest::MaxPermutation`], in a permutation test that counts
/// every configuration tried. Twenty dev sentences rarely overturn it; a thousand usually do.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guard {
    /// The largest p-value that lets the dev choice through, in (0, 1].
    pub p: f64,
    /// The test's seed.
    pub seed: u64,
    /// The test (default: the paired bootstrap; left out of settings then).
    #[serde(default, skip_serializing_if = "GuardTest::is_default")]
    pub test: GuardTest,
}

impl Guard {
    /// A guard at `p` with the paired bootstrap seeded by `seed`.
    pub fn new(p: f64, seed: u64) -> Guard {
        Guard { p, seed, test: GuardTest::default() }
    }

    /// Checks that `p` is within (0, 1].
    pub fn check(&self) -> Result<()> {
        if !(self.p > 0.0 && self.p <= 1.0) {
            return Err(DictionaryError::Invalid(format!(
                "dictionary guard: p = {}: expected a p-value in (0, 1], such as 0.05",
                self.p
            )));
        }
        Ok(())
    }
}

/// Where a guard kept the default: the configuration best on dev that did not get through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overruled {
    /// The dev-best configuration.
    pub config: DictionaryConfig,
    /// Its dev micro F1.
    pub dev_f1: f64,
    /// The guard's p-value of it beating the default on dev.
    pub p_value: f64,
}

/// The choice and what led to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The chosen configuration.
    pub config: DictionaryConfig,
    /// Its dev micro F1.
    pub dev_f1: f64,
    /// Dev precision of each concept type with enough matches: (matches, correct).
    pub type_precision: BTreeMap<String, (usize, usize)>,
    /// Configurations tried.
    pub tried: usize,
    /// Under a [`Guard`] that kept the default: the dev choice it overruled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overruled: Option<Overruled>,
    /// Under [`Grid::adjective_evidence`]: what the labelled sentences said about adjectives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjective_evidence: Option<AdjectiveEvidence>,
}

/// How dev is scored: micro F1, nothing found scoring 0.
fn scoring() -> Options {
    Options { zero_division: ZeroDivision::Zero, ..Options::default() }
}

fn f1(gold: &[Sentence], pred: &[Sentence]) -> Result<f64> {
    Ok(evaluate_sentences(gold, pred, scoring())?.micro.f1)
}

/// (matches, correct) of unfiltered dictionary matches on gold sentences, per concept type and
/// per name.
#[allow(clippy::type_complexity)]
pub fn precision(
    d: &Dictionary,
    gold: &[Sentence],
) -> Result<(BTreeMap<String, (usize, usize)>, BTreeMap<String, (usize, usize)>)> {
    let mut types: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut names: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (s, ms) in gold.iter().zip(d.match_all(gold, true)) {
        let spans: HashSet<(usize, usize, String)> =
            s.mentions()?.into_iter().map(|m| (m.span.start, m.span.end, m.span.label)).collect();
        for m in ms {
            let Some(t) = &m.target else { continue };
            let ok = spans.contains(&(m.span.start, m.span.end, m.span.label.clone())) as usize;
            for ty in &t.types {
                let e = types.entry(ty.clone()).or_default();
                e.0 += 1;
                e.1 += ok;
            }
            let e = names.entry(m.key.clone()).or_default();
            e.0 += 1;
            e.1 += ok;
        }
    }
    Ok((types, names))
}

/// Dev (matches, correct) per concept type.
type TypePrecision = BTreeMap<String, (usize, usize)>;

/// Sets one recall option of a configuration.
type SetOption = fn(&mut DictionaryConfig, bool);

/// Every combination of the grid's recall and precision options (salts, spelling, suffixes,
/// corpus abbreviations, modifiers, generic names, local definitions, prefixes, gene symbols,
/// shot names), each set on the defaults.
fn recall_options(grid: &Grid) -> Vec<DictionaryConfig> {
    let mut out = vec![DictionaryConfig::default()];
    for (_, values, set) in grid.options() {
        out = out
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |&v| {
                    let mut c = c.clone();
                    set(&mut c, v);
                    c
                })
            })
            .collect();
    }
    out
}

/// Builds dictionaries for every option combination of `grid` and keeps the best on `dev`
/// (the first best: the grid's lists in their order, the name options on before off, so on a
/// tie plurals, case-exact acronyms, stop words and adjectives are on).
pub fn select(kb: &Kb, types: &TypeMap, dev: &[Sentence], grid: &Grid) -> Result<(Dictionary, Selection)> {
    select_guarded(kb, types, dev, grid, None)
}

/// [`select`], and with a `guard`, the grid's default configuration unless dev's choice beats
/// it significantly (see [`Guard`]).
///
/// ```no_run
/// use hilgen_dictionary::{select_guarded, Grid, Guard, TypeMap};
/// let kb = hilgen_kb::Kb::open("kb").unwrap();
/// let shots = hilgen_corpus::jsonl::read_path("shots.jsonl").unwrap();
/// let dev = hilgen_corpus::jsonl::read_path("dev-k5.jsonl").unwrap();
/// let types = TypeMap::learn(&kb, &shots);
/// let guard = Guard::new(0.05, 1);
/// let (_dictionary, selection) = select_guarded(&kb, &types, &dev, &Grid::recommended(), Some(&guard)).unwrap();
/// if let Some(o) = &selection.overruled {
///     println!("defaults kept: dev's choice scored {:.3}, p = {:.2}", o.dev_f1, o.p_value);
/// }
/// ```
pub fn select_guarded(
    kb: &Kb,
    types: &TypeMap,
    dev: &[Sentence],
    grid: &Grid,
    guard: Option<&Guard>,
) -> Result<(Dictionary, Selection)> {
    grid.check()?;
    if let Some(g) = guard {
        g.check()?;
    }
    let mut best: Option<(f64, Dictionary, TypePrecision)> = None;
    let mut tried = 0;
    // Per-sentence counts of every distinct configuration, for the max-statistic test.
    let mut tried_counts = guard.filter(|g| g.test == GuardTest::MaxPermutation).map(|_| BTreeSet::new());
    let flags = [true, false];
    // The options that change which names are entered: one build each.
    let mut builds = Vec::new();
    for &min_chars in &grid.min_chars {
        for &plurals in &flags {
            for &acronyms_case_exact in &flags {
                for &stop_words in &flags {
                    for &adjectives in &grid.adjectives {
                        for recall in recall_options(grid) {
                            builds.push(DictionaryConfig {
                                min_chars,
                                plurals,
                                acronyms_case_exact,
                                stop_words,
                                adjectives,
                                ..recall
                            });
                        }
                    }
                }
            }
        }
    }
    let below = |m: &BTreeMap<String, (usize, usize)>, least: usize, threshold: f64| {
        m.iter()
            .filter(|(_, (n, ok))| *n >= least && (*ok as f64) < threshold * *n as f64)
            .map(|(t, _)| t.clone())
            .collect::<BTreeSet<_>>()
    };
    let typing: Vec<bool> = if types.context.labels().count() >= 2 { grid.context_typing.clone() } else { off() };
    for config in builds {
        let mut d = Dictionary::build(kb, types, config)?;
        // The options of matching: no rebuild.
        let matching = grid
            .abbreviations
            .iter()
            .flat_map(|a| typing.iter().flat_map(move |c| grid.coordination.iter().map(move |g| (a, c, g))));
        for (&abbreviations, &context_typing, &coordination) in matching {
            d.config.abbreviations = abbreviations;
            d.config.context_typing = context_typing;
            d.config.coordination = coordination;
            d.config.dropped_names.clear();
            d.config.dropped_types.clear();
            let (by_type, by_name) = precision(&d, dev)?;
            for &name_threshold in &grid.name_precision {
                d.config.dropped_names = below(&by_name, 2, name_threshold);
                for &threshold in &grid.type_precision {
                    d.config.dropped_types = below(&by_type, grid.min_type_matches, threshold);
                    let tagged = d.tag(dev);
                    let score = f1(dev, &tagged)?;
                    if let Some(seen) = tried_counts.as_mut() {
                        seen.insert(bootstrap::sentence_counts_of(dev, &tagged, scoring())?);
                    }
                    tried += 1;
                    if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                        best = Some((score, d.clone(), by_type.clone()));
                    }
                }
            }
        }
    }
    let (dev_f1, d, type_precision) = best.expect("the grid is not empty");
    if let Some(g) = guard {
        let base = Dictionary::build(kb, types, grid.default_config())?;
        if base.config != d.config {
            let base_tagged = base.tag(dev);
            let f1_default = f1(dev, &base_tagged)?;
            let candidates = || Ok(tried_counts.take().unwrap_or_default().into_iter().collect());
            let p_value = g.test.p_value(dev, &d.tag(dev), &base_tagged, candidates, scoring(), g.seed)?;
            if p_value > g.p {
                tracing::info!(
                    "the default dictionary stays: dev's choice scores {:.4} against its {:.4}, p = {:.3} > {} ({})",
                    dev_f1,
                    f1_default,
                    p_value,
                    g.p,
                    g.test
                );
                let (by_type, _) = precision(&base, dev)?;
                let overruled = Overruled { config: d.config, dev_f1, p_value };
                let selection = Selection {
                    config: base.config.clone(),
                    dev_f1: f1_default,
                    type_precision: by_type,
                    tried,
                    overruled: Some(overruled),
                    adjective_evidence: None,
                };
                return Ok((base, selection));
            }
        }
    }
    let selection = Selection {
        config: d.config.clone(),
        dev_f1,
        type_precision,
        tried,
        overruled: None,
        adjective_evidence: None,
    };
    Ok((d, selection))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_keep_their_serialized_form_and_name_what_is_missing() {
        // The default abbreviations list is left out, so stage hashes of earlier runs stay.
        let v = serde_json::to_value(Grid::default()).unwrap();
        assert!(v.get("abbreviations").is_none(), "{v}");
        let g: Grid = serde_json::from_str(r#"{"abbreviations": [true]}"#).unwrap();
        assert_eq!(g.abbreviations, vec![true]);
        assert!(serde_json::to_value(&g).unwrap().get("abbreviations").is_some());
        assert!(g.default_config().abbreviations);
        let no_abbreviations: Grid = serde_json::from_str(r#"{"abbreviations": [false, true]}"#).unwrap();
        assert!(!no_abbreviations.default_config().abbreviations);
        let empty = Grid { abbreviations: vec![], ..Grid::default() };
        assert!(empty.check().unwrap_err().to_string().contains("`abbreviations`"));
        // Adjectives: the default list and the evidence flag are left out; a one-value list is
        // the guard's default, two values leave it off.
        assert!(v.get("adjectives").is_none() && v.get("adjective_evidence").is_none(), "{v}");
        assert!(!Grid::default().default_config().adjectives);
        let pinned: Grid = serde_json::from_str(r#"{"adjectives": [true], "adjective_evidence": true}"#).unwrap();
        assert!(pinned.default_config().adjectives && pinned.adjective_evidence);
        let v = serde_json::to_value(&pinned).unwrap();
        assert!(v.get("adjectives").is_some() && v.get("adjective_evidence").is_some(), "{v}");
        // The guard's default for the recommended grid is the recommended configuration.
        assert_eq!(Grid::recommended().default_config(), DictionaryConfig::recommended());
        for p in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(Guard::new(p, 1).check().is_err(), "{p}");
        }
        assert!(Guard::new(0.05, 1).check().is_ok());
    }
}

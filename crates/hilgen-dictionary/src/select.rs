//! Choosing the dictionary's filters on the dev split: every combination of the name options
//! (plurals, case-exact acronyms, stop words, abbreviations, shortest name, and the recall
//! options the grid lists: salts, spelling, suffixes, corpus abbreviations, modifiers, generic
//! names, local definitions, prefixes, gene symbols, shot names), then
//! the concept types whose dev matches are too often wrong, by dev micro F1. The test split is
//! never read.

use crate::dictionary::{Dictionary, DictionaryConfig};
use crate::types::TypeMap;
use crate::{DictionaryError, Result};
use hilgen_corpus::Sentence;
use hilgen_kb::Kb;
use hilgen_metrics::{evaluate_sentences, Options, ZeroDivision};
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
            context_typing: vec![c.context_typing],
            coordination: vec![c.coordination],
            ..Grid::default()
        }
    }

    /// The recall and precision options: each one's key, the values to try and how it is set
    /// on a configuration (one line per option).
    fn options(&self) -> [(&'static str, &[bool], SetOption); 10] {
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
        ]
    }

    /// Checks that every list has a value and every threshold is a fraction.
    pub fn check(&self) -> Result<()> {
        let lists = [
            ("min_chars", self.min_chars.is_empty()),
            ("type_precision", self.type_precision.is_empty()),
            ("name_precision", self.name_precision.is_empty()),
            ("context_typing", self.context_typing.is_empty()),
            ("coordination", self.coordination.is_empty()),
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
}

fn f1(gold: &[Sentence], pred: &[Sentence]) -> Result<f64> {
    let o = Options { zero_division: ZeroDivision::Zero, ..Options::default() };
    Ok(evaluate_sentences(gold, pred, o)?.micro.f1)
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
    grid.check()?;
    let mut best: Option<(f64, Dictionary, TypePrecision)> = None;
    let mut tried = 0;
    let flags = [true, false];
    // The options that change which names are entered: one build each.
    let mut builds = Vec::new();
    for &min_chars in &grid.min_chars {
        for &plurals in &flags {
            for &acronyms_case_exact in &flags {
                for &stop_words in &flags {
                    for &adjectives in &flags {
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
        let matching = flags
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
                    let score = f1(dev, &d.tag(dev))?;
                    tried += 1;
                    if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                        best = Some((score, d.clone(), by_type.clone()));
                    }
                }
            }
        }
    }
    let (dev_f1, d, type_precision) = best.expect("the grid is not empty");
    let selection = Selection { config: d.config.clone(), dev_f1, type_precision, tried };
    Ok((d, selection))
}

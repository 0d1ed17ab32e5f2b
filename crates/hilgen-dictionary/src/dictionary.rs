//! The dictionary: every name of every concept that has a label, in the forms text uses
//! (normalized; see [`crate::forms`]; all-capital acronyms matched with their case), matched
//! longest first over a sentence's tokens, then, where set, words no name matches by their
//! ending ([`crate::suffixes`]); abbreviations defined in a document as `long form (ABBR)` take
//! the long form's label everywhere in that document; where set, matches grow over modifier
//! words learned from the names ([`crate::modifiers`]).

use crate::abbreviations::{apply, definitions, exact_key, Definition};
use crate::coordination::Names;
use crate::forms::{american, variants};
use crate::heads::{HeadCounts, Heads};
use crate::matches::{Match, Target};
use crate::modifiers::{Modifiers, NameCounts};
use crate::subtypes::{SubtypeCounts, Subtypes};
use crate::suffixes::{EndingCounts, Inflections, Suffixes, SUFFIX_CONCEPT};
use crate::types::{most_voted, TypeMap};
use crate::words::is_word;
use crate::{DictionaryError, Result};
use hilgen_corpus::{scheme, Scheme, Sentence, Span};
use hilgen_kb::{normalize, Kb};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Which names enter the dictionary and how text is matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DictionaryConfig {
    /// Names (normalized) shorter than this many characters are left out.
    pub min_chars: usize,
    /// Also enter "X, Y" names as "Y X" (MeSH's "Anemia, Hemolytic" as "Hemolytic Anemia").
    pub uninvert: bool,
    /// Also enter simple plurals and singulars of the last word (-s, -es, -ies; MeSH's
    /// "Gentamicins" as "Gentamicin").
    pub plurals: bool,
    /// All-capital names of up to six characters (AIDS, ADHD) match only text in capitals.
    pub acronyms_case_exact: bool,
    /// Also enter the adjectives of one-word names (hypertension -> hypertensive, epilepsy ->
    /// epileptic, ischemia -> ischemic, psychosis -> psychotic, parkinsonism -> parkinsonian).
    #[serde(default)]
    pub adjectives: bool,
    /// Leave out names that are common English words.
    pub stop_words: bool,
    /// `long form (ABBR)` in a document labels the abbreviation everywhere in the document.
    pub abbreviations: bool,
    /// With `abbreviations`: an abbreviation defined after matches of one label only, in any
    /// document of the text tagged, takes that label in every document (corpus-level
    /// propagation: "5-FU" where a document uses it undefined).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub corpus_abbreviations: bool,
    /// Longest name, in tokens.
    pub max_tokens: usize,
    /// Concept types whose matches are dropped (chosen on dev, see [`crate::select`]); a match
    /// is dropped when every type of its concept is here.
    pub dropped_types: BTreeSet<String>,
    /// Names (normalized) whose matches are dropped: those most often wrong on dev.
    pub dropped_names: BTreeSet<String>,
    /// Each match's label chosen by its context among the labels its concept's types vote for
    /// (see [`crate::context`]), instead of the most voted one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub context_typing: bool,
    /// A match grows over a coordination before it whose conjuncts form names with its head
    /// ("breast and ovarian cancer"; see [`crate::coordination`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub coordination: bool,
    /// Also enter salt forms without their salt ("Scopolamine Hydrobromide" as "scopolamine";
    /// see [`crate::forms::without_salt`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub salts: bool,
    /// Read British spellings in names and text as American ("tumour", "anaemia"; see
    /// [`crate::forms::american`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spelling: bool,
    /// A word no vocabulary names takes the label of a word ending nearly every name with that
    /// ending has ("olanzapine" as the "-apine" drugs; see [`crate::suffixes`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suffixes: bool,
    /// A match grows left over words that, before names of its label, make other names of it
    /// ("hereditary" in "hereditary breast cancer"; with context typing, of the labels it
    /// shares concept types with, [`TypeMap::kin`]; see [`crate::modifiers`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub modifiers: bool,
    /// Leave out one-word names of a whole class of entities ("disease", "syndrome",
    /// "disorder"; see [`GENERIC_NAMES`]), which neither corpus marks.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generic_names: bool,
    /// A short form a document defines in brackets overrules the dictionary there: it takes
    /// its long form's label wherever the dictionary reads it otherwise ("cyclophosphamide
    /// (CP)", not cerebral palsy), and, defined after words no match touches
    /// ("Sprague-Dawley (SD)"), is no mention in that document.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local_definitions: bool,
    /// A match grows left over a locant, configuration letter or Greek letter joined to it by
    /// a hyphen ("6-thioguanine", "D-penicillamine", "L-dopa"; see [`crate::prefixes`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prefixes: bool,
    /// Leave out acronym names shaped like gene symbols, two or more capitals then digits
    /// ("RB1", "WT1", "IDDM2", "AQP2"): CTD lists the symbols of genes as synonyms of the
    /// diseases they cause, and text uses them for the gene. Abbreviations a document defines
    /// are still found.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_gene_symbols: bool,
    /// The shots' own mentions are names of their label too, in their forms ("toxicity" when a
    /// shot marks it and no concept has it as a name); a name the graph has keeps the graph's
    /// label, and all-capital mentions (abbreviations) are left to their documents.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shot_names: bool,
    /// Co-types label nothing: a tree category the shots show only beside a type of a counted
    /// tree (G05 "genetic phenomena" of "chromosomal abnormalities", also C23) gives no label
    /// to the concepts filed under it alone ("mutations", "gene"; see
    /// [`crate::TypeMap::co_types`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_co_types: bool,
    /// A symbol before a head word that many of the graph's names put after a symbol makes a
    /// mention with it ("C9 deficiency", "HPT-JT syndrome", "PAH-deficient", where the graph
    /// has "HMGCS2 Deficiency" and the like; see [`crate::heads`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub symbol_heads: bool,
    /// A match grows over a word and code that many of the graph's names add to another name
    /// of their label ("type IID von Willebrand disease", "SJS type 1A", where the graph has
    /// "Mucopolysaccharidosis Type IVA" and "Mucopolysaccharidosis"; see [`crate::subtypes`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub subtypes: bool,
}

impl Default for DictionaryConfig {
    fn default() -> Self {
        DictionaryConfig {
            min_chars: 3,
            uninvert: true,
            plurals: true,
            acronyms_case_exact: true,
            adjectives: false,
            stop_words: true,
            abbreviations: true,
            max_tokens: 10,
            dropped_types: BTreeSet::new(),
            dropped_names: BTreeSet::new(),
            context_typing: false,
            coordination: false,
            corpus_abbreviations: false,
            salts: false,
            spelling: false,
            suffixes: false,
            modifiers: false,
            generic_names: false,
            local_definitions: false,
            prefixes: false,
            drop_gene_symbols: false,
            shot_names: false,
            drop_co_types: false,
            symbol_heads: false,
            subtypes: false,
        }
    }
}

impl DictionaryConfig {
    /// The defaults with the recall options (salt forms, British spellings, learned endings,
    /// abbreviations across documents, modifiers, hyphenated prefixes, the shots' own
    /// mentions, symbols before learned heads, subtype words and codes), generic names,
    /// gene-symbol names and co-types left out, local definitions and coordinations on: what a
    /// user with no dev set to choose on gets (`hilgen fewshot`), each set on the dev splits of
    /// BC5CDR and NCBI-Disease (docs/results/README.md, "The dictionary's recall",
    /// "Modifiers", "Precision and prefixes", "Co-types", "Symbol heads" and "Subtypes and
    /// hyphens").
    pub fn recommended() -> DictionaryConfig {
        DictionaryConfig {
            salts: true,
            spelling: true,
            suffixes: true,
            corpus_abbreviations: true,
            modifiers: true,
            generic_names: true,
            local_definitions: true,
            prefixes: true,
            drop_gene_symbols: true,
            shot_names: true,
            coordination: true,
            drop_co_types: true,
            symbol_heads: true,
            subtypes: true,
            ..DictionaryConfig::default()
        }
    }

    /// Checks the values.
    pub fn check(&self) -> Result<()> {
        if self.min_chars == 0 || self.max_tokens == 0 {
            return Err(DictionaryError::Invalid("min_chars and max_tokens must be at least 1".into()));
        }
        Ok(())
    }
}

/// Common English words that are also names in biomedical vocabularies ("lead", "iron" are
/// not here: they are chemicals; nor is "pain", which BC5CDR marks as a disease wherever it
/// stands, 72 times in its dev split, and NCBI-Disease's dev split never uses).
const STOP_WORDS: &[&str] = &[
    "a", "about", "acid", "action", "age", "aid", "aids", "air", "all", "also", "an", "and", "any", "are", "as", "at",
    "base", "be", "been", "being", "but", "by", "can", "case", "cases", "cell", "cells", "control", "could", "day",
    "did", "do", "does", "dose", "doses", "drug", "drugs", "during", "each", "effect", "effects", "factor", "for",
    "form", "from", "gas", "had", "has", "have", "he", "her", "his", "how", "if", "in", "into", "is", "it", "its",
    "level", "levels", "may", "more", "most", "no", "not", "of", "on", "one", "or", "other", "our", "patient",
    "patients", "per", "rat", "rats", "risk", "salt", "same", "she", "should", "some", "such", "than", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "time", "to", "two", "type", "use", "used",
    "using", "via", "was", "water", "we", "were", "what", "when", "which", "who", "will", "with", "would",
];

/// One-word names of a whole class of entities rather than of one: left out with
/// [`DictionaryConfig::generic_names`] ("the disease", "this syndrome" refer back to a mention;
/// neither BC5CDR nor NCBI-Disease marks them).
pub const GENERIC_NAMES: &[&str] = &[
    "condition",
    "conditions",
    "disease",
    "diseases",
    "disorder",
    "disorders",
    "illness",
    "illnesses",
    "syndrome",
    "syndromes",
];

/// The knowledge graph as a longest-match tagger.
///
/// ```no_run
/// use hilgen_dictionary::{Dictionary, DictionaryConfig, TypeMap};
/// # let (shots, test): (Vec<hilgen_corpus::Sentence>, Vec<hilgen_corpus::Sentence>) = (vec![], vec![]);
/// let kb = hilgen_kb::Kb::open("kb").unwrap();
/// let types = TypeMap::learn(&kb, &shots);
/// let dictionary = Dictionary::build(&kb, &types, DictionaryConfig::default()).unwrap();
/// let tagged = dictionary.tag(&test);
/// ```
#[derive(Debug, Clone)]
pub struct Dictionary {
    /// The configuration.
    pub config: DictionaryConfig,
    /// Normalized name -> targets (several concepts can share a name).
    entries: HashMap<String, Vec<Target>>,
    /// Acronyms, case kept (`AIDS`) -> targets.
    exact: HashMap<String, Vec<Target>>,
    /// Word endings learned from the graph's names (empty unless `config.suffixes`).
    suffixes: Suffixes,
    /// Modifier words learned from the graph's names (empty unless `config.modifiers`).
    modifiers: Modifiers,
    /// Head words learned from the graph's names after symbols (empty unless
    /// `config.symbol_heads`).
    heads: Heads,
    /// Subtype words learned from the graph's names (empty unless `config.subtypes`).
    subtypes: Subtypes,
    /// The same learned per kin of labels ([`TypeMap::kin`]), grown over with context typing,
    /// which chooses a grown match's label among its kin afterwards (empty unless
    /// `config.modifiers` and the shots have two or more labels).
    kin_modifiers: Modifiers,
    /// The entity types it was built with.
    pub types: TypeMap,
}

/// A normalized name or text as the dictionary keys it (British spellings read as American
/// where `spelling` is set).
fn keyed(config: &DictionaryConfig, key: String) -> String {
    if !config.spelling {
        return key;
    }
    match american(&key) {
        std::borrow::Cow::Owned(changed) => changed,
        std::borrow::Cow::Borrowed(_) => key,
    }
}

/// Whether a name is shaped like a gene symbol: two or more capital letters, then digits, then
/// at most one capital ("RB1", "IDDM2", "AQP2", "CMT1A"; not "E2", "T3" or "5-FU").
fn is_gene_symbol(name: &str) -> bool {
    let letters = name.chars().take_while(char::is_ascii_uppercase).count();
    let rest = &name[letters..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let tail = &rest[digits..];
    letters >= 2
        && digits >= 1
        && (tail.is_empty() || (tail.len() == 1 && tail.chars().all(|c| c.is_ascii_uppercase())))
}

fn is_acronym(name: &str) -> bool {
    let letters = name.chars().filter(|c| c.is_alphabetic()).count();
    name.chars().count() <= 6 && letters >= 2 && !name.chars().any(char::is_lowercase) && !name.contains(' ')
}

impl Dictionary {
    /// Builds the dictionary of the concepts `types` gives a label.
    pub fn build(kb: &Kb, types: &TypeMap, config: DictionaryConfig) -> Result<Dictionary> {
        config.check()?;
        let types = if config.drop_co_types {
            std::borrow::Cow::Owned(types.without_co_types())
        } else {
            std::borrow::Cow::Borrowed(types)
        };
        let mut stop: HashSet<&str> =
            if config.stop_words { STOP_WORDS.iter().copied().collect() } else { HashSet::new() };
        if config.generic_names {
            stop.extend(GENERIC_NAMES);
        }
        let mut entries: HashMap<String, Vec<Target>> = HashMap::new();
        let mut exact: HashMap<String, Vec<Target>> = HashMap::new();
        let mut endings = EndingCounts::default();
        let mut names = NameCounts::default();
        let mut heads = HeadCounts::default();
        let mut subtypes = SubtypeCounts::default();
        let head_key = |w: &str| keyed(&config, normalize(w));
        for c in 0..kb.len() as u32 {
            let ctypes = kb.types(c);
            // A concept without a label of its own takes that of a concept it cross-references
            // (a Disease Ontology term with a MeSH xref).
            let label = types.label_of(ctypes.iter().copied()).or_else(|| {
                kb.xrefs(c)
                    .into_iter()
                    .flat_map(|x| kb.lookup_all(x))
                    .filter(|&o| o != c)
                    .find_map(|o| types.label_of(kb.types(o)))
            });
            let Some(label) = label else {
                if config.suffixes || config.modifiers || config.symbol_heads || config.subtypes {
                    for n in kb.names(c) {
                        if config.symbol_heads {
                            heads.add(n.text, None, head_key);
                        }
                        if config.subtypes {
                            subtypes.add(&keyed(&config, normalize(n.text)), None);
                        }
                        for v in variants(n.text, &config) {
                            let key = keyed(&config, normalize(&v));
                            if config.suffixes {
                                endings.add(&key, None);
                            }
                            if config.modifiers {
                                names.add(&key, None);
                            }
                        }
                    }
                }
                continue;
            };
            let target = Target {
                label,
                concept: kb.id(c).to_string(),
                types: ctypes.iter().map(|t| t.to_string()).collect(),
                children: kb.child_count(c),
            };
            let mut seen = HashSet::new();
            for n in kb.names(c) {
                if config.symbol_heads {
                    heads.add(n.text, Some(&target), head_key);
                }
                if config.subtypes {
                    subtypes.add(&keyed(&config, normalize(n.text)), Some(&target.label));
                }
                if config.drop_gene_symbols && is_gene_symbol(n.text) {
                    continue;
                }
                if config.acronyms_case_exact && is_acronym(n.text) {
                    let k = exact_key(&[n.text]);
                    if k.chars().count() >= config.min_chars.min(2) && seen.insert(format!("={k}")) {
                        exact.entry(k).or_default().push(target.clone());
                    }
                    continue;
                }
                for v in variants(n.text, &config) {
                    let key = keyed(&config, normalize(&v));
                    if config.suffixes {
                        endings.add(&key, Some(&target));
                    }
                    if config.modifiers {
                        names.add(&key, Some(&target.label));
                    }
                    let words = key.split(' ').count();
                    if key.chars().count() < config.min_chars
                        || words > config.max_tokens
                        || stop.contains(key.as_str())
                        || key.chars().all(|ch| ch.is_ascii_digit() || ch == ' ')
                    {
                        continue;
                    }
                    if seen.insert(key.clone()) {
                        entries.entry(key).or_default().push(target.clone());
                    }
                }
            }
        }
        if config.shot_names {
            for (name, votes) in &types.names {
                let Some(label) = most_voted(votes) else { continue };
                if !name.chars().any(char::is_lowercase) {
                    continue;
                }
                let target = Target { label: label.clone(), concept: "shot".into(), types: Vec::new(), children: 0 };
                for v in variants(name, &config) {
                    let key = keyed(&config, normalize(&v));
                    if key.chars().count() < config.min_chars || stop.contains(key.as_str()) {
                        continue;
                    }
                    entries.entry(key).or_insert_with(|| vec![target.clone()]);
                }
            }
        }
        let suffixes = if config.suffixes { endings.learn() } else { Suffixes::default() };
        let modifiers = if config.modifiers { names.learn(STOP_WORDS) } else { Modifiers::default() };
        let mut heads = if config.symbol_heads { heads.learn() } else { Heads::default() };
        heads.retain(|h| !entries.contains_key(h));
        let subtypes = if config.subtypes {
            subtypes
                .learn(|rest| entries.get(rest).map_or(Vec::new(), |ts| ts.iter().map(|t| t.label.as_str()).collect()))
        } else {
            Subtypes::default()
        };
        let kin_modifiers = if config.modifiers && types.context.labels().count() >= 2 {
            names.learn_kin(STOP_WORDS, types.kin())
        } else {
            Modifiers::default()
        };
        tracing::debug!(
            names = entries.len(),
            acronyms = exact.len(),
            endings = suffixes.len(),
            modifiers = modifiers.len(),
            heads = heads.len(),
            subtypes = ?subtypes.words().collect::<Vec<_>>(),
            "dictionary built"
        );
        Ok(Dictionary {
            config,
            entries,
            exact,
            suffixes,
            modifiers,
            heads,
            subtypes,
            kin_modifiers,
            types: types.into_owned(),
        })
    }

    /// A dictionary of `(name, label, types)` entries in their variants, for tests.
    #[cfg(test)]
    pub(crate) fn from_names(names: &[(&str, &str, &[&str])], types: TypeMap, config: DictionaryConfig) -> Dictionary {
        let mut entries: HashMap<String, Vec<Target>> = HashMap::new();
        let mut endings = EndingCounts::default();
        let mut counts = NameCounts::default();
        for (i, (name, label, ctypes)) in names.iter().enumerate() {
            let target = Target {
                label: label.to_string(),
                concept: format!("T{i}"),
                types: ctypes.iter().map(|t| t.to_string()).collect(),
                children: 0,
            };
            for v in variants(name, &config) {
                let key = keyed(&config, normalize(&v));
                endings.add(&key, Some(&target));
                counts.add(&key, Some(label));
                entries.entry(key).or_default().push(target.clone());
            }
        }
        let suffixes = if config.suffixes { endings.learn() } else { Suffixes::default() };
        let modifiers = if config.modifiers { counts.learn(STOP_WORDS) } else { Modifiers::default() };
        let kin_modifiers = Modifiers::default();
        let (heads, subtypes) = (Heads::default(), Subtypes::default());
        Dictionary {
            config,
            entries,
            exact: HashMap::new(),
            suffixes,
            modifiers,
            heads,
            subtypes,
            kin_modifiers,
            types,
        }
    }

    /// Names in the dictionary (acronyms included).
    pub fn len(&self) -> usize {
        self.entries.len() + self.exact.len()
    }

    /// Whether it has no name.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a normalized name is in the dictionary with a concept whose types are kept
    /// (names dropped for being too often wrong on dev still count: they are names).
    pub(crate) fn has_name(&self, key: &str) -> bool {
        let key = if self.config.spelling { american(key) } else { key.into() };
        self.entries.get(key.as_ref()).and_then(|t| self.pick(t)).is_some()
    }

    /// Whether tokens are a name of a kept concept, exactly.
    fn is_name(&self, tokens: &[String]) -> bool {
        self.has_name(&normalize(&tokens.join(" ")))
    }

    /// The labels a match could take, with their votes: those of its concept's types, or, for
    /// an abbreviation taken from its document (no concept), those confusable with its label.
    pub(crate) fn label_votes(&self, m: &Match) -> BTreeMap<String, usize> {
        match &m.target {
            Some(t) => self.types.votes(t.types.iter().map(String::as_str)),
            None => self.types.confusable(&m.span.label),
        }
    }

    /// The first target of a key that the dropped types leave.
    fn pick<'a>(&self, targets: &'a [Target]) -> Option<&'a Target> {
        let dropped = &self.config.dropped_types;
        targets
            .iter()
            .find(|t| dropped.is_empty() || t.types.is_empty() || !t.types.iter().all(|x| dropped.contains(x)))
    }

    /// The longest matches of one sentence, left to right (dropped types not applied when
    /// `all` is set: for measuring each type's precision).
    pub fn matches(&self, sentence: &Sentence, all: bool) -> Vec<Match> {
        let toks = &sentence.tokens;
        let n = toks.len();
        let mut out = Vec::new();
        let mut i = 0;
        while i < n {
            let mut found = None;
            if is_word(&toks[i]) {
                for len in (1..=self.config.max_tokens.min(n - i)).rev() {
                    let span = &toks[i..i + len];
                    if !is_word(&span[len - 1]) {
                        continue;
                    }
                    let key = keyed(&self.config, normalize(&span.join(" ")));
                    if !all && self.config.dropped_names.contains(&key) {
                        continue;
                    }
                    let hit = self.entries.get(&key).or_else(|| self.exact.get(&exact_key(span)));
                    let target = hit.and_then(|t| if all { t.first() } else { self.pick(t) });
                    if let Some(t) = target {
                        found = Some((len, t.clone()));
                        break;
                    }
                }
            }
            if found.is_none() && self.config.suffixes && is_word(&toks[i]) {
                let key = keyed(&self.config, normalize(&toks[i]));
                if all || !self.config.dropped_names.contains(&key) {
                    let rule = self.suffixes.get(&key).filter(|t| all || self.pick(std::slice::from_ref(*t)).is_some());
                    found = rule.map(|t| (1, t.clone()));
                }
            }
            match found {
                Some((len, t)) => {
                    let key = keyed(&self.config, normalize(&toks[i..i + len].join(" ")));
                    out.push(Match { span: Span::new(i, i + len, t.label.clone()), key, target: Some(t) });
                    i += len;
                }
                None => i += 1,
            }
        }
        out
    }

    /// Matches of sentences grouped into documents (consecutive sentences with one `doc_id`;
    /// a sentence without one is its own document), with the documents' abbreviations, grown
    /// over coordinations when `coordination` is set and over modifiers when `modifiers` is,
    /// each labelled by its context when `context_typing` is.
    pub fn match_all(&self, sentences: &[Sentence], all: bool) -> Vec<Vec<Match>> {
        let mut out: Vec<Vec<Match>> = sentences.iter().map(|s| self.matches(s, all)).collect();
        if self.config.suffixes {
            // A word labelled by its ending that the text also writes as a verb ("determine",
            // "determined") is English.
            let forms = Inflections::of(sentences.iter().map(|s| s.tokens.as_slice()));
            for ms in &mut out {
                ms.retain(|m| {
                    !m.target.as_ref().is_some_and(|t| t.concept.starts_with(SUFFIX_CONCEPT)) || !forms.is_verb(&m.key)
                });
            }
        }
        // Before the abbreviations: "serotonin (5-HT)" defines the grown "5-HT".
        if self.config.prefixes {
            for (s, ms) in sentences.iter().zip(&mut out) {
                crate::prefixes::grow(&s.tokens, ms, |t| keyed(&self.config, normalize(t)));
            }
        }
        if self.config.abbreviations {
            self.abbreviations_by_document(sentences, &mut out);
        }
        // After the abbreviations: "HPT-JT syndrome" takes in a defined "HPT-JT".
        if self.config.symbol_heads {
            let key = |t: &str| keyed(&self.config, normalize(t));
            let keep = |t: &Target| all || self.pick(std::slice::from_ref(t)).is_some();
            for (s, ms) in sentences.iter().zip(&mut out) {
                let found: Vec<Match> = self
                    .heads
                    .find(&s.tokens, key, keep)
                    .into_iter()
                    .filter(|m| all || !self.config.dropped_names.contains(&m.key))
                    .collect();
                crate::heads::merge(ms, found);
            }
        }
        if self.config.coordination {
            for (s, ms) in sentences.iter().zip(&mut out) {
                *ms = crate::coordination::grow(self, s, std::mem::take(ms));
            }
        }
        if self.config.modifiers {
            // With context typing a match's label is not yet its last: it grows over the
            // modifiers of its kin ("pancreatic tumors" where "tumors" is a DiseaseClass and
            // "pancreatic neoplasms" a SpecificDisease).
            // With fewer than two labels to choose between, context typing changes nothing and
            // no kin was learned: the label's own modifiers.
            let typed = self.config.context_typing && self.types.context.labels().count() >= 2;
            let modifiers = if typed { &self.kin_modifiers } else { &self.modifiers };
            for (s, ms) in sentences.iter().zip(&mut out) {
                modifiers.grow(&s.tokens, ms, |t| keyed(&self.config, normalize(t)));
            }
        }
        // After the modifiers: "type IID" before "von Willebrand disease" or a grown match.
        if self.config.subtypes {
            for (s, ms) in sentences.iter().zip(&mut out) {
                self.subtypes.grow(&s.tokens, ms, |t| keyed(&self.config, normalize(t)));
            }
        }
        if self.config.context_typing {
            for (s, ms) in sentences.iter().zip(&mut out) {
                for m in ms {
                    let votes = self.label_votes(m);
                    let children = m.target.as_ref().map(|t| t.children);
                    let (start, end) = (m.span.start, m.span.end);
                    if let Some(label) = self.types.context.label(&s.tokens, start, end, children, &votes) {
                        m.span.label = label;
                    }
                }
            }
        }
        out
    }

    fn abbreviations_by_document(&self, sentences: &[Sentence], out: &mut [Vec<Match>]) {
        let mut docs = Vec::new();
        let mut start = 0;
        while start < sentences.len() {
            let doc = &sentences[start].doc_id;
            let mut end = start + 1;
            while doc.is_some() && end < sentences.len() && &sentences[end].doc_id == doc {
                end += 1;
            }
            docs.push(start..end);
            start = end;
        }
        let mut all: HashMap<Vec<String>, BTreeSet<String>> = HashMap::new();
        let local = self.config.local_definitions;
        for d in &docs {
            let found = definitions(&sentences[d.clone()], &out[d.clone()], local, |t| self.is_name(t));
            apply(&sentences[d.clone()], &mut out[d.clone()], &found, local);
            if self.config.corpus_abbreviations {
                for def in found {
                    if let Some(label) = def.label {
                        all.entry(def.abbr).or_default().insert(label);
                    }
                }
            }
        }
        if self.config.corpus_abbreviations {
            // Defined with one label wherever defined: that label in every document.
            let mut found: Vec<Definition> = all
                .into_iter()
                .filter(|(_, labels)| labels.len() == 1)
                .map(|(abbr, labels)| Definition { abbr, label: labels.into_iter().next() })
                .collect();
            found.sort_by(|a, b| a.abbr.cmp(&b.abbr));
            for d in &docs {
                // Other documents did not define it: their own definitions already ruled.
                apply(&sentences[d.clone()], &mut out[d.clone()], &found, false);
            }
        }
    }

    /// The sentences tagged with the dictionary's matches (IOB2).
    pub fn tag(&self, sentences: &[Sentence]) -> Vec<Sentence> {
        self.match_all(sentences, false)
            .into_iter()
            .zip(sentences)
            .map(|(m, s)| {
                let spans: Vec<Span> = m.into_iter().map(|m| m.span).collect();
                let tags = scheme::encode(&spans, s.len(), Scheme::Iob2).expect("matches are disjoint and sorted");
                Sentence {
                    tokens: s.tokens.clone(),
                    tags,
                    doc_id: s.doc_id.clone(),
                    concepts: Vec::new(),
                    unknown: Vec::new(),
                    soft: None,
                }
            })
            .collect()
    }
}

impl Names for Dictionary {
    fn has_name(&self, key: &str) -> bool {
        Dictionary::has_name(self, key)
    }
    fn label_votes(&self, m: &Match) -> BTreeMap<String, usize> {
        Dictionary::label_votes(self, m)
    }
    fn coordinated_labels(&self) -> Option<&BTreeMap<String, usize>> {
        self.types.context.features.get("shape:coordinated")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_options_match_what_the_names_alone_miss() {
        let drugs: Vec<(&str, &str, &[&str])> = ["clozapine", "loxapine", "asenapine", "quetiapine", "mirtazapine"]
            .into_iter()
            .map(|n| (n, "Chemical", &["D03"][..]))
            .chain([("Scopolamine Hydrobromide", "Chemical", &["D03"][..]), ("Anemia", "Disease", &["C15"][..])])
            .collect();
        let s = Sentence::new(
            "olanzapine and scopolamine caused anaemia".split(' ').map(String::from).collect(),
            vec!["O".into(); 5],
        )
        .unwrap();
        let found = |config: DictionaryConfig| -> Vec<(usize, String)> {
            let d = Dictionary::from_names(&drugs, TypeMap::default(), config);
            d.matches(&s, false).into_iter().map(|m| (m.span.start, m.span.label)).collect()
        };
        assert_eq!(found(DictionaryConfig::default()), []);
        let on = DictionaryConfig { salts: true, spelling: true, suffixes: true, ..DictionaryConfig::default() };
        assert_eq!(
            found(on.clone()),
            [(0, "Chemical".to_string()), (2, "Chemical".to_string()), (4, "Disease".to_string())]
        );
        // A learned ending carries its names' types: dropping them drops its matches.
        let dropped = DictionaryConfig { dropped_types: ["D03".to_string()].into(), ..on };
        assert_eq!(found(dropped), [(4, "Disease".to_string())]);
    }

    #[test]
    fn modifiers_grow_matches_as_the_graph_names_do() {
        let names: Vec<(&str, &str, &[&str])> = [
            "breast cancer",
            "colon cancer",
            "ovarian cancer",
            "deafness",
            "hereditary breast cancer",
            "hereditary colon cancer",
            "hereditary deafness",
            "severe deafness",
            "severe breast cancer",
            "severe colon cancer",
        ]
        .into_iter()
        .map(|n| (n, "Disease", &["C04"][..]))
        .collect();
        let s = Sentence::new(
            "Hereditary ovarian cancer and severe ovarian cancer".split(' ').map(String::from).collect(),
            vec!["O".into(); 7],
        )
        .unwrap();
        let tags = |config: DictionaryConfig| {
            Dictionary::from_names(&names, TypeMap::default(), config).tag(std::slice::from_ref(&s))
        };
        let off = tags(DictionaryConfig::default());
        assert_eq!(off[0].tags, ["O", "B-Disease", "I-Disease", "O", "O", "B-Disease", "I-Disease"]);
        let on = tags(DictionaryConfig { modifiers: true, ..DictionaryConfig::default() });
        // "severe" is a qualifier: never grown over, however many names it begins.
        assert_eq!(on[0].tags, ["B-Disease", "I-Disease", "I-Disease", "O", "O", "B-Disease", "I-Disease"]);
        // Context typing with one label has no kin to learn: the label's own modifiers stay.
        let typed = tags(DictionaryConfig { modifiers: true, context_typing: true, ..DictionaryConfig::default() });
        assert_eq!(typed[0].tags, on[0].tags);
    }

    #[test]
    fn corpus_abbreviations_cross_documents_when_their_label_is_one() {
        let sentence = |text: &str, doc: &str| {
            let tokens: Vec<String> = text.split(' ').map(String::from).collect();
            let mut s = Sentence::new(tokens.clone(), vec!["O".into(); tokens.len()]).unwrap();
            s.doc_id = Some(doc.into());
            s
        };
        let names: Vec<(&str, &str, &[&str])> = vec![
            ("fluorouracil", "Chemical", &["D03"][..]),
            ("heparin", "Chemical", &["D09"][..]),
            ("hypothermia", "Disease", &["C23"][..]),
        ];
        let text = [
            sentence("fluorouracil ( FU ) was given", "1"),
            sentence("FU and HIT were seen", "2"),
            sentence("heparin ( HIT ) here", "3"),
            sentence("hit ( HIT ) there", "4"),
            sentence("hypothermia ( HIT ) again", "5"),
        ];
        let labelled = |config: DictionaryConfig| -> Vec<Vec<String>> {
            let d = Dictionary::from_names(&names, TypeMap::default(), config);
            d.match_all(&text, false)
                .iter()
                .zip(&text)
                .map(|(ms, s)| ms.iter().map(|m| s.tokens[m.span.start..m.span.end].join(" ")).collect())
                .collect()
        };
        // Per document: "FU" in document 2 is not defined there.
        assert_eq!(labelled(DictionaryConfig::default())[1], Vec::<String>::new());
        let across = labelled(DictionaryConfig { corpus_abbreviations: true, ..DictionaryConfig::default() });
        // "FU" crosses; "HIT" is defined as a Chemical and as a Disease, so it stays in documents
        // 3 and 5, with their labels.
        assert_eq!(across[1], ["FU"]);
        assert_eq!(across[3], Vec::<String>::new());
        assert_eq!(across[4], ["hypothermia", "HIT"]);
    }

    #[test]
    fn gene_symbols() {
        for g in ["RB1", "WT1", "IDDM2", "AQP2", "CMT1A"] {
            assert!(is_gene_symbol(g), "{g}");
        }
        for n in ["E2", "T3", "5-FU", "AIDS", "RB", "CMT1AB", "Rb1", "MK-801"] {
            assert!(!is_gene_symbol(n), "{n}");
        }
    }

    #[test]
    fn acronyms() {
        assert!(is_acronym("AIDS") && is_acronym("5-FU") && !is_acronym("Aspirin") && !is_acronym("HYPERTENSIONS"));
    }
}

//! Modifier words learned from the knowledge graph's own multi-word names: where many names of
//! one label are another name of that label with one word before it ("hereditary" +
//! "breast neoplasms", "pancreatic" + "cysts"), that word is a modifier of the
//! label, and a match of the label grows left over it in text ("hereditary breast cancer",
//! "pancreatic tumors", "renal hamartomas") as the corpora annotate such mentions, though the
//! vocabulary has no name for the whole.
//!
//! Learned without labels, as [`crate::suffixes`] is: a name counts for its first word when the
//! rest of it is a name of its label, and against it when the rest is a name of another label
//! or of a concept the shots give no label ("pancreatic" + "juice"), or when the name itself
//! has no label. Only words of letters are judged; a word that is itself a name of the label is
//! never a modifier (it is a mention of its own: "cancer" in "cancer syndromes"), nor is a stop
//! word of the dictionary or a word of severity, course or time ([`QUALIFIERS`]), which the
//! corpora leave out of their mentions.
//!
//! With context typing a match's label is chosen after it has grown, among the labels its
//! concept shares types with; the names are then counted per kin of labels
//! ([`crate::TypeMap::kin`]) rather than per label: NCBI-Disease's four labels split the disease
//! names between them, so that "pancreatic" begins three names of no one label, though many of
//! the kin ("pancreatic tumors" where "tumors" is a `DiseaseClass` and "pancreatic neoplasms" a
//! `SpecificDisease`).
//!
//! The limits ([`MIN_NAMES`], [`MIN_PURITY`], [`QUALIFIERS`]) were set on the dictionary's
//! errors on the dev splits of NCBI-Disease and BC5CDR with the seed-1 shots (dev F1 68.7 ->
//! 75.0 and 72.9 -> 72.8; docs/results/README.md, "Modifiers"), never on a test split.

use crate::matches::{grow_left, Match};
use crate::words::is_word;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Fewest names that must count for a word.
pub const MIN_NAMES: usize = 3;
/// Least share of the names counted for or against a word that count for it.
pub const MIN_PURITY: f64 = 0.8;
/// Most modifiers a match grows over.
pub const MAX_GROWTH: usize = 3;
/// Shortest word judged, in letters.
const MIN_WORD: usize = 3;
/// Words of severity, course, time, laterality, certainty or order: they begin many names of
/// the vocabularies ("acute renal failure", "severe combined immunodeficiency") but the
/// corpora's guidelines leave them out of mentions ("severe [G6PD deficiency]", "acute
/// [interstitial nephritis]"), so they are never learned.
pub const QUALIFIERS: &[&str] = &[
    "acute",
    "adult",
    "atypical",
    "bilateral",
    "childhood",
    "chronic",
    "classic",
    "classical",
    "complete",
    "early",
    "fulminant",
    "global",
    "heterozygous",
    "homozygous",
    "idiopathic",
    "intermittent",
    "isolated",
    "juvenile",
    "late",
    "mild",
    "moderate",
    "partial",
    "persistent",
    "primary",
    "progressive",
    "recurrent",
    "second",
    "secondary",
    "severe",
    "simple",
    "spontaneous",
    "subacute",
    "third",
    "toxic",
    "transient",
    "typical",
    "unilateral",
];

/// Names counted while the dictionary is built.
#[derive(Debug, Default)]
pub(crate) struct NameCounts {
    /// Normalized name -> the labels of its concepts (empty: only concepts with no label).
    names: HashMap<String, BTreeSet<String>>,
}

/// Whether a normalized word may be a modifier: letters only, long enough.
fn judged(word: &str) -> bool {
    word.len() >= MIN_WORD && word.bytes().all(|b| b.is_ascii_lowercase())
}

impl NameCounts {
    /// Counts one normalized name, `label` its concept's (`None`: a concept with no label).
    pub(crate) fn add(&mut self, key: &str, label: Option<&str>) {
        let labels = self.names.entry(key.to_string()).or_default();
        if let Some(l) = label {
            labels.insert(l.to_string());
        }
    }

    /// [`NameCounts::learn`] with every label counted as its kin (`kin`: label -> kin, as
    /// [`crate::TypeMap::kin`]): a match of any label of a kin grows over the kin's modifiers.
    pub(crate) fn learn_kin(&self, stop: &[&str], kin: BTreeMap<String, String>) -> Modifiers {
        let as_kin = |labels: &BTreeSet<String>| labels.iter().map(|l| kin.get(l).unwrap_or(l).clone()).collect();
        let counts = NameCounts { names: self.names.iter().map(|(k, ls)| (k.clone(), as_kin(ls))).collect() };
        counts.learn(stop).with_kin(kin)
    }

    /// The words before at least [`MIN_NAMES`] names of one label that are names of that label
    /// without them, [`MIN_PURITY`] of the names they start counting for them; `stop` words
    /// are never learned.
    pub(crate) fn learn(&self, stop: &[&str]) -> Modifiers {
        // word -> (names against, per label: names for).
        let mut votes: HashMap<&str, (usize, BTreeMap<&str, usize>)> = HashMap::new();
        for (key, labels) in &self.names {
            let Some((word, rest)) = key.split_once(' ') else { continue };
            if !judged(word) || stop.contains(&word) || QUALIFIERS.contains(&word) {
                continue;
            }
            let Some(rest_labels) = self.names.get(rest) else { continue };
            let v = votes.entry(word).or_default();
            let shared: Vec<&str> = labels.intersection(rest_labels).map(String::as_str).collect();
            if shared.is_empty() {
                v.0 += 1;
            }
            for l in shared {
                *v.1.entry(l).or_default() += 1;
            }
        }
        let mut rules: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (word, (against, labels)) in votes {
            for (label, n) in labels {
                let own = self.names.get(word).is_some_and(|ls| ls.contains(label));
                if n >= MIN_NAMES && n as f64 >= MIN_PURITY * (n + against) as f64 && !own {
                    rules.entry(word.to_string()).or_default().insert(label.to_string());
                }
            }
        }
        Modifiers { rules, kin: BTreeMap::new() }
    }
}

/// The learned modifier words, each with the labels it modifies.
#[derive(Debug, Clone, Default)]
pub struct Modifiers {
    rules: HashMap<String, BTreeSet<String>>,
    /// Label -> the label it was learned as (its kin; see [`Modifiers::with_kin`]).
    kin: BTreeMap<String, String>,
}

impl Modifiers {
    /// How many words were learned.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether none was learned.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The modifiers, learned per kin, with the map from label to kin that they look up.
    fn with_kin(mut self, kin: BTreeMap<String, String>) -> Modifiers {
        self.kin = kin;
        self
    }

    /// Whether a normalized word modifies mentions of `label`.
    pub fn modifies(&self, word: &str, label: &str) -> bool {
        let label = self.kin.get(label).map_or(label, String::as_str);
        self.rules.get(word).is_some_and(|ls| ls.contains(label))
    }

    /// Grows each match (sorted, disjoint) left over up to [`MAX_GROWTH`] modifiers of its
    /// label that no other match holds, each joined to what follows by a space or a hyphen
    /// ("non-papillary renal cell carcinoma", where the graph has "Non Small Cell Lung
    /// Carcinoma" and "Small Cell Lung Carcinoma"); `key` normalizes a token as the dictionary
    /// does. The match's key becomes that of its grown text.
    pub fn grow(&self, tokens: &[String], matches: &mut [Match], key: impl Fn(&str) -> String) {
        grow_left(tokens, matches, &key, |m, free_from| {
            let mut start = m.span.start;
            let mut grown = 0;
            while grown < MAX_GROWTH {
                let hyphen = usize::from(start > free_from && tokens[start - 1] == "-");
                let at = start - hyphen;
                if at <= free_from || !is_word(&tokens[at - 1]) || !self.modifies(&key(&tokens[at - 1]), &m.span.label)
                {
                    break;
                }
                start = at - 1;
                grown += 1;
            }
            start
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hilgen_corpus::Span;

    fn learned() -> Modifiers {
        let mut c = NameCounts::default();
        for n in ["breast neoplasms", "colorectal neoplasms", "ovarian neoplasms", "deafness", "neoplasms"] {
            c.add(n, Some("Disease"));
        }
        for n in ["hereditary breast neoplasms", "hereditary colorectal neoplasms", "hereditary deafness"] {
            c.add(n, Some("Disease"));
        }
        // "pancreatic": three diseases for, one name of a concept without a label against (3 of
        // 4 < 0.8); "renal": four for, one against (4 of 5).
        for n in ["pancreatic neoplasms", "pancreatic deafness", "pancreatic cancer", "juice"] {
            c.add(n, if n == "juice" { None } else { Some("Disease") });
        }
        c.add("pancreatic juice", None);
        for n in ["renal neoplasms", "renal deafness", "renal cancer", "renal breast neoplasms"] {
            c.add(n, Some("Disease"));
        }
        c.add("renal juice", None);
        // "acute": a qualifier, never learned.
        for n in ["acute neoplasms", "acute deafness", "acute cancer"] {
            c.add(n, Some("Disease"));
        }
        // "cancer": a name of the label itself.
        for n in ["cancer", "cancer deafness", "cancer neoplasms", "cancer breast neoplasms"] {
            c.add(n, Some("Disease"));
        }
        // "the": a stop word.
        for n in ["the neoplasms", "the deafness", "the breast neoplasms"] {
            c.add(n, Some("Disease"));
        }
        c.learn(&["the"])
    }

    #[test]
    fn modifiers_of_one_label_are_learned() {
        let m = learned();
        assert!(m.modifies("hereditary", "Disease"));
        assert!(!m.modifies("hereditary", "Chemical"));
        assert!(!m.modifies("pancreatic", "Disease"), "three of four names for it: below 0.8");
        assert!(m.modifies("renal", "Disease"), "four of five names for it");
        assert!(!m.modifies("acute", "Disease"), "qualifiers are never learned");
        assert!(!m.modifies("cancer", "Disease"), "a name of the label is a mention of its own");
        assert!(!m.modifies("the", "Disease"), "stop words are never learned");
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn modifiers_of_a_kin_are_learned_across_its_labels() {
        // "pancreatic neoplasms" a SpecificDisease, "neoplasms" a DiseaseClass: no label of its
        // own has three names for "pancreatic", the kin has.
        let mut c = NameCounts::default();
        for (n, l) in [
            ("neoplasms", "DiseaseClass"),
            ("cysts", "SpecificDisease"),
            ("fistula", "Modifier"),
            ("pancreatic neoplasms", "SpecificDisease"),
            ("pancreatic cysts", "SpecificDisease"),
            ("pancreatic fistula", "SpecificDisease"),
        ] {
            c.add(n, Some(l));
        }
        assert!(!c.learn(&[]).modifies("pancreatic", "DiseaseClass"));
        assert!(!c.learn(&[]).modifies("pancreatic", "SpecificDisease"), "one name of its own label");
        let kin: BTreeMap<String, String> = ["DiseaseClass", "Modifier", "SpecificDisease"]
            .iter()
            .map(|l| (l.to_string(), "DiseaseClass".to_string()))
            .collect();
        let m = c.learn_kin(&[], kin);
        assert!(m.modifies("pancreatic", "DiseaseClass"));
        assert!(m.modifies("pancreatic", "Modifier"));
        assert!(!m.modifies("pancreatic", "Chemical"), "a label outside the kin");
    }

    #[test]
    fn matches_grow_over_modifiers_not_into_other_matches() {
        let m = learned();
        let tokens: Vec<String> =
            "Hereditary hereditary deafness and hereditary cancer".split(' ').map(String::from).collect();
        let mk =
            |s, e, label: &str| Match { span: Span::new(s, e, label.to_string()), key: String::new(), target: None };
        let mut ms = vec![mk(2, 3, "Disease"), mk(5, 6, "Chemical")];
        m.grow(&tokens, &mut ms, |t| t.to_lowercase());
        assert_eq!((ms[0].span.start, ms[0].key.as_str()), (0, "hereditary hereditary deafness"));
        assert_eq!(ms[1].span.start, 5, "a modifier of another label is not grown over");
        let mut ms = vec![mk(0, 1, "Disease"), mk(1, 3, "Disease")];
        m.grow(&tokens, &mut ms, |t| t.to_lowercase());
        assert_eq!(ms[1].span.start, 1, "never into the match before");
        // A modifier joined by a hyphen; a hyphen alone is not grown over.
        let tokens: Vec<String> = "hereditary - deafness , - deafness".split(' ').map(String::from).collect();
        let mut ms = vec![mk(2, 3, "Disease"), mk(5, 6, "Disease")];
        m.grow(&tokens, &mut ms, |t| t.to_lowercase());
        assert_eq!((ms[0].span.start, ms[0].key.as_str()), (0, "hereditary - deafness"));
        assert_eq!(ms[1].span.start, 5);
    }
}

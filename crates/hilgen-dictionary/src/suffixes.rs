//! Word endings learned from the knowledge graph's own one-word names: where nearly every name
//! ending in `-apine`, `-caine` or `-pathy` belongs to one entity type, a word of the text that
//! no vocabulary names but ends the same way takes that type ("olanzapine", "ropivacaine",
//! "keratopathy": drugs and diseases newer or rarer than the vocabulary).
//!
//! Learned without labels: the names of every concept vote (with their plurals), those of
//! concepts the shots give no label (anatomy, organisms, procedures) against every ending they
//! share. Only whole words of letters are judged, so codes, abbreviations and numbers never
//! match, and no plural ending labels a word ("-tions" ends names of every kind). A word the
//! text also writes as a verb ("determined", "examining", "released") is English, not a drug
//! named by its "-mine" or "-ase" ending ([`Inflections`]).

use crate::matches::{Target, Votes};
use std::collections::{HashMap, HashSet};

/// Shortest and longest ending tried, in letters.
const ENDINGS: std::ops::RangeInclusive<usize> = 5..=7;
/// Fewest letters a word needs before its ending (so that "caine" itself is not judged).
const STEM: usize = 2;
/// Shortest word judged, in letters.
pub const MIN_WORD: usize = 7;
/// Fewest names that must share an ending.
pub const MIN_NAMES: usize = 5;
/// Least share of those names with one label.
pub const MIN_PURITY: f64 = 0.95;

/// How the concept of a word labelled by its ending begins (`suffix:-apine`).
pub const SUFFIX_CONCEPT: &str = "suffix:-";

/// Endings counted while the dictionary is built.
#[derive(Debug, Default)]
pub(crate) struct EndingCounts {
    /// ending -> the names with it.
    endings: HashMap<String, Votes>,
    /// Every one-word name of the graph (labelled or not).
    names: HashSet<String>,
}

/// Whether a normalized word is judged: letters only, long enough.
fn judged(word: &str) -> bool {
    word.len() >= MIN_WORD && word.bytes().all(|b| b.is_ascii_lowercase())
}

/// Whether an ending may carry a label: not a plural's ("-tions", "-ities", "-yses" end words
/// of every kind), though "-itis", "-osis" and "-us" are singular.
fn labelling(ending: &str) -> bool {
    !ending.ends_with('s') || ending.ends_with("is") || ending.ends_with("us")
}

impl EndingCounts {
    /// Counts one normalized name of a concept, `target` its label and types (`None`: a concept
    /// the shots give no label).
    pub(crate) fn add(&mut self, key: &str, target: Option<&Target>) {
        if key.contains(' ') {
            return;
        }
        if !self.names.insert(key.to_string()) || !judged(key) {
            return;
        }
        for len in ENDINGS {
            if key.len() < len + STEM {
                break;
            }
            self.endings.entry(key[key.len() - len..].to_string()).or_default().add(target);
        }
    }

    /// The endings where one label has at least [`MIN_NAMES`] names and [`MIN_PURITY`] of all.
    pub(crate) fn learn(self) -> Suffixes {
        let mut rules = HashMap::new();
        for (ending, votes) in self.endings {
            if !labelling(&ending) {
                continue;
            }
            let Some((label, types)) = votes.winner(MIN_NAMES, MIN_PURITY) else { continue };
            let target = Target { label, concept: format!("{SUFFIX_CONCEPT}{ending}"), types, children: 0 };
            rules.insert(ending, target);
        }
        Suffixes { rules, names: self.names }
    }
}

/// The learned endings.
#[derive(Debug, Clone, Default)]
pub struct Suffixes {
    rules: HashMap<String, Target>,
    /// One-word names of the graph: a word that is a name is never judged by its ending.
    names: HashSet<String>,
}

impl Suffixes {
    /// How many endings were learned.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether none was learned.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The target of a normalized word by its longest learned ending, if it is judged and no
    /// vocabulary names it.
    pub fn get(&self, word: &str) -> Option<&Target> {
        if !judged(word) || self.names.contains(word) {
            return None;
        }
        ENDINGS.rev().filter(|&len| word.len() >= len + STEM).find_map(|len| self.rules.get(&word[word.len() - len..]))
    }
}

/// The words of a text, lower case, to tell English verbs from names by their endings: a word
/// the text also writes with a verb's ending (`-ed`, `-ing`; "determine" where "determined"
/// occurs) is no drug or disease a learned ending names. Drug and disease names take neither
/// ending. Built once per text tagged (all its sentences).
#[derive(Debug, Default)]
pub struct Inflections {
    words: HashSet<String>,
}

impl Inflections {
    /// The lower-case words of `tokens`' sentences.
    pub fn of<'a>(sentences: impl IntoIterator<Item = &'a [String]>) -> Inflections {
        let words = sentences
            .into_iter()
            .flatten()
            .filter(|t| t.len() >= MIN_WORD && t.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(|t| t.to_ascii_lowercase())
            .collect();
        Inflections { words }
    }

    /// Whether the text writes `word` (lower case) as a verb: with `-d`/`-ed` or `-ing`
    /// ("determine": "determined", "determining"; "release": "released").
    pub fn is_verb(&self, word: &str) -> bool {
        let stem = word.strip_suffix('e').unwrap_or(word);
        ["ed", "ing"].iter().any(|end| self.words.contains(&format!("{stem}{end}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_the_text_inflects_as_verbs_are_verbs() {
        let text: Vec<Vec<String>> = [["we", "determined", "it"], ["releasing", "olanzapine", "doses"]]
            .iter()
            .map(|s| s.iter().map(|t| t.to_string()).collect())
            .collect();
        let forms = Inflections::of(text.iter().map(Vec::as_slice));
        assert!(forms.is_verb("determine") && forms.is_verb("release"));
        assert!(!forms.is_verb("olanzapine") && !forms.is_verb("examine"));
    }

    fn target(label: &str, ty: &str) -> Target {
        Target { label: label.into(), concept: "C".into(), types: vec![ty.into()], children: 0 }
    }

    #[test]
    fn endings_of_one_label_are_learned_and_mixed_ones_are_not() {
        let mut counts = EndingCounts::default();
        let drug = target("Chemical", "D03");
        for n in ["clozapine", "loxapine", "asenapine", "quetiapine", "mirtazapine", "carbamazepine"] {
            counts.add(n, Some(&drug));
        }
        // "-amine": three drugs and a word the graph knows without a label.
        for n in ["dopamine", "histamine", "tyramine"] {
            counts.add(n, Some(&drug));
        }
        counts.add("vitamine", None);
        counts.add("examine", None);
        // "-itis" labels (singular); "-tions" does not (a plural's ending).
        let disease = target("Disease", "C");
        for n in ["arthritis", "nephritis", "gastritis", "neuritis", "enteritis", "osteoarthritis"] {
            counts.add(n, Some(&disease));
        }
        for n in ["infections", "intoxications", "malformations", "complications", "obstructions"] {
            counts.add(n, Some(&disease));
        }
        let s = counts.learn();
        assert_eq!(s.get("pyeloureteritis").map(|t| t.label.as_str()), Some("Disease"));
        assert_eq!(s.get("mutations"), None);
        assert_eq!(s.get("olanzapine").map(|t| t.label.as_str()), Some("Chemical"));
        assert_eq!(s.get("olanzapine").unwrap().types, ["D03"]);
        assert_eq!(s.get("serotamine"), None, "five names needed and one in twenty may disagree");
        assert_eq!(s.get("clozapine"), None, "a name is the dictionary's, not the ending's");
        assert_eq!(s.get("zapine"), None, "too short");
        assert_eq!(s.get("Olanzapine"), None, "keys are normalized: lower case");
    }
}

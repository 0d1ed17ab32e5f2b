//! Which concepts count as which entity type, learned from the shots: every shot mention linked
//! to a concept votes for its label on each of the concept's types (MeSH tree categories such as
//! `D02`, CTD slim categories, UMLS semantic types), and on the coarse type of each (the MeSH
//! tree letter, `D`). A concept then gets the label its types vote for: the fine types when any
//! of them was seen in the shots, else the coarse ones; a coarse type counts only where at least
//! two of its fine types were seen with the same label on at least two shot concepts (two
//! chemical branches make `D` a chemical tree; one psychiatric branch, `F03`, does not make all
//! of `F` diseases, nor does one concept filed under two branches: "mental retardation" is in
//! `F01` and `F03`, and `F01` holds "family" and "role"). A fine
//! type of a tree no coarse type counts for, seen only on shot concepts that are also filed
//! under a tree that does count, is a co-type ([`TypeMap::co_types`]): "chromosomal
//! abnormalities" is in C23 (diseases) and G05 (genetic phenomena), and G05 is a co-type that
//! [`crate::DictionaryConfig::drop_co_types`] keeps from labelling "mutations" or "gene".
//! Nothing is written per dataset.

use crate::context::ContextCounts;
use hilgen_corpus::Sentence;
use hilgen_kb::Kb;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The coarse type of a fine one: the letter of a MeSH tree category (`C04` -> `C`).
pub fn coarse(t: &str) -> Option<&str> {
    let b = t.as_bytes();
    (b.len() == 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit()).then(|| &t[..1])
}

/// The most voted label (the first in order among equals), if any has votes.
pub(crate) fn most_voted(votes: &BTreeMap<String, usize>) -> Option<&String> {
    let top = votes.values().copied().max()?;
    votes.iter().find(|(_, n)| **n == top).map(|(l, _)| l)
}

/// Label votes per type, learned from labelled mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeMap {
    /// Votes of fine types (`D02`, `Nervous system disease`, `T047`).
    pub fine: BTreeMap<String, BTreeMap<String, usize>>,
    /// Votes of coarse types (`D`).
    pub coarse: BTreeMap<String, BTreeMap<String, usize>>,
    /// Mentions that voted.
    pub linked: usize,
    /// Mentions whose concept the graph does not know.
    pub unlinked: usize,
    /// Context features of every shot mention, per label (see [`crate::context`]).
    #[serde(default)]
    pub context: ContextCounts,
    /// Every shot mention's text (its tokens joined by spaces) with its labels' counts: names
    /// of their own (see [`crate::DictionaryConfig::shot_names`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, BTreeMap<String, usize>>,
    /// Fine types of a tree no coarse type counts for, seen only on shot concepts that also
    /// have a type of a tree that counts (G05 of "chromosomal abnormalities", C23 and G05):
    /// evidence of the concept's other tree, not of their own (see
    /// [`crate::DictionaryConfig::drop_co_types`]).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub co_types: BTreeSet<String>,
}

/// The concepts of a mention: its concept IDs the graph knows, else its text's exact or
/// normalized link.
pub fn concepts_of(kb: &Kb, sentence: &Sentence, start: usize, end: usize) -> Vec<u32> {
    let ids: Vec<u32> = sentence.concept_ids(start, end).iter().filter_map(|id| kb.lookup(id)).collect();
    if !ids.is_empty() {
        return ids;
    }
    let text = sentence.tokens[start..end].join(" ");
    kb.link(&text, 0, 3).into_iter().filter(|h| h.score >= 0.95).filter_map(|h| kb.lookup(&h.concept)).take(1).collect()
}

/// The coarse votes: a label's fine-type votes summed under each tree letter, where two or more
/// of its fine types under the letter were seen with the label on two or more shot concepts
/// (`concepts`: the shot concepts under each letter and label).
fn trees(
    fine: &BTreeMap<String, BTreeMap<String, usize>>,
    concepts: &BTreeMap<(String, String), BTreeSet<u32>>,
) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut branches: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for (t, votes) in fine {
        if let Some(k) = coarse(t) {
            for (label, n) in votes {
                let e = branches.entry((k.to_string(), label.clone())).or_default();
                e.0 += 1;
                e.1 += n;
            }
        }
    }
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for ((k, label), (types, votes)) in branches {
        let seen_on = concepts.get(&(k.clone(), label.clone())).map_or(0, BTreeSet::len);
        if types >= 2 && seen_on >= 2 {
            out.entry(k).or_default().insert(label, votes);
        }
    }
    out
}

/// The fine types of trees `trees` (the coarse votes) has no votes for whose every shot concept
/// also has a type of a tree it has votes for.
fn co_types(trees: &BTreeMap<String, BTreeMap<String, usize>>, shot_concepts: &[Vec<String>]) -> BTreeSet<String> {
    let counted = |t: &str| coarse(t).is_some_and(|k| trees.contains_key(k));
    let mut seen: BTreeMap<&str, bool> = BTreeMap::new();
    for types in shot_concepts {
        let beside_counted = types.iter().any(|t| counted(t));
        for t in types.iter().filter(|t| coarse(t).is_some() && !counted(t)) {
            let all = seen.entry(t.as_str()).or_insert(true);
            *all &= beside_counted;
        }
    }
    seen.into_iter().filter(|(_, all)| *all).map(|(t, _)| t.to_string()).collect()
}

impl TypeMap {
    /// Learns the votes from the mentions of `shots`.
    pub fn learn(kb: &Kb, shots: &[Sentence]) -> TypeMap {
        let mut map = TypeMap::default();
        // The types of each linked shot concept, for the co-types.
        let mut shot_concepts: Vec<Vec<String>> = Vec::new();
        // The shot concepts under each (tree letter, label), for the coarse votes.
        let mut branch_concepts: BTreeMap<(String, String), BTreeSet<u32>> = BTreeMap::new();
        for s in shots {
            let Ok(mentions) = s.mentions() else { continue };
            for m in mentions {
                let concepts = concepts_of(kb, s, m.span.start, m.span.end);
                let children = concepts.first().map(|&c| kb.child_count(c));
                map.context.add(&s.tokens, m.span.start, m.span.end, children, &m.span.label);
                let text = s.tokens[m.span.start..m.span.end].join(" ");
                *map.names.entry(text).or_default().entry(m.span.label.clone()).or_default() += 1;
                if concepts.is_empty() {
                    map.unlinked += 1;
                    continue;
                }
                map.linked += 1;
                for c in concepts {
                    let types: Vec<String> = kb.types(c).into_iter().map(str::to_string).collect();
                    for t in &types {
                        *map.fine.entry(t.clone()).or_default().entry(m.span.label.clone()).or_default() += 1;
                        if let Some(k) = coarse(t) {
                            branch_concepts.entry((k.to_string(), m.span.label.clone())).or_default().insert(c);
                        }
                    }
                    shot_concepts.push(types);
                }
            }
        }
        map.coarse = trees(&map.fine, &branch_concepts);
        map.co_types = co_types(&map.coarse, &shot_concepts);
        map
    }

    /// The map without its co-types' votes: a concept filed only under co-types gets no label
    /// (see [`crate::DictionaryConfig::drop_co_types`]).
    pub fn without_co_types(&self) -> TypeMap {
        let mut map = self.clone();
        map.fine.retain(|t, _| !self.co_types.contains(t));
        map
    }

    /// The label of a concept with `types`, if its types have votes: the most voted (the
    /// first in order among equals).
    pub fn label_of<'a>(&self, types: impl IntoIterator<Item = &'a str> + Clone) -> Option<String> {
        most_voted(&self.votes(types)).cloned()
    }

    /// The label votes of a concept with `types`: those of its fine types when any has votes,
    /// else those of its coarse types (empty when neither has).
    pub fn votes<'a>(&self, types: impl IntoIterator<Item = &'a str> + Clone) -> BTreeMap<String, usize> {
        let tally = |level: &BTreeMap<String, BTreeMap<String, usize>>, key: fn(&str) -> Option<&str>| {
            let mut votes: BTreeMap<String, usize> = BTreeMap::new();
            for t in types.clone() {
                if let Some(v) = key(t).and_then(|k| level.get(k)) {
                    for (label, n) in v {
                        *votes.entry(label.clone()).or_default() += n;
                    }
                }
            }
            votes
        };
        let fine = tally(&self.fine, |t| Some(t));
        if fine.is_empty() {
            tally(&self.coarse, coarse)
        } else {
            fine
        }
    }

    /// The labels that share a fine type with `label` (itself included): those context typing
    /// may choose between for a match without a concept (an abbreviation).
    pub fn confusable(&self, label: &str) -> BTreeMap<String, usize> {
        let mut out: BTreeMap<String, usize> = BTreeMap::new();
        for votes in self.fine.values().filter(|v| v.contains_key(label)) {
            for (l, n) in votes {
                *out.entry(l.clone()).or_default() += n;
            }
        }
        out
    }

    /// Each label's kin: the first (in order) of the labels it is joined to by shared fine
    /// types, directly or through others (NCBI-Disease's four labels are all one kin: their
    /// shots share disease branches). Context typing chooses among a match's kin after the
    /// match has grown, so modifiers are learned per kin when it is on.
    pub fn kin(&self) -> BTreeMap<String, String> {
        let mut kin: BTreeMap<String, String> = self.labels().into_iter().map(|l| (l.clone(), l)).collect();
        loop {
            let mut changed = false;
            for votes in self.fine.values() {
                let Some(least) = votes.keys().map(|l| kin[l].clone()).min() else { continue };
                for l in votes.keys() {
                    let old = kin[l].clone();
                    if old != least {
                        for v in kin.values_mut().filter(|v| **v == old) {
                            *v = least.clone();
                        }
                        changed = true;
                    }
                }
            }
            if !changed {
                return kin;
            }
        }
    }

    /// The entity labels seen.
    pub fn labels(&self) -> Vec<String> {
        let mut l: Vec<String> = self.fine.values().flat_map(|v| v.keys().cloned()).collect();
        l.sort();
        l.dedup();
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fine_votes_first_then_coarse() {
        let mut m = TypeMap::default();
        m.fine.insert("D02".into(), [("Chemical".to_string(), 2)].into());
        m.fine.insert("C10".into(), [("Disease".to_string(), 1)].into());
        m.coarse.insert("D".into(), [("Chemical".to_string(), 2)].into());
        m.coarse.insert("C".into(), [("Disease".to_string(), 1)].into());
        assert_eq!(m.label_of(["D02"]).as_deref(), Some("Chemical"));
        assert_eq!(m.label_of(["D27"]).as_deref(), Some("Chemical"), "an unseen branch of a seen tree");
        assert_eq!(m.label_of(["C23", "D02"]).as_deref(), Some("Chemical"), "fine evidence wins");
        assert_eq!(m.label_of(["A01"]), None);
        assert_eq!(m.label_of(["Unknown slim"]), None);
        assert_eq!(coarse("Nervous system disease"), None);
    }

    #[test]
    fn kin_joins_labels_that_share_fine_types() {
        let mut m = TypeMap::default();
        m.fine.insert("C04".into(), [("DiseaseClass".to_string(), 2), ("SpecificDisease".to_string(), 3)].into());
        m.fine.insert("C10".into(), [("Modifier".to_string(), 1), ("SpecificDisease".to_string(), 1)].into());
        m.fine.insert("D02".into(), [("Chemical".to_string(), 4)].into());
        let kin = m.kin();
        assert_eq!(kin["SpecificDisease"], "DiseaseClass");
        assert_eq!(kin["Modifier"], "DiseaseClass", "joined through SpecificDisease");
        assert_eq!(kin["DiseaseClass"], "DiseaseClass");
        assert_eq!(kin["Chemical"], "Chemical", "no shared type: its own kin");
    }

    #[test]
    fn a_tree_needs_two_branches_on_two_concepts() {
        let fine: BTreeMap<String, BTreeMap<String, usize>> = [
            ("D02".to_string(), [("Chemical".to_string(), 1)].into()),
            ("D03".to_string(), [("Chemical".to_string(), 1)].into()),
            ("F01".to_string(), [("Disease".to_string(), 1)].into()),
            ("F03".to_string(), [("Disease".to_string(), 1)].into()),
            ("C10".to_string(), [("Disease".to_string(), 1)].into()),
        ]
        .into();
        let key = |k: &str, l: &str| (k.to_string(), l.to_string());
        // Two chemicals in D02 and D03; one concept ("mental retardation") in both F01 and F03.
        let mut concepts: BTreeMap<(String, String), BTreeSet<u32>> = [
            (key("D", "Chemical"), [1, 2].into()),
            (key("F", "Disease"), [3].into()),
            (key("C", "Disease"), [3].into()),
        ]
        .into();
        let found = trees(&fine, &concepts);
        assert_eq!(found.keys().collect::<Vec<_>>(), ["D"], "F: one concept; C: one branch");
        assert_eq!(found["D"]["Chemical"], 2);
        // A second psychiatric concept makes F a tree.
        concepts.get_mut(&key("F", "Disease")).unwrap().insert(4);
        assert!(trees(&fine, &concepts).contains_key("F"));
    }

    #[test]
    fn co_types_are_types_of_uncounted_trees_seen_only_beside_counted_ones() {
        let trees: BTreeMap<String, BTreeMap<String, usize>> = [("C".to_string(), BTreeMap::new())].into();
        let shots = |c: &[&[&str]]| -> Vec<Vec<String>> {
            c.iter().map(|ts| ts.iter().map(|t| t.to_string()).collect()).collect()
        };
        // "chromosomal abnormalities" (C23, G05) and a psychiatric concept of F03 alone.
        let found = co_types(&trees, &shots(&[&["C23", "G05", "Genetic disease (inborn)"], &["F03"]]));
        assert_eq!(found, ["G05".to_string()].into(), "G05 only beside C; F03 has a concept of its own");
        // G05 seen once on its own too: no longer a co-type.
        let found = co_types(&trees, &shots(&[&["C23", "G05"], &["G05"]]));
        assert!(found.is_empty(), "{found:?}");
        // Types of counted trees and slim categories are never co-types.
        let found = co_types(&trees, &shots(&[&["C23", "C04", "Cancer"]]));
        assert!(found.is_empty(), "{found:?}");

        let mut m = TypeMap::default();
        m.fine.insert("C23".into(), [("Disease".to_string(), 1)].into());
        m.fine.insert("G05".into(), [("Disease".to_string(), 1)].into());
        m.co_types = ["G05".to_string()].into();
        assert_eq!(m.label_of(["G05"]).as_deref(), Some("Disease"), "kept unless dropped");
        let without = m.without_co_types();
        assert_eq!(without.label_of(["G05"]), None, "\"mutations\" (G05 alone) gets no label");
        assert_eq!(
            without.label_of(["C23", "G05"]).as_deref(),
            Some("Disease"),
            "the shot's own concept keeps its label"
        );
    }
}

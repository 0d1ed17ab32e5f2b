//! Head words learned from the knowledge graph's own names after symbols: where many names of
//! one label are a symbol (the abbreviation of a gene, enzyme or syndrome: "HMGCS2 Deficiency",
//! "XYY syndrome", "SADDAN Dysplasia") followed by one head word, that head makes a mention of
//! the label with any symbol before it in text ("C9 deficiency", "HPT-JT syndrome",
//! "HPRT-APRT-deficient"), though the vocabulary names neither the symbol nor the whole. The
//! corpora mark such mentions whole; the head alone is a generic name, left out with
//! [`crate::DictionaryConfig::generic_names`], and the symbol alone is a gene.
//!
//! Learned without labels, as [`crate::suffixes`] is: the two-word names whose first word is a
//! symbol vote for their head with their concept's label, or against it where the concept has
//! no label; names in capitals throughout ("KENNEDY DISEASE") are not read, since every word of
//! them looks like a symbol. A head of `-ency` also takes its adjective in `-ent`
//! ("PAH-deficient"). A head that is itself a name the dictionary matches ("protein", which
//! MeSH files with the chemicals) is dropped: its mentions are its own. The limits ([`MIN_NAMES`], [`MIN_PURITY`], [`MIN_HEAD`]) were set on the
//! dictionary's errors on the dev splits of NCBI-Disease and BC5CDR with the seed 1-5 shots
//! (docs/results/README.md, "Symbol heads"), never on a test split.

use crate::matches::{Match, Target, Votes};
use std::collections::HashMap;

/// Fewest names a head must end after a symbol.
pub const MIN_NAMES: usize = 10;
/// Least share of those names with one label.
pub const MIN_PURITY: f64 = 0.8;
/// Shortest head judged, in letters (roman numerals and "type" are no heads).
pub const MIN_HEAD: usize = 5;

/// Whether a token is a symbol: two to ten capitals and digits with at least one capital, not
/// a roman numeral ("C9", "HPRT", "G6PD", "JT"; not "II", "Type", "5").
pub fn is_symbol(token: &str) -> bool {
    (2..=10).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && token.bytes().any(|b| b.is_ascii_uppercase())
        && !token.bytes().all(|b| matches!(b, b'I' | b'V' | b'X'))
}

/// Heads counted while the dictionary is built.
#[derive(Debug, Default)]
pub(crate) struct HeadCounts {
    /// Head (keyed) -> the names of a symbol and it.
    heads: HashMap<String, Votes>,
}

impl HeadCounts {
    /// Counts one name of a concept as written (`target`: its label and types; `None`: a
    /// concept the shots give no label); `key` keys a word as the dictionary does.
    pub(crate) fn add(&mut self, name: &str, target: Option<&Target>, key: impl Fn(&str) -> String) {
        let mut words = name.split_whitespace();
        let (Some(symbol), Some(head), None) = (words.next(), words.next(), words.next()) else { return };
        if !is_symbol(symbol) || !name.bytes().any(|b| b.is_ascii_lowercase()) {
            return;
        }
        let head = key(head);
        if head.len() < MIN_HEAD || !head.bytes().all(|b| b.is_ascii_lowercase()) {
            return;
        }
        self.heads.entry(head).or_default().add(target);
    }

    /// The heads where one label has at least [`MIN_NAMES`] names and [`MIN_PURITY`] of all.
    pub(crate) fn learn(self) -> Heads {
        let mut rules = HashMap::new();
        for (head, votes) in self.heads {
            let Some((label, types)) = votes.winner(MIN_NAMES, MIN_PURITY) else { continue };
            let target = Target { label, concept: format!("head:{head}"), types, children: 0 };
            if let Some(adjective) = head.strip_suffix("ency").map(|stem| format!("{stem}ent")) {
                rules.entry(adjective).or_insert_with(|| target.clone());
            }
            rules.insert(head, target);
        }
        Heads { rules }
    }
}

/// The learned heads, each with the target its mentions take.
#[derive(Debug, Clone, Default)]
pub struct Heads {
    rules: HashMap<String, Target>,
}

impl Heads {
    /// How many heads (adjectives included) were learned.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether none was learned.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Keeps the heads `keep` accepts: the dictionary drops those that are names of their own
    /// ("protein" before "VEGF protein": a name is a mention of its own, as a modifier is not).
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.rules.retain(|head, _| keep(head));
    }

    /// The target of a keyed word if it is a learned head.
    pub fn get(&self, word: &str) -> Option<&Target> {
        self.rules.get(word)
    }

    /// The mentions of one sentence made of symbols and a head: `SYMBOL (- SYMBOL)* [-] HEAD`,
    /// from the first symbol; `key` keys a token as the dictionary does, `keep` says whether a
    /// target may label (its types not dropped).
    pub fn find(&self, tokens: &[String], key: impl Fn(&str) -> String, keep: impl Fn(&Target) -> bool) -> Vec<Match> {
        let mut out = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            // The symbol before is checked first: it is cheap, and few words have one, so the
            // keying (normalizing) of a word as a head is left to those that do.
            let mut j = i;
            if j >= 2 && tokens[j - 1] == "-" && is_symbol(&tokens[j - 2]) {
                j -= 1;
            }
            if j == 0 || !is_symbol(&tokens[j - 1]) {
                continue;
            }
            let Some(target) = self.get(&key(token)).filter(|t| keep(t)) else { continue };
            let mut start = j - 1;
            while start >= 2 && tokens[start - 1] == "-" && is_symbol(&tokens[start - 2]) {
                start -= 2;
            }
            out.push(Match {
                span: hilgen_corpus::Span::new(start, i + 1, target.label.clone()),
                key: key(&tokens[start..=i].join(" ")),
                target: Some(target.clone()),
            });
        }
        out
    }
}

/// Puts each found mention in place of the matches (sorted, disjoint) that lie inside it; one
/// that a match crosses (begins inside it and ends after, or the reverse) is left out.
pub(crate) fn merge(matches: &mut Vec<Match>, found: Vec<Match>) {
    for f in found {
        let (s, e) = (f.span.start, f.span.end);
        let overlapping: Vec<usize> =
            (0..matches.len()).filter(|&k| matches[k].span.start < e && s < matches[k].span.end).collect();
        if overlapping.iter().any(|&k| matches[k].span.start < s || matches[k].span.end > e) {
            continue;
        }
        for k in overlapping.into_iter().rev() {
            matches.remove(k);
        }
        let at = matches.partition_point(|m| m.span.start < s);
        matches.insert(at, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hilgen_corpus::Span;

    fn target(label: &str) -> Target {
        Target { label: label.into(), concept: "C".into(), types: vec!["C16".into()], children: 0 }
    }

    fn counted(names: &[&str], unlabelled: &[&str]) -> Heads {
        let mut counts = HeadCounts::default();
        let disease = target("Disease");
        for n in names {
            counts.add(n, Some(&disease), str::to_lowercase);
        }
        for n in unlabelled {
            counts.add(n, None, str::to_lowercase);
        }
        counts.learn()
    }

    #[test]
    fn symbols_are_capitals_and_digits_but_not_roman_numerals() {
        for s in ["C9", "HPRT", "G6PD", "JT", "XYY"] {
            assert!(is_symbol(s), "{s}");
        }
        for s in ["II", "IV", "Type", "5", "C", "Atm", "ABCDEFGHIJK", "-"] {
            assert!(!is_symbol(s), "{s}");
        }
    }

    #[test]
    fn heads_of_many_symbol_names_of_one_label_are_learned() {
        let symbols = ["HMGCS2", "HADH", "GALT", "PGK", "ADA", "LCAT", "MTHFR", "OTC", "PNP", "TPI"];
        let deficiency: Vec<String> = symbols.iter().map(|s| format!("{s} Deficiency")).collect();
        let mut names: Vec<&str> = deficiency.iter().map(String::as_str).collect();
        // All capitals: not read (every word looks like a symbol).
        names.extend(["KENNEDY DISEASE"; 12]);
        let heads = counted(&names, &[]);
        assert!(heads.get("deficiency").is_some());
        assert!(heads.get("deficient").is_some(), "the adjective of an -ency head");
        assert!(heads.get("disease").is_none());
        // Nine names are too few; ten with three unlabelled ones are too mixed.
        assert!(counted(&names[..9], &[]).get("deficiency").is_none());
        assert!(counted(&names[..10], &["CO2 Receptor", "ABC Deficiency", "XY Deficiency", "QR Deficiency"])
            .get("deficiency")
            .is_none());
    }

    #[test]
    fn a_symbol_chain_before_a_head_is_one_mention_that_replaces_matches_inside_it() {
        let symbols = ["HMGCS2", "HADH", "GALT", "PGK", "ADA", "LCAT", "MTHFR", "OTC", "PNP", "TPI"];
        let deficiency: Vec<String> = symbols.iter().map(|s| format!("{s} Deficiency")).collect();
        let heads = counted(&deficiency.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
        let tokens: Vec<String> =
            "C9 deficiency and HPRT - APRT - deficient mice , type II deficiency , the deficiency"
                .split(' ')
                .map(String::from)
                .collect();
        let found = heads.find(&tokens, str::to_lowercase, |_| true);
        let spans: Vec<(usize, usize)> = found.iter().map(|m| (m.span.start, m.span.end)).collect();
        assert_eq!(spans, [(0, 2), (3, 8)]);
        assert_eq!(found[1].key, "hprt - aprt - deficient");
        // A match inside a found mention gives way; one that crosses it keeps its place.
        let at = |s, e| Match { span: Span::new(s, e, "Disease"), key: String::new(), target: None };
        let mut matches = vec![at(0, 1), at(7, 9)];
        merge(&mut matches, found);
        let spans: Vec<(usize, usize)> = matches.iter().map(|m| (m.span.start, m.span.end)).collect();
        assert_eq!(spans, [(0, 2), (7, 9)]);
        // Nothing is found when the head's types are dropped.
        assert!(heads.find(&tokens, str::to_lowercase, |_| false).is_empty());
    }
}

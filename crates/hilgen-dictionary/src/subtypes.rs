//! Subtype words learned from the knowledge graph's own names: where many names are another
//! name of their label with a word and a code in it ("Mucopolysaccharidosis Type IVA" and
//! "Mucopolysaccharidosis", "Diabetes Mellitus, Type 2" and "Diabetes Mellitus"), that word
//! names a subtype, and a match grows over it and its code on either side in text ("type IID
//! von Willebrand disease", "Type II C2 deficiency", "SJS type 1A", "atelosteogenesis type
//! 2"), as the corpora mark such mentions whole though the vocabulary lists no such subtype.
//! Codes in a row make one subtype ("types 1 and 2", "type I or II").
//!
//! Learned without labels, as [`crate::modifiers`] is: every name of a labelled concept with a
//! word of letters followed by a code counts for that word where the name without the two is a
//! name of the same label, and against it otherwise (the rest is no name, a name of another
//! label, or the name's concept has no label: "Collagen Type IV" in a vocabulary whose shots
//! label no chemical). On CTD MEDIC with the MeSH tree this learns "type" (1,000-1,300 names
//! for it, 43-53% of its names with a code, by the seed's shots), and the words of OMIM's
//! numbered series ("Retinitis Pigmentosa 41", "Microphthalmia, syndromic 2"; "familial",
//! "hereditary" on some seeds), which text seldom writes; "chromosome" falls short of
//! [`MIN_PURITY`] ("Chromosome 6, monosomy 6p23"); "grade" and "stage", which NCBI-Disease keeps
//! in its mentions and BC5CDR leaves out ("stage II hypertension"), are never learned
//! ([`SEVERITY`]). The limits ([`MIN_NAMES`], [`MIN_PURITY`]) were set on the
//! dictionary's errors on the dev splits of NCBI-Disease and BC5CDR with the seed 1-5 shots
//! (docs/results/README.md, "Subtypes and hyphens"), never on a test split.

use crate::matches::Match;
use crate::modifiers::QUALIFIERS;
use std::collections::{BTreeSet, HashMap};

/// Fewest names that must count for a word.
pub const MIN_NAMES: usize = 20;
/// Least share of the names with the word before a code that count for it.
pub const MIN_PURITY: f64 = 0.4;
/// Words of severity or course before a code ("grade 4", "stage II"): the graph has them in
/// names ("Astrocytoma, Grade IV") but BC5CDR leaves them out of its mentions (it marks
/// "neutropenia" in "grade 4 neutropenia", "hypertension" in "stage II hypertension"), so they
/// are never learned, nor are the
/// modifiers' [`crate::modifiers::QUALIFIERS`] ("isolated").
pub const SEVERITY: &[&str] = &["grade", "grades", "stage", "stages"];
/// Shortest word judged, in letters.
const MIN_WORD: usize = 3;

/// Whether a keyed token is a subtype code: a roman numeral of up to four letters or a number
/// of up to two digits, either with one letter a-e after it ("ii", "iid", "2", "1a"), or one
/// letter a-e alone ("b" in "type B hepatitis"). Case is ignored.
pub fn is_code(token: &str) -> bool {
    let t = token.to_ascii_lowercase();
    let b = t.as_bytes();
    if b.len() == 1 {
        return matches!(b[0], b'a'..=b'e' | b'1'..=b'9' | b'i' | b'v' | b'x');
    }
    let stem = match b.last() {
        Some(b'a'..=b'e') if b.len() >= 2 && !b[b.len() - 2].is_ascii_lowercase() => &b[..b.len() - 1],
        Some(b'a'..=b'd') if b.len() >= 2 && matches!(b[b.len() - 2], b'i' | b'v' | b'x') => &b[..b.len() - 1],
        _ => b,
    };
    let roman = !stem.is_empty() && stem.len() <= 4 && stem.iter().all(|c| matches!(c, b'i' | b'v' | b'x'));
    let number = !stem.is_empty() && stem.len() <= 2 && stem.iter().all(u8::is_ascii_digit) && stem[0] != b'0';
    roman || number
}

/// Whether a token of text is a code: as [`is_code`], but a letter alone only in capitals ("type
/// B", not the article in "type 2 and a history").
pub fn is_text_code(token: &str) -> bool {
    match token.as_bytes() {
        [c] if c.is_ascii_alphabetic() => c.is_ascii_uppercase() && is_code(token),
        _ => is_code(token),
    }
}

/// Whether a token joins two codes of one subtype ("1 and 2", "I , II or III").
fn joins_codes(token: &str) -> bool {
    matches!(token, "and" | "or" | "," | "/")
}

/// Names with a word before a code, counted while the dictionary is built.
#[derive(Debug, Default)]
pub(crate) struct SubtypeCounts {
    /// (word, the name without the word and code, the name's label) of every such name.
    seen: Vec<(String, String, Option<String>)>,
}

impl SubtypeCounts {
    /// Records a keyed name (tokens joined by spaces) of a concept with `label` (`None`: one
    /// the shots give no label).
    pub(crate) fn add(&mut self, key: &str, label: Option<&str>) {
        let words: Vec<&str> = key.split(' ').collect();
        for i in 0..words.len().saturating_sub(1) {
            let (w, code) = (words[i], words[i + 1]);
            if w.len() < MIN_WORD || !w.bytes().all(|b| b.is_ascii_lowercase()) || !is_code(code) {
                continue;
            }
            let rest = [&words[..i], &words[i + 2..]].concat().join(" ");
            if !rest.is_empty() {
                self.seen.push((w.to_string(), rest, label.map(str::to_string)));
            }
        }
    }

    /// The words at least [`MIN_NAMES`] names count for, [`MIN_PURITY`] of those they are in;
    /// `labels_of` gives the labels a keyed name has in the dictionary. A word that is a name
    /// itself ("chromosome"), of [`SEVERITY`] or a qualifier is not learned.
    pub(crate) fn learn<'a>(self, labels_of: impl Fn(&str) -> Vec<&'a str>) -> Subtypes {
        let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
        for (word, rest, label) in self.seen {
            let entry = counts.entry(word).or_default();
            entry.1 += 1;
            if label.is_some_and(|l| labels_of(&rest).contains(&l.as_str())) {
                entry.0 += 1;
            }
        }
        // Each word judged once, after counting.
        let never = |w: &str| SEVERITY.contains(&w) || QUALIFIERS.contains(&w) || !labels_of(w).is_empty();
        let words = counts
            .into_iter()
            .filter(|(_, (hits, total))| *hits >= MIN_NAMES && *hits as f64 >= MIN_PURITY * *total as f64)
            .filter(|(w, _)| !never(w))
            .map(|(w, _)| w)
            .collect();
        Subtypes { words }
    }
}

/// The learned subtype words.
#[derive(Debug, Clone, Default)]
pub struct Subtypes {
    words: BTreeSet<String>,
}

impl Subtypes {
    /// How many words were learned.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether none was learned.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The learned words.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(String::as_str)
    }

    /// Whether a keyed token is a learned word or its plural ("types").
    pub fn is_word(&self, token: &str) -> bool {
        self.words.contains(token) || token.strip_suffix('s').is_some_and(|w| self.words.contains(w))
    }

    /// The end of a run of codes that begins at `at` ("1", "1 and 2", "I , II or III"), if one
    /// does.
    fn codes_from(tokens: &[String], at: usize) -> Option<usize> {
        if at >= tokens.len() || !is_text_code(&tokens[at]) {
            return None;
        }
        let mut end = at + 1;
        while end + 1 < tokens.len() && joins_codes(&tokens[end]) && is_text_code(&tokens[end + 1]) {
            end += 2;
        }
        Some(end)
    }

    /// The start of a run of codes that ends just before `end`, if one does.
    fn codes_to(tokens: &[String], end: usize) -> Option<usize> {
        if end == 0 || !is_text_code(&tokens[end - 1]) {
            return None;
        }
        let mut start = end - 1;
        while start >= 2 && joins_codes(&tokens[start - 1]) && is_text_code(&tokens[start - 2]) {
            start -= 2;
        }
        Some(start)
    }

    /// Grows each match (sorted, disjoint) over a learned word and its codes before it ("type
    /// II C2 deficiency") and after it ("SJS type 1A"), never into a neighbouring match; a
    /// grown match's key becomes that of its grown text (`key` keys a token as the dictionary
    /// does).
    pub fn grow(&self, tokens: &[String], matches: &mut [Match], key: impl Fn(&str) -> String) {
        if self.words.is_empty() {
            return;
        }
        for k in 0..matches.len() {
            let free_from = if k == 0 { 0 } else { matches[k - 1].span.end };
            let free_to = matches.get(k + 1).map_or(tokens.len(), |m| m.span.start);
            let (mut start, mut end) = (matches[k].span.start, matches[k].span.end);
            // Before: `word CODES match`, the codes ending just before the match.
            if let Some(codes) = Self::codes_to(tokens, start) {
                if codes > free_from && self.is_word(&key(&tokens[codes - 1])) {
                    start = codes - 1;
                }
            }
            // After: `match word CODES`.
            if end < free_to && self.is_word(&key(&tokens[end])) {
                if let Some(codes_end) = Self::codes_from(tokens, end + 1).filter(|&e| e <= free_to) {
                    end = codes_end;
                }
            }
            let m = &mut matches[k];
            if (start, end) != (m.span.start, m.span.end) {
                m.span.start = start;
                m.span.end = end;
                m.key = key(&tokens[start..end].join(" "));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hilgen_corpus::Span;

    fn learned(names: &[(&str, Option<&str>)], known: &[(&str, &str)]) -> Subtypes {
        let mut counts = SubtypeCounts::default();
        for (name, label) in names {
            counts.add(name, *label);
        }
        counts.learn(|rest| known.iter().filter(|(n, _)| *n == rest).map(|(_, l)| *l).collect())
    }

    #[test]
    fn codes_are_roman_numerals_numbers_and_letters() {
        for c in ["I", "ii", "IID", "IVA", "2", "1A", "12", "B", "iiib"] {
            assert!(is_code(c), "{c}");
        }
        for c in ["type", "0", "123", "ABC", "f", "IIIII", "C9", "dd"] {
            assert!(!is_code(c), "{c}");
        }
        // In text a letter alone is a code in capitals only.
        assert!(is_text_code("B") && is_text_code("II") && is_text_code("2"));
        assert!(!is_text_code("a") && !is_text_code("b"));
    }

    #[test]
    fn words_before_codes_in_many_names_of_names_are_learned() {
        let types: Vec<String> = (1..=20).map(|i| format!("disease{i} type {}", i % 3 + 1)).collect();
        let known: Vec<(String, &str)> = (1..=20).map(|i| (format!("disease{i}"), "Disease")).collect();
        let known: Vec<(&str, &str)> = known.iter().map(|(n, l)| (n.as_str(), *l)).collect();
        let mut names: Vec<(&str, Option<&str>)> = types.iter().map(|n| (n.as_str(), Some("Disease"))).collect();
        assert!(learned(&names, &known).is_word("type"));
        assert!(learned(&names, &known).is_word("types"), "the plural");
        // Nineteen are too few.
        assert!(!learned(&names[..19], &known).is_word("type"));
        // Rests of another label, or names of unlabelled concepts, count against.
        let other: Vec<(&str, &str)> = known.iter().map(|(n, _)| (*n, "Chemical")).collect();
        assert!(!learned(&names, &other).is_word("type"));
        names.extend(["collagen type iv"; 31].iter().map(|n| (*n, None)));
        assert!(!learned(&names, &known).is_word("type"));
        // Severity is never learned, nor a word that is a name itself.
        let grades: Vec<String> = (1..=20).map(|i| format!("disease{i} grade {}", i % 3 + 1)).collect();
        let names: Vec<(&str, Option<&str>)> = grades.iter().map(|n| (n.as_str(), Some("Disease"))).collect();
        assert!(!learned(&names, &known).is_word("grade"));
        let mut with_type = known.clone();
        with_type.push(("type", "Disease"));
        let names: Vec<(&str, Option<&str>)> = types.iter().map(|n| (n.as_str(), Some("Disease"))).collect();
        assert!(!learned(&names, &with_type).is_word("type"));
    }

    #[test]
    fn matches_grow_over_a_word_and_its_codes_on_either_side() {
        let subtypes = Subtypes { words: BTreeSet::from(["type".to_string()]) };
        let tokens: Vec<String> = "type IID von Willebrand disease and SJS type 1A , MEN types 1 and 2 and a type II"
            .split(' ')
            .map(String::from)
            .collect();
        let at = |s, e| Match { span: Span::new(s, e, "Disease"), key: String::new(), target: None };
        let mut matches = vec![at(2, 5), at(6, 7), at(10, 11)];
        subtypes.grow(&tokens, &mut matches, str::to_lowercase);
        let spans: Vec<(usize, usize)> = matches.iter().map(|m| (m.span.start, m.span.end)).collect();
        assert_eq!(spans, [(0, 5), (6, 9), (10, 15)]);
        assert_eq!(matches[0].key, "type iid von willebrand disease");
        // Never into the match before: "type II" after a match is taken by it, not the next.
        let tokens: Vec<String> = "anemia type II diabetes".split(' ').map(String::from).collect();
        let mut matches = vec![at(0, 1), at(3, 4)];
        subtypes.grow(&tokens, &mut matches, str::to_lowercase);
        let spans: Vec<(usize, usize)> = matches.iter().map(|m| (m.span.start, m.span.end)).collect();
        assert_eq!(spans, [(0, 3), (3, 4)]);
    }
}

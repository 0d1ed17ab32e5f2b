//! Coordinated mentions that share a head: "breast and ovarian cancer", "Duchenne or Becker
//! muscular dystrophy", "colorectal, endometrial, and ovarian cancers", "breast-ovarian
//! cancer". Longest match finds only the last conjunct ("ovarian cancer"); when each word
//! before the coordinator, joined to the match's head, is itself a name of the dictionary
//! ("breast cancer"), the match grows to cover the whole coordination, as the corpora annotate
//! it (NCBI-Disease's `CompositeMention`, one BC5CDR span with two concepts).
//!
//! The grown span's label is the one the shots give coordinated mentions most often, among the
//! labels the head match's concept types were seen with (NCBI-Disease's `CompositeMention`); where
//! no shot mention is coordinated, the match keeps its own label. With context typing on, the
//! context then labels grown spans as any other (its features include the coordination, and
//! the words after it: "breast, brain, prostate and kidney cancer cell lines" is a `Modifier`).
//! Whether coordination is used at all is chosen on dev ([`crate::Grid::coordination`]).

use crate::matches::Match;
use crate::words::is_word;
use std::collections::BTreeMap;

/// What growing over a coordination asks of the names it grows with (the dictionary).
pub(crate) trait Names {
    /// Whether `key` (normalized) is a name.
    fn has_name(&self, key: &str) -> bool;
    /// The labels a match could take, with their votes.
    fn label_votes(&self, m: &Match) -> BTreeMap<String, usize>;
    /// Per label, how many shot mentions with a coordination inside had it.
    fn coordinated_labels(&self) -> Option<&BTreeMap<String, usize>>;
}
use hilgen_corpus::{Sentence, Span};
use hilgen_kb::normalize;

/// Words that join conjuncts ("and / or" is read as one; a hyphen in "breast-ovarian cancer",
/// which NCBI-Disease marks whole: 3 of 3 grown spans right on its dev split with the seed-1
/// shots, none changed on BC5CDR's).
const COORDINATORS: &[&str] = &["and", "or", "/", "and/or", "&", "-"];

/// Conjuncts before the coordinator, at most this many words each.
const MAX_CONJUNCT_WORDS: usize = 2;

/// The first token of the coordinator that ends just before `at` ("and", "or", "and / or"),
/// with a list comma before it ("X , and Y") included.
fn coordinator_before(tokens: &[String], at: usize) -> Option<usize> {
    let lower = |i: usize| tokens[i].to_lowercase();
    if at == 0 || !COORDINATORS.contains(&lower(at - 1).as_str()) {
        return None;
    }
    let mut first = at - 1;
    if first >= 2 && lower(first) == "or" && tokens[first - 1] == "/" && lower(first - 2) == "and" {
        first -= 2;
    }
    if first >= 1 && tokens[first - 1] == "," {
        first -= 1;
    }
    Some(first)
}

/// The start of the coordination that ends with the match `start..end`, if there is one: the
/// earliest token of the conjuncts before it, each of which forms a name with the match's tail
/// (its head). The last conjunct is either inside the match ("Becker" of "Becker muscular
/// dystrophy") or the words just before it, when the match is the head alone (the dictionary
/// matched "cancer" in "breast and ovarian cancer", "ovarian cancer" being a name it drops).
fn coordination_start(d: &impl Names, tokens: &[String], start: usize, end: usize) -> Option<usize> {
    // The coordinator ends at most MAX_CONJUNCT_WORDS tokens before the match: without one
    // there, no name is looked up (nearly every match).
    let near = start.saturating_sub(MAX_CONJUNCT_WORDS + 1)..start;
    if !tokens[near].iter().any(|t| COORDINATORS.contains(&t.to_lowercase().as_str())) {
        return None;
    }
    for drop in 0..end - start {
        let tail = tokens[start + drop..end].join(" ");
        let names = |from: usize, to: usize| {
            from < to
                && tokens[from..to].iter().all(|t| is_word(t))
                && d.has_name(&normalize(&format!("{} {tail}", tokens[from..to].join(" "))))
        };
        // Where the last conjunct starts: inside the match, or 1-2 words before a head-only match.
        let last: Vec<usize> = if drop > 0 {
            vec![start]
        } else {
            (1..=MAX_CONJUNCT_WORDS).filter(|&w| w <= start).map(|w| start - w).filter(|&s| names(s, start)).collect()
        };
        for last_start in last {
            let Some(before) = coordinator_before(tokens, last_start) else { continue };
            let Some(words) = (1..=MAX_CONJUNCT_WORDS).rev().find(|&w| before >= w && names(before - w, before)) else {
                continue;
            };
            // More conjuncts of a list: ", X" while X joined to the tail is a name.
            let mut first = before - words;
            while first >= 2 && tokens[first - 1] == "," && names(first - 2, first - 1) {
                first -= 2;
            }
            return Some(first);
        }
    }
    None
}

/// The label of a grown span: the label most shot mentions with a coordination inside had,
/// among those the head match could take; else the match's own.
fn composite_label(d: &impl Names, m: &Match) -> String {
    let Some(coordinated) = d.coordinated_labels() else { return m.span.label.clone() };
    let allowed = d.label_votes(m);
    coordinated
        .iter()
        .filter(|(label, _)| allowed.contains_key(*label) || **label == m.span.label)
        .max_by_key(|(label, n)| (**n, std::cmp::Reverse((*label).clone())))
        .map_or_else(|| m.span.label.clone(), |(label, _)| label.clone())
}

/// Grows the matches of `sentence` over coordinations (see the module docs). Matches inside a
/// grown span are absorbed; a match that would overlap it only in part stops the growth.
pub(crate) fn grow(d: &impl Names, sentence: &Sentence, matches: Vec<Match>) -> Vec<Match> {
    let mut out: Vec<Match> = Vec::with_capacity(matches.len());
    for mut m in matches {
        if let Some(first) = coordination_start(d, &sentence.tokens, m.span.start, m.span.end) {
            let cut = out.iter().rposition(|o| o.span.start < first).map_or(0, |p| p + 1);
            let overlaps = cut > 0 && out[cut - 1].span.end > first;
            if !overlaps {
                out.truncate(cut);
                m.span = Span::new(first, m.span.end, composite_label(d, &m));
                m.key = normalize(&sentence.tokens[first..m.span.end].join(" "));
            }
        }
        out.push(m);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{Dictionary, DictionaryConfig, TypeMap};
    use hilgen_corpus::{Sentence, Span};
    use std::collections::BTreeMap;

    const DISEASE: &[&str] = &["C04"];

    /// Shots where C04 concepts were seen as SpecificDisease and CompositeMention, and one
    /// coordinated mention was a CompositeMention.
    fn types(coordinated_shots: bool) -> TypeMap {
        let mut t = TypeMap::default();
        t.fine.insert("C04".into(), BTreeMap::from([("SpecificDisease".into(), 3), ("CompositeMention".into(), 1)]));
        if coordinated_shots {
            t.context
                .features
                .insert("shape:coordinated".into(), BTreeMap::from([("CompositeMention".to_string(), 1)]));
        }
        t
    }

    fn dictionary(coordinated_shots: bool) -> Dictionary {
        let names: &[(&str, &str, &[&str])] = &[
            ("breast cancer", "SpecificDisease", DISEASE),
            ("ovarian cancer", "SpecificDisease", DISEASE),
            ("colorectal cancer", "SpecificDisease", DISEASE),
            ("endometrial cancer", "SpecificDisease", DISEASE),
            ("ovarian tumour", "SpecificDisease", DISEASE),
            ("Duchenne muscular dystrophy", "SpecificDisease", DISEASE),
            ("Becker muscular dystrophy", "SpecificDisease", DISEASE),
            ("tumour", "DiseaseClass", DISEASE),
            ("breast tumour", "SpecificDisease", DISEASE),
        ];
        let config = DictionaryConfig { coordination: true, ..DictionaryConfig::default() };
        let mut d = Dictionary::from_names(names, types(coordinated_shots), config);
        // "ovarian tumour" is a name, dropped as too often wrong on dev: "tumour" is matched.
        d.config.dropped_names.insert("ovarian tumour".into());
        d
    }

    fn spans(d: &Dictionary, text: &str) -> Vec<Span> {
        let tokens: Vec<String> = text.split(' ').map(String::from).collect();
        let s = Sentence::new(tokens.clone(), vec!["O".into(); tokens.len()]).unwrap();
        d.match_all(&[s], false).remove(0).into_iter().map(|m| m.span).collect()
    }

    #[test]
    fn a_coordination_whose_conjuncts_are_names_is_one_mention() {
        let d = dictionary(true);
        assert_eq!(spans(&d, "risk of breast and ovarian cancer"), [Span::new(2, 6, "CompositeMention")]);
        assert_eq!(spans(&d, "Duchenne or Becker muscular dystrophy ."), [Span::new(0, 5, "CompositeMention")]);
        // A list, with the comma before the coordinator.
        assert_eq!(spans(&d, "colorectal , endometrial , and ovarian cancers"), [Span::new(0, 7, "CompositeMention")]);
        // "and / or", and a match that is the head alone ("ovarian cancer" not a match here).
        assert_eq!(spans(&d, "breast and / or ovarian tumour"), [Span::new(0, 6, "CompositeMention")]);
        // A hyphen joins conjuncts too ("breast-ovarian cancer", tokenized with the hyphen apart).
        assert_eq!(spans(&d, "breast - ovarian cancer"), [Span::new(0, 4, "CompositeMention")]);
        // "patients cancer" is no name: only the match.
        assert_eq!(spans(&d, "patients and ovarian cancer"), [Span::new(2, 4, "SpecificDisease")]);
        // Without coordination, the last conjunct only.
        let mut off = d.clone();
        off.config.coordination = false;
        assert_eq!(spans(&off, "risk of breast and ovarian cancer"), [Span::new(4, 6, "SpecificDisease")]);
    }

    #[test]
    fn without_coordinated_shots_the_grown_span_keeps_its_label() {
        let d = dictionary(false);
        assert_eq!(spans(&d, "breast and ovarian cancer"), [Span::new(0, 4, "SpecificDisease")]);
    }

    #[test]
    fn a_conjunct_that_is_a_match_is_absorbed_and_a_partial_overlap_stops_growth() {
        let names: &[(&str, &str, &[&str])] = &[
            ("breast", "Modifier", DISEASE),
            ("breast cancer", "SpecificDisease", DISEASE),
            ("ovarian cancer", "SpecificDisease", DISEASE),
            ("familial breast", "Modifier", DISEASE),
        ];
        let config = DictionaryConfig { coordination: true, ..DictionaryConfig::default() };
        let d = Dictionary::from_names(names, types(true), config);
        assert_eq!(spans(&d, "the breast and ovarian cancer"), [Span::new(1, 5, "CompositeMention")]);
        // "familial breast" ends inside the conjuncts' span but starts before it.
        assert_eq!(
            spans(&d, "familial breast and ovarian cancer"),
            [Span::new(0, 2, "Modifier"), Span::new(3, 5, "SpecificDisease")]
        );
    }
}
